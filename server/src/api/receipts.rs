//! Order receipts by email, sent from the `receipt_outbox` table by a background worker.
//!
//! The row is written in the same transaction that marks the order paid, and the worker
//! only marks it sent after the message left, so a crash anywhere in between means the
//! receipt is sent after the restart (at least once; the `.eml` file name is the order
//! number, so a repeat overwrites rather than duplicates). Rows are claimed with a
//! conditional UPDATE, so several server processes on one PostgreSQL do not send twice.
//!
//! Transport: SMTP (lettre) when `SMTP_URL` is set, else `.eml` files in `outbox/` under
//! the data directory, the demo default. A receipt shows the card's brand and last four
//! digits only: the api never had more.

use crate::db::{from_text, Db};
use crate::error::AppError;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;
use tweetbuy_core::{CardBrand, Currency, Money, ShippingAddress};

/// How long a claimed receipt is left to its sender before another worker may retry it.
const CLAIM_SECONDS: i64 = 60;
/// How often the worker looks for receipts to send.
const POLL: Duration = Duration::from_millis(250);
/// Receipts handled per poll.
const BATCH: i64 = 20;

/// Where receipts go.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this folder.
    Files(PathBuf),
}

impl Mailer {
    /// SMTP for `smtp_url`, else files in `outbox_dir`.
    pub fn new(smtp_url: Option<&str>, outbox_dir: PathBuf) -> Result<Mailer, String> {
        match smtp_url {
            Some(url) => smtp_transport(url).map(Mailer::Smtp),
            None => Ok(Mailer::Files(outbox_dir)),
        }
    }

    async fn send(&self, file_stem: &str, message: Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(transport) => transport.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::Files(dir) => {
                // Messages hold buyers' emails and addresses: this user only.
                crate::db::private_dir(dir).map_err(|e| e.to_string())?;
                // Written aside and renamed, so a reader never sees half a message.
                let partial = dir.join(format!(".{file_stem}.eml.partial"));
                write_private(&partial, &message.formatted()).await.map_err(|e| e.to_string())?;
                tokio::fs::rename(&partial, dir.join(format!("{file_stem}.eml"))).await.map_err(|e| e.to_string())
            }
        }
    }
}

/// Writes a new file readable by this user only (mode 0600 from the start, never wider).
async fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}

/// `smtp://[user:password@]host[:port]` (port 25 by default). Only plain SMTP is built in
/// (a relay on a private network or loopback): no TLS library is compiled into the server.
pub fn smtp_transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let bad = || "SMTP_URL: expected smtp://[user:password@]host[:port]".to_owned();
    let rest = url.trim().strip_prefix("smtp://").ok_or_else(bad)?.trim_end_matches('/');
    let (credentials, host_port) = match rest.rsplit_once('@') {
        Some((credentials, host_port)) => (Some(credentials), host_port),
        None => (None, rest),
    };
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad())?),
        None => (host_port, 25),
    };
    if host.is_empty() {
        return Err(bad());
    }
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port);
    if let Some((user, password)) = credentials.and_then(|c| c.split_once(':')) {
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            user.to_owned(),
            password.to_owned(),
        ));
    }
    Ok(builder.build())
}

/// Settings of the worker.
#[derive(Clone)]
pub struct Worker {
    pub db: Db,
    pub mailer: Mailer,
    /// The `From:` address.
    pub from: String,
    /// Test hook: only receipts of orders at least this old are sent.
    pub send_delay_secs: i64,
}

impl Worker {
    /// Polls until `stop` flips, then returns.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.send_due(crate::clock::now()).await {
                tracing::warn!(%error, "receipt outbox");
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
        }
    }

    /// Sends the receipts that are due; returns how many were sent.
    pub async fn send_due(&self, now: i64) -> Result<usize, AppError> {
        let due: Vec<(String,)> = sqlx::query_as(
            "SELECT order_id FROM receipt_outbox WHERE sent_at IS NULL AND created_at <= $1 \
             AND (locked_until IS NULL OR locked_until < $2) ORDER BY created_at LIMIT $3",
        )
        .bind(now - self.send_delay_secs)
        .bind(now)
        .bind(BATCH)
        .fetch_all(&self.db)
        .await?;
        let mut sent = 0;
        for (order_id,) in due {
            let claimed = sqlx::query(
                "UPDATE receipt_outbox SET locked_until = $1, attempts = attempts + 1 WHERE order_id = $2 \
                 AND sent_at IS NULL AND (locked_until IS NULL OR locked_until < $3)",
            )
            .bind(now + CLAIM_SECONDS)
            .bind(&order_id)
            .bind(now)
            .execute(&self.db)
            .await?;
            if claimed.rows_affected() != 1 {
                continue; // another worker has it
            }
            let (stem, message) = self.message(&order_id).await?;
            match self.mailer.send(&stem, message).await {
                Ok(()) => {
                    sqlx::query("UPDATE receipt_outbox SET sent_at = $1, locked_until = NULL, last_error = NULL WHERE order_id = $2")
                        .bind(crate::clock::now())
                        .bind(&order_id)
                        .execute(&self.db)
                        .await?;
                    tracing::info!(%order_id, "receipt sent");
                    sent += 1;
                }
                Err(error) => {
                    // Left claimed until the claim runs out, which spaces out the retries.
                    sqlx::query("UPDATE receipt_outbox SET last_error = $1 WHERE order_id = $2")
                        .bind(&error)
                        .bind(&order_id)
                        .execute(&self.db)
                        .await?;
                    tracing::warn!(%order_id, %error, "receipt not sent; will retry");
                }
            }
        }
        Ok(sent)
    }

    async fn message(&self, order_id: &str) -> Result<(String, Message), AppError> {
        type ReceiptRow = (
            String,
            String,
            String,
            i64,
            String,
            i64,
            i64,
            i64,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: ReceiptRow = sqlx::query_as(
            "SELECT o.order_number, o.email, p.title, o.quantity, o.currency, o.subtotal_minor, o.shipping_minor, \
             o.tax_minor, o.total_minor, o.card_brand, o.card_last4, o.shipping_json, \
             COALESCE(v.label, o.variant_id) FROM orders o JOIN products p ON p.id = o.product_id \
             LEFT JOIN variants v ON v.product_id = o.product_id AND v.id = o.variant_id WHERE o.id = $1",
        )
        .bind(order_id)
        .fetch_one(&self.db)
        .await?;
        let (number, email, title, quantity, currency, subtotal, shipping, tax, total, brand, last4, ship, label) = row;
        let currency = Currency::parse(&currency).ok_or_else(|| AppError::internal("stored currency"))?;
        let money = |minor| Money::new(minor, currency).to_string();
        let brand = brand.as_deref().map(from_text::<CardBrand>).transpose()?.map_or("Card", CardBrand::display_name);
        let mut text = format!(
            "Thank you for your order {number}.\n\n{title} ({}) x {quantity}\n\nSubtotal: {}\nShipping: {}\nTax: {}\nTotal: {}\n\nPaid with {brand} ending in {}\n",
            label.unwrap_or_default(),
            money(subtotal),
            money(shipping),
            money(tax),
            money(total),
            last4.unwrap_or_default(),
        );
        if let Some(ship) = ship {
            let a: ShippingAddress =
                serde_json::from_str(&ship).map_err(|e| AppError::internal(format!("stored address: {e}")))?;
            text.push_str(&format!(
                "\nShips to:\n{}\n{}\n{}{}\n{} {} {}\n{}\n",
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
            .from(self.from.parse().map_err(|_| bad("sender address"))?)
            .to(email.parse().map_err(|_| bad("recipient address"))?)
            .subject(format!("Your order {number}"))
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| bad(&e.to_string()))?;
        Ok((number, message))
    }
}
