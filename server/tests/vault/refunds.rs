//! `POST /v1/refunds` at the vault: the api's bearer key, the charge's bound, and the
//! reference that makes a repeat answer the first refund.

use crate::harness::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

async fn approved_charge(server: &TestServer, number: &str) -> (String, Value) {
    let token = server.vault_token(number, "123").await;
    let reply = server.vault_charge(&token, VAULT_TEST_INTENT, "ord_refunds", 3500).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    (body["charge_id"].as_str().unwrap().to_owned(), body)
}

async fn refund(server: &TestServer, charge_id: &str, minor: i64, reference: &str, bearer: Option<&str>) -> Reply {
    let body = json!({"charge_id": charge_id, "amount": {"minor": minor, "currency": "USD"}, "reference": reference});
    let mut request = post_json("/v1/refunds", &body, None);
    if let Some(bearer) = bearer {
        request.headers_mut().insert("authorization", format!("Bearer {bearer}").parse().unwrap());
    }
    send(&server.vault, request).await
}

async fn refunded(server: &TestServer, charge_id: &str) -> i64 {
    let (minor,): (i64,) = sqlx::query_as("SELECT refunded_minor FROM charges WHERE id = $1")
        .bind(charge_id)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    minor
}

#[tokio::test]
async fn refunds_need_the_api_key_and_stay_within_the_charge() {
    let server = start().await;
    let (charge_id, _) = approved_charge(&server, "4242 4242 4242 4242").await;
    for bearer in [None, Some("wrong")] {
        let reply = refund(&server, &charge_id, 100, "rf_a", bearer).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let key = Some(VAULT_API_KEY);
    let first = refund(&server, &charge_id, 2000, "rf_a", key).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json()["amount"]["minor"], 2000);
    assert_eq!(first.json()["reference"], "rf_a");

    // The same reference again: the first refund, not a second one.
    let repeat = refund(&server, &charge_id, 2000, "rf_a", key).await;
    assert_eq!(repeat.json()["refund_id"], first.json()["refund_id"]);
    assert_eq!(refunded(&server, &charge_id).await, 2000);
    let reused = refund(&server, &charge_id, 100, "rf_a", key).await;
    assert_eq!(
        (reused.status, reused.error_code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );

    let over = refund(&server, &charge_id, 1501, "rf_b", key).await;
    assert_eq!((over.status, over.error_code().as_str()), (StatusCode::CONFLICT, "refund_exceeds_remaining"));
    assert!(over.json()["message"].as_str().unwrap().contains("$15.00"), "{}", over.text());
    assert_eq!(refund(&server, &charge_id, 1500, "rf_c", key).await.status, StatusCode::OK);
    assert_eq!(refunded(&server, &charge_id).await, 3500);

    let unknown = refund(&server, "ch_nosuch", 100, "rf_d", key).await;
    assert_eq!((unknown.status, unknown.error_code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let zero = refund(&server, &charge_id, 0, "rf_e", key).await;
    assert_eq!(zero.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(zero.fields(), ["amount"]);
}

#[tokio::test]
async fn a_declined_charge_has_nothing_to_refund() {
    let server = start().await;
    let (charge_id, body) = approved_charge(&server, "4000 0000 0000 0002").await;
    assert_eq!(body["status"], "declined");
    let reply = refund(&server, &charge_id, 100, "rf_declined", Some(VAULT_API_KEY)).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM refunds").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refunds_of_one_charge_never_exceed_it() {
    let server = start().await;
    let (charge_id, _) = approved_charge(&server, "4242 4242 4242 4242").await;
    // Twenty refunds of 3.00 at once on a 35.00 charge: eleven fit.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let vault = server.vault.clone();
            let body = json!({"charge_id": charge_id, "amount": {"minor": 300, "currency": "USD"},
                              "reference": format!("rf_c{i}")});
            tokio::spawn(async move {
                let mut request = post_json("/v1/refunds", &body, None);
                request.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
                send(&vault, request).await.status
            })
        })
        .collect();
    let mut made = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::OK => made += 1,
            status => assert_eq!(status, StatusCode::CONFLICT),
        }
    }
    assert_eq!(made, 11);
    assert_eq!(refunded(&server, &charge_id).await, 3300);
}
