//! Payment intents: the api prices what the buyer chose into an intent; the vault mints each
//! token for one intent; an order pays exactly its intent, once. Each test here fails if that
//! binding breaks: a token paying another intent, an intent paid twice, an order whose amount
//! is not the intent's.

use crate::harness::*;
use axum::http::StatusCode;
use serde_json::{json, Value};
use tweetbuy_server::clock;

const VISA: &str = "4242 4242 4242 4242";
const MASTERCARD: &str = "5555 5555 5555 4444";

fn id(intent: &Value) -> &str {
    intent["intent_id"].as_str().unwrap()
}

/// The status of the one order that pays `intent`, if any.
async fn orders_of(server: &TestServer, intent: &Value) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT status FROM orders WHERE intent_id = $1 ORDER BY created_at")
        .bind(id(intent))
        .fetch_all(&server.api_state.db)
        .await
        .unwrap();
    rows.into_iter().map(|(s,)| s).collect()
}

#[tokio::test]
async fn an_intent_is_priced_on_the_server_and_keeps_only_a_hash_of_its_secret() {
    let server = start().await;
    let reply = server.intent(&tee_details(2)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let intent: tweetbuy_core::PaymentIntent = serde_json::from_slice(&reply.body).unwrap();
    assert!(tweetbuy_core::vault::is_intent_id(&intent.intent_id), "{}", intent.intent_id);
    assert!(intent.client_secret.starts_with(&format!("{}_secret_", intent.intent_id)));
    assert_eq!(intent.quote.total.minor, 6000 + 500 + 533);
    assert_eq!(
        (intent.product_title.as_str(), intent.variant_label.as_str(), intent.quantity),
        ("(RED) limited-edition tee", "M", 2)
    );
    assert!(!intent.seller.is_empty());
    assert_eq!(intent.email, "jane@example.com");
    let now = clock::now();
    assert!((now + 29 * 60..=now + 30 * 60).contains(&intent.expires_at), "{}", intent.expires_at);
    assert_eq!(server.stock(TEE, "m").await, Some(15), "an intent reserves nothing");
    let bytes = server.db_bytes("api.db").await;
    assert!(!contains(&bytes, intent.client_secret.as_bytes()), "the secret is stored as a hash only");
    assert!(contains(&bytes, intent.intent_id.as_bytes()), "the search does see stored text");
}

#[tokio::test]
async fn a_token_minted_for_another_intent_charges_nothing_and_still_pays_its_own() {
    let server = start().await;
    let (a, b) = (server.create_intent(&tee_details(1)).await, server.create_intent(&tee_details(2)).await);
    let token_a = server.token_for(VISA, "123", id(&a)).await;

    let reply = server.pay(&b, &token_a, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "token_mismatch");
    assert_eq!(server.vault_charges().await, 0, "no charge row at the vault");
    assert!(!server.token_used(&token_a).await, "the token is not spent");
    // The order is taken back whole: no row, no stored answer, the intent free again.
    assert!(orders_of(&server, &b).await.is_empty(), "B's order is not paid");
    assert_eq!(server.count("idempotency_keys").await, 0);
    assert_eq!(server.stock(TEE, "m").await, Some(15), "its stock is back");

    // A pays with its own token; B with one minted for it.
    let paid = server.pay(&a, &token_a, &fresh_key()).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    assert_eq!(paid.json()["quantity"], 1, "A's order, not B's");
    let token_b = server.token_for(MASTERCARD, "123", id(&b)).await;
    let paid = server.pay(&b, &token_b, &fresh_key()).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    assert_eq!(paid.json()["card_last4"], "4444");
    assert_eq!(server.vault_charges().await, 2);
    assert_eq!(server.stock(TEE, "m").await, Some(12));
}

#[tokio::test]
async fn two_tokens_of_one_intent_in_sequence_charge_once() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let first = server.token_for(VISA, "123", id(&intent)).await;
    let second = server.token_for(MASTERCARD, "123", id(&intent)).await;
    assert_eq!(server.pay(&intent, &first, &fresh_key()).await.status, StatusCode::CREATED);
    let reply = server.pay(&intent, &second, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(reply.error_code(), "intent_invalid");
    assert_eq!(server.vault_charges().await, 1, "exactly one charge");
    assert!(!server.token_used(&second).await, "the second card was never sent to the vault");
    assert_eq!(orders_of(&server, &intent).await, ["paid"]);
    assert_eq!(server.stock(TEE, "m").await, Some(14));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tokens_of_one_intent_at_once_charge_once() {
    let server = start().await;
    for round in 0..5 {
        let intent = server.create_intent(&tee_details(1)).await;
        let first = server.token_for(VISA, "123", id(&intent)).await;
        let second = server.token_for(MASTERCARD, "123", id(&intent)).await;
        let (key_a, key_b) = (fresh_key(), fresh_key());
        let (a, b) = tokio::join!(server.pay(&intent, &first, &key_a), server.pay(&intent, &second, &key_b));
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "round {round}: {} / {}", a.text(), b.text());
        let loser = if a.status == StatusCode::CONFLICT { a } else { b };
        assert_eq!(loser.error_code(), "intent_invalid");
        assert_eq!(orders_of(&server, &intent).await, ["paid"], "round {round}");
        assert_eq!(server.vault_charges().await, round + 1, "round {round}: exactly one charge per intent");
    }
    assert_eq!(server.stock(TEE, "m").await, Some(10));
}

#[tokio::test]
async fn after_a_declined_card_the_same_intent_pays_with_a_new_token() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let declined = server.token_for("4000 0000 0000 0002", "123", id(&intent)).await;
    let reply = server.pay(&intent, &declined, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED, "{}", reply.text());
    assert_eq!(server.stock(TEE, "m").await, Some(15));

    let good = server.token_for(VISA, "123", id(&intent)).await;
    let reply = server.pay(&intent, &good, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(orders_of(&server, &intent).await, ["declined", "paid"]);
    let (approved,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM charges WHERE status = 'approved'")
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert_eq!(approved, 1);
    assert_eq!(server.stock(TEE, "m").await, Some(14));
    // Paid now: a third card is refused.
    let third = server.token_for(MASTERCARD, "123", id(&intent)).await;
    assert_eq!(server.pay(&intent, &third, &fresh_key()).await.error_code(), "intent_invalid");
}

#[tokio::test]
async fn a_wrong_secret_an_unknown_or_an_expired_intent_is_refused_and_nothing_is_stored() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for(VISA, "123", id(&intent)).await;
    let secret = intent["client_secret"].as_str().unwrap().to_owned();
    let other = server.create_intent(&tee_details(1)).await;

    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut wrong = pay_body(&intent, &token);
    // Its last character changed (to one it is not: one secret in 32 ends in `x`).
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    wrong["client_secret"] = json!(format!("{}{last}", &secret[..secret.len() - 1]));
    cases.push(("a wrong secret", wrong));
    let mut theirs = pay_body(&intent, &token);
    theirs["client_secret"] = other["client_secret"].clone();
    cases.push(("another intent's secret", theirs));
    let mut empty = pay_body(&intent, &token);
    empty["client_secret"] = json!("");
    cases.push(("no secret", empty));
    let mut unknown = pay_body(&intent, &token);
    unknown["intent_id"] = json!("pi_doesnotexist0000000000");
    cases.push(("an unknown intent", unknown));
    let mut malformed = pay_body(&intent, &token);
    malformed["intent_id"] = json!("ord_notanintent");
    cases.push(("not an intent id", malformed));
    for (case, body) in cases {
        let reply = send(&server.api, post_json("/api/v1/orders", &body, Some(&fresh_key()))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {}", reply.text());
        assert_eq!(reply.error_code(), "intent_invalid", "{case}");
    }

    // Expired, as the database has it: paid at a process that reads it (the one that wrote
    // it may still hold it as written, with the same expiry: `intents::tests`).
    sqlx::query("UPDATE payment_intents SET expires_at = $1 WHERE id = $2")
        .bind(clock::now() - 1)
        .bind(id(&intent))
        .execute(&server.api_state.db)
        .await
        .unwrap();
    let mut reading = server.api_state.clone();
    reading.intents = tweetbuy_server::api::kept_intents::KeptIntents::default();
    let reading = tweetbuy_server::api_app(reading);
    let reply = send(&reading, post_json("/api/v1/orders", &pay_body(&intent, &token), Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "expired: {}", reply.text());
    assert_eq!(reply.error_code(), "intent_invalid");

    assert_eq!(server.count("orders").await, 0);
    assert_eq!(server.count("idempotency_keys").await, 0, "the keys are free again");
    assert_eq!(server.vault_charges().await, 0);
    assert!(!server.token_used(&token).await);
    assert_eq!(server.stock(TEE, "m").await, Some(15));

    // The same body, once the intent is live again, pays: the refusals were the intent's.
    sqlx::query("UPDATE payment_intents SET expires_at = $1 WHERE id = $2")
        .bind(clock::now() + 600)
        .bind(id(&intent))
        .execute(&server.api_state.db)
        .await
        .unwrap();
    let reply = send(&reading, post_json("/api/v1/orders", &pay_body(&intent, &token), Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

#[tokio::test]
async fn a_saved_card_token_pays_only_the_intent_it_was_minted_for() {
    let server = start().await;
    let credential = server.paid_and_saved().await;
    let charges = server.vault_charges().await;
    let (a, b) = (server.create_intent(&tee_details(1)).await, server.create_intent(&tee_details(1)).await);
    let minted = server.mint_saved(&credential, id(&a)).await;
    assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text());
    let saved = minted.json()["token"].as_str().unwrap().to_owned();
    assert!(saved.starts_with("sav_"));

    let reply = server.pay(&b, &saved, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "token_mismatch");
    assert_eq!(server.vault_charges().await, charges, "nothing charged");
    assert!(orders_of(&server, &b).await.is_empty());

    let reply = server.pay(&a, &saved, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.json()["card_last4"], "4242");
    assert_eq!(server.vault_charges().await, charges + 1);
    assert_eq!(server.stock(TEE, "m").await, Some(13), "the first purchase and A");
}

#[tokio::test]
async fn the_amount_charged_is_the_intents_whatever_the_catalog_says_later() {
    let server = start().await;
    let intent = server.create_intent(&tee_details(2)).await;
    let quoted = intent["quote"].clone();
    assert_eq!(quoted["total"]["minor"], 6000 + 500 + 533);
    let token = server.token_for(VISA, "123", id(&intent)).await;

    // The seller changes the price after the buyer saw it beside Pay.
    sqlx::query("UPDATE variants SET price_minor = 99999 WHERE product_id = $1 AND id = 'm'")
        .bind(TEE)
        .execute(&server.api_state.db)
        .await
        .unwrap();
    let repriced = server.create_intent(&tee_details(2)).await;
    assert_ne!(repriced["quote"], quoted, "a new intent has the new price");

    // An order cannot bring a price, an item or a quantity of its own.
    for (field, value) in [
        ("amount", json!({"minor": 1, "currency": "USD"})),
        ("total", json!({"minor": 1, "currency": "USD"})),
        ("quote", quoted.clone()),
        ("product_id", json!(TICKET)),
        ("quantity", json!(1)),
        ("email", json!("mallory@example.com")),
        ("shipping", us_address()),
    ] {
        let mut body = pay_body(&intent, &token);
        body[field] = value;
        let reply = send(&server.api, post_json("/api/v1/orders", &body, Some(&fresh_key()))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", reply.text());
        assert_eq!(reply.error_code(), "bad_request", "{field}");
        assert!(reply.json()["message"].as_str().unwrap().contains(&format!("unknown field `{field}`")), "{field}");
    }
    assert_eq!((server.count("orders").await, server.vault_charges().await), (0, 0));

    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let receipt = reply.json();
    assert_eq!(receipt["quote"], quoted, "the receipt is the intent's quote");
    let order_id = receipt["order_id"].as_str().unwrap();
    let (total,): (i64,) = sqlx::query_as("SELECT total_minor FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    assert_eq!(total, 7033);
    let (charged,): (i64,) = sqlx::query_as("SELECT amount_minor FROM charges WHERE reference = $1")
        .bind(order_id)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert_eq!(charged, 7033, "the vault charged the intent's amount");
}

/// On PostgreSQL the order step takes the intent its own process wrote from what the process
/// keeps, once (a refused guess at its secret leaves it kept); a second attempt, or another
/// process on the same database, reads it. The
/// paths are told apart by an intent changed in the database behind the api's back (its
/// total set to 1): a kept intent is paid as it was written, a read one as it is stored. On
/// SQLite nothing is kept, so every order reads.
#[tokio::test]
async fn an_order_takes_the_intent_its_process_wrote_once_and_reads_any_other() {
    let server = start().await;
    let keeps = pg_url().is_some();
    let change_behind = |intent: &Value| {
        let id = id(intent).to_owned();
        let db = server.api_state.db.clone();
        async move {
            sqlx::query("UPDATE payment_intents SET total_minor = 1 WHERE id = $1")
                .bind(id)
                .execute(&db)
                .await
                .unwrap();
        }
    };
    let ordered_totals = |intent: &Value| {
        let id = id(intent).to_owned();
        let db = server.api_state.db.clone();
        async move {
            // By status: `declined` before `paid` (orders of one second have no other order).
            let rows: Vec<(i64,)> =
                sqlx::query_as("SELECT total_minor FROM orders WHERE intent_id = $1 ORDER BY status")
                    .bind(id)
                    .fetch_all(&db)
                    .await
                    .unwrap();
            rows.into_iter().map(|(t,)| t).collect::<Vec<_>>()
        }
    };
    let written = |intent: &Value| intent["quote"]["total"]["minor"].as_i64().unwrap();

    // Written and paid here.
    let here = server.create_intent(&tee_details(1)).await;
    change_behind(&here).await;
    let token = server.token_for(VISA, "123", id(&here)).await;
    assert_eq!(server.pay(&here, &token, &fresh_key()).await.status, StatusCode::CREATED);
    assert_eq!(ordered_totals(&here).await, [if keeps { written(&here) } else { 1 }]);

    // A wrong secret first: refused, and the kept intent stays for the buyer's order.
    let guessed = server.create_intent(&tee_details(1)).await;
    change_behind(&guessed).await;
    let token = server.token_for(VISA, "123", id(&guessed)).await;
    let mut wrong = pay_body(&guessed, &token);
    wrong["client_secret"] = json!(format!("{}_secret_{}", id(&guessed), "x".repeat(43)));
    let reply = send(&server.api, post_json("/api/v1/orders", &wrong, Some(&fresh_key()))).await;
    assert_eq!(reply.error_code(), "intent_invalid", "{}", reply.text());
    assert_eq!(server.pay(&guessed, &token, &fresh_key()).await.status, StatusCode::CREATED);
    assert_eq!(ordered_totals(&guessed).await, [if keeps { written(&guessed) } else { 1 }]);

    // Declined, then paid again: the second attempt reads what the first took.
    let retried = server.create_intent(&tee_details(1)).await;
    let declined = server.token_for("4000 0000 0000 0002", "123", id(&retried)).await;
    assert_eq!(server.pay(&retried, &declined, &fresh_key()).await.status, StatusCode::PAYMENT_REQUIRED);
    change_behind(&retried).await;
    let token = server.token_for(VISA, "123", id(&retried)).await;
    assert_eq!(server.pay(&retried, &token, &fresh_key()).await.status, StatusCode::CREATED);
    assert_eq!(ordered_totals(&retried).await, [written(&retried), 1]);

    // Written here, paid at another process of the same database.
    let elsewhere = server.create_intent(&tee_details(1)).await;
    change_behind(&elsewhere).await;
    let token = server.token_for(VISA, "123", id(&elsewhere)).await;
    let mut replica = server.api_state.clone();
    replica.intents = tweetbuy_server::api::kept_intents::KeptIntents::default();
    let replica = tweetbuy_server::api_app(replica);
    let reply = send(&replica, post_json("/api/v1/orders", &pay_body(&elsewhere, &token), Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(ordered_totals(&elsewhere).await, [1]);
}

#[tokio::test]
async fn an_intent_credits_only_a_tweet_that_offers_its_product() {
    use tweetbuy_server::api::catalog_import::{self, Format};
    let server = start().await;
    let credited = |details: Value| {
        let server = &server;
        async move {
            let intent = server.create_intent(&details).await;
            let (tweet,): (Option<String>,) = sqlx::query_as("SELECT tweet_id FROM payment_intents WHERE id = $1")
                .bind(id(&intent))
                .fetch_one(&server.api_state.db)
                .await
                .unwrap();
            tweet
        }
    };
    let with_tweet = |tweet: &str| {
        let mut details = tee_details(1);
        details["tweet_id"] = json!(tweet);
        details
    };
    assert_eq!(credited(with_tweet("1528000000000000001")).await.as_deref(), Some("1528000000000000001"));
    // Another product's tweet (the demo's sixth), and a tweet of no product: the purchase goes
    // on, credited to no tweet.
    for tweet in ["1528000000000000006", "1999999999999999999"] {
        assert_eq!(credited(with_tweet(tweet)).await, None, "{tweet}");
    }
    // A product's second tweet offers it too.
    let file = "[[products]]\nid = \"gig\"\ntweet_ids = [\"1600000000000000001\", \"1600000000000000002\"]\n\
                title = \"Gig\"\nseller = { name = \"Band\", kind = \"artist\" }\nkind = \"ticket\"\n\
                currency = \"USD\"\nmax_per_order = 2\n\n[[products.variants]]\nid = \"ga\"\nlabel = \"GA\"\n\
                price_minor = 2000\n";
    let products = catalog_import::parse(file, Format::Toml).unwrap();
    catalog_import::apply(&server.api_state.db, &products, clock::now()).await.unwrap();
    let gig = json!({"product_id": "gig", "variant_id": "ga", "quantity": 1, "email": "fan@example.com",
                     "tweet_id": "1600000000000000002"});
    assert_eq!(credited(gig).await.as_deref(), Some("1600000000000000002"));
}
