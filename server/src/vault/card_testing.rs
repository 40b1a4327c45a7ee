//! Defences against card testing (trying stolen numbers through the checkout to learn which
//! are live):
//!
//! - a caller without a saved profile learns only `card_declined`, never why
//!   ([`public_decline`]): "insufficient funds" or "incorrect CVC" would tell them the number
//!   is real;
//! - each card number, by a keyed fingerprint, may be declined [`MAX_DECLINES`] times in
//!   [`DECLINE_WINDOW_SECONDS`]; then every charge on it is declined without reaching the
//!   processor for [`BLOCK_SECONDS`] (an approval would tell the tester the number works).
//!
//! The fingerprint is an HMAC under the current master key, so a key rotation starts the
//! counts afresh; the number itself is never stored for this.

use super::keys::Keyring;
use crate::db::Db;
use crate::error::AppError;
use tweetbuy_core::vault::DeclineCode;
use tweetbuy_core::CardNumber;
use zeroize::Zeroizing;

/// Declines of one card allowed within [`DECLINE_WINDOW_SECONDS`] before it is blocked.
pub const MAX_DECLINES: i64 = 5;
/// How far back a card's declines count towards [`MAX_DECLINES`]: 10 minutes, in seconds.
pub const DECLINE_WINDOW_SECONDS: i64 = 10 * 60;
/// How long a card stays blocked.
pub const BLOCK_SECONDS: i64 = 60 * 60;

/// The decline code a caller is told. A saved card's buyer has proven their device, and
/// gets the reason; anyone else gets `card_declined`, except for a processing error, which
/// says nothing about the card and tells the buyer to try again.
pub fn public_decline(code: DeclineCode, saved_card: bool) -> DeclineCode {
    if saved_card || code == DeclineCode::ProcessingError {
        code
    } else {
        DeclineCode::CardDeclined
    }
}

/// A keyed fingerprint of a card number.
pub fn fingerprint(keys: &Keyring, number: &CardNumber) -> String {
    let mut input = Zeroizing::new(b"tweetbuy/vault/card-number/v1:".to_vec());
    input.extend_from_slice(number.expose_digits().as_bytes());
    keys.fingerprint(&input)
}

/// Whether the card is blocked at `now`.
pub async fn is_blocked(conn: &mut crate::db::WriteTx, fingerprint: &str, now: i64) -> Result<bool, AppError> {
    let blocked: Option<(i64,)> =
        sqlx::query_as("SELECT blocked_until FROM card_blocks WHERE fingerprint = $1 AND blocked_until > $2")
            .bind(fingerprint)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(blocked.is_some())
}

/// Counts a decline of the card, and blocks it when that makes [`MAX_DECLINES`] within the
/// window. Returns whether the card is now blocked.
pub async fn record_decline(conn: &mut crate::db::WriteTx, fingerprint: &str, now: i64) -> Result<bool, AppError> {
    sqlx::query("INSERT INTO card_declines (fingerprint, declined_at) VALUES ($1, $2)")
        .bind(fingerprint)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let (recent,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM card_declines WHERE fingerprint = $1 AND declined_at > $2")
            .bind(fingerprint)
            .bind(now - DECLINE_WINDOW_SECONDS)
            .fetch_one(&mut *conn)
            .await?;
    if recent < MAX_DECLINES {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO card_blocks (fingerprint, blocked_until) VALUES ($1, $2) \
         ON CONFLICT (fingerprint) DO UPDATE SET blocked_until = excluded.blocked_until",
    )
    .bind(fingerprint)
    .bind(now + BLOCK_SECONDS)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Forgets declines older than the window and blocks that have ended.
pub async fn purge(db: &Db, now: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM card_declines WHERE declined_at <= $1")
        .bind(now - DECLINE_WINDOW_SECONDS)
        .execute(db)
        .await?;
    sqlx::query("DELETE FROM card_blocks WHERE blocked_until <= $1").bind(now).execute(db).await?;
    Ok(())
}
