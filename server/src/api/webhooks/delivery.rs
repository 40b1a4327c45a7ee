//! The outbox and its worker: events are written with their change ([`record`]), then sent
//! by [`Worker`] after the commit, at least once, to every endpoint subscribed at the time.
//!
//! A delivery is claimed with a conditional UPDATE of `locked_until_ms` before it is sent,
//! so two workers (replicas on one PostgreSQL) never send one at the same time; a worker
//! that dies mid-send leaves a claim that runs out after [`CLAIM_MS`], and the delivery is
//! sent again. A 2xx answer ends it; 410 Gone disables the endpoint (and cancels what was
//! still queued for it); anything else, or no answer within [`REQUEST_TIMEOUT`], is retried
//! on the [`Retry`] schedule until 24 hours after the event, the last try at that mark.

use super::{signing, EventType};
use crate::db::{self, begin_write, retry_busy, Db, WriteTx};
use crate::error::AppError;
use crate::{clock, ids};
use rand::Rng;
use serde::Serialize;
use sqlx::Row;
use std::time::Duration;
use tokio::sync::watch;

/// How long a claimed delivery is left to its sender: well past [`REQUEST_TIMEOUT`].
pub const CLAIM_MS: i64 = 60_000;
/// How long an endpoint may take to answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the worker looks for due deliveries.
const POLL: Duration = Duration::from_millis(250);
/// Deliveries sent per poll, at once.
const BATCH: i64 = 20;
/// How much of an endpoint's error answer is kept in the log.
const MAX_LOGGED_BODY: usize = 256;

/// What one batch of deliveries did.
struct Batch {
    claimed: usize,
    delivered: usize,
}

impl Batch {
    /// A whole batch, every one delivered: more may be due at once.
    fn is_full(&self) -> bool {
        self.claimed == BATCH as usize && self.delivered == self.claimed
    }
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `events` as stored: `*` for every type, else `,a,b,` so one type is matched with LIKE.
pub(crate) fn events_column(types: &[EventType]) -> String {
    if types.is_empty() || EventType::ALL.iter().all(|t| types.contains(t)) {
        return "*".to_owned();
    }
    let mut column = String::from(",");
    for t in EventType::ALL.iter().filter(|t| types.contains(t)) {
        column.push_str(t.as_str());
        column.push(',');
    }
    column
}

/// The LIKE pattern matching an `events` column that lists `event_type` (`_` escaped).
fn events_pattern(event_type: EventType) -> String {
    format!("%,{},%", event_type.as_str().replace('_', "\\_"))
}

const SUBSCRIBED: &str =
    "SELECT id FROM webhook_endpoints WHERE disabled_at IS NULL AND (events = '*' OR events LIKE $1 ESCAPE '\\')";

/// The enabled endpoints subscribed to `event_type`.
async fn subscribers(conn: &mut crate::db::WriteTx, event_type: EventType) -> Result<Vec<String>, AppError> {
    let rows: Vec<(String,)> =
        sqlx::query_as(SUBSCRIBED).bind(events_pattern(event_type)).fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Whether any enabled endpoint wants `event_type`: when none does, the event's object need
/// not even be read.
pub(crate) async fn has_subscribers(conn: &mut crate::db::WriteTx, event_type: EventType) -> Result<bool, AppError> {
    Ok(!subscribers(conn, event_type).await?.is_empty())
}

/// For each of several event types, whether any enabled endpoint wants it, in one statement
/// (for a [`db::Batch`] of the order path): [`SubscribedEach::query`] borrows the SQL and
/// the patterns, [`SubscribedEach::read`] reads its row.
pub(crate) struct SubscribedEach<const N: usize> {
    sql: String,
    patterns: [String; N],
}

impl<const N: usize> SubscribedEach<N> {
    pub(crate) fn new(event_types: [EventType; N]) -> SubscribedEach<N> {
        let columns: Vec<String> = (1..=N)
            .map(|i| {
                format!("CAST(COALESCE(MAX(CASE WHEN events = '*' OR events LIKE ${i} ESCAPE '\\' THEN 1 ELSE 0 END), 0) AS BIGINT)")
            })
            .collect();
        let sql = format!("SELECT {} FROM webhook_endpoints WHERE disabled_at IS NULL", columns.join(", "));
        SubscribedEach { sql, patterns: event_types.map(events_pattern) }
    }

    pub(crate) fn query(&self) -> db::AnyQuery<'_> {
        let mut query = sqlx::query(&self.sql);
        for pattern in &self.patterns {
            query = query.bind(pattern.as_str());
        }
        query
    }

    /// A condition true when an enabled endpoint wants any of the types, for a statement of
    /// its own: the patterns ([`SubscribedEach::patterns`]) bound after `offset` others.
    pub(crate) fn any_condition(&self, offset: usize) -> String {
        let likes: Vec<String> = (1..=N).map(|i| format!("events LIKE ${} ESCAPE '\\'", offset + i)).collect();
        format!(
            "EXISTS (SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL AND (events = '*' OR {}))",
            likes.join(" OR ")
        )
    }

    /// The LIKE patterns of the types, in the order of their placeholders.
    pub(crate) fn patterns(&self) -> &[String; N] {
        &self.patterns
    }

    /// The flags, from the query's one row.
    pub(crate) fn read(&self, rows: &[sqlx::any::AnyRow]) -> Result<[bool; N], AppError> {
        let row = rows.first().ok_or_else(|| AppError::internal("no row from an aggregate query"))?;
        let mut wanted = [false; N];
        for (i, flag) in wanted.iter_mut().enumerate() {
            *flag = row.try_get::<i64, _>(i)? == 1;
        }
        Ok(wanted)
    }
}

/// Writes an event and its deliveries in `tx` (see [`super::emit`]).
pub(crate) async fn record<T: Serialize>(
    tx: &mut WriteTx,
    event_type: EventType,
    once_key: Option<&str>,
    object: &T,
) -> Result<Option<String>, AppError> {
    let endpoints = subscribers(tx, event_type).await?;
    if endpoints.is_empty() {
        return Ok(None);
    }
    let event = super::Event { id: ids::random_id("evt_"), event_type, created_at: clock::now(), object };
    let payload = serde_json::to_string(&event).map_err(|e| AppError::internal(format!("event payload: {e}")))?;
    let inserted = sqlx::query(
        "INSERT INTO webhook_events (id, type, created_at, once_key, payload) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&event.id)
    .bind(event_type.as_str())
    .bind(event.created_at)
    .bind(once_key)
    .bind(&payload)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Ok(None);
    }
    let due = now_ms();
    for endpoint_id in endpoints {
        insert_delivery(tx, &event.id, &endpoint_id, event.created_at, due).await?;
    }
    Ok(Some(event.id))
}

/// Queues one delivery of an event to an endpoint, due at `due_ms`; returns its id, or
/// `None` when the endpoint was removed meanwhile (a seller's removal committed after the
/// subscribers were read): the event simply has no delivery there, and the transaction that
/// emits it (an order's payment) goes on.
pub(crate) async fn insert_delivery(
    conn: &mut crate::db::WriteTx,
    event_id: &str,
    endpoint_id: &str,
    created_at: i64,
    due_ms: i64,
) -> Result<Option<String>, AppError> {
    let id = ids::random_id("whd_");
    let inserted = sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, created_at, status, attempts, next_attempt_ms) \
         SELECT $1, $2, $3, $4, 'pending', 0, $5 WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $3)",
    )
    .bind(&id)
    .bind(event_id)
    .bind(endpoint_id)
    .bind(created_at)
    .bind(due_ms)
    .execute(conn)
    .await?;
    Ok((inserted.rows_affected() == 1).then_some(id))
}

/// When failed deliveries are tried again: after `base`, then twice as long each time up to
/// `cap`, each wait jittered (half of it fixed, half random, so endpoints that failed
/// together are not all retried in the same instant), until `give_up_after` from the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// The wait after the first failed attempt; 30 s by default.
    pub base: Duration,
    /// The longest wait between two attempts; 4 h by default.
    pub cap: Duration,
    /// How long after its event a delivery is still tried; 24 h by default.
    pub give_up_after: Duration,
}

impl Default for Retry {
    /// 30 s, 1 min, 2 min, … 4 h, 4 h, … for 24 h, each wait jittered between half and all of
    /// that: 15 attempts with the longest waits, 21 with the shortest.
    fn default() -> Retry {
        Retry {
            base: Duration::from_secs(30),
            cap: Duration::from_secs(4 * 3600),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl Retry {
    /// The wait before the attempt after `failed` failed attempts (1 or more), without
    /// jitter.
    pub fn nominal(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(30);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }

    /// [`Retry::nominal`] with jitter: somewhere in its upper half.
    pub fn jittered(&self, failed: u32, rng: &mut impl Rng) -> Duration {
        let nominal = self.nominal(failed);
        let half = nominal / 2;
        half + rng.gen_range(Duration::ZERO..=nominal - half)
    }

    /// When to try again after `failed` attempts failed at `now_ms`, for an event of
    /// `created_at` (Unix seconds): never past the give-up mark, and `None` once that mark
    /// has passed.
    pub fn next_attempt_ms(&self, failed: u32, now_ms: i64, created_at: i64, rng: &mut impl Rng) -> Option<i64> {
        let deadline = created_at.saturating_mul(1000).saturating_add(millis(self.give_up_after));
        if now_ms >= deadline {
            return None;
        }
        Some(now_ms.saturating_add(millis(self.jittered(failed, rng))).min(deadline))
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// One delivery, claimed, with what sending it needs.
#[derive(sqlx::FromRow)]
struct Job {
    id: String,
    attempts: i64,
    created_at: i64,
    event_id: String,
    event_type: String,
    payload: String,
    endpoint_id: String,
    url: String,
    secret: String,
    previous_secret: Option<String>,
    previous_expires_at: Option<i64>,
    disabled_at: Option<i64>,
}

/// What one attempt came to.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    duration_ms: i64,
}

/// Sends due deliveries until told to stop.
#[derive(Clone)]
pub struct Worker {
    pub(crate) db: Db,
    pub(crate) http: reqwest::Client,
    pub(crate) retry: Retry,
    /// Test hook: a delivery is first tried only once its event is this many seconds old,
    /// which leaves a window to kill the process between the commit and the send.
    pub(crate) send_delay_secs: i64,
}

impl Worker {
    /// A worker with its HTTP client: no redirects (a 3xx is a failed attempt, never a
    /// request to another address), [`REQUEST_TIMEOUT`] per request.
    pub fn new(db: Db, retry: Retry, send_delay_secs: i64) -> Result<Worker, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("tweetbuy-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(Worker { db, http, retry, send_delay_secs })
    }

    /// Polls until `stop` flips, goes round once more (the deliveries due then), then
    /// returns ([`crate::rounds`]); a batch under way is finished first. While batches come
    /// back full and delivered, the next goes at once.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let mut rounds = crate::rounds::Rounds::new(stop);
        if db::engine_of(&self.db) == db::Engine::Sqlite {
            // Only this process uses the SQLite file: claims left by a killed predecessor are
            // void, and their deliveries are due now rather than when the claims run out.
            if let Err(error) = self.release_claims().await {
                tracing::warn!(%error, "webhook outbox: releasing old claims");
            }
        }
        loop {
            loop {
                match self.deliver_batch().await {
                    Ok(more) if more.is_full() && !rounds.stopping() => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "webhook outbox");
                        break;
                    }
                }
            }
            if !rounds.next(POLL).await {
                return;
            }
        }
    }

    async fn release_claims(&self) -> Result<(), AppError> {
        retry_busy(|| async {
            let mut tx = begin_write(&self.db).await?;
            sqlx::query("UPDATE webhook_deliveries SET locked_until_ms = NULL WHERE status = 'pending'")
                .execute(&mut tx)
                .await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })
        .await
    }

    /// Sends every due delivery, a batch at once after another while batches come back full,
    /// so a sale's events keep pace with it; returns how many succeeded. A batch with a
    /// failed delivery ends the call, so an endpoint that is down is not sent the whole
    /// outbox at once.
    pub async fn deliver_due(&self) -> Result<usize, AppError> {
        let mut delivered = 0;
        loop {
            let batch = self.deliver_batch().await?;
            delivered += batch.delivered;
            if !batch.is_full() {
                return Ok(delivered);
            }
        }
    }

    /// Sends one batch of due deliveries at once.
    async fn deliver_batch(&self) -> Result<Batch, AppError> {
        let now = now_ms();
        let due: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_ms <= $1 \
             AND (locked_until_ms IS NULL OR locked_until_ms < $1) AND created_at <= $2 \
             ORDER BY next_attempt_ms LIMIT $3",
        )
        .bind(now)
        .bind(clock::now() - self.send_delay_secs)
        .bind(BATCH)
        .fetch_all(&self.db)
        .await?;
        let mut sending = tokio::task::JoinSet::new();
        let mut claimed = 0;
        for (id,) in due {
            let Some(job) = self.claim(&id, now).await? else { continue };
            claimed += 1;
            let worker = self.clone();
            sending.spawn(async move {
                let outcome = worker.send(&job).await;
                worker.settle(&job, outcome).await
            });
        }
        let mut delivered = 0;
        while let Some(done) = sending.join_next().await {
            match done {
                Ok(Ok(true)) => delivered += 1,
                Ok(Ok(false)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "webhook outbox: recording an attempt"),
                Err(error) => tracing::error!(%error, "webhook delivery task failed"),
            }
        }
        Ok(Batch { claimed, delivered })
    }

    /// Takes a delivery for this worker, unless another took it first.
    async fn claim(&self, id: &str, now: i64) -> Result<Option<Job>, AppError> {
        let claimed = retry_busy(|| async {
            let mut tx = begin_write(&self.db).await?;
            let claimed = sqlx::query(
                "UPDATE webhook_deliveries SET locked_until_ms = $1, attempts = attempts + 1 WHERE id = $2 \
                 AND status = 'pending' AND next_attempt_ms <= $3 AND (locked_until_ms IS NULL OR locked_until_ms < $3)",
            )
            .bind(now + CLAIM_MS)
            .bind(id)
            .bind(now)
            .execute(&mut tx)
            .await?;
            tx.commit().await?;
            Ok::<_, AppError>(claimed.rows_affected() == 1)
        })
        .await?;
        if !claimed {
            return Ok(None);
        }
        let job = sqlx::query_as(
            "SELECT d.id, d.attempts, d.created_at, e.id AS event_id, e.type AS event_type, e.payload, \
             w.id AS endpoint_id, w.url, w.secret, w.previous_secret, w.previous_expires_at, w.disabled_at \
             FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
             JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = $1",
        )
        .bind(id)
        .fetch_one(&self.db)
        .await?;
        Ok(Some(job))
    }

    /// One attempt: the signed POST and what came back.
    async fn send(&self, job: &Job) -> Outcome {
        let started = std::time::Instant::now();
        if job.disabled_at.is_some() {
            return Outcome { status: None, error: Some("the endpoint is disabled".into()), duration_ms: 0 };
        }
        let now = clock::now();
        let mut secrets = vec![job.secret.as_str()];
        if let (Some(previous), Some(until)) = (&job.previous_secret, job.previous_expires_at) {
            if until > now {
                secrets.push(previous);
            }
        }
        let signature = signing::header_value(&secrets, now, job.payload.as_bytes());
        let sent = self
            .http
            .post(&job.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signing::HEADER, signature)
            .header("Tweetbuy-Event-Id", &job.event_id)
            .header("Tweetbuy-Event-Type", &job.event_type)
            .header("Tweetbuy-Delivery-Id", &job.id)
            .body(job.payload.clone())
            .send()
            .await;
        let (status, error) = match sent {
            Ok(mut response) => {
                let status = response.status();
                let error = if status.is_success() {
                    None
                } else {
                    let mut snippet = Vec::new();
                    while snippet.len() < MAX_LOGGED_BODY {
                        match response.chunk().await {
                            Ok(Some(chunk)) => snippet.extend_from_slice(&chunk),
                            _ => break,
                        }
                    }
                    snippet.truncate(MAX_LOGGED_BODY);
                    let text = String::from_utf8_lossy(&snippet).trim().to_owned();
                    Some(if text.is_empty() {
                        format!("HTTP {}", status.as_u16())
                    } else {
                        format!("HTTP {}: {text}", status.as_u16())
                    })
                };
                (Some(status.as_u16()), error)
            }
            Err(error) => (None, Some(describe(error))),
        };
        Outcome { status, error, duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX) }
    }

    /// Records an attempt and what follows from it; returns whether it was delivered.
    async fn settle(&self, job: &Job, outcome: Outcome) -> Result<bool, AppError> {
        let now = now_ms();
        let delivered = outcome.status.is_some_and(|s| (200..300).contains(&s));
        let gone = outcome.status == Some(410);
        let failed = u32::try_from(job.attempts).unwrap_or(u32::MAX);
        let next = if delivered || gone || job.disabled_at.is_some() {
            None
        } else {
            self.retry.next_attempt_ms(failed, now, job.created_at, &mut rand::thread_rng())
        };
        retry_busy(|| async {
            let mut tx = begin_write(&self.db).await?;
            sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(&job.id)
            .bind(job.attempts)
            .bind(now / 1000)
            .bind(outcome.status.map(i64::from))
            .bind(&outcome.error)
            .bind(outcome.duration_ms)
            .execute(&mut tx)
            .await?;
            let (status, next_ms) = match (delivered, next) {
                (true, _) => ("delivered", now),
                (false, Some(next)) => ("pending", next),
                (false, None) if job.disabled_at.is_some() => ("cancelled", now),
                (false, None) => ("failed", now),
            };
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $1, next_attempt_ms = $2, locked_until_ms = NULL, \
                 delivered_at = $3, last_status = $4, last_error = $5 WHERE id = $6",
            )
            .bind(status)
            .bind(next_ms)
            .bind(delivered.then_some(now / 1000))
            .bind(outcome.status.map(i64::from))
            .bind(&outcome.error)
            .bind(&job.id)
            .execute(&mut tx)
            .await?;
            if gone {
                sqlx::query(
                    "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = 'gone' \
                     WHERE id = $2 AND disabled_at IS NULL",
                )
                .bind(now / 1000)
                .bind(&job.endpoint_id)
                .execute(&mut tx)
                .await?;
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'cancelled', \
                     last_error = 'the endpoint answered 410 Gone and was disabled' \
                     WHERE endpoint_id = $1 AND status = 'pending'",
                )
                .bind(&job.endpoint_id)
                .execute(&mut tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, AppError>(())
        })
        .await?;
        let (delivery_id, event_id, endpoint_id) = (&job.id, &job.event_id, &job.endpoint_id);
        match (delivered, gone, next) {
            (true, _, _) => tracing::info!(%delivery_id, %event_id, %endpoint_id, "webhook delivered"),
            (_, true, _) => tracing::warn!(%delivery_id, %endpoint_id, "webhook endpoint answered 410 Gone; disabled"),
            (_, _, Some(_)) => {
                tracing::info!(%delivery_id, %endpoint_id, attempts = job.attempts, "webhook not delivered; will retry")
            }
            _ => tracing::warn!(%delivery_id, %endpoint_id, attempts = job.attempts, "webhook not delivered; gave up"),
        }
        Ok(delivered)
    }
}

/// A transport error in a few words, without the URL (it is in the endpoint's row already).
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        error.without_url().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn the_default_schedule_doubles_to_four_hours_and_lasts_a_day() {
        let retry = Retry::default();
        let secs: Vec<u64> = (1..=11).map(|n| retry.nominal(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 14400, 14400]);
        assert_eq!(retry.nominal(1000), Duration::from_secs(4 * 3600), "no overflow");

        // Followed from the event on, always failing: tries stop at the 24-hour mark, and the
        // last one is at that mark.
        let mut rng = StdRng::seed_from_u64(7);
        let created = 1_700_000_000;
        let mut now = created * 1000;
        let mut attempts = 1;
        while let Some(next) = retry.next_attempt_ms(attempts, now, created, &mut rng) {
            assert!(next > now);
            now = next;
            attempts += 1;
        }
        assert_eq!(now, (created + 24 * 3600) * 1000, "the last attempt is at the 24-hour mark");
        assert!((12..=20).contains(&attempts), "{attempts} attempts");
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let retry = Retry { base: Duration::from_millis(1000), ..Retry::default() };
        let mut rng = StdRng::seed_from_u64(1);
        let waits: Vec<Duration> = (0..200).map(|_| retry.jittered(3, &mut rng)).collect();
        assert!(waits.iter().all(|w| *w >= Duration::from_millis(2000) && *w <= Duration::from_millis(4000)));
        assert!(waits.iter().any(|w| *w != waits[0]), "not all the same");
    }

    #[test]
    fn the_events_column_lists_types_between_commas() {
        assert_eq!(events_column(&[]), "*");
        assert_eq!(events_column(&EventType::ALL), "*");
        assert_eq!(events_column(&[EventType::ProductSoldOut, EventType::OrderPaid]), ",order.paid,product.sold_out,");
        assert_eq!(events_pattern(EventType::ProductSoldOut), "%,product.sold\\_out,%");
    }
}
