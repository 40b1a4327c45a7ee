//! Opening the api's and the vault's databases, on SQLite (the embedded default) or on
//! PostgreSQL (`DATABASE_URL=postgres://…`), and the small conversions between wire enums
//! and the text columns that store them.
//!
//! Every query in this crate is written once, against [`sqlx::Any`], in SQL both engines
//! accept: numbered `$1` placeholders, `ON CONFLICT … DO NOTHING`, BIGINT for integers.
//! The migrations differ (`migrations/{api,vault}/{sqlite,postgres}`: `BLOB` vs `BYTEA`), and
//! so do a few writes of the purchase path: on PostgreSQL, where each statement is a round
//! trip to the server, what SQLite runs as a [`Batch`] in a transaction is one statement
//! with data-modifying `WITH` clauses (SQLite has none), written next to the batch it stands
//! for and run by the same tests.
//!
//! On SQLite every write, and every read taken through [`read_conn`], runs on the calling
//! thread ([`direct`]): the writing connection behind each file's [`write_gate`], and the
//! reading connections of [`read_conn`]. sqlx hands each call to a SQLite connection's own
//! thread and back, and under load those hand-offs, not SQLite, were most of the time a
//! writer held the gate. The pool serves the rest (migrations, checkpoints, and reads run on
//! `&db` itself, such as the seller's tools and a refused charge's look-ups), as it does
//! every query on PostgreSQL.
//!
//! On PostgreSQL the api and the vault live in two schemas of one database
//! (`{prefix}_api`, `{prefix}_vault`), selected per connection with `search_path`, so their
//! migration histories stay apart just as two SQLite files do.

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryFutureExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

mod checkpointer;
mod direct;
pub mod group;

/// The pool every query runs on, whichever engine is behind it.
pub type Db = AnyPool;

/// A query with its binds, not yet run (for a [`Batch`]).
pub type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

// A released migration file is never edited, not even its comments: each database records
// the SHA-384 of every migration file it applied, and `Migrator::run` refuses to open one
// whose files no longer match (`VersionMismatch`). Changes go in a new migration.
static API_SQLITE: Migrator = sqlx::migrate!("./migrations/api/sqlite");
static API_POSTGRES: Migrator = sqlx::migrate!("./migrations/api/postgres");
static VAULT_SQLITE: Migrator = sqlx::migrate!("./migrations/vault/sqlite");
static VAULT_POSTGRES: Migrator = sqlx::migrate!("./migrations/vault/postgres");

/// Which engine a pool or a location is: the SQL differs in places (locks, batches, group
/// commit on PostgreSQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// A SQLite file per side, written through one connection at a time.
    Sqlite,
    /// A schema per side in a PostgreSQL database.
    Postgres,
}

/// Where one side's data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file, created when missing.
    Sqlite(PathBuf),
    /// A schema in a PostgreSQL database, created when missing.
    Postgres {
        /// The database's `postgres://…` or `postgresql://…` URL.
        url: String,
        /// The schema that holds this side's tables (`serve` uses `{prefix}_api` and
        /// `{prefix}_vault`, [`check_schema_prefix`]).
        schema: String,
    },
}

/// A bare path is a SQLite file.
impl From<&Path> for Location {
    fn from(path: &Path) -> Location {
        Location::Sqlite(path.to_owned())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Location {
        Location::Sqlite(path.clone())
    }
}

impl From<&Location> for Location {
    fn from(location: &Location) -> Location {
        location.clone()
    }
}

impl Location {
    /// The engine this location is served by.
    pub fn engine(&self) -> Engine {
        match self {
            Location::Sqlite(_) => Engine::Sqlite,
            Location::Postgres { .. } => Engine::Postgres,
        }
    }
}

/// Where the api's and the vault's data live, from the settings: PostgreSQL when a
/// `postgres://` URL is given, else `api.db` and `vault.db` in the data directory.
pub fn locations(
    database_url: Option<&str>,
    schema_prefix: &str,
    data_dir: &Path,
) -> Result<(Location, Location), String> {
    match database_url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok((Location::Sqlite(data_dir.join("api.db")), Location::Sqlite(data_dir.join("vault.db")))),
        Some(url) if is_postgres_url(url) => {
            check_schema_prefix(schema_prefix)?;
            Ok((
                Location::Postgres { url: url.to_owned(), schema: format!("{schema_prefix}_api") },
                Location::Postgres { url: url.to_owned(), schema: format!("{schema_prefix}_vault") },
            ))
        }
        Some(_) => Err("DATABASE_URL must start with postgres:// or postgresql:// (SQLite needs no URL)".into()),
    }
}

/// Whether the server has made the database at `location`: its SQLite file, or its schema's
/// migration table on PostgreSQL. The seller's and operator's tools open only such a
/// database: opening makes what is missing, and a mistyped data directory or schema prefix
/// would otherwise become a new, empty shop that no server reads.
pub async fn is_made(location: &Location) -> Result<bool, sqlx::Error> {
    match location {
        Location::Sqlite(path) => Ok(path.is_file()),
        Location::Postgres { url, schema } => {
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(url).await?;
            let found: Option<(i32,)> = sqlx::query_as(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = '_sqlx_migrations'",
            )
            .bind(schema.as_str())
            .fetch_optional(&mut conn)
            .await?;
            conn.close().await?;
            Ok(found.is_some())
        }
    }
}

/// [`is_made`] as a tool's answer: why it will not go on, naming where it looked.
pub async fn require_made(location: &Location) -> Result<(), String> {
    let where_ = match location {
        Location::Sqlite(path) => format!("{} does not exist", path.display()),
        Location::Postgres { schema, .. } => format!("the database has no schema {schema} made by the server"),
    };
    match is_made(location).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "{where_}: no shop here. The server makes its database on its first start \
             (`tweetbuy-server serve`); give this tool the same --data-dir (TWEETBUY_DATA_DIR), or the same \
             DATABASE_URL and TWEETBUY_DB_SCHEMA_PREFIX"
        )),
        Err(e) => Err(format!("reading the database: {e}")),
    }
}

pub(crate) fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Schema names are put into SQL text (`SET search_path`), so only `[a-z0-9_]` is allowed.
pub fn check_schema_prefix(prefix: &str) -> Result<(), String> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 40
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("schema prefix {prefix:?}: use 1 to 40 of a-z, 0-9 and _, starting with a letter"))
    }
}

/// How connections wait and recover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// How long SQLite waits for another writer's lock before answering SQLITE_BUSY (which
    /// [`retry_busy`] then retries).
    pub sqlite_busy_timeout: Duration,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning { sqlite_busy_timeout: Duration::from_millis(5000) }
    }
}

/// Opens the api's database and brings its schema up to date.
pub async fn open_api(location: impl Into<Location>) -> Result<Db, sqlx::Error> {
    open_api_tuned(location, Tuning::default()).await
}

/// [`open_api`] with other [`Tuning`].
pub async fn open_api_tuned(location: impl Into<Location>, tuning: Tuning) -> Result<Db, sqlx::Error> {
    let location = &location.into();
    let migrator = match location.engine() {
        Engine::Sqlite => &API_SQLITE,
        Engine::Postgres => &API_POSTGRES,
    };
    open(location, migrator, tuning, Erasure::Plain).await
}

/// Opens the vault's database and brings its schema up to date.
pub async fn open_vault(location: impl Into<Location>) -> Result<Db, sqlx::Error> {
    open_vault_tuned(location, Tuning::default()).await
}

/// [`open_vault`] with other [`Tuning`].
pub async fn open_vault_tuned(location: impl Into<Location>, tuning: Tuning) -> Result<Db, sqlx::Error> {
    let location = &location.into();
    let migrator = match location.engine() {
        Engine::Sqlite => &VAULT_SQLITE,
        Engine::Postgres => &VAULT_POSTGRES,
    };
    open(location, migrator, tuning, Erasure::Secure).await
}

/// Whether SQLite refused because another connection holds a lock (SQLITE_BUSY, 5, or
/// SQLITE_LOCKED, 6, with any extended code such as 517 BUSY_SNAPSHOT or 261
/// BUSY_RECOVERY): worth trying again once the other writer is done.
pub fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            let code = e.code().and_then(|c| c.parse::<i64>().ok());
            let primary = code.map(|c| c & 0xff);
            matches!(primary, Some(5 | 6)) || e.message().contains("database is locked")
        }
        _ => false,
    }
}

/// Whether the database is out of reach for a while rather than refusing this request:
/// SQLite busy, no connection to be had (PostgreSQL restarting, network), or PostgreSQL
/// shutting down or starting (SQLSTATE classes 08 and 57P). Answered 503, to be retried.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            is_busy(error) || code.starts_with("08") || code.starts_with("57P")
        }
        _ => false,
    }
}

/// The longest [`retry_busy`] keeps trying, on top of each attempt's own busy timeout.
const BUSY_RETRY_BUDGET: Duration = Duration::from_secs(30);

/// Runs `attempt` (a whole write transaction) again while SQLite answers busy or locked,
/// with exponential backoff from 25 ms to 1 s and at most [`BUSY_RETRY_BUDGET`] in all.
/// Each attempt must be a fresh transaction: a busy one has been rolled back.
pub async fn retry_busy<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: MaybeBusy,
{
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(25);
    let mut tries = 1u32;
    loop {
        match attempt().await {
            Err(error) if error.is_busy() && started.elapsed() + pause < BUSY_RETRY_BUDGET => {
                tracing::warn!(tries, pause_ms = pause.as_millis() as u64, "database busy; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                tries += 1;
            }
            other => return other,
        }
    }
}

/// One SQLite file takes one writer at a time. Left to SQLite, concurrent writers of this
/// process meet its busy handler, which polls the lock with sleeps of 1 ms growing to 100 ms:
/// under load an order's write waits far longer than the writer ahead of it takes. So this
/// process's writers of a SQLite file queue for its gate first (a fair async mutex, one per
/// file), and are handed the lock the moment the writer ahead is done; readers never wait for
/// it (WAL). Writers of other processes still meet the busy timeout and [`retry_busy`].
/// PostgreSQL locks rows, not the database: there is no gate.
///
/// Take the gate before a pooled connection, never while holding one: a writer holding the
/// gate may need a connection of its own. [`write_conn`] and [`begin_write`] take the gate
/// together with the connection to write on.
pub async fn write_gate(db: &Db) -> Option<tokio::sync::OwnedMutexGuard<Writers>> {
    let gate = gate_of(db)?;
    Some(gate.lock_owned().await)
}

/// What a SQLite file's [`write_gate`] guards: for each pool of this process on the file, the
/// connection it writes with, which runs its statements on the calling thread
/// ([`direct`]): the gate is held only as long as SQLite works.
#[derive(Default)]
pub struct Writers {
    /// Each pool's writing connection.
    connections: Vec<Writer>,
}

impl std::fmt::Debug for Writers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.connections.iter().map(|w| &w.connection)).finish()
    }
}

struct Writer {
    /// The pool's options, which tell the pools apart (see [`PoolKey`]).
    options: PoolKey,
    connection: direct::Direct,
}

impl Writers {
    /// The index of `db`'s writing connection, taken out of `db` the first time.
    async fn index_for(&mut self, db: &Db) -> Result<usize, sqlx::Error> {
        let options = db.connect_options();
        if let Some(index) = self.connections.iter().position(|w| w.options.is(&options)) {
            return Ok(index);
        }
        // A new pool: the time to close the writing connections of pools that are gone.
        self.close_dropped();
        close_dropped_writers();
        let connection = open_direct(db).await?;
        self.connections.push(Writer { options: PoolKey::of(&options), connection });
        Ok(self.connections.len() - 1)
    }

    /// Closes the connections of pools that were dropped.
    fn close_dropped(&mut self) {
        self.connections.retain(|w| w.options.is_live());
    }
}

/// A connection to a SQLite pool's file that runs on the calling thread ([`direct`]), with the
/// settings of the pool's own connections (the busy timeout and the pragmas SQLite keeps per
/// connection), read from one of them.
async fn open_direct(db: &Db) -> Result<direct::Direct, sqlx::Error> {
    let options = sqlx::sqlite::SqliteConnectOptions::try_from(&*db.connect_options())?;
    let mut conn = db.acquire().await?;
    let mut settings = String::new();
    let mut busy_ms = 0;
    for name in direct::SETTINGS {
        let sql = format!("PRAGMA {name}");
        let (value,): (i64,) = sqlx::query_as(&sql).fetch_one(&mut *conn).await?;
        if name == "busy_timeout" {
            busy_ms = value.max(0) as u64;
        }
        settings.push_str(&format!("PRAGMA {name} = {value};"));
    }
    direct::Direct::open(options.get_filename(), &settings, Duration::from_millis(busy_ms))
}

type Gate = std::sync::Arc<tokio::sync::Mutex<Writers>>;

/// Every SQLite file's gate in this process, by the file's URL.
fn gates() -> std::sync::MutexGuard<'static, std::collections::HashMap<String, Gate>> {
    static GATES: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, Gate>>> =
        std::sync::OnceLock::new();
    GATES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

fn gate_of(db: &Db) -> Option<Gate> {
    let url = &db.connect_options().database_url;
    if !url.scheme().starts_with("sqlite") {
        return None;
    }
    Some(gates().entry(url.as_str().to_owned()).or_default().clone())
}

/// [`Writers::close_dropped`] for every file whose gate is free now (a test process opens
/// and drops many pools, each on a file of its own).
fn close_dropped_writers() {
    for gate in gates().values() {
        if let Ok(mut writers) = gate.try_lock() {
            writers.close_dropped();
        }
    }
}

/// A connection to write on: on SQLite the pool's own writing connection, held with the
/// file's [`write_gate`] until dropped; on PostgreSQL a pooled connection. Queries run on it
/// as on any sqlx connection (`query.execute(&mut conn)`).
pub struct WriteConn(WriteConnKind);

enum WriteConnKind {
    /// The file's gate, held, and the index of this pool's connection behind it.
    Gated(tokio::sync::OwnedMutexGuard<Writers>, usize),
    /// PostgreSQL, which needs no gate: a connection kept apart from the pool when one is
    /// free, else a pooled one.
    Kept(KeptConn),
    Pooled(sqlx::pool::PoolConnection<sqlx::Any>),
}

/// The connection to write on, behind the database's [`write_gate`].
pub async fn write_conn(db: &Db) -> Result<WriteConn, sqlx::Error> {
    let Some(gate) = gate_of(db) else {
        return Ok(WriteConn(match kept_conn(db).await? {
            Some(kept) => WriteConnKind::Kept(kept),
            None => WriteConnKind::Pooled(db.acquire().await?),
        }));
    };
    let mut writers = gate.lock_owned().await;
    let index = writers.index_for(db).await?;
    Ok(WriteConn(WriteConnKind::Gated(writers, index)))
}

/// Where a [`WriteConn`]'s statements run.
enum Target<'c> {
    Direct(&'c mut direct::Direct),
    Sqlx(&'c mut sqlx::AnyConnection),
}

impl WriteConn {
    fn target(&mut self) -> Target<'_> {
        match &mut self.0 {
            WriteConnKind::Gated(writers, index) => Target::Direct(&mut writers.connections[*index].connection),
            WriteConnKind::Kept(connection) => Target::Sqlx(connection),
            WriteConnKind::Pooled(connection) => Target::Sqlx(connection),
        }
    }
}

impl std::fmt::Debug for WriteConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match &self.0 {
            WriteConnKind::Gated(..) => "WriteConn(SQLite)",
            _ => "WriteConn(PostgreSQL)",
        })
    }
}

/// A statement's steps from a SQLite connection here (the writer or a reader), run on the
/// calling thread.
fn run_direct<'e, 'q: 'e, E>(
    direct: &'e mut direct::Direct,
    mut query: E,
) -> BoxFuture<'e, Result<Vec<direct::Step>, sqlx::Error>>
where
    E: 'q + sqlx::Execute<'q, sqlx::Any>,
{
    Box::pin(async move {
        let sql = query.sql();
        let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?.unwrap_or_default();
        direct.run(sql, &arguments).await
    })
}

impl<'c> Target<'c> {
    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<direct::Step, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        match self {
            Target::Direct(direct) => run_direct(direct, query)
                .map_ok(|steps| futures_util::stream::iter(steps.into_iter().map(Ok)))
                .try_flatten_stream()
                .boxed(),
            Target::Sqlx(connection) => connection.fetch_many(query),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<sqlx::any::AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        match self {
            Target::Direct(direct) => {
                Box::pin(run_direct(direct, query).map_ok(|steps| steps.into_iter().find_map(sqlx::Either::right)))
            }
            Target::Sqlx(connection) => connection.fetch_optional(query),
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [sqlx::any::AnyTypeInfo],
    ) -> BoxFuture<'e, Result<sqlx::any::AnyStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Target::Direct(_) => Box::pin(futures_util::future::ready(Err(not_ahead()))),
            Target::Sqlx(connection) => connection.prepare_with(sql, parameters),
        }
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<sqlx::Describe<sqlx::Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Target::Direct(_) => Box::pin(futures_util::future::ready(Err(not_ahead()))),
            Target::Sqlx(connection) => connection.describe(sql),
        }
    }
}

/// Makes `&mut $ty` a sqlx executor, running each statement on its `target()`.
macro_rules! executor_through_target {
    ($ty:ty) => {
        impl<'c> sqlx::Executor<'c> for &'c mut $ty {
            type Database = sqlx::Any;

            fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<direct::Step, sqlx::Error>>
            where
                'c: 'e,
                E: 'q + sqlx::Execute<'q, sqlx::Any>,
            {
                self.target().fetch_many(query)
            }

            fn fetch_optional<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> BoxFuture<'e, Result<Option<sqlx::any::AnyRow>, sqlx::Error>>
            where
                'c: 'e,
                E: 'q + sqlx::Execute<'q, sqlx::Any>,
            {
                self.target().fetch_optional(query)
            }

            fn prepare_with<'e, 'q: 'e>(
                self,
                sql: &'q str,
                parameters: &'e [sqlx::any::AnyTypeInfo],
            ) -> BoxFuture<'e, Result<sqlx::any::AnyStatement<'q>, sqlx::Error>>
            where
                'c: 'e,
            {
                self.target().prepare_with(sql, parameters)
            }

            fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<sqlx::Describe<sqlx::Any>, sqlx::Error>>
            where
                'c: 'e,
            {
                self.target().describe(sql)
            }
        }
    };
}

executor_through_target!(WriteConn);
executor_through_target!(WriteTx);
executor_through_target!(ReadConn);

/// SQLite's connections here prepare each statement as they run it, caching it there.
fn not_ahead() -> sqlx::Error {
    sqlx::Error::Protocol("SQLite's connections here do not prepare or describe statements ahead".into())
}

/// How many of a SQLite pool's reading connections are kept idle for the next reader
/// ([`read_conn`]).
const KEPT_READERS: usize = 8;

/// How many of a PostgreSQL pool's connections are kept apart from it ([`KeptConn`]), for
/// reads ([`read_conn`]) and writes ([`write_conn`]). The pool itself opens at most
/// [`MAX_CONNECTIONS`] minus these, so a process holds no more connections than before. More
/// users at once than this borrow pooled connections.
const KEPT_POSTGRES: usize = 10;

/// A connection kept apart from its pool, idle.
struct Idle {
    connection: sqlx::AnyConnection,
    /// When it was last given back.
    since: std::time::Instant,
    /// [`TROUBLE`] when it was last known good (see [`KeptConn`]).
    trouble_seen: u64,
}

/// Each pool's kept connections (see [`KeptConn`]): the idle ones, and how many there are in
/// all (idle or lent).
type Kept = std::sync::Mutex<Vec<(PoolKey, Vec<Idle>, usize)>>;

fn kept() -> &'static Kept {
    static KEPT: std::sync::OnceLock<Kept> = std::sync::OnceLock::new();
    KEPT.get_or_init(Default::default)
}

/// Counts the database errors that may mean a broken connection (I/O, protocol, the server
/// shutting down): a kept PostgreSQL connection last known good before the latest of them is
/// pinged before it is used again.
static TROUBLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Notes an error a query met, for [`TROUBLE`]. Every [`sqlx::Error`] that becomes an
/// [`crate::AppError`] passes here.
pub fn note_error(error: &sqlx::Error) {
    let suspect = match error {
        sqlx::Error::Database(_) => is_transient(error),
        sqlx::Error::RowNotFound
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::Encode(_) => false,
        _ => true,
    };
    if suspect {
        TROUBLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A PostgreSQL connection taken out of its pool and kept apart from it, given back without
/// the pool's ping: sqlx pings every connection that comes back to a pool (a round trip to
/// the server, and a task each time), several times per purchase.
///
/// What the ping did is done otherwise: a transaction a dropped query or
/// [`WriteTx`] left behind is rolled back by sqlx before the connection's next statement (it
/// waits for the server to be ready first), and a connection is pinged before it is lent
/// again when it sat idle for [`PING_IDLE_AFTER`] (the server may have restarted meanwhile)
/// or when any query met an error that may mean a broken connection since it was last known
/// good ([`note_error`]), so connections broken by a restart under load are found and
/// dropped then. A ping that fails drops the connection.
pub struct KeptConn {
    pool: PoolKey,
    connection: Option<sqlx::AnyConnection>,
    trouble_seen: u64,
}

/// A kept connection of `db` (PostgreSQL), or `None` when all it may keep are lent.
async fn kept_conn(db: &Db) -> Result<Option<KeptConn>, sqlx::Error> {
    let options = db.connect_options();
    let pool = PoolKey::of(&options);
    loop {
        let (idle, keep_one_more) = {
            let mut kept = kept().lock().unwrap_or_else(|e| e.into_inner());
            // The connections of pools that were dropped are closed.
            kept.retain(|(key, _, _)| key.is_live());
            let index = match kept.iter().position(|(key, _, _)| key.same(&pool)) {
                Some(index) => index,
                None => {
                    kept.push((pool.clone(), Vec::new(), 0));
                    kept.len() - 1
                }
            };
            let (_, idle, count) = &mut kept[index];
            match idle.pop() {
                Some(connection) => (Some(connection), false),
                None if *count < KEPT_POSTGRES => {
                    *count += 1;
                    (None, true)
                }
                None => (None, false),
            }
        };
        match (idle, keep_one_more) {
            (Some(mut idle), _) => {
                let trouble = TROUBLE.load(std::sync::atomic::Ordering::Relaxed);
                let check = idle.since.elapsed() >= PING_IDLE_AFTER || idle.trouble_seen != trouble;
                if check {
                    // Bounded like a pooled connection's check (the pool's acquire timeout).
                    let ping = tokio::time::timeout(PING_TIMEOUT, idle.connection.ping()).await;
                    if !matches!(ping, Ok(Ok(()))) {
                        // Dropped (closed); another is taken in its place.
                        forget_kept(&pool);
                        continue;
                    }
                    idle.trouble_seen = trouble;
                }
                return Ok(Some(KeptConn { pool, connection: Some(idle.connection), trouble_seen: idle.trouble_seen }));
            }
            // Taken out of the pool, so it has the pool's settings; the pool opens another in
            // its place when it needs one.
            (None, true) => {
                let trouble = TROUBLE.load(std::sync::atomic::Ordering::Relaxed);
                return match db.acquire().await {
                    Ok(connection) => {
                        Ok(Some(KeptConn { pool, connection: Some(connection.detach()), trouble_seen: trouble }))
                    }
                    Err(error) => {
                        forget_kept(&pool);
                        Err(error)
                    }
                };
            }
            (None, false) => return Ok(None),
        }
    }
}

/// One of `pool`'s kept connections is gone.
fn forget_kept(pool: &PoolKey) {
    let mut kept = kept().lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, count)) = kept.iter_mut().find(|(key, _, _)| key.same(pool)) {
        *count -= 1;
    }
}

impl Drop for KeptConn {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        let (pool, trouble_seen) = (self.pool.clone(), self.trouble_seen);
        if !sqlx::Connection::should_flush(&connection) {
            keep_idle(&pool, connection, trouble_seen);
            return;
        }
        // Something is queued that must reach the server now: the rollback of a transaction
        // dropped unfinished, whose locks others wait for. Sent by a task (a drop cannot
        // wait), which keeps the connection once the server has answered, as the pool's
        // ping would.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    match sqlx::Connection::flush(&mut connection).await {
                        Ok(()) => keep_idle(&pool, connection, trouble_seen),
                        Err(_) => forget_kept(&pool),
                    }
                });
            }
            Err(_) => forget_kept(&pool),
        }
    }
}

/// Gives a kept connection back, idle. When its pool was dropped it is closed instead.
fn keep_idle(pool: &PoolKey, connection: sqlx::AnyConnection, trouble_seen: u64) {
    let mut kept = kept().lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, idle, _)) = kept.iter_mut().find(|(key, _, _)| key.same(pool)) {
        idle.push(Idle { connection, since: std::time::Instant::now(), trouble_seen });
    }
}

impl std::ops::Deref for KeptConn {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &sqlx::AnyConnection {
        self.connection.as_ref().expect("a kept connection until dropped")
    }
}

impl std::ops::DerefMut for KeptConn {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        self.connection.as_mut().expect("a kept connection until dropped")
    }
}

/// A connection to read on. On SQLite one of the pool's reading connections, which run
/// their statements on the calling thread like the writer ([`direct`]); on PostgreSQL a
/// [`KeptConn`] when one is free, else a pooled connection. A connection here only ever runs
/// reads to their end or drops them, so it holds no transaction to flush. Queries run on it
/// as on any sqlx connection (`query.fetch_one(&mut reader)`).
pub struct ReadConn(ReadConnKind);

enum ReadConnKind {
    /// Given back to its pool's idle ones when dropped.
    Direct(PoolKey, Option<direct::Direct>),
    Kept(KeptConn),
    Pooled(sqlx::pool::PoolConnection<sqlx::Any>),
}

/// Each SQLite pool's idle reading connections (see [`ReadConn`]), at most [`KEPT_READERS`]
/// each: more readers at once open more, closed when given back.
type DirectReaders = std::sync::Mutex<Vec<(PoolKey, Vec<direct::Direct>)>>;

fn direct_readers() -> &'static DirectReaders {
    static READERS: std::sync::OnceLock<DirectReaders> = std::sync::OnceLock::new();
    READERS.get_or_init(Default::default)
}

/// A connection to read on (see [`ReadConn`]).
pub async fn read_conn(db: &Db) -> Result<ReadConn, sqlx::Error> {
    if engine_of(db) == Engine::Sqlite {
        let pool = PoolKey::of(&db.connect_options());
        let idle = {
            let mut readers = direct_readers().lock().unwrap_or_else(|e| e.into_inner());
            // The connections of pools that were dropped are closed.
            readers.retain(|(key, _)| key.is_live());
            readers.iter_mut().find(|(key, _)| key.same(&pool)).and_then(|(_, idle)| idle.pop())
        };
        let reader = match idle {
            Some(reader) => reader,
            None => {
                let mut reader = open_direct(db).await?;
                // A write here would pass the file's gate: SQLite refuses it instead.
                reader.run_now("PRAGMA query_only = ON")?;
                reader
            }
        };
        return Ok(ReadConn(ReadConnKind::Direct(pool, Some(reader))));
    }
    Ok(ReadConn(match kept_conn(db).await? {
        Some(kept) => ReadConnKind::Kept(kept),
        None => ReadConnKind::Pooled(db.acquire().await?),
    }))
}

impl ReadConn {
    fn target(&mut self) -> Target<'_> {
        match &mut self.0 {
            ReadConnKind::Direct(_, reader) => Target::Direct(reader.as_mut().expect("a reader until dropped")),
            ReadConnKind::Kept(connection) => Target::Sqlx(connection),
            ReadConnKind::Pooled(connection) => Target::Sqlx(connection),
        }
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        let ReadConnKind::Direct(pool, reader) = &mut self.0 else { return };
        let Some(reader) = reader.take() else { return };
        let mut readers = direct_readers().lock().unwrap_or_else(|e| e.into_inner());
        match readers.iter_mut().find(|(key, _)| key.same(pool)) {
            Some((_, idle)) if idle.len() < KEPT_READERS => idle.push(reader),
            Some(_) => {}
            None if pool.is_live() => readers.push((pool.clone(), vec![reader])),
            None => {}
        }
    }
}

impl std::fmt::Debug for ReadConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match &self.0 {
            ReadConnKind::Direct(..) => "ReadConn(SQLite)",
            _ => "ReadConn(PostgreSQL)",
        })
    }
}

/// Tells a pool apart from the others by its options (one `Arc` per pool), without keeping
/// it alive: a dropped pool's connections kept outside it are closed.
#[derive(Clone)]
struct PoolKey(std::sync::Weak<AnyConnectOptions>);

impl PoolKey {
    fn of(options: &std::sync::Arc<AnyConnectOptions>) -> PoolKey {
        PoolKey(std::sync::Arc::downgrade(options))
    }

    /// Whether these are the pool's options. (The allocation is not reused while a `Weak`
    /// to it is held, so a new pool cannot pass for a dropped one.)
    fn is(&self, options: &std::sync::Arc<AnyConnectOptions>) -> bool {
        std::ptr::eq(self.0.as_ptr(), std::sync::Arc::as_ptr(options))
    }

    fn same(&self, other: &PoolKey) -> bool {
        self.0.ptr_eq(&other.0)
    }

    /// Whether the pool (or a request holding its options) is still there.
    fn is_live(&self) -> bool {
        self.0.strong_count() > 0
    }
}

/// sqlx's own transaction control, as [`sqlx::Transaction`] uses it (that type cannot borrow
/// a connection held in a guard it owns as well). PostgreSQL's only: SQLite's writing
/// connection begins and ends its transactions in SQL.
type Transactions = <sqlx::Any as sqlx::Database>::TransactionManager;

/// A write transaction on a [`WriteConn`], so the gate is never held past the commit (or the
/// rollback: a transaction dropped unfinished is rolled back, as [`sqlx::Transaction`] is).
/// Queries run in it as on any sqlx connection (`query.execute(&mut tx)`).
pub struct WriteTx {
    /// Always there until dropped.
    conn: Option<WriteConn>,
    open: bool,
}

/// Begins a write transaction behind the database's [`write_gate`]. On SQLite it begins
/// `IMMEDIATE`: the file's write lock is taken at once, so no statement of the transaction
/// can find the database busy halfway through.
pub async fn begin_write(db: &Db) -> Result<WriteTx, sqlx::Error> {
    let mut conn = write_conn(db).await?;
    match conn.target() {
        Target::Direct(_) => {
            (&mut conn).execute("BEGIN IMMEDIATE").await?;
        }
        Target::Sqlx(connection) => <Transactions as sqlx::TransactionManager>::begin(connection, None).await?,
    }
    Ok(WriteTx { conn: Some(conn), open: true })
}

/// [`begin_write`], running `batch` as the transaction's first statements.
pub async fn begin_write_with(db: &Db, batch: Batch<'_>) -> Result<(WriteTx, BatchResult), sqlx::Error> {
    let mut tx = begin_write(db).await?;
    let ran = batch.run(&mut tx).await?;
    Ok((tx, ran))
}

impl WriteTx {
    fn conn(&mut self) -> &mut WriteConn {
        self.conn.as_mut().expect("a transaction's connection until it is dropped")
    }

    fn target(&mut self) -> Target<'_> {
        self.conn().target()
    }

    /// Commits; the write gate goes to the next writer as `self` drops.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        match self.conn().target() {
            Target::Direct(_) => {
                self.conn().execute("COMMIT").await?;
            }
            Target::Sqlx(connection) => <Transactions as sqlx::TransactionManager>::commit(connection).await?,
        }
        self.open = false;
        Ok(())
    }

    /// Runs `batch`, then commits. For statements whose outcome decides nothing: the
    /// transaction commits whatever they changed, unmet expectations included.
    pub async fn commit_with(mut self, batch: Batch<'_>) -> Result<BatchResult, sqlx::Error> {
        let ran = batch.run(&mut self).await?;
        self.commit().await?;
        Ok(ran)
    }

    /// Rolls back now, returning a failure that a drop would only log.
    pub(crate) async fn rollback(mut self) -> Result<(), sqlx::Error> {
        match self.conn().target() {
            Target::Direct(_) => {
                self.conn().execute("ROLLBACK").await?;
            }
            Target::Sqlx(connection) => <Transactions as sqlx::TransactionManager>::rollback(connection).await?,
        }
        self.open = false;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take().filter(|_| self.open) else { return };
        match conn.target() {
            // On the spot, before the gate goes to the next writer. Should it fail, SQLite
            // has rolled back already (the only failures left are a lost transaction's).
            Target::Direct(direct) => {
                if let Err(error) = direct.run_now("ROLLBACK") {
                    tracing::warn!(%error, "rolling back a dropped SQLite transaction failed");
                }
            }
            // Queued on the connection ahead of anything the next writer sends.
            Target::Sqlx(connection) => <Transactions as sqlx::TransactionManager>::start_rollback(connection),
        }
    }
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx").field("conn", &self.conn).field("open", &self.open).finish()
    }
}

/// Statements of one transaction, run in order, stopping at the first that was expected to
/// change exactly one row and did not (locks are taken only while every condition before
/// holds). The caller then rolls back.
#[derive(Default)]
pub struct Batch<'q> {
    statements: Vec<BatchStatement<'q>>,
}

struct BatchStatement<'q> {
    query: AnyQuery<'q>,
    expect_one: bool,
}

/// What each statement of a [`Batch`] did.
pub struct BatchResult {
    /// The statements that ran, in order: rows changed and rows returned. Those after an
    /// unmet expectation did not run.
    pub statements: Vec<StatementResult>,
    /// The first statement that was expected to change exactly one row and did not: the
    /// caller rolls back.
    pub unmet: Option<usize>,
}

/// What one statement of a [`Batch`] did.
pub struct StatementResult {
    /// Rows it inserted, updated or deleted.
    pub rows_affected: u64,
    /// Rows it returned (`RETURNING`, or a `SELECT`).
    pub rows: Vec<sqlx::any::AnyRow>,
}

impl<'q> Batch<'q> {
    pub(crate) fn new() -> Batch<'q> {
        Batch::default()
    }

    /// Adds a statement; returns its index in the results.
    pub fn push(&mut self, query: AnyQuery<'q>) -> usize {
        self.statements.push(BatchStatement { query, expect_one: false });
        self.statements.len() - 1
    }

    /// Adds a statement that must change exactly one row (see [`BatchResult::unmet`]).
    pub fn push_expecting_one(&mut self, query: AnyQuery<'q>) -> usize {
        self.statements.push(BatchStatement { query, expect_one: true });
        self.statements.len() - 1
    }

    /// Runs the statements in `tx`.
    pub async fn run(self, tx: &mut WriteTx) -> Result<BatchResult, sqlx::Error> {
        let mut statements = Vec::with_capacity(self.statements.len());
        let mut unmet = None;
        for (index, statement) in self.statements.into_iter().enumerate() {
            let mut steps = (&mut *tx).fetch_many(statement.query);
            let mut rows = Vec::new();
            let mut rows_affected = 0;
            while let Some(step) = steps.try_next().await? {
                match step {
                    sqlx::Either::Left(done) => rows_affected += done.rows_affected(),
                    sqlx::Either::Right(row) => rows.push(row),
                }
            }
            drop(steps);
            statements.push(StatementResult { rows_affected, rows });
            if statement.expect_one && rows_affected != 1 {
                unmet = Some(index);
                break;
            }
        }
        Ok(BatchResult { statements, unmet })
    }
}

/// Errors that may be SQLite's busy or locked answer.
pub trait MaybeBusy {
    /// Whether this is SQLite's busy or locked answer, which [`retry_busy`] tries again.
    fn is_busy(&self) -> bool;
}

impl MaybeBusy for sqlx::Error {
    fn is_busy(&self) -> bool {
        is_busy(self)
    }
}

impl MaybeBusy for crate::AppError {
    fn is_busy(&self) -> bool {
        crate::AppError::is_busy(self)
    }
}

/// The pool size: enough for concurrent orders; SQLite has one writer whatever the size.
const MAX_CONNECTIONS: u32 = 16;

/// A PostgreSQL connection idle in the pool for this long is pinged before it is handed out.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// How long a PostgreSQL connection's ping may take before the connection is given up; also
/// how long a request waits for a pooled connection.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether deleted content must be overwritten in the SQLite file (the vault's).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Erasure {
    Plain,
    /// `PRAGMA secure_delete`: SQLite zeroes the bytes of deleted rows and of the old value of
    /// an updated column instead of leaving them in the page's free space.
    Secure,
}

async fn open(location: &Location, migrator: &Migrator, tuning: Tuning, erasure: Erasure) -> Result<Db, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let pool = match location {
        Location::Sqlite(path) => {
            create_private_file(path).map_err(sqlx::Error::Io)?;
            let options = AnyConnectOptions::from_str(&format!("sqlite://{}?mode=rwc", path.display()))?;
            AnyPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                // A SQLite connection is a file handle in this process: nothing at the other
                // end can drop it, so it is not pinged before each use (each ping is a round
                // trip to the connection's thread, and a purchase acquires a dozen times).
                .test_before_acquire(false)
                .after_connect(move |conn, _| {
                    let busy_ms = tuning.sqlite_busy_timeout.as_millis();
                    let secure_delete = if erasure == Erasure::Secure { "ON" } else { "OFF" };
                    Box::pin(async move {
                        // WAL so readers do not block the one writer; a busy timeout so
                        // concurrent writers wait instead of failing (and `retry_busy` for
                        // a lock held longer than that); checkpoints left to the pool's own
                        // task ([`checkpointer`]).
                        let autocheckpoint = checkpointer::WRITER_AUTOCHECKPOINT;
                        let pragmas = format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = {busy_ms}; PRAGMA foreign_keys = ON; \
                             PRAGMA secure_delete = {secure_delete}; \
                             PRAGMA wal_autocheckpoint = {autocheckpoint};"
                        );
                        conn.execute(pragmas.as_str()).await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?
        }
        Location::Postgres { url, schema } => {
            check_schema_prefix(schema).map_err(|e| sqlx::Error::Configuration(e.into()))?;
            create_schema(url, schema).await?;
            let set_path = format!("SET search_path TO {schema}");
            // After PostgreSQL restarts, every pooled connection is dead: one that sat idle for
            // [`PING_IDLE_AFTER`] is checked before use and replaced, and while the server is
            // down a request waits at most the acquire timeout before its 503 (see
            // `is_transient`). One in steady use is not pinged first (a round trip each time,
            // a dozen per purchase): sqlx pings every connection as it comes back to the pool,
            // so a connection that broke is dropped there, after at most one failed query.
            // The purchase path's statements run on connections kept apart from the pool
            // instead ([`KeptConn`], which checks them otherwise), up to [`KEPT_POSTGRES`]
            // of the process's [`MAX_CONNECTIONS`].
            AnyPoolOptions::new()
                .max_connections(MAX_CONNECTIONS - KEPT_POSTGRES as u32)
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_IDLE_AFTER {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .acquire_timeout(PING_TIMEOUT)
                .after_connect(move |conn, _| {
                    let set_path = set_path.clone();
                    Box::pin(async move {
                        conn.execute(set_path.as_str()).await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?
        }
    };
    migrator.run(&pool).await?;
    checkpointer::spawn(&pool).await;
    Ok(pool)
}

/// Creates `dir` (and its parents) and makes it readable by this user only: it holds the
/// databases (orders with emails and addresses, the vault's sealed cards) and the outbox.
/// An existing directory is narrowed too.
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates a SQLite file readable by its owner only (0600), or narrows an existing one to
/// that. SQLite gives the `-wal` and `-shm` files it makes the main file's permissions.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // Opened only when missing: closing any descriptor of a SQLite file drops the POSIX
        // locks this process's connections hold on it, so an existing file is never opened
        // here (its mode is changed by path below).
        if !path.exists() {
            std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            // Files left by an older version may be wider; narrowing them is best effort
            // (they may belong to another user), the new file above is not.
            if file.exists() {
                if let Err(error) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                    tracing::warn!(file = %file.display(), %error, "could not make the database file 0600");
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The engine behind a pool.
pub fn engine_of(db: &Db) -> Engine {
    if db.connect_options().database_url.scheme().starts_with("sqlite") {
        Engine::Sqlite
    } else {
        Engine::Postgres
    }
}

/// Whether a statement run often on `db` may be kept prepared, and its plan with it.
/// PostgreSQL runs a kept statement by a generic plan from its sixth run on, made for the
/// tables as they were then: one made while they were small (a new shop, a sale's first
/// minute) reads them whole as they grow, until autovacuum next analyzes them. So there a
/// statement that finds rows by key in a table a sale grows is planned afresh each time: a
/// plan and a round trip more (sqlx describes an unnamed statement before binding it), which
/// cost less than one such read. SQLite plans a statement by its indexes alone.
pub(crate) fn keeps_plans(db: &Db) -> bool {
    engine_of(db) == Engine::Sqlite
}

/// After an erase on SQLite: copies the WAL into the main file and empties it
/// (`wal_checkpoint(TRUNCATE)`), so the erased bytes, which `secure_delete` has zeroed in
/// the page, are not left behind in older copies of that page in the WAL. The vault's
/// PostgreSQL relies on the erased wrapped key instead (docs/security.md). Returns whether
/// the WAL was fully checkpointed (a reader holding an old snapshot, or a writer, can
/// prevent it; the next erase, or the sweeper's, tries again).
///
/// It runs on the request path (a decline, a save, a removal), so it waits for a busy
/// database at most [`CHECKPOINT_WAIT_MS`] instead of the connection's busy timeout: under
/// load a checkpoint is put off, never queued behind every writer. Within that time it
/// tries again while the pool's background checkpoint ([`checkpointer`]) holds the
/// checkpoint lock, which SQLite does not wait for.
pub async fn checkpoint(db: &Db) -> Result<bool, sqlx::Error> {
    if engine_of(db) != Engine::Sqlite {
        return Ok(true);
    }
    let started = std::time::Instant::now();
    let mut conn = db.acquire().await?;
    let (usual,): (i64,) = sqlx::query_as("PRAGMA busy_timeout").fetch_one(&mut *conn).await?;
    let outcome = async {
        conn.execute(format!("PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}").as_str()).await?;
        let done = loop {
            let (busy, _log, _done): (i64, i64, i64) =
                sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *conn).await?;
            if busy == 0 || started.elapsed() >= Duration::from_millis(CHECKPOINT_WAIT_MS) {
                break busy == 0;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        conn.execute(format!("PRAGMA busy_timeout = {usual}").as_str()).await?;
        Ok::<_, sqlx::Error>(done)
    }
    .await;
    if outcome.is_err() {
        // Not back into the pool with the short timeout.
        drop(conn.detach());
    }
    outcome
}

/// How long a checkpoint after an erase waits for a busy database.
pub const CHECKPOINT_WAIT_MS: u64 = 100;

/// `CREATE SCHEMA IF NOT EXISTS` can still fail with a unique violation when two processes
/// start at once, so a failure is retried once, by which time the other has committed.
async fn create_schema(url: &str, schema: &str) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let sql = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
    if conn.execute(sql.as_str()).await.is_err() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        conn.execute(sql.as_str()).await?;
    }
    conn.close().await
}

/// `$1, $2, …, $n` starting after `offset` placeholders, for `IN (…)` lists.
pub fn placeholders(offset: usize, n: usize) -> String {
    (offset + 1..=offset + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A unit enum as the text serde gives it (`"sold_out"`, `"visa"`), for a text column.
pub fn to_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => panic!("to_text is for unit enums only, got {other:?}"),
    }
}

/// The inverse of [`to_text`]; a value we did not write is an internal error.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, crate::AppError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| crate::AppError::internal(format!("unexpected stored value {text:?}: {e}")))
}

/// A new schema on the test PostgreSQL server when `TWEETBUY_TEST_PG_URL` names one (`make
/// test-pg`): its URL and a fresh schema name ending in `side`. `None` otherwise, unless
/// `TWEETBUY_REQUIRE_PG=1` says it was expected.
#[cfg(test)]
fn test_postgres(side: &str) -> Option<Location> {
    let url = std::env::var("TWEETBUY_TEST_PG_URL").ok().filter(|u| !u.trim().is_empty());
    let Some(url) = url else {
        assert!(
            std::env::var("TWEETBUY_REQUIRE_PG").map_or(true, |v| v != "1"),
            "TWEETBUY_REQUIRE_PG=1 but TWEETBUY_TEST_PG_URL is not set"
        );
        eprintln!("skipped: needs TWEETBUY_TEST_PG_URL (make test-pg sets it)");
        return None;
    };
    Some(Location::Postgres { url, schema: format!("{}_{side}", crate::ids::random_id("u")) })
}

/// The api's database on the test PostgreSQL server ([`test_postgres`]), with the demo
/// catalog.
#[cfg(test)]
pub(crate) async fn test_postgres_api() -> Option<Db> {
    let db = open_api(test_postgres("api")?).await.unwrap();
    crate::api::seed::seed_demo_if_empty(&db, 0).await.unwrap();
    Some(db)
}

/// The vault's database on the test PostgreSQL server ([`test_postgres`]).
#[cfg(test)]
pub(crate) async fn test_postgres_vault() -> Option<Db> {
    Some(open_vault(test_postgres("vault")?).await.unwrap())
}

/// How many times PostgreSQL has read each of `tables` of the test's schema whole
/// ([`settled_counts`] of `seq_scan`).
#[cfg(test)]
pub(crate) async fn whole_reads(db: &Db, tables: &[&str]) -> Vec<i64> {
    settled_counts(db, tables, "seq_scan").await
}

/// A figure of `pg_stat_user_tables` (`column`, an expression of its columns) for each of
/// `tables` of the test's schema, once every backend has reported: an idle backend reports
/// its counts within 10 s (`PGSTAT_IDLE_INTERVAL`), so the figures are taken once they have
/// stood for 11 s.
#[cfg(test)]
pub(crate) async fn settled_counts(db: &Db, tables: &[&str], column: &str) -> Vec<i64> {
    let sql = format!(
        "SELECT CAST(COALESCE({column}, 0) AS BIGINT) FROM pg_stat_user_tables \
         WHERE schemaname = current_schema() AND relname = $1"
    );
    let read = || async {
        let mut counts = Vec::new();
        for table in tables {
            let (n,): (i64,) = sqlx::query_as(&sql).bind(*table).fetch_one(db).await.unwrap();
            counts.push(n);
        }
        counts
    };
    let (mut last, mut stood) = (read().await, 0);
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = read().await;
        stood = if now == last { stood + 1 } else { 0 };
        if stood >= 11 {
            return now;
        }
        last = now;
    }
    panic!("the counts of {tables:?} never settled");
}

/// Runs each of a test's `statements` in turn on `db`.
#[cfg(test)]
pub(crate) async fn run_all(db: &Db, statements: impl IntoIterator<Item = String>) {
    for sql in statements {
        sqlx::query(&sql).execute(db).await.unwrap();
    }
}

/// Keeps autovacuum from analyzing `tables` while the test waits for the counts
/// ([`whole_reads`]): in a sale the tables grow for up to a minute before it does. (An
/// `ALTER TABLE` drops the plans kept of the table, so it goes first.)
#[cfg(test)]
pub(crate) async fn without_autovacuum(db: &Db, tables: &[&str]) {
    for table in tables {
        sqlx::query(&format!("ALTER TABLE {table} SET (autovacuum_enabled = false)")).execute(db).await.unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::{CardBrand, SellerKind};

    #[test]
    fn enums_round_trip_through_text() {
        assert_eq!(to_text(&CardBrand::DinersClub), "diners_club");
        assert_eq!(from_text::<SellerKind>("nonprofit").unwrap(), SellerKind::Nonprofit);
        assert!(from_text::<SellerKind>("pirate").is_err());
    }

    /// `.cargo/config.toml` builds SQLite without the process-wide page cache lock and
    /// without memory statistics; a build that lost those flags queues threads again.
    #[tokio::test]
    async fn sqlite_is_built_without_process_wide_locks() {
        let dir = tempfile::tempdir().unwrap();
        let db = open_api(dir.path().join("api.db").as_path()).await.unwrap();
        let mut reader = read_conn(&db).await.unwrap();
        let options: Vec<(String,)> = sqlx::query_as("PRAGMA compile_options").fetch_all(&mut reader).await.unwrap();
        let options: Vec<String> = options.into_iter().map(|(option,)| option).collect();
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    }

    #[tokio::test]
    async fn sqlite_writers_use_their_own_pools_connection_and_roll_back_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.db");
        let usual = open_api(path.as_path()).await.unwrap();
        let short =
            open_api_tuned(path.as_path(), Tuning { sqlite_busy_timeout: Duration::from_millis(300) }).await.unwrap();
        let pragma = |db: Db, name: &'static str| async move {
            let mut conn = write_conn(&db).await.unwrap();
            let (value,): (i64,) = sqlx::query_as(&format!("PRAGMA {name}")).fetch_one(&mut conn).await.unwrap();
            value
        };
        // The pool's settings, but SQLite's own busy wait off: the connection waits asleep.
        assert_eq!(pragma(usual.clone(), "foreign_keys").await, 1);
        assert_eq!(pragma(usual.clone(), "wal_autocheckpoint").await, checkpointer::WRITER_AUTOCHECKPOINT);
        assert_eq!(pragma(usual.clone(), "busy_timeout").await, 0);

        // Another process's writer holds the file: each pool waits its own busy timeout.
        let mut other = usual.acquire().await.unwrap().detach();
        other.execute("BEGIN IMMEDIATE").await.unwrap();
        let write = "INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at) VALUES ('w', $1, 'h', 0)";
        let refused = sqlx::query(write).bind("short").execute(&mut write_conn(&short).await.unwrap()).await;
        assert!(is_busy(&refused.unwrap_err()), "300 ms, then busy");
        // The wait does not hold the thread: the holder, on this one-thread runtime, commits
        // meanwhile and the writer goes on.
        let holder = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            other.execute("COMMIT").await.unwrap();
        });
        sqlx::query(write).bind("usual").execute(&mut write_conn(&usual).await.unwrap()).await.unwrap();
        holder.await.unwrap();

        let insert =
            "INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at) VALUES ('t', $1, 'h', 0)";
        let mut tx = begin_write(&usual).await.unwrap();
        sqlx::query(insert).bind("dropped").execute(&mut tx).await.unwrap();
        drop(tx);
        // The next writer gets the gate and a connection whose transaction was rolled back.
        let mut tx = begin_write(&usual).await.unwrap();
        sqlx::query(insert).bind("kept").execute(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let keys: Vec<(String,)> =
            sqlx::query_as("SELECT idem_key FROM idempotency_keys WHERE scope = 't'").fetch_all(&usual).await.unwrap();
        assert_eq!(keys, vec![("kept".to_owned(),)]);

        // A dropped pool's writing connection is closed when another pool starts writing.
        drop(short);
        let again = open_api(path.as_path()).await.unwrap();
        drop(write_conn(&again).await.unwrap());
        let gate = gate_of(&again).unwrap();
        assert_eq!(gate.lock().await.connections.len(), 2, "the first pool's and the new one's");
    }

    #[tokio::test]
    async fn batches_stop_at_the_first_unmet_statement_and_readers_are_kept() {
        use sqlx::Row;
        let dir = tempfile::tempdir().unwrap();
        let db = open_api(dir.path().join("api.db").as_path()).await.unwrap();
        let insert =
            "INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at) VALUES ($1, $2, 'h', $3) \
                      ON CONFLICT DO NOTHING";
        let count = "SELECT COUNT(*) FROM idempotency_keys WHERE scope = $1";

        let mut batch = Batch::new();
        batch.push(sqlx::query(insert).bind("t").bind("dropped").bind(1_i64));
        let (tx, ran) = begin_write_with(&db, batch).await.unwrap();
        assert_eq!((ran.unmet, ran.statements[0].rows_affected), (None, 1));
        drop(tx);

        let mut batch = Batch::new();
        batch.push_expecting_one(sqlx::query(insert).bind("t").bind("a").bind(2_i64));
        let again = batch.push_expecting_one(sqlx::query(insert).bind("t").bind("a").bind(3_i64));
        let (tx, ran) = begin_write_with(&db, batch).await.unwrap();
        assert_eq!(ran.unmet, Some(again), "the second insert of one key changes nothing");
        tx.rollback().await.unwrap();

        let mut batch = Batch::new();
        batch.push_expecting_one(sqlx::query(insert).bind("t").bind("b").bind(4_i64));
        let counted = batch.push(sqlx::query(count).bind("t"));
        let (tx, ran) = begin_write_with(&db, batch).await.unwrap();
        assert_eq!(ran.unmet, None);
        let seen: i64 = ran.statements[counted].rows[0].try_get(0).unwrap();
        assert_eq!(seen, 1, "the dropped and the rolled-back keys are gone, each statement had its binds");
        let mut last = Batch::new();
        last.push(sqlx::query(insert).bind("t").bind("c").bind(5_i64));
        assert_eq!(tx.commit_with(last).await.unwrap().statements[0].rows_affected, 1);

        let mut reader = read_conn(&db).await.unwrap();
        let (stored,): (i64,) = sqlx::query_as(count).bind("t").fetch_one(&mut reader).await.unwrap();
        assert_eq!(stored, 2, "b, and c with the commit");
        drop(reader);
        let idle = || {
            let readers = direct_readers().lock().unwrap();
            readers.iter().find(|(pool, _)| pool.is(&db.connect_options())).map_or(0, |(_, idle)| idle.len())
        };
        assert_eq!(idle(), 1, "the reading connection is kept for the next read");
        // More readers at once than are kept open more, closed when given back.
        let mut many = Vec::new();
        for _ in 0..KEPT_READERS + 2 {
            many.push(read_conn(&db).await.unwrap());
        }
        assert_eq!(idle(), 0);
        for reader in &mut many {
            let (seen,): (i64,) = sqlx::query_as(count).bind("t").fetch_one(&mut *reader).await.unwrap();
            assert_eq!(seen, 2);
            let write = sqlx::query(insert).bind("t").bind("r").bind(6_i64).execute(&mut *reader).await;
            assert!(write.unwrap_err().to_string().contains("readonly"), "a reader never writes past the gate");
        }
        drop(many);
        assert_eq!(idle(), KEPT_READERS);
    }

    #[test]
    fn locations_follow_the_url() {
        let dir = Path::new("/data");
        let (api, vault) = locations(None, "tweetbuy", dir).unwrap();
        assert_eq!(api, Location::Sqlite(dir.join("api.db")));
        assert_eq!(vault, Location::Sqlite(dir.join("vault.db")));
        let (api, vault) = locations(Some("postgres://u@127.0.0.1:5432/db"), "shop", dir).unwrap();
        assert_eq!(api, Location::Postgres { url: "postgres://u@127.0.0.1:5432/db".into(), schema: "shop_api".into() });
        assert_eq!(vault.engine(), Engine::Postgres);
        assert!(locations(Some("mysql://x"), "shop", dir).is_err());
        assert!(locations(Some("postgres://x"), "shop; DROP", dir).is_err(), "the prefix goes into SQL");
        assert_eq!(placeholders(2, 3), "$3, $4, $5");
    }
}
