//! The vault origin: the card frame, tokenization (from the frame, same origin) and charges
//! (from the api, server to server, with a bearer key, on a separate internal listener). The
//! only place a card number lives.

pub mod bearer;
pub mod card_store;
pub mod card_testing;
pub mod charges;
pub mod envelope;
pub mod frame;
pub mod keys;
pub mod processor;
pub mod profile_store;
pub mod profiles;
pub mod refunds;
pub mod rotation;
pub mod sweeper;
pub mod tokens;

use crate::db::Db;
use crate::error::{method_not_allowed, not_found};
use crate::rate_limit::{self, RateLimit, RateLimiter};
use crate::security_headers::{with_body_limit, with_security_headers};
use axum::middleware;
use axum::routing::get;
use axum::Router;
use keys::Keyring;
use std::path::PathBuf;
use std::sync::Arc;

/// What the vault needs to know besides its database and keys.
#[derive(Clone, Debug)]
pub struct VaultSettings {
    /// This origin, e.g. `http://127.0.0.1:8082`: the only `Origin` allowed to tokenize.
    pub vault_origin: String,
    /// The api's public origin: the frame creates and pays payment intents there.
    pub api_origin: String,
    /// Publisher origins that may frame the card form.
    pub allowed_origins: Vec<String>,
    /// Holds `frame/frame.html`, `frame/frame.js`, `frame/keys.js`, `frame/rules.mjs`,
    /// `frame/frame.css`.
    pub assets_dir: PathBuf,
    /// The bearer secret the api must present to charge.
    pub api_key: String,
}

/// The vault's shared state: what every vault handler gets.
#[derive(Clone)]
pub struct VaultState {
    /// The vault database: cards, charges, refunds, saved profiles.
    pub db: Db,
    /// The master keys that seal and open card numbers and contacts.
    pub keys: Arc<Keyring>,
    /// Origins, assets and the api's bearer key.
    pub settings: Arc<VaultSettings>,
    /// Limits tokenization per client (charges come from our own api and are not limited).
    pub limiter: Arc<RateLimiter>,
}

impl VaultState {
    /// The state with the default rate limit on tokenization.
    pub fn new(db: Db, keys: Keyring, settings: VaultSettings) -> VaultState {
        VaultState {
            db,
            keys: Arc::new(keys),
            settings: Arc::new(settings),
            limiter: RateLimiter::new(RateLimit::default()),
        }
    }

    /// The state with `limit` on tokenization instead of the default.
    pub fn with_rate_limit(mut self, limit: RateLimit) -> VaultState {
        self.limiter = RateLimiter::new(limit);
        self
    }
}

/// The public vault origin: the card frame and what the frame calls (tokens, saved
/// profiles). Browsers reach it; the server-to-server routes are not here (404), so they
/// are reachable only where the internal listener is.
pub fn vault_public_app(state: VaultState) -> Router {
    finish(public_routes(&state), state)
}

/// The vault's internal listener (loopback or a private address): what only the api calls,
/// with its bearer key: charges, a charge's outcome, refunds.
pub fn vault_internal_app(state: VaultState) -> Router {
    finish(internal_routes(), state)
}

/// Both vault routers in one, for driving the vault in-process (tests); `serve` never
/// exposes this: it puts the two on separate listeners.
pub fn vault_app(state: VaultState) -> Router {
    finish(public_routes(&state).merge(internal_routes()), state)
}

fn public_routes(state: &VaultState) -> Router<VaultState> {
    let limited = tokens::router()
        .merge(profiles::frame_router())
        .route_layer(middleware::from_fn_with_state(state.limiter.clone(), rate_limit::limit));
    Router::new().merge(with_body_limit(limited)).merge(frame::router(state))
}

fn internal_routes() -> Router<VaultState> {
    // On the routes' own answers only: the fallback's 404 is not the vault's word on an order.
    let own = tower_http::set_header::SetResponseHeaderLayer::overriding(
        axum::http::HeaderName::from_static(tweetbuy_core::vault::ANSWER_HEADER),
        axum::http::HeaderValue::from_static("1"),
    );
    with_body_limit(Router::new().merge(charges::router()).merge(refunds::router()).route_layer(own))
}

fn finish(router: Router<VaultState>, state: VaultState) -> Router {
    let router = router
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    with_security_headers(router).layer(crate::telemetry::http_trace_layer()).with_state(state)
}
