//! The tweetbuy reference backend: one process, three origins.
//!
//! - the **publisher** origin serves demo publisher pages that embed tweets and the widget;
//! - the **api** origin serves the widget's files, the offer lookup, quotes and orders;
//! - the **vault** origin serves the card frame, turns card numbers into one-time tokens and
//!   charges them for the api, server to server.
//!
//! The vault is the only part that ever sees a card number; the api only ever holds tokens.
//! Each origin has its own router builder ([`api_app`], [`vault_app`], [`publisher_app`]) so
//! tests can drive it with `tower::ServiceExt::oneshot`, and [`run`] wires them to sockets.

#![warn(missing_docs)]

pub mod api;
pub(crate) mod cli_out;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod hashing;
pub mod idempotency;
pub mod ids;
pub mod json;
pub mod keys_cli;
pub mod publisher;
pub mod rate_limit;
pub mod rounds;
pub mod security_headers;
pub mod seller_cli;
pub mod serve;
pub mod telemetry;
pub mod templates;
pub(crate) mod text_asset;
pub mod vault;

pub use api::{api_app, ApiSettings, ApiState};
pub use config::{Cli, Config};
pub use error::AppError;
pub use publisher::{publisher_app, PublisherSettings, PublisherState};
pub use serve::{run, StartupError};
pub use vault::{vault_app, vault_internal_app, vault_public_app, VaultSettings, VaultState};
