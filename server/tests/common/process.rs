//! Real `tweetbuy-server` processes for the tests that need more than one process, a kill
//! or a signal: free loopback ports, start, wait until healthy, stop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A fixed master key, so several processes can open each other's cards.
pub const MASTER_KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// At least 32 bytes: the server refuses shorter bearer keys at start.
pub const VAULT_API_KEY: &str = "process-test-vault-key-0123456789";

/// The release binary when `TWEETBUY_SERVER_BIN` names one (`make test-pg`), else the
/// binary Cargo built for these tests.
pub fn server_bin() -> PathBuf {
    std::env::var("TWEETBUY_SERVER_BIN")
        .ok()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tweetbuy-server")))
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct ServerProcess {
    pub child: Child,
    pub api: String,
    pub vault: String,
    /// The vault's internal listener (charges), apart from its public origin.
    pub vault_internal: String,
    pub log: PathBuf,
}

/// How to start one process.
pub struct Launch<'a> {
    pub data_dir: &'a Path,
    pub database_url: Option<&'a str>,
    pub schema_prefix: &'a str,
    pub env: Vec<(&'a str, String)>,
    pub log_name: &'a str,
}

impl ServerProcess {
    /// Starts a server on free ports and waits until it answers. A port taken between
    /// [`free_port`] and the server's bind (another test's process got it first) is tried
    /// again with new ports.
    pub fn start(launch: Launch<'_>) -> ServerProcess {
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            let mut process = Self::spawn(&launch);
            match process.wait_healthy() {
                Ok(()) => return process,
                Err(log) if attempt < ATTEMPTS && log.contains("Address already in use") => continue,
                Err(log) => panic!("server did not start; log:\n{log}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn spawn(launch: &Launch<'_>) -> ServerProcess {
        let (publisher, api, vault, internal) = (free_port(), free_port(), free_port(), free_port());
        let log = launch.data_dir.join(format!("{}.log", launch.log_name));
        let out = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(server_bin());
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("TWEETBUY_PUBLISHER_ADDR", format!("127.0.0.1:{publisher}"))
            .env("TWEETBUY_API_ADDR", format!("127.0.0.1:{api}"))
            .env("TWEETBUY_VAULT_ADDR", format!("127.0.0.1:{vault}"))
            .env("TWEETBUY_VAULT_INTERNAL_ADDR", format!("127.0.0.1:{internal}"))
            .env("TWEETBUY_DATA_DIR", launch.data_dir)
            .env("TWEETBUY_MASTER_KEY", MASTER_KEY)
            .env("TWEETBUY_VAULT_API_KEY", VAULT_API_KEY)
            .env("TWEETBUY_DB_SCHEMA_PREFIX", launch.schema_prefix)
            .env("TWEETBUY_RATE_LIMIT_PER_SECOND", "0")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        if let Some(url) = launch.database_url {
            command.env("DATABASE_URL", url);
        }
        for (key, value) in &launch.env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start tweetbuy-server");
        ServerProcess {
            child,
            api: format!("http://127.0.0.1:{api}"),
            vault: format!("http://127.0.0.1:{vault}"),
            vault_internal: format!("http://127.0.0.1:{internal}"),
            log,
        }
    }

    /// Waits until this process answers on its ports; its log when it exited instead (so a
    /// port another process answers on is never taken for this one's).
    fn wait_healthy(&mut self) -> Result<(), String> {
        for _ in 0..300 {
            if self.child.try_wait().ok().flatten().is_some() {
                return Err(self.log_text());
            }
            let up = [&self.api, &self.vault].iter().all(|base| {
                let addr = base.trim_start_matches("http://");
                std::net::TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_millis(100)).is_ok()
            });
            if up {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(self.log_text())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, the way an orchestrator stops a replica.
    pub fn terminate(&self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit after [`terminate`].
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server did not exit; log:\n{}", self.log_text());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Prices an intent at the api, as the card frame does before Pay; a refusal comes back as
/// its status and body.
pub async fn try_intent(
    http: &reqwest::Client,
    api: &str,
    details: &serde_json::Value,
) -> Result<serde_json::Value, (u16, String)> {
    let reply = http.post(format!("{api}/api/v1/intents")).json(details).send().await.unwrap();
    let status = reply.status().as_u16();
    if status != 201 {
        return Err((status, reply.text().await.unwrap_or_default()));
    }
    Ok(reply.json().await.unwrap())
}

/// Prices an intent; panics unless 201.
pub async fn intent(http: &reqwest::Client, api: &str, details: &serde_json::Value) -> serde_json::Value {
    try_intent(http, api, details).await.unwrap_or_else(|(status, body)| panic!("intent: {status} {body}"))
}

/// Tokenizes a card at a vault for `intent_id`, as the card frame does on Pay.
pub async fn tokenize(http: &reqwest::Client, vault: &str, number: &str, intent_id: &str) -> String {
    match try_tokenize(http, vault, number, intent_id).await {
        Ok(token) => token,
        Err((status, body)) => panic!("tokenize: {status} {body}"),
    }
}

/// Tokenizes a card for `intent_id`; a refusal comes back as its status and body.
pub async fn try_tokenize(
    http: &reqwest::Client,
    vault: &str,
    number: &str,
    intent_id: &str,
) -> Result<String, (u16, String)> {
    let (year, month) = tweetbuy_server::clock::year_month(tweetbuy_server::clock::now());
    let body = serde_json::json!({"number": number, "expiry": format!("{month:02}/{:02}", (year + 2) % 100),
                                  "cvc": "123", "intent_id": intent_id});
    let reply = http
        .post(format!("{vault}/v1/tokens"))
        .header("Origin", vault)
        .header("Idempotency-Key", tweetbuy_server::ids::random_id("tk_"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    if status != 201 {
        return Err((status, reply.text().await.unwrap_or_default()));
    }
    let body: serde_json::Value = reply.json().await.unwrap();
    Ok(body["token"].as_str().unwrap().to_owned())
}

/// The `PayRequest` body that pays `intent` with `token`.
pub fn pay_body(intent: &serde_json::Value, token: &str) -> serde_json::Value {
    serde_json::json!({"intent_id": intent["intent_id"], "client_secret": intent["client_secret"], "card_token": token})
}

/// What the frame does before an order: an intent for `details` at the api, a token for it at
/// the vault; returns the order's body.
pub async fn checkout(
    http: &reqwest::Client,
    api: &str,
    vault: &str,
    details: &serde_json::Value,
    number: &str,
) -> serde_json::Value {
    let intent = intent(http, api, details).await;
    let token = tokenize(http, vault, number, intent["intent_id"].as_str().unwrap()).await;
    pay_body(&intent, &token)
}

/// Posts an order (a `PayRequest`); returns the status and the JSON body.
pub async fn order(http: &reqwest::Client, api: &str, body: &serde_json::Value, key: &str) -> (u16, serde_json::Value) {
    let reply =
        http.post(format!("{api}/api/v1/orders")).header("Idempotency-Key", key).json(body).send().await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(serde_json::Value::Null))
}
