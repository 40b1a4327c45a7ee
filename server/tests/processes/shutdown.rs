//! SIGTERM lets an order that is in flight finish before the process exits, whether or not
//! its client still waits, and sends its receipt before then too.

use crate::process::{checkout, order, Launch, ServerProcess, VAULT_API_KEY};
use crate::vault_proxy::{Charge, VaultProxy};
use axum::response::IntoResponse;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A server whose charges pass through a proxy that holds each for 1.5 s, and says when one
/// arrives, so an order is surely in flight when the signal comes; and a card token for a
/// ticket, ready to order.
async fn server_with_a_slow_vault(dir: &Path) -> (ServerProcess, VaultProxy, Arc<Notify>, serde_json::Value) {
    let charging = Arc::new(Notify::new());
    let arrived = charging.clone();
    let proxy = VaultProxy::start(move |charge: Charge| {
        let arrived = arrived.clone();
        async move {
            arrived.notify_one();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            charge.forward().await.unwrap().into_response()
        }
    });
    let server = ServerProcess::start(Launch {
        data_dir: dir,
        database_url: None,
        schema_prefix: "tweetbuy",
        env: vec![("TWEETBUY_VAULT_INTERNAL_URL", proxy.url.clone()), ("TWEETBUY_VAULT_API_KEY", VAULT_API_KEY.into())],
        log_name: "server",
    });
    proxy.point_at(&server.vault_internal);
    let details = json!({"product_id": "demi-fall-tour-ticket", "variant_id": "ga", "quantity": 1,
                         "email": "fan@example.com"});
    let body = checkout(&reqwest::Client::new(), &server.api, &server.vault, &details, "4242424242424242").await;
    (server, proxy, charging, body)
}

/// Waits until the order's charge has reached the vault's proxy.
async fn until_charging(charging: &Notify) {
    tokio::time::timeout(Duration::from_secs(30), charging.notified()).await.expect("the order reached the vault");
}

/// The receipts the process wrote to its outbox folder, by name.
fn receipts_sent(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("outbox")) else { return Vec::new() };
    entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".eml")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_order_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _proxy, charging, body) = server_with_a_slow_vault(dir.path()).await;
    let http = reqwest::Client::new();
    let (api, http2) = (server.api.clone(), http.clone());
    let in_flight = tokio::spawn(async move { order(&http2, &api, &body, "shutdown-1").await });
    until_charging(&charging).await;
    server.terminate();
    let (status, receipt) = in_flight.await.unwrap();
    assert_eq!(status, 201, "the order in flight finished: {receipt}");
    assert_eq!(receipt["status"], "paid");
    let exit = server.wait_exit();
    assert!(exit.success(), "clean exit: {exit:?}\n{}", server.log_text());
    // Its receipt went out before the exit, not at the next start: the mail worker stops
    // after the api has drained, and goes round once more.
    let number = receipt["order_number"].as_str().unwrap();
    assert_eq!(receipts_sent(dir.path()), [format!("{number}.eml")], "{}", server.log_text());
    // And it no longer takes new work.
    assert!(http.get(format!("{}/healthz", server.api)).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_an_order_whose_client_hung_up() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _proxy, charging, body) = server_with_a_slow_vault(dir.path()).await;
    let api = server.api.clone();
    let in_flight = tokio::spawn(async move { order(&reqwest::Client::new(), &api, &body, "shutdown-2").await });
    until_charging(&charging).await;
    // The buyer's page goes away mid-order: its connection closes, so the api's drain has
    // nothing to wait for; the order runs on in its own task, at the vault through the proxy.
    in_flight.abort();
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.terminate();
    let exit = server.wait_exit();
    assert!(exit.success(), "clean exit: {exit:?}\n{}", server.log_text());
    // The vault served until that order was done, and its receipt went out before the exit.
    assert_eq!(receipts_sent(dir.path()).len(), 1, "the order was paid and its receipt sent\n{}", server.log_text());
}
