//! The seller's view of orders, for `tweetbuy-server orders list|export` and the admin api.
//!
//! It holds what a seller needs to fulfil an order: items, amount, card brand and last four,
//! the shipping address of physical goods, and the buyer's email **only** when the buyer
//! ticked "share my email with the seller". It never holds a card token or number (the api
//! does not store them in the first place).

use crate::db::{from_text, Db};
use crate::error::AppError;
use serde::Serialize;
use sqlx::FromRow;
use tweetbuy_core::{CardBrand, ShippingAddress};

/// One order as the seller sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SellerOrder {
    /// The number the buyer's receipt shows (`TB-7K3Q9X`).
    pub order_number: String,
    /// The order's id (`ord_…`).
    pub order_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// `pending`, `paid`, `declined` or `failed`; a paid order that was given money back is
    /// `partially_refunded`, `refunded` (its whole total) or `cancelled`.
    pub status: String,
    /// The product's id in the catalog.
    pub product_id: String,
    /// The product's title as the buyer bought it (a later import's renaming is not shown).
    pub product_title: String,
    /// The variant bought, by its id within the product.
    pub variant_id: String,
    /// The variant's label as the buyer bought it; its id when neither the order nor the
    /// catalog has one.
    pub variant_label: String,
    /// Units bought.
    pub quantity: i64,
    /// ISO 4217.
    pub currency: String,
    /// Unit price × quantity, in minor units of `currency`, before the discount.
    pub subtotal_minor: i64,
    /// The discount code the order used, if any.
    pub discount_code: Option<String>,
    /// What the code took off the subtotal (0 without one).
    pub discount_minor: i64,
    /// The shipping fee, in minor units; 0 when nothing ships or shipping is free.
    pub shipping_minor: i64,
    /// Tax on the discounted subtotal, in minor units; 0 when nothing ships.
    pub tax_minor: i64,
    /// What the buyer pays, in minor units: subtotal − discount + shipping + tax.
    pub total_minor: i64,
    /// The paying card's brand (`visa`, …), once the vault has answered; `None` before.
    pub card_brand: Option<String>,
    /// The paying card's last four digits, once the vault has answered.
    pub card_last4: Option<String>,
    /// Physical goods only.
    pub shipping: Option<ShippingAddress>,
    /// Only when the buyer agreed to share it.
    pub email: Option<String>,
    /// The tweet whose embed the order was placed from, when the widget said.
    pub tweet_id: Option<String>,
    /// What its succeeded refunds gave back, in minor units (0 without any).
    pub refunded_minor: i64,
    /// What its refunds still waiting for the vault's answer give back, in minor units (0
    /// without any): set aside, not yet refunded (the refund is asked again, under its key).
    pub refund_pending_minor: i64,
    /// Unix seconds: when the seller marked it shipped.
    pub shipped_at: Option<i64>,
    /// Unix seconds: when the seller cancelled it.
    pub cancelled_at: Option<i64>,
    /// A charge the vault approved after this order had been settled without it (its
    /// payment declined meanwhile): the vault's id of that charge, which is refunded whole.
    pub late_charge_id: Option<String>,
    /// That refund: `pending` (the vault is asked again every five minutes), `refunded`, or
    /// `refused` (the vault will not: refund the buyer by hand at your payment processor).
    pub late_charge_refund: Option<String>,
}

/// What was bought and how it was paid, as an order row stores it: the seller's view and the
/// buyer's receipt both show it. Read with [`BOUGHT_COLUMNS`] [`FROM_ORDERS`].
#[derive(FromRow)]
pub(crate) struct Bought {
    pub(crate) title: String,
    pub(crate) variant_id: String,
    /// The option's label as bought; `None` when neither the order nor the catalog has one.
    pub(crate) label: Option<String>,
    pub(crate) quantity: i64,
    pub(crate) currency: String,
    pub(crate) subtotal_minor: i64,
    pub(crate) discount_code: Option<String>,
    pub(crate) discount_minor: i64,
    pub(crate) shipping_minor: i64,
    pub(crate) tax_minor: i64,
    pub(crate) total_minor: i64,
    pub(crate) card_brand: Option<String>,
    pub(crate) card_last4: Option<String>,
    pub(crate) shipping_json: Option<String>,
}

/// The columns of [`Bought`].
pub(crate) const BOUGHT_COLUMNS: &str = "COALESCE(o.bought_title, p.title) AS title, o.variant_id, \
     COALESCE(o.bought_label, v.label) AS label, o.quantity, o.currency, o.subtotal_minor, \
     o.discount_code, o.discount_minor, o.shipping_minor, o.tax_minor, o.total_minor, o.card_brand, o.card_last4, \
     o.shipping_json";

/// The orders (`o`) with their products (`p`) and variants (`v`), for [`BOUGHT_COLUMNS`].
pub(crate) const FROM_ORDERS: &str = "FROM orders o JOIN products p ON p.id = o.product_id \
     LEFT JOIN variants v ON v.product_id = o.product_id AND v.id = o.variant_id";

#[derive(FromRow)]
struct Row {
    order_number: String,
    id: String,
    created_at: i64,
    status: String,
    product_id: String,
    #[sqlx(flatten)]
    bought: Bought,
    /// 0/1: sqlx's Any driver cannot decode SQLite's BOOLEAN.
    share_email: i64,
    email: String,
    tweet_id: Option<String>,
    refunded_minor: i64,
    shipped_at: Option<i64>,
    cancelled_at: Option<i64>,
    late_charge_id: Option<String>,
    late_charge_refund: Option<String>,
    refund_pending_minor: i64,
}

/// The seller's view's columns, for one order or all.
fn select() -> String {
    format!(
        "SELECT o.order_number, o.id, o.created_at, o.status, o.product_id, {BOUGHT_COLUMNS}, \
         CASE WHEN o.share_email THEN 1 ELSE 0 END AS share_email, o.email, o.tweet_id, \
         {} AS refunded_minor, o.shipped_at, o.cancelled_at, s.charge_id AS late_charge_id, \
         s.status AS late_charge_refund, {} AS refund_pending_minor \
         {FROM_ORDERS} LEFT JOIN stray_charges s ON s.order_id = o.id",
        super::refunds::REFUNDED_SQL,
        super::refunds::PENDING_REFUNDS_SQL
    )
}

/// Every order, newest first.
pub async fn list(db: &Db) -> Result<Vec<SellerOrder>, AppError> {
    let rows: Vec<Row> =
        sqlx::query_as(&format!("{} ORDER BY o.created_at DESC, o.order_number", select())).fetch_all(db).await?;
    rows.into_iter().map(seller_view).collect()
}

/// One order, as committed so far in the transaction of `conn` (an event about it reads it
/// there, so the event shows the change it reports).
pub async fn one<C>(conn: &mut C, order_id: &str) -> Result<SellerOrder, AppError>
where
    C: Send + ?Sized,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row: Row = sqlx::query_as(&format!("{} WHERE o.id = $1", select())).bind(order_id).fetch_one(conn).await?;
    seller_view(row)
}

fn seller_view(row: Row) -> Result<SellerOrder, AppError> {
    let shipping = row
        .bought
        .shipping_json
        .as_deref()
        .map(serde_json::from_str::<ShippingAddress>)
        .transpose()
        .map_err(|e| AppError::internal(format!("stored shipping address: {e}")))?;
    // Normalized through the enum so only known brands leave the server.
    let card_brand =
        row.bought.card_brand.as_deref().map(from_text::<CardBrand>).transpose()?.map(|b| crate::db::to_text(&b));
    let status = status_of(&row.status, row.bought.total_minor, row.refunded_minor, row.cancelled_at.is_some());
    Ok(SellerOrder {
        order_number: row.order_number,
        order_id: row.id,
        created_at: row.created_at,
        status,
        product_id: row.product_id,
        product_title: row.bought.title,
        variant_label: row.bought.label.unwrap_or_else(|| row.bought.variant_id.clone()),
        variant_id: row.bought.variant_id,
        quantity: row.bought.quantity,
        currency: row.bought.currency,
        subtotal_minor: row.bought.subtotal_minor,
        discount_code: row.bought.discount_code,
        discount_minor: row.bought.discount_minor,
        shipping_minor: row.bought.shipping_minor,
        tax_minor: row.bought.tax_minor,
        total_minor: row.bought.total_minor,
        card_brand,
        card_last4: row.bought.card_last4,
        shipping,
        email: (row.share_email != 0).then_some(row.email),
        tweet_id: row.tweet_id,
        refunded_minor: row.refunded_minor,
        refund_pending_minor: row.refund_pending_minor,
        shipped_at: row.shipped_at,
        cancelled_at: row.cancelled_at,
        late_charge_id: row.late_charge_id,
        late_charge_refund: row.late_charge_refund,
    })
}

/// The status the seller reads: the payment's, or for a paid order what was given back.
fn status_of(stored: &str, total_minor: i64, refunded_minor: i64, cancelled: bool) -> String {
    match stored {
        "paid" if cancelled => "cancelled",
        "paid" if refunded_minor > 0 && refunded_minor >= total_minor => "refunded",
        "paid" if refunded_minor > 0 => "partially_refunded",
        other => other,
    }
    .to_owned()
}

/// The CSV header, in column order.
pub const CSV_HEADER: &str = "order_number,order_id,created_at,status,product_id,product_title,variant_id,\
variant_label,quantity,currency,subtotal_minor,discount_code,discount_minor,shipping_minor,tax_minor,total_minor,card_brand,card_last4,\
ship_name,ship_line1,ship_line2,ship_city,ship_region,ship_postal_code,ship_country,email,tweet_id,refunded_minor,\
shipped_at,cancelled_at,late_charge_id,late_charge_refund,refund_pending_minor";

/// Orders as CSV (RFC 4180: fields quoted when they hold a comma, quote or line break).
pub fn to_csv(orders: &[SellerOrder]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for o in orders {
        let ship = o.shipping.as_ref();
        let field = |f: fn(&ShippingAddress) -> &str| ship.map(f).unwrap_or_default().to_owned();
        let cells = [
            o.order_number.clone(),
            o.order_id.clone(),
            o.created_at.to_string(),
            o.status.clone(),
            o.product_id.clone(),
            o.product_title.clone(),
            o.variant_id.clone(),
            o.variant_label.clone(),
            o.quantity.to_string(),
            o.currency.clone(),
            o.subtotal_minor.to_string(),
            o.discount_code.clone().unwrap_or_default(),
            o.discount_minor.to_string(),
            o.shipping_minor.to_string(),
            o.tax_minor.to_string(),
            o.total_minor.to_string(),
            o.card_brand.clone().unwrap_or_default(),
            o.card_last4.clone().unwrap_or_default(),
            field(|a| &a.name),
            field(|a| &a.line1),
            field(|a| &a.line2),
            field(|a| &a.city),
            field(|a| &a.region),
            field(|a| &a.postal_code),
            field(|a| &a.country),
            o.email.clone().unwrap_or_default(),
            o.tweet_id.clone().unwrap_or_default(),
            o.refunded_minor.to_string(),
            o.shipped_at.map(|t| t.to_string()).unwrap_or_default(),
            o.cancelled_at.map(|t| t.to_string()).unwrap_or_default(),
            o.late_charge_id.clone().unwrap_or_default(),
            o.late_charge_refund.clone().unwrap_or_default(),
            o.refund_pending_minor.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV cell. A leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does
/// not run a buyer-typed name as a formula.
pub fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn a_paid_order_reads_as_what_was_given_back() {
        assert_eq!(status_of("paid", 2500, 0, false), "paid");
        assert_eq!(status_of("paid", 2500, 1000, false), "partially_refunded");
        assert_eq!(status_of("paid", 2500, 2500, false), "refunded");
        assert_eq!(status_of("paid", 2500, 2500, true), "cancelled");
        assert_eq!(status_of("paid", 2500, 0, true), "cancelled", "cancelled after a full refund");
        assert_eq!(status_of("declined", 2500, 0, false), "declined");
        assert_eq!(status_of("pending", 2500, 0, false), "pending");
    }
}
