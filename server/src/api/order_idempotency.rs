//! The api's idempotency records (IETF draft semantics): the first request with a key runs
//! and its response is stored; a retry with the same key and body gets that response again;
//! the same key with another body is refused; a retry while the first still runs is told so.

use crate::db::Db;
use crate::error::AppError;

/// How long responses are kept for replay.
pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;

/// An in-flight record older than this belongs to a request that died with its process
/// (handlers run to completion otherwise), so a retry may take it over.
pub const STALE_IN_FLIGHT_SECONDS: i64 = 120;

/// What to do with a request that carries a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time: run it, then [`complete`].
    Started,
    /// Done before with the same body: send this again.
    Replay { status: u16, body: String },
    /// The key was used with a different body.
    Mismatch,
    /// The first request with this key has not finished.
    InProgress,
}

/// Claims `key` in `scope` for a request with fingerprint `hash`, or says why not.
pub async fn begin(db: &Db, scope: &str, key: &str, hash: &str, now: i64) -> Result<Begin, AppError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(now - RETENTION_SECONDS).execute(db).await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (scope, idem_key) DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(hash)
    .bind(now)
    .execute(db)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Begin::Started);
    }
    let existing: Option<(String, Option<i64>, Option<String>, i64)> = sqlx::query_as(
        "SELECT request_hash, response_status, response_body, created_at FROM idempotency_keys \
         WHERE scope = $1 AND idem_key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(db)
    .await?;
    let Some((stored_hash, status, body, created_at)) = existing else {
        // Purged between our insert and select: the caller may simply retry.
        return Ok(Begin::InProgress);
    };
    if stored_hash != hash {
        return Ok(Begin::Mismatch);
    }
    if let (Some(status), Some(body)) = (status, body) {
        return Ok(Begin::Replay { status: u16::try_from(status).unwrap_or(500), body });
    }
    if created_at < now - STALE_IN_FLIGHT_SECONDS {
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET created_at = $1 WHERE scope = $2 AND idem_key = $3 \
             AND response_status IS NULL AND created_at = $4",
        )
        .bind(now)
        .bind(scope)
        .bind(key)
        .bind(created_at)
        .execute(db)
        .await?;
        if taken.rows_affected() == 1 {
            return Ok(Begin::Started);
        }
    }
    Ok(Begin::InProgress)
}

/// Stores the response of a started request.
pub async fn complete(db: &Db, scope: &str, key: &str, status: u16, body: &str, now: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE idempotency_keys SET response_status = $1, response_body = $2, completed_at = $3 \
         WHERE scope = $4 AND idem_key = $5",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(now)
    .bind(scope)
    .bind(key)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets a started request that failed on our side, so the client can retry with the key.
pub async fn abandon(db: &Db, scope: &str, key: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND response_status IS NULL")
        .bind(scope)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open_api(&dir.path().join("api.db")).await.unwrap();
        assert_eq!(begin(&db, "orders", "k", "h1", 1000).await.unwrap(), Begin::Started);
        assert_eq!(begin(&db, "orders", "k", "h1", 1001).await.unwrap(), Begin::InProgress);
        assert_eq!(begin(&db, "orders", "k", "h2", 1001).await.unwrap(), Begin::Mismatch);
        assert_eq!(begin(&db, "other", "k", "h2", 1001).await.unwrap(), Begin::Started, "scopes are separate");
        complete(&db, "orders", "k", 201, "{}", 1002).await.unwrap();
        assert_eq!(
            begin(&db, "orders", "k", "h1", 1003).await.unwrap(),
            Begin::Replay { status: 201, body: "{}".into() }
        );
        // Kept for 24 h, then forgotten.
        let later = 1000 + RETENTION_SECONDS - 1;
        assert!(matches!(begin(&db, "orders", "k", "h1", later).await.unwrap(), Begin::Replay { .. }));
        assert_eq!(begin(&db, "orders", "k", "h1", 1001 + RETENTION_SECONDS).await.unwrap(), Begin::Started);
        // A stale in-flight record is taken over; an abandoned one is gone.
        assert_eq!(begin(&db, "orders", "s", "h", 5000).await.unwrap(), Begin::Started);
        assert_eq!(begin(&db, "orders", "s", "h", 5001 + STALE_IN_FLIGHT_SECONDS).await.unwrap(), Begin::Started);
        abandon(&db, "orders", "s").await.unwrap();
        assert_eq!(begin(&db, "orders", "s", "h9", 9000).await.unwrap(), Begin::Started);
    }
}
