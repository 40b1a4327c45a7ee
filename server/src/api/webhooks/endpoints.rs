//! The seller's webhook endpoints: adding, changing, rotating secrets, removing, the delivery
//! log and manual re-sends. The admin api (`/admin/v1/webhooks…`, routed in `admin.rs`) and
//! the `webhooks` command-line tool call the same functions here, so both give the same
//! answers and the same errors.
//!
//! An endpoint's URL must be `https://`: the events carry order details and the signature
//! proves who sent them, not that nobody read them. Plain `http://` is accepted on a loopback
//! address only (`127.0.0.0/8`, `[::1]`, `localhost`), for development and tests.

use super::delivery::{events_column, insert_delivery, now_ms};
use super::{signing, EventType};
use crate::api::admin::AdminAuth;
use crate::api::ApiState;
use crate::clock;
use crate::db::{begin_write, retry_busy, Db};
use crate::error::AppError;
use crate::extract::Path;
use crate::ids;
use crate::json::{JsonBody, OptionalJsonBody};
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tweetbuy_core::text::is_single_line;
use tweetbuy_core::FieldError;

/// The longest URL accepted.
const MAX_URL_LEN: usize = 2048;
/// The longest description accepted, in characters.
const MAX_DESCRIPTION: usize = 200;
/// How long the old secret still signs after a rotation, unless told otherwise.
pub const DEFAULT_KEEP_PREVIOUS_SECS: i64 = 24 * 3600;
/// The longest the old secret may keep signing after a rotation.
pub const MAX_KEEP_PREVIOUS_SECS: i64 = 7 * 24 * 3600;
/// Deliveries shown in a log, newest first, unless fewer are asked for.
pub const DEFAULT_LOG_LIMIT: i64 = 50;

/// The most deliveries one read of the log gives.
pub const MAX_LOG_LIMIT: i64 = 500;

/// An endpoint as the seller sees it (never its secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Endpoint {
    /// `whe_…`.
    pub id: String,
    /// Where events are posted: `https://…` (`http://` only on a loopback address or localhost).
    pub url: String,
    /// The seller's note about it, one line; may be empty.
    pub description: String,
    /// The event types it receives, e.g. `["order.paid"]`; all of them when it was created
    /// without a list.
    pub events: Vec<String>,
    /// Whether events are queued for it; `disabled_reason` says why not.
    pub enabled: bool,
    /// Why it is disabled: `seller` (turned off) or `gone` (it answered 410 Gone).
    pub disabled_reason: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// While a rotation runs: when the previous secret stops signing (Unix seconds).
    pub previous_secret_expires_at: Option<i64>,
}

/// A new endpoint, with its signing secret: shown this once.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    /// The endpoint as stored.
    pub endpoint: Endpoint,
    /// `whsec_…`: the HMAC key of the `Tweetbuy-Signature` header.
    pub secret: String,
}

/// What `POST /admin/v1/webhooks` takes.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://…` (or `http://` on loopback).
    pub url: String,
    /// Event types to receive; absent or empty: all of them.
    #[serde(default)]
    pub events: Vec<String>,
    /// A note for the seller: one line of at most 200 characters; default empty.
    #[serde(default)]
    pub description: String,
}

/// What `PATCH /admin/v1/webhooks/{endpoint_id}` takes; absent fields are left alone.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChange {
    /// A new URL, checked as [`NewEndpoint::url`] is.
    pub url: Option<String>,
    /// Event types to receive; empty: all of them.
    pub events: Option<Vec<String>>,
    /// A new note, checked as [`NewEndpoint::description`] is.
    pub description: Option<String>,
    /// `false` disables the endpoint (what was queued for it is cancelled); `true` enables it
    /// again, for events from then on.
    pub enabled: Option<bool>,
    /// `true` ends a rotation now: only the new secret signs from here on.
    #[serde(default)]
    pub drop_previous_secret: bool,
}

/// What `POST /admin/v1/webhooks/{endpoint_id}/rotate` takes.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// How long the old secret keeps signing beside the new one: 0 to 604800 seconds,
    /// default 86400 (a day). 0 drops it at once.
    pub keep_previous_secs: Option<i64>,
}

/// A rotated secret.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rotated {
    /// The endpoint, its `previous_secret_expires_at` set while the old secret still signs.
    pub endpoint: Endpoint,
    /// The new `whsec_…` secret: shown this once.
    pub secret: String,
}

/// One delivery of one event to the endpoint, with its attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    /// `whd_…`.
    pub id: String,
    /// The event's id (`evt_…`), also in its body: one per event, whichever endpoint receives it.
    pub event_id: String,
    /// The event's type, e.g. `order.paid`.
    pub event_type: String,
    /// Unix seconds.
    pub created_at: i64,
    /// `pending`, `delivered`, `failed` (gave up, or 410) or `cancelled` (endpoint disabled).
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// While pending: when the next attempt is due (Unix milliseconds).
    pub next_attempt_ms: Option<i64>,
    /// When the endpoint answered 2xx, Unix seconds; `null` until then.
    pub delivered_at: Option<i64>,
    /// The HTTP status of the latest attempt; `null` before any, or when it got no answer.
    pub last_status: Option<i64>,
    /// Why the latest attempt failed, as [`Attempt::error`] says; `null` before any attempt and
    /// after a 2xx.
    pub last_error: Option<String>,
    /// Every attempt, first first.
    pub log: Vec<Attempt>,
}

/// One attempt of a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Attempt {
    /// The attempt's number, counted from 1.
    pub attempt: i64,
    /// Unix seconds.
    pub at: i64,
    /// The endpoint's HTTP status; `null` when it did not answer.
    pub status_code: Option<i64>,
    /// Why it failed: `HTTP {status}` with the start of the answer's body, or a transport
    /// error in a few words ("no answer in time"); `null` for a 2xx.
    pub error: Option<String>,
    /// How long the request took, in milliseconds.
    pub duration_ms: i64,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    url: String,
    description: String,
    events: String,
    created_at: i64,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
    previous_secret: Option<String>,
    previous_expires_at: Option<i64>,
}

impl EndpointRow {
    fn view(self, now: i64) -> Endpoint {
        let events = if self.events == "*" {
            EventType::ALL.iter().map(|t| t.as_str().to_owned()).collect()
        } else {
            self.events.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()
        };
        let rotating = self.previous_secret.is_some() && self.previous_expires_at.is_some_and(|t| t > now);
        Endpoint {
            id: self.id,
            url: self.url,
            description: self.description,
            events,
            enabled: self.disabled_at.is_none(),
            disabled_reason: self.disabled_reason,
            created_at: self.created_at,
            previous_secret_expires_at: if rotating { self.previous_expires_at } else { None },
        }
    }
}

const ENDPOINT_COLUMNS: &str =
    "id, url, description, events, created_at, disabled_at, disabled_reason, previous_secret, previous_expires_at";

/// Checks and normalizes an endpoint URL: `https://`, or `http://` on a loopback host; a
/// host; no user name or password (they would show in every listing); no fragment.
pub fn check_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Give the URL of your endpoint.".into());
    }
    if raw.len() > MAX_URL_LEN || !is_single_line(raw) {
        return Err(format!("Give one line of at most {MAX_URL_LEN} characters."));
    }
    let url = reqwest::Url::parse(raw).map_err(|_| "This is not a URL (https://host/path).".to_owned())?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| "The URL needs a host.".to_owned())?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback =
        bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err("Use https:// (plain http:// is for a loopback address or localhost only).".into()),
        _ => return Err("Use an https:// URL.".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave the user name and password out of the URL; the signature proves the sender.".into());
    }
    if url.fragment().is_some() {
        return Err("Leave the #fragment out of the URL.".into());
    }
    Ok(url.to_string())
}

/// Event type names to the `events` column; errors name the bad entries.
fn check_events(names: &[String], field: &str, errors: &mut Vec<FieldError>) -> String {
    let mut types = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match EventType::parse(name.trim()) {
            Some(t) => types.push(t),
            None => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "event_invalid",
                format!(
                    "{name:?} is not an event type; use {}.",
                    EventType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
    events_column(&types)
}

fn check_description(text: &str, errors: &mut Vec<FieldError>) {
    if !is_single_line(text) || text.chars().count() > MAX_DESCRIPTION {
        errors.push(FieldError::new(
            "description",
            "description_invalid",
            format!("Give one line of at most {MAX_DESCRIPTION} characters."),
        ));
    }
}

fn url_error(message: String) -> FieldError {
    FieldError::new("url", "url_invalid", message)
}

fn no_such_endpoint() -> AppError {
    AppError::not_found("There is no such webhook endpoint.")
}

/// Adds an endpoint with a fresh secret.
pub async fn create(db: &Db, new: &NewEndpoint) -> Result<CreatedEndpoint, AppError> {
    let mut errors = Vec::new();
    let url = check_url(&new.url).map_err(|m| errors.push(url_error(m))).ok();
    let events = check_events(&new.events, "events", &mut errors);
    check_description(&new.description, &mut errors);
    let Some(url) = url.filter(|_| errors.is_empty()) else { return Err(AppError::validation(errors)) };
    let id = ids::random_id("whe_");
    let secret = signing::new_secret();
    let now = clock::now();
    retry_busy(|| async {
        let mut tx = begin_write(db).await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, description, events, secret, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&url)
        .bind(new.description.trim())
        .bind(&events)
        .bind(&secret)
        .bind(now)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    })
    .await?;
    tracing::info!(endpoint_id = %id, "webhook endpoint added");
    Ok(CreatedEndpoint { endpoint: get(db, &id).await?, secret })
}

/// Every endpoint, oldest first.
pub async fn list(db: &Db) -> Result<Vec<Endpoint>, AppError> {
    let rows: Vec<EndpointRow> =
        sqlx::query_as(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"))
            .fetch_all(db)
            .await?;
    let now = clock::now();
    Ok(rows.into_iter().map(|r| r.view(now)).collect())
}

/// One endpoint; 404 when there is none with this id.
pub async fn get(db: &Db, id: &str) -> Result<Endpoint, AppError> {
    let row: Option<EndpointRow> =
        sqlx::query_as(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?;
    row.map(|r| r.view(clock::now())).ok_or_else(no_such_endpoint)
}

/// Changes an endpoint; disabling it cancels what was queued for it.
pub async fn update(db: &Db, id: &str, change: &EndpointChange) -> Result<Endpoint, AppError> {
    let mut errors = Vec::new();
    let url = change.url.as_deref().map(check_url).transpose().map_err(|m| errors.push(url_error(m))).ok().flatten();
    let events = change.events.as_deref().map(|e| check_events(e, "events", &mut errors));
    if let Some(description) = &change.description {
        check_description(description, &mut errors);
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let now = clock::now();
    retry_busy(|| async {
        let mut tx = begin_write(db).await?;
        let exists: Option<(String,)> =
            sqlx::query_as("SELECT id FROM webhook_endpoints WHERE id = $1").bind(id).fetch_optional(&mut tx).await?;
        if exists.is_none() {
            return Err(no_such_endpoint());
        }
        if let Some(url) = &url {
            sqlx::query("UPDATE webhook_endpoints SET url = $1 WHERE id = $2")
                .bind(url)
                .bind(id)
                .execute(&mut tx)
                .await?;
        }
        if let Some(events) = &events {
            sqlx::query("UPDATE webhook_endpoints SET events = $1 WHERE id = $2")
                .bind(events)
                .bind(id)
                .execute(&mut tx)
                .await?;
        }
        if let Some(description) = &change.description {
            sqlx::query("UPDATE webhook_endpoints SET description = $1 WHERE id = $2")
                .bind(description.trim())
                .bind(id)
                .execute(&mut tx)
                .await?;
        }
        match change.enabled {
            Some(true) => {
                sqlx::query("UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
            }
            Some(false) => {
                sqlx::query(
                    "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = 'seller' \
                     WHERE id = $2 AND disabled_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .execute(&mut tx)
                .await?;
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'cancelled', last_error = 'the endpoint was disabled' \
                     WHERE endpoint_id = $1 AND status = 'pending'",
                )
                .bind(id)
                .execute(&mut tx)
                .await?;
            }
            None => {}
        }
        if change.drop_previous_secret {
            sqlx::query(
                "UPDATE webhook_endpoints SET previous_secret = NULL, previous_expires_at = NULL WHERE id = $1",
            )
            .bind(id)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    })
    .await?;
    get(db, id).await
}

/// A new secret for an endpoint; the old one keeps signing beside it for
/// `keep_previous_secs` (default a day), so receivers can switch without missing events.
pub async fn rotate(db: &Db, id: &str, keep_previous_secs: Option<i64>) -> Result<Rotated, AppError> {
    let keep = keep_previous_secs.unwrap_or(DEFAULT_KEEP_PREVIOUS_SECS);
    if !(0..=MAX_KEEP_PREVIOUS_SECS).contains(&keep) {
        return Err(AppError::validation(vec![FieldError::new(
            "keep_previous_secs",
            "out_of_range",
            format!("Give 0 to {MAX_KEEP_PREVIOUS_SECS} seconds."),
        )]));
    }
    let secret = signing::new_secret();
    let now = clock::now();
    retry_busy(|| async {
        let mut tx = begin_write(db).await?;
        let (previous, until) = if keep == 0 { (None, None) } else { (Some("secret"), Some(now + keep)) };
        // The current secret becomes the previous one (or is dropped) in the same statement.
        let sql = format!(
            "UPDATE webhook_endpoints SET previous_secret = {}, previous_expires_at = $1, secret = $2 WHERE id = $3",
            previous.unwrap_or("NULL")
        );
        let changed = sqlx::query(&sql).bind(until).bind(&secret).bind(id).execute(&mut tx).await?;
        if changed.rows_affected() != 1 {
            return Err(no_such_endpoint());
        }
        tx.commit().await?;
        Ok(())
    })
    .await?;
    tracing::info!(endpoint_id = %id, keep_previous_secs = keep, "webhook secret rotated");
    Ok(Rotated { endpoint: get(db, id).await?, secret })
}

/// Removes an endpoint with its delivery log.
pub async fn remove(db: &Db, id: &str) -> Result<(), AppError> {
    retry_busy(|| async {
        let mut tx = begin_write(db).await?;
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)",
        )
        .bind(id)
        .execute(&mut tx)
        .await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1").bind(id).execute(&mut tx).await?;
        let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id).execute(&mut tx).await?;
        if deleted.rows_affected() != 1 {
            return Err(no_such_endpoint());
        }
        tx.commit().await?;
        Ok(())
    })
    .await?;
    tracing::info!(endpoint_id = %id, "webhook endpoint removed");
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    event_id: String,
    event_type: String,
    created_at: i64,
    status: String,
    attempts: i64,
    next_attempt_ms: i64,
    delivered_at: Option<i64>,
    last_status: Option<i64>,
    last_error: Option<String>,
}

const DELIVERY_SELECT: &str = "SELECT d.id, d.event_id, e.type AS event_type, d.created_at, d.status, d.attempts, \
     d.next_attempt_ms, d.delivered_at, d.last_status, d.last_error \
     FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id";

/// The endpoint's delivery log: its latest `limit` deliveries (1 to 500), newest first,
/// each with its attempts.
pub async fn deliveries(db: &Db, endpoint_id: &str, limit: Option<i64>) -> Result<Vec<Delivery>, AppError> {
    get(db, endpoint_id).await?;
    let limit = limit.unwrap_or(DEFAULT_LOG_LIMIT).clamp(1, MAX_LOG_LIMIT);
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "{DELIVERY_SELECT} WHERE d.endpoint_id = $1 ORDER BY d.created_at DESC, d.next_attempt_ms DESC, d.id LIMIT $2"
    ))
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    with_attempts(db, rows).await
}

async fn with_attempts(db: &Db, rows: Vec<DeliveryRow>) -> Result<Vec<Delivery>, AppError> {
    let mut logs: HashMap<String, Vec<Attempt>> = HashMap::new();
    if !rows.is_empty() {
        let sql = format!(
            "SELECT delivery_id, attempt, at, status_code, error, duration_ms FROM webhook_attempts \
             WHERE delivery_id IN ({}) ORDER BY attempt",
            crate::db::placeholders(0, rows.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64, i64, Option<i64>, Option<String>, i64)>(&sql);
        for row in &rows {
            query = query.bind(&row.id);
        }
        for (delivery_id, attempt, at, status_code, error, duration_ms) in query.fetch_all(db).await? {
            logs.entry(delivery_id).or_default().push(Attempt { attempt, at, status_code, error, duration_ms });
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| Delivery {
            log: logs.remove(&row.id).unwrap_or_default(),
            next_attempt_ms: (row.status == "pending").then_some(row.next_attempt_ms),
            id: row.id,
            event_id: row.event_id,
            event_type: row.event_type,
            created_at: row.created_at,
            status: row.status,
            attempts: row.attempts,
            delivered_at: row.delivered_at,
            last_status: row.last_status,
            last_error: row.last_error,
        })
        .collect())
}

/// Sends a delivery's event to its endpoint again, as a new delivery due now (with its own
/// 24 hours of retries). The event keeps its id, so receivers that already have it drop it.
pub async fn resend(db: &Db, endpoint_id: &str, delivery_id: &str) -> Result<Delivery, AppError> {
    let endpoint = get(db, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(AppError::validation(vec![FieldError::new(
            "endpoint_id",
            "endpoint_disabled",
            "This endpoint is disabled; enable it before sending to it.",
        )]));
    }
    let now = clock::now();
    let id = retry_busy(|| async {
        let mut tx = begin_write(db).await?;
        let event: Option<(String,)> =
            sqlx::query_as("SELECT event_id FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2")
                .bind(delivery_id)
                .bind(endpoint_id)
                .fetch_optional(&mut tx)
                .await?;
        let Some((event_id,)) = event else {
            return Err(AppError::not_found("This endpoint has no such delivery."));
        };
        let id = insert_delivery(&mut tx, &event_id, endpoint_id, now, now_ms()).await?.ok_or_else(no_such_endpoint)?;
        tx.commit().await?;
        Ok(id)
    })
    .await?;
    let rows: Vec<DeliveryRow> =
        sqlx::query_as(&format!("{DELIVERY_SELECT} WHERE d.id = $1")).bind(&id).fetch_all(db).await?;
    tracing::info!(endpoint_id, delivery_id = %id, "webhook re-send queued");
    with_attempts(db, rows).await?.pop().ok_or_else(|| AppError::internal("the re-send vanished"))
}

fn no_store(status: StatusCode, body: impl Serialize) -> Response {
    (status, [(CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Adds a webhook endpoint. The answer holds its signing secret, which is shown this once.
#[utoipa::path(
    post,
    path = "/admin/v1/webhooks",
    tag = "admin",
    security(("admin_key" = [])),
    request_body(content = NewEndpoint, content_type = "application/json"),
    responses(
        (status = 201, description = "Added (`Cache-Control: no-store`).", body = CreatedEndpoint),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed`: `url` (not https, or not a URL), `events[i]` (unknown type) or `description`; `bad_request` for an unknown field.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
pub(crate) async fn create_endpoint(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    JsonBody(new): JsonBody<NewEndpoint>,
) -> Result<Response, AppError> {
    Ok(no_store(StatusCode::CREATED, create(&state.db, &new).await?))
}

/// Every webhook endpoint (without secrets).
#[utoipa::path(
    get,
    path = "/admin/v1/webhooks",
    tag = "admin",
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "The endpoints, oldest first.", body = Vec<Endpoint>),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
pub(crate) async fn list_endpoints(State(state): State<ApiState>, _auth: AdminAuth) -> Result<Response, AppError> {
    Ok(no_store(StatusCode::OK, list(&state.db).await?))
}

/// One webhook endpoint (without secrets).
#[utoipa::path(
    get,
    path = "/admin/v1/webhooks/{endpoint_id}",
    tag = "admin",
    security(("admin_key" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id.", example = "whe_aaaaaaaaaaaaaaaaaaaaaaaa")),
    responses(
        (status = 200, description = "The endpoint.", body = Endpoint),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such endpoint.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
pub(crate) async fn get_endpoint(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(endpoint_id): Path<String>,
) -> Result<Response, AppError> {
    Ok(no_store(StatusCode::OK, get(&state.db, &endpoint_id).await?))
}

/// Changes a webhook endpoint: its URL, events or description; disables or enables it; or
/// ends a secret rotation early.
#[utoipa::path(
    patch,
    path = "/admin/v1/webhooks/{endpoint_id}",
    tag = "admin",
    security(("admin_key" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id.", example = "whe_aaaaaaaaaaaaaaaaaaaaaaaa")),
    request_body(content = EndpointChange, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed.", body = Endpoint),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such endpoint.", body = tweetbuy_core::ApiError),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed` (see `fields`); `bad_request` for an unknown field.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
pub(crate) async fn update_endpoint(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(endpoint_id): Path<String>,
    JsonBody(change): JsonBody<EndpointChange>,
) -> Result<Response, AppError> {
    Ok(no_store(StatusCode::OK, update(&state.db, &endpoint_id, &change).await?))
}

/// Removes a webhook endpoint and its delivery log.
#[utoipa::path(
    delete,
    path = "/admin/v1/webhooks/{endpoint_id}",
    tag = "admin",
    security(("admin_key" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id.", example = "whe_aaaaaaaaaaaaaaaaaaaaaaaa")),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such endpoint.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
pub(crate) async fn delete_endpoint(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(endpoint_id): Path<String>,
) -> Result<Response, AppError> {
    remove(&state.db, &endpoint_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Rotates the endpoint's signing secret. The answer holds the new secret, shown this once;
/// the old one keeps signing beside it (two `v1=` in `Tweetbuy-Signature`) until
/// `keep_previous_secs` have passed. The body may be left out (no `Content-Type` either):
/// the old secret then signs for a day.
#[utoipa::path(
    post,
    path = "/admin/v1/webhooks/{endpoint_id}/rotate",
    tag = "admin",
    security(("admin_key" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id.", example = "whe_aaaaaaaaaaaaaaaaaaaaaaaa")),
    request_body(content = Rotate, content_type = "application/json"),
    responses(
        (status = 200, description = "Rotated (`Cache-Control: no-store`).", body = Rotated),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such endpoint.", body = tweetbuy_core::ApiError),
        (status = 415, description = "`unsupported_media_type`: a body that is not `application/json`.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed`: `keep_previous_secs` out of range.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
pub(crate) async fn rotate_secret(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(endpoint_id): Path<String>,
    OptionalJsonBody(request): OptionalJsonBody<Rotate>,
) -> Result<Response, AppError> {
    Ok(no_store(StatusCode::OK, rotate(&state.db, &endpoint_id, request.keep_previous_secs).await?))
}

/// The endpoint's delivery log: its latest deliveries, newest first, with every attempt.
#[utoipa::path(
    get,
    path = "/admin/v1/webhooks/{endpoint_id}/deliveries",
    tag = "admin",
    security(("admin_key" = [])),
    params(("endpoint_id" = String, Path, description = "The endpoint's id.", example = "whe_aaaaaaaaaaaaaaaaaaaaaaaa")),
    responses(
        (status = 200, description = "The latest 50 deliveries.", body = Vec<Delivery>),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such endpoint.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
pub(crate) async fn list_deliveries(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path(endpoint_id): Path<String>,
) -> Result<Response, AppError> {
    Ok(no_store(StatusCode::OK, deliveries(&state.db, &endpoint_id, None).await?))
}

/// Sends a delivery's event again, as a new delivery due now.
#[utoipa::path(
    post,
    path = "/admin/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend",
    tag = "admin",
    security(("admin_key" = [])),
    params(
        ("endpoint_id" = String, Path, description = "The endpoint's id.", example = "whe_aaaaaaaaaaaaaaaaaaaaaaaa"),
        ("delivery_id" = String, Path, description = "A delivery of that endpoint.", example = "whd_aaaaaaaaaaaaaaaaaaaaaaaa"),
    ),
    responses(
        (status = 202, description = "Queued: the new delivery.", body = Delivery),
        (status = 401, description = "`unauthorized`: no valid admin key.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such endpoint, or no such delivery of it.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed`: the endpoint is disabled.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
pub(crate) async fn resend_delivery(
    State(state): State<ApiState>,
    _auth: AdminAuth,
    Path((endpoint_id, delivery_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    Ok(no_store(StatusCode::ACCEPTED, resend(&state.db, &endpoint_id, &delivery_id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_except_on_loopback() {
        for ok in [
            "https://hooks.example.com/tweetbuy",
            "https://hooks.example.com:8443/in?shop=1",
            "http://127.0.0.1:9000/hook",
            "http://127.0.0.2/hook",
            "http://localhost:3000/",
            "http://[::1]:8080/hook",
            "  https://padded.example/  ",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}: {:?}", check_url(ok));
        }
        assert_eq!(check_url("HTTPS://Hooks.Example.com").unwrap(), "https://hooks.example.com/");
        for (bad, says) in [
            ("", "Give the URL"),
            ("hooks.example.com/x", "not a URL"),
            ("http://hooks.example.com/x", "https://"),
            ("http://10.0.0.1/x", "https://"),
            ("http://localhost.example.com/x", "https://"),
            ("ftp://hooks.example.com/x", "https://"),
            ("https://user:pw@hooks.example.com/x", "password"),
            ("https://hooks.example.com/x#part", "fragment"),
            ("https://hooks.example.com/\nx", "one line"),
        ] {
            let error = check_url(bad).unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
        assert!(check_url(&format!("https://h.example/{}", "a".repeat(MAX_URL_LEN))).is_err());
    }

    #[test]
    fn unknown_event_types_are_named() {
        let mut errors = Vec::new();
        let column = check_events(&["order.paid".into(), "order.shipped".into()], "events", &mut errors);
        assert_eq!(column, ",order.paid,");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "events[1]");
        assert!(errors[0].message.contains("order.shipped"));
    }
}
