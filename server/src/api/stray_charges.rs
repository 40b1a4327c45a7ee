//! Charges the vault approved after their order had been settled without them, refunded
//! whole, however long the vault stays out of reach.
//!
//! A buyer's retry can take over a request whose charge is still in flight: if the first
//! request then records a decline (the unit back on sale, the intent free again), a charge
//! approved later cannot make the order paid ([`super::order_store::mark_paid`] marks only a
//! pending order), so the buyer's money must go back. The refund is named after the charge
//! (`void_{charge}`), so asking again never refunds twice. The charge is written down
//! (`stray_charges`) before the vault is asked: if the vault cannot be reached then, the
//! sweep ([`super::pending_sweep`]) asks again until it answers, so a refund the vault could
//! not be asked for is never lost with the buyer's money.
//!
//! A late charge the api never heard of (its answer lost, or its process killed, after the
//! other attempt had settled the order) is written down nowhere. So a resumed order is
//! watched (`charge_checks`): once no charge of its attempts can still be on its way, the
//! sweep reads the vault's record of the order's charge again and refunds an approved one
//! the order was not paid with.

use super::vault_client::RefundOutcome;
use super::ApiState;
use crate::clock;
use crate::db::{retry_busy, write_conn, AnyQuery};
use crate::error::AppError;
use tweetbuy_core::vault::{ChargeStatus, RefundRequest};
use tweetbuy_core::{Currency, Money};

/// Refunds whole the approved charge `charge_id` of the settled order `order_id`, writing it
/// down first. `Ok(false)` when the vault could not do it now: the sweep asks again.
pub(crate) async fn give_back(
    state: &ApiState,
    order_id: &str,
    charge_id: &str,
    amount: Money,
) -> Result<bool, AppError> {
    let now = clock::now();
    write(state, || {
        sqlx::query(
            "INSERT INTO stray_charges (charge_id, order_id, amount_minor, currency, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (charge_id) DO NOTHING",
        )
        .bind(charge_id)
        .bind(order_id)
        .bind(amount.minor)
        .bind(amount.currency.code())
        .bind(now)
    })
    .await?;
    ask_vault(state, order_id, charge_id, amount).await
}

/// Watches the order `order_id`, which a retry is about to charge again while an earlier
/// attempt may still be charging it: [`check_watched`] reads the vault's record of it once
/// `due_at` has passed. Watching it again moves that time on.
pub(crate) async fn watch(state: &ApiState, order_id: &str, due_at: i64) -> Result<(), AppError> {
    write(state, || {
        sqlx::query(
            "INSERT INTO charge_checks (order_id, due_at) VALUES ($1, $2) \
             ON CONFLICT (order_id) DO UPDATE SET due_at = excluded.due_at",
        )
        .bind(order_id)
        .bind(due_at)
    })
    .await
}

/// Reads the vault's record of each watched order due by `now` and refunds an approved charge
/// the order was not paid with ([`give_back`]); returns how many were checked, each then no
/// longer watched. An order still pending is left to the pending sweep and checked on a later
/// pass. An order the vault cannot answer for now is tried again on the next pass, which also
/// reads no further page after one with such an order (it would read it again), and ends at
/// once after [`VAULT_MISSES`] of them, as the vault is likely out of reach.
pub async fn check_watched(state: &ApiState, now: i64) -> Result<usize, AppError> {
    let mut checked = 0;
    loop {
        let due: Vec<Watched> = sqlx::query_as(
            "SELECT c.order_id, c.due_at, o.status, o.charge_id, o.total_minor, o.currency \
             FROM charge_checks c LEFT JOIN orders o ON o.id = c.order_id \
             WHERE c.due_at <= $1 AND (o.status IS NULL OR o.status <> 'pending') \
             ORDER BY c.due_at, c.order_id LIMIT 100",
        )
        .bind(now)
        .fetch_all(&state.db)
        .await?;
        let (batch, mut misses) = (due.len(), 0);
        for watched in due {
            if check_one(state, &watched).await? {
                // Only the watch that was read: a retry that watched the order again since
                // (a later due time) is checked in its turn.
                write(state, || {
                    sqlx::query("DELETE FROM charge_checks WHERE order_id = $1 AND due_at = $2")
                        .bind(&watched.order_id)
                        .bind(watched.due_at)
                })
                .await?;
                checked += 1;
            } else {
                misses += 1;
                if misses == VAULT_MISSES {
                    return Ok(checked);
                }
            }
        }
        if batch < 100 || misses > 0 {
            return Ok(checked);
        }
    }
}

/// How many orders of one [`check_watched`] pass the vault may fail to answer for.
const VAULT_MISSES: usize = 3;

/// A watched order due for its check, with the order as stored (`None`s: no longer stored).
#[derive(sqlx::FromRow)]
struct Watched {
    order_id: String,
    due_at: i64,
    status: Option<String>,
    charge_id: Option<String>,
    total_minor: Option<i64>,
    currency: Option<String>,
}

/// Checks one watched order at the vault, refunding an approved charge it was not paid with;
/// `false` when the vault could not say.
async fn check_one(state: &ApiState, watched: &Watched) -> Result<bool, AppError> {
    let Watched { order_id, status, charge_id: paid_with, total_minor, currency, .. } = watched;
    // An order no longer stored was taken back whole, as its token could pay nothing
    // (unknown, spent, or minted for another intent): the vault settles a token once, so no
    // attempt with it can have charged the order, and there is nothing to refund.
    let (Some(status), Some(total_minor), Some(currency)) = (status, total_minor, currency) else {
        return Ok(true);
    };
    let charge = match state.vault.charge_of(order_id).await {
        Ok(charge) => charge,
        Err(reason) => {
            tracing::warn!(%order_id, %reason, "a resumed order's charge not checked: the vault could not say");
            return Ok(false);
        }
    };
    let paid_with_it = |id: &str| status == "paid" && paid_with.as_deref() == Some(id);
    if let Some(charge) = charge.filter(|c| c.status == ChargeStatus::Approved && !paid_with_it(&c.charge_id)) {
        let currency =
            Currency::parse(currency).ok_or_else(|| AppError::internal(format!("stored currency {currency:?}")))?;
        give_back(state, order_id, &charge.charge_id, Money::new(*total_minor, currency)).await?;
    }
    Ok(true)
}

/// Asks the vault again for the stray charges still to be refunded (the oldest hundred);
/// returns how many it settled (refunded, or refused by the vault for good). The pass stops at
/// the first the vault cannot answer for: the next sweep tries again, and the sweeps that run
/// after this one are not held up by a vault that is down.
pub async fn retry_pending(state: &ApiState) -> Result<usize, AppError> {
    let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
        "SELECT charge_id, order_id, amount_minor, currency FROM stray_charges WHERE status = 'pending' \
         ORDER BY created_at LIMIT 100",
    )
    .fetch_all(&state.db)
    .await?;
    let mut settled = 0;
    for (charge_id, order_id, minor, currency) in rows {
        let Some(currency) = Currency::parse(&currency) else {
            tracing::error!(%order_id, %charge_id, %currency, "a stray charge in an unknown currency is not refunded");
            continue;
        };
        if !ask_vault(state, &order_id, &charge_id, Money::new(minor, currency)).await? {
            break;
        }
        settled += 1;
    }
    Ok(settled)
}

/// One request to the vault for the refund of `charge_id`, and its outcome recorded: `true`
/// once the vault has settled it (refunded, or refused for good), `false` while it could not
/// say or refused for a reason that can pass (the api's key refused, a rate limit, its own
/// trouble): the row stays pending, with the reason in `last_error`.
async fn ask_vault(state: &ApiState, order_id: &str, charge_id: &str, amount: Money) -> Result<bool, AppError> {
    let request = RefundRequest { charge_id: charge_id.to_owned(), amount, reference: format!("void_{charge_id}") };
    let (status, error) = match state.vault.refund(&request).await {
        RefundOutcome::Refunded(_) => {
            tracing::warn!(%order_id, %charge_id, "a charge approved after its order was settled was refunded");
            ("refunded", None)
        }
        RefundOutcome::Refused(body) => {
            let error = format!("{:?} {}", body.code, body.message);
            tracing::error!(%order_id, %charge_id, %error, "the vault refused to refund a charge approved after its order was settled");
            let status = if super::vault_client::refused_for_good(body.code) { "refused" } else { "pending" };
            (status, Some(error))
        }
        RefundOutcome::Unknown(reason) => {
            tracing::warn!(%order_id, %charge_id, %reason, "a charge approved after its order was settled is not refunded yet; the sweep asks again");
            ("pending", Some(reason))
        }
    };
    let settled_at = (status != "pending").then(clock::now);
    write(state, || {
        sqlx::query(
            "UPDATE stray_charges SET status = $1, attempts = attempts + 1, last_error = $2, settled_at = $3 \
             WHERE charge_id = $4 AND status = 'pending'",
        )
        .bind(status)
        .bind(error.as_deref())
        .bind(settled_at)
        .bind(charge_id)
    })
    .await?;
    Ok(status != "pending")
}

/// Runs one write, built afresh by `query` for each try, under [`retry_busy`].
async fn write<'q>(state: &ApiState, query: impl Fn() -> AnyQuery<'q>) -> Result<(), AppError> {
    retry_busy(|| async {
        query().execute(&mut write_conn(&state.db).await?).await.map(|_| ()).map_err(AppError::from)
    })
    .await
}
