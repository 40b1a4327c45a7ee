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
use crate::db::{from_text, to_text};
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use tweetbuy_core::{CardBrand, ShippingAddress};

#[derive(FromRow)]
struct OrderRow {
    order_number: String,
    id: String,
    created_at: i64,
    status: String,
    product_id: String,
    title: String,
    variant_id: String,
    label: Option<String>,
    quantity: i64,
    currency: String,
    subtotal_minor: i64,
    shipping_minor: i64,
    tax_minor: i64,
    total_minor: i64,
    card_brand: Option<String>,
    card_last4: Option<String>,
    shipping_json: Option<String>,
    /// 0/1: sqlx's Any driver cannot decode SQLite's BOOLEAN.
    share_email: i64,
    email: String,
    tweet_id: Option<String>,
}

/// The seller's view of one order, as an order event carries it.
pub async fn order(conn: &mut AnyConnection, order_id: &str) -> Result<SellerOrder, AppError> {
    let row: OrderRow = sqlx::query_as(
        "SELECT o.order_number, o.id, o.created_at, o.status, o.product_id, p.title, o.variant_id, v.label, \
         o.quantity, o.currency, o.subtotal_minor, o.shipping_minor, o.tax_minor, o.total_minor, o.card_brand, \
         o.card_last4, o.shipping_json, CASE WHEN o.share_email THEN 1 ELSE 0 END AS share_email, o.email, o.tweet_id \
         FROM orders o JOIN products p ON p.id = o.product_id \
         LEFT JOIN variants v ON v.product_id = o.product_id AND v.id = o.variant_id WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_one(conn)
    .await?;
    let shipping = row
        .shipping_json
        .as_deref()
        .map(serde_json::from_str::<ShippingAddress>)
        .transpose()
        .map_err(|e| AppError::internal(format!("stored shipping address: {e}")))?;
    let card_brand = row.card_brand.as_deref().map(from_text::<CardBrand>).transpose()?.map(|b| to_text(&b));
    Ok(SellerOrder {
        order_number: row.order_number,
        order_id: row.id,
        created_at: row.created_at,
        status: row.status,
        product_id: row.product_id,
        product_title: row.title,
        variant_label: row.label.unwrap_or_else(|| row.variant_id.clone()),
        variant_id: row.variant_id,
        quantity: row.quantity,
        currency: row.currency,
        subtotal_minor: row.subtotal_minor,
        shipping_minor: row.shipping_minor,
        tax_minor: row.tax_minor,
        total_minor: row.total_minor,
        card_brand,
        card_last4: row.card_last4,
        shipping,
        email: (row.share_email != 0).then_some(row.email),
        tweet_id: row.tweet_id,
    })
}

/// One option's stock, the object of `product.sold_out` and `product.restocked`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StockObject {
    pub product_id: String,
    pub product_title: String,
    pub variant_id: String,
    pub variant_label: String,
    /// Units left; `null` when the option does not count stock (never runs out).
    pub stock: Option<i64>,
    /// Whether every option of the product is now sold out.
    pub product_sold_out: bool,
}

/// The option's stock as committed so far in this transaction.
pub async fn stock(
    conn: &mut AnyConnection,
    product_id: &str,
    variant_id: &str,
) -> Result<Option<StockObject>, AppError> {
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
/// no other unpaid (pending) order still holds units of it. When two orders share the last
/// units, the one paid last sold the option out; one that fails gives its units back and
/// nothing sold out.
pub async fn sold_out_by(conn: &mut AnyConnection, order_id: &str) -> Result<Option<StockObject>, AppError> {
    let (product_id, variant_id): (String, String) =
        sqlx::query_as("SELECT product_id, variant_id FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_one(&mut *conn)
            .await?;
    let left: Option<(Option<i64>,)> = sqlx::query_as("SELECT stock FROM variants WHERE product_id = $1 AND id = $2")
        .bind(&product_id)
        .bind(&variant_id)
        .fetch_optional(&mut *conn)
        .await?;
    if !matches!(left, Some((Some(0),))) {
        return Ok(None);
    }
    // Two of the last orders paid at once on PostgreSQL would each still see the other as
    // pending. Writing the option's row first makes the second wait for the first's commit,
    // after which its next statement sees that order paid.
    sqlx::query("UPDATE variants SET stock = stock WHERE product_id = $1 AND id = $2")
        .bind(&product_id)
        .bind(&variant_id)
        .execute(&mut *conn)
        .await?;
    let (holding,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM orders WHERE product_id = $1 AND variant_id = $2 AND status = 'pending' AND id <> $3",
    )
    .bind(&product_id)
    .bind(&variant_id)
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await?;
    if holding > 0 {
        return Ok(None);
    }
    stock(conn, &product_id, &variant_id).await.map(|s| s.filter(|s| s.stock == Some(0)))
}
