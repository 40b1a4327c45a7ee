//! `tweetbuy-server keys rotate`: a new vault master key, and every data key re-wrapped.

use crate::config::{DbArgs, KeysCommand};
use crate::db;
use crate::vault::keys::{self, Keyring, KEY_FILE};
use crate::vault::rotation;

/// With the key file (the default), adds a fresh key at its top and re-wraps every record
/// with it. With `--master-key new,old…` the operator brings the keys: records are re-wrapped
/// with the first one. Either way the old keys stay usable, so a running server keeps
/// opening every record throughout.
pub async fn keys(command: KeysCommand) -> Result<(), String> {
    let KeysCommand::Rotate { db: args, master_key } = command;
    let keyring = match &master_key {
        Some(spec) => Keyring::load(Some(spec.expose()), &args.data_dir).map_err(|e| e.to_string())?,
        None => {
            let path = args.data_dir.join(KEY_FILE);
            if !path.exists() {
                return Err(format!("{} does not exist: start the server once, or pass --master-key", path.display()));
            }
            let fresh = keys::add_key_to_file(&path).map_err(|e| e.to_string())?;
            println!("new master key {} added to {}", fresh.id(), path.display());
            Keyring::load(None, &args.data_dir).map_err(|e| e.to_string())?
        }
    };
    let pool = open_vault(&args).await?;
    let report = rotation::rewrap_all(&pool, &keyring).await.map_err(|e| e.to_string())?;
    println!(
        "re-wrapped {} record(s) with {} ({} changed meanwhile)",
        report.rewrapped,
        keyring.current().id(),
        report.skipped
    );
    for (key_id, count) in rotation::records_per_key(&pool).await.map_err(|e| e.to_string())? {
        println!("  {key_id}: {count} record(s)");
    }
    Ok(())
}

async fn open_vault(args: &DbArgs) -> Result<db::Db, String> {
    let (_, vault) = args.locations()?;
    db::open_vault(&vault).await.map_err(|e| format!("opening the vault's database: {e}"))
}
