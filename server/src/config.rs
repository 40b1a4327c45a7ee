//! Command line and environment: every setting has a flag and a `TWEETBUY_*` variable.

use crate::vault::keys::{self, KeySource};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// `tweetbuy-server [serve] [OPTIONS]`: `serve` is the default, so the bare command runs it.
#[derive(Debug, Parser)]
#[command(name = "tweetbuy-server", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// The subcommand given, if any; `None` runs `serve` with [`Cli::serve`].
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s options given without a subcommand (see [`Cli::into_config`]).
    #[command(flatten)]
    pub serve: Config,
}

/// What one run of the process does: serve, or run one seller tool to completion.
#[derive(Debug, Subcommand)]
// `Serve` is much larger than the seller tools' variants, and there is one value per run.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Serve the publisher demo site, the api and the vault (the default).
    Serve(Config),
    /// Seller tools for the catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Seller tools for orders.
    #[command(subcommand)]
    Orders(OrdersCommand),
    /// Seller tools for discount codes.
    #[command(subcommand)]
    Discounts(DiscountsCommand),
    /// The vault's master keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Seller tools for webhook endpoints (docs/sellers.md).
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
}

/// `tweetbuy-server webhooks …`: the seller's webhook endpoints, changed in the api database
/// directly, with the checks of the admin api.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint and print its signing secret (shown this once).
    Add {
        /// `https://…` (`http://` only on a loopback address or localhost).
        url: String,
        /// Event types to receive, comma-separated (default, or `all`: every type).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// A note for yourself.
        #[arg(long, default_value = "")]
        description: String,
        /// The api database the endpoint is added to.
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the endpoints.
    List {
        /// The api database holding the endpoints.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Change an endpoint.
    Update {
        /// The endpoint's id (`whe_…`).
        id: String,
        /// A new URL: `https://…` (`http://` only on a loopback address or localhost).
        #[arg(long)]
        url: Option<String>,
        /// Event types to receive, comma-separated (`all` for every type).
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
        /// A new note for yourself.
        #[arg(long)]
        description: Option<String>,
        /// Disable the endpoint (what is queued for it is cancelled).
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable it again, for events from now on.
        #[arg(long)]
        enable: bool,
        /// End a rotation now: only the new secret signs from here on.
        #[arg(long)]
        drop_previous_secret: bool,
        /// The api database holding the endpoint.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Give an endpoint a new secret; the old one keeps signing beside it for a while.
    Rotate {
        /// The endpoint's id (`whe_…`).
        id: String,
        /// How long the old secret still signs (0 drops it now).
        #[arg(long, default_value_t = crate::api::webhooks::endpoints::DEFAULT_KEEP_PREVIOUS_SECS)]
        keep_previous_secs: i64,
        /// The api database holding the endpoint.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Remove an endpoint and its delivery log.
    Remove {
        /// The endpoint's id (`whe_…`).
        id: String,
        /// The api database holding the endpoint.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print an endpoint's delivery log, newest first, every attempt included.
    Deliveries {
        /// The endpoint's id (`whe_…`).
        id: String,
        /// How many deliveries to print at most (1 to 500).
        #[arg(long, default_value_t = crate::api::webhooks::endpoints::DEFAULT_LOG_LIMIT,
              value_parser = clap::value_parser!(i64).range(1..=crate::api::webhooks::endpoints::MAX_LOG_LIMIT))]
        limit: i64,
        /// The api database holding the endpoint.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Send a delivery's event to its endpoint again.
    Resend {
        /// The endpoint's id (`whe_…`).
        id: String,
        /// The delivery (`whd_…`) whose event is sent again.
        delivery_id: String,
        /// The api database holding the endpoint.
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `tweetbuy-server keys …`: the vault's master keys.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new master key file (mode 0600) for `serve --master-key-file`. Outside demo
    /// mode `serve` never makes one itself: a key file that was not mounted must stop the
    /// vault, not start it with a new key that opens none of the stored cards.
    Init {
        /// Where to write it: outside the data directory. An existing file is left alone.
        #[arg(long = "master-key-file", env = "TWEETBUY_MASTER_KEY_FILE")]
        master_key: PathBuf,
    },
    /// Add a new master key (current from now on) and re-wrap every stored data key with it;
    /// old keys stay, so old records keep opening.
    Rotate {
        /// The vault database whose data keys are re-wrapped, and the data directory that holds the
        /// demo key file.
        #[command(flatten)]
        db: DbArgs,
        /// The master key file to add a key to (the same file `serve` reads). Without it the
        /// keys come from `TWEETBUY_MASTER_KEY` (`newid:base64,oldid:base64…`, newest first),
        /// or else from the demo key file in the data directory.
        #[arg(long = "master-key-file", env = "TWEETBUY_MASTER_KEY_FILE")]
        master_key: Option<PathBuf>,
    },
}

/// `tweetbuy-server catalog …`: the seller's catalog in the api database.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Validate a TOML or JSON catalog file and apply it in one transaction (all or nothing).
    Import {
        /// `.toml` or `.json`.
        file: PathBuf,
        /// Check the file against the catalog as it is (every check of an import) and write
        /// nothing.
        #[arg(long)]
        dry_run: bool,
        /// The api database the catalog is written to.
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `tweetbuy-server orders …`: the seller's orders in the api database; a refund or a cancel
/// also goes to the vault, which holds the charge.
#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// Print the seller's view of every order, newest first.
    List {
        /// The api database holding the orders.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write every order as CSV to stdout.
    Export {
        /// CSV (the only format; the flag keeps room for others).
        #[arg(long, required = true)]
        csv: bool,
        /// The api database holding the orders.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Refund part or all of a paid order at the vault; the buyer gets a refund receipt.
    Refund {
        /// The order's number (`TB-…`).
        order_number: String,
        /// How much to give back, in minor units (cents); everything left without it.
        #[arg(long)]
        amount_minor: Option<i64>,
        /// The refund's idempotency key (1 to 255 visible ASCII characters): the same key again
        /// answers the first refund instead of refunding twice (default: a new one, printed, to
        /// retry with).
        #[arg(long, value_parser = refund_key)]
        key: Option<String>,
        /// The api database holding the order.
        #[command(flatten)]
        db: DbArgs,
        /// The vault that refunds the order's charge.
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Cancel a paid order that has not shipped: refund everything left and return its stock.
    Cancel {
        /// The order's number (`TB-…`).
        order_number: String,
        /// The api database holding the order.
        #[command(flatten)]
        db: DbArgs,
        /// The vault that refunds the order's charge.
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Mark a paid order shipped: it can then be refunded, no longer cancelled.
    Ship {
        /// The order's number (`TB-…`).
        order_number: String,
        /// The api database holding the order.
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Where a seller tool reaches the vault's internal listener, with the api's bearer key:
/// the same settings `serve` takes for the api.
#[derive(Clone, Debug, Args)]
pub struct VaultArgs {
    /// The vault's internal listener (its `--vault-internal-addr`).
    #[arg(long, env = "TWEETBUY_VAULT_INTERNAL_URL", default_value = "http://127.0.0.1:8083")]
    pub vault_internal_url: String,
    /// A file holding the api's bearer key for the vault (or the key itself in
    /// `TWEETBUY_VAULT_API_KEY`).
    #[arg(long, env = "TWEETBUY_VAULT_API_KEY_FILE")]
    pub vault_api_key_file: Option<PathBuf>,
    /// From `TWEETBUY_VAULT_API_KEY`; environment only.
    #[arg(skip = env_secret(VAULT_API_KEY_ENV))]
    pub vault_api_key: Option<Secret>,
}

impl VaultArgs {
    /// The vault's URL and the api's bearer key; refused without a key (the one `serve` makes
    /// up when none is configured lives only in its process).
    pub fn resolved(&self) -> Result<(String, Secret), String> {
        let key = secret_from(
            self.vault_api_key.as_ref(),
            self.vault_api_key_file.as_deref(),
            VAULT_API_KEY_ENV,
            "vault-api-key-file",
        )?
        .ok_or_else(|| {
            format!(
                "a refund goes through the vault: set {VAULT_API_KEY_ENV} (or --vault-api-key-file) to the key the \
                 server was started with, and TWEETBUY_VAULT_INTERNAL_URL to its vault's internal listener"
            )
        })?;
        let key = long_enough(Some(key), "vault api key (TWEETBUY_VAULT_API_KEY / --vault-api-key-file)")?
            .expect("a key was given");
        Ok((vault_internal_url(&self.vault_internal_url)?, key))
    }
}

/// The vault's internal listener as the api calls it: an `http://` or `https://` URL of a
/// host, without a trailing slash. Anything else is refused before a request is made: a
/// refund asked of a URL that cannot be reached would be recorded as pending, and settled
/// later by the server without the seller knowing why.
pub fn vault_internal_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let refuse = |why: &str| {
        Err(format!(
            "the vault's internal URL {raw:?} (TWEETBUY_VAULT_INTERNAL_URL / --vault-internal-url) {why}: give the \
             vault's internal listener as http://HOST:PORT, e.g. http://127.0.0.1:8083"
        ))
    };
    match reqwest::Url::parse(trimmed) {
        Err(e) => refuse(&format!("is not a URL ({e})")),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => refuse("is not http:// or https://"),
        Ok(url) if url.host_str().is_none_or(str::is_empty) => refuse("names no host"),
        Ok(url) if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() => {
            refuse("has a query, a fragment or a user name")
        }
        Ok(_) => Ok(trimmed.to_owned()),
    }
}

/// `tweetbuy-server discounts …`: the seller's discount codes in the api database.
#[derive(Debug, Subcommand)]
pub enum DiscountsCommand {
    /// Create a code: `--percent N` or `--amount-minor N --currency C`, for `--product ID` or
    /// every product of `--seller NAME`, with optional `--starts-at`/`--ends-at` (Unix
    /// seconds), `--max-uses` and `--max-per-email`.
    Create {
        /// The code and what it takes off, checked as the admin api checks it.
        #[command(flatten)]
        spec: crate::api::discounts::admin::NewDiscount,
        /// The api database the code is added to.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print every code with its uses.
    List {
        /// The api database holding the codes.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Stop a code; paid orders keep their discount.
    Disable {
        /// The code, in any case.
        code: String,
        /// The api database holding the code.
        #[command(flatten)]
        db: DbArgs,
    },
}

impl Cli {
    /// The serve settings, whether given after `serve` or without a subcommand.
    pub fn into_config(self) -> Config {
        match self.command {
            Some(Command::Serve(config)) => config,
            _ => self.serve,
        }
    }

    /// The command to run: `serve` unless another subcommand was given.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

/// Where the data lives: shared by `serve` and the seller tools.
#[derive(Clone, Debug, Args)]
pub struct DbArgs {
    /// Holds `api.db`, `vault.db` (SQLite), `vault-master.key` and the receipt `outbox/`.
    #[arg(long, env = "TWEETBUY_DATA_DIR", default_value = ".data")]
    pub data_dir: PathBuf,
    /// `postgres://…` to keep the api's and the vault's data in PostgreSQL (two schemas);
    /// SQLite files in the data directory without it.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,
    /// PostgreSQL schemas are `{prefix}_api` and `{prefix}_vault`.
    #[arg(long, env = "TWEETBUY_DB_SCHEMA_PREFIX", default_value = "tweetbuy")]
    pub db_schema_prefix: String,
}

impl DbArgs {
    /// Where the api's and the vault's data live.
    pub fn locations(&self) -> Result<(crate::db::Location, crate::db::Location), String> {
        crate::db::locations(self.database_url.as_ref().map(Secret::expose), &self.db_schema_prefix, &self.data_dir)
    }
}

/// One of the three origins a `serve` process can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Side {
    /// The demo publisher site: pages that embed tweets and the widget.
    Publisher,
    /// The api: the widget's files, offers, quotes, orders and the seller's admin api.
    Api,
    /// The card vault: the card frame, tokens and charges.
    Vault,
}

/// The vault's internal listener when the vault runs without the api in its process, and
/// where an api running alone looks for it.
pub const DEFAULT_VAULT_INTERNAL_ADDR: &str = "127.0.0.1:8083";

/// How log lines look on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, coloured on a terminal.
    Plain,
    /// One JSON object per line, for a log collector.
    Json,
}

/// A secret from the environment or a file (never a command-line value, which `ps` shows to
/// every user of the machine): never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Secret(s.trim().to_owned()))
    }
}

/// Where the vault's master keys come from (environment only, never a flag value).
pub const MASTER_KEY_ENV: &str = "TWEETBUY_MASTER_KEY";
/// The api's bearer secret for the vault (environment only).
pub const VAULT_API_KEY_ENV: &str = "TWEETBUY_VAULT_API_KEY";
/// The seller's admin bearer key (environment only).
pub const ADMIN_KEY_ENV: &str = "TWEETBUY_ADMIN_KEY";

/// Bearer keys shorter than this are refused at start: a key is the only thing between the
/// internet and the admin api or the vault's charges, so it must not be guessable.
pub const MIN_BEARER_KEY_BYTES: usize = 32;

/// The first `--database-url` or `--smtp-url` on a command line whose URL carries a password
/// (`scheme://user:password@host`). `ps` shows every process's command line to every user
/// of the machine, so such a URL belongs in `DATABASE_URL` / `SMTP_URL` instead; one with no
/// password (peer authentication, a password file) may stay on the command line.
pub fn password_on_command_line(args: &[String]) -> Option<&'static str> {
    let has_password = |url: &str| {
        let rest = url.split_once("://").map_or("", |(_, rest)| rest);
        // Up to the last `@`, as SMTP_URL is read: its password is taken as written, `/`, `?`
        // and `#` included. A database URL whose options hold an `@` after a `:` is refused
        // too, which costs it only moving to DATABASE_URL.
        let in_user_info = rest.rsplit_once('@').is_some_and(|(user_info, _)| user_info.contains(':'));
        // A database URL may also carry it as an option (`?password=…`).
        let in_options = rest
            .split_once('?')
            .is_some_and(|(_, options)| options.split('&').any(|option| option.starts_with("password=")));
        in_user_info || in_options
    };
    let mut pending: Option<&'static str> = None;
    for arg in args {
        if let Some(flag) = pending.take() {
            if has_password(arg) {
                return Some(flag);
            }
            continue;
        }
        for flag in ["--database-url", "--smtp-url"] {
            match arg.strip_prefix(flag) {
                Some("") => pending = Some(flag),
                Some(value) if value.starts_with('=') && has_password(&value[1..]) => return Some(flag),
                _ => {}
            }
        }
    }
    None
}

/// A secret from an environment variable, when set and not blank.
pub(crate) fn env_secret(name: &str) -> Option<Secret> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A secret from the environment or from a file (one of them), trimmed.
fn secret_from(
    env: Option<&Secret>,
    file: Option<&Path>,
    env_name: &str,
    flag: &str,
) -> Result<Option<Secret>, String> {
    match (env, file) {
        (Some(_), Some(_)) => Err(format!("give either {env_name} or --{flag}, not both")),
        (Some(secret), None) => Ok(Some(secret.clone())),
        (None, Some(path)) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path).map_err(|e| format!("--{flag} {}: {e}", path.display()))?,
            );
            text.parse::<Secret>().map(Some).map_err(|e| format!("--{flag} {}: {e}", path.display()))
        }
        (None, None) => Ok(None),
    }
}

/// Refuses a bearer key shorter than [`MIN_BEARER_KEY_BYTES`].
fn long_enough(secret: Option<Secret>, what: &str) -> Result<Option<Secret>, String> {
    match secret {
        Some(s) if s.expose().len() < MIN_BEARER_KEY_BYTES => Err(format!(
            "the {what} is {} bytes long; it must be at least {MIN_BEARER_KEY_BYTES} (make one with `openssl rand -base64 32`)",
            s.expose().len()
        )),
        other => Ok(other),
    }
}

/// Everything `serve` needs.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Which origins this process serves, comma-separated: `publisher`, `api`, `vault`. The
    /// vault alone (`--origins vault`) and the rest in another process (`--origins
    /// api,publisher`), each with its own database, keeps card data in a process of its own.
    #[arg(long = "origins", env = "TWEETBUY_ORIGINS", value_enum, value_delimiter = ',',
          default_values_t = [Side::Publisher, Side::Api, Side::Vault])]
    pub sides: Vec<Side>,
    /// Where the demo publisher site listens.
    #[arg(long, env = "TWEETBUY_PUBLISHER_ADDR", default_value = "127.0.0.1:8080")]
    pub publisher_addr: SocketAddr,
    /// Where the api listens.
    #[arg(long, env = "TWEETBUY_API_ADDR", default_value = "127.0.0.1:8081")]
    pub api_addr: SocketAddr,
    /// Where the card vault listens.
    #[arg(long, env = "TWEETBUY_VAULT_ADDR", default_value = "127.0.0.1:8082")]
    pub vault_addr: SocketAddr,
    /// Public origin of the publisher site (default `http://{publisher-addr}`).
    #[arg(long, env = "TWEETBUY_PUBLISHER_ORIGIN")]
    pub publisher_origin: Option<String>,
    /// Public origin of the api (default `http://{api-addr}`).
    #[arg(long, env = "TWEETBUY_API_ORIGIN")]
    pub api_origin: Option<String>,
    /// Public origin of the vault (default `http://{vault-addr}`).
    #[arg(long, env = "TWEETBUY_VAULT_ORIGIN")]
    pub vault_origin: Option<String>,
    /// Publisher origins allowed to use the api (CORS) and frame the card form, comma-separated
    /// (default: the publisher origin).
    #[arg(long, env = "TWEETBUY_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Where the api's and the vault's data live.
    #[command(flatten)]
    pub db: DbArgs,
    /// Demo and development only: without a configured master key, keep a generated one in
    /// the data directory, beside the data it protects.
    #[arg(long, env = "TWEETBUY_DEMO", action = ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub demo: bool,
    /// The vault master key file (`keyid:base64-of-32-bytes` lines, newest first), outside
    /// the data directory; made once by `tweetbuy-server keys init --master-key-file FILE`.
    #[arg(long, env = "TWEETBUY_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The vault master keys from `TWEETBUY_MASTER_KEY` (`keyid:base64,…`, newest first);
    /// environment only.
    #[arg(skip = env_secret(MASTER_KEY_ENV))]
    pub master_key: Option<Secret>,
    /// Trunk's output: the widget's glue JS and wasm.
    #[arg(long, env = "TWEETBUY_WIDGET_DIR", default_value = "dist")]
    pub widget_dir: PathBuf,
    /// Templates and static files: `publisher/`, `frame/`, `embed.js`.
    #[arg(long, env = "TWEETBUY_ASSETS_DIR", default_value = "server/assets")]
    pub assets_dir: PathBuf,
    /// A file holding the api's bearer secret for charges at the vault (or the secret itself
    /// in `TWEETBUY_VAULT_API_KEY`); default: random per process, which works when this one
    /// process runs both the api and the vault.
    #[arg(long, env = "TWEETBUY_VAULT_API_KEY_FILE")]
    pub vault_api_key_file: Option<PathBuf>,
    /// From `TWEETBUY_VAULT_API_KEY`; environment only.
    #[arg(skip = env_secret(VAULT_API_KEY_ENV))]
    pub vault_api_key: Option<Secret>,
    /// Where the vault serves the api's server-to-server routes (charges, refunds),
    /// apart from its public origin. Default: a free loopback port when the api is in the
    /// same process, else 127.0.0.1:8083.
    #[arg(long, env = "TWEETBUY_VAULT_INTERNAL_ADDR")]
    pub vault_internal_addr: Option<SocketAddr>,
    /// Where the api reaches the vault's internal listener (default: that listener when the
    /// vault is in the same process, else `http://127.0.0.1:8083`).
    #[arg(long, env = "TWEETBUY_VAULT_INTERNAL_URL")]
    pub vault_internal_url: Option<String>,
    /// Seed the demo catalog when the products table is empty.
    #[arg(long, env = "TWEETBUY_SEED_DEMO", default_value_t = true, action = ArgAction::Set)]
    pub seed_demo: bool,
    /// Log lines as plain text or JSON.
    #[arg(long, env = "TWEETBUY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Plain)]
    pub log_format: LogFormat,
    /// Send receipts through this SMTP server: `smtps://[user:password@]host[:port]` (TLS,
    /// port 465), `smtp+starttls://…` (STARTTLS required, port 587) or `smtp://…` (plain, port
    /// 25, for a relay on a private network); without it they are written as `.eml` files to
    /// `outbox/` in the data directory.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,
    /// A PEM file of CA certificates trusted for the SMTP server's certificate, besides the
    /// public roots built in: for a mail server with a private or self-signed certificate.
    /// Only with an `smtps://` or `smtp+starttls://` SMTP URL.
    #[arg(long, env = "SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// The receipts' sender address.
    #[arg(long, env = "TWEETBUY_MAIL_FROM", default_value = "tweetbuy <receipts@tweetbuy.invalid>")]
    pub mail_from: String,
    /// Test hook: a receipt is sent only once its order is this many seconds old, which
    /// leaves a window to kill the process between the commit and the send.
    #[arg(long, env = "TWEETBUY_OUTBOX_SEND_DELAY_SECS", default_value_t = 0, hide = true)]
    pub outbox_send_delay_secs: i64,
    /// Test hook: the first wait before a failed webhook delivery is tried again, in
    /// milliseconds (it doubles with each failure, up to 4 hours).
    #[arg(long, env = "TWEETBUY_WEBHOOK_RETRY_BASE_MS", default_value_t = 30_000, hide = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_retry_base_ms: u64,
    /// Test hook: a webhook delivery is first tried only once its event is this many seconds
    /// old, which leaves a window to kill the process between the commit and the send.
    #[arg(long, env = "TWEETBUY_WEBHOOK_SEND_DELAY_SECS", default_value_t = 0, hide = true)]
    pub webhook_send_delay_secs: i64,
    /// A file holding the bearer key of the seller's admin api (`/admin/v1/…`), or the key
    /// itself in `TWEETBUY_ADMIN_KEY`; the admin api is off without one.
    #[arg(long, env = "TWEETBUY_ADMIN_KEY_FILE")]
    pub admin_key_file: Option<PathBuf>,
    /// From `TWEETBUY_ADMIN_KEY`; environment only.
    #[arg(skip = env_secret(ADMIN_KEY_ENV))]
    pub admin_key: Option<Secret>,
    /// Token and order requests allowed per client IP per second, sustained (0: no limit).
    #[arg(long, env = "TWEETBUY_RATE_LIMIT_PER_SECOND", default_value_t = 20)]
    pub rate_limit_per_second: u32,
    /// Requests a client may send at once above the sustained rate.
    #[arg(long, env = "TWEETBUY_RATE_LIMIT_BURST", default_value_t = 100)]
    pub rate_limit_burst: u32,
    /// An order in flight this long is taken to have died with its process: a retry with its
    /// Idempotency-Key resumes it (on SQLite, orders left by a killed process are resumable at
    /// once after a restart). At least 1: at 0 or less every retry would run an order that is
    /// still running, beside it.
    #[arg(long, env = "TWEETBUY_ORDER_STALE_SECS", default_value_t = crate::api::order_idempotency::STALE_IN_FLIGHT_SECONDS, value_parser = clap::value_parser!(i64).range(1..))]
    pub order_stale_secs: i64,
    /// Seconds a client may take to send a request's headers (and an idle keep-alive
    /// connection may stay open) before its connection is closed.
    #[arg(long, env = "TWEETBUY_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,
    /// Seconds a client may take to send a request's body, once its headers are in
    /// (answered 408 after that).
    #[arg(long, env = "TWEETBUY_BODY_READ_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout_secs: u64,
    /// Connections each listener keeps open at once; more wait to be accepted.
    #[arg(long, env = "TWEETBUY_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// How long a SQLite write waits for another writer's lock before the order path backs
    /// off and tries its transaction again.
    #[arg(long, env = "TWEETBUY_SQLITE_BUSY_TIMEOUT_MS", default_value_t = 5000)]
    pub sqlite_busy_timeout_ms: u64,
}

/// The three public origins, normalized (`scheme://host[:port]`, no trailing slash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origins {
    /// The demo publisher site's origin.
    pub publisher: String,
    /// The api's origin: the widget's files, offers and orders.
    pub api: String,
    /// The vault's public origin: the card frame.
    pub vault: String,
}

impl Config {
    /// The public origins, from the flags or from the listen addresses.
    pub fn origins(&self) -> Result<Origins, String> {
        let pick = |given: &Option<String>, addr: SocketAddr| match given {
            Some(origin) => parse_origin(origin),
            None => parse_origin(&format!("http://{addr}")),
        };
        Ok(Origins {
            publisher: pick(&self.publisher_origin, self.publisher_addr)?,
            api: pick(&self.api_origin, self.api_addr)?,
            vault: pick(&self.vault_origin, self.vault_addr)?,
        })
    }

    /// The publisher origins allowed to use the api and frame the vault's card form: `https://`
    /// only, except loopback for development. A plain-http publisher page can be rewritten by
    /// anyone on its network path, who could then drive the widget and the card frame as if
    /// they were the publisher.
    pub fn allowed_origins(&self, origins: &Origins) -> Result<Vec<String>, String> {
        let given: Vec<&String> = self.allowed_origins.iter().filter(|o| !o.trim().is_empty()).collect();
        let list = if given.is_empty() {
            vec![origins.publisher.clone()]
        } else {
            let mut list = Vec::new();
            for origin in given {
                let origin = parse_origin(origin)?;
                if !list.contains(&origin) {
                    list.push(origin);
                }
            }
            list
        };
        if let Some(plain) = list.iter().find(|origin| !is_secure_or_loopback(origin)) {
            return Err(format!(
                "publisher origin {plain} is plain http: allowed publisher origins must be https://, except \
                 loopback for development (http://127.0.0.1, http://localhost, http://[::1])"
            ));
        }
        Ok(list)
    }

    /// The assets directory: the flag relative to the working directory, or the crate's own
    /// `assets/` when that does not exist (so `cargo run -p tweetbuy-server` works from anywhere).
    pub fn resolved_assets_dir(&self) -> PathBuf {
        if self.assets_dir.is_dir() {
            return self.assets_dir.clone();
        }
        let bundled = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets");
        if bundled.is_dir() {
            bundled
        } else {
            self.assets_dir.clone()
        }
    }

    /// The seller's admin key, from `TWEETBUY_ADMIN_KEY` or `--admin-key-file`, at least
    /// [`MIN_BEARER_KEY_BYTES`] long.
    pub fn resolved_admin_key(&self) -> Result<Option<Secret>, String> {
        let key =
            secret_from(self.admin_key.as_ref(), self.admin_key_file.as_deref(), ADMIN_KEY_ENV, "admin-key-file")?;
        long_enough(key, "admin key (TWEETBUY_ADMIN_KEY / --admin-key-file)")
    }

    /// The api's bearer key for the vault, from `TWEETBUY_VAULT_API_KEY` or
    /// `--vault-api-key-file`, at least [`MIN_BEARER_KEY_BYTES`] long.
    pub fn resolved_vault_api_key(&self) -> Result<Option<Secret>, String> {
        let key = secret_from(
            self.vault_api_key.as_ref(),
            self.vault_api_key_file.as_deref(),
            VAULT_API_KEY_ENV,
            "vault-api-key-file",
        )?;
        long_enough(key, "vault api key (TWEETBUY_VAULT_API_KEY / --vault-api-key-file)")
    }

    /// Where the vault's master keys come from. The key file must live apart from the data
    /// it protects (a copy of the data directory, a backup of it, must not carry the key),
    /// except in demo mode, where a generated key is kept in the data directory.
    pub fn master_key_source(&self) -> Result<KeySource, String> {
        let data_dir = &self.db.data_dir;
        match (&self.master_key, &self.master_key_file) {
            (Some(_), Some(_)) => Err(format!("give either {MASTER_KEY_ENV} or --master-key-file, not both")),
            (Some(spec), None) => Ok(KeySource::Spec(spec.expose().to_owned())),
            (None, Some(path)) => {
                if !self.demo && keys::is_inside(path, data_dir) {
                    return Err(format!(
                        "the master key file {} is inside the data directory {}: keep it apart from the data \
                         it protects (or pass --demo for a demo)",
                        path.display(),
                        data_dir.display()
                    ));
                }
                if !self.demo && !path.exists() {
                    return Err(format!(
                        "the master key file {} does not exist: create it once with `tweetbuy-server keys init \
                         --master-key-file {}` (outside --demo a missing key file is never made afresh: a \
                         secret that was not mounted would start the vault with a key that opens none of the \
                         stored cards)",
                        path.display(),
                        path.display()
                    ));
                }
                Ok(KeySource::File(path.clone()))
            }
            (None, None) if self.demo => Ok(KeySource::File(data_dir.join(keys::KEY_FILE))),
            (None, None) => {
                let beside = data_dir.join(keys::KEY_FILE);
                let hint = if beside.exists() {
                    format!(" (move {} out of the data directory and point --master-key-file at it)", beside.display())
                } else {
                    String::new()
                };
                Err(format!(
                    "no vault master key: set TWEETBUY_MASTER_KEY_FILE (--master-key-file) to a file outside the \
                     data directory, or {MASTER_KEY_ENV}{hint}; for a demo, --demo (TWEETBUY_DEMO=1) keeps a \
                     generated key in the data directory"
                ))
            }
        }
    }

    /// The per-listener limits on slow and greedy clients.
    pub fn connection_limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout_secs),
            body_read_timeout: std::time::Duration::from_secs(self.body_read_timeout_secs),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }

    /// Whether this process serves `side`.
    pub fn serves(&self, side: Side) -> bool {
        self.sides.contains(&side)
    }

    /// Where the vault's internal listener binds: as configured, else a free loopback port
    /// when the api shares the process (it learns the port), else the default.
    pub fn resolved_vault_internal_addr(&self) -> SocketAddr {
        self.vault_internal_addr.unwrap_or_else(|| {
            if self.serves(Side::Api) {
                SocketAddr::from(([127, 0, 0, 1], 0))
            } else {
                DEFAULT_VAULT_INTERNAL_ADDR.parse().expect("a socket address")
            }
        })
    }

    /// Where the api reaches the vault, without a trailing slash; `bound` is the vault's
    /// internal listener when this process runs it.
    pub fn resolved_vault_internal_url(&self, bound: Option<SocketAddr>) -> Result<String, String> {
        match (&self.vault_internal_url, bound) {
            (Some(url), _) => vault_internal_url(url),
            (None, Some(addr)) => Ok(format!("http://{addr}")),
            (None, None) => Ok(format!("http://{DEFAULT_VAULT_INTERNAL_ADDR}")),
        }
    }
}

/// Whether a normalized origin is `https://`, or `http://` on a loopback host.
pub fn is_secure_or_loopback(origin: &str) -> bool {
    if origin.starts_with("https://") {
        return true;
    }
    let Some(rest) = origin.strip_prefix("http://") else { return false };
    let host = if rest.starts_with('[') {
        rest.split_once(']').map_or(rest, |(host, _)| host).trim_start_matches('[')
    } else {
        rest.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks and normalizes a web origin: `http` or `https`, a host (name, IPv4 or `[IPv6]`),
/// an optional port, and nothing else. Origins end up in CORS headers, a CSP and HTML, so
/// anything that could break out of those (spaces, `;`, quotes, paths) is refused here.
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    let bad = || format!("not an origin (expected http(s)://host[:port]): {raw:?}");
    let (scheme, rest) = lower.split_once("://").ok_or_else(bad)?;
    if scheme != "http" && scheme != "https" {
        return Err(bad());
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (inside, after) = v6.split_once(']').ok_or_else(bad)?;
        if inside.is_empty() || !inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(bad());
        }
        (
            format!("[{inside}]"),
            after.strip_prefix(':').map(str::to_owned).or_else(|| (!after.is_empty()).then(String::new)),
        )
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port.to_owned())),
            None => (rest.to_owned(), None),
        }
    };
    let host_ok = host.starts_with('[')
        || (!host.is_empty()
            && host
                .split('.')
                .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')));
    if !host_ok {
        return Err(bad());
    }
    match port {
        None => Ok(format!("{scheme}://{host}")),
        Some(port) if !port.is_empty() && port.len() <= 5 && port.parse::<u16>().is_ok() => {
            Ok(format!("{scheme}://{host}:{port}"))
        }
        Some(_) => Err(bad()),
    }
}

/// `--key` of `orders refund`: an idempotency key as the admin api takes one. An empty one
/// (an unset shell variable) would make every refund of the same amount "already done".
fn refund_key(key: &str) -> Result<String, String> {
    match crate::idempotency::is_key(key) {
        true => Ok(key.to_owned()),
        false => Err(format!("give 1 to {} visible ASCII characters", crate::idempotency::MAX_KEY_LEN)),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_and_checked() {
        assert_eq!(parse_origin("http://127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(parse_origin("HTTPS://Example.COM").unwrap(), "https://example.com");
        assert_eq!(parse_origin("http://[::1]:8080").unwrap(), "http://[::1]:8080");
        for bad in [
            "example.com",
            "ftp://example.com",
            "http://example.com/path",
            "http://exa mple.com",
            "http://example.com;script-src *",
            "http://example.com:99999",
            "http://example.com:",
            "http://\"x\"",
            "http://",
            "*",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_and_subcommand() {
        let cli = Cli::try_parse_from(["tweetbuy-server"]).unwrap();
        let config = cli.into_config();
        let origins = config.origins().unwrap();
        assert_eq!(origins.publisher, "http://127.0.0.1:8080");
        assert_eq!(origins.api, "http://127.0.0.1:8081");
        assert_eq!(origins.vault, "http://127.0.0.1:8082");
        assert_eq!(config.allowed_origins(&origins).unwrap(), ["http://127.0.0.1:8080"]);
        assert_eq!(config.sides, [Side::Publisher, Side::Api, Side::Vault]);
        assert_eq!(
            config.resolved_vault_internal_addr(),
            "127.0.0.1:0".parse().unwrap(),
            "beside the api: a free port"
        );
        assert_eq!(
            config.resolved_vault_internal_url(Some("127.0.0.1:4567".parse().unwrap())).unwrap(),
            "http://127.0.0.1:4567"
        );
        assert!(config.seed_demo);

        let cli = Cli::try_parse_from([
            "tweetbuy-server",
            "serve",
            "--api-addr",
            "127.0.0.1:9001",
            "--allowed-origins",
            "http://localhost:3000,https://b.test:8443/",
            "--seed-demo",
            "false",
            "--master-key-file",
            "/keys/vault.key",
        ])
        .unwrap();
        let mut config = cli.into_config();
        let origins = config.origins().unwrap();
        assert_eq!(origins.api, "http://127.0.0.1:9001");
        assert_eq!(config.allowed_origins(&origins).unwrap(), ["http://localhost:3000", "https://b.test:8443"]);
        assert!(!config.seed_demo);
        let missing = config.master_key_source().unwrap_err();
        assert!(missing.contains("does not exist") && missing.contains("keys init"), "{missing}");
        config.master_key = Some(Secret("k1:AAAA".into()));
        config.master_key_file = None;
        assert!(!format!("{config:?}").contains("AAAA"), "secrets stay out of Debug");
    }

    #[test]
    fn publisher_origins_are_https_except_loopback() {
        for ok in [
            "https://news.example",
            "https://news.example:8443",
            "http://127.0.0.1:8080",
            "http://127.0.0.2",
            "http://localhost",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            let c = config(&["--allowed-origins", ok]);
            assert!(c.allowed_origins(&c.origins().unwrap()).is_ok(), "{ok}");
        }
        for plain in [
            "http://news.example",
            "http://localhost.example",
            "http://127.0.0.1.example",
            "http://10.0.0.1:8080",
            "http://[::2]",
        ] {
            let c = config(&["--allowed-origins", &format!("https://fine.example,{plain}")]);
            let error = c.allowed_origins(&c.origins().unwrap()).unwrap_err();
            assert!(error.contains("https://") && error.contains("loopback"), "{plain}: {error}");
        }
        // The default list, the publisher origin, is held to the same rule.
        let c = config(&["--publisher-origin", "http://publisher.example"]);
        assert!(c.allowed_origins(&c.origins().unwrap()).is_err());
        let c = config(&["--publisher-origin", "https://publisher.example"]);
        assert_eq!(c.allowed_origins(&c.origins().unwrap()).unwrap(), ["https://publisher.example"]);
    }

    #[test]
    fn the_smtp_ca_file_is_a_path_setting() {
        let c = config(&["--smtp-url", "smtps://mail.example", "--smtp-ca-file", "/etc/tweetbuy/mail-ca.pem"]);
        assert_eq!(c.smtp_ca_file.as_deref(), Some(Path::new("/etc/tweetbuy/mail-ca.pem")));
        assert_eq!(c.smtp_url.as_ref().map(|s| s.expose()), Some("smtps://mail.example"));
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for url in ["smtps://u:p@mail.example", "smtp+starttls://shop@example.com:p@mail.example:587"] {
            assert_eq!(password_on_command_line(&args(&["serve", "--smtp-url", url])), Some("--smtp-url"), "{url}");
        }
    }

    fn config(args: &[&str]) -> Config {
        let mut argv = vec!["tweetbuy-server", "serve"];
        argv.extend_from_slice(args);
        let mut config = Cli::try_parse_from(argv).unwrap().into_config();
        // Whatever the environment running the tests holds.
        (config.master_key, config.admin_key, config.vault_api_key) = (None, None, None);
        config
    }

    #[test]
    fn refund_cancel_and_ship_commands_parse() {
        let parsed = Cli::try_parse_from([
            "tweetbuy-server",
            "orders",
            "refund",
            "TB-ABC123",
            "--amount-minor",
            "500",
            "--key",
            "r1",
            "--vault-internal-url",
            "http://10.0.0.5:8083/",
        ])
        .unwrap();
        let Some(Command::Orders(OrdersCommand::Refund { order_number, amount_minor, key, mut vault, .. })) =
            parsed.command
        else {
            panic!("not a refund");
        };
        assert_eq!((order_number.as_str(), amount_minor, key.as_deref()), ("TB-ABC123", Some(500), Some("r1")));
        (vault.vault_api_key, vault.vault_api_key_file) = (None, None);
        assert!(vault.resolved().unwrap_err().contains("TWEETBUY_VAULT_API_KEY"), "a key is required");
        vault.vault_api_key = Some(Secret("k".repeat(31)));
        assert!(vault.resolved().unwrap_err().contains("at least 32"), "a short key is refused");
        vault.vault_api_key = Some(Secret("k".repeat(32)));
        assert_eq!(vault.resolved().unwrap().0, "http://10.0.0.5:8083");
        for bad in ["notaurl", "127.0.0.1:8083", "ftp://10.0.0.5", "http://", "http://10.0.0.5:8083/?x=1", "http://u@h"]
        {
            vault.vault_internal_url = bad.into();
            let error = vault.resolved().unwrap_err();
            assert!(
                error.contains("TWEETBUY_VAULT_INTERNAL_URL") && error.contains("http://HOST:PORT"),
                "{bad}: {error}"
            );
        }
        vault.vault_internal_url = " https://vault.internal:8443/ ".into();
        assert_eq!(vault.resolved().unwrap().0, "https://vault.internal:8443");
        for command in ["cancel", "ship"] {
            let parsed = Cli::try_parse_from(["tweetbuy-server", "orders", command, "TB-ABC123"]).unwrap();
            assert!(matches!(parsed.command, Some(Command::Orders(_))), "{command}");
        }
        assert!(Cli::try_parse_from(["tweetbuy-server", "orders", "refund", "TB-1", "--vault-api-key", "x"]).is_err());
        // A key the admin api would refuse is refused here too: an empty one (an unset shell
        // variable) would make every later refund of the same amount "already done".
        let long = "k".repeat(256);
        for bad in ["", "a key", "clé", long.as_str()] {
            let parsed = Cli::try_parse_from(["tweetbuy-server", "orders", "refund", "TB-1", "--key", bad]);
            let error = parsed.err().unwrap_or_else(|| panic!("{bad:?} taken")).to_string();
            assert!(error.contains("1 to 255 visible ASCII characters"), "{bad:?}: {error}");
        }
        let longest = "k".repeat(255);
        assert!(Cli::try_parse_from(["tweetbuy-server", "orders", "refund", "TB-1", "--key", &longest]).is_ok());
    }

    #[test]
    fn a_delivery_log_limit_out_of_its_range_is_refused_not_clamped() {
        let deliveries =
            |limit: &str| Cli::try_parse_from(["tweetbuy-server", "webhooks", "deliveries", "whe_x", "--limit", limit]);
        for limit in ["0", "501", "-1"] {
            assert!(deliveries(limit).is_err(), "--limit {limit} taken");
        }
        for limit in ["1", "500"] {
            assert!(deliveries(limit).is_ok(), "--limit {limit} refused");
        }
    }

    #[test]
    fn an_order_stale_time_below_a_second_is_refused() {
        for secs in ["0", "-5"] {
            let parsed = Cli::try_parse_from(["tweetbuy-server", "serve", "--order-stale-secs", secs]);
            assert!(parsed.is_err(), "--order-stale-secs {secs} taken");
        }
        assert!(Cli::try_parse_from(["tweetbuy-server", "serve", "--order-stale-secs", "3"]).is_ok());
    }

    #[test]
    fn secrets_are_not_taken_as_command_line_values() {
        for flag in ["--master-key", "--admin-key", "--vault-api-key"] {
            let parsed =
                Cli::try_parse_from(["tweetbuy-server", "serve", flag, "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]);
            assert!(parsed.is_err(), "{flag} must not take a value on the command line (ps shows it)");
        }
        let parsed = Cli::try_parse_from(["tweetbuy-server", "keys", "rotate", "--master-key", "k1:AAAA"]);
        assert!(parsed.is_err());
    }

    #[test]
    fn bearer_keys_come_from_the_environment_or_a_file_and_must_be_long() {
        let dir = tempfile::tempdir().unwrap();
        let long = "0123456789abcdef0123456789abcdef";
        let mut c = config(&[]);
        assert_eq!(c.resolved_admin_key().unwrap(), None);
        c.admin_key = Some(Secret(long.into()));
        assert_eq!(c.resolved_admin_key().unwrap(), Some(Secret(long.into())));
        c.admin_key = Some(Secret("short-admin-key".into()));
        let error = c.resolved_admin_key().unwrap_err();
        assert!(error.contains("admin key") && error.contains("at least 32"), "{error}");

        let file = dir.path().join("vault-api.key");
        std::fs::write(&file, format!("{long}\n")).unwrap();
        let mut c = config(&["--vault-api-key-file", file.to_str().unwrap()]);
        assert_eq!(c.resolved_vault_api_key().unwrap(), Some(Secret(long.into())), "trimmed");
        c.vault_api_key = Some(Secret(long.into()));
        assert!(c.resolved_vault_api_key().unwrap_err().contains("not both"));
        std::fs::write(&file, "process-test-vault-key").unwrap();
        let c = config(&["--vault-api-key-file", file.to_str().unwrap()]);
        let error = c.resolved_vault_api_key().unwrap_err();
        assert!(error.contains("vault api key") && error.contains("22 bytes"), "{error}");
        let c = config(&["--admin-key-file", dir.path().join("missing").to_str().unwrap()]);
        assert!(c.resolved_admin_key().unwrap_err().contains("missing"));
    }

    #[test]
    fn the_master_key_lives_apart_from_the_data_except_in_demo_mode() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let data_arg = data.to_str().unwrap();

        // Nothing configured: refused, unless demo mode keeps a key beside the data.
        let error = config(&["--data-dir", data_arg]).master_key_source().unwrap_err();
        assert!(error.contains("no vault master key") && error.contains("--demo"), "{error}");
        assert_eq!(
            config(&["--data-dir", data_arg, "--demo"]).master_key_source().unwrap(),
            KeySource::File(data.join(keys::KEY_FILE))
        );

        // A key file inside the data directory, however it is spelled, is refused.
        let inside = data.join("vault-master.key");
        let dotted = root.path().join("data/../data/k.key");
        for path in [&inside, &dotted] {
            let c = config(&["--data-dir", data_arg, "--master-key-file", path.to_str().unwrap()]);
            let error = c.master_key_source().unwrap_err();
            assert!(error.contains("inside the data directory"), "{error}");
        }
        #[cfg(unix)]
        {
            let link = root.path().join("link.key");
            std::fs::write(&inside, "").unwrap();
            std::os::unix::fs::symlink(&inside, &link).unwrap();
            let c = config(&["--data-dir", data_arg, "--master-key-file", link.to_str().unwrap()]);
            assert!(c.master_key_source().is_err(), "a link into the data directory is inside it");
        }
        let c = config(&["--data-dir", data_arg, "--demo", "--master-key-file", inside.to_str().unwrap()]);
        assert_eq!(c.master_key_source().unwrap(), KeySource::File(inside.clone()));

        // Apart from the data: accepted; the environment's keys too, but not both at once.
        let apart = root.path().join("keys/vault.key");
        std::fs::create_dir_all(apart.parent().unwrap()).unwrap();
        std::fs::write(&apart, "").unwrap();
        let mut c = config(&["--data-dir", data_arg, "--master-key-file", apart.to_str().unwrap()]);
        assert_eq!(c.master_key_source().unwrap(), KeySource::File(apart));
        c.master_key = Some(Secret("k1:AAAA".into()));
        assert!(c.master_key_source().unwrap_err().contains("not both"));
        c.master_key_file = None;
        assert_eq!(c.master_key_source().unwrap(), KeySource::Spec("k1:AAAA".into()));
    }

    #[test]
    fn passwords_in_urls_stay_off_the_command_line() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let secret = "postgres://app:s3cret@db.example/tweetbuy";
        assert_eq!(password_on_command_line(&args(&["serve", "--database-url", secret])), Some("--database-url"));
        assert_eq!(
            password_on_command_line(&args(&["serve", &format!("--database-url={secret}")])),
            Some("--database-url")
        );
        assert_eq!(password_on_command_line(&args(&["serve", "--smtp-url", "smtp://u:p@mail:25"])), Some("--smtp-url"));
        // SMTP_URL's password is taken as written, so one holding `/`, `?` or `#` is seen whole.
        for url in ["smtps://u:pa/ss@mail.example", "smtps://u:pa?ss@mail.example", "smtps://u:pa#ss@mail.example"] {
            assert_eq!(password_on_command_line(&args(&["serve", "--smtp-url", url])), Some("--smtp-url"), "{url}");
        }
        let in_options = "postgres:///tweetbuy?host=/run/postgresql&user=app&password=s3cret";
        assert_eq!(password_on_command_line(&args(&["serve", "--database-url", in_options])), Some("--database-url"));
        for fine in [
            &["serve", "--database-url", "postgres://app@127.0.0.1:5432/tweetbuy"][..],
            &["serve", "--database-url", "postgres:///tweetbuy?host=/run/postgresql&user=app"],
            &["serve", "--smtp-url", "smtp://mail.example:25"],
            &["serve", "--data-dir", "postgres://a:b@c"],
        ] {
            assert_eq!(password_on_command_line(&args(fine)), None, "{fine:?}");
        }
    }
}
