//! `POST /api/v1/quote`: the price breakdown the Pay button shows, before paying.

use super::{catalog, pricing, ApiState};
use crate::clock;
use crate::error::AppError;
use crate::json::JsonBody;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tweetbuy_core::order::QuoteRequest;

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/quote", post(quote))
}

async fn quote(State(state): State<ApiState>, JsonBody(request): JsonBody<QuoteRequest>) -> Result<Response, AppError> {
    let product = catalog::by_id(&state.db, &request.product_id, clock::now(), &state.settings.api_origin)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such product."))?;
    let destination = request.country.map(|c| (c, request.region.as_deref().unwrap_or("")));
    let quote = pricing::quote(&product, &request.variant_id, request.quantity, destination)?;
    Ok(([(CACHE_CONTROL, "no-store")], Json(quote)).into_response())
}
