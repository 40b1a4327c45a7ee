//! The vault's tables for saved buyer info: profiles (encrypted contact, the credential's
//! hash, the reusable card) and the one-time tokens minted for a profile's card.

use super::card_store::{
    after_erase, bind_sealed, CardRow, NewCard, CARD_COLUMNS, ERASE_CARD, SEALED_COLUMNS, TOKEN_TTL_SECONDS,
};
use super::envelope::Sealed;
use crate::db::Db;
use crate::error::AppError;
use sqlx::FromRow;

/// A saved buyer's profile as stored: its reusable card and its encrypted contact.
#[derive(FromRow)]
pub struct ProfileRow {
    /// The profile's id (`prof_…`): the owner of its card and of its sealed contact.
    pub id: String,
    /// The id of the profile's reusable card in `cards` (`card_…`).
    pub card_id: String,
    /// The encrypted contact (email and address).
    #[sqlx(flatten)]
    pub sealed: Sealed,
    /// When the profile's device credential was last used, Unix seconds; after
    /// [`super::sweeper::CREDENTIAL_IDLE_SECONDS`] without use the profile is erased.
    pub last_used_at: i64,
}

const PROFILE_COLUMNS: &str =
    "p.id, p.card_id, p.key_id, p.wrapped_key, p.key_nonce, p.ciphertext, p.nonce, p.last_used_at";

/// The one-time card that paid, if it can still be saved: its token and save secret match,
/// a charge on it was approved, its 15 minutes are not up, and its number is still there.
pub async fn paid_card_for_save(
    db: &Db,
    token: &str,
    save_secret_hash: &str,
    now: i64,
) -> Result<Option<CardRow>, AppError> {
    let card = sqlx::query_as::<_, CardRow>(&format!(
        "SELECT {CARD_COLUMNS} FROM cards c WHERE c.token = $1 AND c.save_secret_hash = $2 AND c.reusable = FALSE \
         AND c.expires_at > $3 AND length(c.ciphertext) > 0 \
         AND EXISTS (SELECT 1 FROM charges h WHERE h.card_id = c.id AND h.status = 'approved')"
    ))
    .bind(token)
    .bind(save_secret_hash)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(card)
}

/// A new profile: its id, the credential's hash and the sealed contact.
pub struct NewProfile {
    pub(crate) id: String,
    pub(crate) credential_hash: String,
    pub(crate) contact: Sealed,
    pub(crate) created_at: i64,
}

/// Stores the profile with its reusable card and erases the one-time card it came from, in
/// one transaction. `false` when the one-time card was saved (or erased) meanwhile.
///
/// `replacing`: the hash of the device credential the save came with, if any. The profile it
/// opens is erased in the same transaction: the new credential's cookie takes that one's
/// place, so nobody could remove the old profile any more, nor pay with it.
pub async fn insert_profile(
    db: &Db,
    profile: &NewProfile,
    card: &NewCard,
    one_time_card_id: &str,
    replacing: Option<&str>,
) -> Result<bool, AppError> {
    let mut tx = crate::db::begin_write(db).await?;
    let empty: Vec<u8> = Vec::new();
    // Erasing first decides the race: only one save of a given payment can win.
    let erased = sqlx::query(&format!(
        "UPDATE cards SET {ERASE_CARD}, save_secret_hash = NULL WHERE id = $2 \
         AND save_secret_hash IS NOT NULL AND length(ciphertext) > 0"
    ))
    .bind(&empty)
    .bind(one_time_card_id)
    .execute(&mut tx)
    .await?;
    if erased.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    super::card_store::insert_card(&mut tx, card, super::card_store::CardLife::Reusable).await?;
    let sql = format!(
        "INSERT INTO profiles (id, credential_hash, card_id, {SEALED_COLUMNS}, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
    );
    let query = sqlx::query(&sql).bind(&profile.id).bind(&profile.credential_hash).bind(&card.id);
    bind_sealed(query, &profile.contact).bind(profile.created_at).execute(&mut tx).await?;
    if let Some(hash) = replacing {
        let old: Option<(String, String)> =
            sqlx::query_as("SELECT id, card_id FROM profiles WHERE credential_hash = $1")
                .bind(hash)
                .fetch_optional(&mut tx)
                .await?;
        if let Some((id, card_id)) = old {
            erase(&mut tx, &id, &card_id).await?;
        }
    }
    tx.commit().await?;
    after_erase(db).await;
    Ok(true)
}

/// Deletes a profile and its tokens and erases its card's number and key, inside `tx`.
async fn erase(tx: &mut crate::db::WriteTx, profile_id: &str, card_id: &str) -> Result<(), AppError> {
    let empty: Vec<u8> = Vec::new();
    sqlx::query("DELETE FROM saved_tokens WHERE profile_id = $1").bind(profile_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM profiles WHERE id = $1").bind(profile_id).execute(&mut *tx).await?;
    sqlx::query(&format!("UPDATE cards SET {ERASE_CARD} WHERE id = $2"))
        .bind(&empty)
        .bind(card_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The profile a device credential (its SHA-256) belongs to.
pub async fn by_credential(db: &Db, credential_hash: &str) -> Result<Option<ProfileRow>, AppError> {
    let row = sqlx::query_as::<_, ProfileRow>(&format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles p WHERE p.credential_hash = $1"
    ))
    .bind(credential_hash)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// The profile's reusable card; a profile without it is a 500 (`internal`).
pub(crate) async fn card_of(db: &Db, profile: &ProfileRow) -> Result<CardRow, AppError> {
    let card = sqlx::query_as::<_, CardRow>(&format!(
        "SELECT {CARD_COLUMNS} FROM cards c WHERE c.id = $1 AND c.owner = $2 AND c.reusable = TRUE"
    ))
    .bind(&profile.card_id)
    .bind(&profile.id)
    .fetch_optional(db)
    .await?;
    card.ok_or_else(|| AppError::internal(format!("profile {} without its card", profile.id)))
}

/// Mints a one-time token for a profile's card.
pub async fn insert_saved_token(
    db: &Db,
    token: &str,
    profile: &ProfileRow,
    intent_id: &str,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO saved_tokens (token, profile_id, card_id, created_at, expires_at, used_at, intent_id) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6)",
    )
    .bind(token)
    .bind(&profile.id)
    .bind(&profile.card_id)
    .bind(now)
    .bind(now + TOKEN_TTL_SECONDS)
    .bind(intent_id)
    .execute(db)
    .await?;
    Ok(())
}

/// The profile behind an unspent, unexpired saved-card token.
pub async fn by_saved_token(db: &Db, token: &str, now: i64) -> Result<Option<ProfileRow>, AppError> {
    let row = sqlx::query_as::<_, ProfileRow>(&format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles p JOIN saved_tokens s ON s.profile_id = p.id AND s.card_id = p.card_id \
         WHERE s.token = $1 AND s.used_at IS NULL AND s.expires_at > $2"
    ))
    .bind(token)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Claims a saved-card token for a charge (once, within its 15 minutes) and returns the
/// profile's card: only the card of the profile the token was minted for.
pub async fn claim_saved_token(
    db: &mut crate::db::WriteTx,
    token: &str,
    intent_id: &str,
    now: i64,
) -> Result<Option<CardRow>, AppError> {
    let claimed = sqlx::query(
        "UPDATE saved_tokens SET used_at = $1 WHERE token = $2 AND used_at IS NULL AND expires_at > $1 \
         AND intent_id = $3",
    )
    .bind(now)
    .bind(token)
    .bind(intent_id)
    .execute(&mut *db)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(None);
    }
    let card = sqlx::query_as::<_, CardRow>(&format!(
        "SELECT {CARD_COLUMNS} FROM saved_tokens s JOIN profiles p ON p.id = s.profile_id AND p.card_id = s.card_id \
         JOIN cards c ON c.id = p.card_id AND c.owner = p.id AND c.reusable = TRUE \
         WHERE s.token = $1 AND length(c.ciphertext) > 0"
    ))
    .bind(token)
    .fetch_optional(&mut *db)
    .await?;
    Ok(card)
}

/// Gives a claimed saved-card token back (after a retryable processing error).
pub async fn release_saved_token(db: &mut crate::db::WriteTx, token: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE saved_tokens SET used_at = NULL WHERE token = $1").bind(token).execute(&mut *db).await?;
    Ok(())
}

/// Erases a profile: its row (with the encrypted contact), every token minted for it, and
/// its card's encrypted number and wrapped data key. The card row itself stays, emptied,
/// because charges refer to it.
pub async fn delete(db: &Db, profile: &ProfileRow) -> Result<(), AppError> {
    let mut tx = crate::db::begin_write(db).await?;
    erase(&mut tx, &profile.id, &profile.card_id).await?;
    tx.commit().await?;
    after_erase(db).await;
    Ok(())
}

/// Notes that the profile's device credential was used at `now`. Written at most once an
/// hour per profile: the 180-day limit needs no finer clock.
pub async fn touch(db: &Db, profile: &ProfileRow, now: i64) -> Result<(), AppError> {
    if now - profile.last_used_at < 60 * 60 {
        return Ok(());
    }
    sqlx::query("UPDATE profiles SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1")
        .bind(now)
        .bind(&profile.id)
        .execute(db)
        .await?;
    Ok(())
}

/// Profiles whose device credential was last used before `before`.
pub async fn unused_since(db: &Db, before: i64) -> Result<Vec<ProfileRow>, AppError> {
    let rows = sqlx::query_as::<_, ProfileRow>(&format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles p WHERE p.last_used_at < $1 ORDER BY p.last_used_at LIMIT 500"
    ))
    .bind(before)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Takes one of the profile's `limit` saved-card tokens for the minute that starts at the
/// first mint of a window: `false` when they are used up. One conditional `UPDATE` on the
/// profile's row, so requests racing each other (on one replica or several) cannot all see
/// room for one more.
pub async fn take_mint(db: &Db, profile: &ProfileRow, now: i64, limit: i64) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE profiles SET \
           mint_count = CASE WHEN mint_window_start <= $2 - 60 THEN 1 ELSE mint_count + 1 END, \
           mint_window_start = CASE WHEN mint_window_start <= $2 - 60 THEN $2 ELSE mint_window_start END \
         WHERE id = $1 AND (mint_window_start <= $2 - 60 OR mint_count < $3)",
    )
    .bind(&profile.id)
    .bind(now)
    .bind(limit)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes saved-card tokens a day after they expired. Not at once: `settled_charge` finds
/// the charge of an order retried with its spent token through them.
pub async fn purge_saved_tokens(db: &Db, now: i64) -> Result<u64, AppError> {
    let done =
        sqlx::query("DELETE FROM saved_tokens WHERE expires_at <= $1").bind(now - 24 * 60 * 60).execute(db).await?;
    Ok(done.rows_affected())
}
