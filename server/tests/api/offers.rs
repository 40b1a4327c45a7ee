use crate::harness::*;
use axum::http::StatusCode;

const ALL_DEMO: &str = "1528000000000000001,1528000000000000002,1528000000000000003,1528000000000000004,\
                        1528000000000000005,1528000000000000006,1528000000000000007";

#[tokio::test]
async fn lookup_returns_offers_only_for_tweets_that_have_one() {
    let server = start().await;
    let reply = send(&server.api, get(&format!("/api/v1/offers?tweet_ids=20,{ALL_DEMO}"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("public, max-age=15"));
    let body = reply.json();
    assert_eq!(body["vault_origin"], VAULT_ORIGIN);
    let offers = body["offers"].as_array().unwrap();
    let tweets: Vec<&str> = offers.iter().map(|o| o["tweet_id"].as_str().unwrap()).collect();
    assert_eq!(tweets.len(), 7, "tweet 20 has no offer");
    assert_eq!(tweets[0], "1528000000000000001", "in the order asked");
    let availability: Vec<&str> = offers.iter().map(|o| o["availability"].as_str().unwrap()).collect();
    assert_eq!(
        availability,
        ["available", "available", "available", "available", "sold_out", "sale_ended", "available"]
    );

    let tee = &offers[0];
    assert_eq!(tee["product_id"], TEE);
    assert_eq!(tee["seller"]["kind"], "nonprofit");
    assert_eq!(tee["kind"], "physical");
    assert_eq!(tee["limited_edition"], true);
    assert_eq!(tee["ships_to"], serde_json::json!(["US"]));
    assert_eq!(tee["variants"].as_array().unwrap().len(), 4);
    assert_eq!(tee["variants"][0]["price"], serde_json::json!({"minor": 3000, "currency": "USD"}));
    assert_eq!(tee["images"][0]["url"], format!("{API_ORIGIN}/images/{TEE}.svg"));
    assert!(!tee["images"][0]["alt"].as_str().unwrap().is_empty());

    let ticket = &offers[2];
    assert_eq!(ticket["kind"], "ticket");
    assert_eq!(ticket["delivery"], "Your ticket is emailed to you.");
    assert!(ticket["sale_ends_at"].as_i64().unwrap() > tweetbuy_server::clock::now());
    assert_eq!(offers[6]["currency"], "EUR");
    // The body decodes into the shared wire type.
    let _: tweetbuy_core::OffersResponse = serde_json::from_slice(&reply.body).unwrap();
}

#[tokio::test]
async fn malformed_ids_are_ignored_and_none_known_is_empty() {
    let server = start().await;
    let reply =
        send(&server.api, get("/api/v1/offers?tweet_ids=abc,-5,0012,1528000000000000004,,1528000000000000004")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let offers = reply.json()["offers"].as_array().unwrap().clone();
    assert_eq!(offers.len(), 1, "the one good id, once");
    assert_eq!(offers[0]["product_id"], "pharrell-signature-hat");

    let reply = send(&server.api, get("/api/v1/offers?tweet_ids=20,x")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["offers"], serde_json::json!([]));
}

#[tokio::test]
async fn too_many_ids_or_none_is_400() {
    let server = start().await;
    let ids: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let reply = send(&server.api, get(&format!("/api/v1/offers?tweet_ids={}", ids.join(",")))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "bad_request");

    let ids: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let reply = send(&server.api, get(&format!("/api/v1/offers?tweet_ids={}", ids.join(",")))).await;
    assert_eq!(reply.status, StatusCode::OK, "exactly the limit is fine");

    let reply = send(&server.api, get("/api/v1/offers")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "bad_request");
}

#[tokio::test]
async fn availability_follows_stock_at_request_time() {
    let server = start().await;
    for variant in ["s", "m", "l", "xl"] {
        server.set_stock(TEE, variant, 0).await;
    }
    let reply = send(&server.api, get("/api/v1/offers?tweet_ids=1528000000000000001")).await;
    assert_eq!(reply.json()["offers"][0]["availability"], "sold_out");
}

#[tokio::test]
async fn product_images_are_generated_svg() {
    let server = start().await;
    let reply = send(&server.api, get(&format!("/images/{TEE}.svg"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("image/svg+xml"));
    assert!(reply.text().starts_with("<svg") && reply.text().contains("(RED)"));
    let reply = send(&server.api, get("/images/nope.svg")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "not_found");
    let reply = send(&server.api, get(&format!("/images/{TEE}.png"))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
