//! `Authorization: Bearer <secret>`, read in one place for every secret that travels that
//! way: the seller's admin key (api) and the api's key at the vault. The comparison with a configured key is constant-time, so the key's bytes
//! cannot be learnt by timing the answers.

use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use subtle::ConstantTimeEq;
use tweetbuy_core::ErrorCode;

/// The bearer secret of a request, if it has one. Extracting never fails: each route
/// decides what a missing or wrong secret means, with [`unauthorized`].
pub struct Bearer(Option<String>);

impl Bearer {
    /// Reads `Authorization: Bearer <secret>` (the scheme in any case, RFC 7235).
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Bearer {
        let secret = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, secret)| secret.trim().to_owned())
            .filter(|secret| !secret.is_empty());
        Bearer(secret)
    }

    /// The secret as sent.
    pub fn secret(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Whether the secret is `expected`, compared in constant time. An empty `expected`
    /// (no key configured) matches nothing.
    pub fn matches(&self, expected: &str) -> bool {
        let given = self.0.as_deref().unwrap_or_default();
        !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Bearer::from_headers(&parts.headers))
    }
}

/// 401 `unauthorized` with `WWW-Authenticate: Bearer` and `message`.
pub fn unauthorized(message: &str) -> Response {
    let error = AppError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message);
    ([(WWW_AUTHENTICATE, "Bearer")], error).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn bearer(value: &str) -> Bearer {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        Bearer::from_headers(&headers)
    }

    #[test]
    fn reads_the_secret_and_compares_it_whole() {
        assert!(bearer("Bearer k-123").matches("k-123"));
        assert!(bearer("bearer k-123").matches("k-123"), "the scheme is case-insensitive");
        assert!(!bearer("Bearer k-12").matches("k-123"));
        assert!(!bearer("Bearer k-1234").matches("k-123"));
        assert!(!bearer("Basic k-123").matches("k-123"));
        assert!(!bearer("Bearer ").matches(""), "no key configured matches nothing");
        assert_eq!(Bearer::from_headers(&HeaderMap::new()).secret(), None);
        assert_eq!(bearer("Bearer cred_x").secret(), Some("cred_x"));
    }
}
