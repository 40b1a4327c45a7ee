//! The `Idempotency-Key` header (IETF draft "The Idempotency-Key HTTP Header Field"), shared
//! by the api's orders and the vault's tokens. Each side keeps its own store of keys.

use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use tweetbuy_core::{ErrorCode, IDEMPOTENCY_HEADER};

/// The longest key accepted; clients send UUIDs (36 characters).
pub const MAX_KEY_LEN: usize = 255;

/// A request's idempotency key: required, 1 to 255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(IDEMPOTENCY_HEADER).ok_or_else(|| {
            AppError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::IdempotencyKeyMissing,
                format!("This request needs an {IDEMPOTENCY_HEADER} header."),
            )
        })?;
        let key = value.to_str().unwrap_or_default().trim();
        // The draft sends the key as a structured-field string; accept it quoted or bare.
        let key = key.strip_prefix('"').and_then(|k| k.strip_suffix('"')).unwrap_or(key);
        if !is_key(key) {
            return Err(AppError::bad_request(format!(
                "The {IDEMPOTENCY_HEADER} header must be 1 to {MAX_KEY_LEN} visible ASCII characters."
            )));
        }
        Ok(IdempotencyKey(key.to_owned()))
    }
}

/// Whether `key` is an idempotency key: 1 to [`MAX_KEY_LEN`] visible ASCII characters (the
/// header's, and the seller tools' `--key`).
pub fn is_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}
