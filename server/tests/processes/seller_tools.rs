//! The seller's and operator's command-line tools against a shop that is not there: a
//! mistyped data directory or schema prefix is refused, and nothing is made or changed.

use crate::harness::pg_url;
use crate::process::server_bin;
use std::process::{Command, Output};

/// Runs `tweetbuy-server ARGS` with only `env` (and PATH) in its environment.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(server_bin());
    command.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// The tool's error, asserting that it failed.
fn refused(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_seller_tool_on_a_data_directory_the_server_never_used_is_refused_and_makes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/catalog.toml");
    // A mistyped directory, and an existing one the server never started in.
    let typo = root.path().join("shpo");
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for dir in [&typo, &empty] {
        let env = [("TWEETBUY_DATA_DIR", dir.to_str().unwrap())];
        for args in [
            &["catalog", "import", catalog][..],
            &["orders", "list"],
            &["orders", "export", "--csv"],
            &["discounts", "list"],
            &["webhooks", "list"],
        ] {
            let error = refused(&run(args, &env));
            assert!(error.contains(&format!("{} does not exist", dir.join("api.db").display())), "{args:?}: {error}");
            assert!(error.contains("tweetbuy-server serve") && error.contains("--data-dir"), "{args:?}: {error}");
        }
    }
    assert!(!typo.exists(), "the mistyped directory was made");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "something was written into the unused directory");
}

#[test]
fn keys_rotate_without_the_vaults_database_leaves_the_key_file_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let key_file = root.path().join("master.key");
    let key_file = key_file.to_str().unwrap();
    assert!(run(&["keys", "init", "--master-key-file", key_file], &[]).status.success());
    let before = std::fs::read(key_file).unwrap();
    let data = root.path().join("data");
    let error = refused(&run(
        &["keys", "rotate", "--master-key-file", key_file],
        &[("TWEETBUY_DATA_DIR", data.to_str().unwrap())],
    ));
    assert!(error.contains(&format!("{} does not exist", data.join("vault.db").display())), "{error}");
    assert_eq!(std::fs::read(key_file).unwrap(), before, "the key file changed");
    assert!(!data.exists());
}

#[test]
fn a_seller_tool_on_a_schema_prefix_the_server_never_used_is_refused_and_makes_no_schema() {
    let Some(url) = pg_url() else { return };
    let prefix = format!("never{}", std::process::id());
    let env = [("DATABASE_URL", url.as_str()), ("TWEETBUY_DB_SCHEMA_PREFIX", prefix.as_str())];
    let error = refused(&run(&["orders", "list"], &env));
    assert!(error.contains(&format!("no schema {prefix}_api made by the server")), "{error}");
    assert!(error.contains("TWEETBUY_DB_SCHEMA_PREFIX"), "{error}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let schemas: i64 = runtime.block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE $1")
            .bind(format!("{prefix}%"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        n
    });
    assert_eq!(schemas, 0, "a schema was made");
}
