//! `POST /v1/charges`: the api, with its bearer key, charges a one-time token. The token is
//! claimed atomically, the number decrypted only for the processor, and the outcome recorded.

use super::bearer::{unauthorized, Bearer};
use super::card_store::{self, NewCharge};
use super::card_testing;
use super::envelope;
use super::processor;
use super::profile_store;
use super::VaultState;
use crate::clock;
use crate::db::from_text;
use crate::error::AppError;
use crate::ids::random_id;
use crate::json::JsonBody;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tweetbuy_core::saved::is_saved_card_token;
use tweetbuy_core::text::is_single_line;
use tweetbuy_core::vault::{is_intent_id, ChargeRequest, ChargeResult, ChargeStatus, DeclineCode};
use tweetbuy_core::{CardNumber, ErrorCode, FieldError};

pub fn router() -> Router<VaultState> {
    Router::new().route("/v1/charges", post(charge)).route("/v1/charges/{reference}", get(charge_of))
}

/// `GET /v1/charges/{reference}`: the charge that settled an order, if any (404 when none).
/// The api asks this for orders whose charge answer it never received.
async fn charge_of(
    State(state): State<VaultState>,
    _auth: ApiKeyAuth,
    Path(reference): Path<String>,
) -> Result<Response, AppError> {
    let not_found = || AppError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "No charge for this reference.");
    if reference.len() > MAX_REFERENCE_LEN || !is_single_line(&reference) {
        return Err(not_found());
    }
    let charge = card_store::charge_for_reference(&state.db, &reference).await?.ok_or_else(not_found)?;
    let result = result_of(charge)?;
    Ok(([(CACHE_CONTROL, "no-store")], Json(result)).into_response())
}

/// What the api is told about a recorded charge: the decline reason only for a saved card
/// ([`card_testing::public_decline`]); the vault's own record keeps the processor's.
fn result_of(charge: card_store::SettledCharge) -> Result<ChargeResult, AppError> {
    let decline_code = charge.decline_code.as_deref().map(from_text).transpose()?;
    Ok(ChargeResult {
        charge_id: charge.id,
        status: from_text(&charge.status)?,
        decline_code: decline_code.map(|code| card_testing::public_decline(code, charge.reusable == 1)),
        brand: from_text(&charge.brand)?,
        last4: charge.last4,
    })
}

/// The api's bearer key (compared in constant time, [`Bearer::matches`]).
pub struct ApiKeyAuth;

impl FromRequestParts<VaultState> for ApiKeyAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &VaultState) -> Result<Self, Self::Rejection> {
        if Bearer::from_headers(&parts.headers).matches(&state.settings.api_key) {
            Ok(ApiKeyAuth)
        } else {
            Err(unauthorized("A valid bearer key is required."))
        }
    }
}

fn token_invalid() -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, ErrorCode::TokenInvalid, "This card token is unknown, expired or used.")
}

/// The longest order reference kept with a charge.
const MAX_REFERENCE_LEN: usize = 100;

async fn charge(
    State(state): State<VaultState>,
    _auth: ApiKeyAuth,
    JsonBody(request): JsonBody<ChargeRequest>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    if request.amount.minor <= 0 {
        errors.push(FieldError::new("amount", "amount_invalid", "The amount must be positive."));
    }
    if request.reference.trim().is_empty()
        || request.reference.len() > MAX_REFERENCE_LEN
        || !is_single_line(&request.reference)
    {
        errors.push(FieldError::new("reference", "reference_invalid", "Give a reference of 1 to 100 characters."));
    }
    if !is_intent_id(&request.intent_id) {
        errors.push(FieldError::new("intent_id", "intent_invalid", "Give the payment intent the order pays."));
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }

    // No token holds a control character (PostgreSQL would refuse a NUL in the query).
    if request.token.len() > MAX_REFERENCE_LEN || !is_single_line(&request.token) {
        return Err(token_invalid());
    }
    let now = clock::now();
    let saved = is_saved_card_token(&request.token);
    // The token's claim and the charge it pays commit together: a crash in between leaves
    // the token unclaimed, never claimed without a charge. A second request for the same
    // order (the api resuming an order after a crash, its lost first request arriving late)
    // waits here for the first to commit, finds the token used and answers the first charge.
    // A one-time card's claim also says whether the fingerprint stored with it is blocked.
    let (mut tx, claimed) = if saved {
        let mut tx = crate::db::begin_write(&state.db).await?;
        let claimed = profile_store::claim_saved_token(&mut tx, &request.token, &request.intent_id, now).await?;
        (tx, claimed.map(|card| (card, None)))
    } else {
        let (tx, claimed) =
            card_store::begin_claiming_token(&state.db, &request.token, &request.intent_id, now).await?;
        (tx, claimed.map(|claimed| (claimed.card, claimed.fingerprint.map(|stored| (stored, claimed.blocked == 1)))))
    };
    let Some((card, stored_block)) = claimed else {
        tx.rollback().await?;
        return match card_store::settled_charge(&state.db, &request.reference, &request.token).await? {
            Some(earlier) if earlier.amount_minor == request.amount.minor => {
                tracing::info!(charge_id = %earlier.id, reference = %request.reference, "charge repeated for its order");
                Ok(([(CACHE_CONTROL, "no-store")], Json(result_of(earlier)?)).into_response())
            }
            _ => match card_store::token_intent(&state.db, &request.token).await? {
                // Minted for another intent: not charged, and still good for its own.
                Some(intent) if intent != request.intent_id => {
                    tracing::warn!(reference = %request.reference, "charge refused: the token pays another intent");
                    Err(AppError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ErrorCode::TokenMismatch,
                        "This card token was minted for another payment.",
                    ))
                }
                _ => Err(token_invalid()),
            },
        };
    };
    let plaintext = envelope::open(&state.keys, &card.id, &card.owner, &card.sealed)
        .map_err(|e| AppError::internal(format!("opening card {}: {e}", card.id)))?;
    let number = std::str::from_utf8(&plaintext)
        .ok()
        .and_then(|digits| CardNumber::parse(digits).ok())
        .ok_or_else(|| AppError::internal(format!("card {} does not hold a valid number", card.id)))?;
    // A card declined too often lately is declined without asking the processor, so a card
    // tester learns nothing from it, not even an approval.
    let fingerprint = card_testing::fingerprint(&state.keys, &number);
    // The claim checked the fingerprint stored at tokenization. One stored under another
    // master key (rotated since), or none, is checked here under the current key.
    let blocked = match stored_block {
        Some((stored, blocked)) if stored == fingerprint => blocked,
        _ => card_testing::is_blocked(&mut tx, &fingerprint, now).await?,
    };
    let outcome = if blocked {
        tracing::info!(brand = ?card.brand()?, last4 = %card.last4, "charge refused: card blocked after repeated declines");
        Err(DeclineCode::CardDeclined)
    } else {
        processor::authorize(&number)
    };
    drop(number);

    let charge_id = random_id("ch_");
    let (status, decline_code) = match outcome {
        Ok(()) => (ChargeStatus::Approved, None),
        Err(code) => (ChargeStatus::Declined, Some(code)),
    };
    let charge = NewCharge {
        id: &charge_id,
        card_id: &card.id,
        reference: &request.reference,
        amount: request.amount,
        status,
        decline_code,
        created_at: now,
    };
    if decline_code.is_none() {
        // Approved: the charge row goes with the commit.
        let mut batch = crate::db::Batch::new();
        batch.push(card_store::insert_charge_query(&charge));
        tx.commit_with(batch).await?;
    } else {
        card_store::insert_charge(&mut tx, &charge).await?;
        match decline_code {
            // A processing error is worth retrying, so the one-time token is given back.
            Some(code) if code.retryable() && saved => {
                profile_store::release_saved_token(&mut tx, &request.token).await?
            }
            Some(code) if code.retryable() => card_store::release_token(&mut tx, &card.id).await?,
            // The block's own refusals are not counted: it ends an hour after it began.
            Some(_) if !blocked && card_testing::record_decline(&mut tx, &fingerprint, now).await? => {
                tracing::warn!(brand = ?card.brand()?, last4 = %card.last4, "card blocked after repeated declines");
            }
            Some(_) | None => {}
        }
        tx.commit().await?;
    }
    match decline_code {
        // A saved card stays saved until its buyer removes it.
        _ if saved => {}
        // A paid one-time token keeps its number until the token's 15 minutes are up, so
        // the buyer can still choose "save my card" on the confirmation; then it is erased.
        None => {}
        Some(code) if code.retryable() => {}
        // A declined token is spent for good and its number is no longer needed.
        Some(_) => card_store::erase_card_data(&state.db, &card.id).await?,
    }
    tracing::info!(%charge_id, reference = %request.reference, ?status, ?decline_code, "charge");
    let decline_code = decline_code.map(|code| card_testing::public_decline(code, saved));
    let result = ChargeResult { charge_id, status, decline_code, brand: card.brand()?, last4: card.last4.clone() };
    Ok(([(CACHE_CONTROL, "no-store")], Json(result)).into_response())
}
