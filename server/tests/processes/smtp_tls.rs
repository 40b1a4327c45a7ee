//! Receipts over a real mail server with TLS: a `tweetbuy-server` process sends an order's
//! receipt to an SMTP server the test runs on loopback with a certificate made at test time.
//! `smtps://` and `smtp+starttls://` deliver it over TLS when `SMTP_CA_FILE` trusts the
//! certificate; an untrusted certificate, a certificate for another name, or a server that
//! does not offer STARTTLS leaves the receipt in the outbox with nothing sent in the clear;
//! wrong SMTP settings stop the server at start.

use crate::harness::pg_url;
use crate::process::{checkout, free_port, order, server_bin, Launch, ServerProcess, MASTER_KEY, VAULT_API_KEY};
use crate::smtp_tls_server::{Mode, Seen, SelfSigned, SmtpTlsServer};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tweetbuy_server::db::{self, Location};

const USER: &str = "shop@mail.test";
const PASSWORD: &str = "mail-password-7Q2x";
const BUYER: &str = "jane@example.com";

/// A `tweetbuy-server` process whose receipts go to `smtp_url`.
struct Shop {
    dir: TempDir,
    server: ServerProcess,
    api_db: Location,
}

impl Shop {
    /// Starts the server with `SMTP_URL` and, when given, `SMTP_CA_FILE` holding `trust`.
    fn start(smtp_url: String, trust: Option<&SelfSigned>) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let url = pg_url();
        let prefix = tweetbuy_server::ids::random_id("m");
        let mut env = vec![("SMTP_URL", smtp_url)];
        if let Some(certificate) = trust {
            let path = dir.path().join("mail-ca.pem");
            certificate.write_pem(&path);
            env.push(("SMTP_CA_FILE", path.to_str().unwrap().to_owned()));
        }
        let server = ServerProcess::start(Launch {
            data_dir: dir.path(),
            database_url: url.as_deref(),
            schema_prefix: &prefix,
            env,
            log_name: "server",
        });
        let api_db = match url {
            Some(url) => Location::Postgres { url, schema: format!("{prefix}_api") },
            None => Location::Sqlite(dir.path().join("api.db")),
        };
        Shop { dir, server, api_db }
    }

    /// Pays for an order as the card frame does; returns its id and number.
    async fn buy(&self) -> (String, String) {
        let http = reqwest::Client::new();
        let details = json!({
            "product_id": "red-tee", "variant_id": "m", "quantity": 1, "email": BUYER,
            "shipping": {"name": "Jane Doe", "line1": "1 Main St", "city": "New York", "region": "NY",
                         "postal_code": "10001", "country": "US"}
        });
        let body = checkout(&http, &self.server.api, &self.server.vault, &details, "4242424242424242").await;
        let key = tweetbuy_server::ids::random_id("smtp-");
        let (status, receipt) = order(&http, &self.server.api, &body, &key).await;
        assert_eq!(status, 201, "{receipt}");
        (receipt["order_id"].as_str().unwrap().to_owned(), receipt["order_number"].as_str().unwrap().to_owned())
    }

    /// The receipt's outbox row: when it was sent, and the last error.
    async fn outbox(&self, order_id: &str) -> (Option<i64>, Option<String>) {
        let db = db::open_api(&self.api_db).await.unwrap();
        let row: (Option<i64>, Option<String>) =
            sqlx::query_as("SELECT sent_at, last_error FROM receipt_outbox WHERE order_id = $1")
                .bind(order_id)
                .fetch_one(&db)
                .await
                .unwrap();
        db.close().await;
        row
    }

    /// Waits (bounded) until the receipt is marked sent.
    async fn wait_sent(&self, order_id: &str) {
        for _ in 0..300 {
            if self.outbox(order_id).await.0.is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the receipt was never marked sent; log:\n{}", self.server.log_text());
    }

    /// Waits (bounded) until a send of the receipt failed, and returns its error; the
    /// receipt must still be unsent.
    async fn wait_failed(&self, order_id: &str) -> String {
        for _ in 0..300 {
            let (sent_at, last_error) = self.outbox(order_id).await;
            assert_eq!(sent_at, None, "the receipt was marked sent; log:\n{}", self.server.log_text());
            if let Some(error) = last_error {
                return error;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no send of the receipt ever failed; log:\n{}", self.server.log_text());
    }
}

/// The certificate of the test's mail server: for 127.0.0.1, where it listens.
fn loopback_certificate(name: &str) -> SelfSigned {
    SelfSigned::new(name, &["127.0.0.1", "localhost"])
}

/// The receipt arrived whole, over TLS, after the login, and nothing of it (nor the login)
/// crossed in the clear.
fn assert_delivered_over_tls(seen: &Seen, number: &str) {
    assert_eq!(seen.delivered.len(), 1, "{seen:#?}");
    let message = &seen.delivered[0];
    assert!(message.over_tls, "the message came in the clear: {seen:#?}");
    assert!(message.data.contains(&format!("Thank you for your order {number}.")), "{}", message.data);
    assert!(message.data.contains("Visa ending in 4242"), "{}", message.data);
    assert!(!message.data.contains("4242424242424242"), "no card number");
    assert!(message.rcpt_to.iter().any(|to| to.contains(BUYER)), "{:?}", message.rcpt_to);
    assert_eq!(message.login, Some((USER.to_owned(), PASSWORD.to_owned())), "the URL's login, over TLS");
    assert!(seen.handshake_errors.is_empty(), "{seen:#?}");
    for line in seen.plaintext() {
        let verb = line.split(' ').next().unwrap_or_default().to_ascii_uppercase();
        assert!(["EHLO", "STARTTLS"].contains(&verb.as_str()), "{line:?} was sent in the clear: {seen:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtps_sends_the_receipt_over_tls_to_a_server_the_ca_file_trusts() {
    let certificate = loopback_certificate("smtps test mail server");
    let mail = SmtpTlsServer::start(Mode::Implicit, &certificate);
    let shop = Shop::start(format!("smtps://{USER}:{PASSWORD}@127.0.0.1:{}", mail.port()), Some(&certificate));
    let (order_id, number) = shop.buy().await;

    let seen = mail.wait_until("the receipt", |seen| !seen.delivered.is_empty()).await;
    assert_delivered_over_tls(&seen, &number);
    assert!(seen.plaintext().is_empty(), "smtps: nothing before the handshake: {seen:#?}");
    shop.wait_sent(&order_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_sends_the_receipt_after_the_upgrade_to_a_server_the_ca_file_trusts() {
    let certificate = loopback_certificate("starttls test mail server");
    let mail = SmtpTlsServer::start(Mode::StartTls, &certificate);
    let shop = Shop::start(format!("smtp+starttls://{USER}:{PASSWORD}@127.0.0.1:{}", mail.port()), Some(&certificate));
    let (order_id, number) = shop.buy().await;

    let seen = mail.wait_until("the receipt", |seen| !seen.delivered.is_empty()).await;
    assert_delivered_over_tls(&seen, &number);
    let plaintext = seen.plaintext();
    assert!(plaintext.iter().any(|l| l.eq_ignore_ascii_case("STARTTLS")), "{seen:#?}");
    assert!(seen.lines.iter().any(|l| l.over_tls && l.text.to_ascii_uppercase().starts_with("EHLO")), "EHLO again");
    shop.wait_sent(&order_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_keeps_the_receipt_in_the_outbox() {
    let certificate = loopback_certificate("untrusted test mail server");
    let someone_else = loopback_certificate("another test mail server");
    let other_name = SelfSigned::new("named test mail server", &["mail.example"]);
    let cases = [
        // The built-in roots alone: a self-signed certificate is nobody's.
        (Mode::Implicit, "smtps", &certificate, None, "UnknownIssuer"),
        // A CA file that trusts another certificate.
        (Mode::StartTls, "smtp+starttls", &certificate, Some(&someone_else), "UnknownIssuer"),
        // A trusted certificate, but for another host name than the URL's.
        (Mode::Implicit, "smtps", &other_name, Some(&other_name), "not valid for name"),
    ];
    for (mode, scheme, presented, trusted, reason) in cases {
        let mail = SmtpTlsServer::start(mode, presented);
        let shop = Shop::start(format!("{scheme}://{USER}:{PASSWORD}@127.0.0.1:{}", mail.port()), trusted);
        let (order_id, number) = shop.buy().await;

        let error = shop.wait_failed(&order_id).await;
        assert!(error.contains(reason), "{scheme}: {error}");
        // The client broke off the handshake; the server learns it from the client's alert.
        let seen = mail.wait_until("a broken-off handshake", |seen| !seen.handshake_errors.is_empty()).await;
        assert!(seen.delivered.is_empty(), "{scheme}: {seen:#?}");
        assert!(!seen.lines.iter().any(|l| l.over_tls), "{scheme}: nothing over a TLS it does not trust");
        for line in seen.plaintext() {
            assert!(!line.contains(&number) && !line.contains(BUYER) && !line.to_ascii_uppercase().starts_with("AUTH"));
        }
        assert!(shop.server.log_text().contains("receipt not sent; will retry"), "{scheme}");
        let outbox = shop.dir.path().join("outbox");
        assert!(!outbox.join(format!("{number}.eml")).exists(), "{scheme}: no fallback to files");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_is_required_and_never_falls_back_to_plaintext() {
    let certificate = loopback_certificate("plain test mail server");
    let mail = SmtpTlsServer::start(Mode::PlainOnly, &certificate);
    let shop = Shop::start(format!("smtp+starttls://{USER}:{PASSWORD}@127.0.0.1:{}", mail.port()), Some(&certificate));
    let (order_id, number) = shop.buy().await;

    let error = shop.wait_failed(&order_id).await;
    assert!(error.contains("STARTTLS"), "{error}");
    let seen = mail.seen();
    assert!(seen.delivered.is_empty(), "{seen:#?}");
    assert!(seen.connections >= 1);
    for line in seen.plaintext() {
        let verb = line.split(' ').next().unwrap_or_default().to_ascii_uppercase();
        assert!(["EHLO", "QUIT"].contains(&verb.as_str()), "{line:?} was sent in the clear: {seen:#?}");
        assert!(!line.contains(&number) && !line.contains(BUYER));
    }
    drop(shop);

    // The same server does take plain smtp://, so the refusal above was the URL's doing.
    let shop = Shop::start(format!("smtp://127.0.0.1:{}", mail.port()), None);
    let (order_id, number) = shop.buy().await;
    let seen = mail.wait_until("the plain receipt", |seen| !seen.delivered.is_empty()).await;
    assert!(!seen.delivered[0].over_tls && seen.delivered[0].data.contains(&number), "{seen:#?}");
    shop.wait_sent(&order_id).await;
}

/// Runs `tweetbuy-server serve` with `env` added to a working set-up and returns its exit
/// code and output; panics if it was still serving after a while.
fn refused(dir: &Path, env: &[(&str, &str)]) -> String {
    let log = dir.join("refused.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut command = Command::new(server_bin());
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TWEETBUY_PUBLISHER_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_API_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_VAULT_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_VAULT_INTERNAL_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TWEETBUY_DATA_DIR", dir)
        .env("TWEETBUY_MASTER_KEY", MASTER_KEY)
        .env("TWEETBUY_VAULT_API_KEY", VAULT_API_KEY)
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out));
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Some(status) = child.try_wait().unwrap() {
            let output = std::fs::read_to_string(&log).unwrap();
            assert!(!status.success(), "{env:?}: {output}");
            return output;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("started with {env:?}; it should have refused:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
}

#[test]
fn wrong_smtp_settings_stop_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = dir.path().join("ca.pem");
    loopback_certificate("a test mail server").write_pem(&trusted);
    let not_pem = dir.path().join("not-pem.pem");
    std::fs::write(&not_pem, "just some text\n").unwrap();
    let bad_der = dir.path().join("bad-der.pem");
    std::fs::write(&bad_der, "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let (trusted, not_pem, bad_der, missing) =
        (trusted.to_str().unwrap(), not_pem.to_str().unwrap(), bad_der.to_str().unwrap(), missing.to_str().unwrap());

    /// Variables added to a working set-up, and what the refusal must say.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 7] = [
        (&[("SMTP_URL", "imap://seller:hunter2@mail.example")], &["SMTP_URL", "unknown scheme \"imap\"", "smtps://"]),
        (&[("SMTP_URL", "smtp://seller:hunter2@mail.example:587?tls=starttls")], &["smtp+starttls://"]),
        (&[("SMTP_URL", "smtps://seller:hunter2@mail.example:99999")], &["port"]),
        (&[("SMTP_URL", "smtps://mail.example"), ("SMTP_CA_FILE", missing)], &["SMTP_CA_FILE", missing]),
        (&[("SMTP_URL", "smtps://mail.example"), ("SMTP_CA_FILE", not_pem)], &["no certificate"]),
        (&[("SMTP_URL", "smtp+starttls://mail.example"), ("SMTP_CA_FILE", bad_der)], &["not usable"]),
        (&[("SMTP_URL", "smtp://mail.example"), ("SMTP_CA_FILE", trusted)], &["plain smtp://"]),
    ];
    for (env, expected) in cases {
        let output = refused(dir.path(), env);
        for part in expected {
            assert!(output.contains(part), "{env:?}: expected {part:?} in:\n{output}");
        }
        assert!(!output.contains("hunter2"), "the password is never repeated:\n{output}");
        assert!(!output.contains("started"), "refused before serving:\n{output}");
    }
    let output = refused(dir.path(), &[("SMTP_CA_FILE", trusted)]);
    assert!(output.contains("SMTP_URL is not"), "{output}");
}
