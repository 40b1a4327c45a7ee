use crate::harness::*;
use axum::http::StatusCode;
use serde_json::json;

fn charge_request(token: &str, bearer: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let body = json!({"token": token, "amount": {"minor": 3500, "currency": "USD"}, "reference": "ord_test",
                      "intent_id": VAULT_TEST_INTENT});
    let mut request = post_json("/v1/charges", &body, None);
    if let Some(bearer) = bearer {
        request.headers_mut().insert("authorization", bearer.parse().unwrap());
    }
    request
}

async fn charge(server: &TestServer, token: &str) -> Reply {
    send(&server.vault, charge_request(token, Some(&format!("Bearer {VAULT_API_KEY}")))).await
}

async fn charge_for(server: &TestServer, token: &str, reference: &str) -> Reply {
    let body = json!({"token": token, "amount": {"minor": 3500, "currency": "USD"}, "reference": reference,
                      "intent_id": VAULT_TEST_INTENT});
    let mut request = post_json("/v1/charges", &body, None);
    request.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
    send(&server.vault, request).await
}

#[tokio::test]
async fn the_bearer_key_is_required() {
    let server = start().await;
    let token = server.vault_token("4242 4242 4242 4242", "123").await;
    for bearer in [None, Some("Bearer wrong"), Some(VAULT_API_KEY), Some("Basic dGVzdA=="), Some("Bearer ")] {
        let reply = send(&server.vault, charge_request(&token, bearer)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert_eq!(reply.error_code(), "unauthorized");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    // None of those attempts spent the token.
    assert_eq!(charge(&server, &token).await.json()["status"], "approved");
}

#[tokio::test]
async fn each_test_card_has_its_outcome() {
    let server = start().await;
    let cases = [
        ("4242 4242 4242 4242", "123", None, "visa"),
        ("2223 0031 2200 3222", "123", None, "mastercard"),
        ("3782 822463 10005", "1234", None, "amex"),
        ("6011 1111 1111 1117", "123", None, "discover"),
        ("4000 0000 0000 0002", "123", Some("card_declined"), "visa"),
        // A one-time card's caller is not told why: "insufficient funds" or "incorrect
        // CVC" would tell a card tester that the number is real.
        ("4000 0000 0000 9995", "123", Some("card_declined"), "visa"),
        ("4000 0000 0000 0069", "123", Some("card_declined"), "visa"),
        ("4000 0000 0000 0127", "123", Some("card_declined"), "visa"),
        ("4000 0000 0000 0119", "123", Some("processing_error"), "visa"),
    ];
    for (number, cvc, decline, brand) in cases {
        let token = server.vault_token(number, cvc).await;
        let reply = charge(&server, &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{number}: {}", reply.text());
        let result: tweetbuy_core::vault::ChargeResult = serde_json::from_slice(&reply.body).unwrap();
        let expected_status = if decline.is_some() { "declined" } else { "approved" };
        let body = reply.json();
        assert_eq!(body["status"], expected_status, "{number}");
        assert_eq!(body["decline_code"].as_str(), decline, "{number}");
        assert_eq!(body["brand"], brand);
        assert_eq!(result.last4, number.replace(' ', "")[number.replace(' ', "").len() - 4..]);
        assert!(result.charge_id.starts_with("ch_"));
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(n, 9, "every attempt is recorded");
    // The vault's own record keeps the processor's reason.
    let mut codes: Vec<(String,)> =
        sqlx::query_as("SELECT decline_code FROM charges WHERE decline_code IS NOT NULL ORDER BY decline_code")
            .fetch_all(&server.vault_state.db)
            .await
            .unwrap();
    codes.dedup();
    let codes: Vec<String> = codes.into_iter().map(|(c,)| c).collect();
    assert_eq!(codes, ["card_declined", "expired_card", "incorrect_cvc", "insufficient_funds", "processing_error"]);
    // The same holds when the api asks later what settled an order.
    let mut request = get("/v1/charges/ord_test");
    request.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
    let reply = send(&server.vault, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

/// Card testing: the same number declined five times in ten minutes is declined without
/// asking the processor for an hour; other cards are not affected.
#[tokio::test]
async fn a_card_declined_five_times_is_blocked() {
    let server = start().await;
    for attempt in 0..5 {
        let token = server.vault_token("4000 0000 0000 9995", "123").await;
        let reply = charge_for(&server, &token, &format!("ord_t{attempt}")).await;
        assert_eq!(reply.json()["decline_code"], "card_declined", "attempt {attempt}");
    }
    let (blocks,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM card_blocks").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(blocks, 1);
    // What a blocked card would have done does not matter: make the processor approve it
    // by pointing its block at a good card, and see that the charge is still declined.
    let good = "4242 4242 4242 4242";
    let fingerprint = tweetbuy_server::vault::card_testing::fingerprint(
        &server.vault_state.keys,
        &tweetbuy_core::CardNumber::parse(good).unwrap(),
    );
    sqlx::query("INSERT INTO card_blocks (fingerprint, blocked_until) VALUES ($1, $2)")
        .bind(&fingerprint)
        .bind(tweetbuy_server::clock::now() + 3600)
        .execute(&server.vault_state.db)
        .await
        .unwrap();
    let token = server.vault_token(good, "123").await;
    let reply = charge_for(&server, &token, "ord_blocked").await;
    assert_eq!(reply.json()["status"], "declined", "a blocked card is not sent to the processor");
    assert_eq!(reply.json()["decline_code"], "card_declined");
    // The same for a card stored without its fingerprint (tokenized before it was kept), or
    // with one under an earlier master key: the number is checked under the current key.
    for stored in [None, Some("fingerprint-under-an-earlier-key")] {
        let token = server.vault_token(good, "123").await;
        sqlx::query("UPDATE cards SET fingerprint = $1 WHERE token = $2")
            .bind(stored)
            .bind(&token)
            .execute(&server.vault_state.db)
            .await
            .unwrap();
        let reply = charge_for(&server, &token, &format!("ord_blocked_{}", stored.is_some())).await;
        assert_eq!(reply.json()["status"], "declined", "stored {stored:?}");
    }
    // Its refusals do not lengthen the block, and another card is untouched.
    let (declines,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM card_declines WHERE fingerprint = $1")
        .bind(&fingerprint)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert_eq!(declines, 0);
    let other = server.vault_token("5555 5555 5555 4444", "123").await;
    assert_eq!(charge_for(&server, &other, "ord_other_card").await.json()["status"], "approved");

    // An hour later the block is over (the sweeper forgets it): the card is charged again.
    let later = tweetbuy_server::clock::now() + 3601;
    tweetbuy_server::vault::sweeper::sweep_once(&server.vault_state.db, later).await.unwrap();
    let (blocks,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM card_blocks").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(blocks, 0);
    let token = server.vault_token(good, "123").await;
    assert_eq!(charge_for(&server, &token, "ord_after").await.json()["status"], "approved");
}

#[tokio::test]
async fn a_token_is_charged_once() {
    let server = start().await;
    let token = server.vault_token("4242 4242 4242 4242", "123").await;
    // The same order's charge twice at once (the api resuming an order while its first
    // request is still on the way): one charge, and both answers name it.
    let (first, second) = tokio::join!(charge(&server, &token), charge(&server, &token));
    assert_eq!((first.status, second.status), (StatusCode::OK, StatusCode::OK), "{}", second.text());
    assert_eq!(first.json()["charge_id"], second.json()["charge_id"], "one charge for one order");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(n, 1);
    // Another order cannot spend the token again.
    let reply = charge_for(&server, &token, "ord_other").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "token_invalid");

    // A non-retryable decline spends the token too.
    let declined = server.vault_token("4000 0000 0000 0002", "123").await;
    let first = charge(&server, &declined).await;
    assert_eq!(first.json()["decline_code"], "card_declined");
    assert_eq!(charge(&server, &declined).await.body, first.body, "the same order hears the same decline");
    assert_eq!(charge_for(&server, &declined, "ord_other").await.error_code(), "token_invalid");
}

/// Charges that come at once (on PostgreSQL they go in one transaction) each get their own
/// card's outcome, charge and record.
#[tokio::test]
async fn charges_at_once_each_get_their_own_outcome() {
    let server = start().await;
    let cards = [
        ("4242 4242 4242 4242", None),
        ("4000 0000 0000 0002", Some("card_declined")),
        ("2223 0031 2200 3222", None),
        ("4000 0000 0000 0119", Some("processing_error")),
        ("6011 1111 1111 1117", None),
        ("4000 0000 0000 9995", Some("card_declined")),
    ];
    let mut tokens = Vec::new();
    for (number, _) in cards {
        tokens.push(server.vault_token(number, "123").await);
    }
    let references: Vec<String> = (0..cards.len()).map(|i| format!("ord_at_once_{i}")).collect();
    let replies = futures_util::future::join_all(
        tokens.iter().zip(&references).map(|(token, reference)| charge_for(&server, token, reference)),
    )
    .await;
    let mut charge_ids = std::collections::HashSet::new();
    for (((number, decline), reply), reference) in cards.iter().zip(&replies).zip(&references) {
        assert_eq!(reply.status, StatusCode::OK, "{number}: {}", reply.text());
        let body = reply.json();
        assert_eq!(body["decline_code"].as_str(), *decline, "{number}");
        let digits = number.replace(' ', "");
        assert_eq!(body["last4"].as_str(), Some(&digits[digits.len() - 4..]), "{number}");
        let charge_id = body["charge_id"].as_str().unwrap().to_owned();
        let (recorded,): (String,) = sqlx::query_as("SELECT reference FROM charges WHERE id = $1")
            .bind(&charge_id)
            .fetch_one(&server.vault_state.db)
            .await
            .unwrap();
        assert_eq!(&recorded, reference, "{number}: the charge is recorded for its own order");
        assert!(charge_ids.insert(charge_id));
    }
    // The processing error gave its token back; every other token is spent.
    let retry = charge_for(&server, &tokens[3], &references[3]).await;
    assert_eq!(retry.json()["decline_code"], "processing_error");
    assert_eq!(charge_for(&server, &tokens[0], "ord_other").await.error_code(), "token_invalid");
}

#[tokio::test]
async fn a_processing_error_does_not_spend_the_token() {
    let server = start().await;
    let token = server.vault_token("4000 0000 0000 0119", "123").await;
    for _ in 0..2 {
        let reply = charge(&server, &token).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json()["decline_code"], "processing_error");
    }
}

#[tokio::test]
async fn unknown_expired_and_bad_requests_are_refused() {
    let server = start().await;
    let reply = charge(&server, "tok_doesnotexist").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "token_invalid");

    let token = server.vault_token("4242 4242 4242 4242", "123").await;
    sqlx::query("UPDATE cards SET expires_at = $1 WHERE token = $2")
        .bind(tweetbuy_server::clock::now() - 1)
        .bind(&token)
        .execute(&server.vault_state.db)
        .await
        .unwrap();
    let reply = charge(&server, &token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "expired after 15 minutes");
    assert_eq!(reply.error_code(), "token_invalid");

    let fresh = server.vault_token("4242 4242 4242 4242", "123").await;
    let mut request = post_json(
        "/v1/charges",
        &json!({"token": fresh, "amount": {"minor": 0, "currency": "USD"}, "reference": "", "intent_id": "pi_"}),
        None,
    );
    request.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
    let reply = send(&server.vault, request).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.fields(), ["amount", "reference", "intent_id"]);
    assert_eq!(charge(&server, &fresh).await.json()["status"], "approved", "a refused request spends nothing");
}

#[tokio::test]
async fn a_token_is_charged_only_for_the_intent_it_was_minted_for() {
    let server = start().await;
    let token = server.token_for("4242 4242 4242 4242", "123", "pi_intenta").await;
    let reply = server.vault_charge(&token, "pi_intentb", "ord_b", 3500).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "token_mismatch");
    assert_eq!(server.vault_charges().await, 0, "no charge row");
    assert!(!server.token_used(&token).await, "not spent");
    // Asked again for the other intent, the same answer; then its own intent charges it.
    assert_eq!(server.vault_charge(&token, "pi_intentb", "ord_b", 3500).await.error_code(), "token_mismatch");
    let reply = server.vault_charge(&token, "pi_intenta", "ord_a", 3500).await;
    assert_eq!(reply.json()["status"], "approved", "{}", reply.text());
    assert_eq!(server.vault_charges().await, 1);

    // The charge must name an intent, in the intent form.
    let body = json!({"token": token, "amount": {"minor": 3500, "currency": "USD"}, "reference": "ord_c"});
    let mut request = post_json("/v1/charges", &body, None);
    request.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
    let reply = send(&server.vault, request).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.json()["message"].as_str().unwrap().contains("intent_id"), "{}", reply.text());
    for malformed in ["", "pi_", "tok_abc", "pi_a b"] {
        let reply = server.vault_charge(&token, malformed, "ord_c", 3500).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{malformed:?}");
        assert_eq!(reply.fields(), ["intent_id"], "{malformed:?}");
    }
}
