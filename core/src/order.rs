//! The order the widget sends, the quote the server computes, and the receipt it returns.

use crate::address::{validate_email, Country, ShippingAddress};
use crate::card::CardBrand;
use crate::catalog::Offer;
use crate::discount::Discount;
use crate::error::FieldError;
use crate::money::Money;
use crate::prelude::*;
use crate::tweet::TweetId;
use serde::{Deserialize, Serialize};

/// What the buyer is about to pay for. The api prices it into a [`PaymentIntent`] before any
/// card is confirmed; the card frame shows that intent beside Pay, and the token it mints
/// pays that intent and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntentRequest {
    pub product_id: String,
    pub variant_id: String,
    pub quantity: u32,
    pub email: String,
    #[serde(default)]
    pub shipping: Option<ShippingAddress>,
    /// "Share my email with the seller", unticked by default.
    #[serde(default)]
    pub share_email: bool,
    #[serde(default)]
    pub tweet_id: Option<TweetId>,
    /// A discount code the buyer typed; applied only if the server accepts it.
    #[serde(default)]
    pub discount_code: Option<String>,
}

/// A priced intent: everything the card frame shows beside Pay, fixed on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentIntent {
    /// `pi_…`: a card token is minted for this id and pays nothing else.
    pub intent_id: String,
    /// Confirms the intent; only its creator (the card frame) holds it.
    pub client_secret: String,
    pub quote: Quote,
    /// The seller's name, as the buyer reads it beside Pay.
    pub seller: String,
    pub product_title: String,
    pub variant_label: String,
    pub quantity: u32,
    pub email: String,
    pub shipping: Option<ShippingAddress>,
    /// Unix seconds after which the intent can no longer be paid.
    pub expires_at: i64,
}

/// `POST /api/v1/orders`: pays one intent with a token the vault minted for it. Every other
/// detail of the order comes from the intent, so nothing here can change what is bought,
/// for how much, or where it ships.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    pub intent_id: String,
    pub client_secret: String,
    pub card_token: String,
}

/// The details a buyer types, checked the same way by the widget (before paying) and by the
/// server (before charging). Returns every field error at once.
pub fn validate_buyer_details(
    offer: &Offer,
    variant_id: &str,
    quantity: u32,
    email: &str,
    shipping: Option<&ShippingAddress>,
) -> Result<(String, Option<ShippingAddress>), Vec<FieldError>> {
    let mut errors = Vec::new();
    match offer.variant(variant_id) {
        None => errors.push(FieldError::new("variant", "variant_invalid", "Choose an option.")),
        Some(variant) => {
            let max = offer.max_quantity(variant);
            if quantity == 0 || (quantity > max && max > 0) {
                errors.push(FieldError::new(
                    "quantity",
                    "quantity_invalid",
                    format!("Choose a quantity from 1 to {max}."),
                ));
            }
        }
    }
    let email = validate_email(email).map_err(|e| errors.push(e)).ok();
    let shipping = if offer.kind.needs_shipping() {
        match shipping {
            None => {
                errors.push(FieldError::new("shipping", "required", "Enter a shipping address."));
                None
            }
            Some(address) => address.validate(&offer.ships_to).map_err(|e| errors.extend(e)).ok(),
        }
    } else {
        None
    };
    match email {
        Some(email) if errors.is_empty() => Ok((email, shipping)),
        _ => Err(errors),
    }
}

/// Asks for a price breakdown before paying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub product_id: String,
    pub variant_id: String,
    pub quantity: u32,
    #[serde(default)]
    pub country: Option<Country>,
    #[serde(default)]
    pub region: Option<String>,
    /// A discount code to try; a refusal is a field error on `discount_code`.
    #[serde(default)]
    pub discount_code: Option<String>,
}

/// The server's price breakdown; the Pay button shows `total`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    pub subtotal: Money,
    /// Taken off the subtotal before tax; absent without a code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
    pub shipping: Money,
    pub tax: Money,
    pub total: Money,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Paid,
    Declined,
    Failed,
}

/// What the confirmation shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderReceipt {
    pub order_id: String,
    /// Short, human-friendly: `TB-7K3Q9X`.
    pub order_number: String,
    pub status: OrderStatus,
    pub product_title: String,
    pub variant_label: String,
    pub quantity: u32,
    pub quote: Quote,
    pub email: String,
    pub shipping: Option<ShippingAddress>,
    pub delivery: Option<String>,
    pub card_brand: CardBrand,
    pub card_last4: String,
}
