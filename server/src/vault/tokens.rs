//! `POST /v1/tokens`: the card frame sends the typed card and the payment intent it is about to
//! pay; the vault checks the card with the shared rules, encrypts the number, forgets the CVC
//! and answers with a one-time token that pays that intent and no other.

use super::card_store::{self, NewCard, ANONYMOUS_OWNER};
use super::envelope;
use super::VaultState;
use crate::clock;
use crate::error::AppError;
use crate::hashing::sha256_hex;
use crate::idempotency::IdempotencyKey;
use crate::ids::random_id;
use crate::json::JsonBody;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{CACHE_CONTROL, ORIGIN};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tweetbuy_core::card::validate_cvc;
use tweetbuy_core::vault::{is_intent_id, CardToken, TokenizeRequest, TokenizeResponse};
use tweetbuy_core::{CardError, CardNumber, ErrorCode, Expiry, FieldError};
use zeroize::Zeroizing;

pub(crate) fn router() -> Router<VaultState> {
    Router::new().route("/v1/tokens", post(tokenize))
}

/// Lets through only requests from the vault's own pages (the card frame). A browser sends
/// `Origin` on every POST and DELETE, same-origin or not, so one with no `Origin` does not
/// come from the frame: it is refused like one from another origin, and a script elsewhere
/// cannot make the vault act for a visitor. A same-origin GET carries no `Origin` in
/// browsers; for it, `Sec-Fetch-Site: same-origin` is the browser's word instead.
pub struct SameOriginOnly;

impl FromRequestParts<VaultState> for SameOriginOnly {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &VaultState) -> Result<Self, Self::Rejection> {
        let same_origin = match parts.headers.get(ORIGIN) {
            Some(origin) => origin.as_bytes() == state.settings.vault_origin.as_bytes(),
            None => {
                let safe = parts.method == Method::GET || parts.method == Method::HEAD;
                safe && parts.headers.get("sec-fetch-site").is_some_and(|site| site.as_bytes() == b"same-origin")
            }
        };
        if same_origin {
            Ok(SameOriginOnly)
        } else {
            Err(AppError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "Cards can only be sent from the vault's own card form.",
            ))
        }
    }
}

async fn tokenize(
    State(state): State<VaultState>,
    _origin: SameOriginOnly,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(request): JsonBody<TokenizeRequest>,
) -> Result<Response, AppError> {
    // The fingerprint covers the body as parsed (field order and whitespace do not matter).
    let body = Zeroizing::new(serde_json::to_vec(&request).map_err(|e| AppError::internal(e.to_string()))?);
    let fingerprint = state.keys.fingerprint(&body);

    // Held in zeroizing buffers so the raw input does not linger in freed memory.
    let TokenizeRequest { number, expiry, cvc, intent_id } = request;
    let (number, cvc) = (Zeroizing::new(number), Zeroizing::new(cvc));
    let now = clock::now();
    let checked = check_card(&number, &expiry, &cvc, clock::year_month(now));
    let card = match (checked, is_intent_id(&intent_id)) {
        (Ok(card), true) => card,
        (checked, intent_ok) => {
            // A key already used answers as before (its token, or that it was reused)
            // whatever this body holds; only a new key is told what is wrong with it.
            if let Some(earlier) = replay(&state, &key, &fingerprint).await? {
                return Ok(earlier);
            }
            let mut errors = checked.err().unwrap_or_default();
            if !intent_ok {
                errors.push(FieldError::new("intent_id", "intent_invalid", "Start the payment again."));
            }
            return Err(AppError::validation(errors));
        }
    };
    // The CVC has been checked; it goes no further than this line.
    drop(cvc);

    let (number, expiry) = card;

    let id = random_id("card_");
    // Lets this card be saved after the purchase; only the frame ever sees it.
    let save_secret = crate::ids::random_secret();
    let sealed = envelope::seal(&state.keys, &id, ANONYMOUS_OWNER, number.expose_digits().as_bytes())
        .map_err(|e| AppError::internal(format!("sealing a card: {e}")))?;
    // Kept with the card, so its charge checks the number's block as it claims the token.
    let card_fingerprint = super::card_testing::fingerprint(&state.keys, &number);
    let new = NewCard {
        token: random_id("tok_"),
        owner: ANONYMOUS_OWNER.to_owned(),
        sealed,
        brand: number.brand(),
        last4: number.last4().to_owned(),
        exp_month: expiry.month,
        exp_year: expiry.year,
        created_at: now,
        save_secret_hash: Some(sha256_hex(save_secret.as_bytes())),
        intent_id: Some(intent_id),
        fingerprint: Some(card_fingerprint),
        id,
    };
    // A valid card is stored under its key at once (no lookup first): a key already used
    // makes the insert roll back, and the earlier request is answered from the key.
    if !card_store::insert_card_for_key(&state.db, &new, &key, &fingerprint).await? {
        return replay(&state, &key, &fingerprint)
            .await?
            .ok_or_else(|| AppError::internal("idempotency key vanished during tokenization"));
    }
    tracing::info!(brand = ?new.brand, last4 = %new.last4, "card tokenized");
    let card = CardToken {
        token: new.token,
        brand: new.brand,
        last4: new.last4,
        exp_month: new.exp_month,
        exp_year: new.exp_year,
    };
    Ok(created(TokenizeResponse { card, save_secret: Some(save_secret) }))
}

/// The earlier answer for this key, when there is one.
async fn replay(state: &VaultState, key: &str, fingerprint: &str) -> Result<Option<Response>, AppError> {
    match card_store::find_by_idempotency_key(&state.db, key).await? {
        None => Ok(None),
        Some((hash, _)) if hash != fingerprint => Err(key_reused()),
        Some((_, card)) => Ok(Some(created(TokenizeResponse { card: card.to_token()?, save_secret: None }))),
    }
}

fn key_reused() -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::IdempotencyKeyReused,
        "This Idempotency-Key was already used with different card details.",
    )
}

fn created(token: TokenizeResponse) -> Response {
    (StatusCode::CREATED, [(CACHE_CONTROL, "no-store")], Json(token)).into_response()
}

/// Checks number, expiry and CVC with the shared rules and reports every bad field at once.
pub fn check_card(
    number: &str,
    expiry: &str,
    cvc: &str,
    (year, month): (u16, u8),
) -> Result<(CardNumber, Expiry), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut note = |e: CardError| errors.push(FieldError::new(e.field(), e.code(), e.to_string()));
    let number = CardNumber::parse(number).map_err(&mut note).ok();
    let expiry = Expiry::parse(expiry).and_then(|e| e.validate(year, month)).map_err(&mut note).ok();
    let cvc_check = match &number {
        Some(number) => validate_cvc(number.brand(), cvc),
        // Without a brand the exact length is unknown; still refuse what is no CVC at all.
        None => {
            let cvc = cvc.trim();
            if (3..=4).contains(&cvc.len()) && cvc.bytes().all(|b| b.is_ascii_digit()) {
                Ok(())
            } else {
                Err(CardError::CvcLength { expected: 3 })
            }
        }
    };
    let _ = cvc_check.map_err(&mut note);
    match (number, expiry) {
        (Some(number), Some(expiry)) if errors.is_empty() => Ok((number, expiry)),
        _ => Err(errors),
    }
}
