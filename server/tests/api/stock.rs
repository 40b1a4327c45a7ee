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

/// A ticket of one option with `stock` units, as the seller's file gives it: `None` counts
/// no stock.
async fn import(server: &TestServer, stock: impl Into<Option<u32>>) {
    let stock = stock.into().map_or_else(String::new, |units| format!("stock = {units}\n"));
    let file = format!(
        "[[products]]\nid = \"drop\"\ntweet_ids = [\"1900000000000000001\"]\ntitle = \"Drop\"\n\
         seller = {{ name = \"Band\", kind = \"artist\" }}\nkind = \"ticket\"\ncurrency = \"USD\"\n\
         max_per_order = 1\n\n[[products.variants]]\nid = \"ga\"\nlabel = \"GA\"\nprice_minor = 1000\n\
         {stock}"
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

/// A buyer's order of the ticket with `card`, sent now and answered later: its answer's
/// status and body.
fn buy(server: &Arc<TestServer>, card: &'static str, buyer: usize) -> tokio::task::JoinHandle<(StatusCode, String)> {
    let server = server.clone();
    tokio::spawn(async move {
        let details = json!({"product_id": "drop", "variant_id": "ga", "quantity": 1,
                             "email": format!("fan{buyer}@example.com")});
        let intent = server.create_intent(&details).await;
        let token = server.token_for(card, "123", intent["intent_id"].as_str().unwrap()).await;
        let reply = server.pay(&intent, &token, &fresh_key()).await;
        (reply.status, reply.text())
    })
}

async fn until_arrived(arrived: &AtomicUsize, charges: usize) {
    while arrived.load(Ordering::SeqCst) < charges {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_placed_while_the_option_counted_no_stock_gives_no_units_back_to_a_later_count() {
    let gate = Arc::new(vec![Semaphore::new(0)]);
    let (server, _proxy, arrived) = holding_charges(gate.clone()).await;
    import(&server, None).await;
    assert_eq!(server.stock("drop", "ga").await, None);

    // A buyer's (declined) order is placed while the option counts nothing, and fails once
    // the seller has started counting: 5 on sale.
    let buyer = buy(&server, DECLINED, 0);
    until_arrived(&arrived, 1).await;
    import(&server, 5).await;
    gate[0].add_permits(1);
    assert_eq!(buyer.await.unwrap().0, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(server.stock("drop", "ga").await, Some(5), "the file's 5: the order took no unit to give back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_order_gives_no_units_to_a_count_the_seller_started_afresh_since() {
    let gate = Arc::new(vec![Semaphore::new(Semaphore::MAX_PERMITS)]);
    let (mut server, _proxy, _) = holding_charges(gate).await;
    Arc::get_mut(&mut server).unwrap().api =
        tweetbuy_server::api_app(server.api_state.clone().with_admin_key(Some(ADMIN_KEY.into())));
    let cancel = |number: String| {
        let server = server.clone();
        async move {
            let request = axum::http::Request::post(format!("/admin/v1/orders/{number}/cancel"))
                .header("authorization", format!("Bearer {ADMIN_KEY}"))
                .body(axum::body::Body::empty())
                .unwrap();
            send(&server.api, request).await.status
        }
    };
    let paid = |(status, body): (StatusCode, String)| {
        assert_eq!(status, StatusCode::CREATED, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["order_number"].as_str().unwrap().to_owned()
    };

    // Paid while the option counted nothing; the seller then puts 4 on sale.
    import(&server, None).await;
    let uncounted = paid(buy(&server, "4242424242424242", 0).await.unwrap());
    import(&server, 4).await;
    assert_eq!(cancel(uncounted).await, StatusCode::CREATED);
    assert_eq!(server.stock("drop", "ga").await, Some(4), "no unit was taken from the 4");

    // Paid from a count of 4, which the seller then stops and starts again at 4.
    let counted = paid(buy(&server, "4242424242424242", 1).await.unwrap());
    assert_eq!(server.stock("drop", "ga").await, Some(3));
    import(&server, None).await;
    import(&server, 4).await;
    assert_eq!(cancel(counted).await, StatusCode::CREATED);
    assert_eq!(server.stock("drop", "ga").await, Some(4), "the unit was taken from a count that is gone");

    // Within one count, a cancelled order's unit goes back as before.
    let again = paid(buy(&server, "4242424242424242", 2).await.unwrap());
    import(&server, 6).await;
    assert_eq!(server.stock("drop", "ga").await, Some(5));
    assert_eq!(cancel(again).await, StatusCode::CREATED);
    assert_eq!(server.stock("drop", "ga").await, Some(6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_option_counted_afresh_sells_out_when_its_last_unit_is_paid_whatever_older_orders_are_pending() {
    use tweetbuy_server::api::webhooks::endpoints::{self, NewEndpoint};
    // The first buyer's charge waits at the proxy; every later one goes through.
    let gates = Arc::new(vec![Semaphore::new(0), Semaphore::new(Semaphore::MAX_PERMITS)]);
    let (server, _proxy, arrived) = holding_charges(gates.clone()).await;
    let hook = NewEndpoint {
        url: "https://hooks.example.com/in".into(),
        events: vec!["product.sold_out".into()],
        ..Default::default()
    };
    endpoints::create(&server.api_state.db, &hook).await.unwrap();
    let sold_out = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE type = 'product.sold_out'")
            .fetch_one(&server.api_state.db)
            .await
            .unwrap();
        n
    };
    import(&server, 2).await;
    let first = buy(&server, DECLINED, 0);
    until_arrived(&arrived, 1).await;

    // The seller stops counting and starts again at 1: the first order's unit is not the new
    // count's, and the buyer of that 1 sells the option out.
    import(&server, None).await;
    import(&server, 1).await;
    let (status, body) = buy(&server, "4242424242424242", 1).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(sold_out().await, 1, "the older pending order cannot bring a unit back");
    gates[0].add_permits(1);
    assert_eq!(first.await.unwrap().0, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(server.stock("drop", "ga").await, Some(0));
    assert_eq!(sold_out().await, 1);
}

/// On PostgreSQL a placement reads its option's stock when its statement starts: one that
/// starts while an import is counting the option for the first time finds it counting none,
/// reserves nothing, and writes its order once the import commits (waiting on the product's
/// row), after the import forgot the option's holds. Such an order must hold no units, or its
/// failure adds one to the seller's new count. The import is held before its commit by a
/// tweet of the file's next product that another transaction is writing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_placed_while_an_import_starts_counting_its_option_gives_no_unit_to_that_count() {
    if pg_url().is_none() {
        return; // SQLite runs one write at a time: an import and a placement never overlap.
    }
    let gate = Arc::new(vec![Semaphore::new(Semaphore::MAX_PERMITS)]);
    let (server, _proxy, _) = holding_charges(gate).await;
    import(&server, None).await;
    let details = json!({"product_id": "drop", "variant_id": "ga", "quantity": 1, "email": "fan@example.com"});
    let intent = server.create_intent(&details).await;
    let token = server.token_for(DECLINED, "123", intent["intent_id"].as_str().unwrap()).await;

    // The option counted from now on, then a second product whose tweet the import waits for.
    let file = "[[products]]\nid = \"drop\"\ntweet_ids = [\"1900000000000000001\"]\ntitle = \"Drop\"\n\
                seller = { name = \"Band\", kind = \"artist\" }\nkind = \"ticket\"\ncurrency = \"USD\"\n\
                max_per_order = 1\n\n[[products.variants]]\nid = \"ga\"\nlabel = \"GA\"\nprice_minor = 1000\n\
                stock = 10\n\n[[products]]\nid = \"drop2\"\ntweet_ids = [\"1900000000000000008\"]\n\
                title = \"Drop 2\"\nseller = { name = \"Band\", kind = \"artist\" }\nkind = \"ticket\"\n\
                currency = \"USD\"\nmax_per_order = 1\n\n[[products.variants]]\nid = \"ga\"\nlabel = \"GA\"\n\
                price_minor = 1000\n";
    // The buyer, whose card is declined, presses Pay meanwhile: the placement waits for the
    // import.
    let (imported, reply) = pay_during_import(&server, "1900000000000000008", file, intent, token).await;
    imported.unwrap();
    assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED, "{}", reply.text());
    assert_eq!(server.stock("drop", "ga").await, Some(10), "the file's 10: the order took no unit to give back");
}

/// On PostgreSQL an import takes a product's row, then its options'. A placement that took
/// its option's row first and then waited for the product's (its order refers to it) would
/// wait for the import while the import waited for it, and PostgreSQL would fail one of them:
/// a placement takes the product's row first. Here the import is held after taking the
/// product's row (a tweet it attaches is being written by another transaction), a buyer pays
/// meanwhile, and both go through: the payment after the import, from its new count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_during_an_import_of_its_product_waits_for_it_and_neither_fails() {
    if pg_url().is_none() {
        return; // SQLite runs one write at a time.
    }
    let gate = Arc::new(vec![Semaphore::new(Semaphore::MAX_PERMITS)]);
    let (server, _proxy, _) = holding_charges(gate).await;
    import(&server, 10).await;
    let details = json!({"product_id": "drop", "variant_id": "ga", "quantity": 1, "email": "fan@example.com"});
    let intent = server.create_intent(&details).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;

    let file = "[[products]]\nid = \"drop\"\ntweet_ids = [\"1900000000000000001\", \"1900000000000000009\"]\n\
                title = \"Drop\"\nseller = { name = \"Band\", kind = \"artist\" }\nkind = \"ticket\"\n\
                currency = \"USD\"\nmax_per_order = 1\n\n[[products.variants]]\nid = \"ga\"\nlabel = \"GA\"\n\
                price_minor = 1000\nstock = 20\n";
    let (imported, reply) = pay_during_import(&server, "1900000000000000009", file, intent, token).await;
    imported.expect("the import goes through");
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(server.stock("drop", "ga").await, Some(19), "the new count of 20, less the one paid");
}

/// Imports `file` and pays with `intent` and `token` at once, on PostgreSQL: another
/// transaction writes `tweet`, which the file attaches, for another product, so the import
/// waits for it once it holds the product's row; the payment starts then, and once it waits
/// for the import the other transaction rolls back. The import's result and the payment's reply.
async fn pay_during_import(
    server: &Arc<TestServer>,
    tweet: &str,
    file: &'static str,
    intent: serde_json::Value,
    token: String,
) -> (Result<usize, tweetbuy_server::AppError>, Reply) {
    let mut other = server.api_state.db.acquire().await.unwrap();
    let (other_pid,): (i64,) =
        sqlx::query_as("SELECT CAST(pg_backend_pid() AS BIGINT)").fetch_one(&mut *other).await.unwrap();
    sqlx::query("BEGIN").execute(&mut *other).await.unwrap();
    sqlx::query("INSERT INTO product_tweets (tweet_id, product_id) VALUES ($1, 'red-tee')")
        .bind(tweet)
        .execute(&mut *other)
        .await
        .unwrap();
    let import = {
        let db = server.api_state.db.clone();
        tokio::spawn(async move {
            let products = catalog_import::parse(file, Format::Toml).unwrap();
            catalog_import::apply(&db, &products, clock::now()).await
        })
    };
    let import_pid = waiting_for(server, other_pid).await;
    let buyer = {
        let server = server.clone();
        tokio::spawn(async move { server.pay(&intent, &token, &fresh_key()).await })
    };
    waiting_for(server, import_pid).await;
    sqlx::query("ROLLBACK").execute(&mut *other).await.unwrap();
    (import.await.unwrap(), buyer.await.unwrap())
}

/// The PostgreSQL session waiting for a lock the session `blocker` holds, once there is one
/// (its pid).
async fn waiting_for(server: &TestServer, blocker: i64) -> i64 {
    loop {
        let waiting: Option<(i64,)> = sqlx::query_as(
            "SELECT CAST(pid AS BIGINT) FROM pg_stat_activity WHERE CAST($1 AS INTEGER) = ANY(pg_blocking_pids(pid))",
        )
        .bind(blocker)
        .fetch_optional(&server.api_state.db)
        .await
        .unwrap();
        if let Some((pid,)) = waiting {
            return pid;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
