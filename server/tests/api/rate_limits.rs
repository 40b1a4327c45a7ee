use crate::harness::*;
use axum::http::StatusCode;
use serde_json::json;
use tweetbuy_server::rate_limit::RateLimit;

#[tokio::test]
async fn orders_and_tokens_are_rate_limited_per_client_with_json_429() {
    let server = start().await;
    // The intent and its token first, through unlimited routers.
    let intent = server.create_intent(&tee_details(1)).await;
    let intent_id = intent["intent_id"].as_str().unwrap().to_owned();
    let token = server.token_for("4242424242424242", "123", &intent_id).await;

    let limit = RateLimit { per_second: 1, burst: 2 };
    let api = tweetbuy_server::api_app(server.api_state.clone().with_rate_limit(limit));
    let vault = tweetbuy_server::vault_app(server.vault_state.clone().with_rate_limit(limit));
    let card = json!({"number": "4242424242424242", "expiry": future_expiry(), "cvc": "123", "intent_id": intent_id});
    for _ in 0..2 {
        let reply = send(&vault, post_json("/v1/tokens", &card, Some(&fresh_key()))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    }
    let reply = send(&vault, post_json("/v1/tokens", &card, Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.error_code(), "rate_limited");
    assert!(reply.header("retry-after").is_some());

    let key = fresh_key();
    let pay = pay_body(&intent, &token);
    assert_eq!(send(&api, post_json("/api/v1/orders", &pay, Some(&key))).await.status, StatusCode::CREATED);
    assert_eq!(send(&api, post_json("/api/v1/orders", &pay, Some(&key))).await.status, StatusCode::CREATED, "replay");
    let reply = send(&api, post_json("/api/v1/orders", &pay, Some(&key))).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.error_code(), "rate_limited");
    assert!(reply.header("retry-after").is_some());
    // Pricing intents shares the client's bucket with paying them.
    let reply = send(&api, post_json("/api/v1/intents", &tee_details(1), None)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.error_code(), "rate_limited");
    // Quotes are not limited.
    let quote = json!({"product_id": TEE, "variant_id": "m", "quantity": 1});
    for _ in 0..5 {
        assert_eq!(send(&api, post_json("/api/v1/quote", &quote, None)).await.status, StatusCode::OK);
    }
}
