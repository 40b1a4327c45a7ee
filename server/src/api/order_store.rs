//! Orders and stock. The order row is written with the stock reservation in one transaction,
//! and a failed payment gives the stock back in one transaction with the status change.

use super::order_idempotency::KeyClaim;
use crate::db::group::{together_or_alone, Groups};
use crate::db::to_text;
use crate::db::{begin_write, begin_write_with, engine_of, AnyQuery, Batch, Db, Engine};
use crate::error::AppError;
use crate::ids;
use sqlx::AnyConnection;
use tweetbuy_core::vault::DeclineCode;
use tweetbuy_core::{CardBrand, Quote, ShippingAddress, TweetId};

/// The condition under which an order may claim a payment intent: one order per intent at a
/// time, taken over only from an order that was declined or failed, so two tokens of one
/// intent can never both be charged. The earlier order is looked up by its key: a list of
/// every declined or failed order would be read whole for each placement, and grows with
/// the shop.
macro_rules! intent_is_free {
    () => {
        "(payment_intents.order_id IS NULL OR EXISTS (SELECT 1 FROM orders earlier \
         WHERE earlier.id = payment_intents.order_id AND earlier.status IN ('declined', 'failed')))"
    };
}

/// An order about to be placed (status `pending`).
pub struct NewOrder<'a> {
    pub(crate) id: &'a str,
    pub(crate) product_id: &'a str,
    pub(crate) variant_id: &'a str,
    pub(crate) quantity: u32,
    pub(crate) email: &'a str,
    pub(crate) share_email: bool,
    pub(crate) shipping: Option<&'a ShippingAddress>,
    pub(crate) quote: &'a Quote,
    pub(crate) tweet_id: Option<&'a TweetId>,
    /// The payment intent this order pays (claimed with the stock, see [`place`]).
    pub(crate) intent_id: &'a str,
    /// The language the buyer paid in, for the receipt ([`tweetbuy_core::PayRequest::lang`]).
    pub(crate) lang: Option<&'a str>,
    /// What the order buys as the catalog names it at placement: the product's title, the
    /// option's label, the delivery note. Kept with the order (`orders.bought_*`), so a later
    /// import's renaming does not change what the buyer bought.
    pub(crate) names: BoughtNames<'a>,
    pub(crate) now: i64,
}

/// The catalog's names for what an order buys ([`NewOrder::names`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct BoughtNames<'a> {
    pub(crate) title: &'a str,
    pub(crate) label: &'a str,
    pub(crate) delivery: Option<&'a str>,
}

/// Why an order could not be placed.
#[derive(Debug)]
pub enum PlaceError {
    /// Not enough stock left for this variant.
    SoldOut,
    /// Another order already pays (or is paying) this intent.
    IntentTaken,
    /// The intent's discount code can no longer be used (see [`super::discounts::redeem`]).
    Discount(tweetbuy_core::DiscountRefusal),
    /// The idempotency key to claim with the placement is already stored.
    KeyTaken,
    /// A failure on our side, mostly the database's: the order path answers with it (a 500,
    /// `internal`), once [`crate::db::retry_busy`] has retried it while SQLite was busy.
    Other(AppError),
}

impl crate::db::MaybeBusy for PlaceError {
    fn is_busy(&self) -> bool {
        matches!(self, PlaceError::Other(e) if e.is_busy())
    }
}

impl From<sqlx::Error> for PlaceError {
    fn from(error: sqlx::Error) -> Self {
        PlaceError::Other(error.into())
    }
}

/// How many times a fresh order number is drawn when one clashes with an existing order.
const ORDER_NUMBER_ATTEMPTS: usize = 5;

/// Reserves stock and inserts the order as `pending`; returns its order number.
///
/// The reservation is one conditional `UPDATE … WHERE stock >= quantity`, so two buyers of
/// the last unit cannot both succeed. Variants that do not count stock (NULL) are not
/// reserved. Every buyer of a variant updates its one stock row, and on PostgreSQL that row
/// stays locked until the transaction commits, so the reservation is the transaction's last
/// statement: the next buyer waits for the commit alone, not for the statements before it.
/// (On SQLite the transaction holds the file's write gate from its start, [`begin_write`].)
///
/// With `key`, the request's idempotency key is claimed first, in the same transaction (one
/// commit where there were two): [`PlaceError::KeyTaken`] when it is already stored, and a
/// refused placement leaves no key behind, as if it had been forgotten.
///
/// The statements go as one [`Batch`], which stops at the first unmet condition. An
/// order number that clashes with another order's rolls the placement back, to be made
/// again whole with a new number.
pub async fn place(db: &Db, order: &NewOrder<'_>, key: Option<&KeyClaim<'_>>) -> Result<String, PlaceError> {
    let shipping_json = order
        .shipping
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| PlaceError::Other(AppError::internal(e.to_string())))?;
    for _ in 0..ORDER_NUMBER_ATTEMPTS {
        let drawn = ids::order_number();
        if place_numbered(db, order, key, &drawn, shipping_json.as_deref()).await? {
            return Ok(drawn);
        }
    }
    Err(PlaceError::Other(AppError::internal("could not draw a unique order number")))
}

/// Binds an order row's columns `$1` to `$17`, in the order both placements' SQL lists them
/// (`sqlx::query` and `sqlx::query_as` share no trait that `bind` belongs to).
macro_rules! bind_order_row {
    ($query:expr, $order:expr, $number:expr, $shipping_json:expr) => {
        $query
            .bind($order.id)
            .bind($number)
            .bind($order.product_id)
            .bind($order.variant_id)
            .bind(i64::from($order.quantity))
            .bind($order.email)
            .bind($order.share_email)
            .bind($shipping_json)
            .bind($order.quote.subtotal.minor)
            .bind($order.quote.shipping.minor)
            .bind($order.quote.tax.minor)
            .bind($order.quote.total.minor)
            .bind($order.quote.total.currency.code())
            .bind($order.tweet_id.map(TweetId::as_str))
            .bind($order.now)
            .bind($order.intent_id)
            .bind($order.lang)
    };
}

/// [`place`] under the order number `number`: `false` when another order has that number
/// (nothing was written).
async fn place_numbered(
    db: &Db,
    order: &NewOrder<'_>,
    key: Option<&KeyClaim<'_>>,
    number: &str,
    shipping_json: Option<&str>,
) -> Result<bool, PlaceError> {
    if order.quote.discount.is_none() && engine_of(db) == Engine::Postgres {
        return place_in_one_statement(db, order, key, number, shipping_json).await;
    }
    let mut batch = Batch::new();
    let key_claim =
        key.map(|key| batch.push_expecting_one(super::order_idempotency::claim_query(key, Some(order.id), order.now)));
    let intent_claim = batch.push_expecting_one(
        sqlx::query(concat!("UPDATE payment_intents SET order_id = $1 WHERE id = $2 AND ", intent_is_free!()))
            .bind(order.id)
            .bind(order.intent_id),
    );
    let insert = batch.push_expecting_one(
        bind_order_row!(
            sqlx::query(
                "INSERT INTO orders (id, order_number, product_id, variant_id, quantity, email, share_email, \
             shipping_json, subtotal_minor, shipping_minor, tax_minor, total_minor, currency, status, tweet_id, \
             created_at, updated_at, intent_id, lang, discount_code, discount_minor, bought_title, bought_label, \
             bought_delivery) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', $14, $15, $15, $16, $17, \
             $18, $19, $20, $21, $22) ON CONFLICT (order_number) DO NOTHING",
            ),
            order,
            number,
            shipping_json
        )
        .bind(order.quote.discount.as_ref().map(|d| d.code.as_str()))
        .bind(order.quote.discount.as_ref().map_or(0, |d| d.amount.minor))
        .bind(order.names.title)
        .bind(order.names.label)
        .bind(order.names.delivery),
    );
    // A discount code is redeemed between the insert and the reservation, in Rust: with one,
    // the reservation is a statement of its own after it.
    let reserve = order.quote.discount.is_none().then(|| batch.push(reservation(order)));
    let (mut tx, ran) = begin_write_with(db, batch).await?;
    match ran.unmet {
        Some(i) if Some(i) == key_claim => return Err(PlaceError::KeyTaken),
        Some(i) if i == intent_claim => {
            // Sold out is told first, as when the reservation came first: the stock as it is
            // with this placement rolled back.
            tx.rollback().await?;
            let mut reader = db.acquire().await?;
            return Err(if has_stock(&mut reader, order).await? {
                PlaceError::IntentTaken
            } else {
                PlaceError::SoldOut
            });
        }
        Some(i) if i == insert => return Ok(false),
        Some(_) => return Err(PlaceError::Other(AppError::internal("unexpected unmet statement in placement"))),
        None => {}
    }
    let reserved = match reserve {
        Some(index) => ran.statements[index].rows_affected,
        None => {
            if let Some(discount) = &order.quote.discount {
                super::discounts::redeem(&mut tx, &discount.code, order.id, order.email, order.now)
                    .await?
                    .map_err(PlaceError::Discount)?;
            }
            reservation(order).execute(&mut tx).await?.rows_affected()
        }
    };
    // Only an uncounted variant may go on without a reservation, and its order then holds
    // no units. The import forgets the holds of a count it starts ([`forget_holds`]), but an
    // order committed after that statement read the orders is not among them.
    if reserved != 1 {
        if !is_uncounted(&mut tx, order).await? {
            return Err(PlaceError::SoldOut);
        }
        sqlx::query("UPDATE orders SET holds_stock = FALSE WHERE id = $1").bind(order.id).execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// [`place_numbered`] on PostgreSQL for an order without a discount code: the reservation,
/// the claims of the intent and of the key, and the order row in one statement, which
/// PostgreSQL runs as a transaction of its own (one round trip where a `BEGIN`, four
/// statements and a `COMMIT` took six). The statements of a `WITH` cannot see each other's
/// changes, so each step after the reservation runs only when it succeeded (`go`), and a step
/// that fails after it undoes the whole statement with an error:
///
/// - the stock (or an uncounted variant) comes first: sold out, nothing is written;
/// - the key is inserted without `ON CONFLICT`: a key already stored is a unique violation;
/// - the order's status is the claimed intent's, so an intent another order holds leaves it
///   NULL, a not-null violation;
/// - an order number already taken is a unique violation too, and a new one is drawn.
///
/// The product's row is share-locked first (`listed`, as the order's reference to it would
/// be), then the variant's: the order a placement with a discount code takes them in (its
/// order row, then its reservation) and a catalog import does (the product, then its options).
/// With the variant's first, a placement waiting for an import's product while the import
/// waited for the variant was a cycle PostgreSQL ended by failing one of them. The locks go
/// with the commit at the end of this one statement.
///
/// Every buyer of a variant updates its one stock row, and a row lock is held until the
/// commit's WAL flush. The placements of a variant that arrive together go as one statement
/// ([`PLACEMENTS`]), so they wait for one flush, and the next batch gathers meanwhile. The
/// commit is an ordinary, synchronous one: a placement that returned is on disk before
/// anything is charged for it. (Committing without waiting, with a second statement to wait
/// for the flush, measured slower once placements were grouped: one more statement and one
/// more row version a purchase.)
async fn place_in_one_statement(
    db: &Db,
    order: &NewOrder<'_>,
    key: Option<&KeyClaim<'_>>,
    number: &str,
    shipping_json: Option<&str>,
) -> Result<bool, PlaceError> {
    let placing = Placing {
        id: order.id.to_owned(),
        number: number.to_owned(),
        product_id: order.product_id.to_owned(),
        variant_id: order.variant_id.to_owned(),
        quantity: i64::from(order.quantity),
        email: order.email.to_owned(),
        share_email: order.share_email,
        shipping_json: shipping_json.map(str::to_owned),
        subtotal_minor: order.quote.subtotal.minor,
        shipping_minor: order.quote.shipping.minor,
        tax_minor: order.quote.tax.minor,
        total_minor: order.quote.total.minor,
        currency: order.quote.total.currency.code().to_owned(),
        tweet_id: order.tweet_id.map(|t| TweetId::as_str(t).to_owned()),
        now: order.now,
        intent_id: order.intent_id.to_owned(),
        lang: order.lang.map(str::to_owned),
        title: order.names.title.to_owned(),
        label: order.names.label.to_owned(),
        delivery: order.names.delivery.map(str::to_owned),
        scope: key.map(|k| k.scope.to_owned()),
        idem_key: key.map(|k| k.key.to_owned()),
        request_hash: key.map(|k| k.hash.to_owned()),
    };
    // Only placements of one variant go together: they take its stock in one update. (The
    // product id's length keeps the name one variant's whatever the ids hold.)
    let variant = format!("{}:{}{}", order.product_id.len(), order.product_id, order.variant_id);
    let placed = PLACEMENTS.join_named(db, &variant, placing, place_rows).await.map_err(PlaceError::Other)??;
    Ok(placed)
}

/// A placement on PostgreSQL ([`place_in_one_statement`]), its fields the columns of
/// [`PLACING_COLUMNS`]; the key to claim with it when there is one.
#[derive(serde::Serialize)]
struct Placing {
    id: String,
    number: String,
    product_id: String,
    variant_id: String,
    quantity: i64,
    email: String,
    share_email: bool,
    shipping_json: Option<String>,
    subtotal_minor: i64,
    shipping_minor: i64,
    tax_minor: i64,
    total_minor: i64,
    currency: String,
    tweet_id: Option<String>,
    now: i64,
    intent_id: String,
    lang: Option<String>,
    title: String,
    label: String,
    delivery: Option<String>,
    scope: Option<String>,
    idem_key: Option<String>,
    request_hash: Option<String>,
}

/// [`Placing`]'s fields as `json_to_recordset` reads them.
const PLACING_COLUMNS: &str = "id text, number text, product_id text, variant_id text, quantity bigint, \
     email text, share_email boolean, shipping_json text, subtotal_minor bigint, shipping_minor bigint, \
     tax_minor bigint, total_minor bigint, currency text, tweet_id text, now bigint, intent_id text, lang text, \
     title text, label text, delivery text, scope text, \
     idem_key text, request_hash text";

/// The placements of each variant on PostgreSQL, grouped ([`crate::db::group`]): every
/// buyer of a variant updates its one stock row, so one update for many buyers takes its
/// lock once where it was taken, and waited for, once per buyer.
static PLACEMENTS: Groups<Placing, Result<bool, PlaceError>> = Groups::new();

/// Places a batch of one variant's orders in one statement when there is stock for all of
/// them and nothing else stands in the way; else (or for a batch of one) each alone, so each
/// gets the answer it would have got by itself: sold out, intent or key taken, or an order
/// number to draw again.
async fn place_rows(db: Db, rows: Vec<Placing>) -> Vec<Result<Result<bool, PlaceError>, AppError>> {
    // Two orders of one intent in a batch would both read it as free: they go alone, where
    // the second finds it taken.
    let intents: std::collections::HashSet<&str> = rows.iter().map(|r| r.intent_id.as_str()).collect();
    let one_variant =
        rows.windows(2).all(|w| (&w[0].product_id, &w[0].variant_id) == (&w[1].product_id, &w[1].variant_id));
    if rows.len() > 1 && intents.len() == rows.len() && one_variant {
        match place_many(&db, &rows).await {
            Ok(true) => return rows.iter().map(|_| Ok(Ok(true))).collect(),
            Ok(false) => {}
            Err(error) => tracing::debug!(%error, rows = rows.len(), "a batch of placements is placed one by one"),
        }
    }
    let mut answers = Vec::with_capacity(rows.len());
    for row in &rows {
        answers.push(Ok(place_one(&db, row).await));
    }
    answers
}

/// [`place_one`] for several orders of one variant: `false`, and nothing written, when its
/// stock cannot cover them all. An intent another order holds (its order's status left
/// NULL), a key or an order number already stored make the statement fail whole.
async fn place_many(db: &Db, rows: &[Placing]) -> Result<bool, AppError> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "WITH incoming AS (SELECT * FROM json_to_recordset($1::json) AS r({PLACING_COLUMNS})), \
         listed AS (SELECT 1 FROM products WHERE id = $2 FOR KEY SHARE), \
         reserved AS (UPDATE variants SET stock = stock - $4 WHERE EXISTS (SELECT 1 FROM listed) \
         AND product_id = $2 AND id = $3 AND stock IS NOT NULL AND stock >= $4 RETURNING 1), \
         go AS (SELECT 1 AS go WHERE EXISTS (SELECT 1 FROM reserved) \
         OR EXISTS (SELECT 1 FROM variants WHERE product_id = $2 AND id = $3 AND stock IS NULL)), \
         claimed_intent AS (UPDATE payment_intents SET order_id = r.id FROM incoming r \
         WHERE payment_intents.id = r.intent_id \
         AND payment_intents.id = ANY(ARRAY(SELECT intent_id FROM incoming)) \
         AND EXISTS (SELECT 1 FROM go) AND {free} RETURNING payment_intents.id), \
         placed AS (INSERT INTO orders (id, order_number, product_id, variant_id, quantity, email, share_email, \
         shipping_json, subtotal_minor, shipping_minor, tax_minor, total_minor, currency, status, tweet_id, \
         created_at, updated_at, intent_id, lang, holds_stock, bought_title, bought_label, bought_delivery) \
         SELECT r.id, r.number, r.product_id, r.variant_id, r.quantity, r.email, r.share_email, r.shipping_json, \
         r.subtotal_minor, r.shipping_minor, r.tax_minor, r.total_minor, r.currency, \
         (SELECT 'pending' FROM claimed_intent c WHERE c.id = r.intent_id), r.tweet_id, r.now, r.now, r.intent_id, \
         r.lang, EXISTS (SELECT 1 FROM reserved), r.title, r.label, r.delivery FROM incoming r, go RETURNING 1), \
         claimed_key AS (INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at, order_id) \
         SELECT r.scope, r.idem_key, r.request_hash, r.now, r.id FROM incoming r, go WHERE r.idem_key IS NOT NULL \
         RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM go)",
            free = intent_is_free!()
        )
    });
    let (Some(first), Ok(json)) = (rows.first(), serde_json::to_string(rows)) else {
        return Err(AppError::internal("an empty or unwritable batch of placements"));
    };
    let quantity: i64 = rows.iter().map(|r| r.quantity).sum();
    // Planned afresh each time (an unnamed statement): PostgreSQL keeps a prepared
    // statement's generic plan after a few runs, and one made while the tables were small
    // (a new shop, the first minute of a sale) goes on reading them whole as they grow, until
    // autovacuum analyzes them. Planning once a batch costs less than that.
    let (placed,): (bool,) = sqlx::query_as(&SQL)
        .persistent(false)
        .bind(json)
        .bind(&first.product_id)
        .bind(&first.variant_id)
        .bind(quantity)
        .fetch_one(&mut crate::db::write_conn(db).await?)
        .await?;
    Ok(placed)
}

/// One placement in one statement (see [`place_in_one_statement`]): `Ok(false)` when its
/// order number is taken.
async fn place_one(db: &Db, row: &Placing) -> Result<bool, PlaceError> {
    const PLACE: &str = concat!(
        "WITH listed AS (SELECT 1 FROM products WHERE id = $3 FOR KEY SHARE), \
         reserved AS (UPDATE variants SET stock = stock - $5 WHERE EXISTS (SELECT 1 FROM listed) \
         AND product_id = $3 AND id = $4 AND stock IS NOT NULL AND stock >= $5 RETURNING 1), \
         go AS (SELECT 1 AS go WHERE EXISTS (SELECT 1 FROM reserved) \
         OR EXISTS (SELECT 1 FROM variants WHERE product_id = $3 AND id = $4 AND stock IS NULL)), \
         claimed_intent AS (UPDATE payment_intents SET order_id = $1 WHERE id = $16 AND EXISTS (SELECT 1 FROM go) \
         AND ",
        intent_is_free!(),
        " RETURNING 'pending' AS status), \
         placed AS (INSERT INTO orders (id, order_number, product_id, variant_id, quantity, email, share_email, \
         shipping_json, subtotal_minor, shipping_minor, tax_minor, total_minor, currency, status, tweet_id, \
         created_at, updated_at, intent_id, lang, holds_stock, bought_title, bought_label, bought_delivery) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, (SELECT status FROM claimed_intent), \
         $14, $15, $15, $16, $17, EXISTS (SELECT 1 FROM reserved), $18, $19, $20 FROM go RETURNING 1)"
    );
    let sql = match row.idem_key {
        None => format!("{PLACE} SELECT EXISTS (SELECT 1 FROM go), FALSE"),
        Some(_) => format!(
            "{PLACE}, claimed_key AS (INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at, \
             order_id) SELECT $21, $22, $23, $15, $1 FROM go RETURNING 1) \
             SELECT EXISTS (SELECT 1 FROM go), \
             EXISTS (SELECT 1 FROM idempotency_keys WHERE scope = $21 AND idem_key = $22)"
        ),
    };
    let mut query = sqlx::query_as::<_, (bool, bool)>(&sql)
        .bind(&row.id)
        .bind(&row.number)
        .bind(&row.product_id)
        .bind(&row.variant_id)
        .bind(row.quantity)
        .bind(&row.email)
        .bind(row.share_email)
        .bind(&row.shipping_json)
        .bind(row.subtotal_minor)
        .bind(row.shipping_minor)
        .bind(row.tax_minor)
        .bind(row.total_minor)
        .bind(&row.currency)
        .bind(&row.tweet_id)
        .bind(row.now)
        .bind(&row.intent_id)
        .bind(&row.lang)
        .bind(&row.title)
        .bind(&row.label)
        .bind(&row.delivery);
    if row.idem_key.is_some() {
        query = query.bind(&row.scope).bind(&row.idem_key).bind(&row.request_hash);
    }
    let mut conn = crate::db::write_conn(db).await?;
    match query.fetch_one(&mut conn).await {
        Ok((true, _)) => Ok(true),
        // Not reserved, nothing written. A key already stored is told first, as when the key
        // was claimed first: its request may have been answered already.
        Ok((false, true)) => Err(PlaceError::KeyTaken),
        Ok((false, false)) => Err(PlaceError::SoldOut),
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("23505") => match error.constraint() {
            Some("idempotency_keys_pkey") => Err(PlaceError::KeyTaken),
            Some("orders_order_number_key") => Ok(false),
            _ => Err(sqlx::Error::Database(error).into()),
        },
        Err(sqlx::Error::Database(error))
            if error.code().as_deref() == Some("23502")
                && error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().and_then(|e| e.column())
                    == Some("status") =>
        {
            Err(PlaceError::IntentTaken)
        }
        Err(error) => Err(error.into()),
    }
}

/// The stock reservation: one conditional `UPDATE`, so two buyers of the last unit cannot
/// both succeed.
fn reservation<'q>(order: &'q NewOrder<'_>) -> AnyQuery<'q> {
    sqlx::query(
        "UPDATE variants SET stock = stock - $1 WHERE product_id = $2 AND id = $3 AND stock IS NOT NULL \
         AND stock >= $1",
    )
    .bind(i64::from(order.quantity))
    .bind(order.product_id)
    .bind(order.variant_id)
}

/// The variant's stock as stored: `None` when there is no such variant, `Some(None)` when it
/// does not count stock.
async fn stored_stock<C>(conn: &mut C, order: &NewOrder<'_>) -> Result<Option<Option<i64>>, sqlx::Error>
where
    C: Send + ?Sized,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let counted: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT stock FROM variants WHERE product_id = $1 AND id = $2")
            .bind(order.product_id)
            .bind(order.variant_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(counted.map(|(stock,)| stock))
}

async fn is_uncounted(conn: &mut crate::db::WriteTx, order: &NewOrder<'_>) -> Result<bool, sqlx::Error> {
    Ok(matches!(stored_stock(conn, order).await?, Some(None)))
}

/// How many units of the order's variant are left now: `None` for a variant that counts no
/// stock, or is gone.
pub async fn units_left(db: &Db, order: &NewOrder<'_>) -> Result<Option<i64>, AppError> {
    let mut reader = db.acquire().await?;
    Ok(stored_stock(&mut *reader, order).await?.flatten())
}

/// Whether the order's quantity could be reserved now.
async fn has_stock(conn: &mut AnyConnection, order: &NewOrder<'_>) -> Result<bool, sqlx::Error> {
    Ok(match stored_stock(conn, order).await? {
        Some(None) => true,
        Some(Some(stock)) => stock >= i64::from(order.quantity),
        None => false,
    })
}

/// The charge went through: marks the order paid and queues its receipt and its webhook
/// events, together, so a paid order always gets a receipt (see [`super::receipts`]) and
/// its sellers' endpoints always hear of it (see [`super::webhooks`]).
///
/// Only a pending order becomes paid (or one already paid by this very charge, which is
/// recorded again harmlessly): `false`, and nothing written, for one that was declined,
/// failed or taken back meanwhile. Its units, discount use and intent have been given back
/// by then, so the caller must give this charge back rather than sell them twice.
pub async fn mark_paid(
    db: &Db,
    order_id: &str,
    brand: CardBrand,
    last4: &str,
    charge_id: &str,
    now: i64,
) -> Result<bool, AppError> {
    mark_paid_and_answer(db, order_id, brand, last4, charge_id, now, None).await
}

/// Which orders a payment may mark paid (`charge_id` bound as `$3` on the orders' alias `o`,
/// or an expression for it): see [`mark_paid`].
macro_rules! payable {
    ($charge:literal) => {
        concat!("(o.status = 'pending' OR (o.status = 'paid' AND o.charge_id = ", $charge, "))")
    };
}

/// [`mark_paid`], storing the answer under the order's idempotency key in the same
/// transaction: one commit where there were two, and a paid order is never left with a key
/// still in flight.
pub async fn mark_paid_and_answer(
    db: &Db,
    order_id: &str,
    brand: CardBrand,
    last4: &str,
    charge_id: &str,
    now: i64,
    answer: Option<&KeyAnswer<'_>>,
) -> Result<bool, AppError> {
    let brand = to_text(&brand);
    let subscribers = super::webhooks::delivery::SubscribedEach::new(super::webhooks::ORDER_PAID_EVENTS);
    if engine_of(db) == Engine::Postgres {
        let paid = Paid {
            order_id: order_id.to_owned(),
            brand: brand.clone(),
            last4: last4.to_owned(),
            charge_id: charge_id.to_owned(),
            now,
            status: answer.map(|a| i64::from(a.status)),
            body: answer.map(|a| a.body.to_owned()),
            scope: answer.map(|a| a.scope.to_owned()),
            idem_key: answer.map(|a| a.key.to_owned()),
        };
        if PAID.join(db, paid, mark_paid_rows).await? {
            return Ok(true);
        }
    }
    let mut batch = Batch::new();
    let paid = batch.push_expecting_one(
        sqlx::query(concat!(
            "UPDATE orders AS o SET status = 'paid', card_brand = $1, card_last4 = $2, charge_id = $3, updated_at = $4 \
             WHERE id = $5 AND ",
            payable!("$3")
        ))
        .bind(&brand)
        .bind(last4)
        .bind(charge_id)
        .bind(now)
        .bind(order_id),
    );
    batch.push(
        sqlx::query("INSERT INTO receipt_outbox (order_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(order_id)
            .bind(now),
    );
    if let Some(answer) = answer {
        batch.push(super::order_idempotency::completion(answer.scope, answer.key, answer.status, answer.body, now));
    }
    let wanted = batch.push(subscribers.query());
    let (mut tx, ran) = begin_write_with(db, batch).await?;
    if ran.unmet == Some(paid) {
        tx.rollback().await?;
        return Ok(false);
    }
    let wanted = subscribers.read(&ran.statements[wanted].rows)?;
    super::webhooks::order_paid_for(&mut tx, order_id, wanted).await?;
    tx.commit().await?;
    Ok(true)
}

/// A payment to record on PostgreSQL ([`mark_paid_and_answer`]), with the answer to store
/// under the order's key when there is one; its fields are the columns of [`PAID_COLUMNS`].
#[derive(serde::Serialize)]
struct Paid {
    order_id: String,
    brand: String,
    last4: String,
    charge_id: String,
    now: i64,
    status: Option<i64>,
    body: Option<String>,
    scope: Option<String>,
    idem_key: Option<String>,
}

/// [`Paid`]'s fields as `json_to_recordset` reads them.
const PAID_COLUMNS: &str = "order_id text, brand text, last4 text, charge_id text, now bigint, status bigint, \
     body text, scope text, idem_key text";

/// Payments being recorded on PostgreSQL, grouped ([`crate::db::group`]): one transaction
/// for all that come together.
static PAID: Groups<Paid, bool> = Groups::new();

/// Records a batch of payments in one statement, each with its receipt in the outbox and its
/// key's answer, unless a webhook endpoint wants the payment's events: those are written in
/// Rust, so then nothing is written here and each answer is `false`, which sends its caller
/// the long way. So does an order the payment may not mark paid ([`mark_paid`]): the long
/// way finds that out alone. A batch that fails is written payment by payment
/// ([`together_or_alone`]).
async fn mark_paid_rows(db: Db, payments: Vec<Paid>) -> Vec<Result<bool, AppError>> {
    let subscribers = super::webhooks::delivery::SubscribedEach::new(super::webhooks::ORDER_PAID_EVENTS);
    let together = async {
        let paid = mark_paid_many(&db, &payments, &subscribers).await?;
        Ok(payments.iter().map(|p| paid.contains(&p.order_id)).collect())
    };
    together_or_alone(payments.len(), "payments", together, |i| {
        mark_paid_in_one_statement(&db, &payments[i], &subscribers)
    })
    .await
}

/// [`mark_paid_and_answer`] on PostgreSQL in one statement (a transaction of its own: one
/// round trip where a `BEGIN`, four statements and a `COMMIT` took six): `false`, and
/// nothing written, when a webhook endpoint wants the payment's events or the order may not
/// be marked paid ([`mark_paid_rows`]).
async fn mark_paid_in_one_statement<const N: usize>(
    db: &Db,
    paid: &Paid,
    subscribers: &super::webhooks::delivery::SubscribedEach<N>,
) -> Result<bool, AppError> {
    let answered = match paid.scope {
        Some(_) => format!(
            ", answered AS (UPDATE idempotency_keys SET response_status = ${a}, response_body = ${b}, \
             completed_at = $4 WHERE scope = ${c} AND idem_key = ${d} AND response_status IS NULL \
             AND EXISTS (SELECT 1 FROM paid))",
            a = N + 6,
            b = N + 7,
            c = N + 8,
            d = N + 9
        ),
        None => String::new(),
    };
    let sql = format!(
        "WITH listening AS (SELECT {listening} AS heard), \
         paid AS (UPDATE orders o SET status = 'paid', card_brand = $1, card_last4 = $2, charge_id = $3, \
         updated_at = $4 WHERE o.id = $5 AND {payable} AND NOT (SELECT heard FROM listening) RETURNING o.id), \
         outbox AS (INSERT INTO receipt_outbox (order_id, created_at) SELECT $5, $4 FROM paid \
         ON CONFLICT DO NOTHING){answered} \
         SELECT heard, EXISTS (SELECT 1 FROM paid) FROM listening",
        listening = subscribers.any_condition(5),
        payable = payable!("$3"),
    );
    let mut query = sqlx::query_as::<_, (bool, bool)>(&sql)
        .bind(&paid.brand)
        .bind(&paid.last4)
        .bind(&paid.charge_id)
        .bind(paid.now)
        .bind(&paid.order_id);
    for pattern in subscribers.patterns() {
        query = query.bind(pattern.as_str());
    }
    if paid.scope.is_some() {
        query = query.bind(paid.status).bind(&paid.body).bind(&paid.scope).bind(&paid.idem_key);
    }
    let (heard, marked) = query.fetch_one(&mut crate::db::write_conn(db).await?).await?;
    Ok(!heard && marked)
}

/// [`mark_paid_in_one_statement`] for several payments: the rows go as one JSON array. The
/// tables' rows are found by `= ANY` of arrays, through their keys' indexes: a join with the
/// set (or `IN`) is planned for its default 100 rows, as a scan of the whole table. Answers
/// the ids of the orders marked paid, each with its receipt and its key's answer.
async fn mark_paid_many<const N: usize>(
    db: &Db,
    payments: &[Paid],
    subscribers: &super::webhooks::delivery::SubscribedEach<N>,
) -> Result<std::collections::HashSet<String>, AppError> {
    let sql = format!(
        "WITH listening AS (SELECT {listening} AS heard), \
         paying AS (SELECT * FROM json_to_recordset($1::json) AS r({PAID_COLUMNS})), \
         paid AS (UPDATE orders o SET status = 'paid', card_brand = r.brand, card_last4 = r.last4, \
         charge_id = r.charge_id, updated_at = r.now FROM paying r \
         WHERE o.id = r.order_id AND o.id = ANY(ARRAY(SELECT order_id FROM paying)) AND {payable} \
         AND NOT (SELECT heard FROM listening) RETURNING o.id), \
         outbox AS (INSERT INTO receipt_outbox (order_id, created_at) SELECT order_id, now FROM paying \
         WHERE order_id IN (SELECT id FROM paid) ON CONFLICT DO NOTHING), \
         answered AS (UPDATE idempotency_keys k SET response_status = r.status, response_body = r.body, \
         completed_at = r.now FROM paying r WHERE k.scope = r.scope AND k.idem_key = r.idem_key \
         AND k.response_status IS NULL \
         AND k.scope = ANY(ARRAY(SELECT scope FROM paying WHERE scope IS NOT NULL)) \
         AND k.idem_key = ANY(ARRAY(SELECT idem_key FROM paying WHERE idem_key IS NOT NULL)) \
         AND r.order_id IN (SELECT id FROM paid)) \
         SELECT COALESCE((SELECT string_agg(id, ' ') FROM paid), '') FROM listening",
        listening = subscribers.any_condition(1),
        payable = payable!("r.charge_id"),
    );
    let json = serde_json::to_string(payments).map_err(|e| AppError::internal(e.to_string()))?;
    // Planned afresh each time, as `place_many` is.
    let mut query = sqlx::query_as::<_, (String,)>(&sql).persistent(false).bind(json);
    for pattern in subscribers.patterns() {
        query = query.bind(pattern.as_str());
    }
    let (paid,) = query.fetch_one(&mut crate::db::write_conn(db).await?).await?;
    Ok(paid.split_whitespace().map(str::to_owned).collect())
}

/// The answer to store under an idempotency key.
pub struct KeyAnswer<'a> {
    pub(crate) scope: &'a str,
    pub(crate) key: &'a str,
    pub(crate) status: u16,
    pub(crate) body: &'a str,
}

/// How a payment failed.
pub struct Failure<'a> {
    /// `declined` (the card was refused) or `failed` (no charge happened).
    pub(crate) status: &'static str,
    pub(crate) decline_code: Option<DeclineCode>,
    pub(crate) charge_id: Option<&'a str>,
    pub(crate) card: Option<(CardBrand, &'a str)>,
}

/// An order's `holds_stock` as 0 or 1: sqlx's Any driver cannot decode SQLite's BOOLEAN.
macro_rules! holds_stock {
    () => {
        "CASE WHEN holds_stock THEN 1 ELSE 0 END"
    };
}

/// Records the failure and gives the reserved stock back, together.
pub async fn mark_failed_and_release(
    db: &Db,
    order: &NewOrder<'_>,
    failure: &Failure<'_>,
    now: i64,
) -> Result<(), AppError> {
    let mut tx = begin_write(db).await?;
    let changed: Option<(i64,)> = sqlx::query_as(concat!(
        "UPDATE orders SET status = $1, decline_code = $2, charge_id = $3, card_brand = $4, card_last4 = $5, \
         updated_at = $6 WHERE id = $7 AND status = 'pending' RETURNING ",
        holds_stock!()
    ))
    .bind(failure.status)
    .bind(failure.decline_code.map(DeclineCode::as_str))
    .bind(failure.charge_id)
    .bind(failure.card.map(|(brand, _)| to_text(&brand)))
    .bind(failure.card.map(|(_, last4)| last4))
    .bind(now)
    .bind(order.id)
    .fetch_optional(&mut tx)
    .await?;
    // Only the transition out of `pending` releases, so stock is never given back twice.
    if let Some((holds_stock,)) = changed {
        give_back_stock(&mut tx, order, holds_stock != 0).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The new `stock` and `owed` of a variant that gets `$1` units back: they pay what a catalog
/// import left owed first ([`super::catalog_import`]), the rest goes on sale. (SQL evaluates
/// every right-hand side with the row as it was.)
macro_rules! units_back {
    ($units:literal) => {
        concat!(
            "stock = CASE WHEN stock - owed + ",
            $units,
            " > 0 THEN stock - owed + ",
            $units,
            " ELSE 0 END, ",
            "owed = CASE WHEN owed - stock - ",
            $units,
            " > 0 THEN owed - stock - ",
            $units,
            " ELSE 0 END"
        )
    };
}

/// Gives an order's units back to its variant when it took them (`holds_stock`: see
/// [`forget_holds`]), and the use of a discount code it took. The code's row is locked before
/// the variant's, in the order [`place`] takes them, so a give-back and a placement never
/// wait on each other in a cycle on PostgreSQL.
async fn give_back_stock(
    conn: &mut crate::db::WriteTx,
    order: &NewOrder<'_>,
    holds_stock: bool,
) -> Result<(), AppError> {
    super::discounts::give_back(conn, order.id).await?;
    if holds_stock {
        units_to(conn, order.product_id, order.variant_id, i64::from(order.quantity)).await?;
    }
    Ok(())
}

/// [`give_back_stock`] for a stored order, in the caller's transaction: a cancelled order's
/// units go back to its variant and its discount code's use to the code.
pub(crate) async fn give_back_stock_of(conn: &mut crate::db::WriteTx, order_id: &str) -> Result<(), AppError> {
    super::discounts::give_back(conn, order_id).await?;
    // Read by a write, which locks the order's row: an import forgetting its hold
    // ([`forget_holds`]) is then waited for, never read past.
    let (product_id, variant_id, quantity, holds_stock): (String, String, i64, i64) = sqlx::query_as(concat!(
        "UPDATE orders SET holds_stock = holds_stock WHERE id = $1 RETURNING product_id, variant_id, quantity, ",
        holds_stock!()
    ))
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await?;
    if holds_stock != 0 {
        units_to(conn, &product_id, &variant_id, quantity).await?;
    }
    Ok(())
}

/// Puts `units` back on a counted variant ([`units_back`]).
async fn units_to(
    conn: &mut crate::db::WriteTx,
    product_id: &str,
    variant_id: &str,
    units: i64,
) -> Result<(), AppError> {
    sqlx::query(concat!(
        "UPDATE variants SET ",
        units_back!("$1"),
        " WHERE product_id = $2 AND id = $3 AND stock IS NOT NULL"
    ))
    .bind(units)
    .bind(product_id)
    .bind(variant_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets the units every order of a variant took, when a catalog import starts its count
/// afresh (the variant is new or counted no stock) or stops it: the seller's new count is
/// what goes on sale, and units taken from an earlier count must not be added to it when such
/// an order fails or is cancelled. (An order placed while the variant counted none holds no
/// units from the start: [`place`].)
pub(crate) async fn forget_holds(
    conn: &mut crate::db::WriteTx,
    product_id: &str,
    variant_id: &str,
) -> Result<(), AppError> {
    sqlx::query("UPDATE orders SET holds_stock = FALSE WHERE product_id = $1 AND variant_id = $2 AND holds_stock")
        .bind(product_id)
        .bind(variant_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes back a pending order the vault refused to charge at all (its token unknown, spent,
/// or minted for another intent): the row, its stock and its claim on the intent go together,
/// as if it had never been placed, so a page that guesses tokens leaves nothing behind.
pub async fn discard(db: &Db, order: &NewOrder<'_>) -> Result<(), AppError> {
    let mut tx = begin_write(db).await?;
    let deleted: Option<(i64,)> =
        sqlx::query_as(concat!("DELETE FROM orders WHERE id = $1 AND status = 'pending' RETURNING ", holds_stock!()))
            .bind(order.id)
            .fetch_optional(&mut tx)
            .await?;
    if let Some((holds_stock,)) = deleted {
        give_back_stock(&mut tx, order, holds_stock != 0).await?;
        sqlx::query("UPDATE payment_intents SET order_id = NULL WHERE order_id = $1")
            .bind(order.id)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An order as stored, with what its receipt shows, for a retry that resumes it.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredOrder {
    pub(crate) id: String,
    pub(crate) order_number: String,
    pub(crate) status: String,
    pub(crate) product_id: String,
    pub(crate) variant_id: String,
    pub(crate) quantity: i64,
    pub(crate) email: String,
    pub(crate) shipping_json: Option<String>,
    pub(crate) subtotal_minor: i64,
    pub(crate) shipping_minor: i64,
    pub(crate) tax_minor: i64,
    pub(crate) total_minor: i64,
    pub(crate) currency: String,
    pub(crate) card_brand: Option<String>,
    pub(crate) card_last4: Option<String>,
    pub(crate) decline_code: Option<String>,
    pub(crate) intent_id: Option<String>,
    pub(crate) discount_code: Option<String>,
    pub(crate) discount_minor: i64,
    pub(crate) title: Option<String>,
    pub(crate) label: Option<String>,
    pub(crate) delivery: Option<String>,
}

impl StoredOrder {
    /// The amounts charged, as they were when the order was placed.
    pub fn quote(&self) -> Result<Quote, AppError> {
        let currency = tweetbuy_core::Currency::parse(&self.currency)
            .ok_or_else(|| AppError::internal(format!("stored currency {:?}", self.currency)))?;
        let money = |minor| tweetbuy_core::Money::new(minor, currency);
        Ok(Quote {
            subtotal: money(self.subtotal_minor),
            discount: self
                .discount_code
                .clone()
                .map(|code| tweetbuy_core::Discount { code, amount: money(self.discount_minor) }),
            shipping: money(self.shipping_minor),
            tax: money(self.tax_minor),
            total: money(self.total_minor),
        })
    }

    pub(crate) fn shipping(&self) -> Result<Option<ShippingAddress>, AppError> {
        self.shipping_json
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| AppError::internal(format!("stored shipping of {}: {e}", self.id)))
    }

    /// What [`mark_failed_and_release`] needs to give this order's stock back.
    pub fn as_new<'a>(&'a self, quote: &'a Quote, now: i64) -> Result<NewOrder<'a>, AppError> {
        Ok(NewOrder {
            id: &self.id,
            product_id: &self.product_id,
            variant_id: &self.variant_id,
            quantity: u32::try_from(self.quantity).map_err(|_| AppError::internal("stored quantity"))?,
            email: &self.email,
            share_email: false,
            shipping: None,
            quote,
            tweet_id: None,
            intent_id: self.intent_id.as_deref().unwrap_or_default(),
            lang: None,
            names: BoughtNames::default(),
            now,
        })
    }
}

/// The order with this id, if one was written.
pub async fn find(db: &Db, order_id: &str) -> Result<Option<StoredOrder>, AppError> {
    let order = sqlx::query_as(
        "SELECT o.id, o.order_number, o.status, o.product_id, o.variant_id, o.quantity, o.email, o.shipping_json, \
         o.subtotal_minor, o.shipping_minor, o.tax_minor, o.total_minor, o.currency, o.card_brand, o.card_last4, \
         o.decline_code, o.intent_id, o.discount_code, o.discount_minor, COALESCE(o.bought_title, p.title) AS title, \
         COALESCE(o.bought_label, v.label) AS label, \
         CASE WHEN o.bought_title IS NULL THEN p.delivery ELSE o.bought_delivery END AS delivery \
         FROM orders o LEFT JOIN products p ON p.id = o.product_id \
         LEFT JOIN variants v ON v.product_id = o.product_id AND v.id = o.variant_id WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_optional(db)
    .await?;
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pending order with its key still in flight, as a placement leaves them.
    async fn pending(db: &Db, id: &str) {
        sqlx::query(
            "INSERT INTO orders (id, order_number, product_id, variant_id, quantity, email, subtotal_minor, \
             shipping_minor, tax_minor, total_minor, currency, status, created_at, updated_at) \
             VALUES ($1, $1, 'red-tee', 'm', 1, 'a@example.com', 3000, 0, 0, 3000, 'USD', 'pending', 1, 1)",
        )
        .bind(id)
        .execute(db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at, order_id) \
             VALUES ('orders', $1, 'h', 1, $1)",
        )
        .bind(format!("key-{id}"))
        .execute(db)
        .await
        .unwrap();
    }

    fn paid(id: &str, answered: bool) -> Paid {
        Paid {
            order_id: id.to_owned(),
            brand: "visa".to_owned(),
            last4: format!("{:0>4}", id.len()),
            charge_id: format!("ch_{id}"),
            now: 50,
            status: answered.then_some(201),
            body: answered.then(|| format!("{{\"order\":\"{id}\"}}")),
            scope: answered.then(|| "orders".to_owned()),
            idem_key: answered.then(|| format!("key-{id}")),
        }
    }

    /// The order's status, charge, receipt and key's answer as stored.
    async fn stored(db: &Db, id: &str) -> (String, Option<String>, bool, Option<i64>, Option<String>) {
        sqlx::query_as(
            "SELECT o.status, o.charge_id, EXISTS (SELECT 1 FROM receipt_outbox r WHERE r.order_id = o.id), \
             k.response_status, k.response_body FROM orders o \
             JOIN idempotency_keys k ON k.scope = 'orders' AND k.idem_key = 'key-' || o.id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
    }

    /// An intent for one M tee, not yet claimed by any order.
    async fn intent(db: &Db, id: &str) {
        sqlx::query(
            "INSERT INTO payment_intents (id, secret_hash, product_id, variant_id, quantity, email, subtotal_minor, \
             shipping_minor, tax_minor, total_minor, currency, created_at, expires_at) \
             VALUES ($1, 'h', 'red-tee', 'm', 1, 'a@example.com', 3000, 0, 0, 3000, 'USD', 1, 99999)",
        )
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    }

    fn placing(id: &str, intent_id: &str, quantity: i64) -> Placing {
        Placing {
            id: id.to_owned(),
            number: format!("N-{id}"),
            product_id: "red-tee".to_owned(),
            variant_id: "m".to_owned(),
            quantity,
            email: "a@example.com".to_owned(),
            share_email: false,
            shipping_json: None,
            subtotal_minor: 3000 * quantity,
            shipping_minor: 0,
            tax_minor: 0,
            total_minor: 3000 * quantity,
            currency: "USD".to_owned(),
            tweet_id: None,
            now: 7,
            intent_id: intent_id.to_owned(),
            lang: None,
            title: "Tee".to_owned(),
            label: "M".to_owned(),
            delivery: None,
            scope: Some("orders".to_owned()),
            idem_key: Some(format!("key-{id}")),
            request_hash: Some("h".to_owned()),
        }
    }

    async fn stock_of_m(db: &Db) -> i64 {
        let (stock,): (i64,) = sqlx::query_as("SELECT stock FROM variants WHERE product_id = 'red-tee' AND id = 'm'")
            .fetch_one(db)
            .await
            .unwrap();
        stock
    }

    /// On PostgreSQL a batch of one variant's placements is one statement: the stock taken
    /// for all, each intent claimed by its order, each key stored. A batch the stock cannot
    /// cover, or with one intent twice, is placed order by order, with each order's own answer.
    #[tokio::test]
    async fn a_batch_of_placements_takes_the_stock_once_or_goes_order_by_order() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        for id in ["i1", "i2", "i3", "i4", "i5", "i6", "i7"] {
            intent(&db, id).await;
        }
        assert_eq!(stock_of_m(&db).await, 15);
        let spanish = Placing { lang: Some("es-MX".into()), ..placing("p2", "i2", 2) };
        let batch = [placing("p1", "i1", 1), spanish];
        assert!(place_many(&db, &batch).await.unwrap());
        assert_eq!(stock_of_m(&db).await, 12);
        let (orders, claimed, keys): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM orders WHERE status = 'pending' AND intent_id IN ('i1', 'i2') \
             AND order_number IN ('N-p1', 'N-p2') AND lang IS NOT DISTINCT FROM \
             CASE id WHEN 'p2' THEN 'es-MX' END), \
             (SELECT COUNT(*) FROM payment_intents WHERE (id, order_id) IN (('i1', 'p1'), ('i2', 'p2'))), \
             (SELECT COUNT(*) FROM idempotency_keys WHERE idem_key IN ('key-p1', 'key-p2') AND order_id LIKE 'p_')",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!((orders, claimed, keys), (2, 2, 2));

        // 5 + 5 + 5 of the 12 left: the batch is refused whole, then two are placed alone.
        let answers =
            place_rows(db.clone(), vec![placing("p3", "i3", 5), placing("p4", "i4", 5), placing("p5", "i5", 5)]).await;
        let answers: Vec<_> = answers.into_iter().map(|a| a.unwrap()).collect();
        assert!(matches!(answers[..], [Ok(true), Ok(true), Err(PlaceError::SoldOut)]), "{answers:?}");
        assert_eq!(stock_of_m(&db).await, 2);

        // One intent twice, and one already claimed (by p1).
        let answers =
            place_rows(db.clone(), vec![placing("p6", "i6", 1), placing("p7", "i6", 1), placing("p8", "i1", 1)]).await;
        let answers: Vec<_> = answers.into_iter().map(|a| a.unwrap()).collect();
        assert!(
            matches!(answers[..], [Ok(true), Err(PlaceError::IntentTaken), Err(PlaceError::IntentTaken)]),
            "{answers:?}"
        );
        assert_eq!(stock_of_m(&db).await, 1);

        // Alone, with its key and its buyer's language.
        intent(&db, "i9").await;
        let spanish = Placing { lang: Some("es".into()), ..placing("p9", "i9", 1) };
        assert!(matches!(place_one(&db, &spanish).await, Ok(true)));
        let (lang, key): (Option<String>, i64) = sqlx::query_as(
            "SELECT lang, (SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = 'key-p9' AND order_id = 'p9') \
             FROM orders WHERE id = 'p9'",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!((lang.as_deref(), key), (Some("es"), 1));
        assert_eq!(stock_of_m(&db).await, 0);
    }

    /// Statements that store `count` rows, ids `{prefix}{n}`, into each of `tables`
    /// (`payment_intents`, unclaimed; `orders`, paid; `idempotency_keys`, of those orders).
    fn grown(tables: &[&str], prefix: &str, count: u32) -> Vec<String> {
        let rows = |sql: &str| format!("{sql} FROM generate_series(1, {count}) AS n");
        let mut statements = Vec::new();
        for table in tables {
            statements.push(match *table {
                "payment_intents" => rows(&format!(
                    "INSERT INTO payment_intents (id, secret_hash, product_id, variant_id, quantity, email, \
                     subtotal_minor, shipping_minor, tax_minor, total_minor, currency, created_at, expires_at) \
                     SELECT '{prefix}' || n, 'h', 'red-tee', 'm', 1, 'a@example.com', 3000, 0, 0, 3000, 'USD', 1, \
                     99999"
                )),
                "orders" => rows(&format!(
                    "INSERT INTO orders (id, order_number, product_id, variant_id, quantity, email, \
                     subtotal_minor, shipping_minor, tax_minor, total_minor, currency, status, created_at, \
                     updated_at) SELECT '{prefix}' || n, '{prefix}' || n, 'red-tee', 'm', 1, 'a@example.com', \
                     3000, 0, 0, 3000, 'USD', 'paid', 1, 1"
                )),
                _ => rows(&format!(
                    "INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at, order_id) \
                     SELECT 'orders', 'key-{prefix}' || n, 'h', 1, '{prefix}' || n"
                )),
            });
        }
        statements
    }

    /// A batch of placements finds its intents, and the order an intent is taken over from,
    /// by their keys, however large the tables have grown since the statement's first runs:
    /// a list of every declined or failed order, or a plan kept from when the tables were
    /// small, reads them whole.
    #[tokio::test]
    async fn a_batch_finds_its_intents_by_key_however_large_the_table_has_grown() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        let tables = ["payment_intents", "orders"];
        crate::db::without_autovacuum(&db, &tables).await;
        crate::db::run_all(&db, grown(&tables, "early", 300)).await;
        // PostgreSQL may keep a statement's generic plan from its sixth run on.
        for n in 0..8 {
            let (intent_id, order_id) = (format!("small{n}"), format!("ps{n}"));
            intent(&db, &intent_id).await;
            assert!(place_many(&db, &[placing(&order_id, &intent_id, 1)]).await.unwrap());
        }
        crate::db::run_all(&db, grown(&tables, "late", 20_000)).await;
        // One intent is paid for again after its first order was declined.
        intent(&db, "now1").await;
        intent(&db, "now2").await;
        pending(&db, "declined1").await;
        sqlx::query("UPDATE orders SET status = 'declined', intent_id = 'now1' WHERE id = 'declined1'")
            .execute(&db)
            .await
            .unwrap();
        sqlx::query("UPDATE payment_intents SET order_id = 'declined1' WHERE id = 'now1'").execute(&db).await.unwrap();
        let before = crate::db::whole_reads(&db, &tables).await;
        let batch = [placing("pn1", "now1", 1), placing("pn2", "now2", 1)];
        assert!(place_many(&db, &batch).await.unwrap());
        assert_eq!(
            crate::db::whole_reads(&db, &tables).await,
            before,
            "the batch read the intents or the orders whole"
        );
        let (claimed,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM payment_intents WHERE order_id IN ('pn1', 'pn2')")
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(claimed, 2, "both intents claimed, one taken over from its declined order");
    }

    /// [`a_batch_finds_its_intents_by_key_however_large_the_table_has_grown`] for payments:
    /// the orders and their keys.
    #[tokio::test]
    async fn a_batch_of_payments_finds_its_orders_by_key_however_large_the_tables_have_grown() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        let subscribers =
            super::super::webhooks::delivery::SubscribedEach::new(super::super::webhooks::ORDER_PAID_EVENTS);
        let tables = ["orders", "idempotency_keys"];
        crate::db::without_autovacuum(&db, &tables).await;
        crate::db::run_all(&db, grown(&tables, "early", 300)).await;
        for n in 0..8 {
            let id = format!("small{n}");
            pending(&db, &id).await;
            assert!(mark_paid_many(&db, &[paid(&id, true)], &subscribers).await.unwrap().contains(&id));
        }
        crate::db::run_all(&db, grown(&tables, "late", 20_000)).await;
        pending(&db, "now1").await;
        pending(&db, "now2").await;
        let before = crate::db::whole_reads(&db, &tables).await;
        assert_eq!(
            mark_paid_many(&db, &[paid("now1", true), paid("now2", true)], &subscribers).await.unwrap().len(),
            2
        );
        assert_eq!(stored(&db, "now2").await.0, "paid");
        assert_eq!(crate::db::whole_reads(&db, &tables).await, before, "the batch read the orders or their keys whole");
    }

    /// On PostgreSQL a batch of payments is one statement: each order paid with its own
    /// charge, its receipt queued and its key's answer stored (a payment with no answer leaves
    /// its key alone). An order no longer pending is left as it is, without receipt or answer.
    /// With a webhook endpoint listening, nothing is written and every answer sends its caller
    /// the long way.
    #[tokio::test]
    async fn a_batch_of_payments_is_recorded_in_one_statement() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        let subscribers =
            super::super::webhooks::delivery::SubscribedEach::new(super::super::webhooks::ORDER_PAID_EVENTS);
        for id in ["o1", "o2", "o3", "o4", "o5"] {
            pending(&db, id).await;
        }
        sqlx::query("UPDATE orders SET status = 'declined' WHERE id = 'o5'").execute(&db).await.unwrap();
        let batch = [paid("o1", true), paid("o2", false), paid("o3", true), paid("o5", true)];
        let marked = mark_paid_many(&db, &batch, &subscribers).await.unwrap();
        assert_eq!(marked, ["o1", "o2", "o3"].map(String::from).into());
        assert_eq!(stored(&db, "o5").await, ("declined".into(), None, false, None, None));
        assert_eq!(
            stored(&db, "o1").await,
            ("paid".into(), Some("ch_o1".into()), true, Some(201), Some(r#"{"order":"o1"}"#.into()))
        );
        assert_eq!(stored(&db, "o2").await, ("paid".into(), Some("ch_o2".into()), true, None, None));
        assert_eq!(stored(&db, "o3").await.3, Some(201));
        let again = mark_paid_many(&db, &[paid("o1", true), paid("o2", true)], &subscribers).await.unwrap();
        assert_eq!(again, ["o1", "o2"].map(String::from).into(), "paid again by the same charge");

        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, secret, events, created_at) \
             VALUES ('we_1', 'https://seller.example/hook', 'x', '*', 1)",
        )
        .execute(&db)
        .await
        .unwrap();
        assert!(mark_paid_many(&db, &[paid("o4", true)], &subscribers).await.unwrap().is_empty());
        assert_eq!(stored(&db, "o4").await, ("pending".into(), None, false, None, None));
    }
}
