//! PostgreSQL restarts under a running server: orders meanwhile get a clear 503 JSON (never a
//! hang, never a crash) and, once PostgreSQL is back, the next ones succeed on the same
//! process, which reconnected by itself. The test starts its own PostgreSQL with
//! `scripts/postgres.sh`, stops it and starts it again on the same port and data directory.

use crate::process::{checkout, pay_body, try_intent, try_tokenize, Launch, ServerProcess};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh")
}

fn have_postgres() -> bool {
    std::fs::read_dir("/usr/lib/postgresql")
        .map(|versions| versions.flatten().any(|v| v.path().join("bin/initdb").is_file()))
        .unwrap_or(false)
}

fn pg(command: &str, dir: &Path) -> String {
    let out = Command::new("bash").arg(script()).arg(command).arg(dir).output().unwrap();
    assert!(out.status.success(), "postgres.sh {command}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Stops the test's PostgreSQL however the test ends.
struct Cluster(PathBuf);

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("stop").arg(&self.0).output();
    }
}

async fn post_order(http: &reqwest::Client, api: &str, body: &Value, key: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let reply = http
        .post(format!("{api}/api/v1/orders"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("no answer (a crash or a hang?): {e}"));
    let status = reply.status().as_u16();
    let content_type = reply.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body: Value = reply.json().await.unwrap_or(Value::Null);
    assert!(content_type.starts_with("application/json"), "{status} is not JSON: {body}");
    (status, body, started.elapsed())
}

fn ticket() -> Value {
    json!({"product_id": "demi-fall-tour-ticket", "variant_id": "ga", "quantity": 1, "email": "fan@example.com"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_reconnects_after_postgres_restarts() {
    if !have_postgres() {
        if std::env::var("TWEETBUY_REQUIRE_PG").is_ok_and(|v| v == "1") {
            panic!("TWEETBUY_REQUIRE_PG=1 but no initdb under /usr/lib/postgresql (scripts/install-tools.sh)");
        }
        eprintln!("skipped: PostgreSQL server binaries (initdb) are not installed");
        return;
    }
    // Not under a 0700 temp dir: as root the script runs PostgreSQL as `postgres`.
    let cluster = Cluster(std::env::temp_dir().join(tweetbuy_server::ids::random_id("tweetbuy-pgr-")));
    let url = pg("start", &cluster.0);
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(Launch {
        data_dir: dir.path(),
        database_url: Some(&url),
        schema_prefix: "restart",
        env: vec![],
        log_name: "server",
    });
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();

    let body = checkout(&http, &server.api, &server.vault, &ticket(), "4242424242424242").await;
    let (status, receipt, _) = post_order(&http, &server.api, &body, "pg-before").await;
    assert_eq!(status, 201, "{receipt}");

    pg("down", &cluster.0);
    // While it is down: a clear 503, in bounded time, and the process stays up.
    let during = json!({"intent_id": "pi_whatever", "client_secret": "pi_whatever_secret_x", "card_token": "tok_x"});
    for attempt in 0..2 {
        let (status, body, took) = post_order(&http, &server.api, &during, &format!("pg-down-{attempt}")).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "unavailable", "{body}");
        assert!(took < Duration::from_secs(15), "answered in {took:?}");
        // Pricing an intent too.
        let started = Instant::now();
        let (status, body) = try_intent(&http, &server.api, &ticket()).await.expect_err("no intent while down");
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("\"unavailable\""), "{body}");
        assert!(started.elapsed() < Duration::from_secs(15), "answered in {:?}", started.elapsed());
    }
    assert!(server.child.try_wait().unwrap().is_none(), "the server is still running");

    pg("up", &cluster.0);
    // Back: after at most a few 503s, orders go through on the same process.
    let body = checkout_retrying(&http, &server).await;
    let mut failures = 0;
    let receipt = loop {
        let (status, reply, _) = post_order(&http, &server.api, &body, "pg-after").await;
        if status == 201 {
            break reply;
        }
        assert_eq!((status, reply["code"].as_str()), (503, Some("unavailable")), "{reply}");
        failures += 1;
        assert!(failures <= 5, "still failing after PostgreSQL came back:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(receipt["status"], "paid");
    let body = checkout(&http, &server.api, &server.vault, &ticket(), "5555555555554444").await;
    let (status, reply, _) = post_order(&http, &server.api, &body, "pg-after-2").await;
    assert_eq!(status, 201, "{reply}");
    assert!(server.child.try_wait().unwrap().is_none(), "never restarted");
    server.kill();
}

/// An intent and a token for it once PostgreSQL is back: the api and the vault reconnect by
/// themselves, but their first requests may still meet a dead connection (a clear 503).
async fn checkout_retrying(http: &reqwest::Client, server: &ServerProcess) -> Value {
    let mut intent = None;
    for _ in 0..10 {
        match try_intent(http, &server.api, &ticket()).await {
            Ok(priced) => {
                intent = Some(priced);
                break;
            }
            Err((status, body)) => assert_eq!(status, 503, "{body}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let intent = intent.unwrap_or_else(|| panic!("the api did not recover:\n{}", server.log_text()));
    for _ in 0..10 {
        match try_tokenize(http, &server.vault, "4242424242424242", intent["intent_id"].as_str().unwrap()).await {
            Ok(token) => return pay_body(&intent, &token),
            Err((status, body)) => assert_eq!(status, 503, "{body}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the vault did not recover");
}
