//! Reading products and variants into the wire [`Offer`], with availability decided by the
//! server's clock and the stock at the moment of the request.

use crate::db::{from_text, placeholders, Db};
use crate::error::AppError;
use sqlx::FromRow;
use std::collections::HashMap;
use tweetbuy_core::catalog::Image;
use tweetbuy_core::{Availability, Country, Currency, Money, Offer, Seller, TweetId, Variant};

/// An offer plus what the server keeps to itself: the shipping fee and sale start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    /// The product as the widget is sent it, its availability decided at the read.
    pub offer: Offer,
    /// Flat shipping per order, for physical goods.
    pub shipping: Money,
    /// When the sale opens, Unix seconds (`None`: open since the import). The widget is told
    /// only that it has not started ([`tweetbuy_core::Availability::NotStarted`]).
    pub sale_starts_at: Option<i64>,
    /// The share of visitors (0 to 100) shown this offer; see [`super::rollout`].
    pub rollout_share: u8,
}

#[derive(Clone, FromRow)]
struct ProductRow {
    id: String,
    tweet_id: String,
    title: String,
    description: String,
    seller_name: String,
    seller_kind: String,
    kind: String,
    currency: String,
    /// Read as 0/1: sqlx's Any driver cannot decode SQLite's BOOLEAN.
    limited_edition: i64,
    sale_starts_at: Option<i64>,
    sale_ends_at: Option<i64>,
    ships_to: String,
    shipping_minor: i64,
    max_per_order: i64,
    delivery: Option<String>,
    image_alt: String,
    rollout_share: i64,
    lang: Option<String>,
}

#[derive(FromRow)]
struct VariantRow {
    product_id: String,
    id: String,
    label: String,
    price_minor: i64,
    stock: Option<i64>,
}

/// A product row joined with one of its variants: the variant's columns are NULL for a
/// product without variants.
#[derive(Clone, FromRow)]
pub(crate) struct ProductVariantRow {
    #[sqlx(flatten)]
    product: ProductRow,
    variant_id: Option<String>,
    variant_label: Option<String>,
    variant_price_minor: Option<i64>,
    variant_stock: Option<i64>,
}

/// [`ProductRow`]'s columns, for a query that names the `products` table `p`.
const PRODUCT_COLUMNS: &str = "p.id, p.tweet_id, p.title, p.description, p.seller_name, p.seller_kind, p.kind, \
     p.currency, CASE WHEN p.limited_edition THEN 1 ELSE 0 END AS limited_edition, p.sale_starts_at, p.sale_ends_at, \
     p.ships_to, p.shipping_minor, p.max_per_order, p.delivery, p.image_alt, p.rollout_share, p.lang";

/// Whether an offer can be bought at `now`: the sale window first, then stock. A product
/// with any variant that does not count stock is never sold out.
pub fn availability(now: i64, starts: Option<i64>, ends: Option<i64>, variants: &[Variant]) -> Availability {
    if starts.is_some_and(|s| now < s) {
        Availability::NotStarted
    } else if ends.is_some_and(|e| now >= e) {
        Availability::SaleEnded
    } else if !variants.is_empty() && variants.iter().all(|v| v.stock == Some(0)) {
        Availability::SoldOut
    } else {
        Availability::Available
    }
}

/// The products offered from these tweets, in the order of `tweet_ids`; each offer carries
/// the tweet it was found by (a product may be offered from several tweets).
pub async fn by_tweet_ids(
    db: &Db,
    tweet_ids: &[TweetId],
    now: i64,
    api_origin: &str,
) -> Result<Vec<Product>, AppError> {
    if tweet_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT tweet_id, product_id FROM product_tweets WHERE tweet_id IN ({})",
        placeholders(0, tweet_ids.len())
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql);
    for id in tweet_ids {
        query = query.bind(id.as_str());
    }
    let links = query.fetch_all(db).await?;
    let mut product_ids: Vec<&str> = links.iter().map(|(_, p)| p.as_str()).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let products = by_ids(db, &product_ids, now, api_origin).await?;
    let mut found = Vec::new();
    for tweet_id in tweet_ids {
        let Some((_, product_id)) = links.iter().find(|(t, _)| t == tweet_id.as_str()) else { continue };
        if let Some(product) = products.iter().find(|p| &p.offer.product_id == product_id) {
            let mut product = product.clone();
            product.offer.tweet_id = tweet_id.clone();
            found.push(product);
        }
    }
    Ok(found)
}

/// Products by id, in no particular order.
pub async fn by_ids(db: &Db, product_ids: &[&str], now: i64, api_origin: &str) -> Result<Vec<Product>, AppError> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql =
        format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id IN ({})", placeholders(0, product_ids.len()));
    let mut query = sqlx::query_as::<_, ProductRow>(&sql);
    for id in product_ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(db).await?;
    assemble(db, rows, now, api_origin).await
}

/// One product by id, with its variants and their stock as stored now.
pub async fn by_id<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    product_id: &str,
    now: i64,
    api_origin: &str,
) -> Result<Option<Product>, AppError> {
    // No product id holds a control character; PostgreSQL would refuse a NUL in the query.
    if !tweetbuy_core::text::is_single_line(product_id) {
        return Ok(None);
    }
    assemble_one(rows_by_id(db, product_id).await?, now, api_origin)
}

/// The rows of [`by_id`]'s query: the product beside each of its variants (none when there
/// is no such product).
pub(crate) async fn rows_by_id<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    product_id: &str,
) -> Result<Vec<ProductVariantRow>, AppError> {
    Ok(sqlx::query_as(&product_sql("$1")).bind(product_id).fetch_all(db).await?)
}

/// The query of [`by_id`], for the product whose id is `id` (a placeholder or a subquery):
/// the product and its variants in one query, since the buyer's intent and order each read
/// one product, and a query saved is a round trip saved.
pub(crate) fn product_sql(id: &str) -> String {
    format!(
        "SELECT {} FROM products p LEFT JOIN variants v ON v.product_id = p.id WHERE p.id = {id} ORDER BY v.position",
        product_columns()
    )
}

/// The columns of a [`product_sql`] query, for a query that joins `products p` and
/// `variants v` to other tables; [`product_from_rows`] reads them.
pub(crate) fn product_columns() -> String {
    format!(
        "{PRODUCT_COLUMNS}, v.id AS variant_id, v.label AS variant_label, v.price_minor AS variant_price_minor, \
         v.stock AS variant_stock"
    )
}

/// The product in the rows of a [`product_sql`] query, if it found one.
pub(crate) fn product_from_rows(
    rows: &[sqlx::any::AnyRow],
    now: i64,
    api_origin: &str,
) -> Result<Option<Product>, AppError> {
    let rows = rows.iter().map(ProductVariantRow::from_row).collect::<Result<Vec<_>, _>>()?;
    assemble_one(rows, now, api_origin)
}

pub(crate) fn assemble_one(
    rows: Vec<ProductVariantRow>,
    now: i64,
    api_origin: &str,
) -> Result<Option<Product>, AppError> {
    let mut product_row = None;
    let mut variants = Vec::new();
    for row in rows {
        if let (Some(id), Some(label), Some(price_minor)) = (row.variant_id, row.variant_label, row.variant_price_minor)
        {
            let product_id = row.product.id.clone();
            variants.push(VariantRow { product_id, id, label, price_minor, stock: row.variant_stock });
        }
        product_row.get_or_insert(row.product);
    }
    let Some(row) = product_row else { return Ok(None) };
    let mut variants = HashMap::from([(row.id.clone(), variants)]);
    product(row, &mut variants, now, api_origin).map(Some)
}

/// The title of a product, for its image.
pub async fn title(db: &Db, product_id: &str) -> Result<Option<String>, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT title FROM products WHERE id = $1").bind(product_id).fetch_optional(db).await?;
    Ok(row.map(|(title,)| title))
}

async fn assemble(db: &Db, rows: Vec<ProductRow>, now: i64, api_origin: &str) -> Result<Vec<Product>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT product_id, id, label, price_minor, stock FROM variants WHERE product_id IN ({}) \
         ORDER BY product_id, position",
        placeholders(0, rows.len())
    );
    let mut query = sqlx::query_as::<_, VariantRow>(&sql);
    for row in &rows {
        query = query.bind(row.id.as_str());
    }
    let variant_rows = query.fetch_all(db).await?;
    let mut variants: HashMap<String, Vec<VariantRow>> = HashMap::new();
    for v in variant_rows {
        variants.entry(v.product_id.clone()).or_default().push(v);
    }
    rows.into_iter().map(|row| product(row, &mut variants, now, api_origin)).collect()
}

fn product(
    row: ProductRow,
    variants: &mut HashMap<String, Vec<VariantRow>>,
    now: i64,
    api_origin: &str,
) -> Result<Product, AppError> {
    let currency =
        Currency::parse(&row.currency).ok_or_else(|| AppError::internal(format!("currency {:?}", row.currency)))?;
    let variants: Vec<Variant> = variants
        .remove(&row.id)
        .unwrap_or_default()
        .into_iter()
        .map(|v| Variant {
            id: v.id,
            label: v.label,
            price: Money::new(v.price_minor, currency),
            stock: v.stock.map(|s| u32::try_from(s.max(0)).unwrap_or(u32::MAX)),
        })
        .collect();
    let tweet_id = TweetId::parse(&row.tweet_id).ok_or_else(|| AppError::internal("stored tweet id"))?;
    let offer = Offer {
        availability: availability(now, row.sale_starts_at, row.sale_ends_at, &variants),
        tweet_id,
        images: vec![Image { url: format!("{api_origin}/images/{}.svg", row.id), alt: row.image_alt }],
        product_id: row.id,
        title: row.title,
        description: row.description,
        seller: Seller { name: row.seller_name, kind: from_text(&row.seller_kind)? },
        kind: from_text(&row.kind)?,
        currency,
        variants,
        limited_edition: row.limited_edition != 0,
        sale_ends_at: row.sale_ends_at,
        ships_to: row.ships_to.split(',').filter_map(Country::parse).collect(),
        max_per_order: u32::try_from(row.max_per_order).unwrap_or(0),
        delivery: row.delivery,
        lang: row.lang,
    };
    Ok(Product {
        offer,
        shipping: Money::new(row.shipping_minor, currency),
        sale_starts_at: row.sale_starts_at,
        rollout_share: u8::try_from(row.rollout_share.clamp(0, 100)).unwrap_or(100),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(stock: Option<u32>) -> Variant {
        Variant { id: "v".into(), label: "v".into(), price: Money::new(100, Currency::USD), stock }
    }

    #[test]
    fn availability_follows_window_then_stock() {
        let some = [variant(Some(0)), variant(Some(2))];
        let none = [variant(Some(0)), variant(Some(0))];
        let uncounted = [variant(Some(0)), variant(None)];
        assert_eq!(availability(100, None, None, &some), Availability::Available);
        assert_eq!(availability(100, None, None, &none), Availability::SoldOut);
        assert_eq!(availability(100, None, None, &uncounted), Availability::Available);
        assert_eq!(availability(100, Some(101), None, &some), Availability::NotStarted);
        assert_eq!(availability(100, Some(100), Some(200), &some), Availability::Available);
        assert_eq!(availability(200, None, Some(200), &some), Availability::SaleEnded, "the end is exclusive");
        assert_eq!(availability(300, None, Some(200), &none), Availability::SaleEnded, "ended wins over sold out");
    }
}
