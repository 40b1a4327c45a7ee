//! Between the card frame, the vault and the api: tokens and charges. Only the frame's
//! request to the vault carries a card number.

use crate::card::CardBrand;
use crate::money::Money;
use crate::prelude::*;
use serde::{Deserialize, Serialize};

/// What the vault's frame posts to the vault origin (same origin, never the api).
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizeRequest {
    pub number: String,
    pub expiry: String,
    pub cvc: String,
    /// The payment intent this token may pay, and no other.
    pub intent_id: String,
}

/// What the frame posts for a one-time token of the saved card: the intent it pays.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTokenRequest {
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
    pub token: String,
    pub brand: CardBrand,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

/// The vault's answer to the frame's tokenize request: the token, and a secret that lets
/// this card be saved after the purchase. The frame keeps the secret to itself (in the vault
/// origin's session storage) and passes only the [`CardToken`] to the widget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizeResponse {
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
    pub token: String,
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
    CardDeclined,
    InsufficientFunds,
    ExpiredCard,
    IncorrectCvc,
    ProcessingError,
}

impl DeclineCode {
    /// A processing error may succeed on a retry; the others will not.
    pub fn retryable(self) -> bool {
        self == DeclineCode::ProcessingError
    }

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Approved,
    Declined,
}

/// The vault's answer to a charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeResult {
    pub charge_id: String,
    pub status: ChargeStatus,
    pub decline_code: Option<DeclineCode>,
    pub brand: CardBrand,
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
    pub refund_id: String,
    pub charge_id: String,
    pub amount: Money,
    pub reference: String,
}
