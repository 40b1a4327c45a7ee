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

use super::vault_client::RefundOutcome;
use super::ApiState;
use crate::clock;
use crate::db::{retry_busy, write_conn};
use crate::error::AppError;
use tweetbuy_core::vault::RefundRequest;
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
    retry_busy(|| async {
        sqlx::query(
            "INSERT INTO stray_charges (charge_id, order_id, amount_minor, currency, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (charge_id) DO NOTHING",
        )
        .bind(charge_id)
        .bind(order_id)
        .bind(amount.minor)
        .bind(amount.currency.code())
        .bind(now)
        .execute(&mut write_conn(&state.db).await?)
        .await
        .map(|_| ())
        .map_err(AppError::from)
    })
    .await?;
    ask_vault(state, order_id, charge_id, amount).await
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
    retry_busy(|| async {
        sqlx::query(
            "UPDATE stray_charges SET status = $1, attempts = attempts + 1, last_error = $2, settled_at = $3 \
             WHERE charge_id = $4 AND status = 'pending'",
        )
        .bind(status)
        .bind(error.as_deref())
        .bind(settled_at)
        .bind(charge_id)
        .execute(&mut write_conn(&state.db).await?)
        .await
        .map(|_| ())
        .map_err(AppError::from)
    })
    .await?;
    Ok(status != "pending")
}
