//! SIGTERM lets an order that is in flight finish before the process exits.

use crate::process::{order, tokenize, Launch, ServerProcess, VAULT_API_KEY};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_order_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    // A slow path to the vault: charges pass through this proxy, which waits 1.5 s, so the
    // order is surely in flight when the signal arrives.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let (vault_tx, vault_rx) = tokio::sync::watch::channel(String::new());
    let app = axum::Router::new().route(
        "/v1/charges",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let vault = vault_rx.borrow().clone();
            async move {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                let reply = reqwest::Client::new()
                    .post(format!("{vault}/v1/charges"))
                    .header("authorization", headers["authorization"].to_str().unwrap())
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = StatusCode::from_u16(reply.status().as_u16()).unwrap();
                (status, [("content-type", "application/json")], reply.bytes().await.unwrap()).into_response()
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut server = ServerProcess::start(Launch {
        data_dir: dir.path(),
        database_url: None,
        schema_prefix: "tweetbuy",
        env: vec![("TWEETBUY_VAULT_INTERNAL_URL", proxy), ("TWEETBUY_VAULT_API_KEY", VAULT_API_KEY.into())],
        log_name: "server",
    });
    vault_tx.send(server.vault.clone()).unwrap();
    let http = reqwest::Client::new();
    let token = tokenize(&http, &server.vault, "4242424242424242").await;
    let body = json!({"product_id": "demi-fall-tour-ticket", "variant_id": "ga", "quantity": 1,
                      "email": "fan@example.com", "card_token": token});
    let (api, http2) = (server.api.clone(), http.clone());
    let in_flight = tokio::spawn(async move { order(&http2, &api, &body, "shutdown-1").await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.terminate();
    let (status, receipt) = in_flight.await.unwrap();
    assert_eq!(status, 201, "the order in flight finished: {receipt}");
    assert_eq!(receipt["status"], "paid");
    let exit = server.wait_exit();
    assert!(exit.success(), "clean exit: {exit:?}\n{}", server.log_text());
    // And it no longer takes new work.
    assert!(http.get(format!("{}/healthz", server.api)).send().await.is_err());
}
