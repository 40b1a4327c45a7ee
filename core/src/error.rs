//! The one error body every endpoint returns: `{code, message, fields?}`.

use crate::prelude::*;
use serde::{Deserialize, Serialize};

/// Stable error codes. Clients switch on these, never on messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    ValidationFailed,
    NotFound,
    SoldOut,
    SaleEnded,
    SaleNotStarted,
    /// A waitlist join for an item that can be bought now.
    OnSale,
    PaymentDeclined,
    PaymentError,
    TokenInvalid,
    /// The card token was minted for another payment intent: nothing is charged.
    TokenMismatch,
    /// The payment intent is unknown, expired, already paid, or its secret is wrong.
    IntentInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    IdempotencyInProgress,
    Unauthorized,
    Forbidden,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Unavailable,
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
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// The JSON body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// For `payment_declined`: the processor's reason (`card_declined`, `insufficient_funds`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<crate::vault::DeclineCode>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), fields: Vec::new(), decline_code: None }
    }

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
