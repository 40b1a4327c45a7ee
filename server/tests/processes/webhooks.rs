//! Webhooks between real processes: a `tweetbuy-server` and a receiver in Node
//! (`webhook_receiver.mjs`, built on docs/examples/verify-webhook.mjs, the code the seller
//! docs show), over HTTP on loopback. The receiver fails its first deliveries and still sees
//! the event once; a server killed between the order's commit and the delivery delivers
//! after its restart; the documented verification refuses what it must. Runs on SQLite, and
//! on PostgreSQL when `TWEETBUY_TEST_PG_URL` is set.

use crate::harness::pg_url;
use crate::process::{checkout, free_port, order, Launch, ServerProcess};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tweetbuy_server::api::webhooks::signing;

const ADMIN_KEY: &str = "process-test-admin-key-0123456789abcdef";

/// The Node receiver, in a process of its own.
struct Receiver {
    child: Child,
    url: String,
    events: PathBuf,
    requests: PathBuf,
    log: PathBuf,
}

impl Receiver {
    fn start(dir: &Path, port: u16, secrets: &[&str], fail_first: u32) -> Receiver {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/processes/webhook_receiver.mjs");
        let (events, requests, log) =
            (dir.join("received.jsonl"), dir.join("requests.jsonl"), dir.join("receiver.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new("node")
            .arg(script)
            .env("PORT", port.to_string())
            .env("WEBHOOK_SECRETS", secrets.join(","))
            .env("FAIL_FIRST", fail_first.to_string())
            .env("EVENTS_FILE", &events)
            .env("REQUESTS_FILE", &requests)
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .expect("start node (Node 20 is needed for the webhook tests)");
        let receiver = Receiver { child, url: format!("http://127.0.0.1:{port}/hooks"), events, requests, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(Instant::now() < deadline, "the receiver did not start: {}", receiver.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
        receiver
    }

    fn lines(path: &Path) -> Vec<Value> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        // Only whole lines: the receiver may be writing the next one.
        text.split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The events it accepted, repeats dropped.
    fn events(&self) -> Vec<Value> {
        Self::lines(&self.events)
    }

    /// `{event_id, status}` of every request it answered.
    fn requests(&self) -> Vec<Value> {
        Self::lines(&self.requests)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (up to 60 seconds) for `done`; the message says what was awaited.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}\n{}", context());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn admin(http: &reqwest::Client, method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = http.request(method, url).bearer_auth(ADMIN_KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

/// Adds an endpoint for `order.paid` at the server; returns its id and secret.
async fn add_endpoint(http: &reqwest::Client, server: &ServerProcess, url: &str) -> (String, String) {
    let body = json!({"url": url, "events": ["order.paid"], "description": "process test"});
    let (status, created) =
        admin(http, reqwest::Method::POST, format!("{}/admin/v1/webhooks", server.api), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    (created["endpoint"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
}

/// The endpoint's log once its latest delivery is `delivered` (the server records that just
/// after the receiver's answer), waiting up to 60 seconds.
async fn delivered_log(http: &reqwest::Client, server: &ServerProcess, endpoint: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = deliveries(http, server, endpoint).await;
        if log[0]["status"] == "delivered" {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered: {log}
{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn deliveries(http: &reqwest::Client, server: &ServerProcess, endpoint: &str) -> Value {
    let url = format!("{}/admin/v1/webhooks/{endpoint}/deliveries", server.api);
    let (status, log) = admin(http, reqwest::Method::GET, url, None).await;
    assert_eq!(status, 200, "{log}");
    log
}

fn ticket() -> Value {
    json!({"product_id": "demi-fall-tour-ticket", "variant_id": "ga", "quantity": 1, "email": "fan@example.com"})
}

/// Pays for a ticket at `server`; returns the receipt.
async fn buy(http: &reqwest::Client, server: &ServerProcess, key: &str) -> Value {
    let body = checkout(http, &server.api, &server.vault, &ticket(), "4242424242424242").await;
    let (status, receipt) = order(http, &server.api, &body, key).await;
    assert_eq!(status, 201, "{receipt}");
    receipt
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_three_times_sees_the_event_once() {
    let url = pg_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = tweetbuy_server::ids::random_id("w");
    let server = ServerProcess::start(Launch {
        data_dir: dir.path(),
        database_url: url.as_deref(),
        schema_prefix: &prefix,
        env: vec![("TWEETBUY_ADMIN_KEY", ADMIN_KEY.to_owned()), ("TWEETBUY_WEBHOOK_RETRY_BASE_MS", "200".to_owned())],
        log_name: "server",
    });
    let http = reqwest::Client::new();
    let port = free_port();
    let (endpoint, secret) = add_endpoint(&http, &server, &format!("http://127.0.0.1:{port}/hooks")).await;
    let receiver = Receiver::start(dir.path(), port, &[&secret], 3);
    let receipt = buy(&http, &server, "webhook-retries-1").await;

    let context = || format!("receiver:\n{}\nserver:\n{}", receiver.log_text(), server.log_text());
    // The receiver writes the request's line once its answer is sent, after the event's.
    wait_for("the event to be accepted", || receiver.requests().iter().any(|r| r["status"] == 200), context).await;
    let events = receiver.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "order.paid");
    assert_eq!(events[0]["object"]["order_id"], receipt["order_id"]);
    assert_eq!(events[0]["object"]["email"], Value::Null, "the buyer did not agree to share it");
    let event_id = events[0]["id"].as_str().unwrap().to_owned();
    let statuses: Vec<i64> = receiver.requests().iter().map(|r| r["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [500, 500, 500, 200], "three failures, then the one that took");
    assert!(receiver.requests().iter().all(|r| r["event_id"] == event_id));

    // The delivery log says the same, attempt by attempt, spaced by a growing backoff.
    let log = delivered_log(&http, &server, &endpoint).await;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("delivered"), Some(4)), "{log}");
    let logged: Vec<i64> =
        log[0]["log"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
    assert_eq!(logged, [500, 500, 500, 200]);

    // A manual re-send reaches the receiver again, which drops the repeat by the event's id.
    let resend =
        format!("{}/admin/v1/webhooks/{endpoint}/deliveries/{}/resend", server.api, log[0]["id"].as_str().unwrap());
    let (status, queued) = admin(&http, reqwest::Method::POST, resend, None).await;
    assert_eq!(status, 202, "{queued}");
    wait_for("the re-send", || receiver.requests().len() == 5, context).await;
    assert_eq!(receiver.requests()[4], json!({"event_id": event_id, "status": 200}));
    assert_eq!(receiver.events().len(), 1, "seen once after deduplication");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_survives_a_kill_between_commit_and_send() {
    let url = pg_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = tweetbuy_server::ids::random_id("w");
    let launch = |delay: &str, name: &'static str| Launch {
        data_dir: dir.path(),
        database_url: url.as_deref(),
        schema_prefix: &prefix,
        // First run: deliveries wait an hour, so the kill surely lands before the send.
        env: vec![("TWEETBUY_ADMIN_KEY", ADMIN_KEY.to_owned()), ("TWEETBUY_WEBHOOK_SEND_DELAY_SECS", delay.to_owned())],
        log_name: name,
    };
    let mut first = ServerProcess::start(launch("3600", "first"));
    let http = reqwest::Client::new();
    let port = free_port();
    let (endpoint, secret) = add_endpoint(&http, &first, &format!("http://127.0.0.1:{port}/hooks")).await;
    let receiver = Receiver::start(dir.path(), port, &[&secret], 0);
    let receipt = buy(&http, &first, "webhook-kill-1").await;
    let log = deliveries(&http, &first, &endpoint).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("pending"), Some(0)), "{log}");

    first.kill();
    assert!(receiver.requests().is_empty(), "the killed process sent nothing");

    let second = ServerProcess::start(launch("0", "second"));
    let context = || format!("receiver:\n{}\nsecond:\n{}", receiver.log_text(), second.log_text());
    wait_for("the delivery after the restart", || !receiver.requests().is_empty(), context).await;
    let events = receiver.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["object"]["order_id"], receipt["order_id"]);
    assert_eq!(receiver.requests().len(), 1, "one request: {:?}", receiver.requests());
    let log = delivered_log(&http, &second, &endpoint).await;
    assert_eq!(log[0]["attempts"], 1, "{log}");
    assert!(second.log_text().contains("webhook delivered"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_verification_refuses_a_wrong_signature() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let receiver = Receiver::start(dir.path(), port, &["whsec_current"], 0);
    let http = reqwest::Client::new();
    let body = json!({"id": "evt_verify1", "type": "order.paid", "created_at": 1, "object": {}}).to_string();
    let post = |signature: Option<String>, body: String| {
        let mut request = http.post(&receiver.url).header("content-type", "application/json").body(body);
        if let Some(signature) = signature {
            request = request.header(signing::HEADER, signature);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let now = tweetbuy_server::clock::now();
    let refused = [
        ("no header", None, body.clone()),
        ("another secret", Some(signing::header_value(&["whsec_wrong"], now, body.as_bytes())), body.clone()),
        (
            "a changed body",
            Some(signing::header_value(&["whsec_current"], now, body.as_bytes())),
            body.replace("paid", "refunded"),
        ),
        (
            "a replay ten minutes on",
            Some(signing::header_value(&["whsec_current"], now - 600, body.as_bytes())),
            body.clone(),
        ),
        ("a mangled header", Some(format!("t={now},v1=deadbeef")), body.clone()),
    ];
    for (what, signature, sent) in refused {
        assert_eq!(post(signature, sent).await, 400, "{what} must be refused");
    }
    assert!(receiver.events().is_empty(), "nothing refused was processed");

    // Signed with the old and the new secret during a rotation: a receiver that knows only
    // the new one accepts it, once.
    let rotated = signing::header_value(&["whsec_current", "whsec_previous"], now, body.as_bytes());
    assert_eq!(post(Some(rotated.clone()), body.clone()).await, 200);
    assert_eq!(post(Some(rotated), body.clone()).await, 200, "a repeat is acknowledged");
    assert_eq!(receiver.events().len(), 1, "and processed once");
}

#[test]
fn the_cli_manages_endpoints_with_the_same_rules() {
    let url = pg_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = tweetbuy_server::ids::random_id("c");
    // The shop's database, as the server's first start makes it: the tools start no new one.
    let (api, _) = tweetbuy_server::db::locations(url.as_deref(), &prefix, dir.path()).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(tweetbuy_server::db::open_api(api)).unwrap();
    let run = |args: &[&str]| {
        let mut command = Command::new(crate::process::server_bin());
        command
            .arg("webhooks")
            .args(args)
            .env_clear()
            .env("TWEETBUY_DATA_DIR", dir.path())
            .env("TWEETBUY_DB_SCHEMA_PREFIX", &prefix);
        if let Some(url) = &url {
            command.env("DATABASE_URL", url);
        }
        let output = command.output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    };
    let (ok, text) = run(&["add", "http://hooks.example.com/in"]);
    assert!(!ok && text.contains("url: Use https://"), "{text}");
    let (ok, text) = run(&["add", "https://hooks.example.com/in", "--events", "order.paid,order.shipped"]);
    assert!(!ok && text.contains("events[1]") && text.contains("order.shipped"), "{text}");

    let (ok, text) = run(&["add", "https://hooks.example.com/in", "--events", "order.paid"]);
    assert!(ok, "{text}");
    assert!(text.contains("secret: whsec_"), "{text}");
    let id = text.split_whitespace().find(|w| w.starts_with("whe_")).unwrap().to_owned();
    let (ok, text) = run(&["rotate", &id, "--keep-previous-secs", "600"]);
    assert!(ok && text.contains("secret: whsec_") && text.contains("previous secret signs too"), "{text}");
    let (ok, text) = run(&["update", &id, "--disable", "--events", "all"]);
    assert!(ok && text.contains("disabled (seller)") && text.contains("waitlist.joined"), "{text}");
    let (ok, text) = run(&["list"]);
    assert!(ok && text.contains(&id) && text.contains("1 endpoint(s)") && !text.contains("whsec_"), "{text}");
    let (ok, text) = run(&["deliveries", &id]);
    assert!(ok && text.contains("0 deliveries"), "{text}");
    let (ok, text) = run(&["resend", &id, "whd_nosuchdelivery"]);
    assert!(!ok && text.contains("disabled"), "{text}");
    assert!(run(&["remove", &id]).0);
    let (ok, text) = run(&["remove", &id]);
    assert!(!ok && text.contains("no such webhook endpoint"), "{text}");
}
