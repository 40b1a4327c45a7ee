//! Orders paid with saved buyer info. The widget sends a one-time saved-card token and
//! leaves the email and address out (the publisher's page only ever saw "J. Doe, 10001");
//! the api asks the vault, server to server, for what the buyer saved.

use super::vault_client::ChargeOutcome;
use super::ApiState;
use crate::error::AppError;
use axum::http::StatusCode;
use tweetbuy_core::saved::is_saved_card_token;
use tweetbuy_core::{ErrorCode, OrderRequest};

/// Fills the email and address the request left empty from the saved profile behind its
/// saved-card token. Requests with a typed card's token pass through untouched; what the
/// buyer did type (a changed address) wins over what was saved.
pub async fn with_saved_details(state: &ApiState, mut request: OrderRequest) -> Result<OrderRequest, AppError> {
    let token = request.card_token.trim();
    if !is_saved_card_token(token) || (!request.email.trim().is_empty() && request.shipping.is_some()) {
        return Ok(request);
    }
    match state.vault.saved_details(token).await {
        Ok(saved) => {
            if request.email.trim().is_empty() {
                request.email = saved.email;
            }
            if request.shipping.is_none() {
                request.shipping = saved.shipping;
            }
            Ok(request)
        }
        Err(ChargeOutcome::TokenInvalid) => Err(AppError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::TokenInvalid,
            "Your saved card could not be used. Enter your card details again.",
        )),
        Err(outcome) => {
            tracing::error!(?outcome, "saved details unavailable");
            Err(AppError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::PaymentError,
                "We could not reach the payment service. You have not been charged. Please try again.",
            ))
        }
    }
}
