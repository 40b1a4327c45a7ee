//! CustomEvents for publishers, dispatched on the embed element with `bubbles` and
//! `composed`, so a listener on the document sees them:
//! `tweetbuy:ready`, `tweetbuy:open`, `tweetbuy:checkout`, `tweetbuy:order`,
//! `tweetbuy:close`, `tweetbuy:error`.
//!
//! The payloads are built from the [`WidgetEvent`] enum, which has no field that could hold an
//! email, an address or card data: leaking them through an event cannot be written.

use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use tweetbuy_core::Money;
use web_sys::Element;

/// Which embed a component belongs to. Plain data (Send + Sync) so it can live in Leptos
/// context; the element itself is looked up in this module's registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedCtx {
    pub host_id: u32,
    pub tweet_id: String,
    pub product_id: String,
}

/// Something a publisher may want to know about.
#[derive(Clone, Debug, PartialEq)]
pub enum WidgetEvent {
    Ready,
    Open,
    Checkout,
    Order { order_id: String, amount: Money },
    Close,
    Error { code: String, message: String },
}

/// The event's name and its `detail` object.
pub fn payload(event: &WidgetEvent, embed: &EmbedCtx) -> (&'static str, Value) {
    let ids = |extra: Value| {
        let mut detail = json!({ "tweetId": embed.tweet_id, "productId": embed.product_id });
        if let (Some(d), Value::Object(more)) = (detail.as_object_mut(), extra) {
            d.extend(more);
        }
        detail
    };
    match event {
        WidgetEvent::Ready => ("tweetbuy:ready", ids(json!({}))),
        WidgetEvent::Open => ("tweetbuy:open", ids(json!({}))),
        WidgetEvent::Checkout => ("tweetbuy:checkout", ids(json!({}))),
        WidgetEvent::Order { order_id, amount } => (
            "tweetbuy:order",
            ids(json!({ "orderId": order_id, "amount": amount.major(), "currency": amount.currency.code() })),
        ),
        WidgetEvent::Close => ("tweetbuy:close", ids(json!({}))),
        WidgetEvent::Error { code, message } => ("tweetbuy:error", ids(json!({ "code": code, "message": message }))),
    }
}

/// The `code` of a `tweetbuy:error` for a failed request: the api's stable code, or
/// `network_error` / `bad_response` when there was no readable answer.
pub fn error_code(error: &crate::api::ClientError) -> String {
    match error {
        crate::api::ClientError::Api { error, .. } => {
            serde_json::to_value(error.code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
        }
        crate::api::ClientError::Network(_) => "network_error".into(),
        crate::api::ClientError::Decode { .. } => "bad_response".into(),
    }
}

thread_local! {
    static TARGETS: RefCell<HashMap<u32, Element>> = RefCell::new(HashMap::new());
}

/// Remembers the element events for `host_id` are dispatched on.
pub fn register(host_id: u32, embed: &Element) {
    TARGETS.with(|t| t.borrow_mut().insert(host_id, embed.clone()));
}

/// Forgets a host's element (its embed was removed, or replaced by widgets.js).
pub fn unregister(host_id: u32) {
    TARGETS.with(|t| t.borrow_mut().remove(&host_id));
}

/// Dispatches one event on the embed. Never throws into the page.
pub fn emit(embed: &EmbedCtx, event: WidgetEvent) {
    let Some(target) = TARGETS.with(|t| t.borrow().get(&embed.host_id).cloned()) else {
        return;
    };
    let (name, detail) = payload(&event, embed);
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    if let Ok(detail) = js_sys::JSON::parse(&detail.to_string()) {
        init.set_detail(&detail);
    }
    if let Ok(custom) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = target.dispatch_event(&custom);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::Currency;

    fn embed() -> EmbedCtx {
        EmbedCtx { host_id: 1, tweet_id: "1528000000000000001".into(), product_id: "red-tee".into() }
    }

    #[test]
    fn payloads_name_the_tweet_and_product() {
        let (name, detail) = payload(&WidgetEvent::Ready, &embed());
        assert_eq!(name, "tweetbuy:ready");
        assert_eq!(detail, json!({"tweetId": "1528000000000000001", "productId": "red-tee"}));
        let order = WidgetEvent::Order { order_id: "o1".into(), amount: Money::new(3766, Currency::USD) };
        let (name, detail) = payload(&order, &embed());
        assert_eq!(name, "tweetbuy:order");
        assert_eq!(detail["orderId"], "o1");
        assert_eq!(detail["amount"], 37.66);
        assert_eq!(detail["currency"], "USD");
        let (name, detail) = payload(&WidgetEvent::Error { code: "sold_out".into(), message: "m".into() }, &embed());
        assert_eq!((name, &detail["code"]), ("tweetbuy:error", &json!("sold_out")));
        let declined = crate::api::ClientError::Api {
            status: 402,
            error: tweetbuy_core::ApiError::new(tweetbuy_core::ErrorCode::PaymentDeclined, "m"),
        };
        assert_eq!(error_code(&declined), "payment_declined");
        assert_eq!(error_code(&crate::api::ClientError::Network("x".into())), "network_error");
    }
}
