use crate::harness::*;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

fn admin(method: Method, uri: &str, key: Option<&str>, content_type: &str, body: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, content_type);
    if let Some(key) = key {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

/// Sends a TOML catalog to the admin api's import.
async fn import_toml(server: &TestServer, file: &str) -> Reply {
    send(&server.api, admin(Method::POST, "/admin/v1/catalog", Some(ADMIN_KEY), "application/toml", file)).await
}

const CATALOG: &str = r#"
[[products]]
id = "gig"
tweet_ids = ["1600000000000000001", "1600000000000000002"]
title = "Gig ticket"
seller = { name = "Band", kind = "artist" }
kind = "ticket"
currency = "EUR"
max_per_order = 2
rollout_share = 100

[[products.variants]]
id = "ga"
label = "GA"
price_minor = 2000
stock = 5
"#;

#[tokio::test]
async fn the_admin_api_needs_its_bearer_key() {
    let server = start_admin().await;
    for key in [None, Some("wrong")] {
        let reply = send(&server.api, admin(Method::GET, "/admin/v1/orders", key, "application/json", "")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.error_code(), "unauthorized");
    }
    // Without a configured key nobody gets in, whatever they send.
    let reply = send(&start().await.api, admin(Method::GET, "/admin/v1/orders", Some(""), "text/plain", "")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn import_through_the_admin_api_is_all_or_nothing() {
    let server = start_admin().await;
    let products_before = server.count("products").await;
    // One bad field refuses the file, and nothing of it is written.
    let bad = format!("{CATALOG}\n[[products]]\nid = \"second\"\n").replace("price_minor = 2000", "price_minor = 0");
    let reply = import_toml(&server, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert!(reply.text().contains("line"), "errors carry a line: {}", reply.text());
    assert_eq!(server.count("products").await, products_before, "a bad file changes nothing");

    // A tweet already attached to another product refuses the whole file at apply time, one
    // problem per such tweet, however the file spaces the id.
    let clash = CATALOG
        .replace("\"1600000000000000001\"", "\" 1528000000000000001\"")
        .replace("1600000000000000002", "1528000000000000002");
    let reply = import_toml(&server, &clash).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "validation_failed");
    let problems = reply.json()["fields"].as_array().unwrap().clone();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("products[0].tweet_ids[0]: tweet 1528000000000000001"));
    assert!(problems[1]["message"]
        .as_str()
        .unwrap()
        .starts_with("products[0].tweet_ids[1]: tweet 1528000000000000002"));
    assert_eq!(server.count("products").await, products_before);
    assert_eq!(server.count("product_tweets").await, products_before, "the tweets too are untouched");

    let reply = import_toml(&server, CATALOG).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["imported"], 1);
    // Offered from both of its tweets.
    let reply = send(&server.api, get("/api/v1/offers?tweet_ids=1600000000000000001,1600000000000000002")).await;
    let offers = reply.json()["offers"].as_array().unwrap().clone();
    assert_eq!(offers.len(), 2);
    assert!(offers.iter().all(|o| o["product_id"] == "gig" && o["currency"] == "EUR"));
    assert_eq!(server.stock("gig", "ga").await, Some(5));

    // The same in JSON, changing the stock: an upsert, not a second product.
    let json_catalog = json!({"products": [{
        "id": "gig", "tweet_ids": ["1600000000000000001"], "title": "Gig ticket",
        "seller": {"name": "Band", "kind": "artist"}, "kind": "ticket", "currency": "EUR", "max_per_order": 2,
        "variants": [{"id": "ga", "label": "GA", "price_minor": 2000, "stock": 7}]
    }]});
    let reply = send(
        &server.api,
        admin(
            Method::POST,
            "/admin/v1/catalog",
            Some(ADMIN_KEY),
            "Application/JSON; charset=utf-8",
            &json_catalog.to_string(),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(server.stock("gig", "ga").await, Some(7));
    let other =
        send(&server.api, admin(Method::POST, "/admin/v1/catalog", Some(ADMIN_KEY), "application/tomlx", CATALOG))
            .await;
    assert_eq!(other.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "a media type is compared whole");
    assert_eq!(server.count("products").await, products_before + 1);
    let reply = send(&server.api, get("/api/v1/offers?tweet_ids=1600000000000000002")).await;
    assert_eq!(reply.json()["offers"].as_array().unwrap().len(), 0, "the dropped tweet no longer offers it");
}

#[tokio::test]
async fn importing_again_keeps_units_sold_since_sold() {
    let server = start_admin().await;
    let import = |stock: i64| {
        let server = &server;
        let file = CATALOG.replace("stock = 5", &format!("stock = {stock}"));
        async move {
            let reply = import_toml(server, &file).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        }
    };
    import(5).await;
    assert_eq!(server.stock("gig", "ga").await, Some(5));
    server.set_stock("gig", "ga", 3).await; // two sold
    import(5).await;
    assert_eq!(server.stock("gig", "ga").await, Some(3), "the same file again resurrects nothing");
    import(9).await;
    assert_eq!(server.stock("gig", "ga").await, Some(7), "four more put on sale");
    import(1).await;
    assert_eq!(server.stock("gig", "ga").await, Some(0), "one in all, two sold: none left, never below zero");
    import(4).await;
    assert_eq!(server.stock("gig", "ga").await, Some(2), "four in all, two sold: whatever the files before said");
    // Uncounted, then counted again: the count is set outright.
    let uncounted = CATALOG.replace("stock = 5\n", "");
    let reply = import_toml(&server, &uncounted).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(server.stock("gig", "ga").await, None);
    import(6).await;
    assert_eq!(server.stock("gig", "ga").await, Some(6));
}

#[tokio::test]
async fn a_currency_is_stored_as_its_code_however_the_file_writes_it() {
    let server = start_admin().await;
    let reply = import_toml(&server, &CATALOG.replace("currency = \"EUR\"", "currency = \" eur \"")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let (currency,): (String,) =
        sqlx::query_as("SELECT currency FROM products WHERE id = 'gig'").fetch_one(&server.api_state.db).await.unwrap();
    assert_eq!(currency, "EUR");
}

#[tokio::test]
async fn a_product_says_the_language_of_its_texts_and_the_lookup_hands_it_on() {
    let server = start_admin().await;
    let offer = |server: &TestServer| {
        let api = server.api.clone();
        async move { send(&api, get("/api/v1/offers?tweet_ids=1600000000000000001")).await.json()["offers"][0].clone() }
    };
    let reply =
        import_toml(&server, &CATALOG.replace("rollout_share = 100", "rollout_share = 100\nlang = \"es-MX\"")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(offer(&server).await["lang"], "es-MX");
    // Not a language tag: refused with the field, the line and an example, and nothing changes.
    for bad in ["Spanish", "es_MX", "", "es-MX-toolongsubtag"] {
        let file = CATALOG.replace("rollout_share = 100", &format!("rollout_share = 100\nlang = {bad:?}"));
        let reply = import_toml(&server, &file).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {}", reply.text());
        let message = reply.json()["fields"][0]["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with("line 2: products[0].lang:") && message.contains("es-MX"), "{message}");
        assert_eq!(offer(&server).await["lang"], "es-MX");
    }
    // Left out again: not said any more.
    let reply = import_toml(&server, CATALOG).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(offer(&server).await["lang"].is_null());
}

/// A catalog of two products, `gig` offered from `first` and `encore` from `second`.
fn two_products(first: &str, second: &str) -> String {
    let encore = CATALOG.replace("id = \"gig\"", "id = \"encore\"");
    let gig = CATALOG.replace("\"1600000000000000001\", \"1600000000000000002\"", &format!("\"{first}\""));
    gig + &encore.replace("\"1600000000000000001\", \"1600000000000000002\"", &format!("\"{second}\""))
}

#[tokio::test]
async fn products_of_one_file_may_swap_their_tweets() {
    let server = start_admin().await;
    let import = |file: String| {
        let server = &server;
        async move { import_toml(server, &file).await }
    };
    let offered = |tweet: &'static str| {
        let api = server.api.clone();
        async move {
            let reply = send(&api, get(&format!("/api/v1/offers?tweet_ids={tweet}"))).await;
            reply.json()["offers"][0]["product_id"].as_str().map(str::to_owned)
        }
    };
    let (a, b) = ("1600000000000000001", "1600000000000000002");
    let reply = import(two_products(a, b)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!((offered(a).await.as_deref(), offered(b).await.as_deref()), (Some("gig"), Some("encore")));

    // Each product's only (so default) tweet moves to the other, one id written with spaces.
    let reply = import(two_products(b, &format!(" {a} "))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!((offered(a).await.as_deref(), offered(b).await.as_deref()), (Some("encore"), Some("gig")));
    let defaults: Vec<(String, String)> =
        sqlx::query_as("SELECT id, tweet_id FROM products WHERE id IN ('gig', 'encore') ORDER BY id")
            .fetch_all(&server.api_state.db)
            .await
            .unwrap();
    assert_eq!(defaults, [("encore".to_owned(), a.to_owned()), ("gig".to_owned(), b.to_owned())]);
}

#[tokio::test]
async fn prices_shipping_and_stock_have_ceilings_a_browser_can_count_to() {
    let server = start_admin().await;
    let file = CATALOG
        .replace("price_minor = 2000", "price_minor = 9223372036854775807")
        .replace("stock = 5", "stock = 5000000000")
        .replace("max_per_order = 2", "max_per_order = 2\nshipping_minor = 10000000001");
    let reply = import_toml(&server, &file).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    let text = reply.text();
    for field in [
        "shipping_minor: must be 0 to 10000000000",
        "price_minor: must be 1 to 10000000000",
        "stock: must be 0 to 1000000000",
    ] {
        assert!(text.contains(field), "{field} in {text}");
    }
    // At the ceilings, the largest order's quote (a hundred units, shipping, New York's tax)
    // is exact.
    let file = CATALOG
        .replace("price_minor = 2000", "price_minor = 10000000000")
        .replace("kind = \"ticket\"", "kind = \"physical\"\nships_to = [\"US\"]")
        .replace("max_per_order = 2", "max_per_order = 100\nshipping_minor = 10000000000")
        .replace("stock = 5", "stock = 1000000000");
    let reply = import_toml(&server, &file).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let largest = json!({"product_id": "gig", "variant_id": "ga", "quantity": 100, "country": "US", "region": "NY"});
    let reply = send(&server.api, post_json("/api/v1/quote", &largest, None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // 10^12 + 10^10 shipping + 8.875 % of 10^12.
    assert_eq!(reply.json()["total"]["minor"], 1_098_750_000_000_i64, "{}", reply.text());
}

#[tokio::test]
async fn the_seller_sees_the_email_only_with_consent_and_never_a_token() {
    let server = start_admin().await;
    let shared = server.tokenize("4242424242424242", "123").await;
    let private = server.tokenize("5555555555554444", "123").await;
    assert_eq!(server.order(&tee_order(&shared, 1), &fresh_key()).await.status, StatusCode::CREATED);
    let mut body = tee_order(&private, 1);
    body["share_email"] = json!(false);
    body["email"] = json!("private@example.com");
    assert_eq!(server.order(&body, &fresh_key()).await.status, StatusCode::CREATED);
    let ticket = server.tokenize("4242424242424242", "123").await;
    let ticket_order = json!({"product_id": TICKET, "variant_id": "ga", "quantity": 1,
                              "email": "fan@example.com", "card_token": ticket, "share_email": true});
    assert_eq!(server.order(&ticket_order, &fresh_key()).await.status, StatusCode::CREATED);

    let reply =
        send(&server.api, admin(Method::GET, "/admin/v1/orders", Some(ADMIN_KEY), "application/json", "")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let orders = reply.json();
    let orders = orders.as_array().unwrap();
    assert_eq!(orders.len(), 3);
    let by_last4 = |last4: &str, product: &str| {
        orders.iter().find(|o| o["card_last4"] == last4 && o["product_id"] == product).unwrap().clone()
    };
    let consented = by_last4("4242", TEE);
    assert_eq!(consented["email"], "jane@example.com");
    assert_eq!(consented["card_brand"], "visa");
    assert_eq!(consented["shipping"]["postal_code"], "10001");
    assert_eq!(consented["variant_label"], "M");
    assert_eq!(consented["total_minor"], 3000 + 500 + 266);
    let withheld = by_last4("4444", TEE);
    assert_eq!(withheld["email"], serde_json::Value::Null, "no consent, no email");
    let ticket_view = by_last4("4242", TICKET);
    assert_eq!(ticket_view["shipping"], serde_json::Value::Null, "tickets carry no address");

    let csv = send(&server.api, admin(Method::GET, "/admin/v1/orders.csv", Some(ADMIN_KEY), "text/csv", "")).await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = csv.text();
    assert_eq!(text.lines().count(), 4, "header and three orders:\n{text}");
    assert!(text.contains("jane@example.com") && !text.contains("private@example.com"));
    for token in [&shared, &private, &ticket] {
        assert!(!text.contains(token.as_str()) && !reply.text().contains(token.as_str()), "no card token");
    }
}

#[tokio::test]
async fn a_dry_run_checks_a_file_against_the_catalog_and_writes_nothing() {
    let server = start_admin().await;
    let post = |query: &str, file: &str| {
        admin(Method::POST, &format!("/admin/v1/catalog{query}"), Some(ADMIN_KEY), "application/toml", file)
    };
    let products = server.count("products").await;
    let tried = send(&server.api, post("?dry_run=true", CATALOG)).await;
    assert_eq!(tried.status, StatusCode::OK, "{}", tried.text());
    assert_eq!(tried.json(), json!({"imported": 1, "dry_run": true}));
    assert_eq!(server.count("products").await, products, "nothing written");

    // A tweet another product holds is found by the dry run as by the import.
    let taken = CATALOG.replace("\"1600000000000000002\"", "\"1528000000000000001\"");
    let refused = send(&server.api, post("?dry_run=true", &taken)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text());
    assert!(refused.text().contains("already attached"), "{}", refused.text());

    // An unknown parameter is refused, as an unknown field is: it is never silently dropped.
    let typo = send(&server.api, post("?dryrun=1", CATALOG)).await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST, "{}", typo.text());
    assert_eq!(server.count("products").await, products);
    let done = send(&server.api, post("", CATALOG)).await;
    assert_eq!(done.json(), json!({"imported": 1, "dry_run": false}));
    assert_eq!(server.count("products").await, products + 1);
}
