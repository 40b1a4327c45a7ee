//! Orders whose payment outcome the api never learned — the process was killed while the
//! charge was in flight, or the vault's answer was lost and the buyer never retried with the
//! order's key — are settled from the vault's own record, so that none stays half-made:
//! paid (with its receipt) if the vault charged, otherwise failed with its stock given back.
//! Refunds whose answer was lost the same way are asked of the vault again
//! ([`super::refunds::settle_stale`]), as are the refunds of charges approved after their
//! order was settled ([`super::stray_charges`]), and resumed orders are checked for such a
//! charge the api never heard of.

use super::order_store::{self, Failure};
use super::ApiState;
use crate::clock;
use crate::db::retry_busy;
use crate::error::AppError;
use std::time::Duration;
use tokio::sync::watch;
use tweetbuy_core::vault::ChargeStatus;

/// How old a pending order must be before it is settled here: far past a one-time card
/// token's life (15 minutes) and the widget's own retries, so no charge for it can still be
/// on its way.
pub const SETTLE_AFTER_SECS: i64 = 30 * 60;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(5 * 60);

/// Settles the pending orders created before `cutoff`; returns how many were settled. An
/// order the vault cannot answer for now is left for the next sweep.
pub async fn settle_stale(state: &ApiState, cutoff: i64) -> Result<usize, AppError> {
    let stale: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM orders WHERE status = 'pending' AND created_at < $1 ORDER BY created_at LIMIT 100",
    )
    .bind(cutoff)
    .fetch_all(&state.db)
    .await?;
    let mut settled = 0;
    for (order_id,) in stale {
        let Some(stored) = order_store::find(&state.db, &order_id).await? else { continue };
        let charge = match state.vault.charge_of(&order_id).await {
            Ok(charge) => charge,
            Err(reason) => {
                tracing::warn!(%order_id, %reason, "pending order not settled: the vault could not say");
                continue;
            }
        };
        let now = clock::now();
        let quote = stored.quote()?;
        let order = stored.as_new(&quote, now)?;
        match charge {
            Some(charge) if charge.status == ChargeStatus::Approved => {
                let paid = retry_busy(|| {
                    order_store::mark_paid(&state.db, &order_id, charge.brand, &charge.last4, &charge.charge_id, now)
                })
                .await?;
                if !paid {
                    super::stray_charges::give_back(state, &order_id, &charge.charge_id, quote.total).await?;
                    continue;
                }
                tracing::info!(%order_id, "pending order settled: paid");
            }
            Some(charge) => {
                let failure = Failure {
                    status: "declined",
                    decline_code: charge.decline_code,
                    charge_id: Some(&charge.charge_id),
                    card: Some((charge.brand, &charge.last4)),
                };
                retry_busy(|| order_store::mark_failed_and_release(&state.db, &order, &failure, now)).await?;
                tracing::info!(%order_id, "pending order settled: declined");
            }
            None => {
                let none = Failure { status: "failed", decline_code: None, charge_id: None, card: None };
                retry_busy(|| order_store::mark_failed_and_release(&state.db, &order, &none, now)).await?;
                tracing::info!(%order_id, "pending order settled: never charged, stock released");
            }
        }
        settled += 1;
    }
    Ok(settled)
}

/// Sweeps at start-up and then every few minutes, until `stop`.
pub async fn run(state: ApiState, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(error) = settle_stale(&state, clock::now() - SETTLE_AFTER_SECS).await {
            tracing::warn!(%error, "pending order sweep");
        }
        let cutoff = clock::now() - SETTLE_AFTER_SECS;
        if let Err(error) = super::refunds::settle_stale(&state.db, &state.vault, cutoff).await {
            tracing::warn!(%error, "pending refund sweep");
        }
        if let Err(error) = super::stray_charges::check_watched(&state, clock::now()).await {
            tracing::warn!(%error, "resumed order charge check");
        }
        if let Err(error) = super::stray_charges::retry_pending(&state).await {
            tracing::warn!(%error, "stray charge sweep");
        }
        if let Err(error) = super::intents::sweep_expired(&state.db, clock::now()).await {
            tracing::warn!(%error, "expired intent sweep");
        }
        state.intents.forget_expired(clock::now());
        if let Err(error) = super::order_idempotency::purge_expired(&state.db, clock::now()).await {
            tracing::warn!(%error, "expired idempotency key sweep");
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}
