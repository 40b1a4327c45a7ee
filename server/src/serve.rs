//! Start-up: settings, databases, keys, the three listeners, and graceful shutdown.

use crate::api::{api_app, order_idempotency, receipts, seed, ApiSettings, ApiState};
use crate::config::Config;
use crate::publisher::{publisher_app, PublisherSettings, PublisherState};
use crate::rate_limit::RateLimit;
use crate::vault::keys::{KeyError, Keyring};
use crate::vault::{vault_app, VaultSettings, VaultState};
use crate::{clock, db, ids, telemetry, AppError};
use axum::Router;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("opening {name} database: {source}")]
    Database { name: &'static str, source: sqlx::Error },
    #[error("vault master key: {0}")]
    Key(#[from] KeyError),
    #[error("seeding the demo catalog: {0}")]
    Seed(AppError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// Runs the three origins until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), StartupError> {
    telemetry::init(config.log_format);
    let origins = config.origins().map_err(StartupError::Config)?;
    let allowed_origins = config.allowed_origins(&origins).map_err(StartupError::Config)?;
    let assets_dir = config.resolved_assets_dir();

    let data_dir = &config.db.data_dir;
    std::fs::create_dir_all(data_dir)
        .map_err(|source| StartupError::DataDir { path: data_dir.display().to_string(), source })?;
    let key_source = config.master_key_source().map_err(StartupError::Config)?;
    let admin_key = config.resolved_admin_key().map_err(StartupError::Config)?;
    let configured_vault_api_key = config.resolved_vault_api_key().map_err(StartupError::Config)?;
    if config.demo {
        tracing::warn!(
            "demo mode: without a configured master key the vault keeps a generated one in the data \
             directory, beside the cards it protects; not for real card data"
        );
    }
    let keys = Keyring::open(&key_source)?;
    let (api_location, vault_location) = config.db.locations().map_err(StartupError::Config)?;
    let engine = api_location.engine();
    let tuning = db::Tuning { sqlite_busy_timeout: std::time::Duration::from_millis(config.sqlite_busy_timeout_ms) };
    let api_db = db::open_api_tuned(&api_location, tuning)
        .await
        .map_err(|source| StartupError::Database { name: "the api's", source })?;
    let vault_db = db::open_vault_tuned(&vault_location, tuning)
        .await
        .map_err(|source| StartupError::Database { name: "the vault's", source })?;
    let mailer = receipts::Mailer::new(config.smtp_url.as_ref().map(|s| s.expose()), data_dir.join("outbox"))
        .map_err(StartupError::Config)?;
    if engine == db::Engine::Sqlite {
        // Only this process uses the SQLite files, so orders still in flight were left by a
        // killed predecessor: their retries may resume them at once.
        let released = order_idempotency::release_all_in_flight(&api_db)
            .await
            .map_err(|e| StartupError::Database { name: "the api's", source: sqlx::Error::Protocol(e.to_string()) })?;
        if released > 0 {
            tracing::warn!(released, "orders left in flight by a previous process may be resumed by their retries");
        }
    }
    if config.seed_demo {
        seed::seed_demo_if_empty(&api_db, clock::now()).await.map_err(StartupError::Seed)?;
    }

    // One process runs both sides, so a random key shared in memory is enough by default.
    let vault_api_key =
        configured_vault_api_key.as_ref().map_or_else(ids::random_secret, |secret| secret.expose().to_owned());

    let rate_limit = RateLimit { per_second: config.rate_limit_per_second, burst: config.rate_limit_burst };
    let receipt_worker = receipts::Worker {
        db: api_db.clone(),
        mailer,
        from: config.mail_from.clone(),
        send_delay_secs: config.outbox_send_delay_secs,
    };
    let api_state = ApiState::new(
        api_db,
        ApiSettings {
            api_origin: origins.api.clone(),
            vault_origin: origins.vault.clone(),
            allowed_origins: allowed_origins.clone(),
            widget_dir: config.widget_dir.clone(),
            assets_dir: assets_dir.clone(),
            vault_internal_url: config.resolved_vault_internal_url(),
            vault_api_key: vault_api_key.clone(),
        },
    )
    .with_rate_limit(rate_limit)
    .with_stale_in_flight_secs(config.order_stale_secs)
    .with_admin_key(admin_key.as_ref().map(|k| k.expose().to_owned()));
    let sweep_state = api_state.clone();
    let api = api_app(api_state);
    let vault = vault_app(
        VaultState::new(
            vault_db,
            keys,
            VaultSettings {
                vault_origin: origins.vault.clone(),
                allowed_origins: allowed_origins.clone(),
                assets_dir: assets_dir.clone(),
                api_key: vault_api_key,
            },
        )
        .with_rate_limit(rate_limit),
    );
    let publisher = publisher_app(PublisherState::new(PublisherSettings {
        assets_dir: assets_dir.clone(),
        publisher_origin: origins.publisher.clone(),
        api_origin: origins.api.clone(),
        vault_origin: origins.vault.clone(),
    }));

    // Bind all three before announcing any, so a taken port fails the start cleanly.
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr, source })
    };
    let publisher_listener = bind(config.publisher_addr).await?;
    let api_listener = bind(config.api_addr).await?;
    let vault_listener = bind(config.vault_addr).await?;

    println!("publisher  {}/", origins.publisher);
    println!("api        {}/", origins.api);
    println!("vault      {}/", origins.vault);
    tracing::info!(
        allowed_origins = ?allowed_origins,
        assets_dir = %assets_dir.display(),
        widget_dir = %config.widget_dir.display(),
        data_dir = %data_dir.display(),
        database = ?engine,
        "tweetbuy-server started"
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    let worker = tokio::spawn(receipt_worker.run(stop_rx.clone()));
    // Orders whose charge outcome was never learned are settled from the vault's record.
    tokio::spawn(crate::api::pending_sweep::run(sweep_state, stop_rx.clone()));
    // The vault stops only after the api has drained: an order in flight still has to
    // charge its token there.
    let (vault_stop_tx, vault_stop_rx) = watch::channel(false);
    let api_stop = stop_rx.clone();
    let api_then_vault_stop = async move {
        let result = serve(api_listener, api, api_stop).await;
        let _ = vault_stop_tx.send(true);
        result
    };
    let (a, b, c) = tokio::join!(
        serve(publisher_listener, publisher, stop_rx.clone()),
        api_then_vault_stop,
        serve(vault_listener, vault, vault_stop_rx),
    );
    // Receipts of orders that finished during the drain are sent before exiting.
    let _ = worker.await;
    tracing::info!("stopped");
    a.and(b).and(c).map_err(StartupError::Serve)
}

/// Serves one router until the stop flag flips, letting requests in progress finish.
async fn serve(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) -> std::io::Result<()> {
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
