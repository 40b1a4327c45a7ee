//! SIGKILL with orders in flight, then a restart on the same databases: every acknowledged
//! order is paid, every unacknowledged one retried with its Idempotency-Key ends paid with
//! exactly one charge, and no order is left half-made (pending, or charged but not paid).
//!
//! Charges pass through a proxy in this test. Before the kill it holds them (so they are
//! surely in flight when the process dies); after the restart it delivers some of them, late,
//! to the new vault (a charge the dead process never heard about) and drops the others (a
//! charge that never happened). Runs on SQLite, and on PostgreSQL when
//! `TWEETBUY_TEST_PG_URL` is set.

use crate::harness::pg_url;
use crate::process::{checkout, order, Launch, ServerProcess};
use crate::vault_proxy::{Charge, VaultProxy};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tweetbuy_server::db::{self, Location};

/// What the proxy does with a charge.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Straight through.
    Pass,
    /// Hold for a while, then deliver every other one to the vault of that moment and drop
    /// the rest.
    HoldThenSome,
}

/// How the proxy treats charges now, and how many it has held and then delivered or dropped.
#[derive(Clone)]
struct Holds {
    mode: Arc<std::sync::Mutex<Mode>>,
    held: Arc<AtomicUsize>,
    settled: Arc<AtomicUsize>,
}

fn start_proxy() -> (VaultProxy, Holds) {
    let holds = Holds {
        mode: Arc::new(std::sync::Mutex::new(Mode::Pass)),
        held: Arc::new(AtomicUsize::new(0)),
        settled: Arc::new(AtomicUsize::new(0)),
    };
    let state = holds.clone();
    let proxy = VaultProxy::start(move |charge: Charge| {
        let holds = state.clone();
        // Detached, so a held charge is still delivered after its caller died.
        let work = tokio::spawn(async move {
            let mode = *holds.mode.lock().unwrap();
            if mode == Mode::HoldThenSome {
                let n = holds.held.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(4)).await;
                if n % 2 == 1 {
                    holds.settled.fetch_add(1, Ordering::SeqCst);
                    return StatusCode::BAD_GATEWAY.into_response();
                }
            }
            let reply = match charge.forward().await {
                Ok(answer) => answer.into_response(),
                Err(_) => StatusCode::BAD_GATEWAY.into_response(),
            };
            if mode == Mode::HoldThenSome {
                holds.settled.fetch_add(1, Ordering::SeqCst);
            }
            reply
        });
        async move { work.await.unwrap() }
    });
    (proxy, holds)
}

fn tee() -> serde_json::Value {
    json!({
        "product_id": "red-tee", "variant_id": "m", "quantity": 1, "email": "jane@example.com",
        "shipping": {"name": "Jane Doe", "line1": "1 Main St", "city": "New York", "region": "NY",
                     "postal_code": "10001", "country": "US"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_order_then_restart_leaves_one_charge_per_paid_order() {
    let url = pg_url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = tweetbuy_server::ids::random_id("k");
    let (proxy, holds) = start_proxy();
    let launch = |name: &'static str| {
        let mut env = vec![("TWEETBUY_VAULT_INTERNAL_URL", proxy.url.clone())];
        if url.is_some() {
            // PostgreSQL may be shared by replicas, so keys in flight are taken over only
            // once stale; on SQLite the restart releases them at once.
            env.push(("TWEETBUY_ORDER_STALE_SECS", "3".to_owned()));
        }
        Launch { data_dir: dir.path(), database_url: url.as_deref(), schema_prefix: &prefix, env, log_name: name }
    };
    let mut first = ServerProcess::start(launch("first"));
    proxy.point_at(&first.vault_internal);
    let http = reqwest::Client::new();

    // Two orders acknowledged before the crash.
    let mut acknowledged = HashMap::new();
    for i in 0..2 {
        let body = checkout(&http, &first.api, &first.vault, &tee(), "4242424242424242").await;
        let key = format!("crash-ack-{i}");
        let (status, receipt) = order(&http, &first.api, &body, &key).await;
        assert_eq!(status, 201, "{receipt}");
        acknowledged.insert(key, (body, receipt["order_id"].as_str().unwrap().to_owned()));
    }

    // Six more, held at the proxy when the process is killed.
    *holds.mode.lock().unwrap() = Mode::HoldThenSome;
    let mut in_flight = Vec::new();
    let mut waiting = tokio::task::JoinSet::new();
    for i in 0..6 {
        let body = checkout(&http, &first.api, &first.vault, &tee(), "5555555555554444").await;
        let key = format!("crash-lost-{i}");
        in_flight.push((key.clone(), body.clone()));
        let (http, api) = (http.clone(), first.api.clone());
        waiting.spawn(async move {
            http.post(format!("{api}/api/v1/orders")).header("Idempotency-Key", key).json(&body).send().await
        });
    }
    for _ in 0..100 {
        if holds.held.load(Ordering::SeqCst) == 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(holds.held.load(Ordering::SeqCst), 6, "every charge is in flight");
    first.kill();
    while let Some(answer) = waiting.join_next().await {
        assert!(answer.unwrap().is_err(), "no answer came from the killed process");
    }

    // The restart, on the same databases; the held charges reach the new vault (or not).
    let second = ServerProcess::start(launch("second"));
    proxy.point_at(&second.vault_internal);
    for _ in 0..200 {
        if holds.settled.load(Ordering::SeqCst) == 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(holds.settled.load(Ordering::SeqCst), 6, "the held charges were delivered or dropped");
    *holds.mode.lock().unwrap() = Mode::Pass;

    // Each unacknowledged order, retried with its key and body, completes.
    let mut retried = HashMap::new();
    for (key, body) in &in_flight {
        let mut answer = None;
        for _ in 0..100 {
            let (status, reply) = order(&http, &second.api, body, key).await;
            if status == 409 && reply["code"] == "idempotency_in_progress" {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            answer = Some((status, reply));
            break;
        }
        let (status, reply) = answer.unwrap_or_else(|| panic!("{key} stayed in progress; log:\n{}", second.log_text()));
        assert_eq!(status, 201, "{key}: {reply}\n{}", second.log_text());
        assert_eq!(reply["status"], "paid");
        retried.insert(key.clone(), reply["order_id"].as_str().unwrap().to_owned());
        // And again: the same answer, replayed.
        let (again, replay) = order(&http, &second.api, body, key).await;
        assert_eq!((again, &replay["order_id"]), (201, &reply["order_id"]));
    }
    // The acknowledged ones replay their receipts after the restart too.
    for (key, (body, order_id)) in &acknowledged {
        let (status, reply) = order(&http, &second.api, body, key).await;
        assert_eq!((status, reply["order_id"].as_str()), (201, Some(order_id.as_str())), "{reply}");
    }

    let (api_location, vault_location) = match &url {
        Some(url) => (
            Location::Postgres { url: url.clone(), schema: format!("{prefix}_api") },
            Location::Postgres { url: url.clone(), schema: format!("{prefix}_vault") },
        ),
        None => (Location::Sqlite(dir.path().join("api.db")), Location::Sqlite(dir.path().join("vault.db"))),
    };
    let api_db = db::open_api(&api_location).await.unwrap();
    let vault_db = db::open_vault(&vault_location).await.unwrap();
    let orders: Vec<(String, String)> =
        sqlx::query_as("SELECT id, status FROM orders").fetch_all(&api_db).await.unwrap();
    let paid: Vec<&String> = acknowledged.values().map(|(_, id)| id).chain(retried.values()).collect();
    assert_eq!(orders.len(), 8, "one order per key: {orders:?}");
    for (id, status) in &orders {
        assert!(paid.contains(&id), "an order nobody was told about: {id}");
        assert_eq!(status, "paid", "{id} is {status}");
    }
    for id in &paid {
        let (approved,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM charges WHERE reference = $1 AND status = 'approved'")
                .bind(id.as_str())
                .fetch_one(&vault_db)
                .await
                .unwrap();
        assert_eq!(approved, 1, "exactly one charge for {id}");
    }
    let (charges,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges").fetch_one(&vault_db).await.unwrap();
    assert_eq!(charges, 8, "no other charge");
    let (per_card,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM charges GROUP BY card_id) AS per_card",
    )
    .fetch_one(&vault_db)
    .await
    .unwrap();
    assert_eq!(per_card, 1, "no card charged twice");
    let (stock,): (Option<i64>,) =
        sqlx::query_as("SELECT stock FROM variants WHERE product_id = 'red-tee' AND id = 'm'")
            .fetch_one(&api_db)
            .await
            .unwrap();
    assert_eq!(stock, Some(15 - 8), "stock taken once per paid order");
}
