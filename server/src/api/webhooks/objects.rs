//! What an event is about, read inside the transaction that emits it so the event shows the
//! change as committed.
//!
//! Order events carry the seller's view of the order ([`SellerOrder`]) under the same
//! consent rule as `seller_orders`: the buyer's email only when they agreed to share it, the
//! shipping address (which the seller needs to ship) only for physical goods, and never
//! anything of the card beyond its brand and last four digits.
//!
//! Stock events are per option (variant): that is the unit a buyer picks and stock is
//! counted in. `product_sold_out` says whether the whole product has nothing left to sell.

use super::super::seller_orders::SellerOrder;
use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// The seller's view of one order, as an order event carries it.
pub async fn order(conn: &mut crate::db::WriteTx, order_id: &str) -> Result<SellerOrder, AppError> {
    super::super::seller_orders::one(conn, order_id).await
}

/// One option's stock, the object of `product.sold_out` and `product.restocked`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StockObject {
    /// The product's id in the catalog.
    pub product_id: String,
    /// The product's title as the catalog has it now.
    pub product_title: String,
    /// The option's id within the product.
    pub variant_id: String,
    /// The option's label as the catalog has it now ("M", "VIP").
    pub variant_label: String,
    /// Units left; `null` when the option does not count stock (never runs out).
    pub stock: Option<i64>,
    /// Whether every option of the product is now sold out.
    pub product_sold_out: bool,
}

/// The option's stock as committed so far in this transaction.
pub async fn stock<C>(conn: &mut C, product_id: &str, variant_id: &str) -> Result<Option<StockObject>, AppError>
where
    C: Send + ?Sized,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row: Option<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT p.title, v.label, v.stock FROM variants v JOIN products p ON p.id = v.product_id \
         WHERE v.product_id = $1 AND v.id = $2",
    )
    .bind(product_id)
    .bind(variant_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((product_title, variant_label, stock)) = row else { return Ok(None) };
    let (left,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM variants WHERE product_id = $1 AND (stock IS NULL OR stock > 0)")
            .bind(product_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Some(StockObject {
        product_id: product_id.to_owned(),
        product_title,
        variant_id: variant_id.to_owned(),
        variant_label,
        stock,
        product_sold_out: left == 0,
    }))
}

/// The option's stock when the paid order `order_id` took its last unit: the stock is 0 and
/// the units other unpaid (pending) orders hold could not bring it back. When two orders share
/// the last units, the one paid last sold the option out; one that fails gives its units back
/// and nothing sold out. Units a catalog import left owed ([`crate::api::catalog_import`]) are
/// paid back first by a failed order's units, so only those beyond what is owed could.
pub async fn sold_out_by(conn: &mut crate::db::WriteTx, order_id: &str) -> Result<Option<StockObject>, AppError> {
    let (product_id, variant_id): (String, String) =
        sqlx::query_as("SELECT product_id, variant_id FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_one(&mut *conn)
            .await?;
    let left: Option<(Option<i64>, i64)> =
        sqlx::query_as("SELECT stock, owed FROM variants WHERE product_id = $1 AND id = $2")
            .bind(&product_id)
            .bind(&variant_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((Some(0), owed)) = left else { return Ok(None) };
    // Two of the last orders paid at once on PostgreSQL would each still see the other as
    // pending. Writing the option's row first makes the second wait for the first's commit,
    // after which its next statement sees that order paid.
    sqlx::query("UPDATE variants SET stock = stock WHERE product_id = $1 AND id = $2")
        .bind(&product_id)
        .bind(&variant_id)
        .execute(&mut *conn)
        .await?;
    let (holding,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM orders WHERE product_id = $1 AND variant_id = $2 \
         AND status = 'pending' AND holds_stock AND id <> $3",
    )
    .bind(&product_id)
    .bind(&variant_id)
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await?;
    if holding > owed {
        return Ok(None);
    }
    stock(conn, &product_id, &variant_id).await.map(|s| s.filter(|s| s.stock == Some(0)))
}
