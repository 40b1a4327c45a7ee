use crate::harness::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

async fn assert_nothing_stored(server: &TestServer) {
    assert_eq!(server.count("orders").await, 0);
    assert_eq!(server.count("idempotency_keys").await, 0);
}

#[tokio::test]
async fn malformed_json_is_400_json_and_stores_nothing() {
    let server = start().await;
    let reply = send(&server.api, post_raw("/api/v1/orders", b"{\"intent_id\": ".to_vec(), Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "bad_request");
    let reply = send(&server.api, post_raw("/api/v1/intents", b"{\"product_id\": ".to_vec(), None)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "bad_request");
    assert_nothing_stored(&server).await;
    assert_eq!(server.count("payment_intents").await, 0);
}

#[tokio::test]
async fn unknown_fields_and_wrong_types_are_422_json() {
    let server = start().await;
    let mut body = tee_details(1);
    body["total"] = json!({"minor": 1, "currency": "USD"});
    let reply = server.intent(&body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_code(), "bad_request");
    assert!(reply.json()["message"].as_str().unwrap().contains("unknown field `total`"));

    // A value of the wrong type is a field error naming the field, and never quoting the value.
    for (pointer, value, field) in [
        ("/quantity", json!("lots"), "quantity"),
        ("/quantity", json!(-4242424242424242i64), "quantity"),
        ("/shipping/country", json!("ZZ"), "country"),
        ("/email", json!(4242424242424242i64), "email"),
    ] {
        let mut body = tee_details(1);
        *body.pointer_mut(pointer).unwrap() = value;
        let reply = server.intent(&body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{pointer}");
        assert_eq!(reply.error_code(), "validation_failed", "{pointer}: {}", reply.text());
        assert_eq!(reply.fields(), [field], "{pointer}");
        assert!(!reply.text().contains("4242"), "{pointer}: {}", reply.text());
    }

    // An order names its intent and brings its token; nothing else.
    let intent = server.create_intent(&tee_details(1)).await;
    let mut body = pay_body(&intent, "tok_x");
    body["amount"] = json!({"minor": 1, "currency": "USD"});
    let reply = send(&server.api, post_json("/api/v1/orders", &body, Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_code(), "bad_request");
    assert!(reply.json()["message"].as_str().unwrap().contains("unknown field `amount`"));
    let body = json!({"intent_id": intent["intent_id"], "client_secret": 7, "card_token": "tok_x"});
    let reply = send(&server.api, post_json("/api/v1/orders", &body, Some(&fresh_key()))).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert_eq!(reply.fields(), ["client_secret"]);
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_wrong_content_type_is_415_json() {
    let server = start().await;
    let request = Request::post("/api/v1/quote")
        .header("content-type", "text/plain")
        .body(Body::from(r#"{"product_id":"red-tee","variant_id":"m","quantity":1}"#))
        .unwrap();
    let reply = send(&server.api, request).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.error_code(), "unsupported_media_type");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_json() {
    let server = start().await;
    let mut body = tee_order("tok_x", 1);
    body["email"] = json!("x".repeat(70 * 1024));
    let bytes = serde_json::to_vec(&body).unwrap();

    // Declared length: refused before the handler.
    let mut request = post_raw("/api/v1/orders", bytes.clone(), Some(&fresh_key()));
    request.headers_mut().insert("content-length", bytes.len().into());
    let reply = send(&server.api, request).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error_code(), "payload_too_large");

    // Streamed without a length: stopped while reading.
    let stream = futures_stream(bytes);
    let request = Request::post("/api/v1/orders")
        .header("content-type", "application/json")
        .header("idempotency-key", fresh_key())
        .body(stream)
        .unwrap();
    let reply = send(&server.api, request).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error_code(), "payload_too_large");
    assert_nothing_stored(&server).await;
}

/// The seller's admin api holds its JSON bodies to the same 64 KiB; a catalog file may be
/// larger (up to 1 MiB).
#[tokio::test]
async fn an_admin_body_over_the_limit_is_413_json_and_a_catalog_may_be_larger() {
    let server = start_admin().await;
    let admin = |path: &str, body: &serde_json::Value| {
        Request::post(path)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .header("idempotency-key", fresh_key())
            .body(Body::from(serde_json::to_vec(body).unwrap()))
            .unwrap()
    };
    let big = "x".repeat(70 * 1024);
    for path in ["/admin/v1/webhooks", "/admin/v1/discounts", "/admin/v1/orders/TB-AAAAAA/refunds"] {
        let reply = send(&server.api, admin(path, &json!({"description": big, "url": "https://hooks.example/"}))).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            "{path}"
        );
    }
    let reply = send(&server.api, admin("/admin/v1/catalog", &json!({"products": [], "note": big}))).await;
    assert_ne!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", reply.text());
}

/// A body with no size hint, sent in chunks.
fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(8 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn cors_allows_only_listed_publishers() {
    let server = start().await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/v1/orders")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,idempotency-key")
            .body(Body::empty())
            .unwrap()
    };
    let reply = send(&server.api, preflight(PUBLISHER_ORIGIN)).await;
    assert!(reply.status.is_success());
    assert_eq!(reply.header("access-control-allow-origin"), Some(PUBLISHER_ORIGIN));
    let allowed_headers = reply.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(allowed_headers.contains("idempotency-key") && allowed_headers.contains("content-type"));
    assert!(reply.header("access-control-allow-methods").unwrap().contains("POST"));
    assert_eq!(reply.header("access-control-allow-credentials"), None);

    let reply = send(&server.api, preflight(OTHER_PUBLISHER_ORIGIN)).await;
    assert_eq!(reply.header("access-control-allow-origin"), Some(OTHER_PUBLISHER_ORIGIN), "second listed origin");

    let reply = send(&server.api, preflight("https://evil.example")).await;
    assert_eq!(reply.header("access-control-allow-origin"), None);

    let lookup = |origin: &str| {
        Request::get("/api/v1/offers?tweet_ids=1528000000000000001")
            .header("origin", origin)
            .body(Body::empty())
            .unwrap()
    };
    let reply = send(&server.api, lookup(PUBLISHER_ORIGIN)).await;
    assert_eq!(reply.header("access-control-allow-origin"), Some(PUBLISHER_ORIGIN));
    assert!(reply.header("vary").unwrap_or_default().to_ascii_lowercase().contains("origin"));
    let reply = send(&server.api, lookup("https://evil.example")).await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn security_headers_and_json_404_405() {
    let server = start().await;
    for reply in [
        send(&server.api, get("/api/v1/offers?tweet_ids=20")).await,
        send(&server.api, get("/nowhere")).await,
        send(&server.vault, get("/healthz")).await,
    ] {
        assert!(reply.header("content-security-policy").unwrap().contains("default-src 'none'"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("strict-origin-when-cross-origin"));
    }
    let reply = send(&server.api, get("/nowhere")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "not_found");
    let reply = send(&server.api, get("/api/v1/orders")).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.error_code(), "bad_request");
    let reply = send(&server.api, get("/healthz")).await;
    assert_eq!((reply.status, reply.text().as_str()), (StatusCode::OK, "ok"));
}
