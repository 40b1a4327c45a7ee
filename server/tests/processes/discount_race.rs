//! Fifty buyers on two server processes sharing one PostgreSQL race for a code with ten
//! uses: exactly ten discounted orders are paid and charged; the forty others are refused
//! before any charge, with the code's stable refusal.

use crate::harness::pg_url;
use crate::process::{checkout, order, server_bin, Launch, ServerProcess};
use serde_json::json;
use tweetbuy_server::db::{self, Location};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_buyers_on_two_replicas_get_exactly_the_ten_uses_of_a_code() {
    let Some(url) = pg_url() else {
        eprintln!("skipped: needs TWEETBUY_TEST_PG_URL (make test-pg sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = tweetbuy_server::ids::random_id("d");
    let mut replicas = Vec::new();
    for name in ["a", "b"] {
        let data_dir = dir.path().join(name);
        std::fs::create_dir_all(&data_dir).unwrap();
        replicas.push(ServerProcess::start(Launch {
            data_dir: &data_dir,
            database_url: Some(&url),
            schema_prefix: &prefix,
            env: vec![],
            log_name: name,
        }));
    }
    // The seller's command line, on the shared database.
    let created = std::process::Command::new(server_bin())
        .args([
            "discounts",
            "create",
            "--code",
            "race10",
            "--percent",
            "10",
            "--product",
            "red-tee",
            "--max-uses",
            "10",
        ])
        .env("DATABASE_URL", &url)
        .env("TWEETBUY_DB_SCHEMA_PREFIX", &prefix)
        .env("TWEETBUY_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("RACE10"));

    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let apis: Vec<String> = replicas.iter().map(|r| r.api.clone()).collect();
    let vaults: Vec<String> = replicas.iter().map(|r| r.vault.clone()).collect();
    let buyer = json!({"product_id": "red-tee", "variant_id": "m", "quantity": 1, "email": "buyer@example.com",
        "discount_code": "RACE10", "shipping": {"name": "Jane Doe", "line1": "1 Main St", "city": "New York",
        "region": "NY", "postal_code": "10001", "country": "US"}});
    let mut bodies = Vec::new();
    for i in 0..50 {
        bodies.push(checkout(&http, &apis[i % 2], &vaults[i % 2], &buyer, "4242424242424242").await);
    }
    let mut buyers = tokio::task::JoinSet::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let (http, api) = (http.clone(), apis[i % 2].clone());
        buyers.spawn(async move { order(&http, &api, &body, &tweetbuy_server::ids::random_id("k")).await });
    }
    let (mut paid, mut used_up) = (0, 0);
    while let Some(result) = buyers.join_next().await {
        let (status, body) = result.unwrap();
        match status {
            201 => {
                assert_eq!(body["quote"]["discount"]["code"], "RACE10", "{body}");
                paid += 1;
            }
            422 if body["fields"][0]["code"] == "discount_used_up" => used_up += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((paid, used_up), (10, 40));

    let api_db = db::open_api(Location::Postgres { url: url.clone(), schema: format!("{prefix}_api") }).await.unwrap();
    let vault_db = db::open_vault(Location::Postgres { url, schema: format!("{prefix}_vault") }).await.unwrap();
    let (used,): (i64,) =
        sqlx::query_as("SELECT used FROM discount_codes WHERE code = 'RACE10'").fetch_one(&api_db).await.unwrap();
    assert_eq!(used, 10);
    let (orders,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders").fetch_one(&api_db).await.unwrap();
    assert_eq!(orders, 10, "the refused left no order");
    let (charges,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges").fetch_one(&vault_db).await.unwrap();
    assert_eq!(charges, 10, "one charge per discounted order, none for the refused");
}
