//! `POST /api/v1/intents`: what the buyer is about to pay for, priced and fixed on the server
//! before any card is confirmed.
//!
//! The vault's card frame creates the intent from what the sheet says the buyer chose (and,
//! for saved info, from what the vault holds), shows the server's amount, seller and address
//! beside its Pay button, and on the buyer's click mints a token for this intent alone. The
//! order that token pays takes every detail from the intent (see [`super::orders`]), so a
//! script on the publisher's page that alters the sheet cannot change what the buyer
//! consented to without the buyer seeing it beside Pay.

use super::{catalog, discounts, pricing, ApiState};
use crate::clock;
use crate::db::{retry_busy, Db};
use crate::error::AppError;
use crate::hashing::sha256_hex;
use crate::ids::{random_id, random_secret};
use crate::json::JsonBody;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use sqlx::{FromRow, Row};
use subtle::ConstantTimeEq;
use tweetbuy_core::order::validate_buyer_details;
use tweetbuy_core::vault::is_intent_id;
use tweetbuy_core::{
    Availability, Country, Currency, Discount, ErrorCode, IntentRequest, Money, Offer, PaymentIntent, Quote,
    ShippingAddress, TweetId,
};

/// How long an intent can be paid after it was priced: long enough to type a card, short
/// enough that a price or stock change is soon seen.
pub const INTENT_TTL_SECONDS: i64 = 30 * 60;

/// The longest client secret accepted (they are 86 characters).
const MAX_SECRET_LEN: usize = 128;

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/intents", post(create_intent))
}

/// Prices what the buyer chose, from the server's catalog, and fixes it as an intent.
#[utoipa::path(
    post,
    path = "/api/v1/intents",
    tag = "buyer",
    request_body(content = tweetbuy_core::IntentRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The priced intent (`Cache-Control: no-store`).", body = tweetbuy_core::PaymentIntent),
        (status = 400, description = "`bad_request`: the body is not JSON.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such product.", body = tweetbuy_core::ApiError),
        (status = 409, description = "`sold_out`, `sale_ended` or `sale_not_started`.", body = tweetbuy_core::ApiError),
        (status = 413, description = "`payload_too_large`: over 64 KiB.", body = tweetbuy_core::ApiError),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed` (see `fields`; a refused discount code is a `discount_code` field error), or `bad_request` for an unknown field or a wrong type.", body = tweetbuy_core::ApiError),
        (status = 429, description = "`rate_limited`.", body = tweetbuy_core::ApiError),
    )
)]
async fn create_intent(
    State(state): State<ApiState>,
    JsonBody(request): JsonBody<IntentRequest>,
) -> Result<Response, AppError> {
    let now = clock::now();
    let mut reader = crate::db::read_conn(&state.db).await?;
    let product = catalog::by_id(&mut reader, &request.product_id, now, &state.settings.api_origin).await?;
    drop(reader);
    let product = product.ok_or_else(|| AppError::not_found("There is no such product."))?;
    let offer = &product.offer;
    let details =
        validate_buyer_details(offer, &request.variant_id, request.quantity, &request.email, request.shipping.as_ref());
    let discount = match request.discount_code.as_deref() {
        None => None,
        Some(raw) => {
            let email = details.as_ref().ok().map(|(email, _)| email.as_str());
            Some(discounts::applicable(&state.db, raw, &product, email, now).await?)
        }
    };
    // Every problem at once: the details' and the code's.
    let (email, shipping, discount) = match (details, discount.transpose()) {
        (Ok((email, shipping)), Ok(discount)) => (email, shipping, discount),
        (details, discount) => {
            let mut errors = details.err().unwrap_or_default();
            errors.extend(discount.err().map(|refusal| refusal.field_error()));
            return Err(AppError::validation(errors));
        }
    };
    ensure_on_sale(offer)?;
    let destination = shipping.as_ref().and_then(|a| Country::parse(&a.country).map(|c| (c, a.region.as_str())));
    let quote = pricing::quote(&product, &request.variant_id, request.quantity, destination, discount.as_ref())?;
    let variant_label = offer.variant(&request.variant_id).map(|v| v.label.clone()).unwrap_or_default();

    let intent_id = random_id("pi_");
    let client_secret = format!("{intent_id}_secret_{}", random_secret());
    let stored = NewIntent {
        id: &intent_id,
        secret_hash: sha256_hex(client_secret.as_bytes()),
        request: &request,
        email: &email,
        shipping: shipping.as_ref(),
        quote: &quote,
        now,
    };
    retry_busy(|| insert(&state.db, &stored)).await?;
    let intent = PaymentIntent {
        intent_id,
        client_secret,
        quote,
        seller: offer.seller.name.clone(),
        product_title: offer.title.clone(),
        variant_label,
        quantity: request.quantity,
        email,
        shipping,
        expires_at: now + INTENT_TTL_SECONDS,
    };
    Ok((StatusCode::CREATED, [(CACHE_CONTROL, "no-store")], Json(intent)).into_response())
}

/// Refuses an offer that cannot be bought right now, with the reason as its code.
pub fn ensure_on_sale(offer: &Offer) -> Result<(), AppError> {
    let (code, message) = match offer.availability {
        Availability::Available => return Ok(()),
        Availability::SoldOut => (ErrorCode::SoldOut, "This item is sold out."),
        Availability::SaleEnded => (ErrorCode::SaleEnded, "This sale has ended."),
        Availability::NotStarted => (ErrorCode::SaleNotStarted, "This sale has not started yet."),
    };
    Err(AppError::new(StatusCode::CONFLICT, code, message))
}

struct NewIntent<'a> {
    id: &'a str,
    secret_hash: String,
    request: &'a IntentRequest,
    email: &'a str,
    shipping: Option<&'a ShippingAddress>,
    quote: &'a Quote,
    now: i64,
}

async fn insert(db: &Db, intent: &NewIntent<'_>) -> Result<(), AppError> {
    let shipping_json =
        intent.shipping.map(serde_json::to_string).transpose().map_err(|e| AppError::internal(e.to_string()))?;
    let mut conn = crate::db::write_conn(db).await?;
    sqlx::query(
        "INSERT INTO payment_intents (id, secret_hash, product_id, variant_id, quantity, email, share_email, \
         shipping_json, tweet_id, subtotal_minor, shipping_minor, tax_minor, total_minor, currency, created_at, \
         expires_at, discount_code, discount_minor) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(intent.id)
    .bind(&intent.secret_hash)
    .bind(&intent.request.product_id)
    .bind(&intent.request.variant_id)
    .bind(i64::from(intent.request.quantity))
    .bind(intent.email)
    .bind(intent.request.share_email)
    .bind(&shipping_json)
    .bind(intent.request.tweet_id.as_ref().map(TweetId::as_str))
    .bind(intent.quote.subtotal.minor)
    .bind(intent.quote.shipping.minor)
    .bind(intent.quote.tax.minor)
    .bind(intent.quote.total.minor)
    .bind(intent.quote.total.currency.code())
    .bind(intent.now)
    .bind(intent.now + INTENT_TTL_SECONDS)
    .bind(intent.quote.discount.as_ref().map(|d| d.code.as_str()))
    .bind(intent.quote.discount.as_ref().map_or(0, |d| d.amount.minor))
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// An intent as stored, read beside its product's columns ([`open`]): those the product
/// has too are renamed.
#[derive(sqlx::FromRow)]
struct IntentRow {
    #[sqlx(rename = "intent_id")]
    id: String,
    secret_hash: String,
    product_id: String,
    #[sqlx(rename = "intent_variant_id")]
    variant_id: String,
    quantity: i64,
    email: String,
    share_email: i64,
    shipping_json: Option<String>,
    #[sqlx(rename = "intent_tweet_id")]
    tweet_id: Option<String>,
    subtotal_minor: i64,
    #[sqlx(rename = "intent_shipping_minor")]
    shipping_minor: i64,
    tax_minor: i64,
    total_minor: i64,
    #[sqlx(rename = "intent_currency")]
    currency: String,
    expires_at: i64,
    discount_code: Option<String>,
    discount_minor: i64,
}

/// An intent an order may pay: its secret matched and it has not expired.
pub struct OpenIntent {
    pub id: String,
    pub product_id: String,
    pub variant_id: String,
    pub quantity: u32,
    pub email: String,
    pub share_email: bool,
    pub shipping: Option<ShippingAddress>,
    pub tweet_id: Option<TweetId>,
    pub quote: Quote,
}

/// The intent behind `intent_id`, when `client_secret` is its secret and it has not expired,
/// and the product it buys as stored now (`None` when it is gone). Every other case is one
/// error, so a wrong guess learns nothing about which part was wrong. Both are read in one
/// statement: the intent's columns repeated beside each of its product's variants.
pub async fn open(
    conn: &mut crate::db::ReadConn,
    intent_id: &str,
    client_secret: &str,
    now: i64,
    api_origin: &str,
) -> Result<(OpenIntent, Option<catalog::Product>), AppError> {
    let invalid = || {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IntentInvalid,
            "This payment has expired or is unknown. Review your order and press Pay again.",
        )
    };
    if !is_intent_id(intent_id) || client_secret.len() > MAX_SECRET_LEN {
        return Err(invalid());
    }
    let sql = format!(
        "SELECT i.id AS intent_id, i.secret_hash, i.product_id, i.variant_id AS intent_variant_id, i.quantity, \
         i.email, CASE WHEN i.share_email THEN 1 ELSE 0 END AS share_email, i.shipping_json, \
         i.tweet_id AS intent_tweet_id, i.subtotal_minor, i.shipping_minor AS intent_shipping_minor, i.tax_minor, \
         i.total_minor, i.currency AS intent_currency, i.expires_at, i.discount_code, i.discount_minor, \
         CASE WHEN p.id IS NULL THEN 0 ELSE 1 END AS has_product, {} \
         FROM payment_intents i LEFT JOIN products p ON p.id = i.product_id \
         LEFT JOIN variants v ON v.product_id = p.id WHERE i.id = $1 ORDER BY v.position",
        catalog::product_columns()
    );
    let rows = sqlx::query(&sql).bind(intent_id).fetch_all(&mut *conn).await?;
    let row = rows.first().map(IntentRow::from_row).transpose()?;
    let Some(row) = row else { return Err(invalid()) };
    let secret_ok: bool = sha256_hex(client_secret.as_bytes()).as_bytes().ct_eq(row.secret_hash.as_bytes()).into();
    if !secret_ok || row.expires_at <= now {
        return Err(invalid());
    }
    let currency = Currency::parse(&row.currency)
        .ok_or_else(|| AppError::internal(format!("intent currency {:?}", row.currency)))?;
    let money = |minor| Money::new(minor, currency);
    let shipping = row
        .shipping_json
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| AppError::internal(format!("intent {} shipping: {e}", row.id)))?;
    let tweet_id = row.tweet_id.as_deref().and_then(TweetId::parse);
    let intent = OpenIntent {
        quote: Quote {
            subtotal: money(row.subtotal_minor),
            discount: row.discount_code.map(|code| Discount { code, amount: money(row.discount_minor) }),
            shipping: money(row.shipping_minor),
            tax: money(row.tax_minor),
            total: money(row.total_minor),
        },
        quantity: u32::try_from(row.quantity).map_err(|_| AppError::internal("intent quantity"))?,
        id: row.id,
        product_id: row.product_id,
        variant_id: row.variant_id,
        email: row.email,
        share_email: row.share_email != 0,
        shipping,
        tweet_id,
    };
    let has_product: i64 = rows[0].try_get("has_product")?;
    let product = if has_product == 1 { catalog::product_from_rows(&rows, now, api_origin)? } else { None };
    Ok((intent, product))
}

/// Deletes intents that expired unpaid more than a day ago (a paid intent stays with its order).
pub async fn sweep_expired(db: &Db, now: i64) -> Result<u64, AppError> {
    let done = sqlx::query("DELETE FROM payment_intents WHERE expires_at < $1 AND order_id IS NULL")
        .bind(now - 24 * 3600)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
