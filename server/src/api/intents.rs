//! `POST /api/v1/intents`: what the buyer is about to pay for, priced and fixed on the server
//! before any card is confirmed.
//!
//! The vault's card frame creates the intent from what the sheet says the buyer chose (and,
//! for saved info, from what the vault holds), shows the server's amount, seller and address
//! beside its Pay button, and on the buyer's click mints a token for this intent alone. The
//! order that token pays takes every detail from the intent (see [`super::orders`]), so a
//! script on the publisher's page that alters the sheet cannot change what the buyer
//! consented to without the buyer seeing it beside Pay.

use super::kept_intents::KeptIntents;
use super::{catalog, discounts, pricing, ApiState};
use crate::clock;
use crate::db::group::{together_or_alone, Groups};
use crate::db::{engine_of, retry_busy, Db, Engine};
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

pub(crate) fn router() -> Router<ApiState> {
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
    let product = state.products.product(&state.db, &request.product_id, now, &state.settings.api_origin).await?;
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
    // The sale is credited to the tweet the buyer found the offer on, if the catalog attaches
    // it to the product. A tweet that does not offer it (a page's made-up one, or one the
    // seller moved while the sheet was open) is dropped, never the buyer's purchase.
    let tweet = match &request.tweet_id {
        Some(tweet) if offers(&state.db, tweet, &product).await? => Some(tweet),
        Some(tweet) => {
            let product_id = &product.offer.product_id;
            tracing::warn!(%tweet, %product_id, "the intent's tweet does not offer its product; no tweet is credited");
            None
        }
        None => None,
    };
    let destination = shipping.as_ref().and_then(|a| Country::parse(&a.country).map(|c| (c, a.region.as_str())));
    let quote = pricing::quote(&product, &request.variant_id, request.quantity, destination, discount.as_ref())?;
    let variant_label = offer.variant(&request.variant_id).map(|v| v.label.clone()).unwrap_or_default();

    let intent_id = random_id("pi_");
    let client_secret = format!("{intent_id}_secret_{}", random_secret());
    let row = NewIntent::new(
        &intent_id,
        sha256_hex(client_secret.as_bytes()),
        &request,
        &email,
        shipping.as_ref(),
        &quote,
        now,
    )?
    .crediting(tweet);
    let kept = KeptIntents::keeps(&state.db).then(|| IntentRow::written(&row));
    insert(&state.db, row).await?;
    if let Some(kept) = kept {
        state.intents.keep(kept);
    }
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

/// Whether `tweet` offers `product`, so a sale can be credited to it in the seller's view: the
/// catalog attaches it to the product. A product's first tweet is known without a query.
async fn offers(db: &Db, tweet: &TweetId, product: &catalog::Product) -> Result<bool, AppError> {
    if tweet == &product.offer.tweet_id {
        return Ok(true);
    }
    let attached: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM product_tweets WHERE tweet_id = $1 AND product_id = $2")
            .bind(tweet.as_str())
            .bind(&product.offer.product_id)
            .fetch_optional(db)
            .await?;
    Ok(attached.is_some())
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

/// An intent's row as it is written: one buyer's alone on SQLite, a batch of buyers' at once
/// on PostgreSQL ([`INSERTS`]).
#[derive(serde::Serialize)]
struct NewIntent {
    id: String,
    secret_hash: String,
    product_id: String,
    variant_id: String,
    quantity: i64,
    email: String,
    share_email: bool,
    shipping_json: Option<String>,
    /// The tweet the sale is credited to ([`NewIntent::crediting`]).
    tweet_id: Option<String>,
    subtotal_minor: i64,
    shipping_minor: i64,
    tax_minor: i64,
    total_minor: i64,
    currency: String,
    created_at: i64,
    expires_at: i64,
    discount_code: Option<String>,
    discount_minor: i64,
}

/// [`NewIntent`]'s columns with their PostgreSQL types, in the order of its fields (which
/// its JSON keeps) and of the single insert's binds.
const COLUMNS: [(&str, &str); 18] = [
    ("id", "text"),
    ("secret_hash", "text"),
    ("product_id", "text"),
    ("variant_id", "text"),
    ("quantity", "bigint"),
    ("email", "text"),
    ("share_email", "boolean"),
    ("shipping_json", "text"),
    ("tweet_id", "text"),
    ("subtotal_minor", "bigint"),
    ("shipping_minor", "bigint"),
    ("tax_minor", "bigint"),
    ("total_minor", "bigint"),
    ("currency", "text"),
    ("created_at", "bigint"),
    ("expires_at", "bigint"),
    ("discount_code", "text"),
    ("discount_minor", "bigint"),
];

impl NewIntent {
    fn new(
        id: &str,
        secret_hash: String,
        request: &IntentRequest,
        email: &str,
        shipping: Option<&ShippingAddress>,
        quote: &Quote,
        now: i64,
    ) -> Result<NewIntent, AppError> {
        Ok(NewIntent {
            id: id.to_owned(),
            secret_hash,
            product_id: request.product_id.clone(),
            variant_id: request.variant_id.clone(),
            quantity: i64::from(request.quantity),
            email: email.to_owned(),
            share_email: request.share_email,
            shipping_json: shipping
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| AppError::internal(e.to_string()))?,
            tweet_id: None,
            subtotal_minor: quote.subtotal.minor,
            shipping_minor: quote.shipping.minor,
            tax_minor: quote.tax.minor,
            total_minor: quote.total.minor,
            currency: quote.total.currency.code().to_owned(),
            created_at: now,
            expires_at: now + INTENT_TTL_SECONDS,
            discount_code: quote.discount.as_ref().map(|d| d.code.clone()),
            discount_minor: quote.discount.as_ref().map_or(0, |d| d.amount.minor),
        })
    }

    /// The intent with its sale credited to `tweet` (none unless the caller checked that the
    /// tweet offers the product).
    fn crediting(mut self, tweet: Option<&TweetId>) -> NewIntent {
        self.tweet_id = tweet.map(|t| t.as_str().to_owned());
        self
    }
}

/// Intents being written on PostgreSQL, grouped ([`crate::db::group`]): every buyer's
/// first write, one transaction each where a group takes many.
static INSERTS: Groups<NewIntent, ()> = Groups::new();

async fn insert(db: &Db, row: NewIntent) -> Result<(), AppError> {
    match engine_of(db) {
        Engine::Postgres => INSERTS.join(db, row, insert_rows).await,
        Engine::Sqlite => retry_busy(|| insert_one(db, &row)).await,
    }
}

/// Writes a batch of intents in one statement (or row by row, [`together_or_alone`]).
async fn insert_rows(db: Db, rows: Vec<NewIntent>) -> Vec<Result<(), AppError>> {
    let together = async { insert_many(&db, &rows).await.map(|()| vec![(); rows.len()]) };
    together_or_alone(rows.len(), "intents", together, |i| insert_one(&db, &rows[i])).await
}

async fn insert_one(db: &Db, row: &NewIntent) -> Result<(), AppError> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
        let binds: Vec<String> = (1..=COLUMNS.len()).map(|n| format!("${n}")).collect();
        format!("INSERT INTO payment_intents ({}) VALUES ({})", names.join(", "), binds.join(", "))
    });
    let mut conn = crate::db::write_conn(db).await?;
    sqlx::query(&SQL)
        .bind(&row.id)
        .bind(&row.secret_hash)
        .bind(&row.product_id)
        .bind(&row.variant_id)
        .bind(row.quantity)
        .bind(&row.email)
        .bind(row.share_email)
        .bind(&row.shipping_json)
        .bind(&row.tweet_id)
        .bind(row.subtotal_minor)
        .bind(row.shipping_minor)
        .bind(row.tax_minor)
        .bind(row.total_minor)
        .bind(&row.currency)
        .bind(row.created_at)
        .bind(row.expires_at)
        .bind(&row.discount_code)
        .bind(row.discount_minor)
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Several intents in one statement (PostgreSQL): the rows go as one JSON array, which
/// `json_to_recordset` reads back into columns.
async fn insert_many(db: &Db, rows: &[NewIntent]) -> Result<(), AppError> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
        let typed: Vec<String> = COLUMNS.iter().map(|(name, kind)| format!("{name} {kind}")).collect();
        format!(
            "INSERT INTO payment_intents ({names}) SELECT {names} FROM json_to_recordset($1::json) AS r({typed})",
            names = names.join(", "),
            typed = typed.join(", ")
        )
    });
    let json = serde_json::to_string(rows).map_err(|e| AppError::internal(e.to_string()))?;
    let mut conn = crate::db::write_conn(db).await?;
    let written = sqlx::query(&SQL).bind(json).execute(&mut conn).await?;
    match usize::try_from(written.rows_affected()) {
        Ok(n) if n == rows.len() => Ok(()),
        _ => Err(AppError::internal(format!("{} of {} intents written", written.rows_affected(), rows.len()))),
    }
}

/// An intent as stored, read beside its product's columns ([`open`]): those the product
/// has too are renamed.
#[derive(sqlx::FromRow, Clone)]
pub(crate) struct IntentRow {
    #[sqlx(rename = "intent_id")]
    pub(crate) id: String,
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
    pub(crate) expires_at: i64,
    discount_code: Option<String>,
    discount_minor: i64,
}

/// An intent an order may pay: its secret matched and it has not expired.
pub struct OpenIntent {
    pub(crate) id: String,
    pub(crate) product_id: String,
    pub(crate) variant_id: String,
    pub(crate) quantity: u32,
    pub(crate) email: String,
    pub(crate) share_email: bool,
    pub(crate) shipping: Option<ShippingAddress>,
    pub(crate) tweet_id: Option<TweetId>,
    pub(crate) quote: Quote,
}

/// The intent behind `intent_id`, when `client_secret` is its secret and it has not expired,
/// and the product it buys (`None` when it is gone). Every other case is one error, so a
/// wrong guess learns nothing about which part was wrong.
///
/// An intent this process wrote is taken from what it keeps ([`super::kept_intents`]), and
/// its product from [`super::product_cache`]: as fresh as the catalog's notifications, as
/// when the intent was priced. Otherwise both are read in one statement: the intent's
/// columns repeated beside each of its product's variants.
pub async fn open(
    state: &ApiState,
    intent_id: &str,
    client_secret: &str,
    now: i64,
) -> Result<(OpenIntent, Option<catalog::Product>), AppError> {
    if !is_intent_id(intent_id) || client_secret.len() > MAX_SECRET_LEN {
        return Err(invalid_intent());
    }
    let api_origin = &state.settings.api_origin;
    if let Some(intent) = state.intents.take_if(intent_id, |row| opened(row, client_secret, now)) {
        let intent = intent?;
        let product = state.products.product(&state.db, &intent.product_id, now, api_origin).await?;
        return Ok((intent, product));
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
    let rows = {
        let mut reader = crate::db::read_conn(&state.db).await?;
        sqlx::query(&sql).bind(intent_id).fetch_all(&mut reader).await?
    };
    let Some(first) = rows.first() else { return Err(invalid_intent()) };
    let intent = opened(IntentRow::from_row(first)?, client_secret, now)?;
    let has_product: i64 = first.try_get("has_product")?;
    let product = if has_product == 1 { catalog::product_from_rows(&rows, now, api_origin)? } else { None };
    Ok((intent, product))
}

/// The one answer to every intent an order may not pay.
fn invalid_intent() -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::IntentInvalid,
        "This payment has expired or is unknown. Review your order and press Pay again.",
    )
}

/// The stored intent `row` as an order pays it, when `client_secret` is its secret (compared
/// in constant time) and it has not expired.
fn opened(row: IntentRow, client_secret: &str, now: i64) -> Result<OpenIntent, AppError> {
    let secret_ok: bool = sha256_hex(client_secret.as_bytes()).as_bytes().ct_eq(row.secret_hash.as_bytes()).into();
    if !secret_ok || row.expires_at <= now {
        return Err(invalid_intent());
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
    Ok(OpenIntent {
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
    })
}

impl IntentRow {
    /// The row as [`open`] would read `row` back once written.
    fn written(row: &NewIntent) -> IntentRow {
        IntentRow {
            id: row.id.clone(),
            secret_hash: row.secret_hash.clone(),
            product_id: row.product_id.clone(),
            variant_id: row.variant_id.clone(),
            quantity: row.quantity,
            email: row.email.clone(),
            share_email: i64::from(row.share_email),
            shipping_json: row.shipping_json.clone(),
            tweet_id: row.tweet_id.clone(),
            subtotal_minor: row.subtotal_minor,
            shipping_minor: row.shipping_minor,
            tax_minor: row.tax_minor,
            total_minor: row.total_minor,
            currency: row.currency.clone(),
            expires_at: row.expires_at,
            discount_code: row.discount_code.clone(),
            discount_minor: row.discount_minor,
        }
    }

    /// An intent's row for tests of what keeps them.
    #[cfg(test)]
    pub(crate) fn example(id: &str) -> IntentRow {
        IntentRow::written(&tests::intent(id, None))
    }
}

/// Deletes intents that expired unpaid more than a day ago (a paid intent stays with its order).
pub async fn sweep_expired(db: &Db, now: i64) -> Result<u64, AppError> {
    let done = sqlx::query("DELETE FROM payment_intents WHERE expires_at < $1 AND order_id IS NULL")
        .bind(now - 24 * 3600)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn intent(id: &str, shipping_json: Option<&str>) -> NewIntent {
        NewIntent {
            id: id.to_owned(),
            secret_hash: format!("hash-of-{id}"),
            product_id: "red-tee".to_owned(),
            variant_id: "m".to_owned(),
            quantity: 2,
            email: format!("{id}@example.com"),
            share_email: true,
            shipping_json: shipping_json.map(str::to_owned),
            tweet_id: None,
            subtotal_minor: 6000,
            shipping_minor: 500,
            tax_minor: 0,
            total_minor: 6500,
            currency: "USD".to_owned(),
            created_at: 100,
            expires_at: 100 + INTENT_TTL_SECONDS,
            discount_code: None,
            discount_minor: 0,
        }
    }

    async fn stored(db: &Db, id: &str) -> Option<(String, i64, bool, Option<String>, i64)> {
        sqlx::query_as(
            "SELECT email, quantity, share_email, shipping_json, total_minor FROM payment_intents WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(db)
        .await
        .unwrap()
    }

    /// A stored intent is paid only with its own secret and before it expires, whether it
    /// was read or kept (both go through `opened`).
    #[test]
    fn an_intent_opens_with_its_secret_until_it_expires() {
        let secret = "pi_a_secret_right";
        let mut written = intent("pi_a", None);
        written.secret_hash = sha256_hex(secret.as_bytes());
        let row = IntentRow::written(&written);
        let expires = row.expires_at;
        assert_eq!(opened(row.clone(), secret, expires - 1).unwrap().quote.total.minor, 6500);
        for (case, secret, now) in [("expired", secret, expires), ("wrong secret", "pi_a_secret_wrong", expires - 1)] {
            let error = opened(row.clone(), secret, now).err().unwrap_or_else(|| panic!("{case}: opened"));
            assert_eq!(error.into_parts().1.code, ErrorCode::IntentInvalid, "{case}");
        }
    }

    /// On PostgreSQL a batch of intents is one statement, each row with its own values; a
    /// batch with a row that cannot be written is written row by row, so only that row fails.
    #[tokio::test]
    async fn a_batch_of_intents_is_written_whole_or_row_by_row() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        let address = r#"{"name":"A B","line1":"1 Main St"}"#;
        insert_many(&db, &[intent("pi_a", Some(address)), intent("pi_b", None)]).await.unwrap();
        assert_eq!(stored(&db, "pi_a").await, Some(("pi_a@example.com".into(), 2, true, Some(address.into()), 6500)));
        assert_eq!(stored(&db, "pi_b").await.unwrap().3, None);

        // `pi_a` again clashes with the stored one.
        let answers =
            insert_rows(db.clone(), vec![intent("pi_c", None), intent("pi_a", None), intent("pi_d", None)]).await;
        assert!(answers[0].is_ok() && answers[1].is_err() && answers[2].is_ok());
        assert!(stored(&db, "pi_c").await.is_some() && stored(&db, "pi_d").await.is_some());
        assert_eq!(stored(&db, "pi_a").await.unwrap().3, Some(address.into()), "the first stays as it was");
    }
}
