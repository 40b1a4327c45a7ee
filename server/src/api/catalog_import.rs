//! `tweetbuy-server catalog import FILE` and `POST /admin/v1/catalog`: a seller's catalog in
//! TOML or JSON, checked whole before anything is written, then applied in one transaction,
//! so a bad file changes nothing. Errors name the field, and the line where the parser
//! knows it (TOML: the product's table; JSON: syntax and type errors).
//!
//! Products are upserted by `id`; a product's variants and tweets become exactly those in
//! the file; products not in the file are left alone. A variant's `stock` is what the seller
//! puts on sale: imported again, only its change since the last import is applied to what is
//! left, so units sold in between stay sold. An option whose stock the file raises
//! from 0 emits `product.restocked` in the import's transaction (see [`super::webhooks`]).

use super::order_store;
use super::webhooks::{self, objects::StockObject, EventType};
use crate::db::{begin_write, placeholders, to_text, Db, WriteTx};
use crate::error::AppError;
use serde::Deserialize;
use std::collections::HashSet;
use tweetbuy_core::catalog::{unix_seconds_problem, MAX_PRICE_MINOR, MAX_STOCK};
use tweetbuy_core::{text, ApiError, Country, Currency, ErrorCode, FieldError, ProductKind, SellerKind, TweetId};

/// The file's format, by extension or content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// TOML (`.toml`, `application/toml`): errors name the line of the product's table.
    Toml,
    /// JSON (`.json`, `application/json`): errors carry a line only for syntax and type errors.
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    products: Vec<toml::Spanned<ProductEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCatalogFile {
    products: Vec<ProductEntry>,
}

/// One product as a seller writes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductEntry {
    /// The product's key, upserted on: 1 to 64 of `a-z`, `0-9` and `-`, once per file.
    pub id: String,
    /// Tweets whose embeds offer the product (bare ids, not links), at least one, each attached
    /// to this product only; the first is the product's default tweet.
    pub tweet_ids: Vec<String>,
    /// What the widget's sheet and the receipts call the product: one line, 1 to 200 characters.
    pub title: String,
    /// Shown on the sheet; may span lines, at most 5000 characters.
    #[serde(default)]
    pub description: String,
    /// Who sells it.
    pub seller: SellerEntry,
    /// Whether it ships (then [`ProductEntry::ships_to`] is required) or is a ticket or download.
    pub kind: ProductKind,
    /// The currency of every price of the product: `USD`, `EUR` or `GBP`, in any case.
    pub currency: String,
    /// Whether the sheet shows a limited-edition badge and the units left.
    #[serde(default)]
    pub limited_edition: bool,
    /// Unix seconds; absent: on sale now.
    #[serde(default, deserialize_with = "unix_seconds")]
    pub sale_starts_at: Option<i64>,
    /// Unix seconds, exclusive; absent: no end.
    #[serde(default, deserialize_with = "unix_seconds")]
    pub sale_ends_at: Option<i64>,
    /// 0 to 100, default 100 (everyone).
    #[serde(default = "everyone")]
    pub rollout_share: i64,
    /// ISO 3166-1 alpha-2 codes of the countries a physical product ships to, in any case.
    #[serde(default)]
    pub ships_to: Vec<String>,
    /// The flat shipping fee of one order, in minor units of [`ProductEntry::currency`]; 0 or
    /// more, default 0 (free).
    #[serde(default)]
    pub shipping_minor: i64,
    /// The most units one order may take, 1 to 100.
    pub max_per_order: i64,
    /// How a ticket or digital good reaches the buyer ("Tickets are emailed to you"); one line, at
    /// most 500 characters.
    #[serde(default)]
    pub delivery: Option<String>,
    /// The product image's alt text, at most 500 characters; empty: the title.
    #[serde(default)]
    pub image_alt: String,
    /// The language this product's texts are written in, as a BCP 47 tag (`en`, `es-MX`):
    /// the sheet marks them with it, so a screen reader speaks an English title in English
    /// on a Spanish page. Absent: not said.
    #[serde(default)]
    pub lang: Option<String>,
    /// The buyer's choices (sizes, tiers), in the order the sheet lists them; at least one. The
    /// product's variants become exactly these.
    pub variants: Vec<VariantEntry>,
}

fn everyone() -> i64 {
    100
}

/// A product's seller as the catalog file names it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerEntry {
    /// The seller's name as buyers see it (discount codes can name it too): one line, 1 to 200
    /// characters.
    pub name: String,
    /// What kind of seller it is: a badge beside its name on the sheet.
    pub kind: SellerKind,
}

/// One choice of a product, as the catalog file gives it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantEntry {
    /// The variant's key within its product: 1 to 64 of `a-z`, `0-9` and `-`, once per product.
    pub id: String,
    /// What the buyer picks ("M", "VIP"): one line, 1 to 200 characters.
    pub label: String,
    /// The price of one unit, in minor units of [`ProductEntry::currency`]; positive.
    pub price_minor: i64,
    /// Units for sale; absent: not counted.
    #[serde(default)]
    pub stock: Option<i64>,
}

/// Why a catalog was refused: one line per problem.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct ImportErrors(pub Vec<String>);

impl From<ImportErrors> for AppError {
    /// `422 validation_failed`, one `fields` entry (field `catalog`) per problem.
    fn from(errors: ImportErrors) -> AppError {
        let mut body = ApiError::new(ErrorCode::ValidationFailed, "The catalog was not imported.");
        body.fields = errors.0.into_iter().map(|message| FieldError::new("catalog", "invalid", message)).collect();
        AppError::from_api(axum::http::StatusCode::UNPROCESSABLE_ENTITY, body)
    }
}

/// A sale time: a whole number of Unix seconds. A TOML date (`2026-01-01T00:00:00Z`) or a
/// text is refused saying so, where serde would say "invalid type: map, expected i64".
fn unix_seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    struct Seconds;
    impl<'de> serde::de::Visitor<'de> for Seconds {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a time in Unix seconds, a whole number such as 1798761600 (not a date)")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v).map(Some).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    deserializer.deserialize_option(Seconds)
}

/// Parses and checks a catalog file; nothing is written.
pub fn parse(text: &str, format: Format) -> Result<Vec<ProductEntry>, ImportErrors> {
    // Editors on some systems start a UTF-8 file with a byte-order mark; it is not content.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let located: Vec<(Option<usize>, ProductEntry)> = match format {
        Format::Toml => {
            let file: CatalogFile = toml::from_str(text).map_err(|e| {
                let line = e.span().map(|span| line_of(text, span.start));
                let message = e.message().to_owned();
                ImportErrors(vec![match line {
                    Some(line) => format!("line {line}: {message}"),
                    None => message,
                }])
            })?;
            file.products
                .into_iter()
                .map(|spanned| (Some(line_of(text, spanned.span().start)), spanned.into_inner()))
                .collect()
        }
        Format::Json => {
            let file: JsonCatalogFile = serde_json::from_str(text).map_err(|e| {
                // serde_json's text ends with the location, which is said first here.
                let text = e.to_string();
                let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(message, _)| message);
                ImportErrors(vec![format!("line {}, column {}: {message}", e.line(), e.column())])
            })?;
            file.products.into_iter().map(|p| (None, p)).collect()
        }
    };
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    let mut tweets = HashSet::new();
    for (index, (line, product)) in located.iter().enumerate() {
        let at = match line {
            Some(line) => format!("line {line}: products[{index}]"),
            None => format!("products[{index}]"),
        };
        for problem in check(product, &mut ids, &mut tweets) {
            errors.push(format!("{at}.{problem}"));
        }
    }
    if located.is_empty() {
        errors.push("products: the file holds no products".into());
    }
    if errors.is_empty() {
        Ok(located.into_iter().map(|(_, p)| canonical(p)).collect())
    } else {
        Err(ImportErrors(errors))
    }
}

/// A checked product with its tweet ids as [`TweetId`] writes them (`" 16…"` is `"16…"`), so
/// what is stored and compared is what the lookup asks for.
fn canonical(mut p: ProductEntry) -> ProductEntry {
    for tweet in &mut p.tweet_ids {
        if let Some(id) = TweetId::parse(tweet) {
            *tweet = id.as_str().to_owned();
        }
    }
    p
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// Problems with one product, each starting with the field's name.
fn check(p: &ProductEntry, ids: &mut HashSet<String>, tweets: &mut HashSet<String>) -> Vec<String> {
    let mut errors = Vec::new();
    let slug = |s: &str| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !slug(&p.id) {
        errors.push(format!("id: {:?} must be 1 to 64 of a-z, 0-9 and -", p.id));
    } else if !ids.insert(p.id.clone()) {
        errors.push(format!("id: {:?} appears twice in the file", p.id));
    }
    if p.tweet_ids.is_empty() {
        errors.push("tweet_ids: give at least one tweet id".into());
    }
    for (i, tweet) in p.tweet_ids.iter().enumerate() {
        match TweetId::parse(tweet) {
            None => errors.push(format!("tweet_ids[{i}]: {tweet:?} is not a tweet id")),
            Some(id) if !tweets.insert(id.as_str().to_owned()) => {
                errors.push(format!("tweet_ids[{i}]: {tweet:?} is used twice in the file"))
            }
            Some(_) => {}
        }
    }
    if text::is_blank(&p.title) {
        errors.push("title: required".into());
    }
    if text::is_blank(&p.seller.name) {
        errors.push("seller.name: required".into());
    }
    // Text the widget, receipts and CSV exports show: one line each, except the description.
    let texts: [(&str, &str, usize, bool); 6] = [
        ("title", &p.title, 200, false),
        ("seller.name", &p.seller.name, 200, false),
        ("image_alt", &p.image_alt, 500, false),
        ("delivery", p.delivery.as_deref().unwrap_or_default(), 500, false),
        ("currency", &p.currency, 10, false),
        ("description", &p.description, 5000, true),
    ];
    for (field, value, max, multi_line) in texts {
        let clean = if multi_line { text::is_multi_line(value) } else { text::is_single_line(value) };
        if !clean {
            errors.push(format!("{field}: remove the control characters"));
        } else if value.chars().count() > max {
            errors.push(format!("{field}: use at most {max} characters"));
        }
    }
    for (field, values) in [("tweet_ids", &p.tweet_ids), ("ships_to", &p.ships_to)] {
        for (i, value) in values.iter().enumerate() {
            if !text::is_single_line(value) {
                errors.push(format!("{field}[{i}]: remove the control characters"));
            }
        }
    }
    if let Some(lang) = p.lang.as_deref().filter(|lang| !text::is_language_tag(lang)) {
        errors.push(format!("lang: {lang:?} is not a language tag such as \"en\" or \"es-MX\""));
    }
    if Currency::parse(&p.currency).is_none() {
        errors.push(format!("currency: {:?} is not a supported ISO 4217 code", p.currency));
    }
    for (field, time) in [("sale_starts_at", p.sale_starts_at), ("sale_ends_at", p.sale_ends_at)] {
        if let Some(problem) = time.and_then(unix_seconds_problem) {
            errors.push(format!("{field}: {problem}"));
        }
    }
    if let (Some(start), Some(end)) = (p.sale_starts_at, p.sale_ends_at) {
        if end <= start {
            errors.push("sale_ends_at: must be after sale_starts_at".into());
        }
    }
    if !(0..=100).contains(&p.rollout_share) {
        errors.push(format!("rollout_share: {} is not between 0 and 100", p.rollout_share));
    }
    for (i, country) in p.ships_to.iter().enumerate() {
        if Country::parse(country).is_none() {
            errors.push(format!("ships_to[{i}]: {country:?} is not a country code"));
        }
    }
    if p.kind == ProductKind::Physical && p.ships_to.is_empty() {
        errors.push("ships_to: a physical product needs at least one country".into());
    }
    if !(0..=MAX_PRICE_MINOR).contains(&p.shipping_minor) {
        errors.push(format!("shipping_minor: must be 0 to {MAX_PRICE_MINOR}"));
    }
    if !(1..=100).contains(&p.max_per_order) {
        errors.push(format!("max_per_order: {} is not between 1 and 100", p.max_per_order));
    }
    if p.variants.is_empty() {
        errors.push("variants: give at least one variant".into());
    }
    let mut variant_ids = HashSet::new();
    for (i, v) in p.variants.iter().enumerate() {
        if !slug(&v.id) {
            errors.push(format!("variants[{i}].id: {:?} must be 1 to 64 of a-z, 0-9 and -", v.id));
        } else if !variant_ids.insert(v.id.clone()) {
            errors.push(format!("variants[{i}].id: {:?} appears twice", v.id));
        }
        if text::is_blank(&v.label) {
            errors.push(format!("variants[{i}].label: required"));
        } else if !text::is_single_line(&v.label) || v.label.chars().count() > 200 {
            errors.push(format!("variants[{i}].label: give one line of at most 200 characters"));
        }
        if !(1..=MAX_PRICE_MINOR).contains(&v.price_minor) {
            errors.push(format!("variants[{i}].price_minor: must be 1 to {MAX_PRICE_MINOR}"));
        }
        if v.stock.is_some_and(|s| !(0..=MAX_STOCK).contains(&s)) {
            errors.push(format!("variants[{i}].stock: must be 0 to {MAX_STOCK}"));
        }
    }
    errors
}

/// Applies checked products in one transaction; returns how many were written. A tweet
/// already attached to a product not in this file refuses the whole import, with one
/// problem per such tweet (`422`, as a file's own problems).
pub async fn apply(db: &Db, products: &[ProductEntry], now: i64) -> Result<usize, AppError> {
    apply_or_try(db, products, now, true).await
}

/// [`apply`] without keeping anything: every check the database makes (tweets of other
/// products, codes the import would strand) runs in a transaction that is rolled back, so a
/// seller can try a file before a sale. Returns how many products would be written.
pub async fn try_apply(db: &Db, products: &[ProductEntry], now: i64) -> Result<usize, AppError> {
    apply_or_try(db, products, now, false).await
}

async fn apply_or_try(db: &Db, products: &[ProductEntry], now: i64, keep: bool) -> Result<usize, AppError> {
    let mut tx = begin_write(db).await?;
    let restocks_wanted = webhooks::delivery::has_subscribers(&mut tx, EventType::ProductRestocked).await?;
    let mut taken = Vec::new();
    for (index, p) in products.iter().enumerate() {
        for (i, tweet) in p.tweet_ids.iter().enumerate() {
            let owner: Option<(String,)> = sqlx::query_as("SELECT product_id FROM product_tweets WHERE tweet_id = $1")
                .bind(tweet)
                .fetch_optional(&mut tx)
                .await?;
            if let Some((owner,)) = owner.filter(|(owner,)| !products.iter().any(|q| &q.id == owner)) {
                taken.push(format!(
                    "products[{index}].tweet_ids[{i}]: tweet {tweet} is already attached to product {owner:?}, \
                     which this file leaves alone"
                ));
            }
        }
    }
    if !taken.is_empty() {
        return Err(ImportErrors(taken).into());
    }
    let sellers_before = seller_names(&mut tx, products).await?;
    // A code stranded already (by an import before this check existed) is not this file's doing.
    let stranded_before = stranded_codes(&mut tx, products, &sellers_before, now).await?;
    for p in products {
        // Tweets are re-attached below. Detaching first, and parking each product's default
        // tweet (`products.tweet_id` is unique) on a value no tweet id can be, lets products
        // of one file swap tweets.
        sqlx::query("DELETE FROM product_tweets WHERE product_id = $1").bind(&p.id).execute(&mut tx).await?;
        sqlx::query("UPDATE products SET tweet_id = '~' || id WHERE id = $1").bind(&p.id).execute(&mut tx).await?;
    }
    for p in products {
        keep_bought_names(&mut tx, p).await?;
        sqlx::query(
            "INSERT INTO products (id, tweet_id, title, description, seller_name, seller_kind, kind, currency, \
             limited_edition, sale_starts_at, sale_ends_at, ships_to, shipping_minor, max_per_order, delivery, \
             image_alt, created_at, rollout_share, lang) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             ON CONFLICT (id) DO UPDATE SET tweet_id = excluded.tweet_id, title = excluded.title, \
             description = excluded.description, seller_name = excluded.seller_name, \
             seller_kind = excluded.seller_kind, kind = excluded.kind, currency = excluded.currency, \
             limited_edition = excluded.limited_edition, sale_starts_at = excluded.sale_starts_at, \
             sale_ends_at = excluded.sale_ends_at, ships_to = excluded.ships_to, \
             shipping_minor = excluded.shipping_minor, max_per_order = excluded.max_per_order, \
             delivery = excluded.delivery, image_alt = excluded.image_alt, rollout_share = excluded.rollout_share, \
             lang = excluded.lang",
        )
        .bind(&p.id)
        .bind(&p.tweet_ids[0])
        .bind(&p.title)
        .bind(&p.description)
        .bind(&p.seller.name)
        .bind(to_text(&p.seller.kind))
        .bind(to_text(&p.kind))
        .bind(Currency::parse(&p.currency).map_or_else(|| p.currency.to_ascii_uppercase(), |c| c.code().to_owned()))
        .bind(p.limited_edition)
        .bind(p.sale_starts_at)
        .bind(p.sale_ends_at)
        .bind(p.ships_to.iter().map(|c| c.to_ascii_uppercase()).collect::<Vec<_>>().join(","))
        .bind(p.shipping_minor)
        .bind(p.max_per_order)
        .bind(&p.delivery)
        .bind(if p.image_alt.is_empty() { &p.title } else { &p.image_alt })
        .bind(now)
        .bind(p.rollout_share)
        .bind(&p.lang)
        .execute(&mut tx)
        .await?;
        for tweet in &p.tweet_ids {
            sqlx::query("INSERT INTO product_tweets (tweet_id, product_id) VALUES ($1, $2)")
                .bind(tweet)
                .bind(&p.id)
                .execute(&mut tx)
                .await?;
        }
        let mut restocked = Vec::new();
        for (position, v) in p.variants.iter().enumerate() {
            let before: Option<(Option<i64>, Option<i64>)> =
                sqlx::query_as("SELECT stock, imported_stock FROM variants WHERE product_id = $1 AND id = $2")
                    .bind(&p.id)
                    .bind(&v.id)
                    .fetch_optional(&mut tx)
                    .await?;
            // The count starts afresh below (the file's stock as it is), or stops: the units
            // orders took from an earlier count, or never took, are not the new count's. (An
            // option that counts nothing before and after has nothing to forget yet.)
            let counted_before = matches!(before, Some((Some(_), _)));
            let counts_on = matches!(before, Some((Some(_), Some(_))));
            let count_starts = (v.stock.is_some() && !counts_on) || (v.stock.is_none() && counted_before);
            // The file's stock is what the seller puts on sale: a re-import applies its change
            // since the last import to what is left, in the row's own update (an order taking
            // units meanwhile is not undone), so units sold since stay sold. A change larger
            // than what is left (taken by sales or by orders still being paid) leaves none, and
            // the rest is owed: units that come back (a failed or cancelled order's) pay it
            // first ([`super::order_store`]).
            let (after,): (Option<i64>,) = sqlx::query_as(
                "INSERT INTO variants (product_id, id, position, label, price_minor, stock, imported_stock) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (product_id, id) DO UPDATE SET \
                 position = excluded.position, label = excluded.label, price_minor = excluded.price_minor, \
                 stock = CASE WHEN excluded.stock IS NULL THEN NULL \
                   WHEN variants.stock IS NULL OR variants.imported_stock IS NULL THEN excluded.stock \
                   WHEN variants.stock - variants.owed + excluded.stock - variants.imported_stock > 0 \
                   THEN variants.stock - variants.owed + excluded.stock - variants.imported_stock ELSE 0 END, \
                 owed = CASE WHEN excluded.stock IS NULL OR variants.stock IS NULL \
                   OR variants.imported_stock IS NULL THEN 0 \
                   WHEN variants.imported_stock - excluded.stock - variants.stock + variants.owed > 0 \
                   THEN variants.imported_stock - excluded.stock - variants.stock + variants.owed ELSE 0 END, \
                 imported_stock = excluded.stock RETURNING stock",
            )
            .bind(&p.id)
            .bind(&v.id)
            .bind(position as i64)
            .bind(&v.label)
            .bind(v.price_minor)
            .bind(v.stock)
            .fetch_one(&mut tx)
            .await?;
            // After the row's update: a placement takes the product's row before its option's,
            // so none holds this row now (this import holds the product's), and every order
            // of the old count is here to be forgotten. One that read the option as uncounted
            // before the import and is written after it holds no units from the start.
            if count_starts {
                order_store::forget_holds(&mut tx, &p.id, &v.id).await?;
            }
            if restocks_wanted && matches!(before, Some((Some(0), _))) && after != Some(0) {
                restocked.push((v, after));
            }
        }
        let sql =
            format!("DELETE FROM variants WHERE product_id = $1 AND id NOT IN ({})", placeholders(1, p.variants.len()));
        let mut delete = sqlx::query(&sql).bind(&p.id);
        for v in &p.variants {
            delete = delete.bind(&v.id);
        }
        delete.execute(&mut tx).await?;
        for (v, stock) in restocked {
            let object = StockObject {
                product_id: p.id.clone(),
                product_title: p.title.clone(),
                variant_id: v.id.clone(),
                variant_label: v.label.clone(),
                stock,
                product_sold_out: false,
            };
            webhooks::emit(&mut tx, EventType::ProductRestocked, &object).await?;
        }
    }
    let stranded: Vec<String> = stranded_codes(&mut tx, products, &sellers_before, now)
        .await?
        .into_iter()
        .filter(|code| !stranded_before.contains(code))
        .map(|(code, minor, currency)| {
            format!(
                "the code {code} takes {minor} minor units of {currency} off, and no product it is for would be \
                 priced in {currency} any more: keep the currency, or disable the code first \
                 (tweetbuy-server discounts disable {code})"
            )
        })
        .collect();
    if !stranded.is_empty() || !keep {
        tx.rollback().await?;
        return match stranded.is_empty() {
            true => Ok(products.len()),
            false => Err(ImportErrors(stranded).into()),
        };
    }
    tx.commit().await?;
    tracing::info!(products = products.len(), "catalog imported");
    Ok(products.len())
}

/// The sellers of the file's products as stored before the import.
async fn seller_names(tx: &mut WriteTx, products: &[ProductEntry]) -> Result<Vec<String>, AppError> {
    let sql = format!("SELECT DISTINCT seller_name FROM products WHERE id IN ({})", placeholders(0, products.len()));
    let mut query = sqlx::query_as::<_, (String,)>(&sql);
    for p in products {
        query = query.bind(&p.id);
    }
    Ok(query.fetch_all(&mut *tx).await?.into_iter().map(|(name,)| name).collect())
}

/// The amount-off codes, usable now or later, for the file's products or their sellers (as
/// they were, and as the file names them) that no product in their scope is priced in their
/// currency for: every checkout would refuse them, as creating such a code is refused. Read in
/// the import's transaction, before its writes and after: `(code, amount off, currency)`.
async fn stranded_codes(
    tx: &mut WriteTx,
    products: &[ProductEntry],
    sellers_before: &[String],
    now: i64,
) -> Result<Vec<(String, i64, String)>, AppError> {
    let ids: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
    let mut sellers: Vec<&str> =
        sellers_before.iter().map(String::as_str).chain(products.iter().map(|p| p.seller.name.as_str())).collect();
    sellers.sort_unstable();
    sellers.dedup();
    let sql = format!(
        "SELECT code, amount_minor, currency FROM discount_codes d WHERE d.active AND d.amount_minor IS NOT NULL \
         AND (d.ends_at IS NULL OR d.ends_at > $1) \
         AND (d.product_id IN ({}) OR d.seller_name IN ({})) \
         AND NOT EXISTS (SELECT 1 FROM products p WHERE p.currency = d.currency \
         AND (p.id = d.product_id OR p.seller_name = d.seller_name)) ORDER BY code",
        placeholders(1, ids.len()),
        placeholders(1 + ids.len(), sellers.len())
    );
    let mut query = sqlx::query_as::<_, (String, i64, String)>(&sql).bind(now);
    for value in ids.iter().chain(&sellers) {
        query = query.bind(*value);
    }
    Ok(query.fetch_all(&mut *tx).await?)
}

/// The format of a file, from its extension.
pub fn format_of(path: &std::path::Path) -> Option<Format> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("toml") => Some(Format::Toml),
        Some("json") => Some(Format::Json),
        _ => None,
    }
}

/// Writes the names `p`'s import is about to change into the orders bought under them that
/// have none of their own (placed before orders kept them, [`order_store::BoughtNames`]): the
/// product's title and delivery note, and each option's label that changes or goes. Orders
/// that have them keep theirs: the names they were bought under.
async fn keep_bought_names(tx: &mut WriteTx, p: &ProductEntry) -> Result<(), AppError> {
    let before: Option<(String, Option<String>)> = sqlx::query_as("SELECT title, delivery FROM products WHERE id = $1")
        .bind(&p.id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((title, delivery)) = before else { return Ok(()) };
    if title != p.title || delivery != p.delivery {
        sqlx::query(
            "UPDATE orders SET bought_title = $2, bought_delivery = $3 WHERE product_id = $1 AND bought_title IS NULL",
        )
        .bind(&p.id)
        .bind(&title)
        .bind(&delivery)
        .execute(&mut *tx)
        .await?;
    }
    let labels: Vec<(String, String)> =
        sqlx::query_as("SELECT id, label FROM variants WHERE product_id = $1").bind(&p.id).fetch_all(&mut *tx).await?;
    for (id, label) in labels {
        if !p.variants.iter().any(|v| v.id == id && v.label == label) {
            sqlx::query(
                "UPDATE orders SET bought_label = $3 WHERE product_id = $1 AND variant_id = $2 AND bought_label IS NULL",
            )
            .bind(&p.id)
            .bind(&id)
            .bind(&label)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[products]]
id = "drop"
tweet_ids = ["1600000000000000001", "1600000000000000002"]
title = "Drop tee"
seller = { name = "Band", kind = "artist" }
kind = "physical"
currency = "USD"
ships_to = ["US", "CA"]
shipping_minor = 500
max_per_order = 2
rollout_share = 30

[[products.variants]]
id = "m"
label = "M"
price_minor = 2500
stock = 10
"#;

    #[test]
    fn a_good_file_parses() {
        let products = parse(GOOD, Format::Toml).unwrap();
        assert_eq!(products.len(), 1);
        assert_eq!(products[0].rollout_share, 30);
        assert_eq!(products[0].variants[0].stock, Some(10));
    }

    #[test]
    fn errors_name_the_field_and_line() {
        let bad = GOOD.replace("price_minor = 2500", "price_minor = -1").replace("\"CA\"", "\"XX\"");
        let errors = parse(&bad, Format::Toml).unwrap_err().0;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|e| e.starts_with("line 2: products[0].")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("variants[0].price_minor")));
        assert!(errors.iter().any(|e| e.contains("ships_to[1]")));

        let typo = GOOD.replace("max_per_order = 2", "max_per_oder = 2");
        let errors = parse(&typo, Format::Toml).unwrap_err().0;
        assert!(errors[0].starts_with("line 11:") && errors[0].contains("max_per_oder"), "{errors:?}");

        let json = "{\"products\": [\n  {\"id\": \"x\", \"tweet_ids\": 5}\n]}";
        let errors = parse(json, Format::Json).unwrap_err().0;
        assert!(errors[0].starts_with("line 2, column"), "{errors:?}");
    }

    #[test]
    fn a_sale_time_must_be_unix_seconds_of_a_real_year() {
        let at = |starts: &str, ends: &str| {
            GOOD.replace(
                "rollout_share = 30",
                &format!("rollout_share = 30\nsale_starts_at = {starts}\nsale_ends_at = {ends}"),
            )
        };
        assert!(parse(&at("1798761600", "1798848000"), Format::Toml).is_ok());
        let errors = parse(&at("1798761600000", "9223372036854775807"), Format::Toml).unwrap_err().0;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("sale_starts_at: 1798761600000") && errors[0].contains("milliseconds"),
            "{errors:?}"
        );
        assert!(errors[0].contains("seconds would be 1798761600"), "{errors:?}");
        assert!(errors[1].contains("sale_ends_at") && errors[1].contains("the end of the year 9999"), "{errors:?}");
        let errors = parse(&at("-1", "1798848000"), Format::Toml).unwrap_err().0;
        assert!(errors[0].contains("sale_starts_at: -1 is not a time"), "{errors:?}");
    }

    #[test]
    fn a_date_where_seconds_go_and_a_byte_order_mark_are_read_as_a_seller_means_them() {
        let dated = GOOD.replace("rollout_share = 30", "rollout_share = 30\nsale_starts_at = 2026-01-01T00:00:00Z");
        let errors = parse(&dated, Format::Toml).unwrap_err().0;
        assert!(errors[0].contains("Unix seconds") && errors[0].contains("not a date"), "{errors:?}");
        let json = "\u{feff}{\"products\": [{\"id\": \"x\", \"tweet_ids\": [\"1\"], \"title\": 5}]}";
        let errors = parse(json, Format::Json).unwrap_err().0;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("line 1, column") && !errors[0].contains(" at line "), "{errors:?}");
        assert!(errors[0].contains("invalid type"), "read past the mark: {errors:?}");
    }

    #[test]
    fn text_limits_count_characters_and_each_problem_is_named_once() {
        let cjk = GOOD.replace("title = \"Drop tee\"", &format!("title = \"{}\"", "衫".repeat(200)));
        assert!(parse(&cjk, Format::Toml).is_ok(), "200 characters of three bytes each");
        let long = GOOD.replace("title = \"Drop tee\"", &format!("title = \"{}\"", "a".repeat(201)));
        assert_eq!(parse(&long, Format::Toml).unwrap_err().0.len(), 1);
        let control = GOOD.replace("[\"US\", \"CA\"]", "[\"US\", \"C\\u0007A\"]");
        let errors = parse(&control, Format::Toml).unwrap_err().0;
        assert!(errors.iter().any(|e| e.contains("ships_to[1]: remove the control characters")), "{errors:?}");
        assert!(!errors.iter().any(|e| e.contains("tweet_ids")), "{errors:?}");
        let invisible = GOOD.replace("title = \"Drop tee\"", "title = \"\\u200B\"");
        let errors = parse(&invisible, Format::Toml).unwrap_err().0;
        assert!(errors.iter().any(|e| e.ends_with("title: required")), "{errors:?}");
    }
}
