//! The postMessage protocol between the widget (on the publisher's page) and the vault's
//! frame (on the vault origin). Messages are JSON strings; each carries `"v": 1` and a
//! `type`, and anything that does not decode to exactly one of these shapes is dropped
//! without a reply.
//!
//! The frame owns Pay: the page only says what the buyer is buying ([`ToFrame::Show`]) and
//! hears what happened ([`FromFrame`]). No message in either direction carries a card
//! number, a CVC, a card token, or saved card or contact details: the frame keeps those and
//! sends them only to its own origin and to the api's payment intent.

use crate::address::{ShippingAddress, MAX_FIELD_LEN};
use crate::error::{ErrorCode, FieldError};
use crate::order::OrderReceipt;
use crate::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The protocol version. A message with any other `v` is not ours.
pub const PROTOCOL_VERSION: u8 = 1;

/// The `v` field: serializes as 1 and refuses every other value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct V1;

impl Serialize for V1 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(PROTOCOL_VERSION)
    }
}

impl<'de> Deserialize<'de> for V1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<V1, D::Error> {
        match u8::deserialize(d)? {
            PROTOCOL_VERSION => Ok(V1),
            other => Err(serde::de::Error::custom(format!("unsupported protocol version {other}"))),
        }
    }
}

/// Deserializes a field the ordinary way, but as a required key: serde reads a missing
/// `Option` field as `None` unless the field names its own deserializer.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(d)
}

/// What the buyer is buying, as the page tells the frame. Every key is required (`null`
/// where there is nothing). No price: the api computes every amount for the payment intent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Cart {
    /// The product, by its [`Offer::product_id`](crate::Offer::product_id).
    pub product_id: String,
    /// The chosen variant, by its [`Variant::id`](crate::Variant::id).
    pub variant_id: String,
    /// Units to buy, 1 to [`MAX_QUANTITY`] here; the offer's own limit is the api's to check.
    pub quantity: u32,
    /// The tweet the Buy button sat under.
    #[serde(deserialize_with = "present")]
    pub tweet_id: Option<String>,
    /// `null` in saved mode: the saved email.
    #[serde(deserialize_with = "present")]
    pub email: Option<String>,
    /// `null` in saved mode (the saved address) and for goods that do not ship.
    #[serde(deserialize_with = "present")]
    pub shipping: Option<ShippingAddress>,
    /// "Share my email with the seller", unticked unless the buyer ticked it.
    pub share_email: bool,
    /// A discount code the page's sheet accepted; the api judges it again for the intent.
    #[serde(deserialize_with = "present")]
    pub discount_code: Option<String>,
}

impl Cart {
    /// The bounds a shape alone does not make: ids of 1 to [`MAX_ID`] visible ASCII
    /// characters, a quantity of 1 to [`MAX_QUANTITY`], an email of at most [`MAX_EMAIL`]
    /// characters and address fields of at most [`MAX_FIELD_LEN`] (core's address rule).
    /// Whether the details are *valid* is the api's call, with core's full rules.
    pub fn is_well_formed(&self) -> bool {
        id_ok(&self.product_id)
            && id_ok(&self.variant_id)
            && self.tweet_id.as_deref().is_none_or(id_ok)
            && (1..=MAX_QUANTITY).contains(&self.quantity)
            && self.discount_code.as_deref().is_none_or(|c| c.chars().count() <= crate::discount::MAX_CODE_LEN)
            && self.email.as_deref().is_none_or(|e| e.chars().count() <= MAX_EMAIL)
            && self.shipping.as_ref().is_none_or(|a| {
                [&a.name, &a.line1, &a.line2, &a.city, &a.region, &a.postal_code, &a.country]
                    .iter()
                    .all(|field| field.chars().count() <= MAX_FIELD_LEN)
            })
    }
}

/// An id (product, variant, tweet): 1 to [`MAX_ID`] visible ASCII characters.
fn id_ok(id: &str) -> bool {
    (1..=MAX_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Page → frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToFrame {
    /// Look like the sheet around the frame: only the listed properties, each validated
    /// ([`crate::theme`]); a message with any invalid value is dropped whole.
    Theme {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
        /// The sheet's current values; a property left out keeps the frame's default.
        tokens: crate::theme::FrameTheme,
    },
    /// Forget what was typed and the current cart.
    Clear {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
    },
    /// What the buyer is buying now; the frame creates a payment intent for it and shows
    /// the api's amount, seller and ship-to beside Pay. `None` (card mode): the page's
    /// details are not complete yet, and Pay answers [`FromFrame::NeedsDetails`].
    Show {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
        /// The cart, or `null` (never left out) while the page's details are incomplete.
        #[serde(deserialize_with = "present")]
        cart: Option<Cart>,
    },
}

/// Frame → page.
// `Paid` carries a receipt; one message is decoded at a time, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FromFrame {
    /// The frame has loaded and listens. In saved mode, whether this device has saved info
    /// (only that it exists); card mode always says `false`.
    Ready {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
        /// Saved mode: whether this device has saved info. Card mode: always `false`.
        saved: bool,
    },
    /// The frame's content height changed, so the page can size the iframe.
    Resize {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
        /// The content's height in CSS pixels; the page caps the height it gives the iframe.
        height: u32,
    },
    /// The api refused the cart: field errors for the page's own form.
    Invalid {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
        /// The api's field errors, for the page to show beside its own fields (email, address,
        /// option, discount code).
        errors: Vec<FieldError>,
    },
    /// The buyer pressed Pay while the cart was `null`: the page checks its form.
    NeedsDetails {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
    },
    /// A payment started.
    Paying {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
    },
    /// Paid. For an order to saved details the receipt's email is `""` and its shipping
    /// `null`: the page never sees saved contact details.
    Paid {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
        /// The api's receipt, less the saved details the page never had (see above).
        receipt: OrderReceipt,
    },
    /// The payment did not go through; the frame shows the message itself.
    Failed {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
        /// The api's or the vault's code for the refusal (`payment_declined`, `sold_out`, …).
        code: ErrorCode,
        /// The sentence the frame shows the buyer, in the frame's language; the page passes it
        /// on to the publisher's page in its error event.
        message: String,
    },
    /// Saved info now exists on this device (after a purchase with "save" ticked) or is gone
    /// (after Remove).
    Saved {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
        /// `true` once saved, `false` once removed.
        saved: bool,
    },
    /// The visitor pressed Escape inside the frame: close the sheet as Escape does elsewhere.
    Escape {
        /// The protocol version, always 1 ([`V1`]).
        v: V1,
    },
}

/// Longest message we will even try to decode.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024;

impl FromFrame {
    /// Decodes one message; `None` for anything that is not a valid v1 frame message.
    #[cfg(feature = "std")]
    pub fn decode(json: &str) -> Option<FromFrame> {
        (json.len() <= MAX_MESSAGE_LEN).then(|| serde_json::from_str(json).ok()).flatten()
    }
}

impl ToFrame {
    /// Decodes one message; `None` for anything that is not a valid v1 page message.
    #[cfg(feature = "std")]
    pub fn decode(json: &str) -> Option<ToFrame> {
        (json.len() <= MAX_MESSAGE_LEN)
            .then(|| serde_json::from_str(json).ok())
            .flatten()
            .filter(ToFrame::is_well_formed)
    }

    /// The checks a shape alone does not make: a cart's bounds ([`Cart::is_well_formed`])
    /// and theme values that pass their grammar.
    pub fn is_well_formed(&self) -> bool {
        match self {
            ToFrame::Clear { .. } => true,
            ToFrame::Theme { tokens, .. } => tokens.is_valid(),
            ToFrame::Show { cart, .. } => cart.as_ref().is_none_or(Cart::is_well_formed),
        }
    }
}

/// Longest id (product, variant, tweet), in ASCII characters.
pub const MAX_ID: usize = 100;
/// Most units in one cart.
pub const MAX_QUANTITY: u32 = 1000;
/// Longest email a cart may carry, in characters (as every length here): the most
/// [`crate::address::validate_email`] accepts.
pub const MAX_EMAIL: usize = 254;

#[cfg(test)]
mod tests {
    use super::*;

    fn cart() -> Cart {
        Cart {
            product_id: "p1".into(),
            variant_id: "m".into(),
            quantity: 2,
            tweet_id: Some("1528000000000000001".into()),
            email: Some("jane@example.com".into()),
            shipping: Some(crate::testing::address()),
            share_email: false,
            discount_code: None,
        }
    }

    #[test]
    fn show_round_trips_with_every_key_present() {
        for cart in [Some(cart()), None, Some(Cart { email: None, shipping: None, tweet_id: None, ..cart() })] {
            let show = ToFrame::Show { v: V1, cart };
            let json = serde_json::to_string(&show).unwrap();
            assert!(json.starts_with(r#"{"type":"show","v":1,"cart":"#), "{json}");
            assert_eq!(ToFrame::decode(&json), Some(show));
        }
        let saved = r#"{"type":"show","v":1,"cart":{"product_id":"p","variant_id":"m","quantity":1,"tweet_id":null,"email":null,"shipping":null,"share_email":false,"discount_code":null}}"#;
        assert!(ToFrame::decode(saved).is_some());
        for missing in ["tweet_id", "email", "shipping", "share_email", "discount_code"] {
            let json = saved
                .replace(&format!(r#""{missing}":{}"#, if missing == "share_email" { "false" } else { "null" }), "")
                .replace(",,", ",")
                .replace(",}", "}");
            assert_ne!(json, saved);
            assert_eq!(ToFrame::decode(&json), None, "{missing} is required: {json}");
        }
        assert_eq!(ToFrame::decode(r#"{"type":"show","v":1}"#), None, "cart is required, as null");
    }

    #[test]
    fn carts_are_bounded() {
        let ok = |c: Cart| ToFrame::decode(&serde_json::to_string(&ToFrame::Show { v: V1, cart: Some(c) }).unwrap());
        assert!(ok(Cart { quantity: MAX_QUANTITY, ..cart() }).is_some());
        assert!(ok(Cart { quantity: MAX_QUANTITY + 1, ..cart() }).is_none());
        assert!(ok(Cart { quantity: 0, ..cart() }).is_none());
        assert!(ok(Cart { product_id: "x".repeat(MAX_ID), ..cart() }).is_some());
        assert!(ok(Cart { product_id: "x".repeat(MAX_ID + 1), ..cart() }).is_none());
        assert!(ok(Cart { variant_id: String::new(), ..cart() }).is_none());
        assert!(ok(Cart { tweet_id: Some("a b".into()), ..cart() }).is_none());
        assert!(ok(Cart { email: Some("é".repeat(MAX_EMAIL)), ..cart() }).is_some());
        let code = |n| Some("A".repeat(n));
        assert!(ok(Cart { discount_code: code(crate::discount::MAX_CODE_LEN), ..cart() }).is_some());
        assert!(ok(Cart { discount_code: code(crate::discount::MAX_CODE_LEN + 1), ..cart() }).is_none());
        assert!(ok(Cart { email: Some("é".repeat(MAX_EMAIL + 1)), ..cart() }).is_none());
        let mut long = crate::testing::address();
        long.city = "漢".repeat(MAX_FIELD_LEN + 1);
        assert!(ok(Cart { shipping: Some(long), ..cart() }).is_none());
    }

    #[test]
    fn frame_messages_round_trip() {
        let receipt = crate::testing::receipt();
        let saved_receipt = OrderReceipt { email: String::new(), shipping: None, ..receipt.clone() };
        for message in [
            FromFrame::Ready { v: V1, saved: true },
            FromFrame::Resize { v: V1, height: 240 },
            FromFrame::Invalid { v: V1, errors: vec![FieldError::new("email", "email_invalid", "m")] },
            FromFrame::NeedsDetails { v: V1 },
            FromFrame::Paying { v: V1 },
            FromFrame::Paid { v: V1, receipt },
            FromFrame::Paid { v: V1, receipt: saved_receipt },
            FromFrame::Failed { v: V1, code: ErrorCode::PaymentDeclined, message: "Declined.".into() },
            FromFrame::Saved { v: V1, saved: false },
            FromFrame::Escape { v: V1 },
        ] {
            let json = serde_json::to_string(&message).unwrap();
            assert_eq!(FromFrame::decode(&json), Some(message), "{json}");
        }
        assert_eq!(
            serde_json::to_string(&FromFrame::NeedsDetails { v: V1 }).unwrap(),
            r#"{"type":"needs_details","v":1}"#
        );
        let newer = r#"{"type":"failed","v":1,"code":"brand_new","message":"m"}"#;
        assert!(matches!(FromFrame::decode(newer), Some(FromFrame::Failed { code: ErrorCode::Unknown, .. })));
    }

    #[test]
    fn anything_else_is_dropped() {
        for bad in [
            "",
            "null",
            "{}",
            r#"{"type":"ready","v":1}"#,
            r#"{"type":"ready","v":2,"saved":false}"#,
            r#"{"type":"ready","v":1,"saved":false,"extra":true}"#,
            r#"{"type":"ready","v":1,"saved":"yes"}"#,
            r#"{"type":"token","v":1,"request_id":"r","card":{"token":"t"}}"#,
            r#"{"type":"removed","v":1,"request_id":"r"}"#,
            r#"{"type":"saved","v":1,"saved":{"brand":"visa","last4":"4242"}}"#,
            r#"{"type":"failed","v":1,"request_id":"r","message":"m"}"#,
            r#"{"type":"resize","v":1,"height":-1}"#,
            r#"{"type":"paying","v":1,"card_token":"tok_1"}"#,
        ] {
            assert_eq!(FromFrame::decode(bad), None, "{bad}");
        }
        for bad in [
            r#"{"type":"ready","v":1,"saved":false}"#,
            r#"{"type":"tokenize","v":1,"request_id":"r"}"#,
            r#"{"type":"pay_saved","v":1,"request_id":"r"}"#,
            r#"{"type":"lookup","v":1,"request_id":"r"}"#,
            r#"{"type":"remove","v":1,"request_id":"r"}"#,
            r#"{"type":"focus","v":1,"request_id":"r"}"#,
        ] {
            assert_eq!(ToFrame::decode(bad), None, "{bad}");
        }
        let huge = format!(r#"{{"type":"ready","v":1,"saved":false,"pad":"{}"}}"#, "x".repeat(MAX_MESSAGE_LEN));
        assert_eq!(FromFrame::decode(&huge), None);
        // The page may not move focus onto the frame's controls: keys the buyer meant for the
        // page would land there.
        assert_eq!(ToFrame::decode(r#"{"type":"focus","v":1}"#), None);
    }

    #[test]
    fn theme_messages_carry_only_valid_listed_properties() {
        let ok = r##"{"type":"theme","v":1,"tokens":{"color_scheme":"dark","text":"#f7f9f9","radius_small":"0","font":"Georgia, serif"}}"##;
        let Some(ToFrame::Theme { tokens, .. }) = ToFrame::decode(ok) else { panic!("{ok}") };
        assert_eq!(tokens.text.as_deref(), Some("#f7f9f9"));
        let theme = ToFrame::Theme { v: V1, tokens: crate::theme::FrameTheme::default() };
        assert_eq!(ToFrame::decode(&serde_json::to_string(&theme).unwrap()), Some(theme));
        for bad in [
            r#"{"type":"theme","v":1,"tokens":{"surface":"url(https://evil.test/x)"}}"#,
            r#"{"type":"theme","v":1,"tokens":{"text":"red; background: blue"}}"#,
            r#"{"type":"theme","v":1,"tokens":{"font":"a } body { display: none"}}"#,
            r#"{"type":"theme","v":1,"tokens":{"background-image":"none"}}"#,
            r#"{"type":"theme","v":2,"tokens":{}}"#,
            r#"{"type":"theme","v":1,"tokens":{},"css":"body{}"}"#,
            r#"{"type":"theme","v":1,"tokens":{"space":8}}"#,
        ] {
            assert_eq!(ToFrame::decode(bad), None, "{bad}");
        }
    }
}
