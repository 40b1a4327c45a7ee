//! The seller's discount codes through the admin api (bearer admin key, see
//! [`crate::api::admin`]) and the command line, which share [`NewDiscount`] and [`create`]:
//!
//! - `POST /admin/v1/discounts`: create a code;
//! - `GET /admin/v1/discounts`: every code with its uses;
//! - `POST /admin/v1/discounts/{code}/disable`: stop a code (orders already paid keep it).

use super::{find, list, DiscountCode};
use crate::api::admin::AdminAuth;
use crate::api::ApiState;
use crate::clock;
use crate::db::{begin_write, Db};
use crate::error::AppError;
use crate::extract::Path;
use crate::json::JsonBody;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tweetbuy_core::catalog::unix_seconds_problem;
use tweetbuy_core::discount::normalize_code;
use tweetbuy_core::{Currency, DiscountValue, FieldError, Money};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/admin/v1/discounts", get(list_codes).post(create_code))
        .route("/admin/v1/discounts/{code}/disable", post(disable_code))
}

/// A code to create: a percentage or an amount off, for one product or every product of one
/// seller, with an optional window and limits.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct NewDiscount {
    /// The code buyers type: 3 to 32 letters, digits, `-` or `_` (stored upper case).
    #[arg(long)]
    pub code: String,
    /// A whole percentage off the subtotal, 1 to 100.
    #[arg(long = "percent")]
    #[serde(default)]
    pub percent_off: Option<u32>,
    /// A fixed amount off, in minor units (cents) of `currency`.
    #[arg(long = "amount-minor")]
    #[serde(default)]
    pub amount_off_minor: Option<i64>,
    /// The currency of `amount_off_minor` (USD, EUR, GBP).
    #[arg(long)]
    #[serde(default)]
    pub currency: Option<String>,
    /// For this product only.
    #[arg(long = "product")]
    #[serde(default)]
    pub product_id: Option<String>,
    /// For every product of this seller (the seller's name as in the catalog).
    #[arg(long)]
    #[serde(default)]
    pub seller: Option<String>,
    /// Usable from this time on (Unix seconds).
    #[arg(long)]
    #[serde(default)]
    pub starts_at: Option<i64>,
    /// Usable until this time (Unix seconds).
    #[arg(long)]
    #[serde(default)]
    pub ends_at: Option<i64>,
    /// At most this many orders in all.
    #[arg(long)]
    #[serde(default)]
    pub max_uses: Option<u32>,
    /// At most this many orders per buyer's email.
    #[arg(long)]
    #[serde(default)]
    pub max_per_email: Option<u32>,
}

impl NewDiscount {
    /// The code as stored, or every field error at once.
    fn check(&self) -> Result<DiscountCode, Vec<FieldError>> {
        let mut errors = Vec::new();
        let invalid = |field: &str, message: &str| FieldError::new(field, "invalid", message);
        let code = normalize_code(&self.code)
            .map_err(|_| errors.push(invalid("code", "3 to 32 letters, digits, - or _.")))
            .unwrap_or_default();
        let value = match (self.percent_off, self.amount_off_minor, self.currency.as_deref()) {
            (Some(p), None, None) => Some(DiscountValue::Percent(p)),
            (None, Some(minor), Some(currency)) => match Currency::parse(currency) {
                Some(currency) => Some(DiscountValue::Amount(Money::new(minor, currency))),
                None => {
                    errors.push(invalid("currency", "One of USD, EUR, GBP."));
                    None
                }
            },
            (None, Some(_), None) => {
                errors.push(invalid("currency", "A fixed amount needs its currency."));
                None
            }
            _ => {
                errors.push(invalid("percent_off", "Give either percent_off, or amount_off_minor with currency."));
                None
            }
        };
        if value.is_some_and(|v| !v.is_valid()) {
            let field = if self.percent_off.is_some() { "percent_off" } else { "amount_off_minor" };
            let most = tweetbuy_core::catalog::MAX_PRICE_MINOR;
            errors.push(invalid(
                field,
                &format!("A percentage from 1 to 100, or an amount from 1 to {most} (minor units)."),
            ));
        }
        if self.product_id.is_some() == self.seller.is_some() {
            errors.push(invalid("product_id", "Give either product_id (one product) or seller (all of theirs)."));
        }
        for (field, time) in [("starts_at", self.starts_at), ("ends_at", self.ends_at)] {
            if let Some(problem) = time.and_then(unix_seconds_problem) {
                errors.push(invalid(field, &format!("{problem}.")));
            }
        }
        if let (Some(start), Some(end)) = (self.starts_at, self.ends_at) {
            if end <= start {
                errors.push(invalid("ends_at", "Must be after starts_at."));
            }
        }
        if self.max_uses == Some(0) {
            errors.push(invalid("max_uses", "At least 1."));
        }
        if self.max_per_email == Some(0) {
            errors.push(invalid("max_per_email", "At least 1."));
        }
        match value {
            Some(value) if errors.is_empty() => Ok(DiscountCode {
                code,
                value,
                product_id: self.product_id.clone(),
                seller: self.seller.clone(),
                starts_at: self.starts_at,
                ends_at: self.ends_at,
                max_uses: self.max_uses.map(i64::from),
                max_per_email: self.max_per_email.map(i64::from),
                used: 0,
                active: true,
            }),
            _ => Err(errors),
        }
    }
}

/// Creates a code, checked whole: every problem at once, its own fields' and what the
/// database says (a code that exists, a product or seller the catalog does not have, an end
/// that has passed), each a field error, and nothing is written.
pub async fn create(db: &Db, new: &NewDiscount) -> Result<DiscountCode, AppError> {
    let checked = new.check();
    let mut errors = checked.as_ref().err().cloned().unwrap_or_default();
    let now = clock::now();
    if new.ends_at.is_some_and(|end| end <= now) && !errors.iter().any(|e| e.field == "ends_at") {
        errors.push(FieldError::new("ends_at", "invalid", "This time has passed."));
    }
    // Read first, outside the write lock; `insert_in` checks the scope again in its transaction.
    let mut conn = db.acquire().await?;
    if let Ok(code) = normalize_code(&new.code) {
        let taken: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM discount_codes WHERE code = $1")
            .bind(&code)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_some() {
            errors.push(FieldError::new("code", "taken", "This code already exists."));
        }
    }
    if new.product_id.is_some() != new.seller.is_some() {
        let scope = (new.product_id.as_deref(), new.seller.as_deref());
        let currency = checked.as_ref().ok().and_then(|c| amount_currency(c.value));
        errors.extend(scope_problem(&mut *conn, scope, currency).await?);
    }
    drop(conn);
    let code = match checked {
        Ok(code) if errors.is_empty() => code,
        _ => return Err(AppError::validation(errors)),
    };
    let mut tx = begin_write(db).await?;
    if !insert_in(&mut tx, &code, now).await? {
        return Err(AppError::validation(vec![FieldError::new("code", "taken", "This code already exists.")]));
    }
    tx.commit().await?;
    Ok(code)
}

/// The currency of an amount off; none for a percentage.
fn amount_currency(value: DiscountValue) -> Option<Currency> {
    match value {
        DiscountValue::Amount(amount) => Some(amount.currency),
        DiscountValue::Percent(_) => None,
    }
}

/// What the catalog says against a code for `scope` (a product's id, or a seller's name):
/// it has no such product or seller, or (an amount off in `amount_currency`) none of their
/// products is priced in that currency, so every checkout would refuse the code.
async fn scope_problem<C>(
    conn: &mut C,
    scope: (Option<&str>, Option<&str>),
    amount_currency: Option<Currency>,
) -> Result<Option<FieldError>, AppError>
where
    C: Send + ?Sized,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (field, unknown, currencies): (&str, &str, Vec<(String,)>) = match scope {
        (Some(id), _) => (
            "product_id",
            "The catalog has no such product.",
            sqlx::query_as("SELECT currency FROM products WHERE id = $1").bind(id).fetch_all(&mut *conn).await?,
        ),
        (None, seller) => (
            "seller",
            "The catalog has no products of this seller.",
            sqlx::query_as("SELECT currency FROM products WHERE seller_name = $1")
                .bind(seller)
                .fetch_all(&mut *conn)
                .await?,
        ),
    };
    if currencies.is_empty() {
        return Ok(Some(FieldError::new(field, "unknown", unknown)));
    }
    match amount_currency {
        Some(currency) if !currencies.iter().any(|(c,)| Currency::parse(c) == Some(currency)) => {
            let message = format!("No product this code is for is priced in {}.", currency.code());
            Ok(Some(FieldError::new("currency", "not_applicable", message)))
        }
        _ => Ok(None),
    }
}

/// Inserts a checked code in an open transaction (the demo seed's, or [`create`]'s); false
/// when a code of that name exists (a concurrent seeder's, say), which is left as it is.
pub(crate) async fn insert_in<C>(conn: &mut C, code: &DiscountCode, now: i64) -> Result<bool, AppError>
where
    C: Send + ?Sized,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let scope = (code.product_id.as_deref(), code.seller.as_deref());
    if let Some(problem) = scope_problem(&mut *conn, scope, amount_currency(code.value)).await? {
        return Err(AppError::validation(vec![problem]));
    }
    let (percent, amount, currency) = match code.value {
        DiscountValue::Percent(p) => (Some(i64::from(p)), None, None),
        DiscountValue::Amount(m) => (None, Some(m.minor), Some(m.currency.code())),
    };
    let inserted = sqlx::query(
        "INSERT INTO discount_codes (code, percent_off, amount_minor, currency, product_id, seller_name, starts_at, \
         ends_at, max_uses, max_per_email, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (code) DO NOTHING",
    )
    .bind(&code.code)
    .bind(percent)
    .bind(amount)
    .bind(currency)
    .bind(code.product_id.as_deref())
    .bind(code.seller.as_deref())
    .bind(code.starts_at)
    .bind(code.ends_at)
    .bind(code.max_uses)
    .bind(code.max_per_email)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Stops a code from being used again; `None` when there is no such code.
pub async fn disable(db: &Db, raw: &str) -> Result<Option<DiscountCode>, AppError> {
    let Ok(code) = normalize_code(raw) else { return Ok(None) };
    let mut tx = begin_write(db).await?;
    sqlx::query("UPDATE discount_codes SET active = FALSE WHERE code = $1").bind(&code).execute(&mut tx).await?;
    tx.commit().await?;
    find(db, &code).await
}

/// Creates a discount code.
#[utoipa::path(
    post,
    path = "/admin/v1/discounts",
    tag = "admin",
    security(("admin_key" = [])),
    request_body(content = NewDiscount, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = DiscountCode),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed`: one `fields` entry per problem (`code` `taken` when it exists).", body = tweetbuy_core::ApiError),
    )
)]
async fn create_code(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    JsonBody(new): JsonBody<NewDiscount>,
) -> Result<Response, AppError> {
    let code = create(&state.db, &new).await?;
    Ok((StatusCode::CREATED, Json(code)).into_response())
}

/// Every discount code, newest first, with its uses.
#[utoipa::path(
    get,
    path = "/admin/v1/discounts",
    tag = "admin",
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "Every code (`Cache-Control: no-store`).", body = Vec<DiscountCode>),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
    )
)]
async fn list_codes(State(state): State<ApiState>, _auth: AdminAuth) -> Result<Response, AppError> {
    Ok(([(CACHE_CONTROL, "no-store")], Json(list(&state.db).await?)).into_response())
}

/// Stops a code: later quotes, intents and orders refuse it as unknown.
#[utoipa::path(
    post,
    path = "/admin/v1/discounts/{code}/disable",
    tag = "admin",
    security(("admin_key" = [])),
    params(("code" = String, Path, description = "The code, in any case.", example = "TWEET10")),
    responses(
        (status = 200, description = "Disabled.", body = DiscountCode),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such code.", body = tweetbuy_core::ApiError),
    )
)]
async fn disable_code(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let code = disable(&state.db, &code).await?.ok_or_else(|| AppError::not_found("There is no such code."))?;
    Ok(Json(code).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ten() -> NewDiscount {
        NewDiscount {
            code: " tweet10".into(),
            percent_off: Some(10),
            product_id: Some("red-tee".into()),
            ..NewDiscount::default()
        }
    }

    fn fields(new: NewDiscount) -> Vec<String> {
        new.check().unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_code_is_normalized() {
        let code = ten().check().unwrap();
        assert_eq!((code.code.as_str(), code.value), ("TWEET10", DiscountValue::Percent(10)));
    }

    #[test]
    fn every_problem_is_told_at_once() {
        let bad = NewDiscount {
            code: "x".into(),
            percent_off: Some(0),
            seller: Some("(RED)".into()),
            starts_at: Some(10),
            ends_at: Some(10),
            max_uses: Some(0),
            max_per_email: Some(0),
            ..ten()
        };
        assert_eq!(fields(bad), ["code", "percent_off", "product_id", "ends_at", "max_uses", "max_per_email"]);
        let both = NewDiscount { amount_off_minor: Some(100), currency: Some("USD".into()), ..ten() };
        assert_eq!(fields(both), ["percent_off"]);
        let no_currency = NewDiscount { percent_off: None, amount_off_minor: Some(100), ..ten() };
        assert_eq!(fields(no_currency), ["currency"]);
        let yen = NewDiscount { percent_off: None, amount_off_minor: Some(100), currency: Some("JPY".into()), ..ten() };
        assert_eq!(fields(yen), ["currency"]);
        let free_money =
            NewDiscount { percent_off: None, amount_off_minor: Some(0), currency: Some("USD".into()), ..ten() };
        assert_eq!(fields(free_money), ["amount_off_minor"]);
    }
}
