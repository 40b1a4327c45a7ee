//! `POST /api/v1/quote`: the price breakdown the Pay button shows, before paying.

use super::{discounts, pricing, ApiState};
use crate::clock;
use crate::error::AppError;
use crate::json::JsonBody;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tweetbuy_core::address::{us_state_problem, MAX_FIELD_LEN};
use tweetbuy_core::order::QuoteRequest;
use tweetbuy_core::text::is_single_line;
use tweetbuy_core::FieldError;

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/quote", post(quote))
}

/// The price breakdown, computed from the server's catalog: subtotal, the discount of a code,
/// shipping (per product and country), tax (an illustrative per-US-state table) and total.
#[utoipa::path(
    post,
    path = "/api/v1/quote",
    tag = "buyer",
    request_body(content = tweetbuy_core::order::QuoteRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The quote (`Cache-Control: no-store`).", body = tweetbuy_core::Quote),
        (status = 400, description = "`bad_request`: the body is not JSON.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such product.", body = tweetbuy_core::ApiError),
        (status = 413, description = "`payload_too_large`: over 64 KiB.", body = tweetbuy_core::ApiError),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed` (variant, quantity, country, `discount_code`: `discount_unknown`, `discount_not_started`, `discount_expired`, `discount_used_up`, `discount_not_applicable`; see `fields`), or `bad_request` for an unknown field or a wrong type.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
async fn quote(State(state): State<ApiState>, JsonBody(request): JsonBody<QuoteRequest>) -> Result<Response, AppError> {
    if let Some(region) = request.region.as_deref() {
        if !is_single_line(region) || region.chars().count() > MAX_FIELD_LEN {
            let message = "Choose a state or region.";
            return Err(AppError::validation(vec![FieldError::new("region", "region_invalid", message)]));
        }
        // A state the buyer has chosen is checked as the intent will check it; none yet is an
        // estimate.
        let state = region.trim().to_ascii_uppercase();
        if request.country.is_some_and(|c| c.code() == "US") && !state.is_empty() {
            if let Some(problem) = us_state_problem(&state) {
                return Err(AppError::validation(vec![problem]));
            }
        }
    }
    let now = clock::now();
    let product = state
        .products
        .product(&state.db, &request.product_id, now, &state.settings.api_origin)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such product."))?;
    let discount = match request.discount_code.as_deref() {
        None => None,
        Some(raw) => Some(
            discounts::applicable(&state.db, raw, &product, None, now)
                .await?
                .map_err(|refusal| AppError::validation(vec![refusal.field_error()]))?,
        ),
    };
    let destination = request.country.map(|c| (c, request.region.as_deref().unwrap_or("")));
    let quote = pricing::quote(&product, &request.variant_id, request.quantity, destination, discount.as_ref())?;
    Ok(([(CACHE_CONTROL, "no-store")], Json(quote)).into_response())
}
