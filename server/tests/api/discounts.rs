//! Discount codes: applied on the server alone, in the quote, the intent and the order; a
//! use is taken with the order's stock and given back with it; a code that goes out of use
//! between the intent and the order charges nothing; fifty buyers racing for ten uses get
//! exactly ten.

use crate::harness::*;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use tweetbuy_server::clock;

const VISA: &str = "4242 4242 4242 4242";
const DECLINED: &str = "4000 0000 0000 0002";

fn admin(method: Method, uri: &str, key: Option<&str>, body: Option<&Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    builder.body(Body::from(body.map(Value::to_string).unwrap_or_default())).unwrap()
}

async fn create_code(server: &TestServer, body: Value) -> Reply {
    send(&server.api, admin(Method::POST, "/admin/v1/discounts", Some(ADMIN_KEY), Some(&body))).await
}

/// Creates a code, panicking unless 201.
async fn code(server: &TestServer, body: Value) {
    let reply = create_code(server, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

fn with_code(mut details: Value, code: &str) -> Value {
    details["discount_code"] = json!(code);
    details
}

fn tee_quote(code: &str) -> Value {
    json!({"product_id": TEE, "variant_id": "m", "quantity": 2, "country": "US", "region": "NY", "discount_code": code})
}

async fn quote(server: &TestServer, body: &Value) -> Reply {
    send(&server.api, post_json("/api/v1/quote", body, None)).await
}

fn field_code(reply: &Reply) -> (String, String) {
    let body = reply.json();
    let field = &body["fields"][0];
    (field["field"].as_str().unwrap_or_default().to_owned(), field["code"].as_str().unwrap_or_default().to_owned())
}

fn refused_as(code: &str) -> (String, String) {
    ("discount_code".to_owned(), code.to_owned())
}

async fn used(server: &TestServer, code: &str) -> i64 {
    let (used,): (i64,) = sqlx::query_as("SELECT used FROM discount_codes WHERE code = $1")
        .bind(code)
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    used
}

#[tokio::test]
async fn the_demo_code_takes_ten_percent_off_the_tee_before_tax() {
    let server = start().await;
    let full =
        quote(&server, &json!({"product_id": TEE, "variant_id": "m", "quantity": 2, "country": "US", "region": "NY"}))
            .await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.text());
    assert!(full.json().get("discount").is_none(), "no code, no discount line: {}", full.text());

    let reply = quote(&server, &tee_quote(" tweet10 ")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let q = reply.json();
    assert_eq!(q["discount"], json!({"code": "TWEET10", "amount": {"minor": 600, "currency": "USD"}}));
    assert_eq!(q["subtotal"]["minor"], 6000);
    // 8.875 % of $54.00 is $4.7925 → $4.79; shipping $5.00.
    assert_eq!(q["tax"]["minor"], 479);
    assert_eq!(q["total"]["minor"], 5400 + 500 + 479);

    let intent = server.create_intent(&with_code(tee_details(2), "TWEET10")).await;
    assert_eq!(intent["quote"], q, "the intent is priced as the quote");
    let token = server.token_for(VISA, "123", intent["intent_id"].as_str().unwrap()).await;
    let paid = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    assert_eq!(paid.json()["quote"], q, "the receipt shows the discount");
    let (code, minor, total): (Option<String>, i64, i64) =
        sqlx::query_as("SELECT discount_code, discount_minor, total_minor FROM orders")
            .fetch_one(&server.api_state.db)
            .await
            .unwrap();
    assert_eq!((code.as_deref(), minor, total), (Some("TWEET10"), 600, 6379));
    assert_eq!(used(&server, "TWEET10").await, 1);
}

#[tokio::test]
async fn refused_codes_are_field_errors_with_stable_codes() {
    let server = start_admin().await;
    for (raw, why) in [("NOPE10", "discount_unknown"), ("x", "discount_unknown"), ("TWEET 10", "discount_unknown")] {
        let reply = quote(&server, &tee_quote(raw)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{raw}: {}", reply.text());
        assert_eq!(field_code(&reply), refused_as(why), "{raw}");
    }
    let scarf = json!({"product_id": SCARF, "variant_id": "one-size", "quantity": 1, "discount_code": "TWEET10"});
    let reply = quote(&server, &scarf).await;
    assert_eq!(field_code(&reply), refused_as("discount_not_applicable"), "{}", reply.text());

    let now = clock::now();
    code(&server, json!({"code": "LATER", "percent_off": 5, "product_id": TEE, "starts_at": now + 3600})).await;
    // A code that has since ended, and one whose products have since been priced in another
    // currency (the admin api refuses both when they are created so).
    code(&server, json!({"code": "OVER", "percent_off": 5, "product_id": TEE, "ends_at": now + 3600})).await;
    code(&server, json!({"code": "EUROS", "amount_off_minor": 500, "currency": "USD", "seller": "(RED)"})).await;
    for change in [
        format!("UPDATE discount_codes SET starts_at = {}, ends_at = {} WHERE code = 'OVER'", now - 7200, now - 3600),
        "UPDATE discount_codes SET currency = 'EUR' WHERE code = 'EUROS'".to_owned(),
    ] {
        sqlx::query(&change).execute(&server.api_state.db).await.unwrap();
    }
    for (raw, why) in
        [("later", "discount_not_started"), ("OVER", "discount_expired"), ("EUROS", "discount_not_applicable")]
    {
        let reply = quote(&server, &tee_quote(raw)).await;
        assert_eq!(field_code(&reply), refused_as(why), "{raw}: {}", reply.text());
    }
    // An intent tells a bad code beside any other problem, all at once.
    let mut details = with_code(tee_details(1), "NOPE10");
    details["email"] = json!("not an email");
    let reply = server.intent(&details).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.fields(), ["email", "discount_code"], "{}", reply.text());
}

#[tokio::test]
async fn sellers_create_list_and_disable_codes_with_the_admin_key() {
    let server = start_admin().await;
    let new = json!({"code": "fiver", "amount_off_minor": 500, "currency": "USD", "seller": "(RED)", "max_uses": 3});
    let denied = send(&server.api, admin(Method::POST, "/admin/v1/discounts", None, Some(&new))).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    let created = create_code(&server, new.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["code"], "FIVER");
    let again = create_code(&server, new).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_code(&again), ("code".to_owned(), "taken".to_owned()));

    let bad = create_code(&server, json!({"code": "a", "percent_off": 0, "product_id": TEE, "seller": "(RED)"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.fields(), ["code", "percent_off", "product_id"], "{}", bad.text());
    // An amount past any price a catalog may set (and past what a browser's numbers hold).
    let huge = json!({"code": "HUGE", "amount_off_minor": i64::MAX, "currency": "USD", "product_id": TEE});
    let huge = create_code(&server, huge).await;
    assert_eq!(huge.fields(), ["amount_off_minor"], "{}", huge.text());
    let ghost = create_code(&server, json!({"code": "GHOST", "percent_off": 5, "product_id": "no-such"})).await;
    assert_eq!(field_code(&ghost), ("product_id".to_owned(), "unknown".to_owned()));
    // An amount in a currency none of its products is priced in, or an end already past: no
    // checkout could ever take it.
    let euros =
        create_code(&server, json!({"code": "EUROFF", "amount_off_minor": 500, "currency": "EUR", "product_id": TEE}))
            .await;
    assert_eq!(field_code(&euros), ("currency".to_owned(), "not_applicable".to_owned()), "{}", euros.text());
    let euros_seller =
        create_code(&server, json!({"code": "EUROFF", "amount_off_minor": 500, "currency": "EUR", "seller": "(RED)"}))
            .await;
    assert_eq!(field_code(&euros_seller), ("currency".to_owned(), "not_applicable".to_owned()));
    let past = create_code(&server, json!({"code": "PAST", "percent_off": 10, "product_id": TEE, "ends_at": 1})).await;
    assert_eq!(field_code(&past), ("ends_at".to_owned(), "invalid".to_owned()), "{}", past.text());
    // Every problem at once: the taken code, the unknown product and the past end; and a
    // time in milliseconds.
    let all =
        create_code(&server, json!({"code": "fiver", "percent_off": 5, "product_id": "nope", "ends_at": 1000})).await;
    assert_eq!(all.fields(), ["ends_at", "code", "product_id"], "{}", all.text());
    assert!(all.text().contains("The catalog has no such product."), "{}", all.text());
    let millis = create_code(
        &server,
        json!({"code": "MILLI", "percent_off": 5, "product_id": TEE, "ends_at": 1798761600000_i64}),
    )
    .await;
    assert_eq!(millis.fields(), ["ends_at"], "{}", millis.text());
    assert!(millis.text().contains("milliseconds"), "{}", millis.text());
    let unknown_field =
        create_code(&server, json!({"code": "X12", "percent_off": 5, "product_id": TEE, "free": 1})).await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown_field.text());

    let q = quote(&server, &tee_quote("FIVER")).await;
    assert_eq!(q.json()["discount"]["amount"]["minor"], 500, "{}", q.text());
    let listed = send(&server.api, admin(Method::GET, "/admin/v1/discounts", Some(ADMIN_KEY), None)).await;
    assert_eq!(listed.status, StatusCode::OK);
    let codes: Vec<String> =
        listed.json().as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect();
    assert!(codes.contains(&"FIVER".to_owned()) && codes.contains(&"TWEET10".to_owned()), "{codes:?}");

    let off = send(&server.api, admin(Method::POST, "/admin/v1/discounts/fiver/disable", Some(ADMIN_KEY), None)).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text());
    assert_eq!(off.json()["active"], false);
    assert_eq!(field_code(&quote(&server, &tee_quote("FIVER")).await), refused_as("discount_unknown"));
    let none = send(&server.api, admin(Method::POST, "/admin/v1/discounts/NOPE/disable", Some(ADMIN_KEY), None)).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_code_that_expires_between_intent_and_order_charges_nothing() {
    let server = start().await;
    let intent = server.create_intent(&with_code(tee_details(1), "TWEET10")).await;
    let token = server.token_for(VISA, "123", intent["intent_id"].as_str().unwrap()).await;
    sqlx::query("UPDATE discount_codes SET ends_at = $1 WHERE code = 'TWEET10'")
        .bind(clock::now() - 1)
        .execute(&server.api_state.db)
        .await
        .unwrap();

    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(field_code(&reply), refused_as("discount_expired"));
    assert_eq!(server.vault_charges().await, 0, "nothing charged");
    assert_eq!(server.count("orders").await, 0, "nothing half-stored");
    assert_eq!(server.stock(TEE, "m").await, Some(15), "no stock taken");
    assert_eq!(used(&server, "TWEET10").await, 0);

    // Without the code, the buyer sees the full price and pays it.
    let full = server.create_intent(&tee_details(1)).await;
    assert!(full["quote"]["total"]["minor"].as_i64() > intent["quote"]["total"]["minor"].as_i64());
    let token = server.token_for(VISA, "123", full["intent_id"].as_str().unwrap()).await;
    assert_eq!(server.pay(&full, &token, &fresh_key()).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_last_use_goes_to_one_order_and_a_decline_gives_it_back() {
    let server = start_admin().await;
    code(&server, json!({"code": "ONCE", "percent_off": 50, "product_id": TEE, "max_uses": 1})).await;
    let first = server.create_intent(&with_code(tee_details(1), "ONCE")).await;
    let second = server.create_intent(&with_code(tee_details(1), "ONCE")).await;

    // A declined card takes the use and gives it back with the stock.
    let declined = server.token_for(DECLINED, "123", first["intent_id"].as_str().unwrap()).await;
    let reply = server.pay(&first, &declined, &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED, "{}", reply.text());
    assert_eq!(used(&server, "ONCE").await, 0, "the use is given back");

    let token = server.token_for(VISA, "123", second["intent_id"].as_str().unwrap()).await;
    assert_eq!(server.pay(&second, &token, &fresh_key()).await.status, StatusCode::CREATED);
    assert_eq!(used(&server, "ONCE").await, 1);

    let token = server.token_for(VISA, "123", first["intent_id"].as_str().unwrap()).await;
    let late = server.pay(&first, &token, &fresh_key()).await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", late.text());
    assert_eq!(field_code(&late), refused_as("discount_used_up"));
    assert_eq!(field_code(&server.intent(&with_code(tee_details(1), "ONCE")).await), refused_as("discount_used_up"));
    assert_eq!(server.vault_charges().await, 2, "the decline and the one discounted order");
}

#[tokio::test]
async fn one_email_uses_a_code_as_often_as_it_may() {
    let server = start_admin().await;
    code(&server, json!({"code": "FIRSTDROP", "percent_off": 20, "seller": "(RED)", "max_per_email": 1})).await;
    let paid =
        server.order(&with_code(tee_order(&server.tokenize(VISA, "123").await, 1), "FIRSTDROP"), &fresh_key()).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());

    let mut shouting = with_code(tee_details(1), "firstdrop");
    shouting["email"] = json!("JANE@EXAMPLE.COM");
    let reply = server.intent(&shouting).await;
    assert_eq!(field_code(&reply), refused_as("discount_already_used"), "{}", reply.text());
    let mut other = with_code(tee_details(1), "FIRSTDROP");
    other["email"] = json!("sam@example.com");
    assert_eq!(server.intent(&other).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn fifty_buyers_racing_for_ten_uses_get_exactly_ten() {
    let server = start_admin().await;
    code(&server, json!({"code": "TENONLY", "percent_off": 10, "product_id": TEE, "max_uses": 10})).await;
    server.set_stock(TEE, "m", 100).await;
    let mut buyers = Vec::new();
    for i in 0..50 {
        let intent = server.create_intent(&with_code(tee_details(1), "TENONLY")).await;
        let token = server.token_for(VISA, "123", intent["intent_id"].as_str().unwrap()).await;
        buyers.push((i, intent, token));
    }
    let tasks = buyers.into_iter().map(|(_, intent, token)| {
        let api = server.api.clone();
        tokio::spawn(async move {
            send(&api, post_json("/api/v1/orders", &pay_body(&intent, &token), Some(&fresh_key()))).await
        })
    });
    let replies: Vec<Reply> = futures_util::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    let paid = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let used_up = replies.iter().filter(|r| field_code(r) == refused_as("discount_used_up")).count();
    assert_eq!((paid, used_up), (10, 40), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(used(&server, "TENONLY").await, 10);
    assert_eq!(server.vault_charges().await, 10, "only the ten discounted orders were charged");
    assert_eq!(server.stock(TEE, "m").await, Some(90));
    let (discounted,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM orders WHERE status = 'paid' AND discount_code = 'TENONLY'")
            .fetch_one(&server.api_state.db)
            .await
            .unwrap();
    assert_eq!(discounted, 10);
}

#[tokio::test]
async fn a_catalog_import_that_would_strand_an_amount_off_code_is_refused_whole() {
    use tweetbuy_server::api::catalog_import::{self, Format};
    let server = start_admin().await;
    let import = |currency: &str| {
        let file = format!(
            "[[products]]\nid = \"zine\"\ntweet_ids = [\"1900000000000000002\"]\ntitle = \"Zine\"\n\
             seller = {{ name = \"Press\", kind = \"artist\" }}\nkind = \"digital\"\ncurrency = \"{currency}\"\n\
             delivery = \"Emailed.\"\nmax_per_order = 1\n\n[[products.variants]]\nid = \"one\"\nlabel = \"One\"\nprice_minor = 1500\n"
        );
        let products = catalog_import::parse(&file, Format::Toml).unwrap();
        let db = server.api_state.db.clone();
        async move { catalog_import::apply(&db, &products, tweetbuy_server::clock::now()).await }
    };
    import("USD").await.unwrap();
    code(&server, json!({"code": "ZINE5", "amount_off_minor": 500, "currency": "USD", "product_id": "zine"})).await;
    let (status, body) = import("EUR").await.unwrap_err().into_parts();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let problems: Vec<&str> = body.fields.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("ZINE5") && problems[0].contains("discounts disable ZINE5"), "{problems:?}");
    let (currency,): (String,) = sqlx::query_as("SELECT currency FROM products WHERE id = 'zine'")
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    assert_eq!(currency, "USD", "nothing of the import was kept");

    // Once the code is disabled, the import goes through.
    let off = send(&server.api, admin(Method::POST, "/admin/v1/discounts/ZINE5/disable", Some(ADMIN_KEY), None)).await;
    assert_eq!(off.status, StatusCode::OK);
    import("EUR").await.unwrap();
}
