//! The receipt outbox under a sale's load: one call of the worker sends every due receipt,
//! batch after batch; two workers at it send each receipt once; a failing transport stops the
//! call after one batch.

use crate::harness::*;
use tweetbuy_server::api::catalog_import::{self, Format};
use tweetbuy_server::api::receipts::{Mailer, Worker};
use tweetbuy_server::clock;

fn worker(server: &TestServer, mailer: Mailer) -> Worker {
    Worker { db: server.api_state.db.clone(), mailer, from: "shop <receipts@shop.test>".into(), send_delay_secs: 0 }
}

/// `(unsent, rows with an error, the most attempts at one row)` of the order receipts.
async fn outbox_state(server: &TestServer) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT CAST(COUNT(*) - COUNT(sent_at) AS BIGINT), CAST(COUNT(last_error) AS BIGINT), \
         CAST(COALESCE(MAX(attempts), 0) AS BIGINT) FROM receipt_outbox",
    )
    .fetch_one(&server.api_state.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn two_workers_send_a_sales_receipts_in_one_call_and_each_once() {
    let server = start().await;
    let numbers: Vec<String> = tee_sale(&server).await.into_iter().map(|(number, _)| number).collect();
    assert_eq!(outbox_state(&server).await, (TEE_SALE as i64, 0, 0), "queued with the orders, none tried");

    let outbox = server.dir.path().join("outbox");
    let (first, second) =
        (worker(&server, Mailer::Files(outbox.clone())), worker(&server, Mailer::Files(outbox.clone())));
    let now = clock::now();
    let (a, b) = tokio::join!(first.send_due(now), second.send_due(now));
    assert_eq!(a.unwrap() + b.unwrap(), TEE_SALE, "every due receipt in one call, none twice");
    assert_eq!(outbox_state(&server).await, (0, 0, 1), "all sent, each claimed once");

    let mut files: Vec<String> =
        std::fs::read_dir(&outbox).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    let mut expected: Vec<String> = numbers.iter().map(|number| format!("{number}.eml")).collect();
    expected.sort();
    assert_eq!(files, expected, "one file per order, nothing left half-written");
    for number in &numbers {
        let text = std::fs::read_to_string(outbox.join(format!("{number}.eml"))).unwrap();
        assert!(text.contains(&format!("Thank you for your order {number}.")), "{text}");
        assert!(text.contains("Visa ending in 4242") && text.contains("To: jane@example.com"), "{text}");
        let line = |size: &str| format!("(RED) limited-edition tee ({size}) x 1");
        assert!(
            ["S", "M", "L", "XL"].into_iter().any(|size| text.contains(&line(size))),
            "the variant's label: {text}"
        );
    }
    assert_eq!(first.send_due(now).await.unwrap(), 0, "nothing is sent again");
}

#[tokio::test]
async fn a_transport_that_fails_gets_one_batch_and_keeps_the_rest_queued() {
    let server = start().await;
    tee_sale(&server).await;
    // A file where the outbox folder should be: every write fails, as a mail server that is down.
    let blocked = server.dir.path().join("not-a-folder");
    std::fs::write(&blocked, "").unwrap();
    let now = clock::now();
    assert_eq!(worker(&server, Mailer::Files(blocked)).send_due(now).await.unwrap(), 0);
    let (unsent, failed, attempts) = outbox_state(&server).await;
    assert_eq!((unsent, failed, attempts), (TEE_SALE as i64, 20, 1), "one batch tried, with its error kept");

    // The failed batch stays claimed until its claim runs out; the rest go at once.
    let outbox = server.dir.path().join("outbox");
    assert_eq!(worker(&server, Mailer::Files(outbox.clone())).send_due(now).await.unwrap(), TEE_SALE - 20);
    assert_eq!(worker(&server, Mailer::Files(outbox)).send_due(now + 61).await.unwrap(), 20, "retried after the claim");
    assert_eq!(outbox_state(&server).await, (0, 0, 2));
}

/// A ticket product as the seller's file gives it: `title`, its delivery note, and options
/// `(id, label)`.
async fn import_ticket(server: &TestServer, title: &str, delivery: &str, options: &[(&str, &str)]) {
    let mut file = format!(
        "[[products]]\nid = \"gig\"\ntweet_ids = [\"1900000000000000002\"]\ntitle = \"{title}\"\n\
         seller = {{ name = \"Band\", kind = \"artist\" }}\nkind = \"ticket\"\ncurrency = \"USD\"\n\
         max_per_order = 2\ndelivery = \"{delivery}\"\n"
    );
    for (id, label) in options {
        file.push_str(&format!("\n[[products.variants]]\nid = \"{id}\"\nlabel = \"{label}\"\nprice_minor = 2500\n"));
    }
    let products = catalog_import::parse(&file, Format::Toml).unwrap();
    catalog_import::apply(&server.api_state.db, &products, clock::now()).await.unwrap();
}

/// One paid ticket of option `variant`; its order number.
async fn buy_ticket(server: &TestServer, variant: &str) -> String {
    let details = serde_json::json!({"product_id": "gig", "variant_id": variant, "quantity": 1,
                                     "email": "fan@example.com"});
    let intent = server.create_intent(&details).await;
    let token = server.token_for("4242424242424242", "123", intent["intent_id"].as_str().unwrap()).await;
    let reply = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(reply.status, axum::http::StatusCode::CREATED, "{}", reply.text());
    reply.json()["order_number"].as_str().unwrap().to_owned()
}

/// The seller renames the product, relabels one option and removes the other after orders were
/// paid: those orders, in the seller's list, the export and the receipts still to be sent,
/// show what their buyers bought (kept with the order at placement, or, for an order without
/// names of its own, written in by the import); an order placed after shows the new names. A
/// later renaming changes nothing more for them.
#[tokio::test]
async fn an_order_keeps_the_names_it_was_bought_under_when_the_catalog_renames_them() {
    let server = start().await;
    import_ticket(&server, "Fall tour", "Tickets arrive by email.", &[("ga", "GA"), ("vip", "VIP")]).await;
    let (ga, vip) = (buy_ticket(&server, "ga").await, buy_ticket(&server, "vip").await);
    // The VIP order as one placed before orders kept their names: the import writes them in.
    sqlx::query(
        "UPDATE orders SET bought_title = NULL, bought_label = NULL, bought_delivery = NULL WHERE order_number = $1",
    )
    .bind(&vip)
    .execute(&server.api_state.db)
    .await
    .unwrap();
    import_ticket(&server, "Fall tour (new dates)", "Collect at the door.", &[("ga", "General admission")]).await;
    let later = buy_ticket(&server, "ga").await;
    import_ticket(&server, "Winter tour", "Collect at the door.", &[("ga", "Standing")]).await;

    let orders = tweetbuy_server::api::seller_orders::list(&server.api_state.db).await.unwrap();
    let names = |number: &str| {
        let o = orders.iter().find(|o| o.order_number == number).unwrap();
        (o.product_title.as_str(), o.variant_label.as_str())
    };
    assert_eq!(names(&ga), ("Fall tour", "GA"));
    assert_eq!(names(&vip), ("Fall tour", "VIP"), "an option removed since keeps its label");
    assert_eq!(names(&later), ("Fall tour (new dates)", "General admission"));
    let csv = tweetbuy_server::api::seller_orders::to_csv(&orders);
    let row = |number: &str| csv.lines().find(|l| l.starts_with(number)).unwrap().to_owned();
    assert!(row(&ga).contains("Fall tour,ga,GA,"), "{}", row(&ga));
    assert!(row(&later).contains("Fall tour (new dates),ga,General admission,"), "{}", row(&later));

    let outbox = server.dir.path().join("outbox");
    assert_eq!(worker(&server, Mailer::Files(outbox.clone())).send_due(clock::now()).await.unwrap(), 3);
    let receipt = |number: &str| std::fs::read_to_string(outbox.join(format!("{number}.eml"))).unwrap();
    assert!(receipt(&ga).contains("Fall tour (GA) x 1"), "{}", receipt(&ga));
    assert!(receipt(&vip).contains("Fall tour (VIP) x 1"), "{}", receipt(&vip));
    assert!(receipt(&later).contains("Fall tour (new dates) (General admission) x 1"), "{}", receipt(&later));
}
