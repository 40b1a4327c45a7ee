//! Command line and environment: every setting has a flag and a `TWEETBUY_*` variable.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// `tweetbuy-server [serve] [OPTIONS]`: `serve` is the default, so the bare command runs it.
#[derive(Debug, Parser)]
#[command(name = "tweetbuy-server", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: Config,
}

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
    /// The vault's master keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new master key (current from now on) and re-wrap every stored data key with it;
    /// old keys stay, so old records keep opening.
    Rotate {
        #[command(flatten)]
        db: DbArgs,
        /// Instead of the key file: `newid:base64,oldid:base64…`, newest first.
        #[arg(long, env = "TWEETBUY_MASTER_KEY", hide_env_values = true)]
        master_key: Option<Secret>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Validate a TOML or JSON catalog file and apply it in one transaction (all or nothing).
    Import {
        /// `.toml` or `.json`.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// Print the seller's view of every order, newest first.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write every order as CSV to stdout.
    Export {
        /// CSV (the only format; the flag keeps room for others).
        #[arg(long, required = true)]
        csv: bool,
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

/// How log lines look on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Plain,
    Json,
}

/// A secret given on the command line or in the environment: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
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

/// Everything `serve` needs.
#[derive(Clone, Debug, Args)]
pub struct Config {
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
    #[command(flatten)]
    pub db: DbArgs,
    /// The vault master keys as `keyid:base64-of-32-bytes`, comma-separated, newest (current)
    /// first; without it the key file in the data directory is used (created on first start).
    #[arg(long, env = "TWEETBUY_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<Secret>,
    /// Trunk's output: the widget's glue JS and wasm.
    #[arg(long, env = "TWEETBUY_WIDGET_DIR", default_value = "dist")]
    pub widget_dir: PathBuf,
    /// Templates and static files: `publisher/`, `frame/`, `embed.js`.
    #[arg(long, env = "TWEETBUY_ASSETS_DIR", default_value = "server/assets")]
    pub assets_dir: PathBuf,
    /// The api's bearer secret for charges at the vault (default: random per process, which
    /// works because this one process runs both).
    #[arg(long, env = "TWEETBUY_VAULT_API_KEY", hide_env_values = true)]
    pub vault_api_key: Option<Secret>,
    /// Where the api reaches the vault, server to server (default `http://{vault-addr}`).
    #[arg(long, env = "TWEETBUY_VAULT_INTERNAL_URL")]
    pub vault_internal_url: Option<String>,
    /// Seed the demo catalog when the products table is empty.
    #[arg(long, env = "TWEETBUY_SEED_DEMO", default_value_t = true, action = ArgAction::Set)]
    pub seed_demo: bool,
    /// Log lines as plain text or JSON.
    #[arg(long, env = "TWEETBUY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Plain)]
    pub log_format: LogFormat,
    /// Send receipts through this SMTP server (`smtp://host:port`); without it they are
    /// written as `.eml` files to `outbox/` in the data directory.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,
    /// The receipts' sender address.
    #[arg(long, env = "TWEETBUY_MAIL_FROM", default_value = "tweetbuy <receipts@tweetbuy.invalid>")]
    pub mail_from: String,
    /// Test hook: a receipt is sent only once its order is this many seconds old, which
    /// leaves a window to kill the process between the commit and the send.
    #[arg(long, env = "TWEETBUY_OUTBOX_SEND_DELAY_SECS", default_value_t = 0, hide = true)]
    pub outbox_send_delay_secs: i64,
    /// The bearer key of the seller's admin api (`/admin/v1/…`); the admin api is off without it.
    #[arg(long, env = "TWEETBUY_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<Secret>,
    /// Token and order requests allowed per client IP per second, sustained (0: no limit).
    #[arg(long, env = "TWEETBUY_RATE_LIMIT_PER_SECOND", default_value_t = 20)]
    pub rate_limit_per_second: u32,
    /// Requests a client may send at once above the sustained rate.
    #[arg(long, env = "TWEETBUY_RATE_LIMIT_BURST", default_value_t = 100)]
    pub rate_limit_burst: u32,
    /// An order in flight this long is taken to have died with its process: a retry with its
    /// Idempotency-Key resumes it (on SQLite, orders left by a killed process are resumable at
    /// once after a restart).
    #[arg(long, env = "TWEETBUY_ORDER_STALE_SECS", default_value_t = crate::api::order_idempotency::STALE_IN_FLIGHT_SECONDS)]
    pub order_stale_secs: i64,
    /// How long a SQLite write waits for another writer's lock before the order path backs
    /// off and tries its transaction again.
    #[arg(long, env = "TWEETBUY_SQLITE_BUSY_TIMEOUT_MS", default_value_t = 5000)]
    pub sqlite_busy_timeout_ms: u64,
}

/// The three public origins, normalized (`scheme://host[:port]`, no trailing slash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origins {
    pub publisher: String,
    pub api: String,
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

    /// The publisher origins allowed to use the api and frame the vault's card form.
    pub fn allowed_origins(&self, origins: &Origins) -> Result<Vec<String>, String> {
        let given: Vec<&String> = self.allowed_origins.iter().filter(|o| !o.trim().is_empty()).collect();
        if given.is_empty() {
            return Ok(vec![origins.publisher.clone()]);
        }
        let mut list = Vec::new();
        for origin in given {
            let origin = parse_origin(origin)?;
            if !list.contains(&origin) {
                list.push(origin);
            }
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

    /// Where the api reaches the vault, without a trailing slash.
    pub fn resolved_vault_internal_url(&self) -> String {
        match &self.vault_internal_url {
            Some(url) => url.trim().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.vault_addr),
        }
    }
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
        assert_eq!(config.resolved_vault_internal_url(), "http://127.0.0.1:8082");
        assert!(config.seed_demo);

        let cli = Cli::try_parse_from([
            "tweetbuy-server",
            "serve",
            "--api-addr",
            "127.0.0.1:9001",
            "--allowed-origins",
            "http://a.test,https://b.test:8443/",
            "--seed-demo",
            "false",
            "--master-key",
            "k1:AAAA",
        ])
        .unwrap();
        let config = cli.into_config();
        let origins = config.origins().unwrap();
        assert_eq!(origins.api, "http://127.0.0.1:9001");
        assert_eq!(config.allowed_origins(&origins).unwrap(), ["http://a.test", "https://b.test:8443"]);
        assert!(!config.seed_demo);
        assert!(!format!("{config:?}").contains("AAAA"), "secrets stay out of Debug");
    }
}
