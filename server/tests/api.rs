//! The api origin, driven with `oneshot` against `api_app`, with a real vault on a loopback
//! port behind it.

#[path = "common/harness.rs"]
mod harness;
#[path = "common/vault_proxy.rs"]
mod vault_proxy;

mod api {
    mod admin;
    mod busy;
    mod discounts;
    mod hostile_input;
    mod http_edges;
    mod idempotency;
    mod intents;
    mod offers;
    mod openapi;
    mod orders;
    mod quote;
    mod rate_limits;
    mod receipts;
    mod refunds;
    mod rollout;
    mod stock;
    mod vault_outage;
    mod waitlist;
    mod webhooks;
    mod widget;
}
