//! Opening the two SQLite databases, and the small conversions between wire enums and the
//! text columns that store them.
//!
//! The SQL in this crate is written to run unchanged on PostgreSQL later: numbered `$1`
//! placeholders, `ON CONFLICT … DO NOTHING`, `RETURNING`, integers for timestamps and money.
//! Only the migrations (SQLite `BLOB` vs PostgreSQL `BYTEA`) will need a second set.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::time::Duration;

/// Opens (creating if missing) a database file in WAL mode, so readers do not block the one
/// writer, with a busy timeout so concurrent writers wait instead of failing.
pub async fn open(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    SqlitePoolOptions::new().max_connections(8).connect_with(options).await
}

/// Opens `api.db` and brings its schema up to date.
pub async fn open_api(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    let pool = open(path).await?;
    sqlx::migrate!("./migrations/api").run(&pool).await?;
    Ok(pool)
}

/// Opens `vault.db` and brings its schema up to date.
pub async fn open_vault(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    let pool = open(path).await?;
    sqlx::migrate!("./migrations/vault").run(&pool).await?;
    Ok(pool)
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
}
