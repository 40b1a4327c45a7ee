//! What people read when something goes wrong, and what to do next, in their language.

use crate::shared::api::ClientError;
use crate::shared::i18n::{Key, Locale};
use tweetbuy_core::vault::DeclineCode;
use tweetbuy_core::ErrorCode;

/// The sentence shown for a decline, with the next step.
pub fn decline(locale: &Locale, code: Option<DeclineCode>) -> String {
    locale.t(match code {
        Some(DeclineCode::InsufficientFunds) => Key::DeclineInsufficient,
        Some(DeclineCode::ExpiredCard) => Key::DeclineExpired,
        Some(DeclineCode::IncorrectCvc) => Key::DeclineCvc,
        Some(DeclineCode::ProcessingError) => Key::DeclineProcessing,
        Some(DeclineCode::CardDeclined) | None => Key::Declined,
    })
}

/// The sentence shown for any failed api request.
pub fn for_error(locale: &Locale, error: &ClientError) -> String {
    match error {
        ClientError::Network(_) => locale.t(Key::NetworkError),
        ClientError::Api { error, .. } => match error.code {
            ErrorCode::PaymentDeclined => decline(locale, error.decline_code),
            ErrorCode::PaymentError => decline(locale, Some(DeclineCode::ProcessingError)),
            ErrorCode::SoldOut => locale.t(Key::SoldOutMeanwhile),
            ErrorCode::SaleEnded => locale.t(Key::SaleEndedMeanwhile),
            ErrorCode::SaleNotStarted => locale.t(Key::ReasonNotStarted),
            ErrorCode::ValidationFailed => locale.t(Key::FixFields),
            ErrorCode::RateLimited => locale.t(Key::RateLimited),
            ErrorCode::TokenInvalid => locale.t(Key::TokenInvalid),
            _ => locale.t(Key::SomethingWrong),
        },
        ClientError::Decode { .. } => locale.t(Key::Unreadable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::ApiError;

    fn api(code: ErrorCode, decline_code: Option<DeclineCode>) -> ClientError {
        ClientError::Api { status: 402, error: ApiError { decline_code, ..ApiError::new(code, "x") } }
    }

    #[test]
    fn each_server_outcome_has_its_own_sentence_in_each_language() {
        let en = Locale::new("en");
        let es = Locale::new("es");
        let outcomes = [
            api(ErrorCode::PaymentDeclined, Some(DeclineCode::InsufficientFunds)),
            api(ErrorCode::PaymentDeclined, Some(DeclineCode::CardDeclined)),
            api(ErrorCode::PaymentDeclined, Some(DeclineCode::ProcessingError)),
            api(ErrorCode::SoldOut, None),
            api(ErrorCode::SaleEnded, None),
            ClientError::Network("offline".into()),
        ];
        let english: Vec<String> = outcomes.iter().map(|o| for_error(&en, o)).collect();
        let mut unique = english.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), outcomes.len(), "each outcome reads differently: {english:?}");
        assert!(english[0].contains("insufficient funds"));
        assert!(english[3].contains("sold out"));
        assert!(english[5].contains("connection"));
        assert!(for_error(&es, &outcomes[1]).contains("rechazada"));
        assert!(decline(&en, None).contains("declined"));
    }
}
