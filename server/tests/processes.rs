//! Tests that run real `tweetbuy-server` processes: two replicas on one PostgreSQL, a kill
//! between an order's commit and its receipt, a graceful stop with an order in flight,
//! receipts sent to a TLS mail server the test runs, and webhooks to a receiver in a process
//! of its own.

#[path = "common/harness.rs"]
mod harness;
#[path = "common/process.rs"]
mod process;
#[path = "common/smtp_tls_server.rs"]
mod smtp_tls_server;
#[path = "common/vault_proxy.rs"]
mod vault_proxy;

mod processes {
    mod crash;
    mod discount_race;
    mod pg_restart;
    mod receipt_outbox;
    mod refunds;
    mod replicas;
    mod seller_tools;
    mod shutdown;
    mod slow_clients;
    mod smtp_tls;
    mod split;
    mod startup;
    mod webhooks;
}
