//! The card frame: `GET /frame` (the page the widget puts in an iframe), `/frame.js`, its
//! input rules `/frame-rules.mjs` and `/frame.css`, from `assets/frame/`.

use super::VaultState;
use crate::error::AppError;
use crate::templates::{escape_html, render};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tweetbuy_core::ErrorCode;

pub(crate) fn router() -> Router<VaultState> {
    Router::new()
        .route("/frame", get(frame_page))
        .route("/frame.js", get(|state| frame_file(state, "frame.js", "text/javascript; charset=utf-8")))
        .route("/frame-rules.mjs", get(|state| frame_file(state, "rules.mjs", "text/javascript; charset=utf-8")))
        .route("/frame.css", get(|state| frame_file(state, "frame.css", "text/css; charset=utf-8")))
}

/// The frame's policy: its own script and style only, requests only to the vault and to the
/// api (for the payment intent it shows and pays), and
/// framable only by the allowed publishers (instead of `X-Frame-Options`, which cannot
/// name several origins).
pub fn frame_csp(allowed_origins: &[String], api_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' {api_origin}; \
         frame-ancestors {}; base-uri 'none'; form-action 'none'",
        allowed_origins.join(" ")
    )
}

async fn frame_page(State(state): State<VaultState>) -> Result<Response, AppError> {
    let path = state.settings.assets_dir.join("frame").join("frame.html");
    let template = read_asset(&path).await?;
    let settings = &state.settings;
    let html = render(
        &template,
        &[
            ("ALLOWED_ORIGINS", &escape_html(&settings.allowed_origins.join(" "))),
            ("VAULT_ORIGIN", &escape_html(&settings.vault_origin)),
            ("API_ORIGIN", &escape_html(&settings.api_origin)),
        ],
    );
    Ok((
        [
            (CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (CONTENT_SECURITY_POLICY, frame_csp(&settings.allowed_origins, &settings.api_origin)),
            (CACHE_CONTROL, "no-cache".to_owned()),
        ],
        html,
    )
        .into_response())
}

async fn frame_file(
    State(state): State<VaultState>,
    name: &str,
    content_type: &'static str,
) -> Result<Response, AppError> {
    let text = read_asset(&state.settings.assets_dir.join("frame").join(name)).await?;
    Ok(([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], text).into_response())
}

async fn read_asset(path: &std::path::Path) -> Result<String, AppError> {
    tokio::fs::read_to_string(path).await.map_err(|error| {
        tracing::warn!(path = %path.display(), %error, "frame asset missing");
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable, "The card form is not installed.")
    })
}
