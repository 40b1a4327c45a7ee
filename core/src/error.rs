//! The one error body every endpoint returns: `{code, message, fields?}`.

use crate::prelude::*;
use serde::{Deserialize, Serialize};

/// Stable error codes. Clients switch on these, never on messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be read: malformed JSON or query, an unknown field or a wrong type
    /// in a body, a malformed `Idempotency-Key`, a wrong method (400, 405 or 422).
    BadRequest,
    /// The request parsed but some input is not acceptable; [`ApiError::fields`] has one entry
    /// per problem (422).
    ValidationFailed,
    /// What the request names does not exist: a product, an image, a path (404).
    NotFound,
    /// The product or the chosen variant has no stock left (409).
    SoldOut,
    /// Some units of the chosen variant are left, fewer than the order asks for; the message
    /// says how many (409). Nothing was charged: the buyer may choose fewer.
    NotEnoughStock,
    /// The sale window has closed (409).
    SaleEnded,
    /// The sale window has not opened yet (409).
    SaleNotStarted,
    /// A waitlist join for an item that can be bought now.
    OnSale,
    /// The card was declined and nothing was charged; [`ApiError::decline_code`] says why
    /// (402).
    PaymentDeclined,
    /// The payment service could not be reached; nothing was charged, and a retry may succeed
    /// (502).
    PaymentError,
    /// The card token is unknown, used or expired: the card must be tokenized again (400).
    TokenInvalid,
    /// The card token was minted for another payment intent: nothing is charged.
    TokenMismatch,
    /// The payment intent is unknown, expired, already paid, or its secret is wrong.
    IntentInvalid,
    /// A write that needs an [`Idempotency-Key`](crate::IDEMPOTENCY_HEADER) header came without
    /// one (400).
    IdempotencyKeyMissing,
    /// The `Idempotency-Key` was already used with a different body (422).
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still running; retry shortly (409).
    IdempotencyInProgress,
    /// A bearer key (the admin api, the api's calls to the vault) or a device credential (saved
    /// info) is missing or wrong (401).
    Unauthorized,
    /// The vault refused a request that did not come from its own card frame's origin (403).
    Forbidden,
    /// The request body is over the size limit: 64 KiB for JSON (413).
    PayloadTooLarge,
    /// The body is in a content type the endpoint does not take (415).
    UnsupportedMediaType,
    /// Too many requests from this client, or payments with one saved card; the `Retry-After`
    /// header says how many seconds to wait (429).
    RateLimited,
    /// Something the request needs is out of reach for a moment (the database, the vault, the
    /// widget's build); retry later, with the same `Idempotency-Key` for a write (503).
    Unavailable,
    /// A failure on the server's side; the cause is logged, never sent. Retrying is safe (500).
    Internal,
    /// A refund or a cancellation of an order that was never paid (pending, declined, failed).
    OrderNotPaid,
    /// A refund for more than what is left of the order's total to refund.
    RefundExceedsRemaining,
    /// A cancellation of an order that has shipped.
    OrderShipped,
    /// Shipping an order that was cancelled.
    OrderCancelled,
    /// A code this build does not know yet (a newer server).
    #[serde(other)]
    Unknown,
}

/// A problem with one input field, shown next to that field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The input the problem is about, by its wire name (`email`, `postal_code`, `quantity`,
    /// `discount_code`, …).
    pub field: String,
    /// A stable code for the problem (`required`, `email_invalid`, …): clients translate by
    /// `field` and `code`, and fall back on [`FieldError::message`] for a code they do not know.
    pub code: String,
    /// An English sentence for the buyer, shown when the client has no translation for the code.
    pub message: String,
}

impl FieldError {
    /// A field error. `field` and `code` are stable wire names; `message` is a sentence for the
    /// buyer.
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// The JSON body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// What went wrong: clients switch on this, never on the message.
    pub code: ErrorCode,
    /// An English sentence that may be shown to a person; never parsed.
    pub message: String,
    /// One entry per unacceptable input, for [`ErrorCode::ValidationFailed`]; left out of the
    /// JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// For `payment_declined`: the processor's reason (`card_declined`, `insufficient_funds`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<crate::vault::DeclineCode>,
}

impl ApiError {
    /// An error with this code and message, and no field errors or decline code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), fields: Vec::new(), decline_code: None }
    }

    /// A [`ErrorCode::ValidationFailed`] error that carries every field error at once, under a
    /// generic message.
    pub fn validation(fields: Vec<FieldError>) -> ApiError {
        ApiError { fields, ..ApiError::new(ErrorCode::ValidationFailed, "Some details need fixing.") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_shape_is_stable() {
        let body = serde_json::to_value(ApiError::new(ErrorCode::SoldOut, "Sold out.")).unwrap();
        assert_eq!(body, serde_json::json!({"code": "sold_out", "message": "Sold out."}));
        let unknown: ApiError = serde_json::from_str(r#"{"code":"brand_new","message":"x"}"#).unwrap();
        assert_eq!(unknown.code, ErrorCode::Unknown);
    }
}
