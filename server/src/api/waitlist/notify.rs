//! Who on a waitlist is told, and the notices themselves.
//!
//! One worker pass per poll, for every product with someone waiting or notified:
//!
//! 1. **Allocate**, in one write transaction that first locks the product's row (so replicas
//!    on one PostgreSQL take turns): notified addresses that paid for the product since are
//!    marked `bought`; if nothing can be bought (sold out, sale not open) the notified ones go
//!    back to `waiting` (a later restock tells them again: one notice per restock);
//!    otherwise the next waiting addresses in sign-up order are notified, as many as there
//!    are units left beyond those notified in the last [`HEAD_START_SECONDS`] and not yet
//!    bought (all of them for stock that is not counted).
//! 2. **Send**: each notified row carries its notice's outbox state (claimed with a
//!    conditional UPDATE, marked sent only after the message left, retried a minute later on
//!    failure), through the receipts' [`Mailer`](crate::api::receipts::Mailer).
//!
//! Polling rather than hooks in the import and order paths means every way stock can come
//! back (an import, the admin api, a failed payment giving units back, a sale window that
//! opens) is seen the same way, at most one poll later.

use super::UNSUBSCRIBE_PATH;
use crate::api::receipts::{MailQueue, Mailer};
use crate::db::{begin_write, Db};
use crate::error::AppError;
use lettre::message::header::ContentType;
use lettre::Message;
use std::time::Duration;
use tokio::sync::watch;
use tweetbuy_core::waitlist::NoticeLang;

/// How often the worker looks.
const POLL: Duration = Duration::from_secs(1);
/// Notices claimed and sent at once.
const BATCH: i64 = 20;
/// The notices: rows of the waitlist whose address was told, in the order they were.
pub(crate) const NOTICES: MailQueue = MailQueue {
    mail: "waitlist notice",
    table: "waitlist",
    key: "id",
    prefix: "mail_",
    only: " AND status = 'notified'",
    order_by: "notified_at, created_at",
};
/// How long a notified address has the units to itself: after that, if they are still
/// unsold, the next waiting addresses are told too.
pub const HEAD_START_SECONDS: i64 = 3600;

/// The waitlist worker.
#[derive(Clone)]
pub struct Worker {
    /// The api database holding the waitlists and their notices.
    pub db: Db,
    /// How the notices go out: SMTP, or `.eml` files.
    pub mailer: Mailer,
    /// The `From:` address.
    pub from: String,
    /// The api's public origin, for the unsubscribe link.
    pub api_origin: String,
}

/// Units one product can sell now: `None` for "no limit" (stock not counted), `Some(0)` when
/// it is sold out or its sale is not open.
pub fn units_for_sale(on_sale: bool, stocks: &[Option<i64>]) -> Option<i64> {
    if !on_sale {
        return Some(0);
    }
    stocks.iter().try_fold(0i64, |sum, stock| stock.map(|s| sum + s.max(0)))
}

/// How many more waiting addresses to notify: the units left beyond those notified and not
/// yet bought (every waiting one when units are not counted).
pub fn to_notify(units: Option<i64>, outstanding: i64, waiting: i64) -> i64 {
    match units {
        None => waiting,
        Some(units) => (units - outstanding).clamp(0, waiting),
    }
}

impl Worker {
    /// Polls until `stop` flips, goes round once more (the notices due then), then returns
    /// ([`crate::rounds`]).
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let mut rounds = crate::rounds::Rounds::new(stop);
        loop {
            let now = crate::clock::now();
            if let Err(error) = self.allocate_all(now).await {
                tracing::warn!(%error, "waitlist");
            }
            // Once stopped, a batch under way is finished and no other begins.
            if let Err(error) = self.send_batches(now, || !rounds.stopping()).await {
                tracing::warn!(%error, "waitlist notices");
            }
            if !rounds.next(POLL).await {
                return;
            }
        }
    }

    /// Runs [`allocate`] for every product with someone waiting or notified.
    pub async fn allocate_all(&self, now: i64) -> Result<usize, AppError> {
        let products: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT product_id FROM waitlist WHERE status IN ('waiting', 'notified')")
                .fetch_all(&self.db)
                .await?;
        let mut notified = 0;
        for (product_id,) in products {
            notified += allocate(&self.db, &product_id, now).await?;
        }
        Ok(notified)
    }

    /// Sends the notices that are due, a [`BATCH`] at once after another while batches come
    /// back full and sent (a failed send waits for the next poll); returns how many were sent.
    pub async fn send_due(&self, now: i64) -> Result<usize, AppError> {
        self.send_batches(now, || true).await
    }

    /// [`Worker::send_due`], with a next batch begun only while `go_on` says so.
    async fn send_batches(&self, now: i64, go_on: impl Fn() -> bool) -> Result<usize, AppError> {
        let mut sent = 0;
        loop {
            let batch = NOTICES
                .send_batch(&self.db, &self.mailer, (now, now, BATCH), async |claimed: &[String]| {
                    let mut messages = Vec::with_capacity(claimed.len());
                    for id in claimed {
                        messages.push(self.message(id).await);
                    }
                    Ok(messages)
                })
                .await?;
            sent += batch.sent();
            if !batch.more() || !go_on() {
                return Ok(sent);
            }
        }
    }

    async fn message(&self, id: &str) -> Result<(String, Message), AppError> {
        type NoticeRow = (String, String, String, String, Option<i64>, String, String, String);
        let (email, wait_for, lang, token, notified_at, title, seller, tweet_id): NoticeRow = sqlx::query_as(
            "SELECT w.email, w.wait_for, w.lang, w.unsubscribe_token, w.notified_at, p.title, p.seller_name, \
             p.tweet_id FROM waitlist w JOIN products p ON p.id = w.product_id WHERE w.id = $1",
        )
        .bind(id)
        .fetch_one(&self.db)
        .await?;
        let unsubscribe = format!("{}{UNSUBSCRIBE_PATH}?token={token}", self.api_origin.trim_end_matches('/'));
        let notice = Notice { sale: wait_for == "sale_start", title: &title, seller: &seller, tweet_id: &tweet_id };
        let (subject, text) = notice.text(crate::db::from_text(&lang)?, &unsubscribe);
        let bad = |what: &str| AppError::internal(format!("waitlist notice {what}"));
        let message = Message::builder()
            .from(self.from.parse().map_err(|_| bad("sender address"))?)
            .to(email.parse().map_err(|_| bad("recipient address"))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| bad(&e.to_string()))?;
        // One file per notice: a later restock's notice does not overwrite this one.
        Ok((format!("waitlist-{id}-{}", notified_at.unwrap_or_default()), message))
    }
}

/// What one notice is about.
struct Notice<'a> {
    /// The sale opened (else: the item is back in stock).
    sale: bool,
    title: &'a str,
    seller: &'a str,
    tweet_id: &'a str,
}

impl Notice<'_> {
    /// The subject and text, in the language the buyer joined in.
    fn text(&self, lang: NoticeLang, unsubscribe: &str) -> (String, String) {
        let Notice { sale, title, seller, tweet_id } = *self;
        let tweet = format!("https://x.com/i/web/status/{tweet_id}");
        match lang {
            NoticeLang::En => (
                format!("{}: {title}", if sale { "On sale now" } else { "Back in stock" }),
                format!(
                    "Good news: {title} from {seller} {}.\n\nUnits are limited and go to whoever buys first. \
                     Buy it from the tweet: {tweet}\n\n\
                     You get this email because you asked to be told about this item, once.\n\
                     Stop emails about it: {unsubscribe}\n",
                    if sale { "is on sale now" } else { "is back in stock" }
                ),
            ),
            NoticeLang::Es => (
                format!("{}: {title}", if sale { "Ya a la venta" } else { "De nuevo disponible" }),
                format!(
                    "Buenas noticias: {title}, de {seller}, {}.\n\nLas unidades son limitadas y son para quien \
                     compre primero. Cómpralo desde el tuit: {tweet}\n\n\
                     Recibes este correo porque pediste que te avisáramos de este artículo, una vez.\n\
                     Dejar de recibir correos sobre él: {unsubscribe}\n",
                    if sale { "ya está a la venta" } else { "vuelve a estar disponible" }
                ),
            ),
        }
    }
}

/// One allocation pass for one product (see the module docs); returns how many addresses
/// it notified.
pub async fn allocate(db: &Db, product_id: &str, now: i64) -> Result<usize, AppError> {
    let mut tx = begin_write(db).await?;
    // Locks the product's row on PostgreSQL until commit: one replica allocates at a time.
    let locked = sqlx::query("UPDATE products SET id = id WHERE id = $1").bind(product_id).execute(&mut tx).await?;
    if locked.rows_affected() != 1 {
        return Ok(0);
    }
    sqlx::query(
        "UPDATE waitlist SET status = 'bought' WHERE product_id = $1 AND status = 'notified' AND EXISTS \
         (SELECT 1 FROM orders o WHERE o.product_id = waitlist.product_id AND lower(o.email) = waitlist.email \
         AND o.status = 'paid' AND o.created_at >= waitlist.notified_at)",
    )
    .bind(product_id)
    .execute(&mut tx)
    .await?;
    let (starts, ends): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT sale_starts_at, sale_ends_at FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_one(&mut tx)
            .await?;
    let on_sale = starts.is_none_or(|t| t <= now) && ends.is_none_or(|t| now < t);
    let stocks: Vec<(Option<i64>,)> =
        sqlx::query_as("SELECT stock FROM variants WHERE product_id = $1").bind(product_id).fetch_all(&mut tx).await?;
    let stocks: Vec<Option<i64>> = stocks.into_iter().map(|(s,)| s).collect();
    let units = if stocks.is_empty() { Some(0) } else { units_for_sale(on_sale, &stocks) };
    if units == Some(0) {
        // Nothing to buy: whoever was told and did not buy waits for the next restock.
        sqlx::query("UPDATE waitlist SET status = 'waiting' WHERE product_id = $1 AND status = 'notified'")
            .bind(product_id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        return Ok(0);
    }
    let (outstanding, waiting): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN status = 'notified' AND notified_at > $2 THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END), 0) FROM waitlist WHERE product_id = $1",
    )
    .bind(product_id)
    .bind(now - HEAD_START_SECONDS)
    .fetch_one(&mut tx)
    .await?;
    let n = to_notify(units, outstanding, waiting);
    if n == 0 {
        tx.commit().await?;
        return Ok(0);
    }
    let next: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM waitlist WHERE product_id = $1 AND status = 'waiting' ORDER BY created_at, id LIMIT $2",
    )
    .bind(product_id)
    .bind(n)
    .fetch_all(&mut tx)
    .await?;
    for (id,) in &next {
        sqlx::query(
            "UPDATE waitlist SET status = 'notified', notified_at = $1, mail_sent_at = NULL, mail_locked_until = NULL, \
             mail_attempts = 0, mail_last_error = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(next.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_count_only_while_on_sale_and_uncounted_stock_has_no_limit() {
        assert_eq!(units_for_sale(true, &[Some(2), Some(3)]), Some(5));
        assert_eq!(units_for_sale(true, &[Some(2), None]), None);
        assert_eq!(units_for_sale(false, &[Some(2), None]), Some(0));
        assert_eq!(units_for_sale(true, &[Some(0), Some(0)]), Some(0));
    }

    #[test]
    fn a_notice_speaks_the_language_it_was_asked_in() {
        let notice = Notice { sale: false, title: "Tour tee", seller: "Paramore", tweet_id: "15" };
        let (subject, text) = notice.text(NoticeLang::Es, "http://u");
        assert_eq!(subject, "De nuevo disponible: Tour tee");
        assert!(text.contains("vuelve a estar disponible") && text.contains("http://u"), "{text}");
        let (subject, text) = Notice { sale: true, ..notice }.text(NoticeLang::En, "http://u");
        assert_eq!(subject, "On sale now: Tour tee");
        assert!(text.contains("https://x.com/i/web/status/15") && text.contains("Stop emails about it: http://u"));
    }

    #[test]
    fn notices_never_outnumber_the_units_left() {
        assert_eq!(to_notify(Some(5), 0, 20), 5, "five units, five notices");
        assert_eq!(to_notify(Some(5), 3, 20), 2, "three told already");
        assert_eq!(to_notify(Some(2), 3, 20), 0, "more told than left");
        assert_eq!(to_notify(Some(50), 0, 4), 4, "everyone waiting");
        assert_eq!(to_notify(None, 7, 4), 4, "no limit");
    }
}
