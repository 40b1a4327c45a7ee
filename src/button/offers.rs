//! Looks up the offers for many tweets in one request.
//!
//! The answer is an [`tweetbuy_core::OffersResponse`]. The button module reads only each
//! offer's [`OfferHead`] and keeps the offer's JSON as it came, for the checkout module to
//! decode whole on the first click: the code that decodes a full offer stays out of what
//! every host page loads.

use crate::prelude::*;
use crate::shared::api::{ApiClient, ClientError, REQUEST_TIMEOUT_MS};
use crate::shared::json::Json;
use tweetbuy_core::catalog::VariantPrice;
use tweetbuy_core::{Currency, Money, OfferHead, ProductKind, TweetId};
use wasm_bindgen::{JsCast, JsValue};

/// One offer from the lookup: what the button reads, and the JSON the sheet is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundOffer {
    pub head: OfferHead,
    /// The product's name, for the sheet the button module shows while checkout loads.
    pub title: String,
    pub json: String,
}

/// What the lookup found, and where the card vault lives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookup {
    pub vault_origin: String,
    pub offers: Vec<FoundOffer>,
}

/// The [`OfferHead`] of one offer: its tweet, product, kind and each variant's price.
/// `None` when any of them is missing or malformed.
pub(crate) fn head_of(offer: &impl Json) -> Option<OfferHead> {
    let variants = offer.field("variants")?.items()?;
    // A loop, not a `collect` into `Option<Vec<_>>`: the adapters that collect needs are
    // half a kilobyte of the button module.
    let mut prices = Vec::with_capacity(variants.len());
    for variant in &variants {
        let price = variant.field("price")?;
        let minor = price.field("minor")?.number().filter(|m| m.abs() < 9.0e15 && *m == (*m as i64) as f64)? as i64;
        let code = price.field("currency")?.text()?;
        let currency = Currency::parse(&code).filter(|c| c.code() == code)?;
        prices.push(VariantPrice { price: Money::new(minor, currency) });
    }
    Some(OfferHead {
        tweet_id: TweetId::parse(&offer.field("tweet_id")?.text()?)?,
        product_id: offer.field("product_id")?.text()?,
        kind: ProductKind::from_name(&offer.field("kind")?.text()?)?,
        variants: prices,
    })
}

impl Lookup {
    /// Adds one page of the answer (an `OffersResponse`). An offer whose head cannot be
    /// read is left out, so its tweet is left untouched like one without an offer.
    pub(crate) fn add(&mut self, page: &impl Json) {
        if let Some(origin) = page.field("vault_origin").and_then(|o| o.text()) {
            self.vault_origin = origin;
        }
        let offers = page.field("offers").and_then(|o| o.items()).unwrap_or_default();
        self.offers.extend(offers.iter().filter_map(|offer| {
            let title = offer.field("title").and_then(|t| t.text()).unwrap_or_default();
            Some(FoundOffer { head: head_of(offer)?, title, json: offer.to_json()? })
        }));
    }
}

/// The lookup paths for a set of ids: sorted and de-duplicated, so the same set of tweets
/// always makes the same (cacheable) URL and the same tweet embedded twice is asked once;
/// one path per `MAX_LOOKUP_IDS` ids (a single request for any ordinary page). A visitor id,
/// when there is one, lets the server apply per-offer rollout shares.
///
/// Written by the loader's `lookupPaths` (server/assets/lookup-rules.mjs, through the kit),
/// which also wrote the paths of the lookups the loader sent ahead ([`use_preloaded`]): one
/// copy of the rule for both, run against core's table of test vectors.
// Not inlined into the scan: see `crate::button::mount::sort_out`.
#[inline(never)]
fn lookup_paths(ids: &[TweetId], visitor: Option<&str>) -> Vec<String> {
    let mut joined = String::new();
    for id in ids {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(id.as_str());
    }
    let visitor = visitor.map_or(wasm_bindgen::JsValue::NULL, wasm_bindgen::JsValue::from_str);
    let paths = crate::button::kit::with(|kit| kit.paths(&joined, &visitor).ok()).flatten();
    paths.map(|paths| paths.iter().filter_map(|path| path.as_string()).collect()).unwrap_or_default()
}

/// Asks for the offers of every id, in batched requests, through the kit ([`crate::button::kit`]):
/// its promise of `[status, text]` per request, for [`read_answers`]. A request the loader
/// already sent for the same URL ([`use_preloaded`]) is taken instead of sending it again;
/// a failed one is tried again as [`crate::shared::api::read_retry_in`] says. `None`
/// without a kit.
pub(crate) fn ask(api: &ApiClient, ids: &[TweetId], visitor: Option<&str>) -> Option<js_sys::Promise> {
    let (urls, sent) = (js_sys::Array::new(), js_sys::Array::new());
    for path in lookup_paths(ids, visitor) {
        let url = api.url(&path);
        sent.push(&take_preloaded(&url).map_or(JsValue::NULL, JsValue::from));
        urls.push(&url.into());
    }
    // Only the first scan's: an answer kept for a later one could be long out of date.
    PRELOADED.with(|p| p.borrow_mut().clear());
    RETRY_IN.with(|retry_in| {
        crate::button::kit::with(|kit| kit.ask(&urls, &sent, REQUEST_TIMEOUT_MS, retry_in).ok()).flatten()
    })
}

crate::shared::local::page_local! {
    /// The kit asks this, after a failed try of a lookup, when to try again.
    static RETRY_IN: JsValue = wasm_bindgen::closure::Closure::<dyn Fn(u16, u32) -> i32>::new(|status, attempt| {
        crate::shared::api::read_retry_in(status, attempt, js_sys::Math::random())
    })
    .into_js_value();
}

/// The answers [`ask`] resolved to, read into one [`Lookup`]; the first failed one is the
/// error. Tweets without an offer are absent from the answers.
pub(crate) fn read_answers(answers: &JsValue) -> Result<Lookup, ClientError> {
    let mut all = Lookup::default();
    for answer in answers.items().unwrap_or_default() {
        let answer: js_sys::Array = answer.unchecked_into();
        let (status, text) = (answer.get(0).as_f64().unwrap_or_default() as u16, answer.get(1).as_string());
        let page = match status {
            0 => Err(ClientError::Network(text.unwrap_or_default())),
            _ => crate::shared::api::parse(status, &text.unwrap_or_default()),
        }?;
        all.add(&page);
    }
    Ok(all)
}

crate::shared::local::page_local! {
    /// The lookups the loader sent while this module downloaded, by URL.
    static PRELOADED: core::cell::RefCell<Vec<(String, js_sys::Promise)>> =
        const { core::cell::RefCell::new(Vec::new()) };
}

/// Keeps the lookups the loader (server/assets/embed.js) sent ahead for the embeds already
/// in the page: `[url, Promise<Response>]` pairs, with the paths of [`lookup_paths`].
pub(crate) fn use_preloaded(pairs: &wasm_bindgen::JsValue) {
    let Some(pairs) = pairs.dyn_ref::<js_sys::Array>() else { return };
    let pairs = pairs.iter().filter_map(|pair| {
        let pair = pair.dyn_into::<js_sys::Array>().ok()?;
        Some((pair.get(0).as_string()?, pair.get(1).dyn_into::<js_sys::Promise>().ok()?))
    });
    PRELOADED.with(|p| p.borrow_mut().extend(pairs));
}

/// The request the loader sent for `url`, if any, taken (once).
fn take_preloaded(url: &str) -> Option<js_sys::Promise> {
    PRELOADED.with(|p| {
        let mut p = p.borrow_mut();
        let at = p.iter().position(|(sent, _)| sent == url)?;
        Some(p.remove(at).1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_each_offer_json_whole_and_reads_its_head() {
        let offer = serde_json::to_value(tweetbuy_core::testing::tee()).unwrap();
        let broken = serde_json::json!({"tweet_id": "x", "product_id": "broken"});
        let body = serde_json::json!({"vault_origin": "http://v.test", "offers": [offer, broken]});
        let mut found = Lookup::default();
        found.add(&body);
        assert_eq!(found.vault_origin, "http://v.test");
        assert_eq!(found.offers.len(), 1, "an unreadable offer is left out");
        assert_eq!(found.offers[0].head.product_id, "red-tee");
        assert_eq!(found.offers[0].title, "Limited tee");
        assert_eq!(found.offers[0].head.price_from().unwrap().minor, 3000);
        let whole: tweetbuy_core::Offer = serde_json::from_str(&found.offers[0].json).unwrap();
        let expected: tweetbuy_core::Offer = serde_json::from_value(offer).unwrap();
        assert_eq!(whole, expected, "the checkout module gets the offer exactly as sent");
        let serde_head: OfferHead = serde_json::from_value(expected_json()).unwrap();
        assert_eq!(found.offers[0].head, serde_head, "the same head serde reads");
    }

    fn expected_json() -> serde_json::Value {
        serde_json::to_value(tweetbuy_core::testing::tee()).unwrap()
    }

    #[test]
    fn a_head_needs_every_field_it_reads() {
        let good = serde_json::to_value(tweetbuy_core::testing::ticket()).unwrap();
        assert_eq!(head_of(&good).unwrap().price_from().unwrap().minor, 8950);
        for (path, bad) in [
            ("kind", serde_json::json!("boat")),
            ("tweet_id", serde_json::json!("12ab")),
            ("tweet_id", serde_json::json!(12)),
            ("product_id", serde_json::Value::Null),
            ("variants", serde_json::json!([{"price": {"minor": 1.5, "currency": "USD"}}])),
            ("variants", serde_json::json!([{"price": {"minor": 100, "currency": "XYZ"}}])),
            ("variants", serde_json::json!([{"price": {"minor": 100, "currency": "usd"}}])),
            ("kind", serde_json::json!("Ticket")),
            ("variants", serde_json::json!({})),
        ] {
            let mut offer = good.clone();
            offer[path] = bad.clone();
            assert_eq!(head_of(&offer), None, "{path}: {bad}");
        }
    }
}
