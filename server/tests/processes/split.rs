//! The vault in a process of its own: `--origins vault` and `--origins api,publisher`, each
//! with its own database (on PostgreSQL, its own role, and neither can read the other's
//! tables); the server-to-server routes only on the vault's internal listener.

use crate::harness::pg_url;
use crate::process::{checkout, free_port, order, server_bin, Launch, ServerProcess, MASTER_KEY, VAULT_API_KEY};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One `serve` process for some of the origins.
struct Part {
    child: Child,
    log: PathBuf,
}

impl Part {
    fn start(data_dir: &Path, name: &str, origins: &str, env: &[(&str, String)], wait_for: &[u16]) -> Part {
        let log = data_dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(server_bin());
        command
            .args(["serve", "--origins", origins])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("TWEETBUY_DATA_DIR", data_dir)
            .env("TWEETBUY_RATE_LIMIT_PER_SECOND", "0")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        for (key, value) in env {
            command.env(key, value);
        }
        let mut part = Part { child: command.spawn().unwrap(), log };
        for _ in 0..300 {
            if let Some(status) = part.child.try_wait().unwrap() {
                panic!("{name} exited ({status}):\n{}", part.log_text());
            }
            let up = wait_for.iter().all(|port| {
                let addr = format!("127.0.0.1:{port}").parse().unwrap();
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
            });
            if up {
                return part;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{name} did not start:\n{}", part.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Split {
    vault: Part,
    rest: Part,
    api: String,
    vault_public: String,
    vault_internal: String,
}

/// The vault alone, and the api with the publisher in another process pointed at the vault's
/// internal listener. `databases` are the vault's and the api's `DATABASE_URL`s (SQLite files
/// in each one's own data directory without them).
fn start_split(vault_dir: &Path, api_dir: &Path, databases: Option<(String, String)>, prefix: &str) -> Split {
    let (publisher, api, vault, internal) = (free_port(), free_port(), free_port(), free_port());
    let vault_origin = format!("http://127.0.0.1:{vault}");
    let common = |extra: Vec<(&'static str, String)>| {
        let mut env = vec![
            ("TWEETBUY_PUBLISHER_ADDR", format!("127.0.0.1:{publisher}")),
            ("TWEETBUY_API_ADDR", format!("127.0.0.1:{api}")),
            ("TWEETBUY_VAULT_ADDR", format!("127.0.0.1:{vault}")),
            ("TWEETBUY_VAULT_API_KEY", VAULT_API_KEY.to_owned()),
            ("TWEETBUY_DB_SCHEMA_PREFIX", prefix.to_owned()),
        ];
        env.extend(extra);
        env
    };
    let (vault_db, api_db) = databases.unzip();
    let mut vault_env = common(vec![
        ("TWEETBUY_MASTER_KEY", MASTER_KEY.to_owned()),
        ("TWEETBUY_VAULT_INTERNAL_ADDR", format!("127.0.0.1:{internal}")),
    ]);
    vault_env.extend(vault_db.map(|url| ("DATABASE_URL", url)));
    // No master key in the api's process: it never needs one.
    let mut api_env = common(vec![("TWEETBUY_VAULT_INTERNAL_URL", format!("http://127.0.0.1:{internal}"))]);
    api_env.extend(api_db.map(|url| ("DATABASE_URL", url)));
    let vault_part = Part::start(vault_dir, "vault", "vault", &vault_env, &[vault, internal]);
    let rest = Part::start(api_dir, "api", "api,publisher", &api_env, &[api, publisher]);
    Split {
        vault: vault_part,
        rest,
        api: format!("http://127.0.0.1:{api}"),
        vault_public: vault_origin,
        vault_internal: format!("http://127.0.0.1:{internal}"),
    }
}

async fn buy(http: &reqwest::Client, split: &Split, key: &str) -> serde_json::Value {
    let details = json!({"product_id": "demi-fall-tour-ticket", "variant_id": "ga", "quantity": 1,
                         "email": "fan@example.com"});
    let body = checkout(http, &split.api, &split.vault_public, &details, "4242424242424242").await;
    let (status, receipt) = order(http, &split.api, &body, key).await;
    assert_eq!(status, 201, "{receipt}\nvault:\n{}\napi:\n{}", split.vault.log_text(), split.rest.log_text());
    receipt
}

/// The server-to-server routes: 404 on the public origin, the bearer check on the internal one.
async fn assert_routes_split(http: &reqwest::Client, public: &str, internal: &str) {
    let calls = [("POST", "/v1/charges"), ("GET", "/v1/charges/ord_x")];
    for (method, path) in calls {
        let send = |base: &str| {
            let url = format!("{base}{path}");
            let request = if method == "POST" { http.post(url).json(&json!({})) } else { http.get(url) };
            request.bearer_auth(VAULT_API_KEY).send()
        };
        assert_eq!(send(public).await.unwrap().status(), 404, "{method} {path} on the public vault origin");
        let url = format!("{internal}{path}");
        let unauthenticated = if method == "POST" { http.post(url).json(&json!({})) } else { http.get(url) };
        // 401, not the fallback's 404: the route is there, behind the api's key.
        assert_eq!(unauthenticated.send().await.unwrap().status(), 401, "{method} {path} without the key");
    }
    // The api no longer asks the vault for saved details: that route is gone from both.
    for base in [public, internal] {
        let reply = http.post(format!("{base}/v1/saved/details")).bearer_auth(VAULT_API_KEY).json(&json!({}));
        assert_eq!(reply.send().await.unwrap().status(), 404, "{base}/v1/saved/details");
    }
    // The frame's routes stay public and are not on the internal listener.
    assert_eq!(http.get(format!("{public}/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(http.post(format!("{internal}/v1/tokens")).json(&json!({})).send().await.unwrap().status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_serves_charges_only_on_the_vault_internal_listener() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(Launch {
        data_dir: dir.path(),
        database_url: pg_url().as_deref(),
        schema_prefix: &tweetbuy_server::ids::random_id("t").to_lowercase(),
        env: vec![],
        log_name: "server",
    });
    assert_routes_split(&reqwest::Client::new(), &server.vault, &server.vault_internal).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_runs_alone_and_the_api_charges_through_its_internal_listener() {
    if pg_url().is_some() {
        // The PostgreSQL run is the test below, with a role per side.
        return;
    }
    let (vault_dir, api_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let split = start_split(vault_dir.path(), api_dir.path(), None, "tweetbuy");
    let http = reqwest::Client::new();
    let receipt = buy(&http, &split, "split-1").await;
    assert_eq!(receipt["status"], "paid");
    assert_routes_split(&http, &split.vault_public, &split.vault_internal).await;
    // Each process has only its own database, and the api's never saw the master key.
    assert!(vault_dir.path().join("vault.db").exists() && !vault_dir.path().join("api.db").exists());
    assert!(api_dir.path().join("api.db").exists() && !api_dir.path().join("vault.db").exists());
    assert!(!api_dir.path().join("vault-master.key").exists());
}

#[test]
fn sides_in_separate_processes_need_a_shared_vault_api_key() {
    let dir = tempfile::tempdir().unwrap();
    for origins in ["vault", "api,publisher"] {
        let out = Command::new(server_bin())
            .args(["serve", "--origins", origins])
            .env_clear()
            .env("TWEETBUY_DATA_DIR", dir.path())
            .env("TWEETBUY_MASTER_KEY", MASTER_KEY)
            .env("TWEETBUY_API_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("TWEETBUY_VAULT_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("TWEETBUY_PUBLISHER_ADDR", format!("127.0.0.1:{}", free_port()))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && text.contains("TWEETBUY_VAULT_API_KEY"), "{origins}: {text}");
    }
}

/// `postgres://user@host…` with another user (the test server trusts loopback logins).
fn as_role(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let rest = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{rest}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_each_side_has_its_own_role_and_cannot_read_the_other() {
    let Some(url) = pg_url() else {
        eprintln!("skipped: TWEETBUY_TEST_PG_URL is not set (make test-pg)");
        return;
    };
    let prefix = tweetbuy_server::ids::random_id("t").to_lowercase();
    let (api_role, vault_role) = (format!("{prefix}_api_role"), format!("{prefix}_vault_role"));
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    for role in [&api_role, &vault_role] {
        // What an operator does once: a login role per side that may create its own schema.
        sqlx::query(&format!("CREATE ROLE {role} LOGIN")).execute(&admin).await.unwrap();
        sqlx::query(&format!("GRANT CREATE ON DATABASE {} TO {role}", database_of(&url)))
            .execute(&admin)
            .await
            .unwrap();
    }
    let (api_url, vault_url) = (as_role(&url, &api_role), as_role(&url, &vault_role));
    let (vault_dir, api_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let split = start_split(vault_dir.path(), api_dir.path(), Some((vault_url.clone(), api_url.clone())), &prefix);
    let http = reqwest::Client::new();
    assert_eq!(buy(&http, &split, "split-pg-1").await["status"], "paid");
    assert_routes_split(&http, &split.vault_public, &split.vault_internal).await;

    let as_api = sqlx::PgPool::connect(&api_url).await.unwrap();
    let as_vault = sqlx::PgPool::connect(&vault_url).await.unwrap();
    let count = |pool: &sqlx::PgPool, table: String| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}")).fetch_one(&pool).await }
    };
    assert_eq!(count(&as_api, format!("{prefix}_api.orders")).await.unwrap(), 1, "the api reads its own tables");
    assert!(count(&as_vault, format!("{prefix}_vault.cards")).await.unwrap() >= 1, "the vault reads its own");
    for (pool, table) in [
        (&as_api, format!("{prefix}_vault.cards")),
        (&as_api, format!("{prefix}_vault.charges")),
        (&as_vault, format!("{prefix}_api.orders")),
    ] {
        let error = count(pool, table.clone()).await.expect_err(&table).to_string();
        assert!(error.contains("permission denied"), "{table}: {error}");
    }
    as_api.close().await;
    as_vault.close().await;
    drop(split);
    for role in [&api_role, &vault_role] {
        let _ = sqlx::query(&format!("DROP OWNED BY {role} CASCADE")).execute(&admin).await;
        let _ = sqlx::query(&format!("DROP ROLE {role}")).execute(&admin).await;
    }
}

/// The database name at the end of a `postgres://…/NAME` URL.
fn database_of(url: &str) -> String {
    let path = url.rsplit_once('/').map_or("postgres", |(_, db)| db);
    path.split('?').next().unwrap_or("postgres").to_owned()
}
