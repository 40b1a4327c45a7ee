//! Saved buyer info: what the vault keeps when a buyer ticks "Save my card and shipping
//! address", and what may be shown about it. The card number and the full address stay in
//! the vault; the publisher's page only ever sees a [`SavedCard`].

use crate::address::ShippingAddress;
use crate::card::CardBrand;
use crate::prelude::*;
use serde::{Deserialize, Serialize};

/// One-time tokens for a saved card start with this; the api asks the vault for the saved
/// email and address when an order carries one.
pub const SAVED_TOKEN_PREFIX: &str = "sav_";

/// Whether `token` is a one-time token for a saved card (rather than for a typed card).
pub fn is_saved_card_token(token: &str) -> bool {
    token.starts_with(SAVED_TOKEN_PREFIX)
}

/// What the sheet shows about saved info: "Pay with Visa •••• 4242, ship to J. Doe, 10001".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedCard {
    /// The saved card's network, for "Pay with Visa •••• 4242".
    pub brand: CardBrand,
    /// The saved card's last four digits: all of its number the vault lets out.
    pub last4: String,
    /// The saved card's expiry month, 1 to 12.
    pub exp_month: u8,
    /// The saved card's four-digit expiry year.
    pub exp_year: u16,
    /// A masked summary of the saved address (initial, surname, postal code), if any.
    #[serde(default)]
    pub ship_to: Option<String>,
}

/// The frame → vault request that saves the card just paid with (same origin only).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveProfileRequest {
    /// The one-time token of the card that paid for the order.
    pub token: String,
    /// The secret the vault gave the frame with that token; the publisher's page never had it.
    pub save_secret: String,
    /// The buyer's email to save; checked by [`validate_email`](crate::validate_email).
    pub email: String,
    /// The address to save, checked by [`ShippingAddress::validate`] against every known
    /// country; `None` when the purchase shipped nothing.
    #[serde(default)]
    pub shipping: Option<ShippingAddress>,
}

/// The vault's answer: what may be shown. The device credential goes in a cookie only the
/// vault reads (`HttpOnly`), never in a body a script could read.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveProfileResponse {
    /// What may be shown about the info just saved.
    pub saved: SavedCard,
}

/// What the vault's frame reads about the saved info (`GET /v1/profile`, vault origin only):
/// the card as shown, and the email and address it builds the payment intent from. None of it
/// is posted to the publisher's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedProfile {
    /// The saved card, as it may be shown.
    pub card: SavedCard,
    /// The saved email, which the frame puts in the payment intents it creates.
    pub email: String,
    /// The saved address; `None` when none was saved.
    pub shipping: Option<ShippingAddress>,
}

/// The saved email and address, as the vault stores them (sealed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedDetails {
    /// The buyer's email, as checked when it was saved.
    pub email: String,
    /// The buyer's address, as checked when it was saved; `None` when none was saved.
    #[serde(default)]
    pub shipping: Option<ShippingAddress>,
}

/// "J. Doe, 10001": the first name's initial, the last name, the postal code. Enough for the
/// buyer to recognise their address; not the street.
pub fn ship_to_summary(address: &ShippingAddress) -> String {
    let words: Vec<&str> = address.name.split_whitespace().collect();
    let name = match words.as_slice() {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [first, .., last] => {
            let initial: String = first.chars().take(1).collect();
            format!("{initial}. {last}")
        }
    };
    let postal = address.postal_code.trim();
    match (name.is_empty(), postal.is_empty()) {
        (false, false) => format!("{name}, {postal}"),
        (false, true) => name,
        (true, _) => postal.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(name: &str, postal: &str) -> ShippingAddress {
        ShippingAddress {
            name: name.into(),
            line1: "1 Main St".into(),
            line2: String::new(),
            city: "New York".into(),
            region: "NY".into(),
            postal_code: postal.into(),
            country: "US".into(),
        }
    }

    #[test]
    fn the_summary_masks_the_street_and_first_name() {
        assert_eq!(ship_to_summary(&address("Jane Doe", "10001")), "J. Doe, 10001");
        assert_eq!(ship_to_summary(&address("  Ángela  María Ruiz ", "28013")), "Á. Ruiz, 28013");
        assert_eq!(ship_to_summary(&address("Cher", "")), "Cher");
        let summary = ship_to_summary(&address("Jane Doe", "10001"));
        assert!(!summary.contains("Main") && !summary.contains("Jane"));
    }

    #[test]
    fn saved_tokens_are_told_apart_and_shapes_are_strict() {
        assert!(is_saved_card_token("sav_abc"));
        assert!(!is_saved_card_token("tok_abc"));
        let json = r#"{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2030,"ship_to":"J. Doe, 10001"}"#;
        let saved: SavedCard = serde_json::from_str(json).unwrap();
        assert_eq!(saved.ship_to.as_deref(), Some("J. Doe, 10001"));
        assert!(serde_json::from_str::<SavedCard>(&json.replace("}", r#","number":"4242424242424242"}"#)).is_err());
    }
}
