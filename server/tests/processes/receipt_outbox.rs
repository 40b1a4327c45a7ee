//! A receipt survives a crash between the order's commit and the send (SIGKILL in between).

use crate::harness::pg_url;
use crate::process::{checkout, order, Launch, ServerProcess};
use serde_json::json;
use std::time::Duration;
use tweetbuy_server::db::{self, Location};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_is_sent_after_a_kill_between_commit_and_send() {
    let url = pg_url();
    let dir = tempfile::tempdir().unwrap();
    // Opened wide, as a folder made by hand might be: the server narrows it.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let prefix = tweetbuy_server::ids::random_id("o");
    let launch = |delay: &str, name: &'static str| Launch {
        data_dir: dir.path(),
        database_url: url.as_deref(),
        schema_prefix: &prefix,
        // First run: receipts wait an hour, so the kill surely lands before the send.
        env: vec![("TWEETBUY_OUTBOX_SEND_DELAY_SECS", delay.to_owned())],
        log_name: name,
    };
    let mut first = ServerProcess::start(launch("3600", "first"));
    let http = reqwest::Client::new();
    let details = json!({
        "product_id": "red-tee", "variant_id": "m", "quantity": 1, "email": "jane@example.com",
        "shipping": {"name": "Jane Doe", "line1": "1 Main St", "city": "New York", "region": "NY",
                     "postal_code": "10001", "country": "US"}
    });
    let body = checkout(&http, &first.api, &first.vault, &details, "4242424242424242").await;
    let token = body["card_token"].as_str().unwrap().to_owned();
    let secret = body["client_secret"].as_str().unwrap().to_owned();
    let (status, receipt) = order(&http, &first.api, &body, "receipt-kill-1").await;
    assert_eq!(status, 201, "{receipt}");
    let number = receipt["order_number"].as_str().unwrap().to_owned();

    let api_location = match &url {
        Some(url) => Location::Postgres { url: url.clone(), schema: format!("{prefix}_api") },
        None => Location::Sqlite(dir.path().join("api.db")),
    };
    let pending = || async {
        let db = db::open_api(&api_location).await.unwrap();
        let row: (Option<i64>,) = sqlx::query_as("SELECT sent_at FROM receipt_outbox WHERE order_id = $1")
            .bind(receipt["order_id"].as_str().unwrap())
            .fetch_one(&db)
            .await
            .unwrap();
        db.close().await;
        row.0.is_none()
    };
    let eml = dir.path().join("outbox").join(format!("{number}.eml"));
    assert!(pending().await, "committed with the order, not sent yet");
    assert!(!eml.exists());

    first.kill();
    assert!(!eml.exists(), "the killed process sent nothing");

    let second = ServerProcess::start(launch("0", "second"));
    let mut waited = 0;
    while !eml.exists() && waited < 200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    assert!(eml.exists(), "no receipt after the restart; log:\n{}", second.log_text());
    let text = std::fs::read_to_string(&eml).unwrap();
    assert!(text.contains(&number) && text.contains("To: jane@example.com"), "{text}");
    assert!(text.contains("Visa ending in 4242"), "{text}");
    assert!(!text.contains("4242424242424242") && !text.contains(&token), "no card number, no token");
    assert!(!pending().await, "marked sent");
    // Receipts hold emails and addresses, the data folder the databases too: this user only.
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&eml), 0o600, "the receipt file");
    assert_eq!(mode(&dir.path().join("outbox")), 0o700, "the outbox");
    assert_eq!(mode(dir.path()), 0o700, "the data directory");

    // Structured logs, without personal data: no email, no address, no card token.
    let logs = first.log_text() + &second.log_text();
    assert!(logs.contains("order paid") && logs.contains("receipt sent"), "the events are logged:\n{logs}");
    // Each line without its timestamp, whose microseconds may spell a postal code ("…310001Z").
    let logs =
        logs.lines().map(|line| line.split_once(' ').map_or(line, |(_, rest)| rest)).collect::<Vec<_>>().join("\n");
    // Nor the intent's client secret.
    for personal in
        ["jane@example.com", "Jane Doe", "1 Main St", "10001", token.as_str(), secret.as_str(), "4242424242424242"]
    {
        assert!(!logs.contains(personal), "{personal:?} in the logs:\n{logs}");
    }
}
