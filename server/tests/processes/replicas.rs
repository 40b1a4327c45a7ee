//! Two server processes on one PostgreSQL: no oversell, one charge per Idempotency-Key.

use crate::harness::pg_url;
use crate::process::{checkout, intent, order, pay_body, server_bin, tokenize, Launch, ServerProcess};
use serde_json::json;
use std::collections::HashSet;
use tweetbuy_server::db::{self, Location};

/// The shared catalog fixture; its `replica-drop` product has ten units.
const CATALOG: &str = include_str!("../fixtures/catalog.toml");

fn buyer(product: &str, variant: &str) -> serde_json::Value {
    json!({"product_id": product, "variant_id": variant, "quantity": 1, "email": "buyer@example.com"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_never_oversell_nor_charge_twice() {
    let Some(url) = pg_url() else {
        eprintln!("skipped: needs TWEETBUY_TEST_PG_URL (make test-pg sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = tweetbuy_server::ids::random_id("r");
    let dirs = [dir.path().join("a"), dir.path().join("b")];
    let mut replicas = Vec::new();
    for (i, data_dir) in dirs.iter().enumerate() {
        std::fs::create_dir_all(data_dir).unwrap();
        replicas.push(ServerProcess::start(Launch {
            data_dir,
            database_url: Some(&url),
            schema_prefix: &prefix,
            env: vec![],
            log_name: if i == 0 { "a" } else { "b" },
        }));
    }

    // The seller's catalog, imported with the command-line tool into the shared database.
    let file = dir.path().join("catalog.toml");
    std::fs::write(&file, CATALOG).unwrap();
    let imported = std::process::Command::new(server_bin())
        .args(["catalog", "import"])
        .arg(&file)
        .env("DATABASE_URL", &url)
        .env("TWEETBUY_DB_SCHEMA_PREFIX", &prefix)
        .env("TWEETBUY_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));

    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let apis: Vec<String> = replicas.iter().map(|r| r.api.clone()).collect();
    let vaults: Vec<String> = replicas.iter().map(|r| r.vault.clone()).collect();

    // 200 buyers, each with their own intent and card token, half on each replica, all at once.
    let mut bodies = Vec::new();
    for i in 0..200 {
        bodies.push(
            checkout(&http, &apis[i % 2], &vaults[i % 2], &buyer("replica-drop", "only"), "4242424242424242").await,
        );
    }
    let mut buyers = tokio::task::JoinSet::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let (http, api) = (http.clone(), apis[i % 2].clone());
        buyers.spawn(async move { order(&http, &api, &body, &tweetbuy_server::ids::random_id("k")).await });
    }
    let mut paid = HashSet::new();
    let mut sold_out = 0;
    while let Some(result) = buyers.join_next().await {
        let (status, body) = result.unwrap();
        match status {
            201 => assert!(paid.insert(body["order_id"].as_str().unwrap().to_owned())),
            409 if body["code"] == "sold_out" => sold_out += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((paid.len(), sold_out), (10, 190), "exactly the ten units are sold");

    let api_db = db::open_api(Location::Postgres { url: url.clone(), schema: format!("{prefix}_api") }).await.unwrap();
    let vault_db = db::open_vault(Location::Postgres { url, schema: format!("{prefix}_vault") }).await.unwrap();
    let (stock,): (Option<i64>,) = sqlx::query_as("SELECT stock FROM variants WHERE product_id = 'replica-drop'")
        .fetch_one(&api_db)
        .await
        .unwrap();
    assert_eq!(stock, Some(0), "nothing oversold, nothing left");
    let (paid_rows,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM orders WHERE product_id = 'replica-drop' AND status = 'paid'")
            .fetch_one(&api_db)
            .await
            .unwrap();
    assert_eq!(paid_rows, 10);
    let (charges,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM charges WHERE status = 'approved'").fetch_one(&vault_db).await.unwrap();
    assert_eq!(charges, 10, "one approved charge per paid order");

    // One buyer's retry storm: the same key and body 50 times at once, across both replicas.
    let tee = json!({"shipping": {"name": "Jane Doe", "line1": "1 Main St", "city": "New York", "region": "NY",
        "postal_code": "10001", "country": "US"}, "product_id": "red-tee", "variant_id": "m",
        "quantity": 1, "email": "jane@example.com"});
    let body = checkout(&http, &apis[1], &vaults[0], &tee, "5555555555554444").await;
    let key = tweetbuy_server::ids::random_id("storm_");
    let mut storm = tokio::task::JoinSet::new();
    for i in 0..50 {
        let (http, api, body, key) = (http.clone(), apis[i % 2].clone(), body.clone(), key.clone());
        storm.spawn(async move { order(&http, &api, &body, &key).await });
    }
    let mut order_ids = HashSet::new();
    while let Some(result) = storm.join_next().await {
        let (status, reply) = result.unwrap();
        match status {
            201 => {
                order_ids.insert(reply["order_id"].as_str().unwrap().to_owned());
            }
            409 => assert_eq!(reply["code"], "idempotency_in_progress", "{reply}"),
            other => panic!("unexpected {other}: {reply}"),
        }
    }
    // Once the first finished, a retry on either replica replays it.
    for api in &apis {
        let (status, reply) = order(&http, api, &body, &key).await;
        assert_eq!(status, 201, "{reply}");
        order_ids.insert(reply["order_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(order_ids.len(), 1, "one order for one key: {order_ids:?}");
    let order_id = order_ids.into_iter().next().unwrap();
    let (orders,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM orders WHERE product_id = 'red-tee'").fetch_one(&api_db).await.unwrap();
    assert_eq!(orders, 1, "one order row");
    let (charges,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges WHERE reference = $1")
        .bind(&order_id)
        .fetch_one(&vault_db)
        .await
        .unwrap();
    assert_eq!(charges, 1, "one charge");

    // One intent, ten cards (tokens from both vaults), paid at once under ten keys across
    // both replicas: one order pays it, the others are refused before any charge.
    let shared = intent(&http, &apis[0], &tee).await;
    let shared_id = shared["intent_id"].as_str().unwrap().to_owned();
    let mut payers = tokio::task::JoinSet::new();
    for i in 0..10 {
        let token = tokenize(&http, &vaults[i % 2], "4242424242424242", &shared_id).await;
        let (http, api, body) = (http.clone(), apis[(i + 1) % 2].clone(), pay_body(&shared, &token));
        payers.spawn(async move { order(&http, &api, &body, &tweetbuy_server::ids::random_id("k")).await });
    }
    let (mut won, mut refused) = (Vec::new(), 0);
    while let Some(result) = payers.join_next().await {
        let (status, reply) = result.unwrap();
        match status {
            201 => won.push(reply["order_id"].as_str().unwrap().to_owned()),
            409 if reply["code"] == "intent_invalid" => refused += 1,
            other => panic!("unexpected {other}: {reply}"),
        }
    }
    assert_eq!((won.len(), refused), (1, 9), "one order pays one intent");
    let (paying,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders WHERE intent_id = $1")
        .bind(&shared_id)
        .fetch_one(&api_db)
        .await
        .unwrap();
    assert_eq!(paying, 1, "the refused ones left no order");
    let (charges,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges WHERE reference = $1")
        .bind(&won[0])
        .fetch_one(&vault_db)
        .await
        .unwrap();
    assert_eq!(charges, 1, "one charge for the intent");
    let (all_charges,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges").fetch_one(&vault_db).await.unwrap();
    assert_eq!(all_charges, 10 + 1 + 1, "the drop, the storm's order and the shared intent's, nothing else");
}
