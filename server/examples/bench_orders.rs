//! `make bench-api`: starts the release `tweetbuy-server` (SQLite, or PostgreSQL with
//! `--database-url`), then from this second process drives `POST /api/v1/orders` on
//! loopback: a closed loop at full speed (orders/s), then an open loop at 500 orders/s
//! (latency percentiles). Card tokens are made before each timed phase. Afterwards every
//! acknowledged order is looked up in the database.

use std::path::PathBuf;
use std::process::{Command, Stdio};
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

async fn tokens(http: &reqwest::Client, vault: &str, n: usize) -> Vec<String> {
    let mut set = tokio::task::JoinSet::new();
    let per = n.div_ceil(16);
    for _ in 0..16 {
        let (http, vault) = (http.clone(), vault.to_owned());
        set.spawn(async move {
            let mut out = Vec::new();
            for _ in 0..per {
                let body = serde_json::json!({"number": "4242424242424242", "expiry": "12/40", "cvc": "123"});
                let reply = http
                    .post(format!("{vault}/v1/tokens"))
                    .header("Idempotency-Key", tweetbuy_server::ids::random_id("b"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let v: serde_json::Value = reply.json().await.unwrap();
                out.push(v["token"].as_str().unwrap().to_owned());
            }
            out
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        all.extend(r.unwrap());
    }
    all.truncate(n);
    all
}

/// One order; its latency and, when acknowledged (201), its id.
async fn one(http: &reqwest::Client, api: &str, token: String) -> (Duration, Option<String>) {
    let body = serde_json::json!({"product_id": "bench-ticket", "variant_id": "ga", "quantity": 1,
                                  "email": "bench@example.com", "card_token": token});
    let started = Instant::now();
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
    (started.elapsed(), id)
}

fn report(label: &str, mut latencies: Vec<Duration>, elapsed: Duration, acked: usize, sent: usize) {
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    println!(
        "{label}: {sent} sent, {acked} acknowledged in {:.2} s = {:.0} orders/s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
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
    println!("== {engine}: closed loop, {concurrency} concurrent clients, {closed_n} orders");

    let mut acked_ids: Vec<String> = Vec::new();
    // Warm-up, untimed.
    for t in tokens(&http, &vault, 200).await {
        acked_ids.extend(one(&http, &api, t).await.1);
    }

    // Closed loop: `concurrency` clients, each sending its next order when the last returns.
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(tokens(&http, &vault, closed_n).await));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (http, api, queue) = (http.clone(), api.clone(), queue.clone());
        set.spawn(async move {
            let mut out = Vec::new();
            loop {
                let Some(token) = queue.lock().await.pop() else { break };
                out.push(one(&http, &api, token).await);
            }
            out
        });
    }
    let mut results = Vec::new();
    while let Some(r) = set.join_next().await {
        results.extend(r.unwrap());
    }
    let elapsed = started.elapsed();
    let acked = results.iter().filter(|(_, id)| id.is_some()).count();
    report(&format!("{engine} max throughput"), results.iter().map(|(d, _)| *d).collect(), elapsed, acked, closed_n);
    acked_ids.extend(results.into_iter().filter_map(|(_, id)| id));

    // Open loop at a fixed rate: latency under a steady load.
    let n = (rate * open_secs) as usize;
    let mut pending = tokens(&http, &vault, n).await;
    println!("== {engine}: open loop at {rate} orders/s for {open_secs} s");
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let due = started + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let (http, api, token) = (http.clone(), api.clone(), pending.pop().unwrap());
        set.spawn(async move { one(&http, &api, token).await });
    }
    let mut results = Vec::new();
    while let Some(r) = set.join_next().await {
        results.extend([r.unwrap()]);
    }
    let elapsed = started.elapsed();
    let acked = results.iter().filter(|(_, id)| id.is_some()).count();
    report(&format!("{engine} at {rate}/s"), results.iter().map(|(d, _)| *d).collect(), elapsed, acked, n);
    acked_ids.extend(results.into_iter().filter_map(|(_, id)| id));

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
