use crate::harness::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

async fn tokenize(server: &TestServer, body: &Value, key: Option<&str>) -> Reply {
    send(&server.vault, post_json("/v1/tokens", body, key)).await
}

fn card(number: &str, expiry: &str, cvc: &str) -> Value {
    json!({"number": number, "expiry": expiry, "cvc": cvc, "intent_id": VAULT_TEST_INTENT})
}

#[tokio::test]
async fn a_good_card_becomes_a_one_time_token() {
    let server = start().await;
    let reply = tokenize(&server, &card("4242 4242 4242 4242", &future_expiry(), "123"), Some(&fresh_key())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let token: tweetbuy_core::vault::CardToken = serde_json::from_slice(&reply.body).unwrap();
    assert!(token.token.starts_with("tok_") && token.token.len() == 28, "{}", token.token);
    assert_eq!(token.brand, tweetbuy_core::CardBrand::Visa);
    assert_eq!(token.last4, "4242");
    let (year, _) = tweetbuy_server::clock::year_month(tweetbuy_server::clock::now());
    assert_eq!(token.exp_year, year + 2);
    let (intent,): (Option<String>,) = sqlx::query_as("SELECT intent_id FROM cards WHERE token = $1")
        .bind(&token.token)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert_eq!(intent.as_deref(), Some(VAULT_TEST_INTENT), "minted for one intent");
    assert!(!reply.text().contains("424242424242"), "the answer never holds the number");

    let (expires, created): (i64, i64) = sqlx::query_as("SELECT expires_at, created_at FROM cards WHERE token = $1")
        .bind(&token.token)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert_eq!(expires - created, 15 * 60, "tokens live 15 minutes");
}

#[tokio::test]
async fn each_bad_field_is_named() {
    let server = start().await;
    let good_expiry = future_expiry();
    let cases = [
        (card("4242 4242 4242 4241", &good_expiry, "123"), vec![("number", "invalid_number")]),
        (card("", &good_expiry, "123"), vec![("number", "number_missing")]),
        (card("9999 9999 9999 9999", &good_expiry, "123"), vec![("number", "unknown_brand")]),
        (card("4242 4242 4242 4242", "01/20", "123"), vec![("expiry", "expired_card")]),
        (card("4242 4242 4242 4242", "13/30", "123"), vec![("expiry", "expiry_month")]),
        (card("4242 4242 4242 4242", "soon", "123"), vec![("expiry", "expiry_malformed")]),
        (card("4242 4242 4242 4242", &good_expiry, "1234"), vec![("cvc", "cvc_length")]),
        (card("3782 822463 10005", &good_expiry, "123"), vec![("cvc", "cvc_length")]),
        (
            card("4242", "00/00", "x"),
            vec![("number", "wrong_length"), ("expiry", "expiry_month"), ("cvc", "cvc_length")],
        ),
    ];
    for (body, expected) in cases {
        let reply = tokenize(&server, &body, Some(&fresh_key())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.error_code(), "validation_failed");
        let fields = reply.json()["fields"].clone();
        let got: Vec<(String, String)> = fields
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["field"].as_str().unwrap().to_owned(), f["code"].as_str().unwrap().to_owned()))
            .collect();
        let expected: Vec<(String, String)> = expected.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
        assert_eq!(got, expected, "{body}");
        assert!(fields.as_array().unwrap().iter().all(|f| !f["message"].as_str().unwrap().is_empty()));
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cards").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(n, 0, "refused cards are not stored");
    let reply = tokenize(&server, &card("3782 822463 10005", &good_expiry, "1234"), Some(&fresh_key())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "Amex takes four digits");
}

#[tokio::test]
async fn an_idempotency_key_is_required_and_replays_the_same_token() {
    let server = start().await;
    let body = card("4242 4242 4242 4242", &future_expiry(), "123");
    let reply = tokenize(&server, &body, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "idempotency_key_missing");

    let key = fresh_key();
    let first = tokenize(&server, &body, Some(&key)).await;
    let again = tokenize(&server, &body, Some(&key)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    // The replay answers with the same token; the save secret was given once (only its hash
    // is stored), so a replay cannot hand it out again.
    let mut first_json = first.json();
    assert!(first_json.as_object_mut().unwrap().remove("save_secret").is_some());
    assert_eq!((again.status, again.json()), (first.status, first_json), "same key, same body, same token");

    let other = card("5555 5555 5555 4444", &future_expiry(), "123");
    let reply = tokenize(&server, &other, Some(&key)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_code(), "idempotency_key_reused");
    // A used key is told so even with a card that would be refused.
    let invalid = card("4242 4242 4242 4241", &future_expiry(), "123");
    assert_eq!(tokenize(&server, &invalid, Some(&key)).await.error_code(), "idempotency_key_reused");

    let (cards, keys): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM cards), (SELECT COUNT(*) FROM token_requests)")
            .fetch_one(&server.vault_state.db)
            .await
            .unwrap();
    assert_eq!((cards, keys), (1, 1));
    let (hash,): (String,) =
        sqlx::query_as("SELECT request_hash FROM token_requests").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(hash.len(), 64, "a keyed hash of the body, not the body");
}

#[tokio::test]
async fn other_origins_may_not_tokenize() {
    let server = start().await;
    let body = card("4242 4242 4242 4242", &future_expiry(), "123");
    for (origin, status) in [
        (Some(PUBLISHER_ORIGIN), StatusCode::FORBIDDEN),
        (Some("null"), StatusCode::FORBIDDEN),
        (Some(API_ORIGIN), StatusCode::FORBIDDEN),
        (Some(VAULT_ORIGIN), StatusCode::CREATED),
        // A browser sends Origin with every POST: none means no browser, or one being
        // worked around, and not the vault's frame.
        (None, StatusCode::FORBIDDEN),
    ] {
        let mut request = post_json("/v1/tokens", &body, Some(&fresh_key()));
        request.headers_mut().remove("origin");
        if let Some(origin) = origin {
            request.headers_mut().insert("origin", origin.parse().unwrap());
        }
        let reply = send(&server.vault, request).await;
        assert_eq!(reply.status, status, "{origin:?}");
        if status == StatusCode::FORBIDDEN {
            assert_eq!(reply.error_code(), "forbidden");
        }
    }
    // The vault does no CORS at all: no page elsewhere can read its answers.
    let mut request = post_json("/v1/tokens", &body, Some(&fresh_key()));
    request.headers_mut().insert("origin", VAULT_ORIGIN.parse().unwrap());
    assert_eq!(send(&server.vault, request).await.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn bad_bodies_are_json_errors_that_do_not_echo_the_card() {
    let server = start().await;
    let reply = tokenize(
        &server,
        &json!({"number": 4242424242424242u64, "expiry": "12/30", "cvc": "123", "intent_id": VAULT_TEST_INTENT}),
        Some(&fresh_key()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_code(), "validation_failed", "a field error the frame can mark");
    assert_eq!(reply.fields(), ["number"]);
    assert!(!reply.text().contains("4242"), "{}", reply.text());

    let mut body = card("4242 4242 4242 4242", &future_expiry(), "123");
    body["name"] = json!("Jane");
    let reply = tokenize(&server, &body, Some(&fresh_key())).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.json()["message"].as_str().unwrap().contains("unknown field `name`"));

    let reply = send(&server.vault, post_raw("/v1/tokens", b"{".to_vec(), Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "bad_request");

    let huge = json!({"number": "4".repeat(70_000), "expiry": "12/30", "cvc": "123", "intent_id": VAULT_TEST_INTENT});
    let reply = tokenize(&server, &huge, Some(&fresh_key())).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error_code(), "payload_too_large");
}

#[tokio::test]
async fn a_token_names_the_intent_it_pays() {
    let server = start().await;
    let mut body = card("4242 4242 4242 4242", &future_expiry(), "123");
    body.as_object_mut().unwrap().remove("intent_id");
    let reply = tokenize(&server, &body, Some(&fresh_key())).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "bad_request");
    assert!(reply.json()["message"].as_str().unwrap().contains("missing field `intent_id`"), "{}", reply.text());

    let too_long = format!("pi_{}", "a".repeat(62));
    for malformed in ["", "pi_", "intent", "ord_abc", "pi_a/b", "pi_a b", "PI_abc", "pi_\u{0}", too_long.as_str()] {
        body["intent_id"] = json!(malformed);
        let reply = tokenize(&server, &body, Some(&fresh_key())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{malformed:?}: {}", reply.text());
        assert_eq!(reply.error_code(), "validation_failed");
        assert_eq!(reply.fields(), ["intent_id"], "{malformed:?}");
    }
    // With a bad card too, every field is named at once.
    let mut both = card("4242 4242 4242 4241", &future_expiry(), "123");
    both["intent_id"] = json!("nope");
    assert_eq!(tokenize(&server, &both, Some(&fresh_key())).await.fields(), ["number", "intent_id"]);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cards").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(n, 0, "nothing stored");

    // The same key for another intent is another request.
    let key = fresh_key();
    body["intent_id"] = json!("pi_first");
    assert_eq!(tokenize(&server, &body, Some(&key)).await.status, StatusCode::CREATED);
    body["intent_id"] = json!("pi_second");
    assert_eq!(tokenize(&server, &body, Some(&key)).await.error_code(), "idempotency_key_reused");
}
