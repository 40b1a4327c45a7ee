//! "Email me when it's back" (or "when it goes on sale") for items that cannot be bought now.
//!
//! Joining stores the buyer's email for that one product, once, with their consent; it emits
//! `waitlist.joined` to the seller's webhooks without the email (the buyer agreed to hear
//! from us about the item, not to be known to the seller). [`notify`] decides who is told
//! when units can be bought again and sends the notices through the same mail transport and
//! outbox pattern as receipts; every notice carries a link that unsubscribes its address.

pub mod notify;

use super::webhooks::{self, EventType};
use super::{catalog, ApiState};
use crate::clock;
use crate::db::begin_write;
use crate::error::AppError;
use crate::extract::{Form, Query};
use crate::ids::{random_id, random_secret};
use crate::json::JsonBody;
use crate::templates::escape_html;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tweetbuy_core::waitlist::{validate_waitlist, NoticeLang, WaitFor, WaitlistJoined, WaitlistRequest};
use tweetbuy_core::{Availability, ErrorCode};

/// The unsubscribe page's path on the api origin (the route in [`unsubscribe_router`]).
pub const UNSUBSCRIBE_PATH: &str = "/api/v1/waitlist/unsubscribe";

/// Joining is rate limited with orders (see `api_app`); unsubscribing is not.
pub fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/waitlist", post(join))
}

/// The unsubscribe page and its button.
pub fn unsubscribe_router() -> Router<ApiState> {
    Router::new().route("/api/v1/waitlist/unsubscribe", get(unsubscribe_page).post(unsubscribe))
}

/// Joins the waitlist of a sold-out or not-yet-on-sale product.
#[utoipa::path(
    post,
    path = "/api/v1/waitlist",
    tag = "buyer",
    request_body(content = tweetbuy_core::waitlist::WaitlistRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Joined: one notice when the item can be bought (the same answer for a second join).", body = tweetbuy_core::waitlist::WaitlistJoined),
        (status = 404, description = "`not_found`: no such product.", body = tweetbuy_core::ApiError),
        (status = 409, description = "`on_sale`: the item can be bought now; `sale_ended`: it will not come back.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed`: `email`, or `consent` not ticked.", body = tweetbuy_core::ApiError),
        (status = 429, description = "`rate_limited`.", body = tweetbuy_core::ApiError),
    )
)]
async fn join(
    State(state): State<ApiState>,
    JsonBody(request): JsonBody<WaitlistRequest>,
) -> Result<Response, AppError> {
    let email = validate_waitlist(&request).map_err(AppError::validation)?;
    let now = clock::now();
    let product = catalog::by_id(&state.db, &request.product_id, now, &state.settings.api_origin)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such product."))?;
    let wait_for = wait_for(product.offer.availability)?;
    let email = email.to_lowercase();
    let mut tx = begin_write(&state.db).await?;
    let inserted = sqlx::query(
        "INSERT INTO waitlist (id, product_id, email, wait_for, status, created_at, unsubscribe_token, lang) \
         VALUES ($1, $2, $3, $4, 'waiting', $5, $6, $7) ON CONFLICT (product_id, email) DO UPDATE \
         SET status = 'waiting', created_at = excluded.created_at, wait_for = excluded.wait_for, lang = excluded.lang \
         WHERE waitlist.status IN ('unsubscribed', 'bought')",
    )
    .bind(random_id("wl_"))
    .bind(&product.offer.product_id)
    .bind(&email)
    .bind(crate::db::to_text(&wait_for))
    .bind(now)
    .bind(random_secret())
    .bind(crate::db::to_text(&NoticeLang::for_tag(request.lang.as_deref())))
    .execute(&mut tx)
    .await?;
    // A new row, or an address back after unsubscribing or buying (at the end of the line);
    // a second join while waiting or notified changes nothing.
    if inserted.rows_affected() == 1 {
        let (waiting,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM waitlist WHERE product_id = $1 AND status = 'waiting'")
                .bind(&product.offer.product_id)
                .fetch_one(&mut tx)
                .await?;
        let object = JoinedObject {
            product_id: product.offer.product_id.clone(),
            product_title: product.offer.title.clone(),
            wait_for,
            waiting,
        };
        webhooks::emit(&mut tx, EventType::WaitlistJoined, &object).await?;
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, [(CACHE_CONTROL, "no-store")], Json(WaitlistJoined { wait_for })).into_response())
}

/// What a product waits for, or why it has no waitlist.
fn wait_for(availability: Availability) -> Result<WaitFor, AppError> {
    match availability {
        Availability::SoldOut => Ok(WaitFor::Restock),
        Availability::NotStarted => Ok(WaitFor::SaleStart),
        Availability::SaleEnded => Err(AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::SaleEnded,
            "This sale has ended; it will not come back.",
        )),
        Availability::Available => {
            Err(AppError::new(StatusCode::CONFLICT, ErrorCode::OnSale, "This item can be bought now."))
        }
    }
}

/// The object of `waitlist.joined`: the product and how many wait, never who.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JoinedObject {
    /// The product's id in the catalog.
    pub product_id: String,
    /// The product's title as the catalog has it now.
    pub product_title: String,
    /// What the waiting buyers wait for: a restock, or the sale's start.
    pub wait_for: WaitFor,
    /// Addresses waiting for this product now.
    pub waiting: i64,
}

/// The link's token; absent (a link cut short), it is no token we sent, and the page says so.
#[derive(Deserialize)]
pub struct Token {
    #[serde(default)]
    token: String,
}

/// The product an unsubscribe token belongs to, if the token is one.
async fn product_of(state: &ApiState, token: &str) -> Result<Option<String>, AppError> {
    if token.len() > 128 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT p.title FROM waitlist w JOIN products p ON p.id = w.product_id WHERE w.unsubscribe_token = $1",
    )
    .bind(token)
    .fetch_optional(&state.db)
    .await?;
    Ok(found.map(|(title,)| title))
}

/// The page a notice's link opens: one button, so a mail scanner that follows links does not
/// unsubscribe anyone.
#[utoipa::path(
    get,
    path = "/api/v1/waitlist/unsubscribe",
    tag = "buyer",
    params(("token" = String, Query, description = "The token of a notice's link.", example = "abc123")),
    responses(
        (status = 200, description = "A page with the Unsubscribe button.", content_type = "text/html", body = String),
        (status = 400, description = "Not a link we sent (mistyped or made up).", content_type = "text/html", body = String),
    )
)]
async fn unsubscribe_page(State(state): State<ApiState>, Query(token): Query<Token>) -> Result<Response, AppError> {
    let Some(title) = product_of(&state, &token.token).await? else {
        return Ok(page(StatusCode::BAD_REQUEST, NOT_VALID));
    };
    let body = format!(
        "<h1>Stop emails about {title}?</h1><form method=\"post\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button type=\"submit\">Unsubscribe</button></form>",
        title = escape_html(&title),
        token = escape_html(&token.token),
    );
    Ok(page(StatusCode::OK, &body))
}

/// Unsubscribes the link's address from the product's waitlist (also the one-click POST
/// of mail clients, RFC 8058).
#[utoipa::path(
    post,
    path = "/api/v1/waitlist/unsubscribe",
    tag = "buyer",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`token=…`"),
    responses(
        (status = 200, description = "Unsubscribed.", content_type = "text/html", body = String),
        (status = 400, description = "Not a link we sent (mistyped or made up).", content_type = "text/html", body = String),
    )
)]
async fn unsubscribe(State(state): State<ApiState>, Form(token): Form<Token>) -> Result<Response, AppError> {
    let Some(title) = product_of(&state, &token.token).await? else {
        return Ok(page(StatusCode::BAD_REQUEST, NOT_VALID));
    };
    let mut tx = begin_write(&state.db).await?;
    sqlx::query("UPDATE waitlist SET status = 'unsubscribed' WHERE unsubscribe_token = $1")
        .bind(&token.token)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    let body = format!("<h1>Unsubscribed</h1><p>You will get no more emails about {}.</p>", escape_html(&title));
    Ok(page(StatusCode::OK, &body))
}

const NOT_VALID: &str = "<h1>This link is not valid</h1><p>It may have been mistyped.</p>";

/// A small HTML page of the api origin: no script, forms to itself only.
fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>tweetbuy</title></head><body>{body}</body></html>"
    );
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ],
        html,
    )
        .into_response()
}
