//! What people read when something goes wrong, and what to do next.

use crate::api::ClientError;
use tweetbuy_core::vault::DeclineCode;
use tweetbuy_core::ErrorCode;

/// The sentence shown for a decline, with the next step.
pub fn decline(code: Option<DeclineCode>) -> &'static str {
    match code {
        Some(DeclineCode::InsufficientFunds) => "Your card has insufficient funds. Try another card.",
        Some(DeclineCode::ExpiredCard) => "Your card has expired. Try another card.",
        Some(DeclineCode::IncorrectCvc) => "The security code is incorrect. Check it and try again.",
        Some(DeclineCode::ProcessingError) => "The payment could not be processed. Please try again in a moment.",
        Some(DeclineCode::CardDeclined) | None => "Your card was declined. Try another card.",
    }
}

/// The sentence shown for any failed api request.
pub fn for_error(error: &ClientError) -> String {
    match error {
        ClientError::Network(_) => {
            "We could not reach the store. Check your connection and try again; you will not be charged twice.".into()
        }
        ClientError::Api { error, .. } => match error.code {
            ErrorCode::PaymentDeclined => decline(error.decline_code).into(),
            ErrorCode::SoldOut => "Sorry, this just sold out. You have not been charged.".into(),
            ErrorCode::SaleEnded => "Sorry, this sale has ended. You have not been charged.".into(),
            ErrorCode::SaleNotStarted => "This sale has not started yet.".into(),
            ErrorCode::ValidationFailed => "Some details need fixing: see the marked fields.".into(),
            ErrorCode::RateLimited => "Too many tries in a short time. Wait a moment and try again.".into(),
            ErrorCode::TokenInvalid => "Your card details expired. Please enter your card again.".into(),
            _ => format!("Something went wrong: {} Please try again.", error.message),
        },
        ClientError::Decode { .. } => "The store sent an answer we could not read. Please try again.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::ApiError;

    #[test]
    fn declines_name_the_reason_and_the_next_step() {
        let declined = ClientError::Api {
            status: 402,
            error: ApiError {
                decline_code: Some(DeclineCode::InsufficientFunds),
                ..ApiError::new(ErrorCode::PaymentDeclined, "x")
            },
        };
        assert!(for_error(&declined).contains("insufficient funds"));
        assert!(decline(None).contains("declined"));
        assert!(for_error(&ClientError::Network("x".into())).contains("connection"));
    }
}
