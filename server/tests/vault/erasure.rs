//! Erasing holds at rest, and happens on a clock: the bytes of an erased card or profile are
//! gone from `vault.db` and its WAL, and one-time numbers are erased when their 15 minutes
//! are up even when no request comes.

use crate::harness::*;
use crate::vault::profiles::{buy, save, typed, with_credential};
use axum::http::{Method, StatusCode};
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tweetbuy_server::vault::card_store::TOKEN_TTL_SECONDS;
use tweetbuy_server::vault::sweeper;

/// The sealed bytes of the card behind `token` (one-time or reusable).
async fn sealed_bytes(server: &TestServer, column: &str, value: &str) -> Vec<Vec<u8>> {
    let (wrapped_key, ciphertext): (Vec<u8>, Vec<u8>) =
        sqlx::query_as(&format!("SELECT wrapped_key, ciphertext FROM cards WHERE {column} = $1"))
            .bind(value)
            .fetch_one(&server.vault_state.db)
            .await
            .unwrap();
    assert!(wrapped_key.len() == 48 && ciphertext.len() > 16, "a live card");
    let found = vec![wrapped_key, ciphertext];
    if pg_url().is_none() {
        let files = vault_files(server);
        assert!(found.iter().all(|bytes| contains(&files, bytes)), "the search finds a live record");
    }
    found
}

/// Only `vault.db` and `vault.db-wal`, the files that hold rows.
fn vault_files(server: &TestServer) -> Vec<u8> {
    let mut bytes = std::fs::read(server.dir.path().join("vault.db")).unwrap();
    bytes.extend(std::fs::read(server.dir.path().join("vault.db-wal")).unwrap_or_default());
    bytes
}

#[tokio::test]
async fn erased_cards_and_profiles_leave_no_bytes_in_the_sqlite_files() {
    let server = start().await;
    let sqlite = pg_url().is_none();

    // A declined card (erased at once), a saved profile (its one-time card erased when
    // saved; its reusable card and contact erased when removed), and an expired one-time
    // card (erased by the sweeper).
    let declined = typed(&server, "4000 0000 0000 0002").await;
    let mut secrets = sealed_bytes(&server, "token", &declined.token).await;
    let paid = buy(&server, &declined).await;
    assert_eq!(paid.status, StatusCode::PAYMENT_REQUIRED);

    let expired = server.vault_token("5555 5555 5555 4444", "123").await;
    secrets.extend(sealed_bytes(&server, "token", &expired).await);

    let saved = typed(&server, "4242 4242 4242 4242").await;
    secrets.extend(sealed_bytes(&server, "token", &saved.token).await);
    let paid = buy(&server, &saved).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    let reply = save(&server, &saved.token, &saved.secret).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let credential = reply.credential();
    let (card_id, contact_key, contact): (String, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT card_id, wrapped_key, ciphertext FROM profiles")
            .fetch_one(&server.vault_state.db)
            .await
            .unwrap();
    secrets.extend(sealed_bytes(&server, "id", &card_id).await);
    if sqlite {
        let files = vault_files(&server);
        assert!(contains(&files, &contact_key) && contains(&files, &contact), "the search finds the profile");
    }
    secrets.extend([contact_key, contact]);

    let removed = send(&server.vault, with_credential(Method::DELETE, "/v1/profile", &credential)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let report =
        sweeper::sweep_once(&server.vault_state.db, tweetbuy_server::clock::now() + TOKEN_TTL_SECONDS).await.unwrap();
    assert!(report.cards_erased >= 1, "{report:?}");

    // Crypto-shredding on both engines: no erased record keeps its wrapped key.
    let (live,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cards WHERE length(wrapped_key) > 0")
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert_eq!(live, 0);
    // A one-time card's card-testing fingerprint goes with its number.
    let (fingerprints,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cards WHERE fingerprint IS NOT NULL")
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert_eq!(fingerprints, 0);
    // On SQLite the bytes themselves are gone from the main file and the WAL.
    if sqlite {
        let files = vault_files(&server);
        for (i, secret) in secrets.iter().enumerate() {
            assert!(
                !contains(&files, secret),
                "erased bytes #{i} ({} bytes) still in vault.db or its WAL",
                secret.len()
            );
        }
    }
}

#[tokio::test]
async fn one_time_numbers_are_erased_on_the_clock_without_traffic() {
    let server = start().await;
    let _unused = server.vault_token("4242 4242 4242 4242", "123").await;
    let paid = typed(&server, "5555 5555 5555 4444").await;
    let order = buy(&server, &paid).await;
    assert_eq!(order.status, StatusCode::CREATED);
    let key = fresh_key();
    let body = json!({"number": "4242 4242 4242 4242", "expiry": future_expiry(), "cvc": "123",
                      "intent_id": VAULT_TEST_INTENT});
    assert_eq!(send(&server.vault, post_json("/v1/tokens", &body, Some(&key))).await.status, StatusCode::CREATED);

    // A clock the test moves; the sweeper runs on its own, and nothing else happens.
    let now = Arc::new(AtomicI64::new(tweetbuy_server::clock::now()));
    let clock = now.clone();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let sweeper = tokio::spawn(sweeper::run(
        server.vault_state.db.clone(),
        Duration::from_millis(20),
        move || clock.load(Ordering::SeqCst),
        stop,
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let live = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cards WHERE length(ciphertext) > 0")
            .fetch_one(&server.vault_state.db)
            .await
            .unwrap();
        n
    };
    assert_eq!(live().await, 3, "nothing is erased before its time");

    now.fetch_add(TOKEN_TTL_SECONDS + 1, Ordering::SeqCst);
    let keys = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM token_requests").fetch_one(&server.vault_state.db).await.unwrap();
        n
    };
    let mut waited = 0;
    while (live().await > 0 || keys().await > 0) && waited < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    assert_eq!(live().await, 0, "unused and paid one-time numbers erased once their 15 minutes are up");
    assert_eq!(keys().await, 0, "old tokenization keys purged");
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), sweeper).await.unwrap().unwrap();
}

#[tokio::test]
async fn the_sweep_reads_live_one_time_cards_through_an_index() {
    let server = start().await;
    let plan: Vec<String> = if pg_url().is_some() {
        // The index exists; PostgreSQL's planner may still prefer a scan of a tiny table.
        sqlx::query_as::<_, (String,)>("SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()")
            .fetch_all(&server.vault_state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|(n,)| n)
            .collect()
    } else {
        sqlx::query_as::<_, (i64, i64, i64, String)>(
            "EXPLAIN QUERY PLAN UPDATE cards SET wrapped_key = x'' WHERE expires_at <= 5 AND reusable = FALSE \
             AND length(ciphertext) > 0",
        )
        .fetch_all(&server.vault_state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect()
    };
    assert!(plan.iter().any(|line| line.contains("cards_live_one_time")), "{plan:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_vault_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    if pg_url().is_some() {
        return;
    }
    let server = start().await;
    let _ = server.vault_token("4242 4242 4242 4242", "123").await;
    for name in ["vault.db", "vault.db-wal", "vault.db-shm", "api.db", "api.db-wal"] {
        let mode = std::fs::metadata(server.dir.path().join(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}
