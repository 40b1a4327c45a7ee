use crate::harness::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

async fn quote(server: &TestServer, body: Value) -> crate::harness::Reply {
    send(&server.api, post_json("/api/v1/quote", &body, None)).await
}

fn minor(body: &Value, part: &str) -> i64 {
    body[part]["minor"].as_i64().unwrap_or_else(|| panic!("no {part} in {body}"))
}

#[tokio::test]
async fn tee_to_new_york_rounds_tax_half_up() {
    let server = start().await;
    let reply =
        quote(&server, json!({"product_id": TEE, "variant_id": "m", "quantity": 2, "country": "US", "region": "NY"}))
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    // $60.00 × 8.875 % = $5.325 → $5.33; shipping $5.00 flat.
    assert_eq!((minor(&body, "subtotal"), minor(&body, "shipping"), minor(&body, "tax")), (6000, 500, 533));
    assert_eq!(minor(&body, "total"), 7033);
    assert_eq!(body["total"]["currency"], "USD");
    let _: tweetbuy_core::Quote = serde_json::from_value(body).unwrap();
}

#[tokio::test]
async fn rates_per_state_and_country() {
    let server = start().await;
    let cases = [
        // (product, variant, quantity, country, region, subtotal, shipping, tax)
        (TEE, "s", 1, Some("US"), "CA", 3000, 500, 218), // 7.25 % of 30.00 = 2.175 → 2.18
        (TEE, "s", 1, Some("US"), "TX", 3000, 500, 188), // 6.25 % = 1.875 → 1.88
        (TEE, "s", 1, Some("US"), "OR", 3000, 500, 150), // others 5 %
        (TEE, "s", 1, None, "", 3000, 500, 0),           // no destination yet: no tax
        (SCARF, "one-size", 1, Some("DE"), "", 45000, 1500, 0),
        ("pharrell-signature-hat", "one-size", 3, Some("US"), "ny", 14400, 700, 1278), // 12.78
        (TICKET, "ga", 3, Some("US"), "NY", 26850, 0, 0),                              // tickets: no shipping, no tax
        (TICKET, "vip", 1, None, "", 25000, 0, 0),
    ];
    for (product, variant, quantity, country, region, subtotal, shipping, tax) in cases {
        let mut body = json!({"product_id": product, "variant_id": variant, "quantity": quantity, "region": region});
        if let Some(country) = country {
            body["country"] = json!(country);
        }
        let reply = quote(&server, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{product} {}", reply.text());
        let q = reply.json();
        let got = (minor(&q, "subtotal"), minor(&q, "shipping"), minor(&q, "tax"), minor(&q, "total"));
        assert_eq!(got, (subtotal, shipping, tax, subtotal + shipping + tax), "{product} {country:?} {region}");
    }
    let reply = quote(&server, json!({"product_id": CONCIERTO, "variant_id": "general", "quantity": 2})).await;
    let q = reply.json();
    assert_eq!(q["total"], json!({"minor": 9000, "currency": "EUR"}));
}

#[tokio::test]
async fn bad_quotes_name_the_field() {
    let server = start().await;
    let reply = quote(&server, json!({"product_id": TEE, "variant_id": "xxl", "quantity": 1})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_code(), "validation_failed");
    assert_eq!(reply.fields(), ["variant"]);

    for quantity in [0, 6] {
        let reply = quote(&server, json!({"product_id": TEE, "variant_id": "m", "quantity": quantity})).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.fields(), ["quantity"], "quantity {quantity}");
    }

    let reply = quote(&server, json!({"product_id": TEE, "variant_id": "m", "quantity": 1, "country": "CA"})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.fields(), ["country"], "the tee ships to the US only");

    // A US state is checked as the intent checks it, once one is given.
    let body = json!({"product_id": TEE, "variant_id": "m", "quantity": 1, "country": "US", "region": "ZZ"});
    let reply = quote(&server, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.fields(), ["region"]);
    assert!(reply.text().contains("Choose a US state."), "{}", reply.text());
    let mut details = tee_details(1);
    details["shipping"]["region"] = json!("ZZ");
    let intent = server.intent(&details).await;
    assert_eq!(intent.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", intent.text());
    assert!(intent.text().contains("Choose a US state."), "the same words: {}", intent.text());

    let reply = quote(&server, json!({"product_id": "nope", "variant_id": "m", "quantity": 1})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "not_found");

    // Prices are the server's: a client-sent amount is an unknown field.
    let reply =
        quote(&server, json!({"product_id": TEE, "variant_id": "m", "quantity": 1, "price": {"minor": 1}})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_code(), "bad_request");
}
