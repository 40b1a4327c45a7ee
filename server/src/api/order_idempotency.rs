//! The api's idempotency records (IETF draft semantics): the first request with a key runs
//! and its response is stored; a retry with the same key and body gets that response again;
//! the same key with another body is refused; a retry while the first still runs is told so.

use crate::db::{write_conn, AnyQuery, Db};
use crate::error::AppError;

/// How long responses are kept for replay.
pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;

/// An in-flight record older than this belongs to a request that died with its process
/// (handlers run to completion otherwise), so a retry may take it over. The default of
/// [`crate::ApiState`]'s `stale_in_flight_secs`.
pub const STALE_IN_FLIGHT_SECONDS: i64 = 120;

/// What to do with a request that carries a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time: run it, then [`complete`].
    Started,
    /// An earlier request with this key died (its process was killed) or failed on our side
    /// after it began writing: run it again, resuming the order it made, if it made one.
    Resume {
        /// The order the earlier request recorded, else the one this request would make;
        /// `None` when neither makes an order.
        order_id: Option<String>,
    },
    /// Done before with the same body: send this again.
    Replay {
        /// The stored response's HTTP status.
        status: u16,
        /// The stored response's body, as it was sent.
        body: String,
    },
    /// The key was used with a different body.
    Mismatch,
    /// The first request with this key has not finished.
    InProgress,
}

/// A stored key: request hash, response status and body, created at, order id, resumable.
type KeyRow = (String, Option<i64>, Option<String>, i64, Option<String>, i64);

/// Claims `key` in `scope` for a request with fingerprint `hash`, or says why not.
pub async fn begin(db: &Db, scope: &str, key: &str, hash: &str, now: i64) -> Result<Begin, AppError> {
    begin_order(db, scope, key, hash, None, now, STALE_IN_FLIGHT_SECONDS).await
}

/// [`begin`], recording the id of the order this request will make, so that a retry after a
/// crash resumes that order rather than placing another. A record in flight for longer than
/// `stale_secs` is taken over.
pub async fn begin_order(
    db: &Db,
    scope: &str,
    key: &str,
    hash: &str,
    order_id: Option<&str>,
    now: i64,
    stale_secs: i64,
) -> Result<Begin, AppError> {
    // Expired keys are purged by the sweep ([`purge_expired`]), not on every request; one
    // this request meets that has outlived its retention is forgotten here, as if purged.
    let mut conn = write_conn(db).await?;
    let mut existing: Option<KeyRow> = None;
    let claim = KeyClaim { scope, key, hash };
    for _ in 0..2 {
        if claim_in(&mut conn, &claim, order_id, now).await? {
            return Ok(Begin::Started);
        }
        existing = sqlx::query_as(
            "SELECT request_hash, response_status, response_body, created_at, order_id, resumable \
             FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&mut conn)
        .await?;
        match &existing {
            Some(row) if row.3 < now - RETENTION_SECONDS => {
                sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND created_at = $3")
                    .bind(scope)
                    .bind(key)
                    .bind(row.3)
                    .execute(&mut conn)
                    .await?;
            }
            _ => break,
        }
    }
    let Some((stored_hash, status, body, created_at, earlier_order, resumable)) = existing else {
        // Purged between our insert and select: the caller may simply retry.
        return Ok(Begin::InProgress);
    };
    if stored_hash != hash {
        return Ok(Begin::Mismatch);
    }
    if let (Some(status), Some(body)) = (status, body) {
        return Ok(Begin::Replay { status: u16::try_from(status).unwrap_or(500), body });
    }
    if created_at < now - stale_secs || resumable == 1 {
        // Taken over by exactly one retry: the one whose update still finds the record as read.
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET created_at = $1, resumable = 0, order_id = COALESCE(order_id, $2) \
             WHERE scope = $3 AND idem_key = $4 AND response_status IS NULL AND created_at = $5 AND resumable = $6",
        )
        .bind(now)
        .bind(order_id)
        .bind(scope)
        .bind(key)
        .bind(created_at)
        .bind(resumable)
        .execute(&mut conn)
        .await?;
        if taken.rows_affected() == 1 {
            return Ok(Begin::Resume { order_id: earlier_order.or_else(|| order_id.map(str::to_owned)) });
        }
    }
    Ok(Begin::InProgress)
}

/// A key to claim for a request: its scope, the key, and the request's fingerprint.
pub struct KeyClaim<'a> {
    pub(crate) scope: &'a str,
    pub(crate) key: &'a str,
    pub(crate) hash: &'a str,
}

/// Claims a key never seen before, in the caller's transaction, recording the order the
/// request makes: `false` when the key is already stored (in flight, done, or past its
/// retention and not yet purged), which only [`begin_order`] sorts out.
pub async fn claim_in(
    conn: &mut crate::db::WriteConn,
    claim: &KeyClaim<'_>,
    order_id: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = claim_query(claim, order_id, now).execute(&mut *conn).await?;
    Ok(inserted.rows_affected() == 1)
}

/// [`claim_in`]'s statement, for a [`crate::db::Batch`]: it changes one row when the key
/// was claimed.
pub fn claim_query<'q>(claim: &KeyClaim<'q>, order_id: Option<&'q str>, now: i64) -> AnyQuery<'q> {
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at, order_id) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, idem_key) DO NOTHING",
    )
    .bind(claim.scope)
    .bind(claim.key)
    .bind(claim.hash)
    .bind(now)
    .bind(order_id)
}

/// Stores the response of a started request, unless one is stored already: a request that
/// outlived its key's stale window can finish after the retry that took it over, and the
/// answer retries replay is the first one given, which the order's state agrees with (an
/// order marked paid is never marked declined after, nor the reverse).
pub async fn complete(db: &Db, scope: &str, key: &str, status: u16, body: &str, now: i64) -> Result<(), AppError> {
    let mut conn = write_conn(db).await?;
    complete_in(&mut conn, scope, key, status, body, now).await
}

/// [`complete`] in the caller's transaction.
pub async fn complete_in(
    conn: &mut crate::db::WriteConn,
    scope: &str,
    key: &str,
    status: u16,
    body: &str,
    now: i64,
) -> Result<(), AppError> {
    completion(scope, key, status, body, now).execute(&mut *conn).await?;
    Ok(())
}

/// [`complete_in`]'s statement, for a [`crate::db::Batch`].
pub fn completion<'q>(scope: &'q str, key: &'q str, status: u16, body: &'q str, now: i64) -> AnyQuery<'q> {
    sqlx::query(
        "UPDATE idempotency_keys SET response_status = $1, response_body = $2, completed_at = $3 \
         WHERE scope = $4 AND idem_key = $5 AND response_status IS NULL",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(now)
    .bind(scope)
    .bind(key)
}

/// Deletes keys past their retention (the api's sweep runs it).
pub async fn purge_expired(db: &Db, now: i64) -> Result<u64, AppError> {
    let mut conn = write_conn(db).await?;
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(now - RETENTION_SECONDS)
        .execute(&mut conn)
        .await?;
    Ok(done.rows_affected())
}

/// Lets the next retry with this key take over at once (see [`Begin::Resume`]): for a
/// request that failed on our side after its order was written, whose key must keep that
/// order's id so the retry finishes the same order instead of charging for a second one.
///
/// `claimed_at` is when this request claimed the key (its `now` at [`begin_order`] or at the
/// placement's claim). A request that outlived the stale window has lost the key to the retry
/// that took it over, which stamped its own time: releasing that retry's claim would let a
/// third request run the order beside it, so only the request's own claim is released.
pub async fn release_for_retry(db: &Db, scope: &str, key: &str, claimed_at: i64) -> Result<(), AppError> {
    on_own_claim(db, "UPDATE idempotency_keys SET resumable = 1", (scope, key, claimed_at)).await
}

/// Runs `statement` (an UPDATE or DELETE of `idempotency_keys`) on the key's row only while
/// it is still in flight under the claim stamped `claimed_at`.
async fn on_own_claim(db: &Db, statement: &str, (scope, key, claimed_at): (&str, &str, i64)) -> Result<(), AppError> {
    let mut conn = write_conn(db).await?;
    let sql = format!("{statement} WHERE scope = $1 AND idem_key = $2 AND response_status IS NULL AND created_at = $3");
    sqlx::query(&sql).bind(scope).bind(key).bind(claimed_at).execute(&mut conn).await?;
    Ok(())
}

/// At start-up on SQLite, whose file only this process uses: every request still in flight
/// died with the previous process, so its retry may resume at once rather than after
/// `stale_secs`. (On PostgreSQL another replica may still be running them.)
pub async fn release_all_in_flight(db: &Db) -> Result<u64, AppError> {
    let done =
        sqlx::query("UPDATE idempotency_keys SET resumable = 1 WHERE response_status IS NULL").execute(db).await?;
    Ok(done.rows_affected())
}

/// Forgets a started request that failed on our side, so the client can retry with the key.
/// Only the request's own claim (`claimed_at`, as for [`release_for_retry`]) is forgotten:
/// a retry that took the key over keeps it.
pub async fn abandon(db: &Db, scope: &str, key: &str, claimed_at: i64) -> Result<(), AppError> {
    on_own_claim(db, "DELETE FROM idempotency_keys", (scope, key, claimed_at)).await
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
        // A request taken over and finishing late cannot replace the answer given.
        complete(&db, "orders", "k", 402, "{\"code\":\"payment_declined\"}", 1003).await.unwrap();
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
        assert_eq!(
            begin(&db, "orders", "s", "h", 5001 + STALE_IN_FLIGHT_SECONDS).await.unwrap(),
            Begin::Resume { order_id: None }
        );
        // The request that went stale, failing late, leaves the key to the retry that took it.
        abandon(&db, "orders", "s", 5000).await.unwrap();
        release_for_retry(&db, "orders", "s", 5000).await.unwrap();
        assert_eq!(begin(&db, "orders", "s", "h", 5002 + STALE_IN_FLIGHT_SECONDS).await.unwrap(), Begin::InProgress);
        abandon(&db, "orders", "s", 5001 + STALE_IN_FLIGHT_SECONDS).await.unwrap();
        assert_eq!(begin(&db, "orders", "s", "h9", 9000).await.unwrap(), Begin::Started);

        // The order id travels with the key; a released record is resumed at once, once.
        let begin_o = |key: &'static str, id: &'static str, now: i64| {
            let db = db.clone();
            async move { begin_order(&db, "orders", key, "h", Some(id), now, 60).await.unwrap() }
        };
        assert_eq!(begin_o("o", "ord_1", 10_000).await, Begin::Started);
        assert_eq!(begin_o("o", "ord_2", 10_001).await, Begin::InProgress);
        release_for_retry(&db, "orders", "o", 10_000).await.unwrap();
        assert_eq!(begin_o("o", "ord_3", 10_002).await, Begin::Resume { order_id: Some("ord_1".into()) });
        assert_eq!(begin_o("o", "ord_4", 10_003).await, Begin::InProgress, "taken over once");
        assert_eq!(begin_o("o", "ord_5", 10_063).await, Begin::Resume { order_id: Some("ord_1".into()) }, "stale");
        assert!(release_all_in_flight(&db).await.unwrap() >= 2, "o and s are still in flight");
        assert_eq!(begin_o("o", "ord_6", 10_064).await, Begin::Resume { order_id: Some("ord_1".into()) });
    }
}
