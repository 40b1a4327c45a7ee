//! Key rotation: after a new master key becomes current, every stored data key is re-wrapped
//! with it (cards, and the encrypted contact details of saved profiles). Old keys stay in the
//! key ring, so a record that a running process wrote under an old key meanwhile still opens.

use super::card_store::{bind_sealed, SEALED_COLUMNS};
use super::envelope::{self, Sealed};
use super::keys::Keyring;
use crate::db::Db;
use crate::error::AppError;
use sqlx::FromRow;

/// What one [`rewrap_all`] run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Records now wrapped by the current key.
    pub rewrapped: u64,
    /// Records a concurrent writer changed meanwhile (left for the next run).
    pub skipped: u64,
}

#[derive(FromRow)]
struct Stored {
    id: String,
    owner: String,
    #[sqlx(flatten)]
    sealed: Sealed,
}

/// Re-wraps every record not yet under the keyring's current key. Erased records (empty
/// wrapped key) hold nothing and are left alone. Fails on the first record that does not
/// open, so a missing old key is noticed instead of silently skipped.
pub async fn rewrap_all(db: &Db, keys: &Keyring) -> Result<RotationReport, AppError> {
    let mut report = RotationReport::default();
    // Cards bind their owner; profiles are their own owner.
    for (table, owner) in [("cards", "owner"), ("profiles", "id")] {
        let rows: Vec<Stored> = sqlx::query_as(&format!(
            "SELECT id, {owner} AS owner, {SEALED_COLUMNS} FROM {table} WHERE key_id <> $1 AND length(wrapped_key) > 0"
        ))
        .bind(keys.current().id())
        .fetch_all(db)
        .await?;
        for row in rows {
            let sealed = &row.sealed;
            let Some(moved) = envelope::rewrap(keys, &row.id, &row.owner, sealed)
                .map_err(|e| AppError::internal(format!("re-wrapping {table} record {}: {e}", row.id)))?
            else {
                continue;
            };
            // Only if nobody changed the record meanwhile (erased it, or rotated it already).
            let sql = format!(
                "UPDATE {table} SET key_id = $1, wrapped_key = $2, key_nonce = $3, ciphertext = $4, nonce = $5 \
                 WHERE id = $6 AND key_id = $7 AND wrapped_key = $8"
            );
            let done = bind_sealed(sqlx::query(&sql), &moved)
                .bind(&row.id)
                .bind(&sealed.key_id)
                .bind(&sealed.wrapped_key)
                .execute(db)
                .await?;
            if done.rows_affected() == 1 {
                report.rewrapped += 1;
            } else {
                report.skipped += 1;
            }
        }
    }
    Ok(report)
}

/// How many live records each key id still wraps (for `keys rotate`'s summary).
pub async fn records_per_key(db: &Db) -> Result<Vec<(String, i64)>, AppError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT key_id, COUNT(*) FROM (SELECT key_id FROM cards WHERE length(wrapped_key) > 0 \
         UNION ALL SELECT key_id FROM profiles) AS live GROUP BY key_id ORDER BY key_id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}
