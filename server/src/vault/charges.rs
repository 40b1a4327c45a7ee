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
use crate::db::group::Groups;
use crate::db::Db;
use crate::error::AppError;
use crate::extract::Path;
use crate::ids::random_id;
use crate::json::JsonBody;
use axum::extract::{FromRequestParts, State};
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

pub(crate) fn router() -> Router<VaultState> {
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
    // On PostgreSQL a one-time token's charge goes in one transaction with the others that
    // arrive meanwhile ([`charge_batch`]): a transaction costs PostgreSQL more than its rows.
    if !saved && crate::db::engine_of(&state.db) == crate::db::Engine::Postgres {
        let db = state.db.clone();
        return CHARGES.join(&db, Charging { state, request, now }, charge_batch).await;
    }
    charge_alone(&state, &request, now, saved).await
}

/// One charge in a transaction of its own.
///
/// The token's claim and the charge it pays commit together: a crash in between leaves the
/// token unclaimed, never claimed without a charge. A second request for the same order (the
/// api resuming an order after a crash, its lost first request arriving late) waits at the
/// claim for the first to commit, finds the token used and answers the first charge. A
/// one-time card's claim also says whether the fingerprint stored with it is blocked.
async fn charge_alone(
    state: &VaultState,
    request: &ChargeRequest,
    now: i64,
    saved: bool,
) -> Result<Response, AppError> {
    let (mut tx, claimed) = if saved {
        let mut tx = crate::db::begin_write(&state.db).await?;
        let claimed = profile_store::claim_saved_token(&mut tx, &request.token, &request.intent_id, now).await?;
        (tx, claimed.map(|card| (card, None)))
    } else {
        let (tx, claimed) =
            card_store::begin_claiming_token(&state.db, &request.token, &request.intent_id, now).await?;
        (tx, claimed.map(stored_block))
    };
    let Some((card, stored_block)) = claimed else {
        tx.rollback().await?;
        return not_claimed(state, request).await;
    };
    let settled = settle(state, &mut tx, request, card, stored_block, saved, now).await?;
    if settled.decline_code.is_none() {
        // Approved: the charge row goes with the commit.
        let mut batch = crate::db::Batch::new();
        batch.push(card_store::insert_charge_query(&settled.charge(request, now)));
        tx.commit_with(batch).await?;
    } else {
        tx.commit().await?;
    }
    finish(state, request, settled, saved).await
}

/// A one-time card's claim: the card, and its stored fingerprint with whether that was
/// blocked at the claim.
fn stored_block(claimed: card_store::ClaimedCard) -> (card_store::CardRow, Option<(String, bool)>) {
    (claimed.card, claimed.fingerprint.map(|stored| (stored, claimed.blocked == 1)))
}

/// The answer to a charge whose token was not claimed: the charge it already paid for this
/// order, or why it cannot be charged.
async fn not_claimed(state: &VaultState, request: &ChargeRequest) -> Result<Response, AppError> {
    match card_store::settled_charge(&state.db, &request.reference, &request.token).await? {
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
    }
}

/// What the processor (or the card-testing block) said of a claimed card.
struct Settled {
    charge_id: String,
    card: card_store::CardRow,
    status: ChargeStatus,
    decline_code: Option<DeclineCode>,
}

impl Settled {
    /// The charge row that records it.
    fn charge<'a>(&'a self, request: &'a ChargeRequest, now: i64) -> NewCharge<'a> {
        NewCharge {
            id: &self.charge_id,
            card_id: &self.card.id,
            reference: &request.reference,
            amount: request.amount,
            status: self.status,
            decline_code: self.decline_code,
            created_at: now,
        }
    }
}

/// Charges a claimed card in `tx`: opens the number for the processor only. A decline is
/// written here with what it changes (a retryable one gives the token back; the others
/// count towards the card's block); an approval's charge row is left to the caller
/// ([`Settled::charge`]), to go with the commit.
async fn settle(
    state: &VaultState,
    tx: &mut crate::db::WriteTx,
    request: &ChargeRequest,
    card: card_store::CardRow,
    stored_block: Option<(String, bool)>,
    saved: bool,
    now: i64,
) -> Result<Settled, AppError> {
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
        _ => card_testing::is_blocked(tx, &fingerprint, now).await?,
    };
    let outcome = if blocked {
        tracing::info!(brand = ?card.brand()?, last4 = %card.last4, "charge refused: card blocked after repeated declines");
        Err(DeclineCode::CardDeclined)
    } else {
        processor::authorize(&number)
    };
    drop(number);

    let (status, decline_code) = match outcome {
        Ok(()) => (ChargeStatus::Approved, None),
        Err(code) => (ChargeStatus::Declined, Some(code)),
    };
    let settled = Settled { charge_id: random_id("ch_"), card, status, decline_code };
    if let Some(code) = decline_code {
        card_store::insert_charge(tx, &settled.charge(request, now)).await?;
        match code {
            // A processing error is worth retrying, so the one-time token is given back.
            code if code.retryable() && saved => profile_store::release_saved_token(tx, &request.token).await?,
            code if code.retryable() => card_store::release_token(tx, &settled.card.id).await?,
            // The block's own refusals are not counted: it ends an hour after it began.
            _ if !blocked && card_testing::record_decline(tx, &fingerprint, now).await? => {
                tracing::warn!(brand = ?settled.card.brand()?, last4 = %settled.card.last4, "card blocked after repeated declines");
            }
            _ => {}
        }
    }
    Ok(settled)
}

/// After the commit: a declined token's number is erased, and the api gets its answer.
async fn finish(
    state: &VaultState,
    request: &ChargeRequest,
    settled: Settled,
    saved: bool,
) -> Result<Response, AppError> {
    match settled.decline_code {
        // A saved card stays saved until its buyer removes it.
        _ if saved => {}
        // A paid one-time token keeps its number until the token's 15 minutes are up, so
        // the buyer can still choose "save my card" on the confirmation; then it is erased.
        None => {}
        Some(code) if code.retryable() => {}
        // A declined token is spent for good and its number is no longer needed.
        Some(_) => card_store::erase_card_data(&state.db, &settled.card.id).await?,
    }
    let Settled { charge_id, card, status, decline_code } = settled;
    tracing::info!(%charge_id, reference = %request.reference, ?status, ?decline_code, "charge");
    let decline_code = decline_code.map(|code| card_testing::public_decline(code, saved));
    let result = ChargeResult { charge_id, status, decline_code, brand: card.brand()?, last4: card.last4 };
    Ok(([(CACHE_CONTROL, "no-store")], Json(result)).into_response())
}

/// A one-time token's charge waiting for its batch ([`CHARGES`]).
struct Charging {
    state: VaultState,
    request: ChargeRequest,
    now: i64,
}

/// The charges of one-time tokens on PostgreSQL, grouped ([`crate::db::group`]).
static CHARGES: Groups<Charging, Response> = Groups::new();

/// Why a batch of charges was not written whole.
enum Unwritten {
    /// Before any card was charged: each may go alone.
    BeforeCharging(AppError),
    /// After the processor was asked: rolled back, like one charge that fails there.
    AfterCharging(AppError),
}

/// Charges a batch of one-time tokens in one transaction: one statement claims them all,
/// each claimed card goes to the processor, and one statement records the approvals (a
/// decline writes its own rows, as alone). A token that was not claimed gets the answer it
/// would have got alone. A batch of one, or with a token twice, goes alone, charge by
/// charge; so does a batch whose claim fails.
async fn charge_batch(db: Db, items: Vec<Charging>) -> Vec<Result<Response, AppError>> {
    let tokens: std::collections::HashSet<&str> = items.iter().map(|i| i.request.token.as_str()).collect();
    if items.len() > 1 && tokens.len() == items.len() {
        match charge_together(&db, &items).await {
            Ok(outcomes) => {
                let mut answers = Vec::with_capacity(items.len());
                for (item, outcome) in items.iter().zip(outcomes) {
                    answers.push(match outcome {
                        Some(settled) => finish(&item.state, &item.request, settled, false).await,
                        None => not_claimed(&item.state, &item.request).await,
                    });
                }
                return answers;
            }
            Err(Unwritten::AfterCharging(error)) => {
                tracing::warn!(%error, charges = items.len(), "a batch of charges failed and was rolled back");
                return items.iter().map(|_| Err(AppError::internal(error.to_string()))).collect();
            }
            Err(Unwritten::BeforeCharging(error)) => {
                tracing::debug!(%error, charges = items.len(), "a batch of charges goes charge by charge");
            }
        }
    }
    let mut answers = Vec::with_capacity(items.len());
    for item in &items {
        answers.push(charge_alone(&item.state, &item.request, item.now, false).await);
    }
    answers
}

/// [`charge_batch`]'s transaction: what each charge came to (`None`: its token was not
/// claimed), in the order of `items`.
async fn charge_together(db: &Db, items: &[Charging]) -> Result<Vec<Option<Settled>>, Unwritten> {
    let before = |e: AppError| Unwritten::BeforeCharging(e);
    let mut tx = crate::db::begin_write(db).await.map_err(|e| before(e.into()))?;
    let claims: Vec<card_store::TokenClaim> = items
        .iter()
        .map(|i| card_store::TokenClaim { token: &i.request.token, intent_id: &i.request.intent_id, now: i.now })
        .collect();
    let mut claimed = card_store::claim_tokens(&mut tx, &claims).await.map_err(before)?;
    let after = |e: AppError| Unwritten::AfterCharging(e);
    let mut outcomes = Vec::with_capacity(items.len());
    for item in items {
        let Some(at) = claimed.iter().position(|c| c.card.token == item.request.token) else {
            outcomes.push(None);
            continue;
        };
        let (card, stored) = stored_block(claimed.swap_remove(at));
        let settled =
            settle(&item.state, &mut tx, &item.request, card, stored, false, item.now).await.map_err(after)?;
        outcomes.push(Some(settled));
    }
    let approved: Vec<NewCharge<'_>> = items
        .iter()
        .zip(&outcomes)
        .filter_map(|(item, outcome)| {
            outcome.as_ref().filter(|s| s.decline_code.is_none()).map(|s| s.charge(&item.request, item.now))
        })
        .collect();
    card_store::insert_charges(&mut tx, &approved).await.map_err(after)?;
    tx.commit().await.map_err(|e| after(e.into()))?;
    Ok(outcomes)
}
