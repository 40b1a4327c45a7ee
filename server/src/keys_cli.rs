//! `tweetbuy-server keys init`: a new vault master key file. `keys rotate`: a new vault
//! master key, and every data key re-wrapped.

use crate::cli_out::{emit, say};
use crate::config::{env_secret, DbArgs, KeysCommand, MASTER_KEY_ENV};
use crate::db;
use crate::vault::keys::{self, KeySource, Keyring, KEY_FILE};
use crate::vault::rotation;
use std::fmt::Write as _;
use std::path::Path;

/// With a key file (`--master-key-file`, or the demo key file in the data directory), adds
/// a fresh key at its top and re-wraps every record with it. With `TWEETBUY_MASTER_KEY=new,old…`
/// the operator brings the keys: records are re-wrapped with the first one. Either way the
/// old keys stay usable, so a running server keeps opening every record throughout.
pub async fn keys(command: KeysCommand) -> Result<(), String> {
    let (args, key_file) = match command {
        KeysCommand::Init { master_key } => return init(&master_key),
        KeysCommand::Rotate { db, master_key } => (db, master_key),
    };
    // The database first: a missing or unopenable one leaves the key file as it was.
    let pool = open_vault(&args).await?;
    let from_env = env_secret(MASTER_KEY_ENV);
    let mut out = String::new();
    let keyring = match (key_file, from_env) {
        (Some(_), Some(_)) => return Err(format!("give either {MASTER_KEY_ENV} or --master-key-file, not both")),
        (Some(path), None) => rotate_file(&path, &mut out)?,
        (None, Some(spec)) => Keyring::open(&KeySource::Spec(spec.expose().to_owned())).map_err(|e| e.to_string())?,
        (None, None) => {
            // The demo key file: rotating a file that is already there creates nothing new
            // beside the data, so this is allowed without --demo.
            let path = args.data_dir.join(KEY_FILE);
            if !path.exists() {
                return Err(format!(
                    "{} does not exist: pass --master-key-file (TWEETBUY_MASTER_KEY_FILE) or set {MASTER_KEY_ENV}",
                    path.display()
                ));
            }
            rotate_file(&path, &mut out)?
        }
    };
    // A key added to the file, and the records re-wrapped, are said with a failure after.
    let report = rotation::rewrap_all(&pool, &keyring).await.map_err(|e| format!("{out}{e}"))?;
    let rewrapped = format!("re-wrapped {} record(s) with {}", report.rewrapped, keyring.current().id());
    say!(out, "{rewrapped} ({} changed meanwhile)", report.skipped);
    for (key_id, count) in rotation::records_per_key(&pool).await.map_err(|e| format!("{out}{e}"))? {
        say!(out, "  {key_id}: {count} record(s)");
    }
    emit(&out, Some(rewrapped))
}

/// Writes a new key file with one fresh key; refuses to touch an existing one.
fn init(path: &Path) -> Result<(), String> {
    let key = keys::create_key_file(path).map_err(|e| e.to_string())?;
    let written = format!("new master key {} written to {}", key.id(), path.display());
    emit(&format!("{written}\n"), Some(written))
}

/// Adds a fresh key at the top of an existing key file; the ring read back from it.
fn rotate_file(path: &Path, out: &mut String) -> Result<Keyring, String> {
    if !path.exists() {
        return Err(format!(
            "{} does not exist: create it once with `tweetbuy-server keys init --master-key-file {}`",
            path.display(),
            path.display()
        ));
    }
    let fresh = keys::add_key_to_file(path).map_err(|e| e.to_string())?;
    say!(out, "new master key {} added to {}", fresh.id(), path.display());
    Keyring::open(&KeySource::File(path.to_owned())).map_err(|e| e.to_string())
}

/// The vault's database, which the server must have made.
async fn open_vault(args: &DbArgs) -> Result<db::Db, String> {
    let (_, vault) = args.locations()?;
    db::require_made(&vault).await?;
    db::open_vault(&vault).await.map_err(|e| format!("opening the vault's database: {e}"))
}
