//! Order receipts by email, sent from the `receipt_outbox` table by a background worker, and
//! refund receipts the same way from `refund_receipt_outbox` (a row per succeeded refund,
//! written in the transaction that records the refund; the file is
//! `{order_number}-refund-{n}.eml`).
//!
//! The row is written in the same transaction that marks the order paid, and the worker
//! only marks it sent after the message left, so a crash anywhere in between means the
//! receipt is sent after the restart (at least once; the `.eml` file name is the order
//! number, so a repeat overwrites rather than duplicates). Rows are claimed with a
//! conditional UPDATE, so several server processes on one PostgreSQL do not send twice.
//!
//! A receipt is written in the language the buyer paid in (`orders.lang`, from the card
//! frame): Spanish for an `es` tag, else English, with its prices as the sheet wrote them for
//! the locales core knows ([`tweetbuy_core::locale_format`]); the buyer who read the whole
//! purchase in Spanish is not sent its receipt in English.
//!
//! Transport: SMTP (lettre) when `SMTP_URL` is set, else `.eml` files in `outbox/` under
//! the data directory, the demo default. A receipt shows the card's brand and last four
//! digits only: the api never had more.
//!
//! A receipt carries the buyer's email and shipping address, and the SMTP login carries the
//! seller's mail password, so a mail server off this machine is reached over TLS: `smtps://`
//! (TLS from the first byte) or `smtp+starttls://` (plain greeting, then STARTTLS, which is
//! required: a server that does not offer it gets no login and no message, since anyone on
//! the network path could strip the offer). TLS is rustls with the ring provider, so no OpenSSL
//! is linked. The server's certificate is checked against the Mozilla roots compiled in
//! (webpki-roots), so a container without a system certificate store still verifies, plus
//! the CA certificates of `SMTP_CA_FILE` for a mail server with a private or self-signed
//! certificate. Plain `smtp://` is for a relay on loopback or a private network.
//! Every setting is checked when the server starts, so a mistake stops the start instead
//! of leaving receipts in the outbox.

use crate::api::seller_orders::{Bought, BOUGHT_COLUMNS, FROM_ORDERS};
use crate::db::{engine_of, from_text, write_conn, Db, Engine};
use crate::error::AppError;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;
use tweetbuy_core::waitlist::NoticeLang;
use tweetbuy_core::{locale_format, CardBrand, Currency, Money, ShippingAddress};

/// How long a claimed receipt is left to its sender before another worker may retry it.
const CLAIM_SECONDS: i64 = 60;
/// How often the worker looks for receipts to send.
const POLL: Duration = Duration::from_millis(250);
/// Receipts handled per poll.
const BATCH: i64 = 20;

/// Where receipts go.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP server, over TLS unless the URL is plain `smtp://`.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this folder.
    Files(PathBuf),
}

impl Mailer {
    /// SMTP for `smtp_url` (trusting the CA certificates in `ca_file` besides the built-in
    /// roots), else files in `outbox_dir`. A CA file without a TLS URL is refused: it would
    /// protect nothing, and its presence says the seller expected TLS.
    pub fn new(smtp_url: Option<&str>, ca_file: Option<&Path>, outbox_dir: PathBuf) -> Result<Mailer, String> {
        match smtp_url {
            Some(url) => {
                let url = SmtpUrl::parse(url)?;
                let extra_roots = match ca_file {
                    Some(path) if url.security == Security::Plain => {
                        return Err(format!(
                            "SMTP_CA_FILE {} is set but SMTP_URL is plain smtp://, which uses no TLS: use \
                             smtps:// or smtp+starttls://, or drop the CA file",
                            path.display()
                        ))
                    }
                    Some(path) => read_ca_file(path)?,
                    None => Vec::new(),
                };
                url.transport(&extra_roots).map(Mailer::Smtp)
            }
            None => match ca_file {
                Some(path) => Err(format!(
                    "SMTP_CA_FILE {} is set but SMTP_URL is not: receipts would be written to files, not mailed",
                    path.display()
                )),
                None => Ok(Mailer::Files(outbox_dir)),
            },
        }
    }

    /// Sends a batch of messages, each named by its file stem, together: over SMTP at the
    /// same time, as files in one trip to the blocking pool. One outcome per message, in
    /// their order.
    pub(crate) async fn send_all(&self, messages: Vec<(String, Message)>) -> Vec<Result<(), String>> {
        if messages.is_empty() {
            return Vec::new();
        }
        match self {
            Mailer::Smtp(transport) => {
                let sends = messages.into_iter().map(|(_, message)| async move {
                    transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
                });
                futures_util::future::join_all(sends).await
            }
            Mailer::Files(dir) => {
                let count = messages.len();
                let files: Vec<(String, Vec<u8>)> =
                    messages.into_iter().map(|(stem, message)| (stem, message.formatted())).collect();
                let dir = dir.clone();
                // Every file's few system calls in one trip to the blocking pool, not one each.
                // Messages hold buyers' emails and addresses: the folder is this user's only.
                let written = tokio::task::spawn_blocking(move || match crate::db::private_dir(&dir) {
                    Ok(()) => files
                        .iter()
                        .map(|(stem, bytes)| write_into_private_dir(&dir, stem, bytes).map_err(|e| e.to_string()))
                        .collect(),
                    Err(error) => vec![Err(error.to_string()); files.len()],
                })
                .await;
                written.unwrap_or_else(|error| vec![Err(error.to_string()); count])
            }
        }
    }
}

/// Writes `{stem}.eml` into `dir`, a folder already made private (blocking).
fn write_into_private_dir(dir: &std::path::Path, stem: &str, bytes: &[u8]) -> std::io::Result<()> {
    // Written aside and renamed, so a reader never sees half a message.
    let partial = dir.join(format!(".{stem}.eml.partial"));
    write_private(&partial, bytes)?;
    std::fs::rename(&partial, dir.join(format!("{stem}.eml")))
}

/// Writes a new file readable by this user only (mode 0600 from the start, never wider),
/// and waits until it is on disk.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The accepted forms of `SMTP_URL`, for error messages.
const SMTP_URL_FORMS: &str =
    "smtp://[user:password@]host[:port] (plain, port 25), smtps://… (TLS, port 465) or smtp+starttls://… \
     (STARTTLS required, port 587)";

/// How the connection to the mail server is protected, named by the URL's scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Security {
    /// `smtp://`: no TLS at all.
    Plain,
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp+starttls://`: a plain greeting, then STARTTLS before anything else, or nothing.
    StartTls,
}

/// A parsed `SMTP_URL`. Not `Debug`: it holds the password.
pub(crate) struct SmtpUrl {
    pub(crate) security: Security,
    /// A name or an IP address (IPv6 without its brackets); also the name the certificate
    /// must carry.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// User and password, taken as written (no percent-decoding).
    pub(crate) credentials: Option<(String, String)>,
}

impl SmtpUrl {
    /// `SCHEME://[user:password@]host[:port]` with a scheme of [`SMTP_URL_FORMS`]. Errors
    /// never repeat the URL, which may hold a password.
    pub(crate) fn parse(url: &str) -> Result<SmtpUrl, String> {
        let bad = |why: &str| format!("SMTP_URL: {why}; expected {SMTP_URL_FORMS}");
        let (scheme, rest) = url.trim().split_once("://").ok_or_else(|| bad("no scheme"))?;
        let (security, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => (Security::Plain, 25),
            "smtps" => (Security::Implicit, 465),
            "smtp+starttls" => (Security::StartTls, 587),
            other => {
                // A scheme is letters, digits, `+`, `-` and `.`; anything else is not echoed.
                let shown = if other.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
                    format!("unknown scheme {other:?}")
                } else {
                    "unknown scheme".to_owned()
                };
                return Err(bad(&shown));
            }
        };
        let (credentials, host_port) = match rest.rsplit_once('@') {
            Some((user_info, host_port)) => {
                let (user, password) = user_info
                    .split_once(':')
                    .filter(|(user, password)| !user.is_empty() && !password.is_empty())
                    .ok_or_else(|| bad("a login needs both a user and a password (user:password@)"))?;
                (Some((user.to_owned(), password.to_owned())), host_port)
            }
            None => (None, rest),
        };
        let host_port = host_port.strip_suffix('/').unwrap_or(host_port);
        if host_port.contains('?') {
            return Err(bad(
                "options after `?` are not read (for STARTTLS use the scheme smtp+starttls://, for TLS smtps://)",
            ));
        }
        let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
            let (inside, after) = v6.split_once(']').ok_or_else(|| bad("an IPv6 address needs its closing ]"))?;
            if inside.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("not an IPv6 address inside [ ]"));
            }
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| bad("unexpected text after the IPv6 address"))?),
            };
            (inside, port)
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        let port = match port {
            None => default_port,
            Some(port) => port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| bad("the port is not 1-65535"))?,
        };
        if !is_host(host) {
            return Err(bad("no host, or a host with characters a host name does not have"));
        }
        Ok(SmtpUrl { security, host: host.to_owned(), port, credentials })
    }

    /// The transport: plain, or TLS verified against the built-in roots and `extra_roots`.
    pub(crate) fn transport(&self, extra_roots: &[Certificate]) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let tls = match self.security {
            Security::Plain => Tls::None,
            Security::Implicit | Security::StartTls => {
                let parameters = extra_roots
                    .iter()
                    .fold(
                        TlsParameters::builder(self.host.clone()).certificate_store(CertificateStore::WebpkiRoots),
                        |builder, root| builder.add_root_certificate(root.clone()),
                    )
                    .build_rustls()
                    .map_err(|e| format!("SMTP_URL: TLS settings: {e}"))?;
                if self.security == Security::Implicit {
                    Tls::Wrapper(parameters)
                } else {
                    Tls::Required(parameters)
                }
            }
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.as_str()).port(self.port).tls(tls);
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        // A batch's receipts are sent at once, each on its own connection: the pool keeps
        // that many open between batches rather than closing and opening them again.
        let pool = lettre::transport::smtp::PoolConfig::new().max_size(BATCH as u32);
        Ok(builder.pool_config(pool).build())
    }
}

/// A host name (letters, digits, `-`, `.`, `_`) or an IP address.
fn is_host(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
        || (!host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)))
}

/// The CA certificates of a PEM file: at least one, each well-formed (other PEM sections,
/// such as a key, are skipped).
fn read_ca_file(path: &Path) -> Result<Vec<Certificate>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("SMTP_CA_FILE {shown}: {e}"))?;
    let ders = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("SMTP_CA_FILE {shown}: not a readable PEM file: {e}"))?;
    if ders.is_empty() {
        return Err(format!("SMTP_CA_FILE {shown}: no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)"));
    }
    ders.into_iter()
        .enumerate()
        .map(|(index, der)| {
            let unusable = |e: lettre::transport::smtp::Error| {
                format!("SMTP_CA_FILE {shown}: certificate {} is not usable as a trusted root: {e}", index + 1)
            };
            let certificate = Certificate::from_der(der.to_vec()).map_err(unusable)?;
            // Building a trust store with it alone parses it as a trust anchor.
            TlsParameters::builder("localhost".to_owned())
                .certificate_store(CertificateStore::None)
                .add_root_certificate(certificate.clone())
                .build_rustls()
                .map_err(unusable)?;
            Ok(certificate)
        })
        .collect()
}

/// A table of mail waiting to be sent, as a worker claims, sends and marks its rows: by
/// key, with the columns `sent_at`, `locked_until`, `attempts` and `last_error` (after
/// [`MailQueue::prefix`]) and `created_at`.
#[derive(Clone, Copy)]
pub(crate) struct MailQueue {
    /// What one of its mails is, for the logs ("receipt": "receipt sent").
    pub(crate) mail: &'static str,
    pub(crate) table: &'static str,
    pub(crate) key: &'static str,
    /// What the mail columns' names start with.
    pub(crate) prefix: &'static str,
    /// A further condition a row must meet to be mail at all (`AND …`), or nothing.
    pub(crate) only: &'static str,
    /// The order rows are sent in: the columns of the queue's index of its unsent rows
    /// (migration 0009), which a claim reads in that order.
    pub(crate) order_by: &'static str,
}

impl MailQueue {
    /// Claims up to `limit` due rows created at or before `created_by`, in
    /// [`MailQueue::order_by`], in one statement ([`MailQueue::claim_sql`]); returns their
    /// keys.
    async fn claim(self, db: &Db, now: i64, created_by: i64, limit: i64) -> Result<Vec<String>, AppError> {
        let sql = self.claim_sql(engine_of(db));
        // Behind the write gate like the order path's writes, so those never meet this
        // worker's lock on SQLite (and sleep in its busy handler).
        let claimed: Vec<(String,)> = sqlx::query_as(&sql)
            .persistent(crate::db::keeps_plans(db))
            .bind(now + CLAIM_SECONDS)
            .bind(created_by)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut write_conn(db).await?)
            .await?;
        Ok(claimed.into_iter().map(|(id,)| id).collect())
    }

    /// The claim's statement. The batch is picked once, in a materialized CTE: as an `IN
    /// (subquery)`, PostgreSQL may run the subquery again for each row it updates, and its
    /// `LIMIT` then bounds nothing. Of several workers on one PostgreSQL only one claims a
    /// row: the pick locks its rows, skipping those another worker is claiming, and a row
    /// another worker claimed since this statement began is checked again as it is locked,
    /// and left out. (SQLite runs one writer at a time.) Each queue's index of its unsent
    /// rows in [`MailQueue::order_by`] gives the pick its order, so it reads its batch and
    /// stops. The update then finds the picked rows by key alone: PostgreSQL through an array
    /// (an `IN` of the CTE may be planned as a walk over every unsent row), and with no
    /// condition on `sent_at`, which its planner would rather meet through that index.
    fn claim_sql(self, engine: Engine) -> String {
        let MailQueue { table, key, prefix: m, only, order_by, .. } = self;
        let free = format!("{m}sent_at IS NULL AND ({m}locked_until IS NULL OR {m}locked_until < $3){only}");
        let (skip_locked, is_picked) = match engine {
            Engine::Postgres => (" FOR UPDATE SKIP LOCKED", format!("{key} = ANY(ARRAY(SELECT {key} FROM picked))")),
            Engine::Sqlite => ("", format!("{key} IN (SELECT {key} FROM picked)")),
        };
        format!(
            "WITH picked AS MATERIALIZED (SELECT {key} FROM {table} WHERE {free} AND created_at <= $2 \
             ORDER BY {order_by} LIMIT $4{skip_locked}) \
             UPDATE {table} SET {m}locked_until = $1, {m}attempts = {m}attempts + 1 \
             WHERE {is_picked} RETURNING {key}"
        )
    }

    /// Claims a batch of up to `limit` rows (see [`MailQueue::claim`]), builds their messages
    /// with `build` (one per claimed key, in their order), sends them together and records
    /// how each went.
    pub(crate) async fn send_batch<B>(
        self,
        db: &Db,
        mailer: &Mailer,
        (now, created_by, limit): (i64, i64, i64),
        build: B,
    ) -> Result<MailBatch, AppError>
    where
        B: AsyncFnOnce(&[String]) -> Result<Vec<Result<(String, Message), AppError>>, AppError>,
    {
        let claimed = self.claim(db, now, created_by, limit).await?;
        if claimed.is_empty() {
            return Ok(MailBatch { claimed, outcomes: Vec::new(), limit });
        }
        let outcomes = send_built(mailer, build(&claimed).await?).await;
        self.settle(db, &claimed, &outcomes).await?;
        for (id, outcome) in claimed.iter().zip(&outcomes) {
            match outcome {
                Ok(()) => tracing::info!(%id, queue = self.table, "{} sent", self.mail),
                Err(error) => tracing::warn!(%id, queue = self.table, %error, "{} not sent; will retry", self.mail),
            }
        }
        Ok(MailBatch { claimed, outcomes, limit })
    }

    /// Records how the sends of `claimed` went, one outcome each: the sent ones marked in one
    /// statement, each failed one's error kept (it stays claimed until the claim runs out,
    /// which spaces out the retries).
    async fn settle(self, db: &Db, claimed: &[String], outcomes: &[Result<(), String>]) -> Result<(), AppError> {
        let MailQueue { table, key, prefix: m, .. } = self;
        let sent: Vec<&String> =
            claimed.iter().zip(outcomes).filter(|(_, outcome)| outcome.is_ok()).map(|(id, _)| id).collect();
        let mut writer = write_conn(db).await?;
        if !sent.is_empty() {
            let sql = format!(
                "UPDATE {table} SET {m}sent_at = $1, {m}locked_until = NULL, {m}last_error = NULL WHERE {key} IN ({})",
                crate::db::placeholders(1, sent.len())
            );
            let mut marked = sqlx::query(&sql).persistent(crate::db::keeps_plans(db)).bind(crate::clock::now());
            for id in &sent {
                marked = marked.bind(*id);
            }
            marked.execute(&mut writer).await?;
        }
        for (id, outcome) in claimed.iter().zip(outcomes) {
            if let Err(error) = outcome {
                sqlx::query(&format!("UPDATE {table} SET {m}last_error = $1 WHERE {key} = $2"))
                    .bind(error)
                    .bind(id)
                    .execute(&mut writer)
                    .await?;
            }
        }
        Ok(())
    }
}

/// What one batch of a [`MailQueue`] did: the keys it claimed, and how each one's send went.
pub(crate) struct MailBatch {
    pub(crate) claimed: Vec<String>,
    pub(crate) outcomes: Vec<Result<(), String>>,
    limit: i64,
}

impl MailBatch {
    /// How many were sent.
    pub(crate) fn sent(&self) -> usize {
        self.outcomes.iter().filter(|outcome| outcome.is_ok()).count()
    }

    /// Whether more may be due at once: the batch was whole and every send in it went. After
    /// a failed send the worker waits for its next poll, so a mail server that is down is
    /// not sent the whole queue at once.
    pub(crate) fn more(&self) -> bool {
        self.claimed.len() == self.limit as usize && self.sent() == self.claimed.len()
    }
}

/// Sends a batch's messages, built one per claimed row in the rows' order, together; a
/// message that could not be built fails alone, as a send that failed. One outcome per row.
async fn send_built(mailer: &Mailer, messages: Vec<Result<(String, Message), AppError>>) -> Vec<Result<(), String>> {
    let mut outcomes: Vec<Result<(), String>> = Vec::with_capacity(messages.len());
    let mut ready = Vec::with_capacity(messages.len());
    for (index, message) in messages.into_iter().enumerate() {
        match message {
            Ok(message) => {
                outcomes.push(Ok(()));
                ready.push((index, message));
            }
            Err(error) => outcomes.push(Err(error.to_string())),
        }
    }
    let (indexes, ready): (Vec<usize>, Vec<(String, Message)>) = ready.into_iter().unzip();
    for (index, result) in indexes.into_iter().zip(mailer.send_all(ready).await) {
        outcomes[index] = result;
    }
    outcomes
}

/// The outboxes the worker sends from: one row per paid order, one per succeeded refund.
#[derive(Clone, Copy)]
enum Outbox {
    Orders,
    Refunds,
}

impl Outbox {
    fn queue(self) -> MailQueue {
        let (mail, table, key) = match self {
            Outbox::Orders => ("receipt", "receipt_outbox", "order_id"),
            Outbox::Refunds => ("refund receipt", "refund_receipt_outbox", "refund_id"),
        };
        MailQueue { mail, table, key, prefix: "", only: "", order_by: "created_at" }
    }
}

/// Settings of the worker.
#[derive(Clone)]
pub struct Worker {
    /// The api database whose receipt outbox is sent.
    pub db: Db,
    /// How the receipts go out: SMTP, or `.eml` files.
    pub mailer: Mailer,
    /// The `From:` address.
    pub from: String,
    /// Test hook: only receipts of orders at least this old are sent.
    pub send_delay_secs: i64,
}

impl Worker {
    /// Polls until `stop` flips, goes round once more (the receipts due then), then returns
    /// ([`crate::rounds`]).
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let mut rounds = crate::rounds::Rounds::new(stop);
        loop {
            // Batch after batch while they come back full; once stopped, a batch under way is
            // finished and no other begins, so a stop sends nothing twice.
            loop {
                match self.send_batch(crate::clock::now()).await {
                    Ok((_, true)) if !rounds.stopping() => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "receipt outbox");
                        break;
                    }
                }
            }
            if !rounds.next(POLL).await {
                return;
            }
        }
    }

    /// Sends the receipts that are due, of orders and of refunds, a [`BATCH`] after another
    /// until none is left, so a sale's buyers get theirs within seconds; returns how many
    /// were sent.
    pub async fn send_due(&self, now: i64) -> Result<usize, AppError> {
        let mut sent = 0;
        loop {
            let (sent_now, more) = self.send_batch(now).await?;
            sent += sent_now;
            if !more {
                return Ok(sent);
            }
        }
    }

    /// One batch of each outbox; returns how many were sent, and whether more may be due
    /// ([`MailBatch::more`] of every outbox that had a whole batch, none failing).
    async fn send_batch(&self, now: i64) -> Result<(usize, bool), AppError> {
        let (mut sent, mut full, mut failed) = (0, false, false);
        for outbox in [Outbox::Orders, Outbox::Refunds] {
            let batch = self.send_from(outbox, now).await?;
            sent += batch.sent();
            full |= batch.more();
            failed |= batch.sent() < batch.claimed.len();
        }
        Ok((sent, full && !failed))
    }

    /// A batch of `outbox`'s due receipts: a write transaction to claim it and one to mark
    /// it, not two per receipt, so the worker keeps pace with a sale.
    async fn send_from(&self, outbox: Outbox, now: i64) -> Result<MailBatch, AppError> {
        let due = (now, now - self.send_delay_secs, BATCH);
        let batch = outbox
            .queue()
            .send_batch(&self.db, &self.mailer, due, async |claimed: &[String]| match outbox {
                Outbox::Orders => self.messages(claimed).await,
                Outbox::Refunds => {
                    let mut messages = Vec::with_capacity(claimed.len());
                    for id in claimed {
                        messages.push(self.refund_message(id).await);
                    }
                    Ok(messages)
                }
            })
            .await?;
        Ok(batch)
    }

    /// The receipts of the orders `order_ids`, in their order, read in one statement.
    async fn messages(&self, order_ids: &[String]) -> Result<Vec<Result<(String, Message), AppError>>, AppError> {
        let sql = format!("{} WHERE o.id IN ({})", receipt_sql(), crate::db::placeholders(0, order_ids.len()));
        let mut query = sqlx::query_as::<_, ReceiptRow>(&sql).persistent(crate::db::keeps_plans(&self.db));
        for id in order_ids {
            query = query.bind(id);
        }
        let mut rows: std::collections::HashMap<String, ReceiptRow> = query
            .fetch_all(&mut crate::db::read_conn(&self.db).await?)
            .await?
            .into_iter()
            .map(|row| (row.order_id.clone(), row))
            .collect();
        Ok(order_ids
            .iter()
            .map(|id| match rows.remove(id) {
                Some(row) => receipt_message(row, &self.from),
                None => Err(AppError::internal("a receipt's order is missing")),
            })
            .collect())
    }

    /// A refund's receipt, named `{order_number}-refund-{number}` so it never overwrites the
    /// order's receipt or another refund's.
    async fn refund_message(&self, refund_id: &str) -> Result<(String, Message), AppError> {
        type RefundReceiptRow = (
            String,
            String,
            String,
            i64,
            String,
            i64,
            String,
            i64,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: RefundReceiptRow = sqlx::query_as(
            "SELECT o.order_number, o.email, COALESCE(o.bought_title, p.title), r.number, r.kind, r.amount_minor, r.currency, o.total_minor, \
             CAST(COALESCE((SELECT SUM(e.amount_minor) FROM refunds e WHERE e.order_id = r.order_id \
             AND e.status = 'succeeded' AND e.number <= r.number), 0) AS BIGINT), o.card_brand, o.card_last4, o.lang \
             FROM refunds r JOIN orders o ON o.id = r.order_id JOIN products p ON p.id = o.product_id WHERE r.id = $1",
        )
        .bind(refund_id)
        .fetch_one(&self.db)
        .await?;
        let (number, email, title, nth, kind, amount, currency, total, refunded, brand, last4, lang) = row;
        let currency = Currency::parse(&currency).ok_or_else(|| AppError::internal("stored currency"))?;
        let words = Words::new(lang);
        let money = |minor| words.money(minor, currency);
        let card = words.card(brand.as_deref())?;
        let last4 = last4.unwrap_or_default();
        let cancelled = kind == "cancellation";
        let (subject, text) = match words.lang {
            NoticeLang::En => (
                format!("Refund for your order {number}"),
                format!(
                    "{}\n\n{title}\n\nRefunded now: {}\nRefunded in all: {} of {}\n\nRefunded to {card} ending in \
                     {last4}. It may take a few days to appear on your statement.\n",
                    match cancelled {
                        true => format!("Your order {number} has been cancelled."),
                        false => format!("We have refunded part or all of your order {number}."),
                    },
                    money(amount),
                    money(refunded),
                    money(total),
                ),
            ),
            NoticeLang::Es => (
                format!("Reembolso de tu pedido {number}"),
                format!(
                    "{}\n\n{title}\n\nReembolsado ahora: {}\nReembolsado en total: {} de {}\n\nEl importe se ha devuelto \
                     a tu {card} terminada en {last4}. Puede tardar unos días en aparecer en tu extracto.\n",
                    match cancelled {
                        true => format!("Tu pedido {number} se ha cancelado."),
                        false =>
                            format!("Te hemos reembolsado parte o la totalidad del importe de tu pedido {number}."),
                    },
                    money(amount),
                    money(refunded),
                    money(total),
                ),
            ),
        };
        let bad = |what: &str| AppError::internal(format!("refund receipt {what}"));
        let message = Message::builder()
            .from(self.from.parse().map_err(|_| bad("sender address"))?)
            .to(email.parse().map_err(|_| bad("recipient address"))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| bad(&e.to_string()))?;
        Ok((format!("{number}-refund-{nth}"), message))
    }
}

/// An order's receipt as [`receipt_sql`] reads it.
#[derive(sqlx::FromRow)]
struct ReceiptRow {
    order_id: String,
    order_number: String,
    email: String,
    lang: Option<String>,
    #[sqlx(flatten)]
    bought: Bought,
}

/// What an order's receipt shows; the caller adds the `WHERE` on `o.id`.
fn receipt_sql() -> String {
    format!("SELECT o.id AS order_id, o.order_number, o.email, o.lang, {BOUGHT_COLUMNS} {FROM_ORDERS}")
}

/// An order's receipt, named after its order number, from its [`ReceiptRow`].
fn receipt_message(row: ReceiptRow, from: &str) -> Result<(String, Message), AppError> {
    let ReceiptRow { order_id: _, order_number: number, email, lang, bought } = row;
    let Bought {
        title,
        variant_id,
        label,
        quantity,
        currency,
        subtotal_minor: subtotal,
        discount_code: code,
        discount_minor: off,
        shipping_minor: shipping,
        tax_minor: tax,
        total_minor: total,
        card_brand: brand,
        card_last4: last4,
        shipping_json: ship,
    } = bought;
    let currency = Currency::parse(&currency).ok_or_else(|| AppError::internal("stored currency"))?;
    let words = Words::new(lang);
    let money = |minor| words.money(minor, currency);
    let card = words.card(brand.as_deref())?;
    let (label, last4) = (label.unwrap_or(variant_id), last4.unwrap_or_default());
    let (subject, mut text) = match words.lang {
        NoticeLang::En => (
            format!("Your order {number}"),
            format!(
                "Thank you for your order {number}.\n\n{title} ({label}) x {quantity}\n\nSubtotal: {}\n{}Shipping: {}\n\
                 Tax: {}\nTotal: {}\n\nPaid with {card} ending in {last4}\n",
                money(subtotal),
                code.map(|code| format!("Discount ({code}): -{}\n", money(off))).unwrap_or_default(),
                money(shipping),
                money(tax),
                money(total),
            ),
        ),
        NoticeLang::Es => (
            format!("Tu pedido {number}"),
            format!(
                "Gracias por tu pedido {number}.\n\n{title} ({label}) x {quantity}\n\nSubtotal: {}\n{}Envío: {}\n\
                 Impuestos: {}\nTotal: {}\n\nPagado con {card} terminada en {last4}\n",
                money(subtotal),
                code.map(|code| format!("Descuento ({code}): -{}\n", money(off))).unwrap_or_default(),
                money(shipping),
                money(tax),
                money(total),
            ),
        ),
    };
    if let Some(ship) = ship {
        let a: ShippingAddress =
            serde_json::from_str(&ship).map_err(|e| AppError::internal(format!("stored address: {e}")))?;
        text.push_str(&format!(
            "\n{}\n{}\n{}\n{}{}\n{} {} {}\n{}\n",
            words.ships_to(),
            a.name,
            a.line1,
            a.line2,
            if a.line2.is_empty() { "" } else { "\n" },
            a.city,
            a.region,
            a.postal_code,
            a.country
        ));
    }
    let bad = |what: &str| AppError::internal(format!("receipt {what}"));
    let message = Message::builder()
        .from(from.parse().map_err(|_| bad("sender address"))?)
        .to(email.parse().map_err(|_| bad("recipient address"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| bad(&e.to_string()))?;
    Ok((number, message))
}

/// How a receipt or a refund notice speaks to its buyer: in the language they paid in, where
/// we have it, and with prices as the sheet wrote them.
struct Words {
    /// The language of the texts.
    lang: NoticeLang,
    /// The buyer's full tag (`es-MX`), for the prices.
    tag: Option<String>,
}

impl Words {
    fn new(tag: Option<String>) -> Words {
        Words { lang: NoticeLang::for_tag(tag.as_deref()), tag }
    }

    /// `minor` units of `currency` as the sheet wrote them where core knows the buyer's locale
    /// (`es-ES`, `es-MX`); for a locale the sheet asked the browser's `Intl` about, as core
    /// writes its language alone (`es` for `es-AR`: `37,66 US$`, where the sheet showed
    /// `US$ 37,66`); as `$37.66` when core knows neither.
    fn money(&self, minor: i64, currency: Currency) -> String {
        let amount = Money::new(minor, currency);
        let tag = self.tag.as_deref().unwrap_or_default();
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        locale_format::money(&amount, tag)
            .or_else(|| locale_format::money(&amount, primary))
            .unwrap_or_else(|| amount.to_string())
    }

    /// The card as a receipt names it before its last four digits: its brand (`Visa`, `Card`
    /// for none known), or in Spanish `tarjeta Visa` (`tarjeta`).
    fn card(&self, stored: Option<&str>) -> Result<String, AppError> {
        let brand = stored.map(from_text::<CardBrand>).transpose()?.map(CardBrand::display_name);
        Ok(match (self.lang, brand) {
            (NoticeLang::En, brand) => brand.unwrap_or("Card").to_owned(),
            (NoticeLang::Es, Some(brand)) => format!("tarjeta {brand}"),
            (NoticeLang::Es, None) => "tarjeta".to_owned(),
        })
    }

    /// The heading above the shipping address.
    fn ships_to(&self) -> &'static str {
        match self.lang {
            NoticeLang::En => "Ships to:",
            NoticeLang::Es => "Dirección de envío:",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (Security, String, u16, Option<(String, String)>) {
        let url = SmtpUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (url.security, url.host, url.port, url.credentials)
    }

    fn login(user: &str, password: &str) -> Option<(String, String)> {
        Some((user.to_owned(), password.to_owned()))
    }

    /// An email the widget and the api accept is one a receipt can be addressed to: an
    /// internationalized domain included, and none the rule refuses would be.
    #[test]
    fn the_mailer_addresses_every_email_the_rule_accepts() {
        for email in tweetbuy_core::address::INTERNATIONAL_EMAILS {
            let valid = tweetbuy_core::validate_email(email).unwrap();
            assert!(valid.parse::<lettre::Address>().is_ok(), "{email}: accepted by the rule, refused by the mailer");
        }
        for spoofed in ["jane@exa\u{202e}elpm.com", "jane@exa\u{ff20}mple.com", "jane@exa\u{2066}mple.com"] {
            assert!(spoofed.parse::<lettre::Address>().is_err(), "the mailer refuses {spoofed:?}");
            assert!(tweetbuy_core::validate_email(spoofed).is_err(), "so does the rule: {spoofed:?}");
        }
    }

    #[test]
    fn smtp_urls_name_their_security_by_scheme() {
        assert_eq!(parsed("smtp://relay.internal"), (Security::Plain, "relay.internal".into(), 25, None));
        assert_eq!(parsed("smtp://u:p@127.0.0.1:2525/"), (Security::Plain, "127.0.0.1".into(), 2525, login("u", "p")));
        assert_eq!(parsed("smtps://mail.example"), (Security::Implicit, "mail.example".into(), 465, None));
        assert_eq!(parsed("SMTPS://mail.example:10465"), (Security::Implicit, "mail.example".into(), 10465, None));
        assert_eq!(parsed("smtp+starttls://mail.example"), (Security::StartTls, "mail.example".into(), 587, None));
        // A password keeps its `@`, `:` and `/` (taken as written).
        assert_eq!(
            parsed(" smtp+starttls://shop@example.com:p@ss:w/rd@[::1]:2587 "),
            (Security::StartTls, "::1".into(), 2587, login("shop@example.com", "p@ss:w/rd"))
        );
        assert_eq!(parsed("smtps://[2001:db8::1]"), (Security::Implicit, "2001:db8::1".into(), 465, None));
    }

    #[test]
    fn wrong_smtp_urls_are_refused_without_repeating_them() {
        for (url, says) in [
            ("mail.example:25", "no scheme"),
            ("imap://mail.example", "unknown scheme \"imap\""),
            ("https://mail.example", "unknown scheme \"https\""),
            ("smtp://mail.example?tls=starttls", "smtp+starttls://"),
            ("smtps://mail.example:587?tls=required", "smtp+starttls://"),
            ("smtps://", "no host"),
            ("smtps://:465", "no host"),
            ("smtps://mail.example:0", "port"),
            ("smtps://mail.example:65536", "port"),
            ("smtps://mail.example:smtp", "port"),
            ("smtps://mail.example/inbox", "host"),
            ("smtps://mail example", "host"),
            ("smtps://[::1", "closing ]"),
            ("smtps://[mail]:465", "IPv6"),
            ("smtps://[::1]465", "after the IPv6"),
            ("smtps://onlyuser@mail.example", "user and a password"),
            ("smtps://:secret@mail.example", "user and a password"),
            ("smtps://user:@mail.example", "user and a password"),
        ] {
            let error = SmtpUrl::parse(url).err().unwrap_or_else(|| panic!("{url} was taken"));
            assert!(error.starts_with("SMTP_URL: ") && error.contains(says), "{url}: {error}");
            assert!(error.contains("smtps://") && error.contains("smtp+starttls://"), "the forms: {error}");
        }
        let error = SmtpUrl::parse("imap://seller:hunter2@mail.example").err().unwrap();
        assert!(!error.contains("hunter2"), "{error}");
        let error = SmtpUrl::parse("seller:hunter2@mail://x").err().unwrap();
        assert!(!error.contains("hunter2"), "{error}");
    }

    fn mailer(url: Option<&str>, ca_file: Option<&Path>) -> Result<Mailer, String> {
        Mailer::new(url, ca_file, PathBuf::from("outbox"))
    }

    // An SMTP transport starts its connection pool's task on the runtime it is built in.
    #[tokio::test]
    async fn a_ca_file_must_hold_usable_certificates_and_go_with_a_tls_url() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let certified = rcgen::generate_simple_self_signed(vec!["mail.example".to_owned()]).unwrap();
        // A key beside the certificate is skipped.
        std::fs::write(&ca, format!("{}{}", certified.signing_key.serialize_pem(), certified.cert.pem())).unwrap();
        for url in ["smtps://mail.example", "smtp+starttls://u:p@mail.example:2587"] {
            assert!(matches!(mailer(Some(url), Some(&ca)), Ok(Mailer::Smtp(_))), "{url}");
            assert!(matches!(mailer(Some(url), None), Ok(Mailer::Smtp(_))), "{url}: the built-in roots alone");
        }
        assert!(matches!(mailer(Some("smtp://relay.internal"), None), Ok(Mailer::Smtp(_))));
        assert!(matches!(mailer(None, None), Ok(Mailer::Files(_))));

        let error = mailer(Some("smtp://relay.internal"), Some(&ca)).err().unwrap();
        assert!(error.contains("plain smtp://") && error.contains("ca.pem"), "{error}");
        let error = mailer(None, Some(&ca)).err().unwrap();
        assert!(error.contains("SMTP_URL is not"), "{error}");

        let missing = dir.path().join("missing.pem");
        let error = mailer(Some("smtps://mail.example"), Some(&missing)).err().unwrap();
        assert!(error.starts_with("SMTP_CA_FILE ") && error.contains("missing.pem"), "{error}");
        let cases = [
            ("empty.pem", String::new(), "no certificate"),
            ("text.pem", "a CA, honest\n".to_owned(), "no certificate"),
            ("key-only.pem", certified.signing_key.serialize_pem(), "no certificate"),
            ("bad-base64.pem", "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n".to_owned(), "PEM"),
            (
                "bad-der.pem",
                "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n".to_owned(),
                "certificate 1 is not usable",
            ),
            (
                "second-bad.pem",
                format!("{}-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n", certified.cert.pem()),
                "certificate 2 is not usable",
            ),
        ];
        for (name, text, says) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let error =
                mailer(Some("smtps://mail.example"), Some(&path)).err().unwrap_or_else(|| panic!("{name} taken"));
            assert!(
                error.starts_with("SMTP_CA_FILE ") && error.contains(name) && error.contains(says),
                "{name}: {error}"
            );
        }
    }

    /// On SQLite each queue's claim finds its batch through the queue's index of its unsent
    /// rows, in order: no pass over the table, no sort.
    #[tokio::test]
    async fn each_queue_is_claimed_in_order_through_its_index_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open_api(dir.path().join("api.db").as_path()).await.unwrap();
        for queue in [Outbox::Orders.queue(), Outbox::Refunds.queue(), crate::api::waitlist::notify::NOTICES] {
            let sql = format!("EXPLAIN QUERY PLAN {}", queue.claim_sql(Engine::Sqlite));
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&sql).bind(1).bind(1).bind(1).bind(20).fetch_all(&db).await.unwrap();
            let steps: Vec<String> = plan.into_iter().map(|(.., step)| step).collect();
            let index = format!("USING INDEX {}_{}due", queue.table, queue.prefix);
            assert!(steps.iter().any(|step| step.contains(&index)), "{}: {steps:?}", queue.table);
            assert!(!steps.iter().any(|step| step.contains("TEMP B-TREE")), "{}: a sort: {steps:?}", queue.table);
            // A walk is of the index alone (its unsent rows, in order, up to the batch).
            let walk = format!("SCAN {}", queue.table);
            let on_table = |step: &String| step == &walk || step.starts_with(&format!("{walk} "));
            let whole = steps.iter().any(|step| on_table(step) && !step.contains(&index));
            assert!(!whole, "{}: a whole read: {steps:?}", queue.table);
        }
    }

    /// Orders `{prefix}{from}` to `{prefix}{to}`, paid, each with its receipt in the outbox,
    /// sent at `sent_at` (an expression of `n`, or `NULL`).
    fn paid_orders(prefix: &str, from: i64, to: i64, sent_at: &str) -> [String; 2] {
        [
            format!(
                "INSERT INTO orders (id, order_number, product_id, variant_id, quantity, email, subtotal_minor, \
                 shipping_minor, tax_minor, total_minor, currency, status, created_at, updated_at) \
                 SELECT '{prefix}' || n, '{prefix}' || n, 'red-tee', 'm', 1, 'a@example.com', 3000, 0, 0, \
                 3000, 'USD', 'paid', n, n FROM generate_series({from}, {to}) AS n"
            ),
            format!(
                "INSERT INTO receipt_outbox (order_id, created_at, sent_at) \
                 SELECT '{prefix}' || n, n, {sent_at} FROM generate_series({from}, {to}) AS n"
            ),
        ]
    }

    /// On PostgreSQL a batch of receipts is claimed, read and marked by key however large the
    /// tables have grown since those statements first ran: plans kept from when the tables
    /// were small read every order and every receipt for each batch (6 ms for a batch of 20,
    /// seen in a sale's benchmark).
    #[tokio::test]
    async fn a_batch_of_receipts_is_found_by_key_however_large_the_tables_have_grown() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        let tables = ["orders", "receipt_outbox"];
        crate::db::without_autovacuum(&db, &tables).await;
        crate::db::run_all(&db, paid_orders("early", 1, 20, "n")).await;
        let dir = tempfile::tempdir().unwrap();
        let worker = Worker {
            db: db.clone(),
            mailer: Mailer::Files(dir.path().to_owned()),
            from: "shop@example.com".into(),
            send_delay_secs: 0,
        };
        let now = 1_000_000;
        // PostgreSQL may keep a statement's generic plan from its sixth run on. Each run is a
        // whole batch, as the statements for a batch of another size are others.
        let batch = BATCH;
        for n in 0..8 {
            crate::db::run_all(&db, paid_orders("small", 100 + n * batch, 99 + (n + 1) * batch, "NULL")).await;
            assert_eq!(worker.send_due(now).await.unwrap(), BATCH as usize);
        }
        crate::db::run_all(&db, paid_orders("late", 1, 20_000, "n")).await;
        crate::db::run_all(&db, paid_orders("now", 30_000, 29_999 + batch, "NULL")).await;
        let before = crate::db::whole_reads(&db, &tables).await;
        assert_eq!(worker.send_due(now).await.unwrap(), BATCH as usize);
        assert_eq!(crate::db::whole_reads(&db, &tables).await, before, "a batch read the orders or the outbox whole");
        let written = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(written, 9 * BATCH as usize, "each receipt written once");
    }

    /// On PostgreSQL a claim reads its batch and stops, however long the queue has grown since
    /// the table was last analyzed (in a sale, up to a minute): a claim that read and sorted
    /// every unsent row made draining a sale's receipts take time in the square of their
    /// number.
    #[tokio::test]
    async fn a_claim_reads_its_batch_however_long_the_queue_has_grown() {
        let Some(db) = crate::db::test_postgres_api().await else { return };
        let tables = ["receipt_outbox"];
        crate::db::without_autovacuum(&db, &tables).await;
        // The statistics of an outbox between sales: every row sent.
        let mut statements = Vec::from(paid_orders("sent", 1, 20_000, "n"));
        statements.push("ANALYZE receipt_outbox".into());
        statements.extend(paid_orders("sale", 100_001, 105_000, "NULL"));
        crate::db::run_all(&db, statements).await;
        let rows_read = "seq_tup_read + idx_tup_fetch";
        let before = crate::db::settled_counts(&db, &tables, rows_read).await;
        let mut claimed = Outbox::Orders.queue().claim(&db, 1_000_000, 1_000_000, 20).await.unwrap();
        claimed.sort();
        let mut first: Vec<String> = (100_001..=100_020).map(|n| format!("sale{n}")).collect();
        first.sort();
        assert_eq!(claimed, first, "the oldest twenty");
        let read = crate::db::settled_counts(&db, &tables, rows_read).await[0] - before[0];
        assert!(read <= 100, "a claim of 20 read {read} rows of an outbox with 5,000 unsent");
    }
}
