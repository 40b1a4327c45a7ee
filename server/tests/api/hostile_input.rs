//! Hostile input to every endpoint of the api and the vault that reads a request body:
//! malformed JSON, wrong shapes and types, wrong or missing content types, unknown fields,
//! bodies of 10 MB (declared and streamed), invalid UTF-8, deep nesting, and every string
//! field poisoned with control characters or made 60 KB long. Each request must get a 4xx
//! with a JSON `{code, message}` body, and no row of any table of either database may
//! change. At the end each endpoint's unpoisoned body is sent once and must succeed, which
//! shows the refusals came from the poison and not from a broken base body.
//!
//! The endpoints (from `api_app` and `vault_app`): api `POST /api/v1/quote`,
//! `POST /api/v1/intents`, `POST /api/v1/orders`, `POST /admin/v1/catalog`; vault
//! `POST /v1/tokens`, `POST /v1/charges`, `POST /v1/profiles`, `POST /v1/profile/tokens`.
//! The other routes (`GET`s, `DELETE /v1/profile`) read no body.

use crate::harness::*;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tweetbuy_server::db::Db;
use tweetbuy_server::rate_limit::RateLimit;
use tweetbuy_server::{api_app, vault_app};

const ADMIN_KEY: &str = "hostile-admin-key";

/// Row counts of every table in one database.
async fn table_counts(db: &Db) -> BTreeMap<String, i64> {
    let tables: Vec<(String,)> = if pg_url().is_some() {
        sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE'",
        )
        .fetch_all(db)
        .await
        .unwrap()
    } else {
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .fetch_all(db)
            .await
            .unwrap()
    };
    let mut counts = BTreeMap::new();
    for (table,) in tables {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(db).await.unwrap();
        counts.insert(table, n);
    }
    assert!(counts.len() > 3, "tables found: {counts:?}");
    counts
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Api,
    Vault,
}

/// One endpoint: where, which headers it needs to get as far as reading the body, a valid
/// body, and the JSON pointers of its string fields (with whether the field is multi-line).
struct Endpoint {
    name: &'static str,
    side: Side,
    path: &'static str,
    bearer: Option<String>,
    /// A device credential, sent in its cookie as the frame's requests carry it.
    credential: Option<String>,
    idempotency_key: bool,
    base: Value,
    strings: Vec<(&'static str, bool)>,
    /// Another JSON pointer whose object takes an unknown field (nested `deny_unknown_fields`).
    nested_object: Option<&'static str>,
}

struct Routers {
    api: Router,
    vault: Router,
}

impl Routers {
    fn of(&self, side: Side) -> &Router {
        match side {
            Side::Api => &self.api,
            Side::Vault => &self.vault,
        }
    }
}

fn request(endpoint: &Endpoint, content_type: Option<&str>, body: Body) -> Request<Body> {
    let mut builder = Request::builder().method(Method::POST).uri(endpoint.path);
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    if let Some(credential) = &endpoint.credential {
        builder = builder.header(header::COOKIE, credential_cookie(credential));
    }
    if let Some(bearer) = &endpoint.bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    if endpoint.idempotency_key {
        builder = builder.header("Idempotency-Key", fresh_key());
    }
    if is_frame_route(endpoint.path) {
        builder = builder.header(header::ORIGIN, VAULT_ORIGIN);
    }
    builder.body(body).unwrap()
}

/// A 4xx with a `{code, message}` JSON body; returns the code.
fn assert_clear_refusal(endpoint: &Endpoint, case: &str, reply: &Reply) -> String {
    assert!(
        reply.status.is_client_error(),
        "{} {}: {case}: expected a 4xx, got {}: {}",
        endpoint.name,
        endpoint.path,
        reply.status,
        reply.text().chars().take(300).collect::<String>()
    );
    let content_type = reply.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "{}: {case}: content-type {content_type:?}", endpoint.name);
    let body: Value = serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{}: {case}: not JSON ({e}): {}", endpoint.name, reply.text()));
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}: {case}: no message: {body}", endpoint.name);
    body["code"].as_str().unwrap_or_else(|| panic!("{}: {case}: no code: {body}", endpoint.name)).to_owned()
}

fn chunked(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

fn with_pointer(base: &Value, pointer: &str, value: Value) -> Value {
    let mut body = base.clone();
    *body.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer} in {base}")) = value;
    body
}

/// Every hostile request for one endpoint; panics at the first one not clearly refused.
async fn attack(routers: &Routers, endpoint: &Endpoint) -> usize {
    let router = routers.of(endpoint.side);
    let json_type = Some("application/json");
    let mut sent = 0;
    let mut expect = |case: String, reply: Reply, codes: &[&str]| {
        let code = assert_clear_refusal(endpoint, &case, &reply);
        assert!(
            codes.is_empty() || codes.contains(&code.as_str()),
            "{}: {case}: code {code:?}, expected one of {codes:?}",
            endpoint.name
        );
        sent += 1;
    };
    let base_bytes = serde_json::to_vec(&endpoint.base).unwrap();

    // Not JSON, or JSON of the wrong shape.
    let malformed: [(&str, Vec<u8>); 11] = [
        ("truncated", base_bytes[..base_bytes.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("plain text", b"hello".to_vec()),
        ("array", b"[]".to_vec()),
        ("string", b"\"x\"".to_vec()),
        ("null", b"null".to_vec()),
        ("number", b"42".to_vec()),
        ("invalid UTF-8", [&b"{\"x\": \""[..], &[0xff, 0xfe, 0xc3], b"\"}"].concat()),
        ("deep nesting", [vec![b'['; 30_000], vec![b']'; 30_000]].concat()),
        ("trailing garbage", [base_bytes.clone(), b"}{".to_vec()].concat()),
        ("NUL byte outside strings", [&base_bytes[..1], b"\0", &base_bytes[1..]].concat()),
    ];
    for (case, bytes) in malformed {
        let reply = send(router, request(endpoint, json_type, Body::from(bytes))).await;
        expect(format!("malformed: {case}"), reply, &["bad_request", "validation_failed"]);
    }
    let duplicate = {
        let text = String::from_utf8(base_bytes.clone()).unwrap();
        let (name, value) = endpoint.base.as_object().unwrap().iter().next().unwrap();
        format!("{{{}:{value},{}", json!(name), &text[1..])
    };
    let reply = send(router, request(endpoint, json_type, Body::from(duplicate))).await;
    expect("duplicate field".into(), reply, &["bad_request", "validation_failed"]);

    // Wrong or missing content type, with a body that would otherwise be fine.
    for content_type in [None, Some("text/html"), Some("application/x-www-form-urlencoded"), Some("application/xml")] {
        let reply = send(router, request(endpoint, content_type, Body::from(base_bytes.clone()))).await;
        expect(format!("content type {content_type:?}"), reply, &["unsupported_media_type"]);
    }

    // 10 MB: declared, streamed without a length, and as one string field.
    let big = vec![b'x'; 10 * 1024 * 1024];
    let mut declared = request(endpoint, json_type, Body::from(big.clone()));
    declared.headers_mut().insert(header::CONTENT_LENGTH, big.len().into());
    expect("10 MB declared".into(), send(router, declared).await, &["payload_too_large"]);
    let reply = send(router, request(endpoint, json_type, chunked(big))).await;
    expect("10 MB streamed".into(), reply, &["payload_too_large"]);
    let ten_mb = "x".repeat(10 * 1024 * 1024);
    let body = serde_json::to_vec(&with_pointer(&endpoint.base, endpoint.strings[0].0, json!(ten_mb))).unwrap();
    let reply = send(router, request(endpoint, json_type, chunked(body))).await;
    expect("10 MB string field".into(), reply, &["payload_too_large"]);

    // Unknown fields, at the top and nested.
    let mut extra = endpoint.base.clone();
    extra["is_admin"] = json!(true);
    let reply = send(router, request(endpoint, json_type, Body::from(serde_json::to_vec(&extra).unwrap()))).await;
    expect("unknown top-level field".into(), reply, &["bad_request", "validation_failed"]);
    if let Some(pointer) = endpoint.nested_object {
        let mut extra = endpoint.base.clone();
        extra.pointer_mut(pointer).unwrap()["evil"] = json!("x");
        let reply = send(router, request(endpoint, json_type, Body::from(serde_json::to_vec(&extra).unwrap()))).await;
        expect(format!("unknown field in {pointer}"), reply, &["bad_request", "validation_failed"]);
    }

    // Every string field: wrong type, control characters, 60 KB.
    for &(pointer, multi_line) in &endpoint.strings {
        let original = endpoint.base.pointer(pointer).unwrap().as_str().unwrap().to_owned();
        let mut poisoned = vec![json!(12345), json!({"$gt": ""}), json!(["a"]), json!("x".repeat(60 * 1024))];
        let controls: &[&str] = if multi_line {
            &["\u{0}", "\u{1b}[2J", "\u{7}", "\u{7f}", "\u{85}", "\u{8}"]
        } else {
            &["\u{0}", "\n", "\r\n", "\t", "\u{1b}[31m", "\u{7f}", "\u{85}", "\u{8}"]
        };
        for control in controls {
            let middle = original.len() / 2;
            let middle = (0..=middle).rev().find(|&i| original.is_char_boundary(i)).unwrap_or(0);
            poisoned.push(json!(format!("{original}{control}")));
            poisoned.push(json!(format!("{control}{original}")));
            poisoned.push(json!(format!("{}{control}{}", &original[..middle], &original[middle..])));
        }
        for value in poisoned {
            let shown: String = value.to_string().chars().take(40).collect();
            let body = serde_json::to_vec(&with_pointer(&endpoint.base, pointer, value)).unwrap();
            let reply = send(router, request(endpoint, json_type, Body::from(body))).await;
            // Any clear 4xx: a poisoned id is simply not found, a poisoned token invalid.
            expect(format!("{pointer} = {shown}"), reply, &[]);
        }
    }
    sent
}

fn catalog_body() -> Value {
    json!({"products": [{
        "id": "hostile-mug",
        "tweet_ids": ["1900000000000000001"],
        "title": "Mug",
        "description": "A mug.\nDishwasher safe.",
        "seller": {"name": "Mug Co", "kind": "brand"},
        "kind": "physical",
        "currency": "USD",
        "ships_to": ["US"],
        "shipping_minor": 500,
        "max_per_order": 2,
        "delivery": "Ships in 3 days.",
        "image_alt": "A white mug",
        "variants": [{"id": "white", "label": "White", "price_minor": 1500, "stock": 5}]
    }]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_endpoint_refuses_hostile_input_clearly_and_stores_nothing() {
    let server = start().await;
    let off = RateLimit { per_second: 0, burst: 0 };
    let routers = Routers {
        api: api_app(server.api_state.clone().with_rate_limit(off).with_admin_key(Some(ADMIN_KEY.into()))),
        vault: vault_app(server.vault_state.clone().with_rate_limit(off)),
    };

    // What the valid bodies need: an intent and a token for it (orders); a token for the
    // charge; a paid card with its save secret (saving); a saved profile's credential (for
    // minting saved-card tokens).
    let order_intent = server.create_intent(&tee_details(1)).await;
    let order_token = server.token_for("4242424242424242", "123", order_intent["intent_id"].as_str().unwrap()).await;
    let charge_token = server.token_for("5555555555554444", "123", VAULT_TEST_INTENT).await;
    let paid_intent = server.create_intent(&tee_details(1)).await;
    let (paid_token, save_secret) =
        server.token_with_secret("4242424242424242", "123", paid_intent["intent_id"].as_str().unwrap()).await;
    let paid = server.pay(&paid_intent, &paid_token, &fresh_key()).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    let credential = server.paid_and_saved().await;
    let saved_intent = server.create_intent(&tee_details(1)).await;

    let address_fields = |prefix: &'static str| -> Vec<(&'static str, bool)> {
        ["name", "line1", "line2", "city", "region", "postal_code", "country"]
            .into_iter()
            .map(|f| (&*Box::leak(format!("{prefix}/{f}").into_boxed_str()), false))
            .collect()
    };
    let mut intent_base = tee_details(1);
    intent_base["shipping"]["line2"] = json!("Apt 4");
    let mut save_base = json!({"token": paid_token, "save_secret": save_secret, "email": "jane@example.com",
                               "shipping": us_address()});
    save_base["shipping"]["line2"] = json!("Apt 4");
    let endpoints = vec![
        Endpoint {
            name: "quote",
            side: Side::Api,
            path: "/api/v1/quote",
            bearer: None,
            credential: None,
            idempotency_key: false,
            base: json!({"product_id": TEE, "variant_id": "m", "quantity": 1, "country": "US", "region": "NY"}),
            strings: vec![("/product_id", false), ("/variant_id", false), ("/country", false), ("/region", false)],
            nested_object: None,
        },
        Endpoint {
            name: "intents",
            side: Side::Api,
            path: "/api/v1/intents",
            bearer: None,
            credential: None,
            idempotency_key: false,
            base: intent_base,
            strings: [
                vec![("/email", false), ("/product_id", false), ("/variant_id", false), ("/tweet_id", false)],
                address_fields("/shipping"),
            ]
            .concat(),
            nested_object: Some("/shipping"),
        },
        Endpoint {
            name: "orders",
            side: Side::Api,
            path: "/api/v1/orders",
            bearer: None,
            credential: None,
            idempotency_key: true,
            base: pay_body(&order_intent, &order_token),
            strings: vec![("/intent_id", false), ("/client_secret", false), ("/card_token", false)],
            nested_object: None,
        },
        Endpoint {
            name: "admin catalog import",
            side: Side::Api,
            path: "/admin/v1/catalog",
            bearer: Some(ADMIN_KEY.into()),
            credential: None,
            idempotency_key: false,
            base: catalog_body(),
            strings: vec![
                ("/products/0/title", false),
                ("/products/0/id", false),
                ("/products/0/tweet_ids/0", false),
                ("/products/0/description", true),
                ("/products/0/seller/name", false),
                ("/products/0/seller/kind", false),
                ("/products/0/kind", false),
                ("/products/0/currency", false),
                ("/products/0/ships_to/0", false),
                ("/products/0/delivery", false),
                ("/products/0/image_alt", false),
                ("/products/0/variants/0/id", false),
                ("/products/0/variants/0/label", false),
            ],
            nested_object: Some("/products/0/variants/0"),
        },
        Endpoint {
            name: "tokenize",
            side: Side::Vault,
            path: "/v1/tokens",
            bearer: None,
            credential: None,
            idempotency_key: true,
            base: json!({"number": "4242424242424242", "expiry": future_expiry(), "cvc": "123",
                         "intent_id": VAULT_TEST_INTENT}),
            strings: vec![("/number", false), ("/expiry", false), ("/cvc", false), ("/intent_id", false)],
            nested_object: None,
        },
        Endpoint {
            name: "charge",
            side: Side::Vault,
            path: "/v1/charges",
            bearer: Some(VAULT_API_KEY.into()),
            credential: None,
            idempotency_key: false,
            base: json!({"token": charge_token, "amount": {"minor": 1500, "currency": "USD"}, "reference": "ord_hostile",
                         "intent_id": VAULT_TEST_INTENT}),
            strings: vec![("/reference", false), ("/token", false), ("/amount/currency", false), ("/intent_id", false)],
            nested_object: None,
        },
        Endpoint {
            name: "save profile",
            side: Side::Vault,
            path: "/v1/profiles",
            bearer: None,
            credential: None,
            idempotency_key: false,
            base: save_base,
            strings: [vec![("/email", false), ("/token", false), ("/save_secret", false)], address_fields("/shipping")]
                .concat(),
            nested_object: Some("/shipping"),
        },
        Endpoint {
            name: "saved-card token",
            side: Side::Vault,
            path: "/v1/profile/tokens",
            bearer: None,
            credential: Some(credential),
            idempotency_key: false,
            base: json!({"intent_id": saved_intent["intent_id"]}),
            strings: vec![("/intent_id", false)],
            nested_object: None,
        },
    ];

    let before = (table_counts(&server.api_state.db).await, table_counts(&server.vault_state.db).await);
    let mut total = 0;
    for endpoint in &endpoints {
        total += attack(&routers, endpoint).await;
    }
    let after = (table_counts(&server.api_state.db).await, table_counts(&server.vault_state.db).await);
    assert_eq!(before.0, after.0, "api rows changed");
    assert_eq!(before.1, after.1, "vault rows changed");
    eprintln!("{total} hostile requests, all refused with a 4xx JSON error; no row changed");

    // The base bodies were valid: each succeeds once, unpoisoned.
    for endpoint in &endpoints {
        let body = serde_json::to_vec(&endpoint.base).unwrap();
        let reply =
            send(routers.of(endpoint.side), request(endpoint, Some("application/json"), Body::from(body))).await;
        assert!(reply.status.is_success(), "{}: the base body fails: {} {}", endpoint.name, reply.status, reply.text());
    }
}
