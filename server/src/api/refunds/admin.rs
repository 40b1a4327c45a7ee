//! Refunds, cancellations and shipping through the seller's admin api (bearer admin key, see
//! [`crate::api::admin`]); the command line runs the same functions:
//!
//! - `POST /admin/v1/orders/{order_number}/refunds` with `Idempotency-Key`: refund part or all;
//! - `POST /admin/v1/orders/{order_number}/cancel`: cancel an unshipped order;
//! - `POST /admin/v1/orders/{order_number}/ship`: mark an order shipped.

use super::{Answered, Refund, Shipment};
use crate::api::admin::AdminAuth;
use crate::api::orders::REPLAYED_HEADER;
use crate::api::ApiState;
use crate::error::AppError;
use crate::extract::Path;
use crate::idempotency::IdempotencyKey;
use crate::json::JsonBody;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/admin/v1/orders/{order_number}/refunds", post(create_refund))
        .route("/admin/v1/orders/{order_number}/cancel", post(cancel_order))
        .route("/admin/v1/orders/{order_number}/ship", post(ship_order))
}

/// A refund to make.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// In minor units, at least 1 and at most what is left; without it, everything left.
    /// `null` is refused: a script that meant an amount and sent none must not give
    /// everything back.
    #[serde(default, deserialize_with = "an_amount", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub amount_minor: Option<i64>,
}

/// `amount_minor` when present: a number, never `null` (absent is `None`, by `default`).
fn an_amount<'de, D: serde::Deserializer<'de>>(field: D) -> Result<Option<i64>, D::Error> {
    i64::deserialize(field).map(Some)
}

fn answered(answered: Answered) -> Response {
    let status = if answered.replayed { StatusCode::OK } else { StatusCode::CREATED };
    let mut response = (status, [(CACHE_CONTROL, "no-store")], Json(answered.refund)).into_response();
    if answered.replayed {
        response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// Refunds part or all of a paid order at the vault (test-mode processor). The buyer is sent a
/// refund receipt.
///
/// Idempotent under `Idempotency-Key`: the same key and amount again answer the first refund
/// (200, `Idempotent-Replayed: true`); the same key with another amount is 422
/// `idempotency_key_reused`. Concurrent refunds of one order never give back more than its total.
#[utoipa::path(
    post,
    path = "/admin/v1/orders/{order_number}/refunds",
    tag = "admin",
    security(("admin_key" = [])),
    params(
        ("order_number" = String, Path, description = "The order's number.", example = "TB-7K3M9Q"),
        ("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters; the same on every retry of one refund."),
    ),
    request_body(content = RefundBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Refunded.", body = Refund),
        (status = 200, description = "The refund an earlier request with this key made.", body = Refund,
            headers(("Idempotent-Replayed" = String, description = "`true`."))),
        (status = 400, description = "`idempotency_key_missing`; `bad_request`.", body = tweetbuy_core::ApiError),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such order.", body = tweetbuy_core::ApiError),
        (status = 409, description = "`order_not_paid`: the order was never paid; `refund_exceeds_remaining`: more than what is left (the message says how much).", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed` (`amount_minor` below 1); `idempotency_key_reused`.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
        (status = 502, description = "`payment_error`: the vault refused the refund; nothing was refunded.", body = tweetbuy_core::ApiError),
        (status = 503, description = "`unavailable`: the vault did not answer; retry with the same key (never refunds twice).", body = tweetbuy_core::ApiError),
    )
)]
async fn create_refund(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(order_number): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(body): JsonBody<RefundBody>,
) -> Result<Response, AppError> {
    Ok(answered(super::refund(&state.db, &state.vault, &order_number, body.amount_minor, &key).await?))
}

/// Cancels a paid order that has not shipped: refunds everything left of it and returns its
/// units to stock (and its discount code's use). Cancelling it again answers the first
/// cancellation.
#[utoipa::path(
    post,
    path = "/admin/v1/orders/{order_number}/cancel",
    tag = "admin",
    security(("admin_key" = [])),
    params(("order_number" = String, Path, description = "The order's number.", example = "TB-7K3M9Q")),
    responses(
        (status = 201, description = "Cancelled: the refund of what was left (0 when it was refunded in full already).", body = Refund),
        (status = 200, description = "Already cancelled: the first cancellation.", body = Refund,
            headers(("Idempotent-Replayed" = String, description = "`true`."))),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such order.", body = tweetbuy_core::ApiError),
        (status = 409, description = "`order_not_paid`: never paid; `order_shipped`: it has shipped (refund it instead).", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
        (status = 502, description = "`payment_error`: the vault refused the refund; the order is not cancelled.", body = tweetbuy_core::ApiError),
        (status = 503, description = "`unavailable`: the vault did not answer; cancel again (never refunds twice).", body = tweetbuy_core::ApiError),
    )
)]
async fn cancel_order(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(order_number): Path<String>,
) -> Result<Response, AppError> {
    Ok(answered(super::cancel(&state.db, &state.vault, &order_number).await?))
}

/// Marks a paid order shipped: from then on it can be refunded but not cancelled. Marking it
/// again keeps the first time.
#[utoipa::path(
    post,
    path = "/admin/v1/orders/{order_number}/ship",
    tag = "admin",
    security(("admin_key" = [])),
    params(("order_number" = String, Path, description = "The order's number.", example = "TB-7K3M9Q")),
    responses(
        (status = 200, description = "Shipped.", body = Shipment),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such order.", body = tweetbuy_core::ApiError),
        (status = 409, description = "`order_not_paid`: never paid; `order_cancelled`: it was cancelled.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
async fn ship_order(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(order_number): Path<String>,
) -> Result<Response, AppError> {
    let shipment = super::ship(&state.db, &order_number).await?;
    Ok(([(CACHE_CONTROL, "no-store")], Json(shipment)).into_response())
}
