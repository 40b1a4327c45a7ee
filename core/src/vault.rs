//! Between the card frame, the vault and the api: tokens and charges. Only the frame's
//! request to the vault carries a card number.

use crate::card::CardBrand;
use crate::money::Money;
use crate::prelude::*;
use serde::{Deserialize, Serialize};

/// A header every answer of the vault's charge and refund routes carries (not the answers
/// of its fallback, nor of any other server): the api reads a refusal, or "no charge for this
/// order", as the vault's word only with it. A wrong address (the vault's public listener,
/// the api itself, a proxy) answers 404 too, which must not settle an order as never charged.
pub const ANSWER_HEADER: &str = "tweetbuy-vault";

/// What the vault's frame posts to the vault origin (same origin, never the api).
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizeRequest {
    /// The card number as typed (spaces and dashes allowed), checked by
    /// [`CardNumber::parse`](crate::CardNumber::parse); the vault keeps it only encrypted.
    pub number: String,
    /// The expiry as typed (`MM/YY`, `MM/YYYY`, `MMYY`), checked by
    /// [`Expiry::parse`](crate::Expiry::parse) and [`Expiry::validate`](crate::Expiry::validate).
    pub expiry: String,
    /// The security code, checked for length by [`validate_cvc`](crate::card::validate_cvc) and
    /// then forgotten: never stored.
    pub cvc: String,
    /// The payment intent this token may pay, and no other.
    pub intent_id: String,
}

/// What the frame posts for a one-time token of the saved card: the intent it pays.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTokenRequest {
    /// The payment intent the token may pay, and no other (shaped as [`is_intent_id`] says).
    pub intent_id: String,
}

/// Payment intent ids: `pi_` and random letters and digits, at most this long.
pub const MAX_INTENT_ID_LEN: usize = 64;

/// Whether `id` looks like a payment intent id (`pi_` and 1 to 61 letters, digits, `_` or `-`).
pub fn is_intent_id(id: &str) -> bool {
    id.len() <= MAX_INTENT_ID_LEN
        && id.strip_prefix("pi_").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// A card token with what may be shown about the card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardToken {
    /// The one-time token: it pays the one intent it was minted for, once. `tok_…` for a typed
    /// card, [`SAVED_TOKEN_PREFIX`](crate::saved::SAVED_TOKEN_PREFIX) `sav_…` for the saved card.
    pub token: String,
    /// The card's network, detected by the vault from the number.
    pub brand: CardBrand,
    /// The last four digits: all of the number the vault lets out.
    pub last4: String,
    /// The card's expiry month, 1 to 12.
    pub exp_month: u8,
    /// The card's four-digit expiry year.
    pub exp_year: u16,
}

/// The vault's answer to the frame's tokenize request: the token, and a secret that lets
/// this card be saved after the purchase. The frame keeps the secret to itself (in the vault
/// origin's session storage) and passes only the [`CardToken`] to the widget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizeResponse {
    /// The token and what may be shown about the card, flattened into the answer's top level.
    #[serde(flatten)]
    pub card: CardToken,
    /// Absent on an idempotent replay (only its hash is stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_secret: Option<String>,
}

/// The api asks the vault, server to server, to charge a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeRequest {
    /// The one-time token the order came with
    /// ([`PayRequest::card_token`](crate::PayRequest::card_token)).
    pub token: String,
    /// The amount to charge: the intent's [`Quote::total`](crate::Quote::total).
    pub amount: Money,
    /// The api's order id, so a charge can be traced to its order.
    pub reference: String,
    /// The intent the order pays: the token must have been minted for it.
    pub intent_id: String,
}

/// Why the test-mode processor refused a card (`tests/fixtures/test-cards.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeclineCode {
    /// Declined, with no reason given or the reason withheld: a buyer paying with a typed card
    /// is told only this (unless it is a processing error), so card testing learns nothing.
    CardDeclined,
    /// The card lacks the funds or credit for the amount.
    InsufficientFunds,
    /// The issuer says the card has expired.
    ExpiredCard,
    /// The security code is wrong.
    IncorrectCvc,
    /// The processor failed; the same card may go through on a retry.
    ProcessingError,
}

impl DeclineCode {
    /// A processing error may succeed on a retry; the others will not.
    pub fn retryable(self) -> bool {
        self == DeclineCode::ProcessingError
    }

    /// The wire name, as serde writes it (`card_declined`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineCode::CardDeclined => "card_declined",
            DeclineCode::InsufficientFunds => "insufficient_funds",
            DeclineCode::ExpiredCard => "expired_card",
            DeclineCode::IncorrectCvc => "incorrect_cvc",
            DeclineCode::ProcessingError => "processing_error",
        }
    }
}

/// Whether a charge took the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    /// The amount was charged to the card.
    Approved,
    /// Nothing was charged; [`ChargeResult::decline_code`] says why.
    Declined,
}

/// The vault's answer to a charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeResult {
    /// The vault's id of the charge (`ch_…`), by which a refund names it.
    pub charge_id: String,
    /// Whether the money was taken.
    pub status: ChargeStatus,
    /// Why a declined charge was declined; `None` when approved. Only a saved card's charge
    /// carries the processor's reason; any other gets `card_declined` or `processing_error`.
    pub decline_code: Option<DeclineCode>,
    /// The charged card's brand, for the receipt.
    pub brand: CardBrand,
    /// The charged card's last four digits, for the receipt.
    pub last4: String,
}

/// The api asks the vault, server to server, to refund part or all of an approved charge.
/// Idempotent by `reference`: the same reference again answers the first refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// The charge to refund (the vault's id of the order's approved charge).
    pub charge_id: String,
    /// How much to give back; at most what is left of the charge.
    pub amount: Money,
    /// The api's refund id, so a retry after a lost answer never refunds twice.
    pub reference: String,
}

/// The vault's answer to a refund: made now, or made earlier under the same reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundResult {
    /// The vault's id of the refund (`re_…`).
    pub refund_id: String,
    /// The refunded charge ([`RefundRequest::charge_id`]).
    pub charge_id: String,
    /// The amount given back; for a repeated reference, the first refund's amount.
    pub amount: Money,
    /// The api's refund id ([`RefundRequest::reference`]) that this refund answers.
    pub reference: String,
}
