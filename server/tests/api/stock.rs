//! An option's stock when the seller re-imports the catalog while buyers' orders hold units:
//! what goes on sale is the file's count, whatever those orders become.

use crate::harness::*;
use crate::vault_proxy::{Charge, VaultProxy};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tweetbuy_server::api::catalog_import::{self, Format};
use tweetbuy_server::clock;

const DECLINED: &str = "4000000000000002";

/// A ticket of one option with `stock` units, as the seller's file gives it.
async fn import(server: &TestServer, stock: u32) {
    let file = format!(
        "[[products]]\nid = \"drop\"\ntweet_ids = [\"1900000000000000001\"]\ntitle = \"Drop\"\n\
         seller = {{ name = \"Band\", kind = \"artist\" }}\nkind = \"ticket\"\ncurrency = \"USD\"\n\
         max_per_order = 1\n\n[[products.variants]]\nid = \"ga\"\nlabel = \"GA\"\nprice_minor = 1000\n\
         stock = {stock}\n"
    );
    let products = catalog_import::parse(&file, Format::Toml).unwrap();
    catalog_import::apply(&server.api_state.db, &products, clock::now()).await.unwrap();
}

/// A server whose charges wait at a proxy until the test lets them through: the n-th charge
/// waits for a permit of `gates[n]`, or of the last gate. Also returns the proxy, to keep it
/// running, and how many charges have arrived.
async fn holding_charges(gates: Arc<Vec<Semaphore>>) -> (Arc<TestServer>, VaultProxy, Arc<AtomicUsize>) {
    let arrived = Arc::new(AtomicUsize::new(0));
    let mut proxy = None;
    let server = start_with(|settings| {
        let arrived = arrived.clone();
        let holding = VaultProxy::start(move |charge: Charge| {
            let (gates, arrived) = (gates.clone(), arrived.clone());
            async move {
                let n = arrived.fetch_add(1, Ordering::SeqCst).min(gates.len() - 1);
                gates[n].acquire().await.unwrap().forget();
                charge.forward().await.unwrap().into_response()
            }
        });
        holding.point_at(&settings.vault_internal_url);
        settings.vault_internal_url = holding.url.clone();
        proxy = Some(holding);
    })
    .await;
    (Arc::new(server), proxy.unwrap(), arrived)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_of_orders_that_fail_after_a_smaller_re_import_do_not_go_back_on_sale() {
    let gate = Arc::new(vec![Semaphore::new(0)]);
    let (server, _proxy, _) = holding_charges(gate.clone()).await;
    import(&server, 10).await;

    // Three buyers' orders hold a unit each while their (declined) charges wait.
    let mut buyers = Vec::new();
    for i in 0..3 {
        let details = json!({"product_id": "drop", "variant_id": "ga", "quantity": 1,
                             "email": format!("fan{i}@example.com")});
        let intent = server.create_intent(&details).await;
        let token = server.token_for(DECLINED, "123", intent["intent_id"].as_str().unwrap()).await;
        let server = server.clone();
        buyers.push(tokio::spawn(async move { server.pay(&intent, &token, &fresh_key()).await.status }));
    }
    while server.stock("drop", "ga").await != Some(7) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // The seller puts 2 on sale in all: none is left while the three hold theirs.
    import(&server, 2).await;
    assert_eq!(server.stock("drop", "ga").await, Some(0));
    gate[0].add_permits(3);
    for buyer in buyers {
        assert_eq!(buyer.await.unwrap(), StatusCode::PAYMENT_REQUIRED);
    }
    assert_eq!(server.stock("drop", "ga").await, Some(2), "the file's 2, not 3");

    // A later file counts from there.
    import(&server, 5).await;
    assert_eq!(server.stock("drop", "ga").await, Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_option_is_sold_out_when_the_units_still_held_only_pay_back_what_is_owed() {
    use tweetbuy_server::api::webhooks::endpoints::{self, NewEndpoint};
    // Each buyer's charge waits at the proxy for its own permit: first, second.
    let gates = Arc::new(vec![Semaphore::new(0), Semaphore::new(0)]);
    let (server, _proxy, turn) = holding_charges(gates.clone()).await;
    let hook = NewEndpoint {
        url: "https://hooks.example.com/in".into(),
        events: vec!["product.sold_out".into()],
        ..Default::default()
    };
    endpoints::create(&server.api_state.db, &hook).await.unwrap();
    import(&server, 2).await;

    // The first buyer's card is approved, the second's declined; both hold a unit while the
    // seller lowers the option to 1 in all.
    let mut buyers = Vec::new();
    for (i, card) in ["4242424242424242", DECLINED].into_iter().enumerate() {
        let details = json!({"product_id": "drop", "variant_id": "ga", "quantity": 1,
                             "email": format!("fan{i}@example.com")});
        let intent = server.create_intent(&details).await;
        let token = server.token_for(card, "123", intent["intent_id"].as_str().unwrap()).await;
        let server = server.clone();
        buyers.push(tokio::spawn(async move { server.pay(&intent, &token, &fresh_key()).await.status }));
        while turn.load(Ordering::SeqCst) <= i {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    import(&server, 1).await;
    gates[0].add_permits(1);
    let second = buyers.pop().unwrap();
    assert_eq!(buyers.pop().unwrap().await.unwrap(), StatusCode::CREATED);
    gates[1].add_permits(1);
    assert_eq!(second.await.unwrap(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(server.stock("drop", "ga").await, Some(0), "the declined unit paid back what was owed");
    let (sold_out,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE type = 'product.sold_out'")
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    assert_eq!(sold_out, 1, "the paid order sold the option out: the held unit could not bring it back");
}
