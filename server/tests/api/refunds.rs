//! Refunds, cancellations and shipping through the admin api, against a real vault: the
//! bounds, the idempotency key, the stock a cancellation returns, the refund receipt, the
//! seller's view, and concurrent refunds of one order.

use crate::harness::*;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use tweetbuy_server::api::receipts::{Mailer, Worker};
use tweetbuy_server::api::vault_client::VaultClient;
use tweetbuy_server::ApiState;

/// The tee, size M, shipped to New York: 30.00 + 5.00 shipping + 2.66 tax.
const TEE_TOTAL: i64 = 3766;

fn admin_post(uri: &str, body: Option<&Value>, key: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        builder = builder.header("Idempotency-Key", key);
    }
    builder.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap()
}

async fn refund(server: &TestServer, number: &str, amount: Option<i64>, key: &str) -> Reply {
    let body = amount.map_or_else(|| json!({}), |a| json!({ "amount_minor": a }));
    send(&server.api, admin_post(&format!("/admin/v1/orders/{number}/refunds"), Some(&body), Some(key))).await
}

async fn cancel(server: &TestServer, number: &str) -> Reply {
    send(&server.api, admin_post(&format!("/admin/v1/orders/{number}/cancel"), None, None)).await
}

async fn ship(server: &TestServer, number: &str) -> Reply {
    send(&server.api, admin_post(&format!("/admin/v1/orders/{number}/ship"), None, None)).await
}

/// A paid tee with a typed Visa: its order number and id.
async fn paid_tee(server: &TestServer) -> (String, String) {
    let card = server.tokenize("4242424242424242", "123").await;
    let reply = server.order(&tee_order(&card, 1), &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["quote"]["total"]["minor"], TEE_TOTAL);
    (body["order_number"].as_str().unwrap().to_owned(), body["order_id"].as_str().unwrap().to_owned())
}

/// A receipt worker that writes its mails to the server's `outbox/`, and that folder.
fn outbox_worker(server: &TestServer) -> (std::path::PathBuf, Worker) {
    let outbox = server.dir.path().join("outbox");
    let mailer = Mailer::Files(outbox.clone());
    let worker = Worker {
        db: server.api_state.db.clone(),
        mailer,
        from: "shop <receipts@shop.test>".into(),
        send_delay_secs: 0,
    };
    (outbox, worker)
}

/// The seller's view of one order.
async fn seller_view(server: &TestServer, number: &str) -> Value {
    let request = Request::get("/admin/v1/orders")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}"))
        .body(Body::empty())
        .unwrap();
    let reply = send(&server.api, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json().as_array().unwrap().iter().find(|o| o["order_number"] == number).unwrap().clone()
}

/// What the vault gave back of the order's charge, and in how many refunds.
async fn vault_refunded(server: &TestServer, order_id: &str) -> (i64, i64) {
    let (charge_id,): (String,) = sqlx::query_as("SELECT charge_id FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    let (refunded,): (i64,) = sqlx::query_as("SELECT refunded_minor FROM charges WHERE id = $1")
        .bind(&charge_id)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM refunds WHERE charge_id = $1")
        .bind(&charge_id)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    (refunded, count)
}

#[tokio::test]
async fn a_full_refund_gives_back_the_total_at_the_vault() {
    let server = start_admin().await;
    let (number, order_id) = paid_tee(&server).await;
    let reply = refund(&server, &number, None, "full-1").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["amount_minor"], TEE_TOTAL);
    assert_eq!(body["status"], "succeeded");
    assert_eq!(body["kind"], "refund");
    assert_eq!(body["number"], 1);
    assert_eq!(body["order_refunded_minor"], TEE_TOTAL);
    assert_eq!(body["order_remaining_minor"], 0);
    assert_eq!(vault_refunded(&server, &order_id).await, (TEE_TOTAL, 1));
    let view = seller_view(&server, &number).await;
    assert_eq!((view["status"].as_str(), view["refunded_minor"].as_i64()), (Some("refunded"), Some(TEE_TOTAL)));
    // Nothing is left: a further refund, whole or in part, is refused.
    for amount in [None, Some(1)] {
        let again = refund(&server, &number, amount, &fresh_key()).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
        assert_eq!(again.error_code(), "refund_exceeds_remaining");
    }
    assert_eq!(vault_refunded(&server, &order_id).await, (TEE_TOTAL, 1));
}

/// `{"amount_minor": null}` is refused, not read as "everything left": a script that meant an
/// amount and sent none gives nothing back. `{}` is the whole rest.
#[tokio::test]
async fn a_null_amount_is_refused_not_a_full_refund() {
    let server = start_admin().await;
    let (number, order_id) = paid_tee(&server).await;
    let body = json!({"amount_minor": null});
    let uri = format!("/admin/v1/orders/{number}/refunds");
    let reply = send(&server.api, admin_post(&uri, Some(&body), Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert!(reply.text().contains("amount_minor"), "{}", reply.text());
    assert_eq!(vault_refunded(&server, &order_id).await, (0, 0), "nothing given back");
    let rest = refund(&server, &number, None, &fresh_key()).await;
    assert_eq!(rest.status, StatusCode::CREATED, "{}", rest.text());
    assert_eq!(rest.json()["amount_minor"], TEE_TOTAL);
}

#[tokio::test]
async fn partial_refunds_add_up_to_the_total_and_no_further() {
    let server = start_admin().await;
    let (number, order_id) = paid_tee(&server).await;
    let first = refund(&server, &number, Some(1000), &fresh_key()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.json()["order_remaining_minor"], TEE_TOTAL - 1000);
    let view = seller_view(&server, &number).await;
    assert_eq!((view["status"].as_str(), view["refunded_minor"].as_i64()), (Some("partially_refunded"), Some(1000)));

    let over = refund(&server, &number, Some(TEE_TOTAL - 1000 + 1), &fresh_key()).await;
    assert_eq!(over.status, StatusCode::CONFLICT, "{}", over.text());
    assert_eq!(over.error_code(), "refund_exceeds_remaining");
    assert!(over.json()["message"].as_str().unwrap().contains("$27.66"), "says what is left: {}", over.text());

    let second = refund(&server, &number, Some(2000), &fresh_key()).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    assert_eq!(second.json()["number"], 2);
    // Without an amount: the rest.
    let rest = refund(&server, &number, None, &fresh_key()).await;
    assert_eq!(rest.status, StatusCode::CREATED, "{}", rest.text());
    assert_eq!(rest.json()["amount_minor"], TEE_TOTAL - 3000);
    assert_eq!(rest.json()["order_refunded_minor"], TEE_TOTAL);
    assert_eq!(vault_refunded(&server, &order_id).await, (TEE_TOTAL, 3));
    assert_eq!(seller_view(&server, &number).await["status"], "refunded");

    for amount in [0, -5] {
        let invalid = refund(&server, &number, Some(amount), &fresh_key()).await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.text());
        assert_eq!(invalid.fields(), ["amount_minor"]);
    }
}

#[tokio::test]
async fn an_order_never_paid_cannot_be_refunded_cancelled_or_shipped() {
    let server = start_admin().await;
    let card = server.tokenize("4000000000000002", "123").await;
    let declined = server.order(&tee_order(&card, 1), &fresh_key()).await;
    assert_eq!(declined.status, StatusCode::PAYMENT_REQUIRED, "{}", declined.text());
    let (number,): (String,) = sqlx::query_as("SELECT order_number FROM orders WHERE status = 'declined'")
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    for reply in [refund(&server, &number, None, &fresh_key()).await, refund(&server, &number, Some(100), "k").await] {
        assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
        assert_eq!(reply.error_code(), "order_not_paid");
        assert!(reply.json()["message"].as_str().unwrap().contains("never paid"), "{}", reply.text());
    }
    let cancelled = cancel(&server, &number).await;
    assert_eq!((cancelled.status, cancelled.error_code().as_str()), (StatusCode::CONFLICT, "order_not_paid"));
    let shipped = ship(&server, &number).await;
    assert_eq!((shipped.status, shipped.error_code().as_str()), (StatusCode::CONFLICT, "order_not_paid"));
    assert_eq!(server.count("refunds").await, 0, "nothing written");

    for reply in [refund(&server, "TB-NOSUCH", None, "k").await, cancel(&server, "TB-NOSUCH").await] {
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
}

#[tokio::test]
async fn the_same_key_answers_the_first_refund() {
    let server = start_admin().await;
    let (number, order_id) = paid_tee(&server).await;
    let first = refund(&server, &number, Some(500), "seller-key-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = refund(&server, &number, Some(500), "seller-key-1").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["refund_id"], first.json()["refund_id"]);
    assert_eq!(vault_refunded(&server, &order_id).await, (500, 1), "refunded once");

    let other = refund(&server, &number, Some(600), "seller-key-1").await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.text());
    assert_eq!(other.error_code(), "idempotency_key_reused");

    let body = json!({"amount_minor": 100});
    let keyless = send(&server.api, admin_post(&format!("/admin/v1/orders/{number}/refunds"), Some(&body), None)).await;
    assert_eq!((keyless.status, keyless.error_code().as_str()), (StatusCode::BAD_REQUEST, "idempotency_key_missing"));
    let mut unauthorized = admin_post(&format!("/admin/v1/orders/{number}/refunds"), Some(&body), Some("k2"));
    unauthorized.headers_mut().remove(header::AUTHORIZATION);
    assert_eq!(send(&server.api, unauthorized).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(vault_refunded(&server, &order_id).await, (500, 1));
}

#[tokio::test]
async fn cancelling_refunds_what_is_left_and_returns_the_stock() {
    let server = start_admin().await;
    let before = server.stock(TEE, "m").await.unwrap();
    let (number, order_id) = paid_tee(&server).await;
    assert_eq!(server.stock(TEE, "m").await, Some(before - 1));
    let partial = refund(&server, &number, Some(1000), &fresh_key()).await;
    assert_eq!(partial.status, StatusCode::CREATED, "{}", partial.text());

    let cancelled = cancel(&server, &number).await;
    assert_eq!(cancelled.status, StatusCode::CREATED, "{}", cancelled.text());
    let body = cancelled.json();
    assert_eq!((body["kind"].as_str(), body["amount_minor"].as_i64()), (Some("cancellation"), Some(TEE_TOTAL - 1000)));
    assert_eq!(body["order_remaining_minor"], 0);
    assert_eq!(server.stock(TEE, "m").await, Some(before), "the unit is back");
    assert_eq!(vault_refunded(&server, &order_id).await, (TEE_TOTAL, 2));
    let view = seller_view(&server, &number).await;
    assert_eq!((view["status"].as_str(), view["refunded_minor"].as_i64()), (Some("cancelled"), Some(TEE_TOTAL)));
    assert!(view["cancelled_at"].is_i64());

    // Again: the first cancellation, and the stock is not returned twice.
    let again = cancel(&server, &number).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["refund_id"], body["refund_id"]);
    assert_eq!(server.stock(TEE, "m").await, Some(before));
    let shipped = ship(&server, &number).await;
    assert_eq!((shipped.status, shipped.error_code().as_str()), (StatusCode::CONFLICT, "order_cancelled"));
    let more = refund(&server, &number, Some(1), &fresh_key()).await;
    assert_eq!(more.error_code(), "refund_exceeds_remaining");
}

#[tokio::test]
async fn a_shipped_order_is_refunded_but_not_cancelled() {
    let server = start_admin().await;
    let (number, order_id) = paid_tee(&server).await;
    let stock = server.stock(TEE, "m").await;
    let shipped = ship(&server, &number).await;
    assert_eq!(shipped.status, StatusCode::OK, "{}", shipped.text());
    let shipped_at = shipped.json()["shipped_at"].as_i64().unwrap();
    assert_eq!(ship(&server, &number).await.json()["shipped_at"], shipped_at, "the first time stays");

    let cancelled = cancel(&server, &number).await;
    assert_eq!(cancelled.status, StatusCode::CONFLICT, "{}", cancelled.text());
    assert_eq!(cancelled.error_code(), "order_shipped");
    assert_eq!(server.stock(TEE, "m").await, stock, "no stock back");
    assert_eq!(vault_refunded(&server, &order_id).await, (0, 0), "nothing refunded");
    assert_eq!(seller_view(&server, &number).await["shipped_at"], shipped_at);

    let refunded = refund(&server, &number, Some(700), &fresh_key()).await;
    assert_eq!(refunded.status, StatusCode::CREATED, "{}", refunded.text());
    assert_eq!(server.stock(TEE, "m").await, stock, "a refund keeps the stock where it is");
}

#[tokio::test]
async fn a_refund_receipt_goes_through_the_outbox() {
    let server = start_admin().await;
    let (number, _) = paid_tee(&server).await;
    assert_eq!(refund(&server, &number, Some(1000), &fresh_key()).await.status, StatusCode::CREATED);
    assert_eq!(cancel(&server, &number).await.status, StatusCode::CREATED);
    assert_eq!(server.count("refund_receipt_outbox").await, 2, "one per refund, queued with it");

    let (outbox, worker) = outbox_worker(&server);
    assert_eq!(worker.send_due(tweetbuy_server::clock::now()).await.unwrap(), 3, "the order's and two refunds'");
    assert_eq!(worker.send_due(tweetbuy_server::clock::now()).await.unwrap(), 0, "each once");
    let read = |name: String| std::fs::read_to_string(outbox.join(name)).unwrap();
    let order = read(format!("{number}.eml"));
    assert!(order.contains("Thank you for your order"), "{order}");
    let first = read(format!("{number}-refund-1.eml"));
    assert!(first.contains("To: jane@example.com") && first.contains(&number), "{first}");
    assert!(first.contains("Refunded now: $10.00") && first.contains("Refunded in all: $10.00 of $37.66"), "{first}");
    assert!(first.contains("Visa ending in 4242"), "{first}");
    let second = read(format!("{number}-refund-2.eml"));
    assert!(second.contains("has been cancelled") && second.contains("Refunded now: $27.66"), "{second}");
    assert!(second.contains("Refunded in all: $37.66 of $37.66"), "{second}");
    let (unsent,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM refund_receipt_outbox WHERE sent_at IS NULL")
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    assert_eq!(unsent, 0);
}

/// Pays for a tee with a typed Visa as the card frame does, saying the buyer paid in `lang`
/// (a JSON value: a tag, or anything a page might send); its order number.
async fn paid_tee_in(server: &TestServer, lang: Value) -> String {
    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;
    let mut body = pay_body(&intent, &token);
    body["lang"] = lang;
    let reply = send(&server.api, post_json("/api/v1/orders", &body, Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.json()["order_number"].as_str().unwrap().to_owned()
}

/// A buyer who paid in Spanish is written to in Spanish: the receipt and each refund's notice,
/// with prices as the Spanish sheet wrote them (`37,66 US$`). A `lang` that is no language tag
/// (a page's odd markup) does not stop the purchase, and its receipt is in English, as is the
/// receipt of a buyer in a language we have no texts for, with that locale's prices. A
/// Spanish locale core has no prices for is written to in Spanish with Spain's.
#[tokio::test]
async fn a_buyer_who_paid_in_spanish_is_sent_the_receipt_and_refund_notices_in_spanish() {
    let server = start_admin().await;
    let spanish = paid_tee_in(&server, json!("es-ES")).await;
    assert_eq!(refund(&server, &spanish, Some(1000), &fresh_key()).await.status, StatusCode::CREATED);
    assert_eq!(cancel(&server, &spanish).await.status, StatusCode::CREATED);
    let odd = paid_tee_in(&server, json!("<b>español</b>")).await;
    let german = paid_tee_in(&server, json!("de-DE")).await;
    let argentine = paid_tee_in(&server, json!("es-AR")).await;

    let (outbox, worker) = outbox_worker(&server);
    assert_eq!(worker.send_due(tweetbuy_server::clock::now()).await.unwrap(), 6);
    let read = |name: String| mail_text(&std::fs::read_to_string(outbox.join(name)).unwrap());
    let receipt = read(format!("{spanish}.eml"));
    for said in [
        format!("Subject: Tu pedido {spanish}"),
        format!("Gracias por tu pedido {spanish}."),
        "(RED) limited-edition tee (M) x 1".into(),
        "Subtotal: 30,00\u{a0}US$".into(),
        "Envío: ".into(),
        "Impuestos: ".into(),
        "Total: 37,66\u{a0}US$".into(),
        "Pagado con tarjeta Visa terminada en 4242".into(),
        "Dirección de envío:\nJane Doe".into(),
    ] {
        assert!(receipt.replace("\r\n", "\n").contains(&said), "{said:?} in {receipt}");
    }
    let partial = read(format!("{spanish}-refund-1.eml"));
    assert!(partial.contains(&format!("Subject: Reembolso de tu pedido {spanish}")), "{partial}");
    assert!(
        partial.contains(&format!("Te hemos reembolsado parte o la totalidad del importe de tu pedido {spanish}.")),
        "{partial}"
    );
    assert!(partial.contains("Reembolsado ahora: 10,00\u{a0}US$"), "{partial}");
    assert!(partial.contains("Reembolsado en total: 10,00\u{a0}US$ de 37,66\u{a0}US$"), "{partial}");
    assert!(partial.contains("El importe se ha devuelto a tu tarjeta Visa terminada en 4242."), "{partial}");
    let whole = read(format!("{spanish}-refund-2.eml"));
    assert!(whole.contains(&format!("Tu pedido {spanish} se ha cancelado.")), "{whole}");
    assert!(whole.contains("Reembolsado ahora: 27,66\u{a0}US$"), "{whole}");

    let english = read(format!("{odd}.eml"));
    assert!(english.contains(&format!("Thank you for your order {odd}.")), "{english}");
    assert!(english.contains("Total: $37.66") && english.contains("Paid with Visa ending in 4242"), "{english}");
    let (stored,): (Option<String>,) = sqlx::query_as("SELECT lang FROM orders WHERE order_number = $1")
        .bind(&odd)
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    assert_eq!(stored, None, "no tag, none kept");
    let german = read(format!("{german}.eml"));
    assert!(german.contains("Thank you for your order") && german.contains("Total: 37,66\u{a0}$"), "{german}");
    // A Spanish locale core has no format of its own for: Spanish, priced as Spain writes it.
    let argentine = read(format!("{argentine}.eml"));
    assert!(argentine.contains("Gracias por tu pedido") && argentine.contains("Total: 37,66\u{a0}US$"), "{argentine}");
}

#[tokio::test]
async fn the_seller_view_shows_refunds_in_the_csv_too() {
    let server = start_admin().await;
    let (number, _) = paid_tee(&server).await;
    assert_eq!(refund(&server, &number, Some(1234), &fresh_key()).await.status, StatusCode::CREATED);
    let request = Request::get("/admin/v1/orders.csv")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}"))
        .body(Body::empty())
        .unwrap();
    let csv = send(&server.api, request).await.text();
    let header = csv.lines().next().unwrap();
    let tail = "refunded_minor,shipped_at,cancelled_at,late_charge_id,late_charge_refund,refund_pending_minor";
    assert!(header.ends_with(tail), "{header}");
    let line = csv.lines().find(|l| l.starts_with(&number)).unwrap();
    assert!(line.contains(",partially_refunded,") && line.ends_with(",1234,,,,,0"), "{line}");
}

#[tokio::test]
async fn a_refund_the_vault_did_not_answer_resumes_under_its_key() {
    let server = start_admin().await;
    let (number, order_id) = paid_tee(&server).await;
    // The same api, with the vault out of reach.
    let cut_off = ApiState {
        vault: VaultClient::new("http://127.0.0.1:9", VAULT_API_KEY),
        ..server.api_state.clone().with_admin_key(Some(ADMIN_KEY.into()))
    };
    let cut_off = tweetbuy_server::api_app(cut_off);
    let body = json!({"amount_minor": 1500});
    let uri = format!("/admin/v1/orders/{number}/refunds");
    let lost = send(&cut_off, admin_post(&uri, Some(&body), Some("resume-1"))).await;
    assert_eq!(lost.status, StatusCode::SERVICE_UNAVAILABLE, "{}", lost.text());
    assert_eq!(lost.error_code(), "unavailable");
    // The amount stays reserved: the rest of the order can be refunded, not more.
    let over = refund(&server, &number, Some(TEE_TOTAL - 1500 + 1), &fresh_key()).await;
    assert_eq!(over.error_code(), "refund_exceeds_remaining");
    assert_eq!(vault_refunded(&server, &order_id).await, (0, 0));
    let view = seller_view(&server, &number).await;
    assert_eq!(view["refunded_minor"], 0, "only succeeded refunds count");
    assert_eq!(view["refund_pending_minor"], 1500, "the seller sees the refund waiting");
    let orders = tweetbuy_server::api::seller_orders::list(&server.api_state.db).await.unwrap();
    let csv = tweetbuy_server::api::seller_orders::to_csv(&orders);
    assert!(csv.lines().next().unwrap().ends_with(",refund_pending_minor"), "{csv}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",1500"), "{csv}");

    let resumed = refund(&server, &number, Some(1500), "resume-1").await;
    assert_eq!(resumed.status, StatusCode::CREATED, "{}", resumed.text());
    assert_eq!(resumed.json()["number"], 1, "the same refund, resumed");
    let again = refund(&server, &number, Some(1500), "resume-1").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(vault_refunded(&server, &order_id).await, (1500, 1));
    let view = seller_view(&server, &number).await;
    assert_eq!((view["refunded_minor"].as_i64(), view["refund_pending_minor"].as_i64()), (Some(1500), Some(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refunds_of_one_order_never_exceed_its_total() {
    let server = start_admin().await;
    let (number, order_id) = paid_tee(&server).await;
    // Twenty refunds of 3.00 at once: twelve fit in 37.66, eight must be refused.
    let api = server.api.clone();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let api = api.clone();
            let uri = format!("/admin/v1/orders/{number}/refunds");
            tokio::spawn(async move {
                send(&api, admin_post(&uri, Some(&json!({"amount_minor": 300})), Some(&format!("c-{i}")))).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        if reply.status != StatusCode::CREATED {
            assert_eq!(reply.error_code(), "refund_exceeds_remaining", "{}", reply.text());
            // Refused by the api's own reservation, before the vault was asked (the vault's
            // bound, a second line, speaks of the charge).
            assert!(
                reply.json()["message"].as_str().unwrap().contains(&format!("of order {number}")),
                "{}",
                reply.text()
            );
        }
        statuses.push(reply.status);
    }
    let made = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((made, refused), (12, 8), "{statuses:?}");
    assert_eq!(vault_refunded(&server, &order_id).await, (3600, 12));
    let view = seller_view(&server, &number).await;
    assert_eq!(view["refunded_minor"], 3600);
    // And the rest at once from many sides: exactly one gets it.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let api = api.clone();
            let uri = format!("/admin/v1/orders/{number}/refunds");
            tokio::spawn(async move { send(&api, admin_post(&uri, Some(&json!({})), Some(&format!("r-{i}")))).await })
        })
        .collect();
    let mut rest = 0;
    for task in tasks {
        if task.await.unwrap().status == StatusCode::CREATED {
            rest += 1;
        }
    }
    assert_eq!(rest, 1);
    assert_eq!(vault_refunded(&server, &order_id).await, (TEE_TOTAL, 13));
    let (reserved,): (i64,) = sqlx::query_as("SELECT refund_reserved_minor FROM orders WHERE id = $1")
        .bind(&order_id)
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    assert_eq!(reserved, TEE_TOTAL);
}

#[tokio::test]
async fn a_refund_nobody_retried_is_settled_by_the_sweep_once_the_vault_answers() {
    let server = start_admin().await;
    let (number, order_id) = paid_tee(&server).await;
    let cut_off = ApiState {
        vault: VaultClient::new("http://127.0.0.1:9", VAULT_API_KEY),
        ..server.api_state.clone().with_admin_key(Some(ADMIN_KEY.into()))
    };
    let lost = send(
        &tweetbuy_server::api_app(cut_off.clone()),
        admin_post(&format!("/admin/v1/orders/{number}/refunds"), Some(&json!({"amount_minor": 700})), Some("lost-1")),
    )
    .await;
    assert_eq!(lost.status, StatusCode::SERVICE_UNAVAILABLE, "{}", lost.text());
    let later = tweetbuy_server::clock::now() + 1;
    let sweep = |vault| tweetbuy_server::api::refunds::settle_stale(&server.api_state.db, vault, later);
    assert_eq!(sweep(&cut_off.vault).await.unwrap(), 0, "the vault still cannot say: left pending");
    assert_eq!(seller_view(&server, &number).await["refunded_minor"], 0);

    assert_eq!(sweep(&server.api_state.vault).await.unwrap(), 1);
    assert_eq!(sweep(&server.api_state.vault).await.unwrap(), 0, "settled once");
    assert_eq!(vault_refunded(&server, &order_id).await, (700, 1));
    assert_eq!(seller_view(&server, &number).await["refunded_minor"], 700);
    let replay = refund(&server, &number, Some(700), "lost-1").await;
    assert_eq!(
        (replay.status, replay.json()["status"].clone()),
        (StatusCode::OK, json!("succeeded")),
        "{}",
        replay.text()
    );
}
