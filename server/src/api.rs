//! The api origin: the widget's files, offer lookups, quotes and orders. It never sees a
//! card number: orders carry a vault token, which it charges at the vault.

pub mod admin;
pub mod availability;
pub mod catalog;
pub mod catalog_import;
pub mod discounts;
pub mod images;
mod inline_module;
pub mod intents;
pub mod kept_intents;
pub mod offers;
pub mod openapi;
pub mod order_idempotency;
pub mod order_store;
pub mod orders;
pub mod pending_sweep;
pub mod pricing;
pub mod product_cache;
pub mod quote;
pub mod receipts;
pub mod refunds;
pub mod rollout;
pub mod seed;
pub mod seller_orders;
pub mod stray_charges;
pub mod vault_client;
pub mod waitlist;
pub mod webhooks;
pub mod widget;

use crate::db::Db;
use crate::error::{method_not_allowed, not_found};
use crate::rate_limit::{self, RateLimit, RateLimiter};
use crate::security_headers::{with_body_limit, with_security_headers};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware;
use axum::routing::get;
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use vault_client::VaultClient;

/// What the api needs to know besides its database.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// This origin, for absolute image URLs.
    pub api_origin: String,
    /// The vault's public origin, told to the widget so it can frame the card form.
    pub vault_origin: String,
    /// Publisher origins allowed by CORS.
    pub allowed_origins: Vec<String>,
    /// Trunk's output directory.
    pub widget_dir: PathBuf,
    /// Where the api reaches the vault, server to server.
    pub vault_internal_url: String,
    /// The bearer secret for the vault's charge endpoint.
    pub vault_api_key: String,
}

/// The api's shared state: what every api handler gets.
#[derive(Clone)]
pub struct ApiState {
    /// The api database: catalog, intents, orders and the outboxes.
    pub db: Db,
    /// Origins, the widget's directory, and how to reach the vault.
    pub settings: Arc<ApiSettings>,
    /// The client for the vault's internal listener, which charges and refunds.
    pub vault: VaultClient,
    /// Limits order requests per client.
    pub limiter: Arc<RateLimiter>,
    /// The seller's admin bearer key; the admin api refuses everyone without one.
    pub admin_key: Option<Arc<str>>,
    /// After this many seconds an order still in flight is taken to have died with its
    /// process, and a retry with its key resumes it.
    pub stale_in_flight_secs: i64,
    /// The products intents are priced and paid with, kept in this process (PostgreSQL only).
    pub products: product_cache::ProductCache,
    /// The intents this process wrote, kept for the orders that pay them (PostgreSQL only).
    pub intents: kept_intents::KeptIntents,
    /// The orders running now, whether or not their clients still wait (the stop waits for
    /// them).
    pub running_orders: Arc<orders::RunningOrders>,
}

impl ApiState {
    /// The state with the default rate limit and no admin key.
    pub fn new(db: Db, settings: ApiSettings) -> ApiState {
        let vault = VaultClient::new(&settings.vault_internal_url, &settings.vault_api_key);
        ApiState {
            db,
            settings: Arc::new(settings),
            vault,
            limiter: RateLimiter::new(RateLimit::default()),
            admin_key: None,
            stale_in_flight_secs: order_idempotency::STALE_IN_FLIGHT_SECONDS,
            products: product_cache::ProductCache::default(),
            intents: kept_intents::KeptIntents::default(),
            running_orders: Arc::default(),
        }
    }

    pub(crate) fn with_stale_in_flight_secs(mut self, secs: i64) -> ApiState {
        self.stale_in_flight_secs = secs;
        self
    }

    /// The state with `limit` on orders, intents and waitlist joins instead of the default.
    pub fn with_rate_limit(mut self, limit: RateLimit) -> ApiState {
        self.limiter = RateLimiter::new(limit);
        self
    }

    /// The state with the seller's admin key; `None` turns the admin api off (every request 401).
    pub fn with_admin_key(mut self, key: Option<String>) -> ApiState {
        self.admin_key = key.map(Arc::from);
        self
    }
}

/// The api origin's router on `state`, with CORS for the allowed publisher origins and the
/// vault's origin, the security headers, compression and the request log.
pub fn api_app(state: ApiState) -> Router {
    // The vault's card frame creates intents and pays them from the vault origin.
    let mut cors_origins = state.settings.allowed_origins.clone();
    cors_origins.push(state.settings.vault_origin.clone());
    let cors = cors_layer(&cors_origins);
    let limited_orders = Router::new()
        .merge(orders::router())
        .merge(intents::router())
        .merge(waitlist::router())
        .route_layer(middleware::from_fn_with_state(state.limiter.clone(), rate_limit::limit));
    let json = with_body_limit(Router::new().merge(quote::router()).merge(limited_orders));
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/openapi.json", get(openapi::document))
        .merge(offers::router())
        .merge(availability::router())
        .merge(json)
        .merge(widget::router(&state.settings.widget_dir))
        .merge(images::router())
        .merge(waitlist::unsubscribe_router())
        .merge(admin::router())
        .merge(with_body_limit(Router::new().merge(discounts::admin::router()).merge(refunds::admin::router())))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // JSON answers and the loader are compressed on the way out for browsers that accept
    // it; the widget's files are already compressed at build time and pass through as they are.
    with_security_headers(router)
        .layer(cors)
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(crate::telemetry::http_trace_layer())
        .with_state(state)
}

/// CORS for the allowed publisher origins only: the exact list, no wildcard, no credentials.
/// It also covers the widget's module script and wasm, which browsers fetch in CORS mode.
pub fn cors_layer(allowed_origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([CONTENT_TYPE, HeaderName::from_static("idempotency-key")])
        .max_age(Duration::from_secs(600))
}
