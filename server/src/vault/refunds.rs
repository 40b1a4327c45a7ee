//! `POST /v1/refunds`: the api, with its bearer key, gives back part or all of an approved
//! charge through the processor. The vault keeps its own bound (never more than the charge)
//! and is idempotent by the api's reference, so the api can ask again after a lost answer or
//! a crash without a second refund.

use super::card_store::{self, RefundRefusal, RefundRow};
use super::charges::ApiKeyAuth;
use super::processor;
use super::VaultState;
use crate::clock;
use crate::error::AppError;
use crate::ids::random_id;
use crate::json::JsonBody;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tweetbuy_core::text::is_single_line;
use tweetbuy_core::vault::{RefundRequest, RefundResult};
use tweetbuy_core::{Currency, ErrorCode, FieldError, Money};

/// The longest reference and charge id accepted.
const MAX_ID_LEN: usize = 100;

pub(crate) fn router() -> Router<VaultState> {
    Router::new().route("/v1/refunds", post(refund))
}

fn result_of(row: RefundRow) -> Result<RefundResult, AppError> {
    let currency = Currency::parse(&row.currency)
        .ok_or_else(|| AppError::internal(format!("stored currency {}", row.currency)))?;
    Ok(RefundResult {
        refund_id: row.id,
        charge_id: row.charge_id,
        amount: Money::new(row.amount_minor, currency),
        reference: row.reference,
    })
}

fn answer(result: RefundResult) -> Response {
    ([(CACHE_CONTROL, "no-store")], Json(result)).into_response()
}

async fn refund(
    State(state): State<VaultState>,
    _auth: ApiKeyAuth,
    JsonBody(request): JsonBody<RefundRequest>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    if request.amount.minor <= 0 {
        errors.push(FieldError::new("amount", "amount_invalid", "The amount must be positive."));
    }
    let bad_id = |id: &str| id.trim().is_empty() || id.len() > MAX_ID_LEN || !is_single_line(id);
    if bad_id(&request.reference) {
        errors.push(FieldError::new("reference", "reference_invalid", "Give a reference of 1 to 100 characters."));
    }
    if bad_id(&request.charge_id) {
        errors.push(FieldError::new("charge_id", "charge_invalid", "Give the id of the charge to refund."));
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let no_charge = || AppError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "No approved charge with this id.");
    let now = clock::now();
    // The charge's lock first: refunds of one charge, and repeats of one reference, then run
    // one after another, so the reference check below sees every earlier refund.
    let mut tx = crate::db::begin_write(&state.db).await?;
    if !card_store::lock_charge(&mut tx, &request.charge_id).await? {
        return Err(no_charge());
    }
    if let Some(earlier) = card_store::refund_by_reference(&mut tx, &request.reference).await? {
        tx.rollback().await?;
        if earlier.charge_id != request.charge_id
            || earlier.amount_minor != request.amount.minor
            || earlier.currency != request.amount.currency.code()
        {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyKeyReused,
                "This reference was already used for another refund.",
            ));
        }
        tracing::info!(refund_id = %earlier.id, reference = %request.reference, "refund repeated for its reference");
        return Ok(answer(result_of(earlier)?));
    }
    match card_store::take_refund(&mut tx, &request.charge_id, request.amount).await? {
        Ok(()) => {}
        Err(RefundRefusal::NoCharge) => return Err(no_charge()),
        Err(RefundRefusal::WrongCurrency) => {
            return Err(AppError::validation(vec![FieldError::new(
                "amount",
                "currency_mismatch",
                "A refund is in the charge's currency.",
            )]))
        }
        Err(RefundRefusal::Exceeds { left_minor }) => {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                ErrorCode::RefundExceedsRemaining,
                format!("Only {} is left of this charge to refund.", Money::new(left_minor, request.amount.currency)),
            ))
        }
    }
    processor::refund(&request.charge_id, request.amount).map_err(AppError::internal)?;
    let refund_id = random_id("re_");
    card_store::insert_refund(&mut tx, &refund_id, &request.charge_id, &request.reference, request.amount, now).await?;
    tx.commit().await?;
    tracing::info!(%refund_id, charge_id = %request.charge_id, reference = %request.reference, amount = %request.amount, "refund");
    Ok(answer(RefundResult {
        refund_id,
        charge_id: request.charge_id,
        amount: request.amount,
        reference: request.reference,
    }))
}
