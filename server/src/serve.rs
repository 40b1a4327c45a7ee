//! Start-up: settings, databases, keys, the listeners of the origins this process serves
//! (all three by default, or some of them: the vault in a process of its own), slow-client
//! limits, and graceful shutdown.

use crate::api::{api_app, order_idempotency, receipts, seed, webhooks, ApiSettings, ApiState};
use crate::config::{Config, Side};
use crate::publisher::{publisher_app, PublisherSettings, PublisherState};
use crate::rate_limit::RateLimit;
use crate::vault::keys::{KeyError, Keyring};
use crate::vault::{vault_internal_app, vault_public_app, VaultSettings, VaultState};
use crate::{clock, db, ids, telemetry, AppError};
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;
use tweetbuy_core::ErrorCode;

/// How long the mail and webhook workers' last round may take once the listeners have
/// drained: a webhook's own timeout and some.
const LAST_ROUND: Duration = Duration::from_secs(15);

/// How long the stop waits, once the api has drained, for orders whose clients hung up
/// before it stops the vault: an order's longest (three asks of the vault, 15 s each) and
/// some.
const ORDERS_AFTER_DRAIN: Duration = Duration::from_secs(50);

/// Why [`run`] could not start or stopped serving; `main` prints it and exits with failure.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is missing, malformed or at odds with another: what to change.
    #[error("configuration: {0}")]
    Config(String),
    /// The data directory could not be created or made private to this user.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The data directory, as configured.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The api's or the vault's database could not be opened, migrated or readied.
    #[error("opening {name} database: {source}")]
    Database {
        /// Whose database: `the api's` or `the vault's`.
        name: &'static str,
        /// The failure, as sqlx reports it.
        source: sqlx::Error,
    },
    /// The vault's master keys could not be read, or a key file made.
    #[error("vault master key: {0}")]
    Key(#[from] KeyError),
    /// The demo catalog could not be written into the empty api database.
    #[error("seeding the demo catalog: {0}")]
    Seed(AppError),
    /// A listener's address could not be bound (taken, or not this machine's).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the settings.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A listener's own address could not be read once it was bound.
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// Runs the configured origins (all three by default) until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), StartupError> {
    telemetry::init(config.log_format);
    let (serves_publisher, serves_api, serves_vault) =
        (config.serves(Side::Publisher), config.serves(Side::Api), config.serves(Side::Vault));
    if !(serves_publisher || serves_api || serves_vault) {
        return Err(StartupError::Config("--origins names nothing to serve".into()));
    }
    let origins = config.origins().map_err(StartupError::Config)?;
    let allowed_origins = config.allowed_origins(&origins).map_err(StartupError::Config)?;
    let assets_dir = config.resolved_assets_dir();

    let data_dir = &config.db.data_dir;
    crate::db::private_dir(data_dir)
        .map_err(|source| StartupError::DataDir { path: data_dir.display().to_string(), source })?;
    // Each side reads only its own secrets: the api's process never sees the master key.
    let key_source = if serves_vault { Some(config.master_key_source().map_err(StartupError::Config)?) } else { None };
    let admin_key = if serves_api { config.resolved_admin_key().map_err(StartupError::Config)? } else { None };
    // Built before anything is opened or bound, so a wrong SMTP setting stops the start.
    let mailer = if serves_api {
        Some(
            receipts::Mailer::new(
                config.smtp_url.as_ref().map(|s| s.expose()),
                config.smtp_ca_file.as_deref(),
                data_dir.join("outbox"),
            )
            .map_err(StartupError::Config)?,
        )
    } else {
        None
    };
    let configured_vault_api_key = config.resolved_vault_api_key().map_err(StartupError::Config)?;
    if serves_api != serves_vault && configured_vault_api_key.is_none() {
        return Err(StartupError::Config(
            "the api and the vault in separate processes need the same TWEETBUY_VAULT_API_KEY (or \
             --vault-api-key-file) on both"
                .into(),
        ));
    }
    if config.demo {
        tracing::warn!(
            "demo mode: without a configured master key the vault keeps a generated one in the data \
             directory, beside the cards it protects; not for real card data"
        );
    }
    // One process running both sides may share a random key in memory.
    let vault_api_key =
        configured_vault_api_key.as_ref().map_or_else(ids::random_secret, |secret| secret.expose().to_owned());
    let (api_location, vault_location) = config.db.locations().map_err(StartupError::Config)?;
    let engine = api_location.engine();
    let tuning = db::Tuning { sqlite_busy_timeout: std::time::Duration::from_millis(config.sqlite_busy_timeout_ms) };
    let rate_limit = RateLimit { per_second: config.rate_limit_per_second, burst: config.rate_limit_burst };

    let vault_state = match &key_source {
        Some(source) => {
            let keys = Keyring::open(source)?;
            let vault_db = db::open_vault_tuned(&vault_location, tuning)
                .await
                .map_err(|source| StartupError::Database { name: "the vault's", source })?;
            Some(
                VaultState::new(
                    vault_db,
                    keys,
                    VaultSettings {
                        vault_origin: origins.vault.clone(),
                        api_origin: origins.api.clone(),
                        allowed_origins: allowed_origins.clone(),
                        assets_dir: assets_dir.clone(),
                        api_key: vault_api_key.clone(),
                    },
                )
                .with_rate_limit(rate_limit),
            )
        }
        None => None,
    };
    let api_db = if serves_api {
        let api_db = db::open_api_tuned(&api_location, tuning)
            .await
            .map_err(|source| StartupError::Database { name: "the api's", source })?;
        if engine == db::Engine::Sqlite {
            // Only this process uses the SQLite files, so orders still in flight were left by a
            // killed predecessor: their retries may resume them at once.
            let released = order_idempotency::release_all_in_flight(&api_db).await.map_err(|e| {
                StartupError::Database { name: "the api's", source: sqlx::Error::Protocol(e.to_string()) }
            })?;
            if released > 0 {
                tracing::warn!(released, "orders left in flight by a previous process may be resumed by their retries");
            }
        }
        if config.seed_demo {
            seed::seed_demo_if_empty(&api_db, clock::now()).await.map_err(StartupError::Seed)?;
        }
        Some(api_db)
    } else {
        None
    };

    // Bind every listener before announcing any, so a taken port fails the start cleanly.
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr, source })
    };
    let publisher_listener = if serves_publisher { Some(bind(config.publisher_addr).await?) } else { None };
    let api_listener = if serves_api { Some(bind(config.api_addr).await?) } else { None };
    let (vault_listener, internal_listener) = if serves_vault {
        (Some(bind(config.vault_addr).await?), Some(bind(config.resolved_vault_internal_addr()).await?))
    } else {
        (None, None)
    };
    let internal_addr = match &internal_listener {
        Some(listener) => Some(listener.local_addr().map_err(StartupError::Serve)?),
        None => None,
    };
    let vault_internal_url = config.resolved_vault_internal_url(internal_addr).map_err(StartupError::Config)?;

    if serves_publisher {
        println!("publisher  {}/", origins.publisher);
    }
    if serves_api {
        println!("api        {}/", origins.api);
    }
    if let Some(addr) = internal_addr {
        println!("vault      {}/ (internal http://{addr}/)", origins.vault);
    }
    tracing::info!(
        origins = ?config.sides,
        allowed_origins = ?allowed_origins,
        assets_dir = %assets_dir.display(),
        widget_dir = %config.widget_dir.display(),
        data_dir = %data_dir.display(),
        database = ?engine,
        vault_internal_url = %vault_internal_url,
        "tweetbuy-server started"
    );

    let limits = config.connection_limits();
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });

    let publisher = async {
        match publisher_listener {
            Some(listener) => {
                let app = publisher_app(PublisherState::new(PublisherSettings {
                    assets_dir: assets_dir.clone(),
                    publisher_origin: origins.publisher.clone(),
                    api_origin: origins.api.clone(),
                    vault_origin: origins.vault.clone(),
                }));
                serve(listener, app, limits, stop_rx.clone()).await
            }
            None => Ok(()),
        }
    };
    // The vault's internal listener (and its sweeper) stop only after the api in this
    // process has drained and its orders are done: an order in flight still has to charge
    // its token there.
    let (vault_stop_tx, vault_stop_rx) = watch::channel(false);
    // The mail and webhook workers stop last, once every listener has drained, and each goes
    // round once more then: what the orders finished during the drain owe goes out now.
    let (outbox_stop_tx, outbox_stop_rx) = watch::channel(false);
    let mut background = Vec::new();
    let api = match (api_listener, api_db, mailer) {
        (Some(listener), Some(api_db), Some(mailer)) => {
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
                    vault_internal_url,
                    vault_api_key: vault_api_key.clone(),
                },
            )
            .with_rate_limit(rate_limit)
            .with_stale_in_flight_secs(config.order_stale_secs)
            .with_admin_key(admin_key.as_ref().map(|k| k.expose().to_owned()));
            let waitlist_worker = crate::api::waitlist::notify::Worker {
                db: api_state.db.clone(),
                mailer: receipt_worker.mailer.clone(),
                from: config.mail_from.clone(),
                api_origin: origins.api.clone(),
            };
            background.push(tokio::spawn(receipt_worker.run(outbox_stop_rx.clone())));
            background.push(tokio::spawn(waitlist_worker.run(outbox_stop_rx.clone())));
            let retry = webhooks::delivery::Retry {
                base: Duration::from_millis(config.webhook_retry_base_ms),
                ..webhooks::delivery::Retry::default()
            };
            let webhook_worker =
                webhooks::delivery::Worker::new(api_state.db.clone(), retry, config.webhook_send_delay_secs)
                    .map_err(StartupError::Config)?;
            background.push(tokio::spawn(webhook_worker.run(outbox_stop_rx.clone())));
            // Orders whose charge outcome was never learned are settled from the vault's record.
            tokio::spawn(crate::api::pending_sweep::run(api_state.clone(), stop_rx.clone()));
            let running_orders = api_state.running_orders.clone();
            let app = api_app(api_state);
            let stop = stop_rx.clone();
            Some(async move {
                let result = serve(listener, app, limits, stop).await;
                // An order whose client hung up runs on after the drain: the vault charges
                // until it is done, for as long as an order takes; one still running then is
                // left to the pending sweep.
                if tokio::time::timeout(ORDERS_AFTER_DRAIN, running_orders.all_done()).await.is_err() {
                    let running = running_orders.running();
                    tracing::warn!(running, "stopping: orders still running are left to the pending sweep");
                }
                let _ = vault_stop_tx.send(true);
                result
            })
        }
        _ => {
            // No api here: the vault stops with the signal.
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                stopped(&mut stop).await;
                let _ = vault_stop_tx.send(true);
            });
            None
        }
    };
    let api = async {
        match api {
            Some(api) => api.await,
            None => Ok(()),
        }
    };
    let vault = async {
        match (vault_listener, internal_listener, vault_state) {
            (Some(public), Some(internal), Some(state)) => {
                let _sweeper = crate::vault::sweeper::spawn_sweeper(&state, vault_stop_rx.clone());
                // The public origin stops accepting at the signal, as the api does; the
                // internal listener charges for the api's orders until they are done.
                let (a, b) = tokio::join!(
                    serve(public, vault_public_app(state.clone()), limits, stop_rx.clone()),
                    serve(internal, vault_internal_app(state), limits, vault_stop_rx.clone()),
                );
                a.and(b)
            }
            _ => Ok(()),
        }
    };
    let (a, b, c) = tokio::join!(publisher, api, vault);
    // Now the last round of the mail and webhook workers, bounded: a mail server or an
    // endpoint that hangs must not keep the process from exiting. What a round cut short
    // leaves goes out from another replica, or at the next start.
    let _ = outbox_stop_tx.send(true);
    let last_round = async {
        for task in background {
            let _ = task.await;
        }
    };
    if tokio::time::timeout(LAST_ROUND, last_round).await.is_err() {
        tracing::warn!("stopping: the last round of receipts, notices and webhooks was cut short");
    }
    tracing::info!("stopped");
    a.and(b).and(c).map_err(StartupError::Serve)
}

/// What each listener allows its clients: how long the request head and the request body
/// may take to arrive, and how many connections may be open at once. Without these a client
/// that sends a byte now and then, or opens connections and sends nothing, holds a task and a
/// socket for as long as it likes, and enough of them starve everyone else.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// From the first byte of a request (or from going idle between requests) to the end of
    /// its headers; an idle keep-alive connection is closed after this long too.
    pub header_read_timeout: Duration,
    /// From the end of the headers to the end of the body, however steadily it trickles in.
    pub body_read_timeout: Duration,
    /// Open connections per listener; further clients wait in the accept queue.
    pub max_connections: usize,
}

/// Serves one router until the stop flag flips, then lets requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = stopped(&mut stop) => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let service = connection_service(app.clone(), remote, limits.body_read_timeout);
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopped(&mut stop) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    // Every connection holds a slot until it ends: all slots back means all requests done.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// The router for one connection: the peer address for the rate limits, and a deadline on
/// each request body.
fn connection_service(
    app: Router,
    remote: SocketAddr,
    body_timeout: Duration,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response, std::convert::Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let expired = Arc::new(AtomicBool::new(false));
        let mut request = request.map(|body| Body::new(DeadlineBody::new(body, body_timeout, expired.clone())));
        request.extensions_mut().insert(ConnectInfo(remote));
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await?;
            if expired.load(Ordering::Relaxed) {
                return Ok(body_timed_out());
            }
            Ok(response)
        }
    })
}

/// 408 with the usual `{code, message}`, closing the connection (the rest of the body may
/// still be on its way).
fn body_timed_out() -> Response {
    let error =
        AppError::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::BadRequest, "The request body did not arrive in time.");
    let mut response = error.into_response();
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline passes, however steadily it trickles in
/// (a timeout between frames would let one byte a second through for ever).
struct DeadlineBody {
    inner: hyper::body::Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl DeadlineBody {
    fn new(inner: hyper::body::Incoming, timeout: Duration, expired: Arc<AtomicBool>) -> DeadlineBody {
        DeadlineBody { inner, deadline: Box::pin(tokio::time::sleep(timeout)), expired }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Resolves once the stop flag is up.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
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
