//! Refunds and cancellations of paid orders, for the seller (admin api and command line).
//!
//! A refund gives back part or all of an order's total through the vault, which refunds the
//! order's charge at the processor. It runs in three steps so that neither a race nor a crash
//! can give back more than was paid:
//!
//! 1. **Reserve**, in one api transaction under the order's row lock: the amount is checked
//!    against what is left ([`bounds::plan`]) and added to `orders.refund_reserved_minor` by a
//!    conditional UPDATE that never lets the reservations pass the total, and a `pending`
//!    refund row is written under the seller's idempotency key. Concurrent refunds of one
//!    order queue on that lock (PostgreSQL) or on the write gate (SQLite).
//! 2. **Refund at the vault**, with the refund row's id as the reference: the vault answers a
//!    repeated reference with the first refund, never a second one.
//! 3. **Settle**, in one api transaction: the refund is marked succeeded, its receipt queued
//!    in `refund_receipt_outbox`, and a cancellation's stock returned.
//!
//! A crash or a lost answer between 2 and 3 leaves the refund `pending` with its amount
//! reserved; the seller's retry with the same key finds it and resumes at step 2. A refund
//! the vault refused is taken back whole (its reservation released, the key free again).
//! A cancellation is the refund of everything left, under the key `cancel` (so an order is
//! cancelled once), and marks the order cancelled in step 1 so it can no longer ship.

pub(crate) mod admin;
pub(crate) mod bounds;

use crate::api::order_store;
use crate::api::vault_client::{refused_for_good, RefundOutcome, VaultClient};
use crate::api::webhooks::{self, EventType};
use crate::clock;
use crate::db::{begin_write, retry_busy, Db};
use crate::error::AppError;
use crate::ids::random_id;
use axum::http::StatusCode;
use bounds::{Ask, OrderState, Refusal};
use serde::Serialize;
use sqlx::FromRow;
use tweetbuy_core::vault::RefundRequest;
use tweetbuy_core::{ApiError, Currency, ErrorCode, FieldError, Money};

/// The idempotency key of an order's one cancellation.
const CANCEL_KEY: &str = "cancel";

/// A refund or a cancellation, as the seller is answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Refund {
    /// The refund's id (`rf_…`); a cancellation's refund has one too.
    pub refund_id: String,
    /// The refunded order's id (`ord_…`).
    pub order_id: String,
    /// The refunded order's number (`TB-…`), as its receipt shows it.
    pub order_number: String,
    /// `refund` or `cancellation`.
    pub kind: String,
    /// This order's refunds counted from 1 (the refund receipt is `{order_number}-refund-{number}`).
    pub number: i64,
    /// What this refund gives back, in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// `succeeded`; `pending` only while the vault's answer is awaited.
    pub status: String,
    /// What the order's succeeded refunds gave back in all, this one included.
    pub order_refunded_minor: i64,
    /// What is left of the order's total to refund.
    pub order_remaining_minor: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// A refund's answer, and whether it is the stored answer to an earlier request.
#[derive(Debug)]
pub struct Answered {
    pub(crate) refund: Refund,
    pub(crate) replayed: bool,
}

/// Refunds `amount_minor` of the order (everything left without one) under the seller's
/// idempotency key: the same key and amount again answer the first refund.
pub async fn refund(
    db: &Db,
    vault: &VaultClient,
    order_number: &str,
    amount_minor: Option<i64>,
    key: &str,
) -> Result<Answered, AppError> {
    let hash = match amount_minor {
        Some(amount) => format!("refund:{amount}"),
        None => "refund:rest".to_owned(),
    };
    run(db, vault, order_number, Ask::Refund { amount_minor }, &format!("refund:{key}"), &hash).await
}

/// Cancels an unshipped paid order: refunds everything left and returns its stock. A second
/// cancellation answers the first.
pub async fn cancel(db: &Db, vault: &VaultClient, order_number: &str) -> Result<Answered, AppError> {
    run(db, vault, order_number, Ask::Cancel, CANCEL_KEY, CANCEL_KEY).await
}

/// A refund row.
#[derive(Clone, Debug, FromRow)]
struct RefundRow {
    id: String,
    order_id: String,
    request_hash: String,
    number: i64,
    kind: String,
    amount_minor: i64,
    currency: String,
    status: String,
    created_at: i64,
}

const REFUND_COLUMNS: &str = "id, order_id, request_hash, number, kind, amount_minor, currency, status, created_at";

/// How step 1 ended.
enum Begun {
    /// A new refund was reserved (`fresh`), or a pending one under the same key is resumed.
    Go { row: RefundRow, charge_id: String, fresh: bool },
    /// The same key already has a succeeded refund.
    Done(RefundRow),
}

async fn run(
    db: &Db,
    vault: &VaultClient,
    order_number: &str,
    ask: Ask,
    key: &str,
    hash: &str,
) -> Result<Answered, AppError> {
    let order_number = &crate::ids::typed_order_number(order_number);
    let now = clock::now();
    let (row, charge_id, fresh) = match retry_busy(|| reserve(db, order_number, ask, key, hash, now)).await? {
        Begun::Done(row) => return Ok(Answered { refund: view(db, &row).await?, replayed: true }),
        Begun::Go { row, charge_id, fresh } => (row, charge_id, fresh),
    };
    let vault_refund_id = match ask_vault(vault, &row, charge_id).await? {
        Asked::Refunded(id) => id,
        // A refund asked for the first time, or refused for good, was never made: it is given
        // up. Any other refusal of a resumed one may follow an ask that did refund.
        Asked::Refused(body) if fresh || refused_for_good(body.code) => {
            tracing::error!(refund_id = %row.id, code = ?body.code, message = %body.message, "the vault refused a refund");
            retry_busy(|| release(db, &row)).await?;
            return Err(refused_by_vault(body));
        }
        Asked::Refused(body) => {
            tracing::error!(refund_id = %row.id, code = ?body.code, "the vault refused a resumed refund; it stays pending");
            return Err(not_confirmed());
        }
        Asked::Unknown(reason) => {
            tracing::error!(refund_id = %row.id, %reason, "refund outcome unknown; it stays pending");
            return Err(not_confirmed());
        }
    };
    retry_busy(|| settle(db, &row, vault_refund_id.as_deref(), clock::now())).await?;
    let settled = find_refund(db, &row.id).await?.ok_or_else(|| AppError::internal("settled refund vanished"))?;
    tracing::info!(refund_id = %row.id, order_id = %row.order_id, kind = %row.kind, amount_minor = row.amount_minor, "refund succeeded");
    Ok(Answered { refund: view(db, &settled).await?, replayed: false })
}

/// What the vault said of one refund.
enum Asked {
    /// Refunded (the vault's refund id; `None` when there was nothing to give back).
    Refunded(Option<String>),
    /// Refused: nothing was refunded.
    Refused(ApiError),
    /// No answer: it may or may not have happened.
    Unknown(String),
}

/// Step 2: asks the vault to refund `row` of the charge, under the refund's id as the
/// reference, so asking again (a retry, the sweep) never refunds twice.
async fn ask_vault(vault: &VaultClient, row: &RefundRow, charge_id: String) -> Result<Asked, AppError> {
    if row.amount_minor == 0 {
        // A cancellation of an order already refunded in full: nothing to give back.
        return Ok(Asked::Refunded(None));
    }
    let request = RefundRequest {
        charge_id,
        amount: Money::new(row.amount_minor, parse_currency(&row.currency)?),
        reference: row.id.clone(),
    };
    Ok(match vault.refund(&request).await {
        RefundOutcome::Refunded(result) => Asked::Refunded(Some(result.refund_id)),
        RefundOutcome::Refused(body) => Asked::Refused(body),
        RefundOutcome::Unknown(reason) => Asked::Unknown(reason),
    })
}

/// Refunds still `pending` since before `cutoff`: the vault's answer was lost and nobody
/// retried with the key. Each is asked of the vault again under its own reference (never
/// refunded twice), then settled or released by the answer, or left for the next sweep when
/// the vault still cannot say. Returns how many were settled or released.
pub async fn settle_stale(db: &Db, vault: &VaultClient, cutoff: i64) -> Result<usize, AppError> {
    let rows: Vec<RefundRow> = sqlx::query_as(&format!(
        "SELECT {REFUND_COLUMNS} FROM refunds WHERE status = 'pending' AND created_at < $1 ORDER BY created_at \
         LIMIT 100"
    ))
    .bind(cutoff)
    .fetch_all(db)
    .await?;
    let mut done = 0;
    for row in rows {
        let (charge_id,): (Option<String>,) =
            sqlx::query_as("SELECT charge_id FROM orders WHERE id = $1").bind(&row.order_id).fetch_one(db).await?;
        match ask_vault(vault, &row, charge_id.unwrap_or_default()).await? {
            Asked::Refunded(id) => {
                retry_busy(|| settle(db, &row, id.as_deref(), clock::now())).await?;
                tracing::info!(refund_id = %row.id, "pending refund settled: refunded");
            }
            Asked::Refused(body) if refused_for_good(body.code) => {
                retry_busy(|| release(db, &row)).await?;
                tracing::warn!(refund_id = %row.id, code = ?body.code, "pending refund released: the vault refused it");
            }
            Asked::Refused(body) => {
                tracing::warn!(refund_id = %row.id, code = ?body.code, "pending refund not settled: the vault refused to say");
                continue;
            }
            Asked::Unknown(reason) => {
                tracing::warn!(refund_id = %row.id, %reason, "pending refund not settled: the vault could not say");
                continue;
            }
        }
        done += 1;
    }
    Ok(done)
}

/// The order, as step 1 reads it under its lock.
#[derive(FromRow)]
struct LockedOrder {
    id: String,
    status: String,
    total_minor: i64,
    currency: String,
    refund_reserved_minor: i64,
    shipped_at: Option<i64>,
    cancelled_at: Option<i64>,
    charge_id: Option<String>,
}

/// Step 1: takes the order's row lock, then answers an earlier request under the same key,
/// or checks the bounds and reserves the amount with a `pending` refund row.
async fn reserve(db: &Db, order_number: &str, ask: Ask, key: &str, hash: &str, now: i64) -> Result<Begun, AppError> {
    let mut tx = begin_write(db).await?;
    // A no-op UPDATE takes the row lock on PostgreSQL (SQLite's transaction holds the file):
    // refunds of one order run one after another from here.
    let locked = sqlx::query("UPDATE orders SET refund_reserved_minor = refund_reserved_minor WHERE order_number = $1")
        .bind(order_number)
        .execute(&mut tx)
        .await?;
    if locked.rows_affected() != 1 {
        return Err(AppError::not_found(format!("There is no order {order_number}.")));
    }
    let order: LockedOrder = sqlx::query_as(
        "SELECT id, status, total_minor, currency, refund_reserved_minor, shipped_at, cancelled_at, charge_id \
         FROM orders WHERE order_number = $1",
    )
    .bind(order_number)
    .fetch_one(&mut tx)
    .await?;
    let earlier: Option<RefundRow> =
        sqlx::query_as(&format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE order_id = $1 AND idem_key = $2"))
            .bind(&order.id)
            .bind(key)
            .fetch_optional(&mut tx)
            .await?;
    if let Some(earlier) = earlier {
        tx.rollback().await?;
        if earlier.request_hash != hash {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was already used for a different refund of this order.",
            ));
        }
        if earlier.status == "succeeded" {
            return Ok(Begun::Done(earlier));
        }
        tracing::info!(refund_id = %earlier.id, "resuming a refund whose first attempt did not finish");
        let charge_id = order.charge_id.ok_or_else(|| AppError::internal("a refunded order without its charge"))?;
        return Ok(Begun::Go { row: earlier, charge_id, fresh: false });
    }
    let state = OrderState {
        status: order.status.clone(),
        total_minor: order.total_minor,
        reserved_minor: order.refund_reserved_minor,
        shipped: order.shipped_at.is_some(),
        cancelled: order.cancelled_at.is_some(),
    };
    let currency = parse_currency(&order.currency)?;
    let amount = bounds::plan(&state, ask).map_err(|refusal| refusal_error(order_number, refusal, currency))?;
    let charge_id = order.charge_id.ok_or_else(|| AppError::internal("a paid order without its charge"))?;
    // The same bound again, in the statement that writes it.
    let reserve_sql = match ask {
        Ask::Refund { .. } => {
            "UPDATE orders SET refund_reserved_minor = refund_reserved_minor + $1, updated_at = $2 \
             WHERE id = $3 AND status = 'paid' AND refund_reserved_minor + $1 <= total_minor"
        }
        Ask::Cancel => {
            "UPDATE orders SET refund_reserved_minor = refund_reserved_minor + $1, updated_at = $2, cancelled_at = $2 \
             WHERE id = $3 AND status = 'paid' AND refund_reserved_minor + $1 <= total_minor \
             AND shipped_at IS NULL AND cancelled_at IS NULL"
        }
    };
    let reserved = sqlx::query(reserve_sql).bind(amount).bind(now).bind(&order.id).execute(&mut tx).await?;
    if reserved.rows_affected() != 1 {
        return Err(AppError::internal("the order changed under its lock"));
    }
    let (number,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(number), 0) + 1 FROM refunds WHERE order_id = $1")
        .bind(&order.id)
        .fetch_one(&mut tx)
        .await?;
    let row = RefundRow {
        id: random_id("rf_"),
        order_id: order.id.clone(),
        request_hash: hash.to_owned(),
        number,
        kind: match ask {
            Ask::Refund { .. } => "refund",
            Ask::Cancel => "cancellation",
        }
        .to_owned(),
        amount_minor: amount,
        currency: order.currency.clone(),
        status: "pending".to_owned(),
        created_at: now,
    };
    sqlx::query(
        "INSERT INTO refunds (id, order_id, idem_key, request_hash, number, kind, amount_minor, currency, status, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9)",
    )
    .bind(&row.id)
    .bind(&row.order_id)
    .bind(key)
    .bind(hash)
    .bind(row.number)
    .bind(&row.kind)
    .bind(row.amount_minor)
    .bind(&row.currency)
    .bind(now)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(Begun::Go { row, charge_id, fresh: true })
}

/// Step 3, in one transaction: the refund succeeded, its receipt is queued, and a
/// cancellation's units go back to stock. Only the transition out of `pending` does this, so
/// two requests resuming one refund settle it once.
async fn settle(db: &Db, row: &RefundRow, vault_refund_id: Option<&str>, now: i64) -> Result<(), AppError> {
    let mut tx = begin_write(db).await?;
    let settled = sqlx::query(
        "UPDATE refunds SET status = 'succeeded', vault_refund_id = $1, completed_at = $2 \
         WHERE id = $3 AND status = 'pending'",
    )
    .bind(vault_refund_id)
    .bind(now)
    .bind(&row.id)
    .execute(&mut tx)
    .await?;
    if settled.rows_affected() == 1 {
        if row.amount_minor > 0 {
            queue_receipt(&mut tx, &row.id, now).await?;
        }
        if row.kind == "cancellation" {
            order_store::give_back_stock_of(&mut tx, &row.order_id).await?;
        }
        let event = if row.kind == "cancellation" { EventType::OrderCancelled } else { EventType::OrderRefunded };
        webhooks::order_event(&mut tx, event, &row.order_id, &row.id).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn queue_receipt(conn: &mut crate::db::WriteTx, refund_id: &str, now: i64) -> Result<(), AppError> {
    sqlx::query("INSERT INTO refund_receipt_outbox (refund_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(refund_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes back a refund the vault refused: the row goes and its reservation (and a
/// cancellation's mark) with it, so the order is as before and the key can be used again.
async fn release(db: &Db, row: &RefundRow) -> Result<(), AppError> {
    let mut tx = begin_write(db).await?;
    let deleted =
        sqlx::query("DELETE FROM refunds WHERE id = $1 AND status = 'pending'").bind(&row.id).execute(&mut tx).await?;
    if deleted.rows_affected() == 1 {
        let sql = if row.kind == "cancellation" {
            "UPDATE orders SET refund_reserved_minor = refund_reserved_minor - $1, cancelled_at = NULL WHERE id = $2"
        } else {
            "UPDATE orders SET refund_reserved_minor = refund_reserved_minor - $1 WHERE id = $2"
        };
        sqlx::query(sql).bind(row.amount_minor).bind(&row.order_id).execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn find_refund(db: &Db, id: &str) -> Result<Option<RefundRow>, AppError> {
    let row = sqlx::query_as(&format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row)
}

/// What an order's succeeded refunds gave back, in SQL over an `orders o` row.
pub(crate) const REFUNDED_SQL: &str = "CAST(COALESCE((SELECT SUM(r.amount_minor) FROM refunds r \
     WHERE r.order_id = o.id AND r.status = 'succeeded'), 0) AS BIGINT)";

/// What the refunds of the order `o` still waiting for the vault's answer give back.
pub(crate) const PENDING_REFUNDS_SQL: &str = "CAST(COALESCE((SELECT SUM(r.amount_minor) FROM refunds r \
     WHERE r.order_id = o.id AND r.status = 'pending'), 0) AS BIGINT)";

async fn view(db: &Db, row: &RefundRow) -> Result<Refund, AppError> {
    let (order_number, total, reserved, refunded): (String, i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT o.order_number, o.total_minor, o.refund_reserved_minor, {REFUNDED_SQL} FROM orders o WHERE o.id = $1"
    ))
    .bind(&row.order_id)
    .fetch_one(db)
    .await?;
    Ok(Refund {
        refund_id: row.id.clone(),
        order_id: row.order_id.clone(),
        order_number,
        kind: row.kind.clone(),
        number: row.number,
        amount_minor: row.amount_minor,
        currency: row.currency.clone(),
        status: row.status.clone(),
        order_refunded_minor: refunded,
        order_remaining_minor: (total - reserved).max(0),
        created_at: row.created_at,
    })
}

fn parse_currency(code: &str) -> Result<Currency, AppError> {
    Currency::parse(code).ok_or_else(|| AppError::internal(format!("stored currency {code:?}")))
}

fn conflict(code: ErrorCode, message: String) -> AppError {
    AppError::new(StatusCode::CONFLICT, code, message)
}

fn refusal_error(order_number: &str, refusal: Refusal, currency: Currency) -> AppError {
    match refusal {
        Refusal::NotPaid { status } => conflict(
            ErrorCode::OrderNotPaid,
            format!("Order {order_number} was never paid (it is {status}): there is nothing to refund."),
        ),
        Refusal::AmountInvalid => AppError::validation(vec![FieldError::new(
            "amount_minor",
            "amount_invalid",
            "A refund is at least 1 (in minor units).",
        )]),
        Refusal::Exceeds { left_minor: 0 } => conflict(
            ErrorCode::RefundExceedsRemaining,
            format!("Order {order_number} has been refunded in full: nothing is left to refund."),
        ),
        Refusal::Exceeds { left_minor } => conflict(
            ErrorCode::RefundExceedsRemaining,
            format!(
                "Only {} ({left_minor} in minor units) is left of order {order_number} to refund.",
                Money::new(left_minor, currency)
            ),
        ),
        Refusal::Shipped => conflict(
            ErrorCode::OrderShipped,
            format!("Order {order_number} has shipped and can no longer be cancelled; refund it instead."),
        ),
        Refusal::Cancelled => {
            conflict(ErrorCode::OrderCancelled, format!("Order {order_number} is already cancelled."))
        }
    }
}

/// The vault's refusal as the seller's error: the bound the vault keeps on its own is the
/// same conflict; anything else is the payment service failing (nothing was refunded).
fn refused_by_vault(body: ApiError) -> AppError {
    match body.code {
        ErrorCode::RefundExceedsRemaining => conflict(ErrorCode::RefundExceedsRemaining, body.message),
        _ => AppError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::PaymentError,
            format!("The payment service refused the refund ({}); nothing was refunded.", body.message),
        ),
    }
}

/// A refund that may have been made: it stays pending until the vault says.
fn not_confirmed() -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        "The payment service could not confirm the refund: it did not answer, or refused a retry (its key, a rate \
         limit). The refund stays pending; retry with the same Idempotency-Key: it never refunds twice.",
    )
}

/// An order marked shipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Shipment {
    /// The order's number (`TB-…`).
    pub order_number: String,
    /// Unix seconds: when it was first marked shipped.
    pub shipped_at: i64,
}

/// Marks a paid, uncancelled order shipped (from then on it can be refunded, not cancelled).
/// Marking it again keeps the first time.
pub async fn ship(db: &Db, order_number: &str) -> Result<Shipment, AppError> {
    let order_number = &crate::ids::typed_order_number(order_number);
    let now = clock::now();
    retry_busy(|| async {
        let mut tx = begin_write(db).await?;
        // One conditional UPDATE: a cancellation that marked the order first wins, and one that
        // comes after finds it shipped.
        sqlx::query(
            "UPDATE orders SET shipped_at = COALESCE(shipped_at, $1) WHERE order_number = $2 AND status = 'paid' \
             AND cancelled_at IS NULL",
        )
        .bind(now)
        .bind(order_number)
        .execute(&mut tx)
        .await?;
        let row: Option<(String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT status, shipped_at, cancelled_at FROM orders WHERE order_number = $1")
                .bind(order_number)
                .fetch_optional(&mut tx)
                .await?;
        tx.commit().await?;
        match row {
            None => Err(AppError::not_found(format!("There is no order {order_number}."))),
            Some((_, Some(shipped_at), _)) => Ok(Shipment { order_number: order_number.to_owned(), shipped_at }),
            Some((_, None, Some(_))) => Err(conflict(
                ErrorCode::OrderCancelled,
                format!("Order {order_number} is cancelled: it does not ship."),
            )),
            Some((status, None, None)) => Err(conflict(
                ErrorCode::OrderNotPaid,
                format!("Order {order_number} was never paid (it is {status}): it does not ship."),
            )),
        }
    })
    .await
}
