use crate::harness::*;
use axum::http::StatusCode;
use serde_json::json;
use tweetbuy_server::api::order_idempotency::{begin, Begin};
use tweetbuy_server::hashing::sha256_hex;

#[tokio::test]
async fn a_missing_key_is_400_and_nothing_is_stored() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;
    let body = pay_body(&intent, &token);
    let reply = send(&server.api, post_json("/api/v1/orders", &body, None)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "idempotency_key_missing");
    assert_eq!(server.count("orders").await, 0);
    assert_eq!(server.count("idempotency_keys").await, 0);

    let reply = send(&server.api, post_json("/api/v1/orders", &body, Some(&"k".repeat(300)))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "an absurd key is refused");
    assert_eq!(server.count("orders").await, 0);
    assert!(!server.token_used(&token).await);
}

#[tokio::test]
async fn a_retry_gets_the_stored_response_and_buys_once() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(2)).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;
    let key = fresh_key();
    let first = server.pay(&intent, &token, &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);

    // Same content, other key order and spacing: still the same request.
    let reordered = serde_json::to_vec_pretty(&json!({
        "card_token": token,
        "client_secret": intent["client_secret"],
        "intent_id": intent["intent_id"],
    }))
    .unwrap();
    // A `lang` of null is no language: the same request as one without it.
    let mut no_language = pay_body(&intent, &token);
    no_language["lang"] = json!(null);
    let bodies =
        [serde_json::to_vec(&pay_body(&intent, &token)).unwrap(), reordered, serde_json::to_vec(&no_language).unwrap()];
    for body in bodies {
        let again = send(&server.api, post_raw("/api/v1/orders", body, Some(&key))).await;
        assert_eq!(again.status, first.status);
        assert_eq!(again.body, first.body, "byte-identical replay");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }
    assert_eq!(server.count("orders").await, 1, "one order");
    assert_eq!(server.vault_charges().await, 1, "one charge");
    assert_eq!(server.stock(TEE, "m").await, Some(13), "stock taken once");
}

#[tokio::test]
async fn an_error_response_is_replayed_too() {
    let server = start().await;
    let token = server.tokenize("4000000000000002", "123").await;
    let key = fresh_key();
    let first = server.order(&tee_order(&token, 1), &key).await;
    assert_eq!(first.status, StatusCode::PAYMENT_REQUIRED);
    let again = server.order(&tee_order(&token, 1), &key).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(server.count("orders").await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let intent_id = intent["intent_id"].as_str().unwrap();
    let (token, other) = (
        server.token_for("4242424242424242", "123", intent_id).await,
        server.token_for("5555555555554444", "123", intent_id).await,
    );
    let key = fresh_key();
    assert_eq!(server.pay(&intent, &token, &key).await.status, StatusCode::CREATED);
    let reply = server.pay(&intent, &other, &key).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_code(), "idempotency_key_reused");
    assert_eq!(server.count("orders").await, 1);
}

#[tokio::test]
async fn a_retry_while_the_first_is_in_flight_is_409() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;
    let key = fresh_key();
    let body = pay_body(&intent, &token);
    // Claim the key the way the handler does, as if the first request were still running.
    let request: tweetbuy_core::PayRequest = serde_json::from_value(body.clone()).unwrap();
    let hash = sha256_hex(&serde_json::to_vec(&request).unwrap());
    let claimed = begin(&server.api_state.db, "orders", &key, &hash, tweetbuy_server::clock::now()).await.unwrap();
    assert_eq!(claimed, Begin::Started);

    let reply = send(&server.api, post_json("/api/v1/orders", &body, Some(&key))).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(reply.error_code(), "idempotency_in_progress");
    assert_eq!(server.count("orders").await, 0);
    assert_eq!(server.vault_charges().await, 0);
    assert!(!server.token_used(&token).await, "the token is still good");
}

#[tokio::test]
async fn a_placement_refused_on_a_new_key_leaves_the_key_free() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;
    // The option sells out after the intent was made; the product's other options have not.
    server.set_stock(TEE, "m", 0).await;
    let key = fresh_key();
    let refused = server.pay(&intent, &token, &key).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
    assert_eq!(refused.error_code(), "sold_out");
    assert_eq!(server.count("idempotency_keys").await, 0, "nothing to replay: the key is free");
    assert_eq!(server.count("orders").await, 0);
    assert!(!server.token_used(&token).await);

    server.set_stock(TEE, "m", 5).await;
    let paid = server.pay(&intent, &token, &key).await;
    assert_eq!(paid.status, StatusCode::CREATED, "the same key, restocked: {}", paid.text());
    assert_eq!(paid.header("idempotent-replayed"), None);
}

#[tokio::test]
async fn a_retry_after_the_product_sold_out_still_gets_its_receipt() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;
    let key = fresh_key();
    let first = server.pay(&intent, &token, &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    // Every option gone since: the retry is answered from its key, not refused as sold out.
    sqlx::query("UPDATE variants SET stock = 0 WHERE product_id = $1")
        .bind(TEE)
        .execute(&server.api_state.db)
        .await
        .unwrap();
    let again = server.pay(&intent, &token, &key).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}
