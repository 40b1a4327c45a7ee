//! The seller's admin api, with a bearer key (`TWEETBUY_ADMIN_KEY` or `--admin-key-file`); off
//! (401 to everything) without one. The same operations as the command-line tools:
//!
//! - `POST /admin/v1/catalog` with a TOML (`application/toml`) or JSON body: import;
//! - `GET /admin/v1/orders`: the seller's order view as JSON;
//! - `GET /admin/v1/orders.csv`: the same as CSV;
//! - `/admin/v1/webhooks…`: the seller's webhook endpoints and their delivery logs
//!   ([`super::webhooks::endpoints`]).

use super::webhooks::endpoints as hooks;
use super::{catalog_import, seller_orders, ApiState};
use crate::clock;
use crate::error::AppError;
use crate::extract::Query;
use crate::vault::bearer::{unauthorized, Bearer};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tweetbuy_core::ErrorCode;

/// Catalog files may be larger than an order.
const MAX_CATALOG_BYTES: usize = 1024 * 1024;

pub(crate) fn router() -> Router<ApiState> {
    // A catalog file may be larger than the 64 KiB of every other JSON body.
    let catalog =
        Router::new().route("/admin/v1/catalog", post(import_catalog).layer(DefaultBodyLimit::max(MAX_CATALOG_BYTES)));
    let rest = Router::new()
        .route("/admin/v1/orders", get(list_orders))
        .route("/admin/v1/orders.csv", get(export_orders))
        .route("/admin/v1/webhooks", get(hooks::list_endpoints).post(hooks::create_endpoint))
        .route(
            "/admin/v1/webhooks/{endpoint_id}",
            get(hooks::get_endpoint).patch(hooks::update_endpoint).delete(hooks::delete_endpoint),
        )
        .route("/admin/v1/webhooks/{endpoint_id}/rotate", post(hooks::rotate_secret))
        .route("/admin/v1/webhooks/{endpoint_id}/deliveries", get(hooks::list_deliveries))
        .route("/admin/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend", post(hooks::resend_delivery));
    catalog.merge(crate::security_headers::with_body_limit(rest))
}

/// The admin bearer key (compared in constant time, [`Bearer::matches`]).
pub struct AdminAuth;

impl FromRequestParts<ApiState> for AdminAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        match state.admin_key.as_deref() {
            Some(expected) if Bearer::from_headers(&parts.headers).matches(expected) => Ok(AdminAuth),
            _ => Err(unauthorized("A valid admin key is required.")),
        }
    }
}

/// What an import answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    /// How many products the file held; each was written, new or updated (with `dry_run`:
    /// would be, and nothing was).
    pub imported: usize,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// The catalog import's query string.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `true`: check the file against the catalog as it is (every check of an import) and
    /// write nothing.
    #[param(example = true)]
    pub dry_run: Option<bool>,
}

/// Imports a catalog file (TOML or JSON, at most 1 MiB): checked whole, applied in one
/// transaction; a bad file changes nothing.
#[utoipa::path(
    post,
    path = "/admin/v1/catalog",
    tag = "admin",
    security(("admin_key" = [])),
    params(ImportQuery),
    request_body(description = "A catalog: `[[products]]` with their `[[products.variants]]` (server/README.md).",
        content(("application/toml"), ("application/json"))),
    responses(
        (status = 200, description = "Imported.", body = ImportResult),
        (status = 400, description = "`bad_request`: the body is not UTF-8.", body = tweetbuy_core::ApiError),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 413, description = "`payload_too_large`: over 1 MiB.", body = tweetbuy_core::ApiError),
        (status = 415, description = "`unsupported_media_type`: not `application/toml` or `application/json`.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed`: one `fields` entry per problem, naming the field and line.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
async fn import_catalog(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    // The media type alone (`application/json; charset=utf-8` is JSON), in any case.
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let format = if media_type == "application/json" {
        catalog_import::Format::Json
    } else if media_type == "application/toml" || media_type == "text/plain" {
        catalog_import::Format::Toml
    } else {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the catalog as application/toml or application/json.",
        ));
    };
    // A body over the limit gets the same JSON 413 as every other endpoint, not axum's text.
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => crate::json::payload_too_large(),
        _ => AppError::bad_request("The request body could not be read."),
    })?;
    let text = std::str::from_utf8(&body).map_err(|_| AppError::bad_request("The catalog is not UTF-8."))?;
    let products = catalog_import::parse(text, format)?;
    let dry_run = query.dry_run.unwrap_or(false);
    let imported = match dry_run {
        true => catalog_import::try_apply(&state.db, &products, clock::now()).await?,
        false => catalog_import::apply(&state.db, &products, clock::now()).await?,
    };
    Ok(Json(ImportResult { imported, dry_run }).into_response())
}

/// The seller's order view (the buyer's email only when they agreed to share it).
#[utoipa::path(
    get,
    path = "/admin/v1/orders",
    tag = "admin",
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "Every order (`Cache-Control: no-store`).", body = Vec<seller_orders::SellerOrder>),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
async fn list_orders(State(state): State<ApiState>, _auth: AdminAuth) -> Result<Response, AppError> {
    let orders = seller_orders::list(&state.db).await?;
    Ok(([(CACHE_CONTROL, "no-store")], Json(orders)).into_response())
}

/// The seller's order view as CSV.
#[utoipa::path(
    get,
    path = "/admin/v1/orders.csv",
    tag = "admin",
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "Every order (`Cache-Control: no-store`).", content_type = "text/csv", body = String),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
async fn export_orders(State(state): State<ApiState>, _auth: AdminAuth) -> Result<Response, AppError> {
    let orders = seller_orders::list(&state.db).await?;
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8"), (CACHE_CONTROL, "no-store")], seller_orders::to_csv(&orders))
        .into_response())
}
