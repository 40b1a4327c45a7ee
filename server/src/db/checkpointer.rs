//! A SQLite file's WAL checkpoints, taken off the write path.
//!
//! In WAL mode every commit appends its pages to the `-wal` file, and a checkpoint copies
//! them into the database file and syncs both to disk. Left to SQLite, that checkpoint runs
//! inside the commit that takes the WAL past `wal_autocheckpoint` pages (1,000 by default),
//! while its writer holds the file's one write lock and this process's [`write_gate`]:
//! every writer queued behind it waits for the copy and its two `fsync`s. Under a flash
//! sale that happened every few dozen purchases (docs/performance-log.md has the runs that
//! moved it out).
//!
//! So each SQLite pool has a task that checkpoints every [`EVERY`] on a connection of its
//! own, without the gate: a passive checkpoint copies what is committed while writers go on
//! appending. Under steady writes it never finds every frame copied (frames arrive while it
//! runs), and only then can the WAL start over from its beginning; so writers still
//! checkpoint past [`WRITER_AUTOCHECKPOINT`] frames. By then the task has copied all but
//! the last moments' frames, and that checkpoint, in the writer, is short: it copies those,
//! syncs, and the WAL starts over. Should the task fall behind or be gone, writers
//! checkpoint as before, only less often.
//!
//! [`write_gate`]: super::write_gate

use super::{Db, PoolKey};
use std::time::Duration;

/// How often the task checkpoints. Often, so that each checkpoint has little to copy and
/// sync: paired at 500 purchases/s offered, every 50 ms gave a p99 of 7–11 ms where every
/// 200 ms gave 20–30 ms and every 1 s 97–124 ms (docs/performance-log.md). The price is paid
/// idle: a server doing nothing used 0.95 % of a core instead of 0.55 %.
const EVERY: Duration = Duration::from_millis(50);

/// Each connection's `wal_autocheckpoint`: a writer checkpoints itself only once the WAL
/// holds this many frames (pages: 40 MB with SQLite's 4 KB pages), where SQLite's default
/// is 1,000.
pub(super) const WRITER_AUTOCHECKPOINT: i64 = 10_000;

/// Starts the checkpoint task of a SQLite pool. It holds a connection taken out of the pool
/// (with the pool's settings) and ends once the pool is dropped. Without a connection there
/// is no task, and writers checkpoint as SQLite would.
pub(super) async fn spawn(db: &Db) {
    if super::engine_of(db) != super::Engine::Sqlite {
        return;
    }
    let key = PoolKey::of(&db.connect_options());
    let Ok(connection) = db.acquire().await else { return };
    let mut connection = connection.detach();
    tokio::spawn(async move {
        let mut warned = false;
        loop {
            tokio::time::sleep(EVERY).await;
            if !key.is_live() {
                break;
            }
            let checkpoint = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut connection).await;
            if let Err(error) = checkpoint {
                super::note_error(&error);
                if !std::mem::replace(&mut warned, true) {
                    tracing::warn!(%error, "a background WAL checkpoint failed; writers checkpoint meanwhile");
                }
            }
        }
        let _ = sqlx::Connection::close(connection).await;
    });
}

#[cfg(test)]
mod tests {
    use super::super::{begin_write, checkpoint, open_api, open_vault};
    use std::path::Path;
    use std::time::{Duration, Instant};

    fn size(path: &Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// Commits `count` transactions of one 2 KB row each (a page or two apiece).
    async fn write_rows(db: &super::Db, count: usize) {
        sqlx::query("CREATE TABLE IF NOT EXISTS filler (b BLOB)").execute(db).await.unwrap();
        for _ in 0..count {
            let mut tx = begin_write(db).await.unwrap();
            sqlx::query("INSERT INTO filler (b) VALUES (zeroblob(2048))").execute(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
        }
    }

    #[tokio::test]
    async fn commits_reach_the_database_file_with_no_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.db");
        let db = open_api(path.as_path()).await.unwrap();
        let before = size(&path);
        // About 600 frames: far below the writers' own threshold, so without the task every
        // page would stay in the WAL.
        write_rows(&db, 300).await;
        let wal = dir.path().join("api.db-wal");
        assert!(size(&wal) > 600 * 1024, "the commits went to the WAL first: {} B", size(&wal));
        let deadline = Instant::now() + Duration::from_secs(10);
        while size(&path) < before + 600 * 1024 {
            assert!(Instant::now() < deadline, "the database file stayed at {} B (from {before} B)", size(&path));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test]
    async fn writers_checkpoint_only_past_their_own_threshold() {
        let dir = tempfile::tempdir().unwrap();
        let db = open_api(dir.path().join("api.db").as_path()).await.unwrap();
        let mut tx = begin_write(&db).await.unwrap();
        let (frames,): (i64,) = sqlx::query_as("PRAGMA wal_autocheckpoint").fetch_one(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(frames, super::WRITER_AUTOCHECKPOINT);
    }

    #[tokio::test]
    async fn an_erase_still_empties_the_wal_while_the_task_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let db = open_vault(dir.path().join("vault.db").as_path()).await.unwrap();
        let wal = dir.path().join("vault.db-wal");
        // Across several of the task's turns, each emptying checkpoint succeeds (it tries
        // again while the task holds the checkpoint lock).
        let until = Instant::now() + super::EVERY * 10;
        while Instant::now() < until {
            write_rows(&db, 20).await;
            assert!(checkpoint(&db).await.unwrap(), "the WAL was emptied");
            assert_eq!(size(&wal), 0);
        }
    }
}
