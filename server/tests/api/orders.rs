use crate::harness::*;
use axum::http::StatusCode;
use serde_json::json;

const VISA: &str = "4242 4242 4242 4242";

#[tokio::test]
async fn happy_path_charges_the_token_and_keeps_stock_and_receipt() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(2)).await;
    let intent_id = intent["intent_id"].as_str().unwrap().to_owned();
    assert!(intent_id.starts_with("pi_"), "{intent}");
    let token = server.token_for(VISA, "123", &intent_id).await;
    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let receipt: tweetbuy_core::OrderReceipt = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(receipt.status, tweetbuy_core::order::OrderStatus::Paid);
    assert!(receipt.order_number.starts_with("TB-") && receipt.order_number.len() == 9, "{}", receipt.order_number);
    assert_eq!(receipt.product_title, "(RED) limited-edition tee");
    assert_eq!(receipt.variant_label, "M");
    assert_eq!(receipt.quantity, 2);
    assert_eq!(receipt.quote.total.minor, 6000 + 500 + 533);
    assert_eq!(serde_json::to_value(&receipt.quote).unwrap(), intent["quote"], "the intent's quote");
    assert_eq!(receipt.card_brand, tweetbuy_core::CardBrand::Visa);
    assert_eq!(receipt.card_last4, "4242");
    assert_eq!(receipt.email, "jane@example.com");
    assert_eq!(receipt.shipping.as_ref().unwrap().region, "NY");
    assert_eq!(server.stock(TEE, "m").await, Some(13), "two reserved for good");

    let (status, last4, decline, charge_id) = server.order_row(&receipt.order_id).await;
    assert_eq!((status.as_str(), last4.as_deref(), decline), ("paid", Some("4242"), None));
    assert!(charge_id.unwrap().starts_with("ch_"));
    let (share, tweet, paid_intent): (i64, Option<String>, Option<String>) =
        sqlx::query_as("SELECT CASE WHEN share_email THEN 1 ELSE 0 END, tweet_id, intent_id FROM orders WHERE id = $1")
            .bind(&receipt.order_id)
            .fetch_one(&server.api_state.db)
            .await
            .unwrap();
    assert_eq!(share, 1, "consent is recorded");
    assert_eq!(tweet.as_deref(), Some("1528000000000000001"));
    assert_eq!(paid_intent.as_deref(), Some(intent_id.as_str()));

    // The intent is paid: neither its token nor another one pays it again.
    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(reply.error_code(), "intent_invalid");
    // The one-time token cannot pay for a second order: it was minted for the first.
    let other = server.create_intent(&tee_details(1)).await;
    let reply = server.pay(&other, &token, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "token_mismatch");
    assert_eq!(server.stock(TEE, "m").await, Some(13), "the failed order gave its unit back");
    assert_eq!(server.vault_charges().await, 1, "one charge in all");
}

#[tokio::test]
async fn tickets_need_no_address_and_carry_delivery() {
    let server = start().await;
    let token = server.tokenize("3782 822463 10005", "1234").await;
    let body = json!({
        "product_id": TICKET, "variant_id": "vip", "quantity": 2,
        "email": "fan@example.com", "card_token": token
    });
    let reply = server.order(&body, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let receipt = reply.json();
    assert_eq!(receipt["delivery"], "Your ticket is emailed to you.");
    assert_eq!(receipt["quote"]["total"]["minor"], 50000);
    assert_eq!(receipt["card_brand"], "amex");
    assert_eq!(receipt["shipping"], serde_json::Value::Null);
    assert_eq!(server.stock(TICKET, "vip").await, Some(48));
}

const GENERIC_DECLINE: &str = "Your card was declined. Check the card details, or try another card.";

#[tokio::test]
async fn declines_release_stock_and_answer_402_with_the_reason() {
    let server = start().await;
    let cases = [
        // A typed card's reason is not told (card testing): one code and message for all.
        ("4000 0000 0000 0002", "card_declined", GENERIC_DECLINE),
        ("4000 0000 0000 9995", "card_declined", GENERIC_DECLINE),
        ("4000 0000 0000 0069", "card_declined", GENERIC_DECLINE),
        ("4000 0000 0000 0127", "card_declined", GENERIC_DECLINE),
        ("4000 0000 0000 0119", "processing_error", "We could not process your card. Please try again in a moment."),
    ];
    for (number, code, message) in cases {
        let token = server.tokenize(number, "123").await;
        let reply = server.order(&tee_order(&token, 3), &fresh_key()).await;
        assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED, "{number}: {}", reply.text());
        assert_eq!(reply.error_code(), "payment_declined");
        let body = reply.json();
        assert_eq!(body["decline_code"], code);
        assert_eq!(body["message"], message);
        assert_eq!(server.stock(TEE, "m").await, Some(15), "{number}: reservation released");
    }
    let declined: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, decline_code FROM orders ORDER BY created_at")
            .fetch_all(&server.api_state.db)
            .await
            .unwrap();
    assert_eq!(declined.len(), 5);
    assert!(declined.iter().all(|(status, code)| status == "declined" && code.is_some()));
}

#[tokio::test]
async fn a_processing_error_leaves_the_token_usable() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for("4000 0000 0000 0119", "123", intent["intent_id"].as_str().unwrap()).await;
    for attempt in 0..2 {
        // A new key each time: the buyer pressed Pay again, with the same card and intent.
        let reply = server.pay(&intent, &token, &fresh_key()).await;
        assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED, "attempt {attempt}: {}", reply.text());
        assert_eq!(reply.json()["decline_code"], "processing_error", "retryable, not token_invalid");
    }
    assert!(!server.token_used(&token).await);
    assert_eq!(server.stock(TEE, "m").await, Some(15));
}

#[tokio::test]
async fn sold_out_sale_ended_and_not_started_are_409() {
    let server = start().await;
    // Refused when the intent is priced: nothing to pay.
    let mut details = tee_details(1);
    details["product_id"] = json!(SOLD_OUT_TEE);
    let reply = server.intent(&details).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(reply.error_code(), "sold_out");

    details["product_id"] = json!(TOOL_KIT);
    details["variant_id"] = json!("kit");
    let reply = server.intent(&details).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error_code(), "sale_ended");
    assert_eq!(server.stock(TOOL_KIT, "kit").await, Some(100));

    let not_started = |db: tweetbuy_server::db::Db, at: i64| async move {
        sqlx::query("UPDATE products SET sale_starts_at = $1 WHERE id = $2")
            .bind(at)
            .bind("pharrell-signature-hat")
            .execute(&db)
            .await
            .unwrap();
    };
    not_started(server.api_state.db.clone(), tweetbuy_server::clock::now() + 3600).await;
    details["product_id"] = json!("pharrell-signature-hat");
    details["variant_id"] = json!("one-size");
    let reply = server.intent(&details).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error_code(), "sale_not_started");
    assert_eq!(server.count("payment_intents").await, 0, "no intent for refused sales");

    // And when the sale changes after the intent was priced, the order is refused the same
    // way, before any charge.
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for(VISA, "123", intent["intent_id"].as_str().unwrap()).await;
    server.set_stock(TEE, "m", 0).await;
    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(reply.error_code(), "sold_out");
    server.set_stock(TEE, "m", 15).await;
    sqlx::query("UPDATE products SET sale_ends_at = $1 WHERE id = $2")
        .bind(tweetbuy_server::clock::now() - 1)
        .bind(TEE)
        .execute(&server.api_state.db)
        .await
        .unwrap();
    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::CONFLICT, "sale_ended"));
    sqlx::query("UPDATE products SET sale_ends_at = NULL WHERE id = $1")
        .bind(TEE)
        .execute(&server.api_state.db)
        .await
        .unwrap();

    assert_eq!(server.count("orders").await, 0, "no order rows for refused sales");
    assert_eq!(server.vault_charges().await, 0);
    // The token was never charged, so it still pays its intent.
    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

#[tokio::test]
async fn fewer_left_than_the_order_asks_for_is_told_apart_from_sold_out() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(3)).await;
    let token = server.token_for(VISA, "123", intent["intent_id"].as_str().unwrap()).await;
    // Other buyers take all but two units after the intent was priced.
    server.set_stock(TEE, "m", 2).await;
    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(reply.error_code(), "not_enough_stock");
    assert_eq!(reply.json()["message"], "Only 2 of this option left: choose fewer.");
    assert_eq!(server.stock(TEE, "m").await, Some(2), "nothing taken");
    // None left: sold out, as before.
    server.set_stock(TEE, "m", 0).await;
    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::CONFLICT, "sold_out"));
    assert_eq!(server.count("orders").await, 0);
    assert_eq!(server.vault_charges().await, 0);
}

#[tokio::test]
async fn the_last_unit_goes_to_exactly_one_buyer() {
    let server = start().await;
    server.set_stock(TEE, "m", 1).await;
    let (a, b) = (server.tokenize(VISA, "123").await, server.tokenize(VISA, "123").await);
    let (key_a, key_b) = (fresh_key(), fresh_key());
    let (order_a, order_b) = (tee_order(&a, 1), tee_order(&b, 1));
    let (first, second) = tokio::join!(server.order(&order_a, &key_a), server.order(&order_b, &key_b));
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let loser = if first.status == StatusCode::CONFLICT { first } else { second };
    assert_eq!(loser.error_code(), "sold_out");
    assert_eq!(server.stock(TEE, "m").await, Some(0));
}

#[tokio::test]
async fn validation_errors_name_every_field_and_store_nothing() {
    let server = start().await;
    // What the buyer chose is checked when the intent is priced.
    let body = json!({"product_id": TEE, "variant_id": "m", "quantity": 0, "email": "not-an-email"});
    let reply = server.intent(&body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "validation_failed");
    let fields = reply.fields();
    for field in ["quantity", "email", "shipping"] {
        assert!(fields.iter().any(|f| f == field), "{field} missing from {fields:?}");
    }

    let mut body = tee_details(1);
    body["shipping"]["postal_code"] = json!("ABC");
    body["shipping"]["country"] = json!("DE");
    let reply = server.intent(&body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.fields().contains(&"country".to_owned()), "{:?}", reply.fields());

    let reply =
        server.intent(&json!({"product_id": "nope", "variant_id": "m", "quantity": 1, "email": "a@b.co"})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(server.count("payment_intents").await, 0);

    // The card token is checked when the intent is paid.
    let intent = server.create_intent(&tee_details(1)).await;
    for token in ["", "   ", "tok_a\ntok_b", &"t".repeat(200)] {
        let reply = server.pay(&intent, token, &fresh_key()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{token:?}: {}", reply.text());
        assert_eq!(reply.error_code(), "validation_failed");
        assert_eq!(reply.fields(), ["card_token"]);
    }

    assert_eq!(server.count("orders").await, 0);
    assert_eq!(server.count("idempotency_keys").await, 0);
    assert_eq!(server.stock(TEE, "m").await, Some(15));
}

#[tokio::test]
async fn an_unreachable_vault_fails_the_order_with_502_and_releases_stock() {
    // A port that was just free: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let server = start_with(|settings| settings.vault_internal_url = url).await;
    let token = server.tokenize(VISA, "123").await;
    let reply = server.order(&tee_order(&token, 2), &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.text());
    assert_eq!(reply.error_code(), "payment_error");
    assert_eq!(server.stock(TEE, "m").await, Some(15));
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM orders").fetch_one(&server.api_state.db).await.unwrap();
    assert_eq!(status, "failed");
}

#[tokio::test]
async fn a_wrong_vault_key_is_a_payment_error_not_a_charge() {
    let server = start_with(|settings| settings.vault_api_key = "wrong".into()).await;
    let token = server.tokenize(VISA, "123").await;
    let reply = server.order(&tee_order(&token, 1), &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.error_code(), "payment_error");
}

#[tokio::test]
async fn api_db_never_holds_a_card_number_or_token() {
    let server = start().await;
    let mut tokens = Vec::new();
    for number in ["4242424242424242", "4000000000000002", "378282246310005"] {
        let intent = server.create_intent(&tee_details(1)).await;
        let cvc = if number.starts_with('3') { "1234" } else { "123" };
        let token = server.token_for(number, cvc, intent["intent_id"].as_str().unwrap()).await;
        let _ = server.pay(&intent, &token, &fresh_key()).await;
        tokens.push(token);
    }
    assert_eq!(server.count("orders").await, 3);
    let bytes = server.db_bytes("api.db").await;
    for number in ["4242424242424242", "4000000000000002", "378282246310005"] {
        assert!(!contains(&bytes, number.as_bytes()), "{number} found in api.db");
    }
    assert!(contains(&bytes, b"jane@example.com"), "the search does see stored text");
    // Nor the vault tokens: orders keep the charge id, never the token.
    for token in &tokens {
        assert!(!contains(&bytes, token.as_bytes()), "{token} found in api.db");
    }
}
