//! The vault charged, but its answer never reached the api: the api asks again under the same
//! order id (the vault answers with the first charge), and if it still cannot tell, the order
//! stays pending and the buyer's retry with its key settles it. Never "not charged" for a card
//! that was charged, never two charges.

use crate::harness::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const VISA: &str = "4242424242424242";

/// A proxy in front of the vault's charges: each charge reaches the vault, and while
/// `lose` says so its answer is replaced by a 502 (what a dead gateway or a reset looks like).
struct LossyVault {
    url: String,
    calls: Arc<AtomicUsize>,
    lose_first: Arc<AtomicUsize>,
    lose_all: Arc<AtomicBool>,
}

fn lossy_vault(vault: String) -> LossyVault {
    let calls = Arc::new(AtomicUsize::new(0));
    let lose_first = Arc::new(AtomicUsize::new(0));
    let lose_all = Arc::new(AtomicBool::new(false));
    let (c, f, a) = (calls.clone(), lose_first.clone(), lose_all.clone());
    let app = axum::Router::new().route(
        "/v1/charges",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (vault, c, f, a) = (vault.clone(), c.clone(), f.clone(), a.clone());
            async move {
                let n = c.fetch_add(1, Ordering::SeqCst);
                let reply = reqwest::Client::new()
                    .post(format!("{vault}/v1/charges"))
                    .header("authorization", headers["authorization"].to_str().unwrap())
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = reply.status().as_u16();
                let text = reply.text().await.unwrap();
                if n < f.load(Ordering::SeqCst) || a.load(Ordering::SeqCst) {
                    return (StatusCode::BAD_GATEWAY, "upstream connection reset").into_response();
                }
                (StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], text).into_response()
            }
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    LossyVault { url, calls, lose_first, lose_all }
}

async fn approved_charges(server: &TestServer) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM charges WHERE status = 'approved'")
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    n
}

async fn order_status(server: &TestServer) -> String {
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM orders").fetch_one(&server.api_state.db).await.unwrap();
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_charge_answer_is_asked_again_and_the_order_is_paid_once() {
    let mut proxy = None;
    let server = start_with(|settings| {
        let lossy = lossy_vault(settings.vault_internal_url.clone());
        settings.vault_internal_url = lossy.url.clone();
        proxy = Some(lossy);
    })
    .await;
    let proxy = proxy.unwrap();
    proxy.lose_first.store(1, Ordering::SeqCst);
    let token = server.tokenize(VISA, "123").await;
    let reply = server.order(&tee_order(&token, 2), &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.json()["card_last4"], "4242");
    assert_eq!(proxy.calls.load(Ordering::SeqCst), 2, "asked once more after the lost answer");
    assert_eq!(approved_charges(&server).await, 1, "the second ask got the first charge back");
    assert_eq!(order_status(&server).await, "paid");
    assert_eq!(server.stock(TEE, "m").await, Some(13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_charge_outcome_keeps_the_order_pending_until_the_retry_with_its_key() {
    let mut proxy = None;
    let server = start_with(|settings| {
        let lossy = lossy_vault(settings.vault_internal_url.clone());
        settings.vault_internal_url = lossy.url.clone();
        proxy = Some(lossy);
    })
    .await;
    let proxy = proxy.unwrap();
    proxy.lose_all.store(true, Ordering::SeqCst);
    let token = server.tokenize(VISA, "123").await;
    let key = fresh_key();
    let reply = server.order(&tee_order(&token, 2), &key).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.text());
    assert_eq!(reply.error_code(), "unavailable");
    assert!(reply.json()["message"].as_str().unwrap().contains("not be charged twice"));
    assert_eq!(approved_charges(&server).await, 1, "the vault did charge");
    assert_eq!(order_status(&server).await, "pending", "not marked failed: the card was charged");
    assert_eq!(server.stock(TEE, "m").await, Some(13), "the stock stays with the order");

    proxy.lose_all.store(false, Ordering::SeqCst);
    let retry = server.order(&tee_order(&token, 2), &key).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    assert_eq!(approved_charges(&server).await, 1, "still one charge");
    assert_eq!(order_status(&server).await, "paid");
    assert_eq!(server.count("orders").await, 1);
    assert_eq!(server.stock(TEE, "m").await, Some(13));
}
