//! A SQLite file's writing connection, run on the calling thread.
//!
//! sqlx runs every SQLite connection on a thread of its own and hands each call over to it
//! and back. Under a flash sale those hand-offs, not SQLite, were most of the time a writer
//! held its file's write gate: a trip cost 120–280 µs whatever it carried, while the
//! statements themselves take tens of microseconds (docs/performance-log.md). The gate makes
//! every writer wait for the one ahead, so the writing connection runs its statements here,
//! on the thread of the task that holds the gate. In WAL mode with `synchronous = NORMAL` a
//! commit writes to the WAL without waiting for the disk, so no statement blocks the thread
//! for long; a busy database (a writer of another process) is waited for asleep on the
//! runtime, never in SQLite's busy handler.
//!
//! It takes the SQL and binds that sqlx takes and answers with sqlx's rows and errors, so a
//! query is written once for both engines.

use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow, AnyTypeInfo, AnyTypeInfoKind, AnyValue};
use sqlx::Either;
use sqlx_core::any::{AnyColumn, AnyValueKind};

/// What a statement gives back, in sqlx's order: its rows, then what it changed.
pub(crate) type Step = Either<AnyQueryResult, AnyRow>;

/// The pool settings the writing connection copies: the ones SQLite keeps per connection.
pub(crate) const SETTINGS: [&str; 5] =
    ["busy_timeout", "foreign_keys", "secure_delete", "synchronous", "wal_autocheckpoint"];

/// A SQLite connection whose statements run on the calling thread.
pub(crate) struct Direct {
    conn: rusqlite::Connection,
    /// How long a statement waits for a writer of another process.
    busy_timeout: Duration,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").field("path", &self.conn.path()).finish()
    }
}

impl Direct {
    /// Opens `path` with `settings` (`PRAGMA name = value;` statements), whose busy timeout
    /// becomes [`Direct::run`]'s.
    pub(crate) fn open(path: &Path, settings: &str, busy_timeout: Duration) -> Result<Direct, sqlx::Error> {
        let conn = rusqlite::Connection::open(path).map_err(to_sqlx)?;
        conn.execute_batch(settings).map_err(to_sqlx)?;
        // Busy waits happen in `run`, asleep; SQLite's own would block the runtime's thread.
        conn.busy_timeout(Duration::ZERO).map_err(to_sqlx)?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(Direct { conn, busy_timeout })
    }

    /// Runs one statement. While another process's writer holds the file, tries again after
    /// sleeps of 1 ms growing to 20 ms, for at most the busy timeout. Each statement must
    /// be safe to try again when busy: SQLite refuses it before it changes anything, and a
    /// transaction here begins `IMMEDIATE`, holding the lock from its start.
    pub(crate) async fn run(&mut self, sql: &str, arguments: &AnyArguments<'_>) -> Result<Vec<Step>, sqlx::Error> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match self.run_once(sql, arguments) {
                Err(error) if is_busy(&error) && started.elapsed() + pause <= self.busy_timeout => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                outcome => {
                    // A task that writes row after row never waits otherwise: it gives the
                    // runtime's other tasks their turn when its budget is spent.
                    tokio::task::coop::consume_budget().await;
                    return outcome.map_err(to_sqlx);
                }
            }
        }
    }

    /// Runs a statement that takes no binds, on the spot (a drop's rollback, a setting).
    pub(crate) fn run_now(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        self.conn.execute_batch(sql).map_err(to_sqlx)
    }

    fn run_once(&mut self, sql: &str, arguments: &AnyArguments<'_>) -> rusqlite::Result<Vec<Step>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut positional = 0;
        for index in 1..=statement.parameter_count() {
            let number = match statement.parameter_name(index) {
                Some(name) => parameter_number(name)?,
                None => {
                    positional += 1;
                    positional
                }
            };
            // As in sqlx: a placeholder with no bind is NULL.
            let value = arguments.values.0.get(number - 1).map_or(Ok(ValueRef::Null), value_ref)?;
            statement.raw_bind_parameter(index, ToSqlOutput::Borrowed(value))?;
        }
        let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
        let changes_rows = !statement.readonly();
        let mut steps = Vec::new();
        let mut column_names = None;
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next()? {
            steps.push(Either::Right(any_row(row, &names, &mut column_names)?));
        }
        drop(rows);
        let rows_affected = if changes_rows { self.conn.changes() } else { 0 };
        steps.push(Either::Left(AnyQueryResult { rows_affected, last_insert_id: Some(self.conn.last_insert_rowid()) }));
        Ok(steps)
    }
}

/// The bind number of a placeholder written `$n` or `?n`.
fn parameter_number(name: &str) -> rusqlite::Result<usize> {
    name.strip_prefix(['$', '?'])
        .and_then(|digits| digits.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned()))
}

fn value_ref<'a>(value: &'a AnyValueKind<'_>) -> rusqlite::Result<ValueRef<'a>> {
    Ok(match value {
        AnyValueKind::Null(_) => ValueRef::Null,
        AnyValueKind::Bool(b) => ValueRef::Integer(i64::from(*b)),
        AnyValueKind::SmallInt(i) => ValueRef::Integer(i64::from(*i)),
        AnyValueKind::Integer(i) => ValueRef::Integer(i64::from(*i)),
        AnyValueKind::BigInt(i) => ValueRef::Integer(*i),
        AnyValueKind::Real(r) => ValueRef::Real(f64::from(*r)),
        AnyValueKind::Double(d) => ValueRef::Real(*d),
        AnyValueKind::Text(t) => ValueRef::Text(t.as_bytes()),
        AnyValueKind::Blob(b) => ValueRef::Blob(b),
        // A kind sqlx adds later is refused, never stored as something else.
        other => return Err(rusqlite::Error::ToSqlConversionFailure(format!("cannot bind {other:?}").into())),
    })
}

/// The row as sqlx's SQLite driver gives it: each value typed by what it holds (an integer
/// is a `BigInt`, a float a `Double`), not by its column's declared type.
fn any_row(
    row: &rusqlite::Row<'_>,
    names: &[String],
    column_names: &mut Option<std::sync::Arc<sqlx_core::HashMap<sqlx_core::ext::ustr::UStr, usize>>>,
) -> rusqlite::Result<AnyRow> {
    let column_names = column_names.get_or_insert_with(|| {
        std::sync::Arc::new(names.iter().enumerate().map(|(i, n)| (n.clone().into(), i)).collect())
    });
    let mut columns = Vec::with_capacity(names.len());
    let mut values = Vec::with_capacity(names.len());
    for (ordinal, name) in names.iter().enumerate() {
        let (kind, value) = match row.get_ref(ordinal)? {
            ValueRef::Null => (AnyTypeInfoKind::Null, AnyValueKind::Null(AnyTypeInfoKind::Null)),
            ValueRef::Integer(i) => (AnyTypeInfoKind::BigInt, AnyValueKind::BigInt(i)),
            ValueRef::Real(r) => (AnyTypeInfoKind::Double, AnyValueKind::Double(r)),
            ValueRef::Text(t) => (
                AnyTypeInfoKind::Text,
                AnyValueKind::Text(Cow::Owned(
                    String::from_utf8(t.to_vec()).map_err(|e| rusqlite::Error::Utf8Error(e.utf8_error()))?,
                )),
            ),
            ValueRef::Blob(b) => (AnyTypeInfoKind::Blob, AnyValueKind::Blob(Cow::Owned(b.to_vec()))),
        };
        columns.push(AnyColumn { ordinal, name: name.clone().into(), type_info: AnyTypeInfo { kind } });
        values.push(AnyValue { kind: value });
    }
    Ok(AnyRow { column_names: column_names.clone(), columns, values })
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(error.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// The error as sqlx's SQLite driver would give it: SQLite's extended code, as text.
fn to_sqlx(error: rusqlite::Error) -> sqlx::Error {
    match error {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let message = message.unwrap_or_else(|| failure.to_string());
            sqlx::Error::Database(Box::new(SqliteFailure { code: failure.extended_code, message }))
        }
        other => sqlx::Error::Protocol(format!("SQLite: {other}")),
    }
}

/// SQLite's refusal, with its extended result code.
#[derive(Debug)]
struct SqliteFailure {
    code: i32,
    message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl sqlx::error::DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                sqlx::error::ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => sqlx::error::ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => sqlx::error::ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    async fn run(direct: &mut Direct, mut query: crate::db::AnyQuery<'_>) -> Result<Vec<Step>, sqlx::Error> {
        use sqlx::Execute;
        let sql = query.sql();
        let arguments = query.take_arguments().unwrap().unwrap_or_default();
        direct.run(sql, &arguments).await
    }

    async fn steps(direct: &mut Direct, query: crate::db::AnyQuery<'_>) -> Vec<Step> {
        run(direct, query).await.unwrap()
    }

    fn rows(steps: Vec<Step>) -> Vec<AnyRow> {
        steps.into_iter().filter_map(Either::right).collect()
    }

    #[tokio::test]
    async fn binds_by_number_and_answers_as_sqlx_does() {
        let dir = tempfile::tempdir().unwrap();
        let mut direct = Direct::open(&dir.path().join("t.db"), "PRAGMA foreign_keys = 1;", Duration::ZERO).unwrap();
        direct.run_now("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, r REAL, b BLOB, o TEXT)").unwrap();

        // `$2` before `$1`, and `$1` twice: each placeholder takes the bind of its number.
        let insert = sqlx::query("INSERT INTO t (n, k, r, b, o) VALUES ($2, $1, $3, $4, $2 || $1)")
            .bind("a")
            .bind(7_i64)
            .bind(1.5_f64)
            .bind(vec![0_u8, 255]);
        let done = steps(&mut direct, insert).await;
        assert!(matches!(done.as_slice(), [Either::Left(result)] if result.rows_affected == 1));

        let read = sqlx::query("SELECT k, n, r, b, o, NULL AS missing FROM t WHERE k = ?").bind("a");
        let found = rows(steps(&mut direct, read).await);
        assert_eq!(found.len(), 1);
        let row = &found[0];
        assert_eq!(row.try_get::<String, _>("k").unwrap(), "a");
        assert_eq!(row.try_get::<i64, _>("n").unwrap(), 7);
        assert_eq!(row.try_get::<f64, _>("r").unwrap(), 1.5);
        assert_eq!(row.try_get::<Vec<u8>, _>("b").unwrap(), vec![0, 255]);
        assert_eq!(row.try_get::<String, _>("o").unwrap(), "7a");
        assert_eq!(row.try_get::<Option<i64>, _>("missing").unwrap(), None);

        // A placeholder with no bind is NULL, as in sqlx; a read changes no rows.
        let unbound = sqlx::query("SELECT $1 IS NULL AS unbound");
        let done = steps(&mut direct, unbound).await;
        assert!(matches!(done.as_slice(), [Either::Right(_), Either::Left(result)] if result.rows_affected == 0));
        assert_eq!(rows(done)[0].try_get::<i64, _>("unbound").unwrap(), 1);

        // SQLite's refusal keeps its extended code and kind.
        let again = sqlx::query("INSERT INTO t (k) VALUES ($1)").bind("a");
        let Err(sqlx::Error::Database(refusal)) = run(&mut direct, again).await else { panic!("a database error") };
        assert_eq!(refusal.code().as_deref(), Some("1555"));
        assert_eq!(refusal.kind(), sqlx::error::ErrorKind::UniqueViolation);
    }
}
