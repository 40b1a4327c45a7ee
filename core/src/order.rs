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
    /// The product, by its [`Offer::product_id`]; an unknown one is answered 404 `not_found`.
    pub product_id: String,
    /// The chosen variant, by its [`Variant::id`](crate::Variant::id); an unknown one is a
    /// `variant` field error ([`validate_buyer_details`]).
    pub variant_id: String,
    /// Units to buy: 1 to what [`Offer::max_quantity`] allows for the variant, checked by
    /// [`validate_buyer_details`].
    pub quantity: u32,
    /// Where the receipt is sent; checked and trimmed by [`validate_email`].
    pub email: String,
    /// Where the order ships: required for goods that ship, checked by
    /// [`ShippingAddress::validate`] against [`Offer::ships_to`]; ignored for goods that do not.
    #[serde(default)]
    pub shipping: Option<ShippingAddress>,
    /// "Share my email with the seller", unticked by default.
    #[serde(default)]
    pub share_email: bool,
    /// The tweet whose Buy button the purchase started from; kept with the order, so the seller
    /// sees which tweet sold it.
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
    /// The price, fixed for this intent: the order charges its `total` and nothing else.
    pub quote: Quote,
    /// The seller's name, as the buyer reads it beside Pay.
    pub seller: String,
    /// The product's [`Offer::title`] when the intent was priced.
    pub product_title: String,
    /// The chosen variant's [`Variant::label`](crate::Variant::label).
    pub variant_label: String,
    /// Units being bought, as asked and checked.
    pub quantity: u32,
    /// The buyer's email as checked (trimmed): where the receipt is sent.
    pub email: String,
    /// The checked address the order ships to; `None` for goods that do not ship.
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
    /// The intent to pay ([`PaymentIntent::intent_id`]).
    pub intent_id: String,
    /// The intent's [`PaymentIntent::client_secret`]: proof that the caller created the intent.
    pub client_secret: String,
    /// The vault's one-time token minted for this intent
    /// ([`CardToken::token`](crate::vault::CardToken::token)).
    pub card_token: String,
    /// The language the buyer paid in, a BCP 47 tag (the card frame's): the receipt and any
    /// refund notice are written in it where we have that language (Spanish), else in
    /// English, with prices as the sheet wrote them. A tag that is not one
    /// ([`crate::text::is_language_tag`]) counts as none: it comes from the publisher's
    /// markup, and a page's odd `lang` must not stop a purchase. Left out of the body when
    /// there is none: the orders endpoint fingerprints a key's body as serialized here, and a
    /// key stored before orders had a language must still match its retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
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
    /// The product, by its [`Offer::product_id`].
    pub product_id: String,
    /// The chosen variant, by its [`Variant::id`](crate::Variant::id).
    pub variant_id: String,
    /// Units to price: 1 to the offer's [`Offer::max_per_order`], checked by the server.
    pub quantity: u32,
    /// Where the goods would ship, for the ships-to check and tax; `None` before the buyer has
    /// chosen a country, and then no tax is added.
    #[serde(default)]
    pub country: Option<Country>,
    /// The US state code (`NY`) whose sales-tax rate applies; not used outside the US. One
    /// line of at most [`MAX_FIELD_LEN`](crate::address::MAX_FIELD_LEN) characters.
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
    /// The unit price times the quantity, before any discount.
    pub subtotal: Money,
    /// Taken off the subtotal before tax; absent without a code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
    /// The product's flat shipping fee for the order; zero for goods that do not ship.
    pub shipping: Money,
    /// Sales tax on the subtotal less the discount, by the shipping address (an illustrative
    /// table of US rates); zero for goods that do not ship.
    pub tax: Money,
    /// What the card is charged: the subtotal less the discount, plus shipping and tax.
    pub total: Money,
}

/// How an order's payment ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// The card was charged. A receipt from `POST /api/v1/orders` always says this: a decline or
    /// a failure is answered with an [`ApiError`](crate::ApiError) instead.
    Paid,
    /// The card was declined; nothing was charged.
    Declined,
    /// The charge could not be made (the vault refused it or did not answer); nothing was charged.
    Failed,
}

/// What the confirmation shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderReceipt {
    /// The api's id of the order (`ord_…`); the vault's charge carries it as
    /// [`ChargeRequest::reference`](crate::vault::ChargeRequest::reference).
    pub order_id: String,
    /// Short, human-friendly: `TB-7K3Q9X`.
    pub order_number: String,
    /// How the payment ended.
    pub status: OrderStatus,
    /// The product's title when the order was placed.
    pub product_title: String,
    /// The chosen variant's label.
    pub variant_label: String,
    /// Units bought.
    pub quantity: u32,
    /// What was charged: its `total`, on the card.
    pub quote: Quote,
    /// Where the receipt is sent; `""` in the copy the frame posts to the page for an order
    /// paid with saved details.
    pub email: String,
    /// Where the order ships; `None` for goods that do not ship, and in the page's copy of an
    /// order to a saved address.
    pub shipping: Option<ShippingAddress>,
    /// How a ticket or digital good reaches the buyer ([`Offer::delivery`]), when the offer says.
    pub delivery: Option<String>,
    /// The brand of the card charged.
    pub card_brand: CardBrand,
    /// The last four digits of the card charged: all of its number a receipt shows.
    pub card_last4: String,
}

#[cfg(test)]
mod tests {
    use super::PayRequest;

    /// The orders endpoint fingerprints an idempotency key's body as serialized here: an
    /// order without a language must serialize as orders did before they had one, or a retry
    /// of a key stored then would be refused as another request.
    #[test]
    fn a_pay_request_without_a_language_serializes_as_before_it_had_one() {
        let pay = |lang: Option<&str>| PayRequest {
            intent_id: "pi_1".into(),
            client_secret: "pi_1_secret_s".into(),
            card_token: "tok_1".into(),
            lang: lang.map(str::to_owned),
        };
        let json = |pay: &PayRequest| serde_json::to_string(pay).unwrap();
        assert_eq!(json(&pay(None)), r#"{"intent_id":"pi_1","client_secret":"pi_1_secret_s","card_token":"tok_1"}"#);
        assert_eq!(
            json(&pay(Some("es"))),
            r#"{"intent_id":"pi_1","client_secret":"pi_1_secret_s","card_token":"tok_1","lang":"es"}"#
        );
        let read: PayRequest = serde_json::from_str(
            r#"{"intent_id":"pi_1","client_secret":"pi_1_secret_s","card_token":"tok_1","lang":null}"#,
        )
        .unwrap();
        assert_eq!(read, pay(None));
    }
}
