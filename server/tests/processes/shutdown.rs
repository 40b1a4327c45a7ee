//! SIGTERM lets an order that is in flight finish before the process exits, and sends its
//! receipt before then too.

use crate::process::{checkout, order, Launch, ServerProcess, VAULT_API_KEY};
use crate::vault_proxy::{Charge, VaultProxy};
use axum::response::IntoResponse;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_order_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    // A slow path to the vault: charges pass through this proxy, which waits 1.5 s, so the
    // order is surely in flight when the signal arrives.
    let proxy = VaultProxy::start(|charge: Charge| async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        charge.forward().await.unwrap().into_response()
    });

    let mut server = ServerProcess::start(Launch {
        data_dir: dir.path(),
        database_url: None,
        schema_prefix: "tweetbuy",
        env: vec![("TWEETBUY_VAULT_INTERNAL_URL", proxy.url.clone()), ("TWEETBUY_VAULT_API_KEY", VAULT_API_KEY.into())],
        log_name: "server",
    });
    proxy.point_at(&server.vault_internal);
    let http = reqwest::Client::new();
    let details = json!({"product_id": "demi-fall-tour-ticket", "variant_id": "ga", "quantity": 1,
                         "email": "fan@example.com"});
    let body = checkout(&http, &server.api, &server.vault, &details, "4242424242424242").await;
    let (api, http2) = (server.api.clone(), http.clone());
    let in_flight = tokio::spawn(async move { order(&http2, &api, &body, "shutdown-1").await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.terminate();
    let (status, receipt) = in_flight.await.unwrap();
    assert_eq!(status, 201, "the order in flight finished: {receipt}");
    assert_eq!(receipt["status"], "paid");
    let exit = server.wait_exit();
    assert!(exit.success(), "clean exit: {exit:?}\n{}", server.log_text());
    // Its receipt went out before the exit, not at the next start: the mail worker stops
    // after the api has drained, and goes round once more.
    let number = receipt["order_number"].as_str().unwrap();
    let eml = dir.path().join("outbox").join(format!("{number}.eml"));
    assert!(eml.exists(), "the receipt of the order finished during the stop was sent\n{}", server.log_text());
    // And it no longer takes new work.
    assert!(http.get(format!("{}/healthz", server.api)).send().await.is_err());
}
