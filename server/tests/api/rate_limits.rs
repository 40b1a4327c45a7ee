use crate::harness::*;
use axum::http::StatusCode;
use tweetbuy_server::rate_limit::RateLimit;

#[tokio::test]
async fn orders_and_tokens_are_rate_limited_per_client_with_json_429() {
    let mut server = start().await;
    let limit = RateLimit { per_second: 1, burst: 2 };
    server.api = tweetbuy_server::api_app(server.api_state.clone().with_rate_limit(limit));
    server.vault = tweetbuy_server::vault_app(server.vault_state.clone().with_rate_limit(limit));
    let token = server.tokenize("4242424242424242", "123").await;
    let _second = server.tokenize("4242424242424242", "123").await;
    let body = serde_json::json!({"number": "4242424242424242", "expiry": future_expiry(), "cvc": "123"});
    let reply = send(&server.vault, post_json("/v1/tokens", &body, Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.error_code(), "rate_limited");
    assert!(reply.header("retry-after").is_some());

    let key = fresh_key();
    assert_eq!(server.order(&tee_order(&token, 1), &key).await.status, StatusCode::CREATED);
    assert_eq!(server.order(&tee_order(&token, 1), &key).await.status, StatusCode::CREATED, "replay");
    let reply = server.order(&tee_order(&token, 1), &key).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.error_code(), "rate_limited");
    // Quotes are not limited.
    let quote = serde_json::json!({"product_id": TEE, "variant_id": "m", "quantity": 1});
    for _ in 0..5 {
        assert_eq!(send(&server.api, post_json("/api/v1/quote", &quote, None)).await.status, StatusCode::OK);
    }
}
