//! "Email me when it's back": joining with consent, once per address; notices in sign-up
//! order, never more than the units left; one notice per restock; a link that unsubscribes.

use crate::harness::*;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use tweetbuy_server::api::receipts::Mailer;
use tweetbuy_server::api::waitlist::notify::{allocate, Worker};
use tweetbuy_server::clock;

const VISA: &str = "4242 4242 4242 4242";

fn join_body(product: &str, email: &str) -> Value {
    json!({"product_id": product, "email": email, "consent": true})
}

async fn join(server: &TestServer, body: &Value) -> Reply {
    send(&server.api, post_json("/api/v1/waitlist", body, None)).await
}

/// `(email, status)` of every row for `product`, in sign-up order.
async fn rows(server: &TestServer, product: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT email, status FROM waitlist WHERE product_id = $1 ORDER BY created_at, id")
        .bind(product)
        .fetch_all(&server.api_state.db)
        .await
        .unwrap()
}

fn worker(server: &TestServer, outbox: &std::path::Path) -> Worker {
    Worker {
        db: server.api_state.db.clone(),
        mailer: Mailer::new(None, None, outbox.to_path_buf()).unwrap(),
        from: "shop@example.com".into(),
        api_origin: API_ORIGIN.into(),
    }
}

/// Joins in order, one second apart in sign-up time so the order is unambiguous.
async fn join_in_order(server: &TestServer, product: &str, emails: &[&str]) {
    for (i, email) in emails.iter().enumerate() {
        let reply = join(server, &join_body(product, email)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        sqlx::query("UPDATE waitlist SET created_at = created_at - $1 WHERE email = $2")
            .bind(100 - i as i64)
            .bind(email)
            .execute(&server.api_state.db)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn joining_needs_consent_a_valid_email_and_an_item_that_cannot_be_bought() {
    let server = start().await;
    let reply = join(&server, &join_body(SOLD_OUT_TEE, "fan@example.com")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.json(), json!({"wait_for": "restock"}));
    let again = join(&server, &join_body(SOLD_OUT_TEE, " FAN@example.com")).await;
    assert_eq!(again.status, StatusCode::CREATED, "a second join answers the same");
    assert_eq!(rows(&server, SOLD_OUT_TEE).await, [("fan@example.com".to_owned(), "waiting".to_owned())], "one row");

    let no_consent =
        join(&server, &json!({"product_id": SOLD_OUT_TEE, "email": "x@example.com", "consent": false})).await;
    assert_eq!(no_consent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_consent.fields(), ["consent"]);
    let bad = join(&server, &join_body(SOLD_OUT_TEE, "not an email")).await;
    assert_eq!(bad.fields(), ["email"]);
    let on_sale = join(&server, &join_body(TEE, "fan@example.com")).await;
    assert_eq!((on_sale.status, on_sale.error_code()), (StatusCode::CONFLICT, "on_sale".to_owned()));
    let missing = join(&server, &join_body("no-such", "fan@example.com")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(rows(&server, SOLD_OUT_TEE).await.len(), 1, "refusals store nothing");
}

#[tokio::test]
async fn notices_go_in_sign_up_order_never_more_than_the_units_and_once_per_restock() {
    let server = start().await;
    let outbox = tempfile::tempdir().unwrap();
    let worker = worker(&server, outbox.path());
    join_in_order(&server, SOLD_OUT_TEE, &["a@example.com", "b@example.com", "c@example.com"]).await;
    let now = clock::now();
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, now).await.unwrap(), 0, "still sold out");

    // Two units back: the first two addresses are told, the third waits.
    server.set_stock(SOLD_OUT_TEE, "m", 2).await;
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, now).await.unwrap(), 2);
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, now).await.unwrap(), 0, "told once");
    let status: Vec<String> = rows(&server, SOLD_OUT_TEE).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(status, ["notified", "notified", "waiting"]);
    assert_eq!(worker.send_due(now).await.unwrap(), 2);
    assert_eq!(worker.send_due(now).await.unwrap(), 0, "each notice is sent once");
    let mut files: Vec<String> =
        std::fs::read_dir(outbox.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let notice = mail_text(&std::fs::read_to_string(outbox.path().join(&files[0])).unwrap());
    assert!(notice.contains("Back in stock: "), "{notice}");
    assert!(notice.contains(&format!("{API_ORIGIN}/api/v1/waitlist/unsubscribe?token=")), "{notice}");

    // Someone else buys both units: the product is out again, and the two who were told
    // wait for the next restock, in their place.
    let mut order = tee_order(&server.tokenize(VISA, "123").await, 2);
    order["product_id"] = json!(SOLD_OUT_TEE);
    order["email"] = json!("stranger@example.com");
    let paid = server.order(&order, &fresh_key()).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, now).await.unwrap(), 0);
    let status: Vec<String> = rows(&server, SOLD_OUT_TEE).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(status, ["waiting", "waiting", "waiting"]);

    // Ten more: everyone is told, each once more for this restock.
    server.set_stock(SOLD_OUT_TEE, "l", 10).await;
    let later = now + 5;
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, later).await.unwrap(), 3);
    assert_eq!(worker.send_due(later).await.unwrap(), 3);
    assert_eq!(std::fs::read_dir(outbox.path()).unwrap().count(), 5, "2 + 3 notices, none overwritten");
}

#[tokio::test]
async fn a_restock_for_a_crowd_is_told_in_one_call_of_the_worker() {
    let server = start().await;
    let outbox = tempfile::tempdir().unwrap();
    // More than the worker's batch of 20.
    let emails: Vec<String> = (0..25).map(|i| format!("fan{i}@example.com")).collect();
    join_in_order(&server, SOLD_OUT_TEE, &emails.iter().map(String::as_str).collect::<Vec<_>>()).await;
    server.set_stock(SOLD_OUT_TEE, "m", 25).await;
    let now = clock::now();
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, now).await.unwrap(), 25);
    assert_eq!(worker(&server, outbox.path()).send_due(now).await.unwrap(), 25, "batch after batch");
    assert_eq!(std::fs::read_dir(outbox.path()).unwrap().count(), 25);
    assert_eq!(worker(&server, outbox.path()).send_due(now).await.unwrap(), 0, "each once");
}

#[tokio::test]
async fn a_notified_buyer_frees_nothing_but_a_slow_one_lets_the_next_be_told() {
    let server = start().await;
    join_in_order(&server, SOLD_OUT_TEE, &["a@example.com", "b@example.com"]).await;
    server.set_stock(SOLD_OUT_TEE, "m", 1).await;
    let now = clock::now();
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, now).await.unwrap(), 1);
    // An hour later the one unit is still unsold: the next address is told too.
    let later = now + tweetbuy_server::api::waitlist::notify::HEAD_START_SECONDS + 1;
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, later).await.unwrap(), 1);
    let status: Vec<String> = rows(&server, SOLD_OUT_TEE).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(status, ["notified", "notified"]);

    // The first buys it: marked bought, and the sold-out product puts the other back.
    let mut order = tee_order(&server.tokenize(VISA, "123").await, 1);
    order["product_id"] = json!(SOLD_OUT_TEE);
    order["email"] = json!("A@example.com");
    assert_eq!(server.order(&order, &fresh_key()).await.status, StatusCode::CREATED);
    allocate(&server.api_state.db, SOLD_OUT_TEE, later).await.unwrap();
    let status: Vec<String> = rows(&server, SOLD_OUT_TEE).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(status, ["bought", "waiting"]);
}

#[tokio::test]
async fn a_sale_that_opens_tells_its_waitlist() {
    let server = start().await;
    let now = clock::now();
    sqlx::query("UPDATE products SET sale_starts_at = $1 WHERE id = $2")
        .bind(now + 3600)
        .bind(TICKET)
        .execute(&server.api_state.db)
        .await
        .unwrap();
    let reply = join(&server, &join_body(TICKET, "fan@example.com")).await;
    assert_eq!(reply.json(), json!({"wait_for": "sale_start"}), "{}", reply.text());
    assert_eq!(allocate(&server.api_state.db, TICKET, now).await.unwrap(), 0, "not yet");
    assert_eq!(allocate(&server.api_state.db, TICKET, now + 3600).await.unwrap(), 1, "the sale opened");
    let outbox = tempfile::tempdir().unwrap();
    assert_eq!(worker(&server, outbox.path()).send_due(now + 3600).await.unwrap(), 1);
    let file = std::fs::read_dir(outbox.path()).unwrap().next().unwrap().unwrap().path();
    assert!(std::fs::read_to_string(file).unwrap().contains("On sale now: "));
}

#[tokio::test]
async fn the_link_in_a_notice_unsubscribes_its_address_after_one_press() {
    let server = start().await;
    join_in_order(&server, SOLD_OUT_TEE, &["a@example.com", "b@example.com"]).await;
    let (token,): (String,) = sqlx::query_as("SELECT unsubscribe_token FROM waitlist WHERE email = 'a@example.com'")
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    let page = send(&server.api, get(&format!("/api/v1/waitlist/unsubscribe?token={token}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("<form method=\"post\">"), "{}", page.text());
    assert_eq!(rows(&server, SOLD_OUT_TEE).await[0].1, "waiting", "opening the link changes nothing");

    let press = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/waitlist/unsubscribe")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}")))
        .unwrap();
    let done = send(&server.api, press).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.text().contains("You will get no more emails about"));
    let status: Vec<String> = rows(&server, SOLD_OUT_TEE).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(status, ["unsubscribed", "waiting"]);
    server.set_stock(SOLD_OUT_TEE, "m", 5).await;
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, clock::now()).await.unwrap(), 1, "only b is told");

    // Joining again after unsubscribing puts the address back, at the end of the line.
    server.set_stock(SOLD_OUT_TEE, "m", 0).await;
    allocate(&server.api_state.db, SOLD_OUT_TEE, clock::now()).await.unwrap();
    assert_eq!(join(&server, &join_body(SOLD_OUT_TEE, "a@example.com")).await.status, StatusCode::CREATED);
    let back = rows(&server, SOLD_OUT_TEE).await;
    assert_eq!(
        back,
        [("b@example.com".to_owned(), "waiting".to_owned()), ("a@example.com".to_owned(), "waiting".to_owned())]
    );

    // A wrong token, or a link cut short before it: the same page, never a JSON error.
    for uri in ["/api/v1/waitlist/unsubscribe?token=nope", "/api/v1/waitlist/unsubscribe"] {
        let wrong = send(&server.api, get(uri)).await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(wrong.text().contains("This link is not valid"), "{uri}: {}", wrong.text());
    }
}

#[tokio::test]
async fn a_visitor_who_joined_in_spanish_is_told_in_spanish() {
    let server = start().await;
    let mut body = join_body(SOLD_OUT_TEE, "fan@example.com");
    body["lang"] = json!("es-ES");
    assert_eq!(join(&server, &body).await.status, StatusCode::CREATED);
    server.set_stock(SOLD_OUT_TEE, "m", 1).await;
    let now = clock::now();
    assert_eq!(allocate(&server.api_state.db, SOLD_OUT_TEE, now).await.unwrap(), 1);
    let outbox = tempfile::tempdir().unwrap();
    assert_eq!(worker(&server, outbox.path()).send_due(now).await.unwrap(), 1);
    let file = std::fs::read_dir(outbox.path()).unwrap().next().unwrap().unwrap().path();
    let notice = std::fs::read_to_string(file).unwrap();
    assert!(notice.contains("Subject: De nuevo disponible: Tour tee"), "{notice}");
}
