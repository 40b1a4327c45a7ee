//! The wire types the checkout module reads, from JSON the browser parsed (`JSON.parse`,
//! read through [`Json`]) instead of serde_json: the offer the button module hands over, a
//! fresh availability read, and the vault frame's messages. serde's derives and serde_json's
//! parser were about a third of this module's bytes.
//!
//! Each reader follows the type's serde rules in core (required keys, `Option` keys that may
//! be missing or `null`, `#[serde(default)]`, `deny_unknown_fields`, names of enums), and the
//! tests check them against serde_json on the same text.

use crate::shared::json::{named, wire_names, Json};
use tweetbuy_core::address::ShippingAddress;
use tweetbuy_core::card::CardBrand;
use tweetbuy_core::catalog::{
    Availability, AvailabilityResponse, Image, ProductKind, Seller, SellerKind, Variant, VariantStock,
};
use tweetbuy_core::frame::{Cart, FromFrame, ToFrame, MAX_MESSAGE_LEN, PROTOCOL_VERSION, V1};
use tweetbuy_core::money::{Currency, Money};
use tweetbuy_core::order::{OrderReceipt, OrderStatus, Quote, QuoteRequest};
use tweetbuy_core::theme::FrameTheme;
use tweetbuy_core::waitlist::WaitlistRequest;
use tweetbuy_core::Discount;
use tweetbuy_core::{FieldError, Offer};

/// JSON text parsed: by the browser in the module, by serde_json in native tests.
#[cfg(not(test))]
pub(crate) fn parse(text: &str) -> Option<wasm_bindgen::JsValue> {
    js_sys::JSON::parse(text).ok()
}

#[cfg(test)]
pub(crate) fn parse(text: &str) -> Option<serde_json::Value> {
    serde_json::from_str(text).ok()
}

/// A required key's value.
fn get<J: Json>(v: &J, key: &str) -> Option<J> {
    v.field(key)
}

fn string<J: Json>(v: &J, key: &str) -> Option<String> {
    v.field(key)?.text()
}

fn boolean<J: Json>(v: &J, key: &str) -> Option<bool> {
    v.field(key)?.boolean()
}

/// A whole number in `min..=max` (serde refuses a fraction or an out-of-range number).
fn whole<J: Json>(v: &J, min: f64, max: f64) -> Option<f64> {
    v.number().filter(|n| n.fract() == 0.0 && (min..=max).contains(n))
}

fn u32_of<J: Json>(v: &J) -> Option<u32> {
    whole(v, 0.0, f64::from(u32::MAX)).map(|n| n as u32)
}

fn u32_at<J: Json>(v: &J, key: &str) -> Option<u32> {
    u32_of(&v.field(key)?)
}

/// A name of one of core's enums at `key`, by its wire name in `names`.
fn name_at<J: Json, T: Copy>(v: &J, key: &str, names: &[(&str, T)]) -> Option<T> {
    named(&string(v, key)?, names)
}

wire_names! { CURRENCIES: Currency { USD => "USD", EUR => "EUR", GBP => "GBP" } }
wire_names! { SELLER_KINDS: SellerKind { Nonprofit => "nonprofit", Brand => "brand", Artist => "artist" } }
wire_names! { PRODUCT_KINDS: ProductKind { Physical => "physical", Ticket => "ticket", Digital => "digital" } }
wire_names! {
    AVAILABILITIES: Availability {
        Available => "available",
        SoldOut => "sold_out",
        SaleEnded => "sale_ended",
        NotStarted => "not_started",
    }
}
wire_names! { ORDER_STATUSES: OrderStatus { Paid => "paid", Declined => "declined", Failed => "failed" } }
wire_names! {
    CARD_BRANDS: CardBrand {
        Visa => "visa",
        Mastercard => "mastercard",
        Amex => "amex",
        Discover => "discover",
        Jcb => "jcb",
        DinersClub => "diners_club",
        UnionPay => "union_pay",
    }
}

/// An `Option` key: missing or `null` is `None`; anything else must read.
fn optional<J: Json, T>(v: &J, key: &str, read: impl FnOnce(&J) -> Option<T>) -> Option<Option<T>> {
    match v.field(key) {
        None => Some(None),
        Some(value) if value.is_null() => Some(None),
        Some(value) => read(&value).map(Some),
    }
}

/// A `#[serde(default)]` list: missing is empty; present, it must be a list of readable items.
fn list_or_empty<J: Json, T>(v: &J, key: &str, read: impl Fn(&J) -> Option<T>) -> Option<Vec<T>> {
    match v.field(key) {
        None => Some(Vec::new()),
        Some(value) => list(&value, read),
    }
}

fn list<J: Json, T>(v: &J, read: impl Fn(&J) -> Option<T>) -> Option<Vec<T>> {
    v.items()?.iter().map(read).collect()
}

/// `deny_unknown_fields`: every key is one of `allowed`.
fn only_keys<J: Json>(v: &J, allowed: &[&str]) -> bool {
    v.keys().is_some_and(|keys| keys.iter().all(|k| allowed.contains(&k.as_str())))
}

fn money<J: Json>(v: &J) -> Option<Money> {
    // i64 through a JS number: exact to 2^53, far beyond any price.
    let minor = whole(&v.field("minor")?, -9_007_199_254_740_991.0, 9_007_199_254_740_991.0)? as i64;
    Some(Money::new(minor, name_at(v, "currency", CURRENCIES)?))
}

/// An offer as the lookup sends it ([`Offer`]'s serde rules: unknown keys ignored).
pub(crate) fn offer<J: Json>(v: &J) -> Option<Offer> {
    let seller = get(v, "seller")?;
    Some(Offer {
        tweet_id: string(v, "tweet_id")?.try_into().ok()?,
        product_id: string(v, "product_id")?,
        title: string(v, "title")?,
        description: string(v, "description")?,
        seller: Seller { name: string(&seller, "name")?, kind: name_at(&seller, "kind", SELLER_KINDS)? },
        kind: name_at(v, "kind", PRODUCT_KINDS)?,
        currency: name_at(v, "currency", CURRENCIES)?,
        variants: list(&get(v, "variants")?, |variant| {
            Some(Variant {
                id: string(variant, "id")?,
                label: string(variant, "label")?,
                price: money(&get(variant, "price")?)?,
                stock: optional(variant, "stock", u32_of)?,
            })
        })?,
        images: list_or_empty(v, "images", |image| {
            Some(Image { url: string(image, "url")?, alt: string(image, "alt")? })
        })?,
        limited_edition: boolean(v, "limited_edition")?,
        availability: name_at(v, "availability", AVAILABILITIES)?,
        sale_ends_at: optional(v, "sale_ends_at", |n| {
            whole(n, -9_007_199_254_740_991.0, 9_007_199_254_740_991.0).map(|n| n as i64)
        })?,
        ships_to: list_or_empty(v, "ships_to", |c| c.text()?.try_into().ok())?,
        max_per_order: u32_at(v, "max_per_order")?,
        delivery: optional(v, "delivery", Json::text)?,
        lang: optional(v, "lang", Json::text)?,
    })
}

/// An offer from its JSON text.
pub(crate) fn offer_from_text(text: &str) -> Option<Offer> {
    offer(&parse(text)?)
}

/// `GET …/availability`.
pub(crate) fn availability<J: Json>(v: &J) -> Option<AvailabilityResponse> {
    Some(AvailabilityResponse {
        availability: name_at(v, "availability", AVAILABILITIES)?,
        variants: list(&get(v, "variants")?, |variant| {
            Some(VariantStock { id: string(variant, "id")?, stock: optional(variant, "stock", u32_of)? })
        })?,
    })
}

fn field_error<J: Json>(v: &J) -> Option<FieldError> {
    Some(FieldError { field: string(v, "field")?, code: string(v, "code")?, message: string(v, "message")? })
}

/// [`ShippingAddress`]: `deny_unknown_fields`, `line2` and `region` default to empty.
fn address<J: Json>(v: &J) -> Option<ShippingAddress> {
    const KEYS: [&str; 7] = ["name", "line1", "line2", "city", "region", "postal_code", "country"];
    only_keys(v, &KEYS).then_some(())?;
    // `default` keys may be missing but not null.
    let defaulted = |key| match v.field(key) {
        None => Some(String::new()),
        Some(value) => value.text(),
    };
    Some(ShippingAddress {
        name: string(v, "name")?,
        line1: string(v, "line1")?,
        line2: defaulted("line2")?,
        city: string(v, "city")?,
        region: defaulted("region")?,
        postal_code: string(v, "postal_code")?,
        country: string(v, "country")?,
    })
}

/// `POST /api/v1/quote`'s answer.
pub(crate) fn quote<J: Json>(v: &J) -> Option<Quote> {
    Some(Quote {
        subtotal: money(&get(v, "subtotal")?)?,
        discount: optional(v, "discount", discount)?,
        shipping: money(&get(v, "shipping")?)?,
        tax: money(&get(v, "tax")?)?,
        total: money(&get(v, "total")?)?,
    })
}

fn discount<J: Json>(v: &J) -> Option<Discount> {
    Some(Discount { code: string(v, "code")?, amount: money(&get(v, "amount")?)? })
}

fn receipt<J: Json>(v: &J) -> Option<OrderReceipt> {
    Some(OrderReceipt {
        order_id: string(v, "order_id")?,
        order_number: string(v, "order_number")?,
        status: name_at(v, "status", ORDER_STATUSES)?,
        product_title: string(v, "product_title")?,
        variant_label: string(v, "variant_label")?,
        quantity: u32_at(v, "quantity")?,
        quote: quote(&get(v, "quote")?)?,
        email: string(v, "email")?,
        shipping: optional(v, "shipping", address)?,
        delivery: optional(v, "delivery", Json::text)?,
        card_brand: name_at(v, "card_brand", CARD_BRANDS)?,
        card_last4: string(v, "card_last4")?,
    })
}

/// One message from a vault frame ([`FromFrame`]: tagged by `type`, `"v": 1`, no other keys
/// than its own); `None` for anything else.
pub(crate) fn from_frame<J: Json>(v: &J) -> Option<FromFrame> {
    let kind = string(v, "type")?;
    (whole(&get(v, "v")?, 1.0, 1.0).is_some()).then_some(())?;
    let keys: &[&str] = match kind.as_str() {
        "ready" | "saved" => &["type", "v", "saved"],
        "resize" => &["type", "v", "height"],
        "invalid" => &["type", "v", "errors"],
        "needs_details" | "paying" | "escape" => &["type", "v"],
        "paid" => &["type", "v", "receipt"],
        "failed" => &["type", "v", "code", "message"],
        _ => return None,
    };
    only_keys(v, keys).then_some(())?;
    Some(match kind.as_str() {
        "ready" => FromFrame::Ready { v: V1, saved: boolean(v, "saved")? },
        "saved" => FromFrame::Saved { v: V1, saved: boolean(v, "saved")? },
        "resize" => FromFrame::Resize { v: V1, height: u32_at(v, "height")? },
        "invalid" => FromFrame::Invalid { v: V1, errors: list(&get(v, "errors")?, field_error)? },
        "needs_details" => FromFrame::NeedsDetails { v: V1 },
        "paying" => FromFrame::Paying { v: V1 },
        "escape" => FromFrame::Escape { v: V1 },
        "paid" => FromFrame::Paid { v: V1, receipt: receipt(&get(v, "receipt")?)? },
        _ => FromFrame::Failed {
            v: V1,
            code: crate::shared::api::error_code(&string(v, "code")?),
            message: string(v, "message")?,
        },
    })
}

/// A frame message from its JSON text, as [`FromFrame::decode`] reads it.
pub(crate) fn from_frame_text(text: &str) -> Option<FromFrame> {
    (text.len() <= MAX_MESSAGE_LEN).then(|| from_frame(&parse(text)?)).flatten()
}

/// JSON text written by hand for the few types the checkout module sends, with serde's
/// shapes (every `Option` key present, `null` when empty).
#[derive(Default)]
pub(crate) struct Writer(String);

impl Writer {
    fn key(&mut self, key: &str) -> &mut Writer {
        self.0.push(if self.0.is_empty() { '{' } else { ',' });
        string_into(&mut self.0, key);
        self.0.push(':');
        self
    }

    pub(crate) fn str(mut self, key: &str, value: &str) -> Writer {
        string_into(&mut self.key(key).0, value);
        self
    }

    pub(crate) fn opt_str(self, key: &str, value: Option<&str>) -> Writer {
        match value {
            Some(value) => self.str(key, value),
            None => self.raw(key, "null"),
        }
    }

    pub(crate) fn raw(mut self, key: &str, json: &str) -> Writer {
        self.key(key).0.push_str(json);
        self
    }

    pub(crate) fn num(self, key: &str, value: impl std::fmt::Display) -> Writer {
        self.raw(key, &value.to_string())
    }

    pub(crate) fn done(mut self) -> String {
        if self.0.is_empty() {
            self.0.push('{');
        }
        self.0.push('}');
        self.0
    }
}

/// A JSON string literal, escaped as serde_json escapes it.
fn string_into(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn address_json(a: &ShippingAddress) -> String {
    Writer::default()
        .str("name", &a.name)
        .str("line1", &a.line1)
        .str("line2", &a.line2)
        .str("city", &a.city)
        .str("region", &a.region)
        .str("postal_code", &a.postal_code)
        .str("country", &a.country)
        .done()
}

fn cart_json(cart: &Cart) -> String {
    Writer::default()
        .str("product_id", &cart.product_id)
        .str("variant_id", &cart.variant_id)
        .num("quantity", cart.quantity)
        .opt_str("tweet_id", cart.tweet_id.as_deref())
        .opt_str("email", cart.email.as_deref())
        .raw("shipping", &cart.shipping.as_ref().map_or_else(|| "null".into(), address_json))
        .num("share_email", cart.share_email)
        .opt_str("discount_code", cart.discount_code.as_deref())
        .done()
}

fn theme_json(t: &FrameTheme) -> String {
    let fields: [(&str, &Option<String>); 19] = [
        ("color_scheme", &t.color_scheme),
        ("text", &t.text),
        ("surface", &t.surface),
        ("border", &t.border),
        ("danger", &t.danger),
        ("focus", &t.focus),
        ("radius_small", &t.radius_small),
        ("space", &t.space),
        ("stroke", &t.stroke),
        ("focus_ring", &t.focus_ring),
        ("font", &t.font),
        ("font_size", &t.font_size),
        ("font_size_small", &t.font_size_small),
        ("font_weight", &t.font_weight),
        ("target", &t.target),
        ("accent", &t.accent),
        ("accent_text", &t.accent_text),
        ("radius", &t.radius),
        ("control", &t.control),
    ];
    fields.iter().fold(Writer::default(), |w, (key, value)| w.opt_str(key, value.as_deref())).done()
}

/// A message to a vault frame, as serde writes [`ToFrame`].
pub(crate) fn to_frame(message: &ToFrame) -> String {
    let (kind, rest) = match message {
        ToFrame::Theme { tokens, .. } => ("theme", Some(("tokens", theme_json(tokens)))),
        ToFrame::Clear { .. } => ("clear", None),
        ToFrame::Show { cart, .. } => ("show", Some(("cart", cart.as_ref().map_or_else(|| "null".into(), cart_json)))),
    };
    let w = Writer::default().str("type", kind).num("v", PROTOCOL_VERSION);
    match rest {
        Some((key, json)) => w.raw(key, &json),
        None => w,
    }
    .done()
}

/// `POST /api/v1/waitlist`'s body, as serde writes [`WaitlistRequest`].
pub(crate) fn waitlist_request(w: &WaitlistRequest) -> String {
    Writer::default()
        .str("product_id", &w.product_id)
        .str("email", &w.email)
        .num("consent", w.consent)
        .opt_str("tweet_id", w.tweet_id.as_ref().map(|t| t.as_str()))
        .opt_str("lang", w.lang.as_deref())
        .done()
}

/// `POST /api/v1/quote`'s body, as serde writes [`QuoteRequest`].
pub(crate) fn quote_request(q: &QuoteRequest) -> String {
    Writer::default()
        .str("product_id", &q.product_id)
        .str("variant_id", &q.variant_id)
        .num("quantity", q.quantity)
        .opt_str("country", q.country.as_ref().map(|c| c.code()))
        .opt_str("region", q.region.as_deref())
        .opt_str("discount_code", q.discount_code.as_deref())
        .done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::json::assert_serde_names;

    #[test]
    fn enum_names_are_serdes() {
        assert_serde_names(CURRENCIES);
        assert_serde_names(SELLER_KINDS);
        assert_serde_names(PRODUCT_KINDS);
        assert_serde_names(AVAILABILITIES);
        assert_serde_names(ORDER_STATUSES);
        assert_serde_names(CARD_BRANDS);
    }

    fn same_as_serde_frame(text: &str) {
        assert_eq!(from_frame_text(text), FromFrame::decode(text), "{text}");
    }

    const RECEIPT: &str = r#"{"order_id":"o1","order_number":"TB-7K3Q9X","status":"paid","product_title":"Tee","variant_label":"M","quantity":2,"quote":{"subtotal":{"minor":9000,"currency":"USD"},"shipping":{"minor":500,"currency":"USD"},"tax":{"minor":0,"currency":"USD"},"total":{"minor":9500,"currency":"USD"}},"email":"a@b.test","shipping":{"name":"A","line1":"1 St","city":"C","region":"NY","postal_code":"10001","country":"US"},"delivery":null,"card_brand":"visa","card_last4":"4242"}"#;

    #[test]
    fn frame_messages_read_as_serde_reads_them() {
        let paid = format!(r#"{{"type":"paid","v":1,"receipt":{RECEIPT}}}"#);
        assert!(matches!(from_frame_text(&paid), Some(FromFrame::Paid { .. })));
        for text in [
            paid.clone(),
            paid.replace(r#""delivery":null,"#, ""),
            paid.replace(r#""status":"paid""#, r#""status":"refunded""#),
            paid.replace(r#""city":"C""#, r#""city":"C","extra":1"#),
            paid.replace(r#""region":"NY","#, ""),
            paid.replace(r#""region":"NY""#, r#""region":null"#),
            paid.replace(r#""card_brand":"visa""#, r#""card_brand":"diners_club""#),
            paid.replace(r#""quantity":2"#, r#""quantity":2.5"#),
            paid.replace(r#""quantity":2"#, r#""quantity":-1"#),
            paid.replace(r#""order_id":"o1","#, r#""order_id":"o1","newer":true,"#),
            paid.replace(r#""shipping":{"name""#, r#""shipping":null,"old":{"name""#),
            paid.replace(r#""order_id":"o1","#, ""),
            r#"{"type":"ready","v":1,"saved":true}"#.into(),
            r#"{"type":"saved","v":1,"saved":false}"#.into(),
            r#"{"type":"resize","v":1,"height":480}"#.into(),
            r#"{"type":"resize","v":1,"height":-1}"#.into(),
            r#"{"type":"invalid","v":1,"errors":[{"field":"email","code":"required","message":"m"}]}"#.into(),
            r#"{"type":"invalid","v":1,"errors":[{"field":"email","code":"required"}]}"#.into(),
            r#"{"type":"needs_details","v":1}"#.into(),
            r#"{"type":"paying","v":1}"#.into(),
            r#"{"type":"escape","v":1}"#.into(),
            r#"{"type":"failed","v":1,"code":"payment_declined","message":"No."}"#.into(),
            r#"{"type":"failed","v":1,"code":"brand_new","message":"m"}"#.into(),
            r#"{"type":"ready","v":1}"#.into(),
            r#"{"type":"ready","v":2,"saved":false}"#.into(),
            r#"{"type":"ready","v":1,"saved":false,"extra":true}"#.into(),
            r#"{"type":"ready","v":1,"saved":"yes"}"#.into(),
            r#"{"type":"token","v":1,"request_id":"r","card":{"token":"t"}}"#.into(),
            r#"{"type":"saved","v":1,"saved":{"brand":"visa","last4":"4242"}}"#.into(),
            r#"{"type":"paying","v":1,"card_token":"tok_1"}"#.into(),
            r#"{"v":1}"#.into(),
            r#"[1]"#.into(),
            r#"not json"#.into(),
            format!(r#"{{"type":"ready","v":1,"saved":false,"pad":"{}"}}"#, "x".repeat(MAX_MESSAGE_LEN)),
        ] {
            same_as_serde_frame(&text);
        }
    }

    const OFFER: &str = r#"{"tweet_id":"1528000000000000001","product_id":"p1","title":"Tee","description":"d","seller":{"name":"(RED)","kind":"nonprofit"},"kind":"physical","currency":"USD","variants":[{"id":"m","label":"M","price":{"minor":4500,"currency":"USD"},"stock":3},{"id":"l","label":"L","price":{"minor":4500,"currency":"USD"},"stock":null}],"images":[{"url":"/i.png","alt":"a"}],"limited_edition":true,"availability":"available","sale_ends_at":1900000000,"ships_to":["US","ES"],"max_per_order":4,"delivery":null,"newer_key":{"x":1}}"#;

    #[test]
    fn offers_read_as_serde_reads_them() {
        let serde = |t: &str| serde_json::from_str::<Offer>(t).ok();
        assert!(offer_from_text(OFFER).is_some());
        for text in [
            OFFER.to_owned(),
            OFFER.replace(r#","images":[{"url":"/i.png","alt":"a"}]"#, ""),
            OFFER.replace(r#","ships_to":["US","ES"]"#, ""),
            OFFER.replace(r#","sale_ends_at":1900000000"#, ""),
            OFFER.replace(r#","delivery":null"#, r#","delivery":"Emailed""#),
            OFFER.replace(r#","delivery":null"#, r#","delivery":null,"lang":"en""#),
            OFFER.replace(r#","delivery":null"#, r#","delivery":null,"lang":null"#),
            OFFER.replace(r#","delivery":null"#, r#","delivery":null,"lang":4"#),
            OFFER.replace(r#","stock":3"#, ""),
            OFFER.replace(r#""ES""#, r#""XX""#),
            OFFER.replace(r#""1528000000000000001""#, r#""2x""#),
            OFFER.replace(r#""kind":"physical""#, r#""kind":"boat""#),
            OFFER.replace(r#""limited_edition":true"#, r#""limited_edition":1"#),
            OFFER.replace(r#""max_per_order":4"#, r#""max_per_order":4.5"#),
            OFFER.replace(r#""title":"Tee","#, ""),
        ] {
            assert_eq!(offer_from_text(&text), serde(&text), "{text}");
        }
    }

    #[test]
    fn availability_reads_as_serde_reads_it() {
        let text = r#"{"availability":"sold_out","variants":[{"id":"m","stock":0},{"id":"l"}]}"#;
        let read = availability(&parse(text).unwrap()).unwrap();
        assert_eq!(Some(read.clone()), serde_json::from_str::<AvailabilityResponse>(text).ok());
        assert_eq!(read.availability, Availability::SoldOut);
        assert_eq!(availability(&parse(r#"{"availability":"gone","variants":[]}"#).unwrap()), None);
    }

    fn same_as_serde<T: serde::Serialize>(ours: String, value: &T) {
        let theirs = serde_json::to_value(value).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&ours).unwrap(), theirs, "{ours}");
    }

    #[test]
    fn messages_and_bodies_are_written_as_serde_writes_them() {
        let address = ShippingAddress {
            name: "Ana \"Q\" Díaz\\\n\t\u{1}".into(),
            line1: "1 St".into(),
            line2: String::new(),
            city: "C".into(),
            region: "NY".into(),
            postal_code: "10001".into(),
            country: "US".into(),
        };
        let cart = Cart {
            product_id: "p".into(),
            variant_id: "m".into(),
            quantity: 3,
            tweet_id: Some("1".into()),
            email: None,
            shipping: Some(address),
            share_email: true,
            discount_code: Some("TWEET10".into()),
        };
        let theme = FrameTheme { accent: Some("#f00".into()), font: Some("a, \"b\"".into()), ..FrameTheme::default() };
        for message in [
            ToFrame::Show { v: V1, cart: Some(cart.clone()) },
            ToFrame::Show { v: V1, cart: Some(Cart { shipping: None, tweet_id: None, discount_code: None, ..cart }) },
            ToFrame::Show { v: V1, cart: None },
            ToFrame::Clear { v: V1 },
            ToFrame::Theme { v: V1, tokens: theme },
            ToFrame::Theme { v: V1, tokens: FrameTheme::default() },
        ] {
            let json = to_frame(&message);
            same_as_serde(json.clone(), &message);
            assert_eq!(ToFrame::decode(&json), Some(message).filter(ToFrame::is_well_formed));
        }
        let mut q = QuoteRequest {
            product_id: "p".into(),
            variant_id: "m".into(),
            quantity: 2,
            country: tweetbuy_core::address::Country::parse("ES"),
            region: Some("M".into()),
            discount_code: Some("TWEET10".into()),
        };
        same_as_serde(quote_request(&q), &q);
        (q.country, q.region, q.discount_code) = (None, None, None);
        same_as_serde(quote_request(&q), &q);
        let mut w = WaitlistRequest {
            product_id: "p".into(),
            email: "fan@example.com".into(),
            consent: true,
            tweet_id: tweetbuy_core::TweetId::parse("1528000000000000005"),
            lang: Some("es-MX".into()),
        };
        same_as_serde(waitlist_request(&w), &w);
        (w.tweet_id, w.lang) = (None, None);
        same_as_serde(waitlist_request(&w), &w);
        let text = r#"{"subtotal":{"minor":1,"currency":"EUR"},"shipping":{"minor":0,"currency":"EUR"},"tax":{"minor":0,"currency":"EUR"},"total":{"minor":1,"currency":"EUR"}}"#;
        assert_eq!(quote(&parse(text).unwrap()), serde_json::from_str(text).ok());
        let text = r#"{"subtotal":{"minor":3000,"currency":"USD"},"discount":{"code":"TWEET10","amount":{"minor":300,"currency":"USD"}},"shipping":{"minor":0,"currency":"USD"},"tax":{"minor":0,"currency":"USD"},"total":{"minor":2700,"currency":"USD"}}"#;
        let parsed = quote(&parse(text).unwrap());
        assert!(parsed.as_ref().is_some_and(|q| q.discount.is_some()));
        assert_eq!(parsed, serde_json::from_str(text).ok());
    }
}
