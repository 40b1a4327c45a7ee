//! Saved buyer info at the vault origin.
//!
//! - `POST /v1/profiles` (the frame, same origin): save the card that just paid, with the
//!   buyer's email and address; answers with a device credential in a cookie.
//! - `GET /v1/profile`, `POST /v1/profile/tokens`, `DELETE /v1/profile` (the frame, with the
//!   credential's cookie): what is saved (the card as shown, the email and the address, which
//!   the frame uses for the intent it shows beside Pay), a one-time token for the saved card
//!   that pays one intent, and erasing it all.
//!
//! Nothing saved ever leaves the vault origin except inside an intent the buyer pays: the
//! frame draws it, and the publisher's page learns only that something is saved.
//!
//! Why a cookie, and this one. The frame is a third party on every publisher's page, and
//! browsers that block third-party cookies (incognito windows, a setting many turn on, some
//! browsers by default) give a third-party frame no `localStorage` or `sessionStorage` at
//! all, so a credential kept there is lost as it is made. A partitioned cookie (CHIPS) is
//! kept even there, keyed to the page's site as the storage was. It is `HttpOnly` (no script,
//! not even the frame's, reads it), `Secure`, `__Host-` (only this origin sets it), and
//! `SameSite=None` because the frame is cross-site by nature: what stops another site's
//! request from using it is [`SameOriginOnly`] on every route here, which refuses any request
//! not from the vault's own pages. A second cookie, readable and holding no secret, tells the
//! frame that something is saved, so a buyer with nothing saved costs no lookup.

use super::bearer::unauthorized;
use super::card_store::{CardRow, NewCard};
use super::envelope;
use super::profile_store::{self, NewProfile, ProfileRow};
use super::tokens::SameOriginOnly;
use super::{sweeper, VaultState};
use crate::clock;
use crate::error::AppError;
use crate::hashing::sha256_hex;
use crate::ids::{random_id, random_secret};
use crate::json::JsonBody;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tweetbuy_core::saved::{
    ship_to_summary, SaveProfileRequest, SaveProfileResponse, SavedCard, SavedDetails, SavedProfile, SAVED_TOKEN_PREFIX,
};
use tweetbuy_core::text::is_single_line;
use tweetbuy_core::vault::{is_intent_id, CardToken, SavedTokenRequest};
use tweetbuy_core::{validate_email, Country, ErrorCode, FieldError};

/// Device credentials start with this, so a stray one is recognisable in a leak scan.
pub const CREDENTIAL_PREFIX: &str = "cred_";

/// Routes the frame calls (rate limited with tokenization).
pub fn frame_router() -> Router<VaultState> {
    Router::new()
        .route("/v1/profiles", post(save))
        .route("/v1/profile", get(lookup).delete(remove))
        .route("/v1/profile/tokens", post(mint_token))
}

/// The cookie that carries the device credential (`HttpOnly`).
pub const CREDENTIAL_COOKIE: &str = "__Host-tb_cred";
/// The cookie that tells the frame's script that something is saved (no secret in it).
pub const SAVED_COOKIE: &str = "__Host-tb_saved";

/// The device credential from its cookie: its SHA-256 (the only form the vault stores), and
/// the credential itself, to send again when it is used. A credential carries 260 random
/// bits, so a plain hash is enough.
pub struct DeviceCredential {
    hash: String,
    secret: zeroize::Zeroizing<String>,
}

impl FromRequestParts<VaultState> for DeviceCredential {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &VaultState) -> Result<Self, Self::Rejection> {
        DeviceCredential::sent(&parts.headers).ok_or_else(no_profile)
    }
}

impl DeviceCredential {
    /// The credential in the request's cookie, if it has one of a credential's shape.
    fn sent(headers: &axum::http::HeaderMap) -> Option<Self> {
        let credential =
            cookie(headers, CREDENTIAL_COOKIE).filter(|c| c.starts_with(CREDENTIAL_PREFIX) && c.len() <= 100)?;
        Some(DeviceCredential {
            hash: sha256_hex(credential.as_bytes()),
            secret: zeroize::Zeroizing::new(credential.to_owned()),
        })
    }
}

/// The value of the cookie `name` in the request's `Cookie` headers (RFC 6265: `a=1; b=2`).
fn cookie<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The two cookies of a credential, kept for the idle time after which the vault erases what
/// it opens; or (`None`) both forgotten.
fn credential_cookies(credential: Option<&str>) -> AppendHeaders<[(axum::http::HeaderName, String); 2]> {
    let (value, saved, max_age) = match credential {
        Some(credential) => (credential, "1", sweeper::CREDENTIAL_IDLE_SECONDS),
        None => ("", "", 0),
    };
    let attributes = format!("Path=/; Max-Age={max_age}; Secure; SameSite=None; Partitioned");
    // Appended: two headers of one name, where a plain list of headers keeps the last.
    AppendHeaders([
        (SET_COOKIE, format!("{CREDENTIAL_COOKIE}={value}; {attributes}; HttpOnly")),
        (SET_COOKIE, format!("{SAVED_COOKIE}={saved}; {attributes}")),
    ])
}

/// 401, and the device's cookies forgotten: what they named is gone.
fn no_profile() -> Response {
    (credential_cookies(None), unauthorized("Nothing is saved for this device.")).into_response()
}

/// Saved-card tokens one profile may mint per minute: a buyer pays once or twice; a stolen
/// credential scripted to mint tokens is held back.
pub const MINTS_PER_MINUTE: i64 = 10;

/// Whether a request is the buyer using their saved info (paying with it), which starts its
/// 180 idle days again, or only the frame showing it: a page that loads the saved-info frame
/// on every visit must not keep saved info alive that the buyer no longer uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Pay,
    Show,
}

/// The profile the credential opens, unless it went unused for
/// [`sweeper::CREDENTIAL_IDLE_SECONDS`]: then the profile is erased (the sweeper would do
/// it soon anyway) and the credential gets 401 like an unknown one.
async fn profile_for(state: &VaultState, credential: &DeviceCredential, usage: Use) -> Result<ProfileRow, Response> {
    let now = clock::now();
    let found = async {
        let Some(profile) = profile_store::by_credential(&state.db, &credential.hash).await? else { return Ok(None) };
        if profile.last_used_at < now - sweeper::CREDENTIAL_IDLE_SECONDS {
            profile_store::delete(&state.db, &profile).await?;
            tracing::info!(profile_id = %profile.id, "saved info erased: its device credential went unused for 180 days");
            return Ok(None);
        }
        if usage == Use::Pay {
            profile_store::touch(&state.db, &profile, now).await?;
        }
        Ok::<_, AppError>(Some(profile))
    };
    match found.await {
        Ok(Some(profile)) => Ok(profile),
        Ok(None) => Err(no_profile()),
        Err(error) => Err(error.into_response()),
    }
}

fn token_invalid() -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, ErrorCode::TokenInvalid, "This card can no longer be saved.")
}

/// The saved email and address of a profile, decrypted.
fn open_contact(state: &VaultState, profile: &ProfileRow) -> Result<SavedDetails, AppError> {
    let plain = envelope::open(&state.keys, &profile.id, &profile.id, &profile.sealed)
        .map_err(|e| AppError::internal(format!("opening profile {}: {e}", profile.id)))?;
    serde_json::from_slice(&plain).map_err(|e| AppError::internal(format!("profile {} contact: {e}", profile.id)))
}

fn saved_card(card: &CardRow, contact: &SavedDetails) -> Result<SavedCard, AppError> {
    let token = card.to_token()?;
    Ok(SavedCard {
        brand: token.brand,
        last4: token.last4,
        exp_month: token.exp_month,
        exp_year: token.exp_year,
        ship_to: contact.shipping.as_ref().map(ship_to_summary),
    })
}

fn no_store<T: serde::Serialize>(status: StatusCode, body: T) -> Response {
    (status, [(CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn save(
    State(state): State<VaultState>,
    _origin: SameOriginOnly,
    headers: axum::http::HeaderMap,
    JsonBody(request): JsonBody<SaveProfileRequest>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let email = validate_email(&request.email).map_err(|e| errors.push(e)).ok();
    let countries: Vec<Country> = Country::all().collect();
    let shipping = match &request.shipping {
        None => None,
        Some(address) => address.validate(&countries).map_err(|e| errors.extend(e)).ok(),
    };
    let bad_text = |s: &str| s.len() > 128 || !is_single_line(s);
    if bad_text(&request.token) || bad_text(&request.save_secret) {
        errors.push(FieldError::new("token", "token_invalid", "This card can no longer be saved."));
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AppError::validation(errors));
    };
    let now = clock::now();
    let one_time =
        profile_store::paid_card_for_save(&state.db, &request.token, &sha256_hex(request.save_secret.as_bytes()), now)
            .await?
            .ok_or_else(token_invalid)?;
    let number = envelope::open(&state.keys, &one_time.id, &one_time.owner, &one_time.sealed)
        .map_err(|e| AppError::internal(format!("opening card {}: {e}", one_time.id)))?;

    // The number is sealed again for its new record and owner: a copy of the old
    // ciphertext would not open there (the associated data differs).
    let profile_id = random_id("prof_");
    let card_id = random_id("card_");
    let sealed = envelope::seal(&state.keys, &card_id, &profile_id, &number)
        .map_err(|e| AppError::internal(format!("sealing a saved card: {e}")))?;
    drop(number);
    let contact = SavedDetails { email, shipping };
    let contact_json =
        zeroize::Zeroizing::new(serde_json::to_vec(&contact).map_err(|e| AppError::internal(e.to_string()))?);
    let sealed_contact = envelope::seal(&state.keys, &profile_id, &profile_id, &contact_json)
        .map_err(|e| AppError::internal(format!("sealing a profile: {e}")))?;
    let credential = format!("{CREDENTIAL_PREFIX}{}", random_secret());
    let card = NewCard {
        id: card_id,
        token: random_id("scard_"),
        owner: profile_id.clone(),
        sealed,
        brand: one_time.brand()?,
        last4: one_time.last4.clone(),
        exp_month: u8::try_from(one_time.exp_month).map_err(|_| AppError::internal("stored exp_month"))?,
        exp_year: u16::try_from(one_time.exp_year).map_err(|_| AppError::internal("stored exp_year"))?,
        created_at: now,
        save_secret_hash: None,
        intent_id: None,
        fingerprint: None,
    };
    let profile = NewProfile {
        id: profile_id,
        credential_hash: sha256_hex(credential.as_bytes()),
        contact: sealed_contact,
        created_at: now,
    };
    // Saving again on a device that has saved info replaces it: the one cookie holds one
    // credential, and what it held before is erased rather than left for nobody to remove.
    let replacing = DeviceCredential::sent(&headers).map(|old| old.hash);
    if !profile_store::insert_profile(&state.db, &profile, &card, &one_time.id, replacing.as_deref()).await? {
        return Err(token_invalid());
    }
    tracing::info!(profile_id = %profile.id, brand = ?card.brand, last4 = %card.last4, "buyer info saved");
    let saved = SavedCard {
        brand: card.brand,
        last4: card.last4.clone(),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        ship_to: contact.shipping.as_ref().map(ship_to_summary),
    };
    Ok((credential_cookies(Some(&credential)), no_store(StatusCode::CREATED, SaveProfileResponse { saved }))
        .into_response())
}

async fn lookup(
    State(state): State<VaultState>,
    _origin: SameOriginOnly,
    credential: DeviceCredential,
) -> Result<Response, Response> {
    let profile = profile_for(&state, &credential, Use::Show).await?;
    let build = async {
        let card = profile_store::card_of(&state.db, &profile).await?;
        let contact = open_contact(&state, &profile)?;
        Ok::<_, AppError>(SavedProfile {
            card: saved_card(&card, &contact)?,
            email: contact.email,
            shipping: contact.shipping,
        })
    };
    let saved = build.await.map_err(IntoResponse::into_response)?;
    Ok(no_store(StatusCode::OK, saved))
}

async fn mint_token(
    State(state): State<VaultState>,
    _origin: SameOriginOnly,
    credential: DeviceCredential,
    JsonBody(request): JsonBody<SavedTokenRequest>,
) -> Result<Response, Response> {
    if !is_intent_id(&request.intent_id) {
        let field = FieldError::new("intent_id", "intent_invalid", "Start the payment again.");
        return Err(AppError::validation(vec![field]).into_response());
    }
    let profile = profile_for(&state, &credential, Use::Pay).await?;
    let now = clock::now();
    let allowed = profile_store::take_mint(&state.db, &profile, now, MINTS_PER_MINUTE)
        .await
        .map_err(IntoResponse::into_response)?;
    if !allowed {
        tracing::info!(profile_id = %profile.id, "saved-card tokens rate limited");
        let error = AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "Too many payments with this saved card. Try again in a minute.",
        );
        return Err(([(RETRY_AFTER, "60")], error).into_response());
    }
    let build = async {
        let card = profile_store::card_of(&state.db, &profile).await?;
        let token = random_id(SAVED_TOKEN_PREFIX);
        profile_store::insert_saved_token(&state.db, &token, &profile, &request.intent_id, now).await?;
        let shown = card.to_token()?;
        Ok::<_, AppError>(CardToken { token, ..shown })
    };
    let token = build.await.map_err(IntoResponse::into_response)?;
    // Paying starts the idle time again, on the device too.
    Ok((credential_cookies(Some(&credential.secret)), no_store(StatusCode::CREATED, token)).into_response())
}

async fn remove(
    State(state): State<VaultState>,
    _origin: SameOriginOnly,
    credential: DeviceCredential,
) -> Result<Response, Response> {
    let profile = profile_for(&state, &credential, Use::Show).await?;
    profile_store::delete(&state.db, &profile).await.map_err(IntoResponse::into_response)?;
    tracing::info!(profile_id = %profile.id, "buyer info removed");
    Ok((StatusCode::NO_CONTENT, credential_cookies(None), [(CACHE_CONTROL, "no-store")]).into_response())
}
