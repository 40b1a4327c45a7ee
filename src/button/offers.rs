//! Looks up the offers for many tweets in one request.
//!
//! The answer is an [`tweetbuy_core::OffersResponse`]. The loader's kit reads it (the
//! browser's `JSON.parse`, then the few fields the button needs, as one text: read field by
//! field from wasm, a call apiece, they cost the first load 0.4 KB brotli more); this module
//! holds the rules those fields must meet. It keeps each offer's
//! [`OfferHead`] and the offer's JSON as it came, for the checkout module to decode whole on
//! the first click: the code that decodes a full offer stays out of what every host page
//! loads.

use crate::button::kit::{ABSENT, FIELD_END, RECORD_END};
use crate::prelude::*;
use crate::shared::api::{ApiClient, ClientError, REQUEST_TIMEOUT_MS};
use core::str::Split;
use tweetbuy_core::catalog::VariantPrice;
use tweetbuy_core::{Availability, Currency, Money, OfferHead, ProductKind, TweetId};
use wasm_bindgen::{JsCast, JsValue};

/// One offer from the lookup: what the button reads, and the JSON the sheet is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundOffer {
    /// What the button shows: the tweet, product, kind and prices.
    pub head: OfferHead,
    /// The product's name, for the sheet the button module shows while checkout loads.
    pub title: String,
    /// The language the seller wrote the name in (empty: not said).
    pub title_lang: String,
    /// The offer as the api sent it, for the checkout module.
    pub json: String,
}

/// What the lookup found, and where the card vault lives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookup {
    /// The card vault's origin (empty if no answer named one).
    pub vault_origin: String,
    /// Each offer found, in the answers' order.
    pub offers: Vec<FoundOffer>,
}

/// An offer record of the kit's `offers` (after its tag): the [`OfferHead`] (its tweet,
/// product, kind, availability and each variant's price), the title and its language, and the offer's JSON. `None` when any
/// of them is missing or malformed.
fn read_offer(fields: &mut Split<'_, char>) -> Option<FoundOffer> {
    let tweet_id = TweetId::parse(present(fields.next())?)?;
    let product_id = present(fields.next())?.to_owned();
    let kind = ProductKind::from_name(present(fields.next())?)?;
    let availability = Availability::from_name(present(fields.next())?)?;
    let title = present(fields.next()).unwrap_or_default().to_owned();
    let title_lang = present(fields.next()).unwrap_or_default().to_owned();
    let json = present(fields.next())?.to_owned();
    // Present (empty) when the offer's variants are an array.
    present(fields.next())?;
    let mut variants = Vec::new();
    // An absent minor or currency is no number and no currency code.
    while let Some(minor) = fields.next() {
        let code = fields.next()?;
        let currency = Currency::parse(code).filter(|c| c.code() == code)?;
        variants.push(VariantPrice { price: Money::new(whole_number(minor)?, currency) });
    }
    Some(FoundOffer { head: OfferHead { tweet_id, product_id, kind, availability, variants }, title, title_lang, json })
}

/// A field of the kit's records, unless the kit read it as absent.
fn present(field: Option<&str>) -> Option<&str> {
    field.filter(|f| *f != ABSENT)
}

/// A whole number as the kit writes a JSON number (`String(n)`), under 9e15 in size, which
/// `f64` and [`Money`] both hold exactly: a price in minor units, or a status. A fraction
/// (`1.5`) or an exponent (`1e+21`) is not one.
fn whole_number(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = digits.bytes().fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0'));
    let signed = if digits.len() < text.len() { -value } else { value };
    (value < 9_000_000_000_000_000).then_some(signed)
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
    static RETRY_IN: JsValue = crate::shared::util::function(|status, attempt| {
        let (status, attempt) = (status.as_f64().unwrap_or(0.0) as u16, attempt.as_f64().unwrap_or(0.0) as u32);
        crate::shared::api::read_retry_in(status, attempt, js_sys::Math::random()).into()
    });
}

/// The answers [`ask`] resolved to, read by the kit's `offers` into one text and from it
/// into one [`Lookup`]; the first failed answer is the error. Tweets without an offer are
/// absent from the answers.
pub fn read_answers(answers: &JsValue) -> Result<Lookup, ClientError> {
    match crate::button::kit::with(|kit| kit.offers(answers).ok()).flatten() {
        Some(text) => read_records(&text),
        None => Err(ClientError::Decode { status: 0, detail: String::new() }),
    }
}

/// The records of the kit's `offers` (src/button/kit.js says what each field is), read.
fn read_records(text: &str) -> Result<Lookup, ClientError> {
    let mut all = Lookup::default();
    for record in text.split(RECORD_END) {
        let mut fields = record.split(FIELD_END);
        match fields.next() {
            Some("a") => {
                // `0`: no answer.
                let status =
                    present(fields.next()).and_then(whole_number).and_then(|n| u16::try_from(n).ok()).unwrap_or(0);
                let parsed = present(fields.next()).is_some();
                let (code, message) = (present(fields.next()), present(fields.next()));
                let vault_origin = present(fields.next());
                if let Some(error) = failure(status, parsed, code, message, present(fields.next())) {
                    return Err(error);
                }
                if let Some(origin) = vault_origin {
                    all.vault_origin = origin.to_owned();
                }
            }
            // An offer whose head cannot be read is left out: its tweet is left untouched
            // like one without an offer.
            Some("o") => all.offers.extend(read_offer(&mut fields)),
            _ => {}
        }
    }
    Ok(all)
}

/// What a failed answer stands for, by the rule every request of the widget follows
/// ([`crate::shared::api::error_of`]); `None` for the api's answer. `note` is why a request
/// got no answer (status 0).
fn failure(
    status: u16,
    parsed: bool,
    code: Option<&str>,
    message: Option<&str>,
    note: Option<&str>,
) -> Option<ClientError> {
    match status {
        0 => Some(ClientError::Network(note.unwrap_or_default().to_owned())),
        _ if crate::shared::api::succeeded(status, parsed) => None,
        _ => Some(crate::shared::api::error_of(status, parsed, code, message, "")),
    }
}

crate::shared::local::page_local! {
    /// The lookups the loader sent while this module downloaded, by URL.
    static PRELOADED: core::cell::RefCell<Vec<(String, js_sys::Promise)>> =
        const { core::cell::RefCell::new(Vec::new()) };
}

/// Keeps the lookups the loader (server/assets/embed.js) sent ahead for the embeds already
/// in the page: `[url, Promise<[status, text]>]` pairs (each body read as it arrived), with
/// the paths of [`lookup_paths`].
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

    /// A record as the kit's `offers` writes it.
    fn record(fields: &[&str]) -> String {
        fields.join(&FIELD_END.to_string())
    }

    fn records(records: &[String]) -> String {
        records.join(&RECORD_END.to_string())
    }

    const TEE: &[&str] =
        &["o", "1528000000000000001", "red-tee", "physical", "available", "Limited tee", "en", "{\"json\":1}", ""];

    fn tee(prices: &[&str]) -> String {
        record(&[TEE, prices].concat())
    }

    fn answer(status: &str, parsed: bool, code: &str, message: &str, origin: &str, note: &str) -> String {
        record(&["a", status, if parsed { "1" } else { ABSENT }, code, message, origin, note])
    }

    fn ok(origin: &str) -> String {
        answer("200", true, ABSENT, ABSENT, origin, ABSENT)
    }

    #[test]
    fn reads_each_offer_head_title_and_json_and_the_vault_origin() {
        let gig =
            record(&["o", "1528000000000000003", "gig", "ticket", "sold_out", ABSENT, ABSENT, "{}", "", "8950", "EUR"]);
        let text = records(&[ok("http://v.test"), tee(&["3000", "USD", "2500", "USD"]), ok(ABSENT), gig]);
        let found = read_records(&text).unwrap();
        assert_eq!(found.vault_origin, "http://v.test", "a page without an origin keeps the one before");
        assert_eq!(found.offers.len(), 2);
        let tee = &found.offers[0];
        assert_eq!((tee.head.tweet_id.as_str(), tee.head.product_id.as_str()), ("1528000000000000001", "red-tee"));
        assert_eq!(
            (tee.head.kind, tee.title.as_str(), tee.title_lang.as_str(), tee.json.as_str()),
            (ProductKind::Physical, "Limited tee", "en", "{\"json\":1}")
        );
        assert_eq!(tee.head.price_from(), Some(Money::new(2500, Currency::USD)));
        let gig = &found.offers[1];
        assert_eq!((gig.head.kind, gig.title.as_str()), (ProductKind::Ticket, ""), "an absent title is empty");
        assert_eq!(gig.title_lang, "", "so is an absent language");
        assert_eq!((tee.head.availability, gig.head.availability), (Availability::Available, Availability::SoldOut));
        assert_eq!(gig.head.variants, [VariantPrice { price: Money::new(8950, Currency::EUR) }]);
        assert_eq!(read_records("").unwrap(), Lookup::default(), "no answers, nothing found");
    }

    #[test]
    fn an_offer_needs_every_field_of_its_head() {
        let no_variants = records(&[ok(ABSENT), record(&TEE[..8])]);
        assert_eq!(read_records(&no_variants).unwrap().offers, [], "variants that are not an array");
        let none = read_records(&records(&[ok(ABSENT), tee(&[])])).unwrap();
        assert_eq!(none.offers[0].head.price_from(), None, "no variants: a head without a price");
        let bad_fields = [
            (1, "12ab"),
            (1, ABSENT),
            (2, ABSENT),
            (3, "boat"),
            (3, "Ticket"),
            (4, ABSENT),
            (4, "gone"),
            (7, ABSENT),
            (8, ABSENT),
        ];
        for (at, bad) in bad_fields {
            let mut fields = TEE.to_vec();
            fields[at] = bad;
            let text = records(&[ok(ABSENT), record(&[&fields[..], &["3000", "USD"]].concat())]);
            assert_eq!(read_records(&text).unwrap().offers, [], "field {at}: {bad:?}");
        }
        for prices in [
            &["1.5", "USD"][..],
            &["1e+21", "USD"],
            &["9000000000000000", "USD"],
            &[ABSENT, "USD"],
            &["100", "XYZ"],
            &["100", "usd"],
            &["100", ABSENT],
            &["100"],
            &["100", "USD", "200"],
        ] {
            let text = records(&[ok(ABSENT), tee(prices)]);
            assert_eq!(read_records(&text).unwrap().offers, [], "{prices:?}");
        }
    }

    #[test]
    fn a_price_or_status_is_a_whole_number_a_double_holds_exactly() {
        assert_eq!(whole_number("3000"), Some(3000));
        assert_eq!(whole_number("-5"), Some(-5));
        assert_eq!(whole_number("0"), Some(0));
        assert_eq!(whole_number("8999999999999999"), Some(8_999_999_999_999_999));
        assert_eq!(whole_number("-8999999999999999"), Some(-8_999_999_999_999_999));
        for bad in ["", "-", "9000000000000000", "12345678901234567", "1.5", "1e+21", "+5", "5 ", "--5", "NaN"] {
            assert_eq!(whole_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_first_failed_answer_is_the_error() {
        let network = answer("0", false, ABSENT, ABSENT, ABSENT, "Failed to fetch");
        let text = records(&[ok("http://v.test"), tee(&["3000", "USD"]), network]);
        assert_eq!(read_records(&text), Err(ClientError::Network("Failed to fetch".into())));
        let api = answer("429", true, "rate_limited", "Slow down.", ABSENT, ABSENT);
        match read_records(&records(&[api, ok(ABSENT)])) {
            Err(ClientError::Api { status: 429, error }) => assert_eq!(error.message, "Slow down."),
            other => panic!("{other:?}"),
        }
        let html = answer("502", false, ABSENT, ABSENT, ABSENT, ABSENT);
        assert!(matches!(read_records(&html), Err(ClientError::Decode { status: 502, .. })));
        let no_message = answer("409", true, "sold_out", ABSENT, ABSENT, ABSENT);
        assert!(matches!(read_records(&no_message), Err(ClientError::Decode { status: 409, .. })));
        let not_json = answer("200", false, ABSENT, ABSENT, ABSENT, ABSENT);
        assert_eq!(read_records(&not_json), Err(ClientError::Decode { status: 200, detail: "not JSON".into() }));
    }
}
