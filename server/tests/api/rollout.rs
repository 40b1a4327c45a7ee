use crate::harness::*;
use axum::http::StatusCode;
use tweetbuy_server::api::catalog_import::{apply, parse, Format};

/// The shared catalog fixture; its `slow-rollout` product is offered to 30 % of visitors.
const CATALOG: &str = include_str!("../fixtures/catalog.toml");

#[tokio::test]
async fn a_30_percent_offer_reaches_about_30_percent_of_visitors_stably() {
    let server = start().await;
    apply(&server.api_state.db, &parse(CATALOG, Format::Toml).unwrap(), tweetbuy_server::clock::now()).await.unwrap();
    let ids = "1650000000000000001,1528000000000000001";
    let offered = |visitor: Option<String>| {
        let api = server.api.clone();
        async move {
            let uri = match visitor {
                Some(v) => format!("/api/v1/offers?tweet_ids={ids}&visitor={v}"),
                None => format!("/api/v1/offers?tweet_ids={ids}"),
            };
            let reply = send(&api, get(&uri)).await;
            assert_eq!(reply.status, StatusCode::OK);
            let products: Vec<String> = reply.json()["offers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["product_id"].as_str().unwrap().to_owned())
                .collect();
            assert!(products.contains(&TEE.to_owned()), "the 100 % offer is always there");
            products.contains(&"slow-rollout".to_owned())
        }
    };
    let mut shown = 0;
    for i in 0..1000 {
        let visitor = format!("visitor-{i}");
        let first = offered(Some(visitor.clone())).await;
        if i % 50 == 0 {
            assert_eq!(offered(Some(visitor.clone())).await, first, "the same answer for the same visitor");
        }
        assert_eq!(first, tweetbuy_server::api::rollout::bucket(&visitor, "slow-rollout") < 30);
        shown += usize::from(first);
    }
    assert!((250..=350).contains(&shown), "about 30 % of 1000 visitors, got {shown}");
    assert!(!offered(None).await, "a visitor without an id sees only 100 % offers");
}
