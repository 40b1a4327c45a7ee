//! What people read when a request of the page fails (the quote), in their language. A
//! failed payment is told by the vault's frame, which shows its own localized message.

use crate::checkout::react::stale;
use crate::shared::api::ClientError;
use crate::shared::i18n::{Key, Locale};
use tweetbuy_core::ErrorCode;

/// The sentence shown for a failed api request.
pub fn for_error(locale: &Locale, error: &ClientError) -> String {
    match error {
        ClientError::Network(_) => locale.t(Key::NetworkError),
        ClientError::Api { error, .. } => locale.t(stale(error.code).unwrap_or(match error.code {
            ErrorCode::ValidationFailed => Key::FixFields,
            ErrorCode::RateLimited => Key::RateLimited,
            _ => Key::SomethingWrong,
        })),
        ClientError::Decode { .. } => locale.t(Key::Unreadable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::ApiError;

    fn api(code: ErrorCode) -> ClientError {
        ClientError::Api { status: 409, error: ApiError::new(code, "x") }
    }

    #[test]
    fn each_outcome_has_its_own_sentence_in_each_language() {
        let en = Locale::new("en");
        let outcomes = [
            api(ErrorCode::SoldOut),
            api(ErrorCode::NotEnoughStock),
            api(ErrorCode::SaleEnded),
            api(ErrorCode::RateLimited),
            api(ErrorCode::Internal),
            ClientError::Network("offline".into()),
            ClientError::Decode { status: 502, detail: "<html>".into() },
        ];
        let english: Vec<String> = outcomes.iter().map(|o| for_error(&en, o)).collect();
        let mut unique = english.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), outcomes.len(), "each outcome reads differently: {english:?}");
        assert!(english[0].contains("sold out"));
        assert!(english[1].contains("fewer are left"));
        assert!(english[5].contains("connection"));
        assert!(for_error(&Locale::new("es"), &outcomes[0]).contains("agotar"));
    }
}
