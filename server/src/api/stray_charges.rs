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
             ON CONFLICT (order_id) DO UPDATE SET due_at = excluded.due_at, checked_at = NULL",
        )
        .bind(order_id)
        .bind(due_at)
    })
    .await
}

/// Reads the vault's record of each watched order due by `now` (the oldest hundred) and
/// refunds an approved charge the order was not paid with ([`give_back`]); returns how many
/// were checked. An order still pending is left to the pending sweep and checked on a later
/// pass; the pass stops at the first order the vault cannot answer for.
pub async fn check_watched(state: &ApiState, now: i64) -> Result<usize, AppError> {
    let due: Vec<(String,)> = sqlx::query_as(
        "SELECT order_id FROM charge_checks WHERE checked_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT 100",
    )
    .bind(now)
    .fetch_all(&state.db)
    .await?;
    let mut checked = 0;
    for (order_id,) in due {
        let order: Option<(String, Option<String>, i64, String)> =
            sqlx::query_as("SELECT status, charge_id, total_minor, currency FROM orders WHERE id = $1")
                .bind(&order_id)
                .fetch_optional(&state.db)
                .await?;
        if let Some((status, paid_with, total_minor, currency)) = order {
            if status == "pending" {
                continue;
            }
            let charge = match state.vault.charge_of(&order_id).await {
                Ok(charge) => charge,
                Err(reason) => {
                    tracing::warn!(%order_id, %reason, "a resumed order's charge not checked: the vault could not say");
                    break;
                }
            };
            let paid_with_it = |id: &str| status == "paid" && paid_with.as_deref() == Some(id);
            if let Some(charge) = charge.filter(|c| c.status == ChargeStatus::Approved && !paid_with_it(&c.charge_id)) {
                let currency = Currency::parse(&currency)
                    .ok_or_else(|| AppError::internal(format!("stored currency {currency:?}")))?;
                give_back(state, &order_id, &charge.charge_id, Money::new(total_minor, currency)).await?;
            }
        }
        // An order no longer stored was taken back whole, as its token could pay nothing
        // (unknown, spent, or minted for another intent): the vault settles a token once, so
        // no attempt with it can have charged the order, and there is nothing to refund.
        write(state, || {
            sqlx::query("UPDATE charge_checks SET checked_at = $1 WHERE order_id = $2").bind(now).bind(&order_id)
        })
        .await?;
        checked += 1;
    }
    Ok(checked)
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
