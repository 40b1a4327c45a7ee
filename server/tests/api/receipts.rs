//! The receipt outbox under a sale's load: one call of the worker sends every due receipt,
//! batch after batch; two workers at it send each receipt once; a failing transport stops the
//! call after one batch.

use crate::harness::*;
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
