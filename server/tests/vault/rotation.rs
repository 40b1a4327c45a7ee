use super::profiles::paid_and_saved;
use crate::harness::*;
use axum::http::StatusCode;
use tweetbuy_server::config::{DbArgs, KeysCommand};
use tweetbuy_server::vault::keys::{self, Keyring, KEY_FILE};
use tweetbuy_server::vault::{rotation, vault_app, VaultState};

async fn key_ids(server: &TestServer) -> Vec<String> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT key_id FROM cards WHERE length(wrapped_key) > 0 UNION ALL SELECT key_id FROM profiles")
            .fetch_all(&server.vault_state.db)
            .await
            .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

/// The test vault with a key file in its data directory, like `serve` without `--master-key`.
async fn start_with_key_file() -> TestServer {
    let mut server = start().await;
    let ring = Keyring::load(None, server.dir.path()).unwrap();
    server.vault_state = VaultState { keys: std::sync::Arc::new(ring), ..server.vault_state.clone() };
    server.vault = vault_app(server.vault_state.clone());
    server
}

#[tokio::test]
async fn after_rotation_an_old_saved_card_still_charges_and_only_the_new_key_is_needed() {
    let mut server = start_with_key_file().await;
    // The api charges at the vault over HTTP, so the vault serving it must be the one with
    // the key file: start a second listener for that state and point a fresh api at it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = server.vault.clone();
    tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
    let mut settings = (*server.api_state.settings).clone();
    settings.vault_internal_url = url;
    server.api_state = tweetbuy_server::ApiState::new(server.api_state.db.clone(), settings);
    server.api = tweetbuy_server::api_app(server.api_state.clone());

    let credential = paid_and_saved(&server).await;
    let old_id = server.vault_state.keys.current().id().to_owned();
    assert!(key_ids(&server).await.iter().all(|id| *id == old_id));

    // Rotate while this vault keeps serving with its old ring.
    let path = server.dir.path().join(KEY_FILE);
    let fresh = keys::add_key_to_file(&path).unwrap();
    let report =
        rotation::rewrap_all(&server.vault_state.db, &Keyring::load(None, server.dir.path()).unwrap()).await.unwrap();
    assert!(report.rewrapped >= 2, "the saved card and the profile: {report:?}");
    assert!(key_ids(&server).await.iter().all(|id| id == fresh.id()), "every live record moved");

    // The running vault learns the new key from the file and the old saved card charges.
    let paid = server.pay_with_saved(&credential, &fresh_key()).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    assert_eq!(paid.json()["shipping"]["postal_code"], "10001", "the address opened too");

    // With the old key gone from the file altogether, a restarted vault still opens it all.
    let text = std::fs::read_to_string(&path).unwrap();
    let newest = text.lines().next().unwrap().to_owned();
    std::fs::write(&path, format!("{newest}\n")).unwrap();
    let ring = Keyring::load(None, server.dir.path()).unwrap();
    assert_eq!(ring.ids(), [fresh.id().to_owned()]);
    let restarted = VaultState { keys: std::sync::Arc::new(ring), ..server.vault_state.clone() };
    let lookup = send(
        &vault_app(restarted),
        super::profiles::with_credential(axum::http::Method::GET, "/v1/profile", &credential),
    )
    .await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.text());
    assert_eq!(lookup.json()["card"]["ship_to"], "J. Doe, 10001");
    assert_eq!(lookup.json()["shipping"]["line1"], "1 Main St", "the contact opened with the new key");
}

#[tokio::test]
async fn the_keys_rotate_command_adds_a_key_and_rewraps() {
    if pg_url().is_some() {
        // The command opens the database from its flags; the PostgreSQL run covers
        // `rewrap_all` through the test above.
        return;
    }
    let server = start_with_key_file().await;
    let _ = server.vault_token("4242 4242 4242 4242", "123").await;
    let before = server.vault_state.keys.current().id().to_owned();
    let args =
        DbArgs { data_dir: server.dir.path().to_owned(), database_url: None, db_schema_prefix: "tweetbuy".into() };
    tweetbuy_server::keys_cli::keys(KeysCommand::Rotate { db: args, master_key: None }).await.unwrap();
    let ring = Keyring::load(None, server.dir.path()).unwrap();
    assert_ne!(ring.current().id(), before);
    assert_eq!(ring.ids().len(), 2);
    assert_eq!(key_ids(&server).await, [ring.current().id().to_owned()]);
}
