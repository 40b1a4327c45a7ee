//! The vault's tables: cards (encrypted), tokenization keys and charges.

use super::envelope::Sealed;
use crate::db::Db;
use crate::db::{from_text, to_text};
use crate::error::AppError;
use sqlx::AnyConnection;
use sqlx::FromRow;
use tweetbuy_core::vault::{CardToken, ChargeStatus, DeclineCode};
use tweetbuy_core::{CardBrand, Money};

/// Owner of one-time tokens made by the card frame (no account yet).
pub const ANONYMOUS_OWNER: &str = "anon";

/// How long a one-time token can be charged after it was made.
pub const TOKEN_TTL_SECONDS: i64 = 15 * 60;

/// A new card record, before insertion.
pub struct NewCard {
    pub id: String,
    pub token: String,
    pub owner: String,
    pub sealed: Sealed,
    pub brand: CardBrand,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
    pub created_at: i64,
    /// SHA-256 of the secret that lets the buyer save this card after paying with it.
    pub save_secret_hash: Option<String>,
}

/// What kind of card row to write.
pub enum CardLife {
    /// Typed for one payment: charged once, within [`TOKEN_TTL_SECONDS`], and savable
    /// with its save secret.
    OneTime,
    /// A saved profile's card: never expires, charged again on each repeat purchase.
    Reusable,
}

/// Writes a card row in the caller's transaction.
pub async fn insert_card(conn: &mut AnyConnection, card: &NewCard, life: CardLife) -> Result<(), AppError> {
    let (expires_at, save_secret_hash, reusable) = match life {
        CardLife::OneTime => (card.created_at + TOKEN_TTL_SECONDS, card.save_secret_hash.as_deref(), false),
        CardLife::Reusable => (super::profile_store::NEVER, None, true),
    };
    sqlx::query(
        "INSERT INTO cards (id, token, owner, key_id, wrapped_key, key_nonce, ciphertext, nonce, brand, last4, \
         exp_month, exp_year, created_at, expires_at, used_at, save_secret_hash, reusable) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15, $16)",
    )
    .bind(&card.id)
    .bind(&card.token)
    .bind(&card.owner)
    .bind(&card.sealed.key_id)
    .bind(&card.sealed.wrapped_key)
    .bind(&card.sealed.key_nonce)
    .bind(&card.sealed.ciphertext)
    .bind(&card.sealed.nonce)
    .bind(to_text(&card.brand))
    .bind(&card.last4)
    .bind(i64::from(card.exp_month))
    .bind(i64::from(card.exp_year))
    .bind(card.created_at)
    .bind(expires_at)
    .bind(save_secret_hash)
    .bind(reusable)
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored card, as the charge path needs it.
#[derive(FromRow)]
pub struct CardRow {
    pub id: String,
    pub token: String,
    pub owner: String,
    pub key_id: String,
    pub wrapped_key: Vec<u8>,
    pub key_nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl CardRow {
    pub fn sealed(&self) -> Sealed {
        Sealed {
            key_id: self.key_id.clone(),
            wrapped_key: self.wrapped_key.clone(),
            key_nonce: self.key_nonce.clone(),
            ciphertext: self.ciphertext.clone(),
            nonce: self.nonce.clone(),
        }
    }

    pub fn brand(&self) -> Result<CardBrand, AppError> {
        from_text(&self.brand)
    }

    /// What the frame and the widget may see about this card.
    pub fn to_token(&self) -> Result<CardToken, AppError> {
        Ok(CardToken {
            token: self.token.clone(),
            brand: self.brand()?,
            last4: self.last4.clone(),
            exp_month: u8::try_from(self.exp_month).map_err(|_| AppError::internal("stored exp_month"))?,
            exp_year: u16::try_from(self.exp_year).map_err(|_| AppError::internal("stored exp_year"))?,
        })
    }
}

const CARD_COLUMNS: &str = "id, token, owner, key_id, wrapped_key, key_nonce, ciphertext, nonce, brand, last4, \
     exp_month, exp_year, expires_at, used_at";

/// Inserts a card and the idempotency key that made it, in one transaction. Returns `false`
/// (and inserts nothing) when the key was taken meanwhile by a concurrent request.
pub async fn insert_card_for_key(
    db: &Db,
    card: &NewCard,
    idem_key: &str,
    request_hash: &str,
) -> Result<bool, AppError> {
    let mut tx = db.begin().await?;
    // The card row goes first because the key row references it; both roll back together
    // when the key turns out to be taken.
    insert_card(&mut tx, card, CardLife::OneTime).await?;
    let claimed = sqlx::query(
        "INSERT INTO token_requests (idem_key, request_hash, card_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (idem_key) DO NOTHING",
    )
    .bind(idem_key)
    .bind(request_hash)
    .bind(&card.id)
    .bind(card.created_at)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 1 {
        tx.commit().await?;
        Ok(true)
    } else {
        tx.rollback().await?;
        Ok(false)
    }
}

/// The earlier tokenization under `idem_key`: its request fingerprint and card.
pub async fn find_by_idempotency_key(db: &Db, idem_key: &str) -> Result<Option<(String, CardRow)>, AppError> {
    let hash: Option<(String, String)> =
        sqlx::query_as("SELECT request_hash, card_id FROM token_requests WHERE idem_key = $1")
            .bind(idem_key)
            .fetch_optional(db)
            .await?;
    let Some((hash, card_id)) = hash else { return Ok(None) };
    let card = sqlx::query_as::<_, CardRow>(&format!("SELECT {CARD_COLUMNS} FROM cards WHERE id = $1"))
        .bind(&card_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::internal("token request without its card"))?;
    Ok(Some((hash, card)))
}

/// Claims a one-time token for a charge: sets `used_at` only if it was unused and not
/// expired, in one statement, so two concurrent charges cannot both win. A saved profile's
/// reusable card is never claimed this way: it is charged only through a one-time
/// saved-card token minted for the buyer's device (`profiles`).
pub async fn claim_token(db: &mut AnyConnection, token: &str, now: i64) -> Result<Option<CardRow>, AppError> {
    let claimed = sqlx::query(
        "UPDATE cards SET used_at = $1 WHERE token = $2 AND used_at IS NULL AND expires_at > $1 AND reusable = FALSE",
    )
    .bind(now)
    .bind(token)
    .execute(&mut *db)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(None);
    }
    let card = sqlx::query_as::<_, CardRow>(&format!("SELECT {CARD_COLUMNS} FROM cards WHERE token = $1"))
        .bind(token)
        .fetch_one(&mut *db)
        .await?;
    Ok(Some(card))
}

/// Gives a claimed token back (after a retryable processing error).
pub async fn release_token(db: &mut AnyConnection, card_id: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE cards SET used_at = NULL WHERE id = $1").bind(card_id).execute(&mut *db).await?;
    Ok(())
}

/// Erases a card's encrypted number once it can never be charged again: without the
/// wrapped data key and ciphertext the number is gone for good (crypto-shredding).
pub async fn erase_card_data(db: &Db, card_id: &str) -> Result<(), AppError> {
    let empty: Vec<u8> = Vec::new();
    sqlx::query("UPDATE cards SET wrapped_key = $1, ciphertext = $1 WHERE id = $2")
        .bind(&empty)
        .bind(card_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Erases the numbers of one-time tokens whose time is up: unused ones, and paid ones whose
/// window for "save my card" (the token's 15 minutes) has passed.
pub async fn erase_expired(db: &Db, now: i64) -> Result<u64, AppError> {
    let empty: Vec<u8> = Vec::new();
    let done = sqlx::query(
        "UPDATE cards SET wrapped_key = $1, ciphertext = $1 WHERE expires_at <= $2 AND reusable = FALSE \
         AND length(ciphertext) > 0",
    )
    .bind(&empty)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// One charge attempt, approved or declined.
pub struct NewCharge<'a> {
    pub id: &'a str,
    pub card_id: &'a str,
    pub reference: &'a str,
    pub amount: Money,
    pub status: ChargeStatus,
    pub decline_code: Option<DeclineCode>,
    pub created_at: i64,
}

pub async fn insert_charge(db: &mut AnyConnection, charge: &NewCharge<'_>) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO charges (id, card_id, reference, amount_minor, currency, status, decline_code, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(charge.id)
    .bind(charge.card_id)
    .bind(charge.reference)
    .bind(charge.amount.minor)
    .bind(charge.amount.currency.code())
    .bind(to_text(&charge.status))
    .bind(charge.decline_code.map(|c| c.as_str()))
    .bind(charge.created_at)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// An earlier charge that settled an order reference: approved, or declined for good.
#[derive(Debug, FromRow)]
pub struct SettledCharge {
    pub id: String,
    pub status: String,
    pub decline_code: Option<String>,
    pub brand: String,
    pub last4: String,
    pub amount_minor: i64,
    pub currency: String,
}

/// The charge that settled `reference` (an order id), whatever card paid it, if any: for the
/// api's sweep of orders whose outcome it never learned.
pub async fn charge_for_reference(db: &Db, reference: &str) -> Result<Option<SettledCharge>, AppError> {
    let charge = sqlx::query_as(
        "SELECT ch.id, ch.status, ch.decline_code, c.brand, c.last4, ch.amount_minor, ch.currency \
         FROM charges ch JOIN cards c ON c.id = ch.card_id \
         WHERE ch.reference = $1 AND (ch.decline_code IS NULL OR ch.decline_code <> 'processing_error') \
         ORDER BY CASE WHEN ch.status = 'approved' THEN 0 ELSE 1 END, ch.created_at DESC LIMIT 1",
    )
    .bind(reference)
    .fetch_optional(db)
    .await?;
    Ok(charge)
}

/// The charge of `token` (one-time or saved-card) that already settled `reference`, if any
/// (an approved one first). A retryable decline (`processing_error`) settles nothing: its
/// token was given back for another try.
pub async fn settled_charge(db: &Db, reference: &str, token: &str) -> Result<Option<SettledCharge>, AppError> {
    let charge = sqlx::query_as(
        "SELECT ch.id, ch.status, ch.decline_code, c.brand, c.last4, ch.amount_minor, ch.currency \
         FROM charges ch JOIN cards c ON c.id = ch.card_id \
         WHERE ch.reference = $1 AND (ch.decline_code IS NULL OR ch.decline_code <> 'processing_error') \
         AND (c.token = $2 OR ch.card_id IN (SELECT card_id FROM saved_tokens WHERE token = $2)) \
         ORDER BY CASE WHEN ch.status = 'approved' THEN 0 ELSE 1 END, ch.created_at DESC LIMIT 1",
    )
    .bind(reference)
    .bind(token)
    .fetch_optional(db)
    .await?;
    Ok(charge)
}
