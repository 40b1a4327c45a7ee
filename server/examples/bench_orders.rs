//! `make bench-api`: starts the release `tweetbuy-server` (SQLite, or PostgreSQL with
//! `--database-url`), then from this second process makes purchases on loopback the way a
//! buyer's card frame does: `POST /api/v1/intents`, a card token for that intent
//! (`POST /v1/tokens` at the vault), then `POST /api/v1/orders`. A closed loop at full speed
//! (purchases/s), then an open loop at 500 purchases/s (latency percentiles), each reported
//! for the whole purchase and for its order step alone. Afterwards every acknowledged order
//! is looked up in the database.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};
use tweetbuy_server::db::{self, Location};

/// The tests' catalog fixture; the benchmark orders its `bench-ticket`.
const CATALOG: &str = include_str!("../tests/fixtures/catalog.toml");

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One purchase: how long the buyer waited for all of it, how long its order step took, and
/// the order's id when it was acknowledged (201).
struct Purchase {
    total: Duration,
    order: Duration,
    id: Option<String>,
}

/// A purchase as the card frame makes it: the intent, a token for that intent, the order.
async fn buy(http: &reqwest::Client, api: &str, vault: &str) -> Purchase {
    let started = Instant::now();
    let failed = |started: Instant| Purchase { total: started.elapsed(), order: started.elapsed(), id: None };
    let details = serde_json::json!({"product_id": "bench-ticket", "variant_id": "ga", "quantity": 1,
                                     "email": "bench@example.com"});
    let intent = match http.post(format!("{api}/api/v1/intents")).json(&details).send().await {
        Ok(r) if r.status() == 201 => r.json::<serde_json::Value>().await.ok(),
        _ => None,
    };
    let Some(intent) = intent else { return failed(started) };
    let card = serde_json::json!({"number": "4242424242424242", "expiry": "12/40", "cvc": "123",
                                  "intent_id": intent["intent_id"]});
    let token = match http
        .post(format!("{vault}/v1/tokens"))
        .header("Origin", vault)
        .header("Idempotency-Key", tweetbuy_server::ids::random_id("b"))
        .json(&card)
        .send()
        .await
    {
        Ok(r) if r.status() == 201 => {
            r.json::<serde_json::Value>().await.ok().and_then(|v| v["token"].as_str().map(str::to_owned))
        }
        _ => None,
    };
    let Some(token) = token else { return failed(started) };
    let body = serde_json::json!({"intent_id": intent["intent_id"], "client_secret": intent["client_secret"],
                                  "card_token": token});
    let ordered = Instant::now();
    let reply = http
        .post(format!("{api}/api/v1/orders"))
        .header("Idempotency-Key", tweetbuy_server::ids::random_id("o"))
        .json(&body)
        .send()
        .await;
    let id = match reply {
        Ok(r) if r.status() == 201 => {
            r.json::<serde_json::Value>().await.ok().and_then(|v| v["order_id"].as_str().map(str::to_owned))
        }
        _ => None,
    };
    Purchase { total: started.elapsed(), order: ordered.elapsed(), id }
}

fn report_all(label: &str, results: &[Purchase], elapsed: Duration, sent: usize) {
    let acked = results.iter().filter(|p| p.id.is_some()).count();
    report(label, results.iter().map(|p| p.total).collect(), elapsed, acked, sent);
    percentiles(&format!("{label}, order step alone"), results.iter().map(|p| p.order).collect());
}

fn percentiles(label: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    println!(
        "{label}: latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
}

fn report(label: &str, mut latencies: Vec<Duration>, elapsed: Duration, acked: usize, sent: usize) {
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    println!(
        "{label}: {sent} purchases, {acked} acknowledged in {:.2} s = {:.0} purchases/s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        acked as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let server = PathBuf::from(arg("--server").unwrap_or_else(|| "target/release/tweetbuy-server".into()));
    let database_url = arg("--database-url");
    let closed_n: usize = arg("--orders").map_or(6000, |n| n.parse().unwrap());
    let concurrency: usize = arg("--concurrency").map_or(32, |n| n.parse().unwrap());
    let rate: u64 = arg("--rate").map_or(500, |n| n.parse().unwrap());
    let open_secs: u64 = 6;
    let dir = tempfile::tempdir().unwrap();
    let prefix = tweetbuy_server::ids::random_id("bench");
    let engine = if database_url.is_some() { "PostgreSQL" } else { "SQLite" };

    let mut env: Vec<(&str, String)> = vec![
        ("TWEETBUY_DATA_DIR", dir.path().display().to_string()),
        ("TWEETBUY_DB_SCHEMA_PREFIX", prefix.clone()),
        ("TWEETBUY_RATE_LIMIT_PER_SECOND", "0".into()),
        ("RUST_LOG", "warn".into()),
        // A throw-away data directory: demo mode keeps the generated master key in it.
        ("TWEETBUY_DEMO", "1".into()),
    ];
    if let Some(url) = &database_url {
        env.push(("DATABASE_URL", url.clone()));
    }
    let file = dir.path().join("bench.toml");
    std::fs::write(&file, CATALOG).unwrap();
    let imported =
        Command::new(&server).args(["catalog", "import"]).arg(&file).envs(env.iter().cloned()).output().unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));

    let (api_port, vault_port) = (free_port(), free_port());
    let mut child = Command::new(&server)
        .arg("serve")
        .envs(env.iter().cloned())
        .env("TWEETBUY_PUBLISHER_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_API_ADDR", format!("127.0.0.1:{api_port}"))
        .env("TWEETBUY_VAULT_ADDR", format!("127.0.0.1:{vault_port}"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{api_port}");
    let vault = format!("http://127.0.0.1:{vault_port}");
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    for _ in 0..100 {
        if http.get(format!("{api}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("== {engine}: closed loop, {concurrency} concurrent buyers, {closed_n} purchases (intent, token, order)");

    let mut acked_ids: Vec<String> = Vec::new();
    // Warm-up, untimed.
    for _ in 0..200 {
        acked_ids.extend(buy(&http, &api, &vault).await.id);
    }

    // Closed loop: `concurrency` buyers, each starting the next purchase when the last returns.
    let left = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(closed_n));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (http, api, vault, left) = (http.clone(), api.clone(), vault.clone(), left.clone());
        set.spawn(async move {
            let mut out = Vec::new();
            while left.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
                out.push(buy(&http, &api, &vault).await);
            }
            out
        });
    }
    let mut results = Vec::new();
    while let Some(r) = set.join_next().await {
        results.extend(r.unwrap());
    }
    let elapsed = started.elapsed();
    report_all(&format!("{engine} max throughput"), &results, elapsed, closed_n);
    acked_ids.extend(results.into_iter().filter_map(|p| p.id));

    // Open loop at a fixed rate: latency under a steady load.
    let n = (rate * open_secs) as usize;
    println!("== {engine}: open loop at {rate} purchases/s for {open_secs} s");
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let due = started + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let (http, api, vault) = (http.clone(), api.clone(), vault.clone());
        set.spawn(async move { buy(&http, &api, &vault).await });
    }
    let mut results = Vec::new();
    while let Some(r) = set.join_next().await {
        results.push(r.unwrap());
    }
    let elapsed = started.elapsed();
    report_all(&format!("{engine} at {rate}/s"), &results, elapsed, n);
    acked_ids.extend(results.into_iter().filter_map(|p| p.id));

    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();

    // Every acknowledged order must be in the database, paid.
    let location = match &database_url {
        Some(url) => Location::Postgres { url: url.clone(), schema: format!("{prefix}_api") },
        None => Location::Sqlite(dir.path().join("api.db")),
    };
    let pool = db::open_api(&location).await.unwrap();
    let mut lost = 0;
    for chunk in acked_ids.chunks(500) {
        let sql = format!(
            "SELECT COUNT(*) FROM orders WHERE status = 'paid' AND id IN ({})",
            db::placeholders(0, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (i64,)>(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        let (found,) = q.fetch_one(&pool).await.unwrap();
        lost += chunk.len() - found as usize;
    }
    println!("== {engine}: {} acknowledged orders checked in the database, {lost} lost", acked_ids.len());
    if lost > 0 {
        std::process::exit(1);
    }
}
