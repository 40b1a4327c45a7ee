//! CustomEvents for publishers, dispatched on the embed element with `bubbles` and
//! `composed`, so a listener on the document sees them:
//! `tweetbuy:ready`, `tweetbuy:open`, `tweetbuy:checkout`, `tweetbuy:order`,
//! `tweetbuy:close`, `tweetbuy:error`, `tweetbuy:waitlist` (someone joined the item's waitlist;
//! who is not said).
//!
//! The payloads are built from the [`WidgetEvent`] enum, which has no field that could hold an
//! email, an address or card data: leaking them through an event cannot be written.

use crate::prelude::*;
#[cfg(feature = "checkout")]
use core::cell::RefCell;
#[cfg(feature = "checkout")]
use tweetbuy_core::Money;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// Which embed a component belongs to. Plain data (Send + Sync) so it can live in Leptos
/// context; the element itself is looked up in this module's registry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmbedCtx {
    pub host_id: u32,
    pub tweet_id: String,
    pub product_id: String,
}

/// Something a publisher may want to know about. The button module sends `Ready`, `Open`,
/// `Error`, and `Close` for a stand-in dialog the visitor closed; the checkout module the
/// rest, which exist only where it is built: the button module, which every page loads,
/// carries no code for them.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "checkout"), allow(dead_code))]
pub enum WidgetEvent {
    Ready,
    Open,
    #[cfg(feature = "checkout")]
    Checkout,
    #[cfg(feature = "checkout")]
    Order {
        order_id: String,
        amount: Money,
    },
    Close,
    Error {
        code: String,
        message: String,
    },
    #[cfg(feature = "checkout")]
    Waitlist,
}

/// One value of an event's `detail`.
#[derive(Clone, Debug, PartialEq)]
pub enum DetailValue {
    Text(String),
    /// Only the checkout module's `tweetbuy:order` has one.
    #[cfg(feature = "checkout")]
    Number(f64),
}

/// The event's name and its `detail` fields. Built as plain pairs and turned into a JS
/// object field by field: the button module carries no JSON serializer for this.
pub fn payload(event: &WidgetEvent, embed: &EmbedCtx) -> (&'static str, Vec<(&'static str, DetailValue)>) {
    let mut detail = vec![
        ("tweetId", DetailValue::Text(embed.tweet_id.clone())),
        ("productId", DetailValue::Text(embed.product_id.clone())),
    ];
    let name = match event {
        WidgetEvent::Ready => "tweetbuy:ready",
        WidgetEvent::Open => "tweetbuy:open",
        #[cfg(feature = "checkout")]
        WidgetEvent::Checkout => "tweetbuy:checkout",
        #[cfg(feature = "checkout")]
        WidgetEvent::Order { order_id, amount } => {
            detail.push(("orderId", DetailValue::Text(order_id.clone())));
            detail.push(("amount", DetailValue::Number(amount.major())));
            detail.push(("currency", DetailValue::Text(amount.currency.code().to_owned())));
            "tweetbuy:order"
        }
        WidgetEvent::Close => "tweetbuy:close",
        #[cfg(feature = "checkout")]
        WidgetEvent::Waitlist => "tweetbuy:waitlist",
        WidgetEvent::Error { code, message } => {
            detail.push(("code", DetailValue::Text(code.clone())));
            detail.push(("message", DetailValue::Text(message.clone())));
            "tweetbuy:error"
        }
    };
    (name, detail)
}

#[cfg(feature = "checkout")]
/// The `code` of a `tweetbuy:error` for a payment the frame reports failed: the api's stable
/// code, as it is spelled on the wire.
pub fn code_name(code: tweetbuy_core::ErrorCode) -> &'static str {
    crate::shared::api::ERROR_CODES.iter().find(|(_, known)| *known == code).map_or("unknown", |(name, _)| name)
}

// The checkout module's: the button module knows each button's embed ([`emit_on`]).
#[cfg(feature = "checkout")]
crate::shared::local::page_local! {
    /// Each sheet's embed and host, by host id, in id order (ids only grow).
    static TARGETS: RefCell<Vec<(u32, Element, Element)>> = const { RefCell::new(Vec::new()) };
}

/// The button module's mark on an embed that has a button (`button::discover`, which the
/// checkout module does not link).
#[cfg(feature = "checkout")]
const ATTACHED: &str = "data-tweetbuy-attached";

#[cfg(feature = "checkout")]
/// Remembers the element events for `host_id` are dispatched on, `embed`, and its button's
/// `host`, which stays beside whatever embed shows the tweet.
pub fn register(host_id: u32, embed: &Element, host: &Element) {
    let entry = (host_id, embed.clone(), host.clone());
    TARGETS.with(|t| {
        let mut targets = t.borrow_mut();
        match targets.binary_search_by_key(&host_id, |(id, _, _)| *id) {
            Ok(at) => targets[at] = entry,
            Err(at) => targets.insert(at, entry),
        }
    });
}

#[cfg(feature = "checkout")]
/// Dispatches one event on the embed registered for its host ([`register`]); if widgets.js
/// has since replaced that embed (a sheet opened before the tweet was rendered), on the one
/// of the same tweet now before the host, which the button module took up; if the tweet has
/// left the page (the sheet stays open until the visitor closes it), on the host, so that
/// the page still hears it. Never throws into the page.
pub fn emit(embed: &EmbedCtx, event: WidgetEvent) {
    let target = TARGETS.with(|t| {
        let targets = t.borrow();
        let at = targets.binary_search_by_key(&embed.host_id, |(id, _, _)| *id).ok()?;
        let (_, registered, host) = &targets[at];
        if registered.is_connected() {
            return Some(registered.clone());
        }
        let tweet = Some(embed.tweet_id.as_str());
        let now = host.previous_element_sibling().filter(|e| e.get_attribute(ATTACHED).as_deref() == tweet);
        Some(now.unwrap_or_else(|| host.clone()))
    });
    if let Some(target) = target {
        emit_on(&target, embed, event);
    }
}

/// Dispatches one event on `target`, the embed (the button module knows each button's
/// embed already, and registers none). Never throws into the page.
pub fn emit_on(target: &Element, embed: &EmbedCtx, event: WidgetEvent) {
    let (name, fields) = payload(&event, embed);
    // The options and the detail's text come from one JSON text the browser parses: a page
    // of a thousand buttons announces each of them, and building the objects field by
    // field took a dozen calls into the browser per event.
    let Ok(init) = js_sys::JSON::parse(&init_json(&fields)) else {
        return;
    };
    #[cfg(feature = "checkout")]
    {
        let numbers = fields.iter().filter_map(|(key, value)| match value {
            DetailValue::Number(n) => Some((*key, *n)),
            DetailValue::Text(_) => None,
        });
        for (key, n) in numbers {
            if let Ok(detail) = js_sys::Reflect::get(&init, &"detail".into()) {
                let _ = js_sys::Reflect::set(&detail, &key.into(), &n.into());
            }
        }
    }
    if let Ok(custom) = web_sys::CustomEvent::new_with_event_init_dict(name, init.unchecked_ref()) {
        let _ = target.dispatch_event(&custom);
    }
}

/// The event's options as JSON: bubbling, crossing the shadow boundary, and a detail with
/// every text field (numbers are added after parsing, so no float formatting is needed).
pub(crate) fn init_json(fields: &[(&str, DetailValue)]) -> String {
    let mut json = String::from(r#"{"bubbles":true,"composed":true,"detail":{"#);
    let mut first = true;
    for (key, value) in fields {
        #[cfg_attr(not(feature = "checkout"), allow(irrefutable_let_patterns))]
        if let DetailValue::Text(text) = value {
            if !first {
                json.push(',');
            }
            first = false;
            push_json_string(&mut json, key);
            json.push(':');
            push_json_string(&mut json, text);
        }
    }
    json.push_str("}}");
    json
}

/// Appends `text` as a JSON string: quotes, backslashes and control characters escaped.
fn push_json_string(json: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    json.push('"');
    for c in text.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                json.push_str("\\u00");
                json.push(HEX[(c as usize) >> 4] as char);
                json.push(HEX[(c as usize) & 15] as char);
            }
            c => json.push(c),
        }
    }
    json.push('"');
}

// Every event's payload, the checkout module's too.
#[cfg(all(test, feature = "checkout"))]
mod tests {
    use super::*;
    use tweetbuy_core::Currency;

    fn embed() -> EmbedCtx {
        EmbedCtx { host_id: 1, tweet_id: "1528000000000000001".into(), product_id: "red-tee".into() }
    }

    #[test]
    fn the_options_are_json_with_every_text_field_escaped() {
        let text = |s: &str| DetailValue::Text(s.into());
        let fields = [
            ("tweetId", text("1528000000000000001")),
            ("amount", DetailValue::Number(37.66)),
            ("message", text("a \"quoted\" \\ back\\slash,\nnew line, \u{1} and caf\u{e9} \u{1f600}")),
        ];
        let parsed: serde_json::Value = serde_json::from_str(&init_json(&fields)).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "bubbles": true,
                "composed": true,
                "detail": {
                    "tweetId": "1528000000000000001",
                    "message": "a \"quoted\" \\ back\\slash,\nnew line, \u{1} and caf\u{e9} \u{1f600}",
                },
            }),
            "numbers are set after parsing"
        );
        let empty: serde_json::Value = serde_json::from_str(&init_json(&[])).unwrap();
        assert_eq!(empty["detail"], serde_json::json!({}));
    }

    #[test]
    fn payloads_name_the_tweet_and_product() {
        let text = |s: &str| DetailValue::Text(s.into());
        let (name, detail) = payload(&WidgetEvent::Ready, &embed());
        assert_eq!(name, "tweetbuy:ready");
        assert_eq!(detail, vec![("tweetId", text("1528000000000000001")), ("productId", text("red-tee"))]);
        let order = WidgetEvent::Order { order_id: "o1".into(), amount: Money::new(3766, Currency::USD) };
        let (name, detail) = payload(&order, &embed());
        assert_eq!(name, "tweetbuy:order");
        assert_eq!(
            detail[2..],
            [("orderId", text("o1")), ("amount", DetailValue::Number(37.66)), ("currency", text("USD"))]
        );
        let (name, detail) = payload(&WidgetEvent::Error { code: "sold_out".into(), message: "m".into() }, &embed());
        assert_eq!((name, &detail[2]), ("tweetbuy:error", &("code", text("sold_out"))));
        let (name, detail) = payload(&WidgetEvent::Waitlist, &embed());
        assert_eq!((name, detail.len()), ("tweetbuy:waitlist", 2), "the tweet and product only");
        for &(_, code) in crate::shared::api::ERROR_CODES {
            assert_eq!(serde_json::to_value(code).unwrap(), code_name(code), "spelled as on the wire");
        }
    }
}
