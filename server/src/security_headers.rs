//! Headers every api and vault response carries, the JSON body limit, and the rewrite that
//! turns the limit layer's plain-text 413 into a JSON error.

use crate::json::payload_too_large;
use axum::extract::DefaultBodyLimit;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The largest JSON body accepted: an order with a full address is well under 4 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The CSP for responses that are data, not documents (JSON, JS, wasm, images): nothing may
/// load, nothing may frame them. Pages that need more set their own header first.
pub const DATA_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Adds a default CSP (kept when a handler set its own), `nosniff` and a referrer policy.
pub fn with_security_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(SetResponseHeaderLayer::if_not_present(CONTENT_SECURITY_POLICY, HeaderValue::from_static(DATA_CSP)))
        .layer(SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
}

/// Limits request bodies to [`MAX_BODY_BYTES`]. Two layers, because they catch different
/// cases: the tower-http layer refuses a declared `Content-Length` that is too big before the
/// handler runs, and axum's limit stops a streamed body inside the JSON extractor.
pub fn with_body_limit<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Outside the limit layer, so its 413 passes through here.
        .layer(axum::middleware::map_response(json_payload_too_large))
}

/// The limit layer answers 413 in plain text; clients expect `{code, message}` everywhere.
async fn json_payload_too_large(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        payload_too_large().into_response()
    } else {
        response
    }
}
