//! The products buyers' intents are priced with (and their orders paid with, for an intent
//! the process kept: [`super::kept_intents`]), kept in each server process on PostgreSQL,
//! where reading one is a round trip to the database for every buyer (about a tenth of the
//! CPU a purchase costs, docs/performance-log.md).
//!
//! Every process is told when what it keeps changes: triggers on the catalog's tables
//! (migration 0010) notify the channel [`CHANNEL`], with their schema as the payload, when a
//! product, a variant's price or label, or a variant's stock changes in any way but a fall
//! that leaves units, and a task of each process listens on a connection of its own and
//! forgets everything it keeps. While that connection is down, and until it listens again,
//! nothing is kept, since a change could go unheard; a connection that hears nothing, not even
//! the pings it is sent, for [`SILENT_FOR`] is taken for dead.
//!
//! What is kept goes stale in one way, on purpose: a purchase lowers a variant's stock and
//! tells nobody unless it sells the variant out. So the kept stock may be above what is left,
//! never below it, and an intent may be priced for more units than are left; the placement,
//! which reserves the stock, refuses it then (`sold_out`), and nothing is oversold. A sale's
//! start and end are weighed afresh at each read, from the kept rows and the clock.
//!
//! On SQLite a read is a call within the process, and a seller's command run in another
//! process could not tell this one: nothing is kept there.

use crate::api::catalog::{self, Product, ProductVariantRow};
use crate::db::{engine_of, Db, Engine};
use crate::error::AppError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// The channel the catalog's triggers notify (migration 0010).
pub(crate) const CHANNEL: &str = "tweetbuy_catalog";

/// How long the listening task waits before it connects again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// One process's kept products (cheap to clone: the clones share them).
#[derive(Clone, Default)]
pub struct ProductCache(Arc<Kept>);

#[derive(Default)]
struct Kept {
    /// Each product's rows as [`catalog::rows_by_id`] read them, and how many times they were
    /// all forgotten.
    rows: Mutex<(u64, HashMap<String, Vec<ProductVariantRow>>)>,
    /// Whether the listening task is listening now: nothing is kept otherwise.
    listening: AtomicBool,
    /// Whether the listening task was started.
    started: AtomicBool,
}

impl ProductCache {
    /// The product `product_id` as [`catalog::by_id`] gives it, from what this process keeps
    /// when it may, read (and kept) otherwise.
    pub async fn product(
        &self,
        db: &Db,
        product_id: &str,
        now: i64,
        api_origin: &str,
    ) -> Result<Option<Product>, AppError> {
        if engine_of(db) != Engine::Postgres {
            let mut reader = crate::db::read_conn(db).await?;
            return catalog::by_id(&mut reader, product_id, now, api_origin).await;
        }
        self.start_listening(db).await;
        let (kept, forgotten) = {
            let rows = self.rows();
            (rows.1.get(product_id).cloned(), rows.0)
        };
        if let Some(rows) = kept {
            return catalog::assemble_one(rows, now, api_origin);
        }
        if !tweetbuy_core::text::is_single_line(product_id) {
            return Ok(None);
        }
        // Whether anything was forgotten is taken before the read: a change committed after
        // the read began is told after that, and then these rows are not kept. (Listening
        // starts with a forgetting, after its `LISTEN`, so rows read since are heard of.)
        let rows = {
            let mut reader = crate::db::read_conn(db).await?;
            catalog::rows_by_id(&mut reader, product_id).await?
        };
        {
            let mut kept = self.rows();
            if kept.0 == forgotten && !rows.is_empty() && self.0.listening.load(Ordering::SeqCst) {
                kept.1.insert(product_id.to_owned(), rows.clone());
            }
        }
        catalog::assemble_one(rows, now, api_origin)
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<String, Vec<ProductVariantRow>>)> {
        self.0.rows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets every kept product.
    fn forget(&self) {
        let mut rows = self.rows();
        rows.0 += 1;
        rows.1.clear();
    }

    /// Starts the task that listens for changes to `db`'s catalog, once (again after a
    /// failed start).
    async fn start_listening(&self, db: &Db) {
        if self.0.started.swap(true, Ordering::SeqCst) {
            return;
        }
        match schema_of(db).await {
            Ok(schema) => {
                let url = db.connect_options().database_url.to_string();
                tokio::spawn(listen(url, schema, Arc::downgrade(&self.0)));
            }
            Err(error) => {
                self.0.started.store(false, Ordering::SeqCst);
                tracing::warn!(%error, "product cache: the schema to listen for; nothing is kept meanwhile");
            }
        }
    }
}

/// The schema `db`'s tables are in: what the catalog's triggers send as their payload.
async fn schema_of(db: &Db) -> Result<String, sqlx::Error> {
    let (schema,): (String,) = sqlx::query_as("SELECT CAST(current_schema() AS TEXT)").fetch_one(db).await?;
    Ok(schema)
}

/// The `application_name` of the connection that listens for `schema`'s catalog.
pub(crate) fn listener_name(schema: &str) -> String {
    format!("tweetbuy product cache {schema}")
}

/// Listens for changes to the catalog of `schema` while the cache is in use, on a connection
/// of its own, connecting again when it is lost.
async fn listen(url: String, schema: String, kept: Weak<Kept>) {
    // However this task ends, even by a panic, the cache keeps nothing after it.
    struct Deaf(Weak<Kept>);
    impl Drop for Deaf {
        fn drop(&mut self) {
            if let Some(kept) = self.0.upgrade() {
                kept.listening.store(false, Ordering::SeqCst);
                ProductCache(kept).forget();
            }
        }
    }
    let _deaf = Deaf(kept.clone());
    loop {
        let heard = listen_once(&url, &schema, &kept).await;
        let Some(cache) = kept.upgrade().map(ProductCache) else { return };
        cache.0.listening.store(false, Ordering::SeqCst);
        cache.forget();
        drop(cache);
        if let Err(error) = heard {
            tracing::warn!(%error, "product cache: listening for catalog changes; nothing is kept meanwhile");
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

/// How often the listening connection is sent a word of its own, and how long it may hear
/// nothing before it is taken for dead: a connection cut without a reset (a failover, a
/// firewall's idle timeout) would otherwise wait for ever, and the cache keep what it has.
const PING_EVERY: Duration = Duration::from_secs(10);
const SILENT_FOR: Duration = Duration::from_secs(30);

/// One connection's listening: returns when it is lost or silent too long (or the cache is
/// gone).
async fn listen_once(url: &str, schema: &str, kept: &Weak<Kept>) -> Result<(), sqlx::Error> {
    // Named for its schema, so an operator (or a test) can tell whose it is; one connection
    // listens, the other sends the pings.
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let options = options.application_name(&listener_name(schema));
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect_with(options).await?;
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
    // A lost connection is `None` below, and ends this one: what was told meanwhile is lost,
    // so the caller forgets everything and listens anew rather than have sqlx connect again.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    let pinger = {
        let (pool, ping) = (pool.clone(), format!("{schema} ping"));
        tokio::spawn(async move {
            loop {
                let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&ping).execute(&pool).await;
                if let Err(error) = sent {
                    tracing::warn!(%error, "product cache: a ping to the listening connection");
                }
                tokio::time::sleep(PING_EVERY).await;
            }
        })
    };
    let _pinger = AbortOnDrop(pinger);
    {
        let Some(cache) = kept.upgrade().map(ProductCache) else { return Ok(()) };
        cache.forget();
        cache.0.listening.store(true, Ordering::SeqCst);
    }
    loop {
        let received = tokio::time::timeout(SILENT_FOR, listener.try_recv())
            .await
            .map_err(|_| sqlx::Error::Protocol(format!("nothing heard for {} s", SILENT_FOR.as_secs())))?;
        let Some(notification) = received? else { return Ok(()) };
        let Some(cache) = kept.upgrade().map(ProductCache) else { return Ok(()) };
        if notification.payload() == schema {
            cache.forget();
        }
    }
}

/// A task that ends with its handle.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::Availability;

    const ORIGIN: &str = "http://api.test";

    /// The `m` variant's price and stock, and the offer's availability, as `cache` gives them.
    async fn seen(cache: &ProductCache, db: &Db) -> (i64, Option<u32>, Availability) {
        let product = cache.product(db, "red-tee", 0, ORIGIN).await.unwrap().unwrap();
        let m = product.offer.variants.iter().find(|v| v.id == "m").unwrap();
        (m.price.minor, m.stock, product.offer.availability)
    }

    /// Runs `sql` on the test's schema.
    async fn run(db: &Db, sql: &str) {
        sqlx::query(sql).execute(db).await.unwrap();
    }

    /// Waits (up to 10 s) until what `cache` gives meets `wanted`.
    async fn until(cache: &ProductCache, db: &Db, wanted: impl Fn((i64, Option<u32>, Availability)) -> bool) {
        for _ in 0..200 {
            if wanted(seen(cache, db).await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the cache never gave what was wanted: {:?}", seen(cache, db).await);
    }

    /// Waits (up to 10 s) until `cache` listens, and reads the product once so it is kept.
    async fn listening(cache: &ProductCache, db: &Db) {
        seen(cache, db).await;
        for _ in 0..200 {
            if cache.0.listening.load(Ordering::SeqCst) {
                seen(cache, db).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the cache never listened");
    }

    /// On PostgreSQL a product is kept, and forgotten when told: a repricing, a variant
    /// selling out, or the listening connection lost (a change may have gone unheard then).
    /// A purchase's decrement that leaves units tells nobody.
    #[tokio::test]
    async fn a_kept_product_is_forgotten_when_it_changes_or_the_listener_is_lost() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        let cache = ProductCache::default();
        listening(&cache, &db).await;
        let (price, ..) = seen(&cache, &db).await;

        // Kept: a change nobody is told of is not seen.
        run(&db, "ALTER TABLE variants DISABLE TRIGGER variants_changed").await;
        run(&db, "UPDATE variants SET price_minor = price_minor + 100 WHERE product_id = 'red-tee' AND id = 'm'").await;
        run(&db, "ALTER TABLE variants ENABLE TRIGGER variants_changed").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(seen(&cache, &db).await.0, price, "the product was read again, not kept");

        // Told: a repricing.
        run(&db, "UPDATE variants SET price_minor = price_minor + 100 WHERE product_id = 'red-tee' AND id = 'm'").await;
        until(&cache, &db, |(minor, ..)| minor == price + 200).await;

        // Selling out is told, and is seen.
        run(&db, "UPDATE variants SET stock = 0 WHERE product_id = 'red-tee'").await;
        until(&cache, &db, |(.., availability)| availability == Availability::SoldOut).await;

        // The listener lost: what changed meanwhile is read anew, and keeping starts again.
        listening(&cache, &db).await;
        run(&db, "ALTER TABLE variants DISABLE TRIGGER variants_changed").await;
        run(&db, "UPDATE variants SET price_minor = price_minor + 100 WHERE product_id = 'red-tee' AND id = 'm'").await;
        run(&db, "ALTER TABLE variants ENABLE TRIGGER variants_changed").await;
        let schema = schema_of(&db).await.unwrap();
        let (ended,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1) AS t",
        )
        .bind(listener_name(&schema))
        .fetch_one(&db)
        .await
        .unwrap();
        assert!(ended >= 1, "the schema's listening connections");
        until(&cache, &db, |(minor, ..)| minor == price + 300).await;
        listening(&cache, &db).await;
    }

    /// Whether running `sql` tells this schema's listeners anything: a listener of the test's
    /// own hears either that or, first, a word sent after it.
    async fn tells(db: &Db, sql: &str) -> bool {
        let url = db.connect_options().database_url.to_string();
        let mut listener = sqlx::postgres::PgListener::connect(&url).await.unwrap();
        listener.listen(CHANNEL).await.unwrap();
        let schema = schema_of(db).await.unwrap();
        run(db, sql).await;
        let after = format!("{schema} after");
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&after).execute(db).await.unwrap();
        loop {
            // Other tests' schemas and pings share the channel.
            let heard = listener.recv().await.unwrap();
            if heard.payload() == schema {
                return true;
            }
            if heard.payload() == after {
                return false;
            }
        }
    }

    /// The catalog's triggers tell of what changes an intent's price or whether it can be
    /// bought, and not of a purchase's decrement or of an update that changes nothing (the
    /// waitlist's lock on a product, every second in a sale).
    #[tokio::test]
    async fn the_catalog_tells_of_changes_and_not_of_a_sale() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        let m = "product_id = 'red-tee' AND id = 'm'";
        let told = [
            (format!("UPDATE variants SET stock = COALESCE(stock, 0) + 50 WHERE {m}"), true),
            (format!("UPDATE variants SET stock = stock - 1 WHERE {m}"), false),
            (format!("UPDATE variants SET stock = stock + 1 WHERE {m}"), true),
            (format!("UPDATE variants SET stock = 0 WHERE {m}"), true),
            (format!("UPDATE variants SET stock = NULL WHERE {m}"), true),
            (format!("UPDATE variants SET stock = stock WHERE {m}"), false),
            (format!("UPDATE variants SET price_minor = price_minor + 1 WHERE {m}"), true),
            (format!("UPDATE variants SET label = label WHERE {m}"), false),
            ("UPDATE products SET id = id WHERE id = 'red-tee'".to_owned(), false),
            ("UPDATE products SET title = title || '!' WHERE id = 'red-tee'".to_owned(), true),
        ];
        for (sql, expected) in told {
            assert_eq!(tells(&db, &sql).await, expected, "{sql}");
        }
    }

    /// On SQLite nothing is kept: a change is seen at once.
    #[tokio::test]
    async fn on_sqlite_every_read_is_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open_api(dir.path().join("api.db").as_path()).await.unwrap();
        crate::api::seed::seed_demo_if_empty(&db, 0).await.unwrap();
        let cache = ProductCache::default();
        let (price, ..) = seen(&cache, &db).await;
        run(&db, "UPDATE variants SET price_minor = price_minor + 100 WHERE product_id = 'red-tee' AND id = 'm'").await;
        assert_eq!(seen(&cache, &db).await.0, price + 100);
    }
}
