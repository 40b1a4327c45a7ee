//! `make bench-api`: starts the release `tweetbuy-server` (SQLite, or PostgreSQL with
//! `--database-url`), then from this second process makes purchases on loopback the way a
//! buyer's card frame does: `POST /api/v1/intents`, a card token for that intent
//! (`POST /v1/tokens` at the vault), then `POST /api/v1/orders`. A closed loop at full speed
//! (purchases/s), then an open loop at 500 purchases/s (latency percentiles), each reported
//! for the whole purchase and for its order step alone. Then a flash sale: 5,000 buyers
//! arrive within 5 s for one variant with 500 units (on PostgreSQL, alternating between two
//! replicas of the server on the one database); exactly 500 must be paid, with exactly 500
//! charges at the vault, and every other buyer told `sold_out`, with no 5xx and no timeout.
//! After each phase it prints how many of the paid orders' receipts have been sent: the
//! receipts go out from an outbox in the background, after the buyer's answer, so a phase's
//! rate leaves them out unless the worker keeps pace. They go over SMTP, as a seller's do, to
//! a mail server this process runs on loopback (it reads each message and drops it; its CPU
//! counts as this benchmark's). After the flash sale it waits for the outbox to empty and
//! prints how long that took and the CPU each receipt cost; a receipt still queued after
//! [`RECEIPTS_WAIT`] fails the run. Afterwards every acknowledged order is looked up in the
//! database.
//!
//! Next to each phase's rate it prints the CPU time the server process spent per purchase
//! (user + system, from `/proc/<pid>/stat`, api and vault together), and on PostgreSQL the
//! database's: on a shared, noisy machine the rate moves by a third from run to run, the
//! CPU a purchase costs much less. First it prints the machine: its cores, its load average,
//! and how fast one core handles JSON, which tells a run in a slow hour of a shared machine
//! from a slower server.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};
use tweetbuy_server::db::{self, Location};

// The server's allocator here too: the bench shares the machine's two cores with the server,
// and glibc's malloc and free were a quarter of the bench's own samples.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The tests' catalog fixture; the benchmark orders its `bench-ticket`.
const CATALOG: &str = include_str!("../tests/fixtures/catalog.toml");

/// The flash sale's product: one variant, [`FLASH_UNITS`] units.
const FLASH_PRODUCT: &str = r#"
[[products]]
id = "bench-flash"
tweet_ids = ["1800000000000000002"]
title = "Bench flash sale"
seller = { name = "Bench", kind = "artist" }
kind = "ticket"
currency = "USD"
max_per_order = 1

[[products.variants]]
id = "drop"
label = "Drop"
price_minor = 2500
stock = 500
"#;
const FLASH_UNITS: usize = 500;
const FLASH_BUYERS: usize = 5000;
const FLASH_SECS: u64 = 5;
/// How long the run waits, after the flash sale, for the receipt outbox to empty.
const RECEIPTS_WAIT: Duration = Duration::from_secs(180);

/// A fixed master key and bearer key, so two replicas open each other's cards.
const MASTER_KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const VAULT_API_KEY: &str = "bench-vault-key-0123456789abcdefghij";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One purchase: how long the buyer waited for all of it, how long its order step took, and
/// the order's id when it was acknowledged (201), or else how it ended.
struct Purchase {
    total: Duration,
    order: Duration,
    id: Option<String>,
    /// For a purchase that was not acknowledged: `sold_out`, another error code, `5xx`, or
    /// `timeout`/`transport` when no answer came.
    refusal: Option<String>,
}

/// How a request that was not the expected success ended.
async fn refusal(reply: Result<reqwest::Response, reqwest::Error>) -> String {
    match reply {
        Err(e) if e.is_timeout() => "timeout".into(),
        Err(e) => {
            // What broke is worth seeing; the first few are enough.
            static SHOWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            if SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3 {
                eprintln!("transport error: {e:?}");
            }
            "transport".into()
        }
        Ok(r) if r.status().is_server_error() => format!("{}", r.status().as_u16()),
        Ok(r) => match r.json::<serde_json::Value>().await {
            Ok(body) => body["code"].as_str().unwrap_or("no code").to_owned(),
            Err(_) => "unreadable".into(),
        },
    }
}

/// A purchase as the card frame makes it: the intent, a token for that intent, the order.
async fn buy(http: &reqwest::Client, api: &str, vault: &str) -> Purchase {
    buy_variant(http, api, vault, "bench-ticket", "ga").await
}

async fn buy_variant(http: &reqwest::Client, api: &str, vault: &str, product: &str, variant: &str) -> Purchase {
    let started = Instant::now();
    let failed = |started: Instant, why: String| Purchase {
        total: started.elapsed(),
        order: started.elapsed(),
        id: None,
        refusal: Some(why),
    };
    let details = serde_json::json!({"product_id": product, "variant_id": variant, "quantity": 1,
                                     "email": "bench@example.com"});
    let intent = match http.post(format!("{api}/api/v1/intents")).json(&details).send().await {
        Ok(r) if r.status() == 201 => r.json::<serde_json::Value>().await.map_err(|_| "unreadable".to_owned()),
        other => Err(refusal(other).await),
    };
    let intent = match intent {
        Ok(intent) => intent,
        Err(why) => return failed(started, why),
    };
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
        Ok(r) if r.status() == 201 => r
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["token"].as_str().map(str::to_owned))
            .ok_or_else(|| "unreadable".to_owned()),
        other => Err(refusal(other).await),
    };
    let token = match token {
        Ok(token) => token,
        Err(why) => return failed(started, why),
    };
    let body = serde_json::json!({"intent_id": intent["intent_id"], "client_secret": intent["client_secret"],
                                  "card_token": token});
    let ordered = Instant::now();
    let reply = http
        .post(format!("{api}/api/v1/orders"))
        .header("Idempotency-Key", tweetbuy_server::ids::random_id("o"))
        .json(&body)
        .send()
        .await;
    let (id, refused) = match reply {
        Ok(r) if r.status() == 201 => {
            let id = r.json::<serde_json::Value>().await.ok().and_then(|v| v["order_id"].as_str().map(str::to_owned));
            let refused = id.is_none().then(|| "unreadable".to_owned());
            (id, refused)
        }
        other => (None, Some(refusal(other).await)),
    };
    Purchase { total: started.elapsed(), order: ordered.elapsed(), id, refusal: refused }
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

/// Linux reports process CPU times in ticks of `USER_HZ`, which is 100 on every architecture
/// it runs on (a fixed part of its user-space ABI, whatever the kernel's own tick rate).
const TICKS_PER_SECOND: f64 = 100.0;

/// The fields of `/proc/<pid>/stat` after the command name: the parent's pid, and the user
/// and system ticks of the process (its threads included) and of its reaped children.
struct Stat {
    ppid: u32,
    own: u64,
    reaped_children: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields are counted after it.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(Stat {
        ppid: u32::try_from(field(4)?).ok()?,
        own: field(14)? + field(15)?,
        reaped_children: field(16)? + field(17)?,
    })
}

/// The PostgreSQL server listening on `port` (its postmaster was started with `-p port`,
/// as `scripts/postgres.sh` does), found by its command line.
fn postmaster_on(port: &str) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_postgres = args.first().is_some_and(|a| a.ends_with(b"postgres"));
        let on_port = args.windows(2).any(|w| w[0] == b"-p" && w[1] == port.as_bytes());
        (is_postgres && on_port).then_some(pid)
    })
}

/// CPU ticks used so far by PostgreSQL: the postmaster, its live backends and workers, and
/// those it has reaped.
fn postgres_ticks(postmaster: u32) -> u64 {
    let Some(main) = stat(postmaster) else { return 0 };
    let children: u64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat)
        .filter(|s| s.ppid == postmaster)
        .map(|s| s.own)
        .sum();
    main.own + main.reaped_children + children
}

/// The CPU the server processes (and PostgreSQL, when it is the database) have used.
struct CpuProbe {
    servers: Vec<u32>,
    postmaster: Option<u32>,
}

/// CPU ticks at one moment: the server processes', PostgreSQL's, this benchmark's own.
#[derive(Clone, Copy)]
struct CpuReading {
    server: u64,
    postgres: u64,
    bench: u64,
}

impl CpuProbe {
    fn read(&self) -> CpuReading {
        CpuReading {
            server: self.servers.iter().filter_map(|pid| stat(*pid)).map(|s| s.own).sum(),
            postgres: self.postmaster.map_or(0, postgres_ticks),
            bench: stat(std::process::id()).map_or(0, |s| s.own),
        }
    }

    /// One line: CPU ms per `unit` (a purchase, a buyer) since `before`, and the cores in use.
    fn report(&self, label: &str, unit: &str, before: CpuReading, count: usize, elapsed: Duration) {
        let after = self.read();
        let per = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e3 / count.max(1) as f64;
        let cores = |ticks: u64| ticks as f64 / TICKS_PER_SECOND / elapsed.as_secs_f64();
        let server = after.server - before.server;
        let mut line = format!("{label}: CPU per {unit}: server {:.2} ms ({:.2} cores)", per(server), cores(server));
        if self.postmaster.is_some() {
            let pg = after.postgres.saturating_sub(before.postgres);
            line += &format!(", PostgreSQL {:.2} ms ({:.2} cores)", per(pg), cores(pg));
        }
        let bench = after.bench - before.bench;
        line += &format!(", this benchmark {:.2} ms ({:.2} cores)", per(bench), cores(bench));
        println!("{line}");
    }
}

/// The machine this run measures: its cores, its load average at the start, and how fast one
/// core writes and reads back JSON (100,000 small objects, allocating as the server does; the
/// best of three). On a machine shared with others the purchases' CPU time moved by half
/// within a morning: runs are only comparable alongside this figure.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let items: Vec<serde_json::Value> = (0..100_000)
        .map(|i| serde_json::json!({"id": format!("ord_{i:08}"), "quantity": i % 7, "total": {"minor": i * 3, "currency": "USD"}}))
        .collect();
    let mut best = f64::MAX;
    let mut bytes = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let text = serde_json::to_string(&items).unwrap();
        let back: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        best = best.min(started.elapsed().as_secs_f64());
        assert_eq!(back.len(), items.len());
        bytes = text.len();
    }
    let speed = bytes as f64 / f64::from(1 << 20) / best;
    format!(
        "machine: {cores} cores, load average {} at the start; one core writes and reads JSON at {speed:.0} MiB/s",
        load.join(" ")
    )
}

/// A mail server on a loopback port that accepts every message and keeps only a count of them.
/// It speaks what the server's SMTP client sends: a greeting, `EHLO`, `MAIL`, `RCPT`,
/// `DATA` up to the lone `.`, and `RSET`, `NOOP`, `QUIT` around a pooled connection's messages.
async fn mail_sink() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read);
                let mut line = String::new();
                let _ = write.write_all(b"220 bench ESMTP\r\n").await;
                let mut in_data = false;
                while matches!(lines.read_line(&mut line).await, Ok(n) if n > 0) {
                    let reply: &[u8] = if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            count.fetch_add(1, SeqCst);
                            b"250 queued\r\n"
                        } else {
                            b""
                        }
                    } else {
                        match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                            Some("EHLO") => b"250-bench\r\n250 8BITMIME\r\n",
                            Some("DATA") => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            Some("QUIT") => b"221 bye\r\n",
                            _ => b"250 ok\r\n",
                        }
                    };
                    line.clear();
                    if !reply.is_empty() && write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, received)
}

/// The api database's receipt outbox: receipts sent, and still queued.
async fn receipts(pool: &db::Db) -> (i64, i64) {
    sqlx::query_as(
        "SELECT CAST(COUNT(sent_at) AS BIGINT), CAST(COUNT(*) - COUNT(sent_at) AS BIGINT) FROM receipt_outbox",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// One line: the receipts sent and queued when a phase ended.
async fn report_receipts(label: &str, pool: &db::Db) {
    let (sent, queued) = receipts(pool).await;
    println!("{label}: receipts when it ended: {sent} sent, {queued} queued");
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
        ("TWEETBUY_MASTER_KEY", MASTER_KEY.into()),
        ("TWEETBUY_VAULT_API_KEY", VAULT_API_KEY.into()),
    ];
    if let Some(url) = &database_url {
        env.push(("DATABASE_URL", url.clone()));
    }
    let (mail_port, mails) = mail_sink().await;
    env.push(("SMTP_URL", format!("smtp://127.0.0.1:{mail_port}")));

    // Idle connections are dropped before the server's own 10 s idle limit: a request sent on
    // a connection the server is closing at that moment fails with no answer, which would
    // count as a lost buyer (a browser sends it again on a new connection).
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (child, api, vault) = start_server(&server, &env, dir.path(), &http).await;
    // The catalog goes in as a seller's does, once the server has made its database: the
    // tools refuse a shop that is not there.
    let file = dir.path().join("bench.toml");
    std::fs::write(&file, format!("{CATALOG}\n{FLASH_PRODUCT}")).unwrap();
    let imported =
        Command::new(&server).args(["catalog", "import"]).arg(&file).envs(env.iter().cloned()).output().unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let postmaster = database_url.as_deref().map(|url| {
        let port = url.rsplit(':').next().and_then(|rest| rest.split('/').next()).unwrap_or_default();
        postmaster_on(port).expect("the PostgreSQL server of --database-url, started with -p PORT, on this machine")
    });
    let mut cpu = CpuProbe { servers: vec![child.id()], postmaster };
    let location = match &database_url {
        Some(url) => Location::Postgres { url: url.clone(), schema: format!("{prefix}_api") },
        None => Location::Sqlite(dir.path().join("api.db")),
    };
    let pool = db::open_api(&location).await.unwrap();
    println!("{}", machine());
    println!("== {engine}: closed loop, {concurrency} concurrent buyers, {closed_n} purchases (intent, token, order)");

    let mut acked_ids: Vec<String> = Vec::new();
    // Warm-up, untimed.
    for _ in 0..200 {
        acked_ids.extend(buy(&http, &api, &vault).await.id);
    }

    // Closed loop: `concurrency` buyers, each starting the next purchase when the last returns.
    let left = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(closed_n));
    let cpu_before = cpu.read();
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
    cpu.report(&format!("{engine} max throughput"), "purchase", cpu_before, closed_n, elapsed);
    report_receipts(&format!("{engine} max throughput"), &pool).await;
    acked_ids.extend(results.into_iter().filter_map(|p| p.id));

    // Open loop at a fixed rate: latency under a steady load.
    let n = (rate * open_secs) as usize;
    println!("== {engine}: open loop at {rate} purchases/s for {open_secs} s");
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let cpu_before = cpu.read();
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
    cpu.report(&format!("{engine} at {rate}/s"), "purchase", cpu_before, n, elapsed);
    report_receipts(&format!("{engine} at {rate}/s"), &pool).await;
    acked_ids.extend(results.into_iter().filter_map(|p| p.id));

    // Flash sale: FLASH_BUYERS buyers arrive evenly within FLASH_SECS for FLASH_UNITS units;
    // on PostgreSQL every other buyer goes to a second replica.
    let mut second = None;
    let mut replicas = vec![(api.clone(), vault.clone())];
    if database_url.is_some() {
        let replica_dir = dir.path().join("replica-b");
        std::fs::create_dir_all(&replica_dir).unwrap();
        let (child_b, api_b, vault_b) = start_server(&server, &env, &replica_dir, &http).await;
        cpu.servers.push(child_b.id());
        second = Some(child_b);
        replicas.push((api_b, vault_b));
    }
    println!(
        "== {engine}: flash sale, {FLASH_BUYERS} buyers arriving within {FLASH_SECS} s for {FLASH_UNITS} units{}",
        if replicas.len() > 1 { ", alternating between two replicas" } else { "" }
    );
    let interval = Duration::from_secs_f64(FLASH_SECS as f64 / FLASH_BUYERS as f64);
    let cpu_before = cpu.read();
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..FLASH_BUYERS {
        tokio::time::sleep_until((started + interval * i as u32).into()).await;
        let http = http.clone();
        let (api, vault) = replicas[i % replicas.len()].clone();
        set.spawn(async move { buy_variant(&http, &api, &vault, "bench-flash", "drop").await });
    }
    let mut flash = Vec::new();
    while let Some(r) = set.join_next().await {
        flash.push(r.unwrap());
    }
    let elapsed = started.elapsed();
    cpu.report(&format!("{engine} flash sale"), "buyer", cpu_before, FLASH_BUYERS, elapsed);
    let paid: Vec<&Purchase> = flash.iter().filter(|p| p.id.is_some()).collect();
    let sold_out: Vec<&Purchase> = flash.iter().filter(|p| p.refusal.as_deref() == Some("sold_out")).collect();
    let mut other: std::collections::BTreeMap<&str, usize> = Default::default();
    for p in &flash {
        match p.refusal.as_deref() {
            None | Some("sold_out") => {}
            Some(why) => *other.entry(why).or_default() += 1,
        }
    }
    println!(
        "{engine} flash sale: {} buyers in {:.2} s: {} paid, {} sold_out, other outcomes {:?}",
        flash.len(),
        elapsed.as_secs_f64(),
        paid.len(),
        sold_out.len(),
        other
    );
    if !paid.is_empty() {
        percentiles(&format!("{engine} flash sale, paid purchases"), paid.iter().map(|p| p.total).collect());
        percentiles(&format!("{engine} flash sale, paid, order step alone"), paid.iter().map(|p| p.order).collect());
    }
    if !sold_out.is_empty() {
        percentiles(&format!("{engine} flash sale, sold_out answers"), sold_out.iter().map(|p| p.total).collect());
    }
    let flash_acked = paid.len();
    acked_ids.extend(flash.iter().filter_map(|p| p.id.clone()));
    let flash_clean = paid.len() == FLASH_UNITS && sold_out.len() == FLASH_BUYERS - FLASH_UNITS && other.is_empty();
    report_receipts(&format!("{engine} flash sale"), &pool).await;

    // The receipts still queued, sent by the servers' workers with nothing else running.
    let (sent_before, queued) = receipts(&pool).await;
    if queued == 0 {
        println!("== {engine}: no receipt queued: all {sent_before} were sent during the phases");
    }
    let cpu_before = cpu.read();
    let started = Instant::now();
    let mut left = queued;
    while left > 0 && started.elapsed() < RECEIPTS_WAIT {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Through the outbox's index of pending rows, not a count of all of them.
        (left,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM receipt_outbox WHERE sent_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    }
    let elapsed = started.elapsed();
    let drained = usize::try_from(receipts(&pool).await.0 - sent_before).unwrap_or(0);
    if queued > 0 {
        println!(
            "== {engine}: the {queued} queued receipts: {drained} sent in {:.2} s ({:.0}/s), {left} still queued",
            elapsed.as_secs_f64(),
            drained as f64 / elapsed.as_secs_f64().max(1e-3),
        );
        cpu.report(&format!("{engine} queued receipts"), "receipt", cpu_before, drained, elapsed);
    }

    for mut process in [Some(child), second].into_iter().flatten() {
        let _ = Command::new("kill").arg("-TERM").arg(process.id().to_string()).status();
        let _ = process.wait();
    }

    // Every acknowledged order must be in the database, paid.
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
    println!("== {engine}: the mail server received {} receipts", mails.load(SeqCst));

    // The flash sale as the databases saw it: its paid orders, its stock, its charges.
    let flash_orders: Vec<(String, String)> =
        sqlx::query_as("SELECT id, status FROM orders WHERE product_id = 'bench-flash'")
            .fetch_all(&pool)
            .await
            .unwrap();
    let flash_paid = flash_orders.iter().filter(|(_, status)| status == "paid").count();
    let (stock,): (Option<i64>,) =
        sqlx::query_as("SELECT stock FROM variants WHERE product_id = 'bench-flash'").fetch_one(&pool).await.unwrap();
    let vault_location = match &database_url {
        Some(url) => Location::Postgres { url: url.clone(), schema: format!("{prefix}_vault") },
        None => Location::Sqlite(dir.path().join("vault.db")),
    };
    let vault_pool = db::open_vault(&vault_location).await.unwrap();
    let (mut charges, mut approved) = (0i64, 0i64);
    for chunk in flash_orders.chunks(500) {
        let sql = format!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), 0) FROM charges \
             WHERE reference IN ({})",
            db::placeholders(0, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
        for (id, _) in chunk {
            q = q.bind(id);
        }
        let (n, ok) = q.fetch_one(&vault_pool).await.unwrap();
        charges += n;
        approved += ok;
    }
    println!(
        "== {engine} flash sale in the databases: {} orders, {flash_paid} paid, stock left {stock:?}; {charges} charges \
         at the vault ({approved} approved)",
        flash_orders.len()
    );
    let flash_ok = flash_clean
        && flash_acked == FLASH_UNITS
        && flash_paid == FLASH_UNITS
        && stock == Some(0)
        && charges == FLASH_UNITS as i64
        && approved == FLASH_UNITS as i64;
    if !flash_ok {
        println!("== {engine} flash sale: NOT as required (exactly {FLASH_UNITS} paid and charged, the rest sold_out)");
    }
    let receipts_ok = left == 0 && mails.load(SeqCst) >= acked_ids.len();
    if !receipts_ok {
        println!(
            "== {engine}: receipts NOT as required (every paid order's sent within {} s of the flash sale)",
            RECEIPTS_WAIT.as_secs()
        );
    }
    if lost > 0 || !flash_ok || !receipts_ok {
        std::process::exit(1);
    }
}

/// Starts `tweetbuy-server serve` on free loopback ports and waits until its api answers.
async fn start_server(
    server: &std::path::Path,
    env: &[(&str, String)],
    data_dir: &std::path::Path,
    http: &reqwest::Client,
) -> (std::process::Child, String, String) {
    let (api_port, vault_port) = (free_port(), free_port());
    let mut command = Command::new(server);
    // A server outliving a bench killed half-way (a signal, or `| head` closing its output)
    // would go on taking CPU beside the next run's: it is told to stop when the bench's main
    // thread, which starts every server, ends.
    // SAFETY: runs in the child between fork and exec, calling only `prctl`, which is
    // async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            match libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            }
        });
    }
    let child = command
        .arg("serve")
        .envs(env.iter().cloned())
        .env("TWEETBUY_DATA_DIR", data_dir)
        .env("TWEETBUY_PUBLISHER_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_API_ADDR", format!("127.0.0.1:{api_port}"))
        .env("TWEETBUY_VAULT_ADDR", format!("127.0.0.1:{vault_port}"))
        .env("TWEETBUY_VAULT_INTERNAL_ADDR", format!("127.0.0.1:{}", free_port()))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{api_port}");
    let vault = format!("http://127.0.0.1:{vault_port}");
    for _ in 0..100 {
        if http.get(format!("{api}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, api, vault)
}
