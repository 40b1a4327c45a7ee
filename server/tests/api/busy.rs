//! A SQLite write lock held by another process for longer than the busy timeout delays an
//! order; it does not fail it.

use crate::harness::*;
use axum::http::StatusCode;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tweetbuy_server::db::{self, Tuning};
use tweetbuy_server::{api_app, ApiState};

const BUSY_TIMEOUT: Duration = Duration::from_millis(300);
const HELD: Duration = Duration::from_millis(2500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_waits_out_a_write_lock_longer_than_the_busy_timeout() {
    if pg_url().is_some() {
        eprintln!("skipped: SQLite locking (this run is on PostgreSQL)");
        return;
    }
    if Command::new("python3").args(["-c", "import sqlite3"]).status().map_or(true, |s| !s.success()) {
        eprintln!("skipped: needs python3 with its sqlite3 module to hold the lock");
        return;
    }
    let server = start().await;
    let path = server.dir.path().join("api.db");
    // The api on its own pool with a short busy timeout, so the lock outlasts it many times.
    let pool = db::open_api_tuned(path.as_path(), Tuning { sqlite_busy_timeout: BUSY_TIMEOUT }).await.unwrap();
    let api = api_app(ApiState::new(pool, (*server.api_state.settings).clone()));
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;

    // Another process takes the write lock, says so, and holds it.
    let script = format!(
        "import sqlite3, sys, time\n\
         c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)\n\
         c.execute('BEGIN EXCLUSIVE')\n\
         print('locked', flush=True)\n\
         time.sleep({})\n\
         c.execute('ROLLBACK')\n",
        HELD.as_secs_f64()
    );
    let mut holder = Command::new("python3").arg("-c").arg(script).arg(&path).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "locked");
    let locked_at = Instant::now();

    let reply = send(&api, post_json("/api/v1/orders", &pay_body(&intent, &token), Some(&fresh_key()))).await;
    let waited = locked_at.elapsed();
    assert!(holder.wait().unwrap().success());
    assert_eq!(reply.status, StatusCode::CREATED, "the order went through after the lock: {}", reply.text());
    assert_eq!(reply.json()["status"], "paid");
    assert!(waited >= HELD - Duration::from_millis(200), "it did wait for the lock: {waited:?}");
    assert!(waited < HELD + Duration::from_secs(5), "and not much longer: {waited:?}");

    let order_id = reply.json()["order_id"].as_str().unwrap().to_owned();
    assert_eq!(server.order_row(&order_id).await.0, "paid");
    let (charges,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges WHERE reference = $1")
        .bind(&order_id)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert_eq!(charges, 1, "exactly one charge");
    assert_eq!(server.count("orders").await, 1);
}
