//! Discount codes, judged and applied on the server alone.
//!
//! A code is looked at three times on one purchase: the quote (is it good for this item
//! now?), the payment intent (also: has this email used it up?), and the order, where the
//! use is *taken* in the transaction that reserves the stock ([`redeem`]), by one conditional
//! UPDATE, so fifty buyers racing for the last ten uses get exactly ten, on SQLite and across
//! PostgreSQL replicas alike. A code that went out of use between the intent and the order
//! refuses the order before anything is charged, as a field error the buyer can act on
//! (remove the code, see the full price beside Pay, pay again). A failed payment gives the
//! use back with the stock ([`give_back`]).

pub mod admin;

use super::catalog::Product;
use crate::db::Db;
use crate::error::AppError;
use tweetbuy_core::discount::normalize_code;
use tweetbuy_core::{Currency, DiscountRefusal, DiscountValue, Money};

/// A code as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DiscountCode {
    /// Upper case.
    pub code: String,
    /// What the code takes off: a whole percentage of the subtotal, or a fixed amount.
    pub value: DiscountValue,
    /// For this product only; `None` when for every product of `seller`.
    pub product_id: Option<String>,
    /// For every product of this seller; `None` when for one product.
    pub seller: Option<String>,
    /// Unix seconds; usable from then on.
    pub starts_at: Option<i64>,
    /// Unix seconds; usable until just before then.
    pub ends_at: Option<i64>,
    /// Uses in all.
    pub max_uses: Option<i64>,
    /// Uses per buyer's email.
    pub max_per_email: Option<i64>,
    /// Uses taken by orders that are paid or being paid.
    pub used: i64,
    /// Turned off by the seller: refused as unknown.
    pub active: bool,
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    code: String,
    percent_off: Option<i64>,
    amount_minor: Option<i64>,
    currency: Option<String>,
    product_id: Option<String>,
    seller_name: Option<String>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    max_uses: Option<i64>,
    max_per_email: Option<i64>,
    used: i64,
    active: i64,
}

const COLUMNS: &str = "code, percent_off, amount_minor, currency, product_id, seller_name, starts_at, ends_at, \
                       max_uses, max_per_email, used, CASE WHEN active THEN 1 ELSE 0 END AS active";

impl TryFrom<CodeRow> for DiscountCode {
    type Error = AppError;

    fn try_from(row: CodeRow) -> Result<DiscountCode, AppError> {
        let bad = || AppError::internal(format!("discount code {} is stored malformed", row.code));
        let value = match (row.percent_off, row.amount_minor, row.currency.as_deref()) {
            (Some(percent), None, None) => DiscountValue::Percent(u32::try_from(percent).map_err(|_| bad())?),
            (None, Some(minor), Some(currency)) => {
                DiscountValue::Amount(Money::new(minor, Currency::parse(currency).ok_or_else(bad)?))
            }
            _ => return Err(bad()),
        };
        Ok(DiscountCode {
            value,
            product_id: row.product_id,
            seller: row.seller_name,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            max_uses: row.max_uses,
            max_per_email: row.max_per_email,
            used: row.used,
            active: row.active != 0,
            code: row.code,
        })
    }
}

impl DiscountCode {
    /// A code for one product, active, with no window and no limits (the demo's `TWEET10`).
    pub fn for_product(code: &str, value: DiscountValue, product_id: &str) -> DiscountCode {
        DiscountCode {
            code: code.to_owned(),
            value,
            product_id: Some(product_id.to_owned()),
            seller: None,
            starts_at: None,
            ends_at: None,
            max_uses: None,
            max_per_email: None,
            used: 0,
            active: true,
        }
    }

    /// Whether this code may be used on `product` at `now`, by what is stored right now
    /// (the order takes the use itself, atomically, in [`redeem`]).
    pub fn judge(&self, product: &Product, now: i64) -> Result<(), DiscountRefusal> {
        let offer = &product.offer;
        if !self.active {
            return Err(DiscountRefusal::Unknown);
        }
        let for_product = match (&self.product_id, &self.seller) {
            (Some(id), _) => *id == offer.product_id,
            (None, Some(seller)) => *seller == offer.seller.name,
            (None, None) => false,
        };
        if !for_product {
            return Err(DiscountRefusal::NotApplicable);
        }
        self.judge_time_and_uses(now)?;
        if let DiscountValue::Amount(amount) = self.value {
            if amount.currency != offer.currency {
                return Err(DiscountRefusal::NotApplicable);
            }
        }
        Ok(())
    }

    fn judge_time_and_uses(&self, now: i64) -> Result<(), DiscountRefusal> {
        if !self.active {
            Err(DiscountRefusal::Unknown)
        } else if self.starts_at.is_some_and(|t| now < t) {
            Err(DiscountRefusal::NotStarted)
        } else if self.ends_at.is_some_and(|t| now >= t) {
            Err(DiscountRefusal::Expired)
        } else if self.max_uses.is_some_and(|max| self.used >= max) {
            Err(DiscountRefusal::UsedUp)
        } else {
            Ok(())
        }
    }
}

/// The code, as stored under its normalized form.
pub async fn find(db: &Db, code: &str) -> Result<Option<DiscountCode>, AppError> {
    let row: Option<CodeRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM discount_codes WHERE code = $1"))
        .bind(code)
        .fetch_optional(db)
        .await?;
    row.map(DiscountCode::try_from).transpose()
}

/// Every code, newest first.
pub async fn list(db: &Db) -> Result<Vec<DiscountCode>, AppError> {
    let rows: Vec<CodeRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM discount_codes ORDER BY created_at DESC, code"))
            .fetch_all(db)
            .await?;
    rows.into_iter().map(DiscountCode::try_from).collect()
}

/// The buyer's code judged for `product` (and, with an email, that email's own uses): the
/// code to price with, or why it does not apply.
pub async fn applicable(
    db: &Db,
    raw: &str,
    product: &Product,
    email: Option<&str>,
    now: i64,
) -> Result<Result<DiscountCode, DiscountRefusal>, AppError> {
    let Ok(code) = normalize_code(raw) else { return Ok(Err(DiscountRefusal::Unknown)) };
    let Some(found) = find(db, &code).await? else { return Ok(Err(DiscountRefusal::Unknown)) };
    if let Err(refusal) = found.judge(product, now) {
        return Ok(Err(refusal));
    }
    if let (Some(limit), Some(email)) = (found.max_per_email, email) {
        let (taken,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM discount_redemptions WHERE code = $1 AND email = $2")
                .bind(&found.code)
                .bind(email.to_lowercase())
                .fetch_one(db)
                .await?;
        if taken >= limit {
            return Ok(Err(DiscountRefusal::AlreadyUsed));
        }
    }
    Ok(Ok(found))
}

/// Takes one use of `code` for an order, inside the transaction that reserves its stock.
///
/// The use is one conditional UPDATE (still active, in its window, a use left), so two
/// orders cannot both take the last use: on PostgreSQL the second waits for the first's
/// commit on the code's row and then finds none left; on SQLite the transaction holds the
/// write gate. The per-email count is read after that UPDATE, under the same row lock.
/// `Ok(Err(_))`: refused; the caller rolls the transaction back.
pub async fn redeem(
    conn: &mut crate::db::WriteTx,
    code: &str,
    order_id: &str,
    email: &str,
    now: i64,
) -> Result<Result<(), DiscountRefusal>, sqlx::Error> {
    let taken = sqlx::query(
        "UPDATE discount_codes SET used = used + 1 WHERE code = $1 AND active \
         AND (starts_at IS NULL OR starts_at <= $2) AND (ends_at IS NULL OR ends_at > $2) \
         AND (max_uses IS NULL OR used < max_uses)",
    )
    .bind(code)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() != 1 {
        let row: Option<CodeRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM discount_codes WHERE code = $1"))
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?;
        let why = row
            .and_then(|r| DiscountCode::try_from(r).ok())
            .map_or(DiscountRefusal::Unknown, |c| c.judge_time_and_uses(now).err().unwrap_or(DiscountRefusal::UsedUp));
        return Ok(Err(why));
    }
    let email = email.to_lowercase();
    let (limit,): (Option<i64>,) = sqlx::query_as("SELECT max_per_email FROM discount_codes WHERE code = $1")
        .bind(code)
        .fetch_one(&mut *conn)
        .await?;
    if let Some(limit) = limit {
        let (before,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM discount_redemptions WHERE code = $1 AND email = $2")
                .bind(code)
                .bind(&email)
                .fetch_one(&mut *conn)
                .await?;
        if before >= limit {
            return Ok(Err(DiscountRefusal::AlreadyUsed));
        }
    }
    sqlx::query("INSERT INTO discount_redemptions (order_id, code, email, created_at) VALUES ($1, $2, $3, $4)")
        .bind(order_id)
        .bind(code)
        .bind(&email)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(Ok(()))
}

/// Gives back the use an order took, if it took one: with its stock, when its payment
/// failed or its token was refused.
pub async fn give_back<C>(conn: &mut C, order_id: &str) -> Result<(), sqlx::Error>
where
    C: Send + ?Sized,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE discount_codes SET used = used - 1 \
         WHERE code = (SELECT code FROM discount_redemptions WHERE order_id = $1)",
    )
    .bind(order_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM discount_redemptions WHERE order_id = $1").bind(order_id).execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::testing::tee as offer;

    fn product() -> Product {
        Product { offer: offer(), shipping: Money::new(500, Currency::USD), sale_starts_at: None, rollout_share: 100 }
    }

    fn code() -> DiscountCode {
        DiscountCode {
            starts_at: Some(100),
            ends_at: Some(200),
            max_uses: Some(2),
            ..DiscountCode::for_product("TWEET10", DiscountValue::Percent(10), &offer().product_id)
        }
    }

    #[test]
    fn a_code_is_judged_by_item_time_uses_and_currency() {
        let p = product();
        assert_eq!(code().judge(&p, 100), Ok(()));
        assert_eq!(code().judge(&p, 99), Err(DiscountRefusal::NotStarted));
        assert_eq!(code().judge(&p, 200), Err(DiscountRefusal::Expired));
        assert_eq!(DiscountCode { used: 2, ..code() }.judge(&p, 150), Err(DiscountRefusal::UsedUp));
        assert_eq!(DiscountCode { active: false, ..code() }.judge(&p, 150), Err(DiscountRefusal::Unknown));
        let other = DiscountCode { product_id: Some("other".into()), ..code() };
        assert_eq!(other.judge(&p, 150), Err(DiscountRefusal::NotApplicable));
        let sellers = DiscountCode { product_id: None, seller: Some(p.offer.seller.name.clone()), ..code() };
        assert_eq!(sellers.judge(&p, 150), Ok(()));
        let others = DiscountCode { product_id: None, seller: Some("Someone else".into()), ..code() };
        assert_eq!(others.judge(&p, 150), Err(DiscountRefusal::NotApplicable));
        let euros = DiscountCode { value: DiscountValue::Amount(Money::new(500, Currency::EUR)), ..code() };
        assert_eq!(euros.judge(&p, 150), Err(DiscountRefusal::NotApplicable));
    }
}
