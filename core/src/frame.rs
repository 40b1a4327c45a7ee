//! The postMessage protocol between the widget (on the publisher's page) and the card frame
//! (on the vault origin). Messages are JSON strings; each carries `"v": 1` and a `type`, and
//! anything that does not decode to exactly one of these shapes is dropped without a reply.
//!
//! No message in either direction carries a card number or a CVC: the frame keeps those and
//! sends them only to its own origin.

use crate::address::ShippingAddress;
use crate::error::FieldError;
use crate::saved::SavedCard;
use crate::vault::CardToken;
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

/// Widget → frame.
// `Save` carries an address; one message is decoded at a time, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToFrame {
    /// Send the typed card to the vault and answer with a token.
    Tokenize { v: V1, request_id: String },
    /// Forget what was typed (after a successful order).
    Clear { v: V1 },
    /// Is there saved info on this device? Answered with [`FromFrame::Saved`].
    Lookup { v: V1, request_id: String },
    /// Pay with the saved card: answered with [`FromFrame::Token`] carrying a one-time
    /// saved-card token (never the credential, never the reusable card token).
    PaySaved { v: V1, request_id: String },
    /// Save the card that just paid (its one-time token) with this email and address; the
    /// frame adds the save secret only it holds. Answered with [`FromFrame::Saved`].
    Save {
        v: V1,
        request_id: String,
        card_token: String,
        email: String,
        /// Present, as `null` when nothing ships: every key of a message is required.
        #[serde(deserialize_with = "present")]
        shipping: Option<ShippingAddress>,
    },
    /// Erase the saved info, on the server and on this device. Answered with [`FromFrame::Removed`].
    Remove { v: V1, request_id: String },
    /// Look like the sheet around the frame: only the listed properties, each validated
    /// ([`crate::theme`]); a message with any invalid value is dropped whole.
    Theme { v: V1, tokens: crate::theme::FrameTheme },
}

/// Frame → widget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FromFrame {
    /// The frame has loaded and listens.
    Ready { v: V1 },
    /// The frame's content height changed, so the widget can size the iframe.
    Resize { v: V1, height: u32 },
    /// The vault returned a token for the typed card.
    Token { v: V1, request_id: String, card: CardToken },
    /// The typed card was refused before tokenization (shown inside the frame as well).
    Invalid { v: V1, request_id: String, errors: Vec<FieldError> },
    /// The vault could not be reached or failed.
    Failed { v: V1, request_id: String, message: String },
    /// The visitor pressed Escape inside the frame: close the sheet as Escape does elsewhere.
    Escape { v: V1 },
    /// What is saved on this device (`None`: nothing), after a lookup or a save.
    Saved { v: V1, request_id: String, saved: Option<SavedCard> },
    /// The saved info is gone, on the server and on this device.
    Removed { v: V1, request_id: String },
}

/// Longest message we will even try to decode.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024;

impl FromFrame {
    /// Decodes one message; `None` for anything that is not a valid v1 frame message.
    pub fn decode(json: &str) -> Option<FromFrame> {
        (json.len() <= MAX_MESSAGE_LEN).then(|| serde_json::from_str(json).ok()).flatten()
    }
}

impl ToFrame {
    /// Decodes one message; `None` for anything that is not a valid v1 widget message.
    pub fn decode(json: &str) -> Option<ToFrame> {
        (json.len() <= MAX_MESSAGE_LEN)
            .then(|| serde_json::from_str(json).ok())
            .flatten()
            .filter(ToFrame::is_well_formed)
    }

    /// The checks a shape alone does not make: request ids of 1 to 100 visible ASCII
    /// characters, bounded strings, and theme values that pass their grammar.
    fn is_well_formed(&self) -> bool {
        let id_ok = |id: &str| (1..=MAX_REQUEST_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
        match self {
            ToFrame::Clear { .. } => true,
            ToFrame::Theme { tokens, .. } => tokens.is_valid(),
            ToFrame::Tokenize { request_id, .. }
            | ToFrame::Lookup { request_id, .. }
            | ToFrame::PaySaved { request_id, .. }
            | ToFrame::Remove { request_id, .. } => id_ok(request_id),
            ToFrame::Save { request_id, card_token, email, shipping, .. } => {
                id_ok(request_id)
                    && card_token.chars().count() <= MAX_CARD_TOKEN
                    && email.chars().count() <= MAX_EMAIL
                    && shipping.as_ref().is_none_or(|a| {
                        [&a.name, &a.line1, &a.line2, &a.city, &a.region, &a.postal_code, &a.country]
                            .iter()
                            .all(|field| field.chars().count() <= MAX_ADDRESS_FIELD)
                    })
            }
        }
    }
}

/// Longest request id, in ASCII characters.
pub const MAX_REQUEST_ID: usize = 100;
/// Longest card token a `save` may name, in characters (as every length here).
pub const MAX_CARD_TOKEN: usize = 128;
/// Longest email a `save` may carry.
pub const MAX_EMAIL: usize = 320;
/// Longest text field of the address a `save` may carry.
pub const MAX_ADDRESS_FIELD: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::CardBrand;

    #[test]
    fn round_trips_and_exact_shapes() {
        let token = FromFrame::Token {
            v: V1,
            request_id: "r1".into(),
            card: CardToken {
                token: "tok_1".into(),
                brand: CardBrand::Visa,
                last4: "4242".into(),
                exp_month: 12,
                exp_year: 2030,
            },
        };
        let json = serde_json::to_string(&token).unwrap();
        assert!(json.starts_with(r#"{"type":"token","v":1,"#), "{json}");
        assert_eq!(FromFrame::decode(&json), Some(token));
        let tokenize = ToFrame::Tokenize { v: V1, request_id: "r2".into() };
        assert_eq!(ToFrame::decode(&serde_json::to_string(&tokenize).unwrap()), Some(tokenize));
    }

    #[test]
    fn saved_info_messages_round_trip_and_carry_only_display_data() {
        let saved = FromFrame::Saved {
            v: V1,
            request_id: "r3".into(),
            saved: Some(SavedCard {
                brand: CardBrand::Visa,
                last4: "4242".into(),
                exp_month: 12,
                exp_year: 2030,
                ship_to: Some("J. Doe, 10001".into()),
            }),
        };
        let json = serde_json::to_string(&saved).unwrap();
        assert!(json.starts_with(r#"{"type":"saved","v":1,"#), "{json}");
        assert_eq!(FromFrame::decode(&json), Some(saved));
        let none = r#"{"type":"saved","v":1,"request_id":"r","saved":null}"#;
        assert_eq!(FromFrame::decode(none), Some(FromFrame::Saved { v: V1, request_id: "r".into(), saved: None }));
        let removed = r#"{"type":"removed","v":1,"request_id":"r"}"#;
        assert_eq!(FromFrame::decode(removed), Some(FromFrame::Removed { v: V1, request_id: "r".into() }));
        for message in [
            ToFrame::Lookup { v: V1, request_id: "a".into() },
            ToFrame::PaySaved { v: V1, request_id: "b".into() },
            ToFrame::Remove { v: V1, request_id: "c".into() },
            ToFrame::Save {
                v: V1,
                request_id: "d".into(),
                card_token: "tok_1".into(),
                email: "j@x.test".into(),
                shipping: None,
            },
        ] {
            let json = serde_json::to_string(&message).unwrap();
            assert_eq!(ToFrame::decode(&json), Some(message), "{json}");
        }
        assert_eq!(
            serde_json::to_string(&ToFrame::PaySaved { v: V1, request_id: "b".into() }).unwrap(),
            r#"{"type":"pay_saved","v":1,"request_id":"b"}"#
        );
    }

    #[test]
    fn forged_saved_info_messages_are_dropped() {
        for bad in [
            // A credential or a card number smuggled into a reply is not the protocol.
            r#"{"type":"saved","v":1,"request_id":"r","saved":null,"credential":"cred_x"}"#,
            r#"{"type":"saved","v":1,"request_id":"r","saved":{"brand":"visa","last4":"4242","exp_month":1,"exp_year":2030,"number":"4242424242424242"}}"#,
            r#"{"type":"removed","v":2,"request_id":"r"}"#,
            r#"{"type":"removed","v":1}"#,
        ] {
            assert_eq!(FromFrame::decode(bad), None, "{bad}");
        }
        for bad in [
            r#"{"type":"pay_saved","v":1}"#,
            r#"{"type":"pay_saved","v":1,"request_id":"r","credential":"cred_x"}"#,
            r#"{"type":"lookup","v":"1","request_id":"r"}"#,
            r#"{"type":"remove","v":1,"request_id":7}"#,
            r#"{"type":"save","v":1,"request_id":"r","card_token":"tok","email":"e","save_secret":"s","shipping":null}"#,
            r#"{"type":"save","v":1,"request_id":"r","card_token":"tok","email":"e","shipping":{"name":"x"}}"#,
        ] {
            assert_eq!(ToFrame::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn anything_else_is_dropped() {
        for bad in [
            "",
            "null",
            "{}",
            r#"{"type":"ready"}"#,
            r#"{"type":"ready","v":2}"#,
            r#"{"type":"ready","v":1,"extra":true}"#,
            r#"{"type":"tokenize","v":1,"request_id":"r"}"#,
            r#"{"type":"token","v":1,"request_id":"r","card":{"token":"t"}}"#,
            r#"{"type":"resize","v":1,"height":-1}"#,
        ] {
            assert_eq!(FromFrame::decode(bad), None, "{bad}");
        }
        assert_eq!(ToFrame::decode(r#"{"type":"ready","v":1}"#), None);
        assert_eq!(ToFrame::decode(r#"{"type":"tokenize","v":1,"request_id":"r","number":"4242"}"#), None);
        let huge = format!(r#"{{"type":"ready","v":1,"pad":"{}"}}"#, "x".repeat(MAX_MESSAGE_LEN));
        assert_eq!(FromFrame::decode(&huge), None);
        assert_eq!(FromFrame::decode(r#"{"type":"ready","v":1}"#), Some(FromFrame::Ready { v: V1 }));
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
