//! Webhooks through the admin api (`oneshot`), the events orders and catalog imports write,
//! and the worker's signed deliveries to a listener on loopback: retries, rotation, 410.

use crate::harness::*;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tweetbuy_server::api::webhooks::delivery::{Retry, Worker};
use tweetbuy_server::api::webhooks::signing;

fn admin(method: Method, uri: &str, body: Option<Value>) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}"))
        .header(header::CONTENT_TYPE, "application/json");
    builder.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap()
}

/// Adds an endpoint through the admin api; returns the answer's body.
async fn add_endpoint(server: &TestServer, url: &str, events: Value) -> Value {
    let reply =
        send(&server.api, admin(Method::POST, "/admin/v1/webhooks", Some(json!({"url": url, "events": events})))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.json()
}

/// `(type, payload)` of every event written, oldest first.
async fn events(server: &TestServer) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT type, payload FROM webhook_events ORDER BY created_at, id")
            .fetch_all(&server.api_state.db)
            .await
            .unwrap();
    rows.into_iter().map(|(t, p)| (t, serde_json::from_str(&p).unwrap())).collect()
}

const GIG: &str = r#"
[[products]]
id = "gig"
tweet_ids = ["1600000000000000001"]
title = "Gig ticket"
seller = { name = "Band", kind = "artist" }
kind = "ticket"
currency = "EUR"
max_per_order = 2

[[products.variants]]
id = "ga"
label = "GA"
price_minor = 2000
stock = STOCK

[[products.variants]]
id = "vip"
label = "VIP"
price_minor = 9000
stock = 0
"#;

async fn import_gig(server: &TestServer, stock: i64) {
    let catalog = GIG.replace("STOCK", &stock.to_string());
    let request = Request::post("/admin/v1/catalog")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}"))
        .header(header::CONTENT_TYPE, "application/toml")
        .body(Body::from(catalog))
        .unwrap();
    let reply = send(&server.api, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

async fn buy_gig(server: &TestServer, share_email: bool) -> Value {
    let card = server.tokenize("4242 4242 4242 4242", "123").await;
    let body = json!({"product_id": "gig", "variant_id": "ga", "quantity": 1, "email": "fan@example.com",
                      "share_email": share_email, "card_token": card});
    let reply = server.order(&body, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.json()
}

#[tokio::test]
async fn endpoints_are_managed_through_the_admin_api() {
    let server = start_admin().await;
    let unauthorized = Request::get("/admin/v1/webhooks").body(Body::empty()).unwrap();
    assert_eq!(send(&server.api, unauthorized).await.status, StatusCode::UNAUTHORIZED);

    // Bad input: each problem named by its field.
    let bad =
        json!({"url": "http://hooks.example.com/in", "events": ["order.paid", "order.shipped"], "description": "a\nb"});
    let reply = send(&server.api, admin(Method::POST, "/admin/v1/webhooks", Some(bad))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "validation_failed");
    assert_eq!(reply.fields(), ["url", "events[1]", "description"]);
    assert!(reply.json()["fields"][0]["message"].as_str().unwrap().contains("https://"));
    let reply = send(
        &server.api,
        admin(Method::POST, "/admin/v1/webhooks", Some(json!({"url": "https://x.example", "secret": "mine"}))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused: {}", reply.text());
    assert_eq!(server.count("webhook_endpoints").await, 0, "nothing written");

    let created = add_endpoint(&server, "https://hooks.example.com/tweetbuy", json!(["order.paid"])).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{created}");
    let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["endpoint"]["events"], json!(["order.paid"]));
    assert_eq!(created["endpoint"]["enabled"], true);
    let local = add_endpoint(&server, "http://127.0.0.1:9/hook", json!([])).await;
    assert_eq!(local["endpoint"]["events"].as_array().unwrap().len(), 6, "no list: every event");

    // Listings never show a secret.
    let reply = send(&server.api, admin(Method::GET, "/admin/v1/webhooks", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.json().as_array().unwrap().len(), 2);
    assert!(!reply.text().contains("whsec_"), "{}", reply.text());

    let path = format!("/admin/v1/webhooks/{id}");
    let change = json!({"events": ["order.paid", "product.sold_out"], "description": "warehouse"});
    let reply = send(&server.api, admin(Method::PATCH, &path, Some(change))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["events"], json!(["order.paid", "product.sold_out"]));
    assert_eq!(reply.json()["description"], "warehouse");
    let reply = send(&server.api, admin(Method::PATCH, &path, Some(json!({"url": "ftp://x.example"})))).await;
    assert_eq!(reply.fields(), ["url"]);

    // Rotation: a new secret, the old one still valid for the time asked.
    let reply =
        send(&server.api, admin(Method::POST, &format!("{path}/rotate"), Some(json!({"keep_previous_secs": 3600}))))
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let rotated = reply.json();
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);
    let until = rotated["endpoint"]["previous_secret_expires_at"].as_i64().unwrap();
    assert!((3590..=3610).contains(&(until - tweetbuy_server::clock::now())), "{rotated}");
    let reply =
        send(&server.api, admin(Method::POST, &format!("{path}/rotate"), Some(json!({"keep_previous_secs": -1}))))
            .await;
    assert_eq!(reply.fields(), ["keep_previous_secs"]);
    // No body at all (`curl -X POST`): the old secret signs for a day. Bytes that are not
    // declared JSON are still refused.
    let bare = |body: &str| {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{path}/rotate"))
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}"));
        request.body(Body::from(body.to_owned())).unwrap()
    };
    let reply = send(&server.api, bare("")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let until = reply.json()["endpoint"]["previous_secret_expires_at"].as_i64().unwrap();
    assert!((86_390..=86_410).contains(&(until - tweetbuy_server::clock::now())), "{}", reply.text());
    let reply = send(&server.api, bare(r#"{"keep_previous_secs": 0}"#)).await;
    assert_eq!(
        (reply.status, reply.error_code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type".into())
    );
    let reply = send(&server.api, admin(Method::PATCH, &path, Some(json!({"drop_previous_secret": true})))).await;
    assert_eq!(reply.json()["previous_secret_expires_at"], Value::Null);

    let reply = send(&server.api, admin(Method::PATCH, &path, Some(json!({"enabled": false})))).await;
    assert_eq!(
        (reply.json()["enabled"].clone(), reply.json()["disabled_reason"].clone()),
        (json!(false), json!("seller"))
    );

    let reply = send(&server.api, admin(Method::GET, &format!("{path}/deliveries"), None)).await;
    assert_eq!((reply.status, reply.json()), (StatusCode::OK, json!([])));
    let reply = send(&server.api, admin(Method::DELETE, &path, None)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    for (method, uri) in
        [(Method::GET, path.clone()), (Method::DELETE, path.clone()), (Method::GET, format!("{path}/deliveries"))]
    {
        let reply = send(&server.api, admin(method, &uri, None)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.error_code(), "not_found");
    }
}

#[tokio::test]
async fn a_paid_order_emits_order_paid_with_the_email_only_when_shared() {
    let server = start_admin().await;
    import_gig(&server, 10).await;
    buy_gig(&server, true).await;
    assert_eq!(server.count("webhook_events").await, 0, "without an endpoint nothing is written");

    let endpoint = add_endpoint(&server, "https://hooks.example.com/in", json!(["order.paid"])).await;
    let shared = buy_gig(&server, true).await;
    let private = buy_gig(&server, false).await;
    let written = events(&server).await;
    assert_eq!(written.len(), 2, "{written:?}");
    let of = |receipt: &Value| {
        written
            .iter()
            .find(|(_, e)| e["object"]["order_id"] == receipt["order_id"])
            .cloned()
            .expect("an event per order")
    };
    let (shared_event, private_event) = (of(&shared).1, of(&private).1);
    for (kind, event) in &written {
        assert_eq!(kind, "order.paid");
        assert_eq!(event["type"], "order.paid");
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
        assert!(event["created_at"].as_i64().unwrap() > 1_700_000_000);
        let order = &event["object"];
        assert_eq!(order["status"], "paid");
        assert_eq!((order["card_brand"].as_str(), order["card_last4"].as_str()), (Some("visa"), Some("4242")));
    }
    assert_eq!(shared_event["object"]["email"], "fan@example.com", "shared");
    assert_eq!(private_event["object"]["email"], Value::Null, "not shared: not sent");
    assert!(!private_event.to_string().contains("fan@example.com"));

    // One pending delivery per event, in the endpoint's log.
    let path = format!("/admin/v1/webhooks/{}/deliveries", endpoint["endpoint"]["id"].as_str().unwrap());
    let log = send(&server.api, admin(Method::GET, &path, None)).await.json();
    assert_eq!(log.as_array().unwrap().len(), 2, "{log}");
    assert!(log.as_array().unwrap().iter().all(|d| d["status"] == "pending" && d["attempts"] == 0), "{log}");
}

#[tokio::test]
async fn the_last_unit_sells_out_and_an_import_restocks() {
    let server = start_admin().await;
    import_gig(&server, 2).await;
    add_endpoint(&server, "https://hooks.example.com/in", json!(["product.sold_out", "product.restocked"])).await;
    buy_gig(&server, false).await;
    assert!(events(&server).await.is_empty(), "one unit left: not sold out, and order.paid is not subscribed");
    buy_gig(&server, false).await;
    let written = events(&server).await;
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].0, "product.sold_out");
    assert_eq!(
        written[0].1["object"],
        json!({"product_id": "gig", "product_title": "Gig ticket", "variant_id": "ga", "variant_label": "GA",
               "stock": 0, "product_sold_out": true})
    );

    // Raised from 0 by an import: restocked. VIP stays at 0; an import that keeps GA's
    // stock above 0 is no restock.
    import_gig(&server, 5).await;
    import_gig(&server, 7).await;
    let written = events(&server).await;
    assert_eq!(written.len(), 2, "{written:?}");
    let restocked = &written.iter().find(|(kind, _)| kind == "product.restocked").expect("restocked").1;
    assert_eq!(restocked["object"]["variant_id"], "ga");
    assert_eq!(restocked["object"]["stock"], 3, "the file's 5, less the 2 sold since it said 2");
    assert_eq!(restocked["object"]["product_sold_out"], false);
}

/// The requests a [`Listener`] received: headers and body.
type Seen = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A listener on loopback that answers with the statuses queued (then 200) and keeps every
/// request's headers and body.
struct Listener {
    url: String,
    seen: Seen,
}

async fn listener(answers: Vec<u16>) -> Listener {
    let seen: Seen = Arc::default();
    let answers = Arc::new(Mutex::new(answers));
    let (log, queue) = (seen.clone(), answers.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (log, queue) = (log.clone(), queue.clone());
            async move {
                log.lock().unwrap().push((headers, body.to_vec()));
                let mut queue = queue.lock().unwrap();
                let status = if queue.is_empty() { 200 } else { queue.remove(0) };
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    Listener { url, seen }
}

#[tokio::test]
async fn a_sales_events_go_out_in_one_call_of_the_worker() {
    let server = start_admin().await;
    let hook = listener(Vec::new()).await;
    add_endpoint(&server, &hook.url, json!(["order.paid"])).await;
    let orders = tee_sale(&server).await;

    let worker = Worker::new(server.api_state.db.clone(), Retry::default(), 0).unwrap();
    assert_eq!(worker.deliver_due().await.unwrap(), TEE_SALE, "batch after batch, not one batch a poll");
    let mut paid: Vec<String> = hook
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            serde_json::from_slice::<Value>(body).unwrap()["object"]["order_id"].as_str().unwrap().to_owned()
        })
        .collect();
    paid.sort();
    let mut expected: Vec<String> = orders.into_iter().map(|(_, id)| id).collect();
    expected.sort();
    assert_eq!(paid, expected, "each order's event once");
    assert_eq!(worker.deliver_due().await.unwrap(), 0);
}

/// Runs the worker until `done` holds, for at most 20 seconds.
async fn deliver_until(worker: &Worker, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "the worker did not get there in time");
        worker.deliver_due().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn deliveries_are_signed_with_both_secrets_during_a_rotation_and_retried() {
    let server = start_admin().await;
    import_gig(&server, 10).await;
    let hook = listener(vec![503]).await;
    let created = add_endpoint(&server, &hook.url, json!(["order.paid"])).await;
    let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
    let old = created["secret"].as_str().unwrap().to_owned();
    let rotated = send(&server.api, admin(Method::POST, &format!("/admin/v1/webhooks/{id}/rotate"), Some(json!({}))))
        .await
        .json();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    let receipt = buy_gig(&server, false).await;

    let retry = Retry { base: Duration::from_millis(1), ..Retry::default() };
    let worker = Worker::new(server.api_state.db.clone(), retry, 0).unwrap();
    let seen = hook.seen.clone();
    deliver_until(&worker, || seen.lock().unwrap().len() >= 2).await;
    let requests = hook.seen.lock().unwrap().clone();
    let (headers, body) = &requests[1];
    let event: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(event["object"]["order_id"], receipt["order_id"]);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["tweetbuy-event-type"], "order.paid");
    assert_eq!(headers["tweetbuy-event-id"].to_str().unwrap(), event["id"].as_str().unwrap());
    assert_eq!(requests[0].1, *body, "a retry sends the same event");
    let signature = headers[signing::HEADER].to_str().unwrap();
    assert_eq!(signature.matches("v1=").count(), 2, "{signature}");
    let now = tweetbuy_server::clock::now();
    for secret in [&new, &old] {
        assert_eq!(signing::verify(signature, body, &[secret.as_str()], now), Ok(()), "signed with {secret}");
    }
    assert!(signing::verify(signature, body, &["whsec_someone_else"], now).is_err());

    // The log: a 503, then a 200; delivered.
    let log = send(&server.api, admin(Method::GET, &format!("/admin/v1/webhooks/{id}/deliveries"), None)).await.json();
    let delivery = &log[0];
    assert_eq!(delivery["status"], "delivered", "{log}");
    let statuses: Vec<i64> =
        delivery["log"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [503, 200]);
    assert_eq!(worker.deliver_due().await.unwrap(), 0, "nothing more to send");

    // Once the rotation is over only the new secret signs. A manual re-send is a new
    // delivery of the same event.
    send(
        &server.api,
        admin(Method::PATCH, &format!("/admin/v1/webhooks/{id}"), Some(json!({"drop_previous_secret": true}))),
    )
    .await;
    let resend = format!("/admin/v1/webhooks/{id}/deliveries/{}/resend", delivery["id"].as_str().unwrap());
    let reply = send(&server.api, admin(Method::POST, &resend, None)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(reply.json()["event_id"], event["id"]);
    assert_ne!(reply.json()["id"], delivery["id"]);
    deliver_until(&worker, || seen.lock().unwrap().len() >= 3).await;
    let (headers, again) = hook.seen.lock().unwrap()[2].clone();
    assert_eq!(again, *body);
    let signature = headers[signing::HEADER].to_str().unwrap();
    assert_eq!(signature.matches("v1=").count(), 1, "{signature}");
    assert_eq!(signing::verify(signature, &again, &[new.as_str()], now), Ok(()));
    let bogus = resend.replace(delivery["id"].as_str().unwrap(), "whd_nosuchdelivery");
    assert_eq!(send(&server.api, admin(Method::POST, &bogus, None)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_endpoint_that_answers_410_is_disabled() {
    let server = start_admin().await;
    import_gig(&server, 10).await;
    let hook = listener(vec![410]).await;
    let created = add_endpoint(&server, &hook.url, json!(["order.paid"])).await;
    let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
    buy_gig(&server, false).await;
    let retry = Retry { base: Duration::from_millis(1), ..Retry::default() };
    let worker = Worker::new(server.api_state.db.clone(), retry, 0).unwrap();
    let seen = hook.seen.clone();
    deliver_until(&worker, || !seen.lock().unwrap().is_empty()).await;
    let path = format!("/admin/v1/webhooks/{id}");
    let endpoint = send(&server.api, admin(Method::GET, &path, None)).await.json();
    assert_eq!((endpoint["enabled"].clone(), endpoint["disabled_reason"].clone()), (json!(false), json!("gone")));
    let log = send(&server.api, admin(Method::GET, &format!("{path}/deliveries"), None)).await.json();
    assert_eq!((log[0]["status"].as_str(), log[0]["last_status"].as_i64()), (Some("failed"), Some(410)), "{log}");

    // No retry, no new events, no re-sends while disabled.
    buy_gig(&server, false).await;
    assert_eq!(server.count("webhook_deliveries").await, 1);
    for _ in 0..3 {
        worker.deliver_due().await.unwrap();
    }
    assert_eq!(hook.seen.lock().unwrap().len(), 1);
    let resend = format!("{path}/deliveries/{}/resend", log[0]["id"].as_str().unwrap());
    let reply = send(&server.api, admin(Method::POST, &resend, None)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.fields(), ["endpoint_id"]);

    // Enabled again, it gets what happens from then on.
    send(&server.api, admin(Method::PATCH, &path, Some(json!({"enabled": true})))).await;
    buy_gig(&server, false).await;
    deliver_until(&worker, || seen.lock().unwrap().len() == 2).await;
}

#[tokio::test]
async fn refunds_cancellations_and_waitlist_joins_emit_their_events() {
    let server = start_admin().await;
    import_gig(&server, 10).await;
    add_endpoint(
        &server,
        "https://hooks.example.com/in",
        json!(["order.refunded", "order.cancelled", "waitlist.joined"]),
    )
    .await;
    let (partly, whole) = (buy_gig(&server, false).await, buy_gig(&server, true).await);
    let post = |uri: String, body: Value| {
        let mut request = admin(Method::POST, &uri, Some(body));
        request.headers_mut().insert("Idempotency-Key", fresh_key().parse().unwrap());
        send(&server.api, request)
    };
    let number = |receipt: &Value| receipt["order_number"].as_str().unwrap().to_owned();
    let refunded = post(format!("/admin/v1/orders/{}/refunds", number(&partly)), json!({"amount_minor": 500})).await;
    assert_eq!(refunded.status, StatusCode::CREATED, "{}", refunded.text());
    let cancelled = post(format!("/admin/v1/orders/{}/cancel", number(&whole)), json!({})).await;
    assert_eq!(cancelled.status, StatusCode::CREATED, "{}", cancelled.text());
    let joined = send(
        &server.api,
        post_json(
            "/api/v1/waitlist",
            &json!({"product_id": SOLD_OUT_TEE, "email": "fan@example.com", "consent": true}),
            None,
        ),
    )
    .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.text());

    let mut written = events(&server).await;
    written.sort_by(|a, b| a.0.cmp(&b.0));
    let kinds: Vec<&str> = written.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["order.cancelled", "order.refunded", "waitlist.joined"], "one event each: {written:?}");
    let (cancel, refund, join) = (&written[0].1["object"], &written[1].1["object"], &written[2].1["object"]);
    assert_eq!(
        (refund["order_id"].clone(), refund["refunded_minor"].clone()),
        (partly["order_id"].clone(), json!(500))
    );
    assert_eq!(refund["email"], Value::Null, "not shared: not sent");
    assert_eq!((cancel["status"].as_str(), cancel["email"].as_str()), (Some("cancelled"), Some("fan@example.com")));
    assert_eq!((join["product_id"].as_str(), join["waiting"].as_i64()), (Some(SOLD_OUT_TEE), Some(1)));
    assert!(!written[2].1.to_string().contains("fan@example.com"), "a waitlist join never names the address");
}
