//! A small SMTP server for the receipt tests, with TLS from rustls and a self-signed
//! certificate made when the test runs: implicit TLS (as for `smtps://`), STARTTLS offered,
//! or plain only (no STARTTLS offer). It records which lines each client sent in the clear
//! and which over TLS, and the messages it accepted, so a test can tell that a receipt
//! really crossed TLS and that nothing went out in the clear.
//!
//! It runs on a thread and runtime of its own, so a test that blocks its own threads (the
//! process helpers wait with `std::thread::sleep`) never stalls the mail server.
#![allow(dead_code)]

use base64::Engine;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// How long the server waits for a client's next line before it hangs up.
const IDLE: Duration = Duration::from_secs(30);

/// A self-signed certificate and its key.
pub struct SelfSigned {
    /// The certificate in PEM: what a client is told to trust (`SMTP_CA_FILE`).
    pub pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl SelfSigned {
    /// A certificate for `names` (host names or IP addresses), its own issuer, with the
    /// common name `common_name`.
    pub fn new(common_name: &str, names: &[&str]) -> SelfSigned {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        let cert = params.self_signed(&key).unwrap();
        SelfSigned { pem: cert.pem(), der: cert.der().clone(), key: PrivatePkcs8KeyDer::from(key.serialize_der()) }
    }

    /// Writes the certificate's PEM to `path`.
    pub fn write_pem(&self, path: &std::path::Path) {
        std::fs::write(path, &self.pem).unwrap();
    }
}

/// How the server meets its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// TLS from the first byte, as port 465 does.
    Implicit,
    /// A plain greeting, with STARTTLS in the EHLO reply.
    StartTls,
    /// Plain only: STARTTLS is neither offered nor accepted.
    PlainOnly,
}

/// A line a client sent, and whether it came over TLS.
#[derive(Clone, Debug)]
pub struct Line {
    pub over_tls: bool,
    pub text: String,
}

/// A message the server accepted (after DATA's final dot).
#[derive(Clone, Debug)]
pub struct Delivered {
    pub over_tls: bool,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent, dot-stuffing undone.
    pub data: String,
    /// The login given before this message on its connection, if any.
    pub login: Option<(String, String)>,
}

/// What the server has seen so far.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// Every line from every client, in order, message bodies included.
    pub lines: Vec<Line>,
    pub delivered: Vec<Delivered>,
    /// TLS handshakes that failed, with the server's side of the reason.
    pub handshake_errors: Vec<String>,
    /// Connections accepted.
    pub connections: usize,
}

impl Seen {
    /// The lines that came in the clear.
    pub fn plaintext(&self) -> Vec<&str> {
        self.lines.iter().filter(|l| !l.over_tls).map(|l| l.text.as_str()).collect()
    }
}

/// A running server on a loopback port; stopped when dropped.
pub struct SmtpTlsServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SmtpTlsServer {
    /// Listens on 127.0.0.1 and a free port, presenting `certificate` for TLS.
    pub fn start(mode: Mode, certificate: &SelfSigned) -> SmtpTlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certificate.der.clone()], PrivateKeyDer::Pkcs8(certificate.key.clone_key()))
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let thread_seen = seen.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((tcp, _)) = accepted else { continue };
                            thread_seen.lock().unwrap().connections += 1;
                            tokio::spawn(connection(tcp, mode, acceptor.clone(), thread_seen.clone()));
                        }
                        _ = &mut stopped => return,
                    }
                }
            });
        });
        SmtpTlsServer { addr, seen, stop: Some(stop), thread: Some(thread) }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A copy of what it has seen so far.
    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (bounded) until `done` holds for what the server has seen, and returns that.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&Seen) -> bool) -> Seen {
        for _ in 0..300 {
            let seen = self.seen();
            if done(&seen) {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the mail server never saw {what}; it saw {:#?}", self.seen());
    }
}

impl Drop for SmtpTlsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a client asked for when its plain dialog ended.
enum End {
    /// STARTTLS was accepted: a TLS handshake follows.
    StartTls,
    /// QUIT, a closed connection or an idle client.
    Closed,
}

async fn connection(tcp: TcpStream, mode: Mode, acceptor: TlsAcceptor, seen: Arc<Mutex<Seen>>) {
    let handshake = |tcp: TcpStream| {
        let (acceptor, seen) = (acceptor.clone(), seen.clone());
        async move {
            match tokio::time::timeout(IDLE, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => Some(tls),
                Ok(Err(error)) => {
                    seen.lock().unwrap().handshake_errors.push(error.to_string());
                    None
                }
                Err(_) => {
                    seen.lock().unwrap().handshake_errors.push("timed out".into());
                    None
                }
            }
        }
    };
    match mode {
        Mode::Implicit => {
            if let Some(tls) = handshake(tcp).await {
                dialog(&mut BufReader::new(tls), true, false, true, &seen).await;
            }
        }
        Mode::StartTls | Mode::PlainOnly => {
            let mut plain = BufReader::new(tcp);
            if let End::StartTls = dialog(&mut plain, false, mode == Mode::StartTls, true, &seen).await {
                if let Some(tls) = handshake(plain.into_inner()).await {
                    dialog(&mut BufReader::new(tls), true, false, false, &seen).await;
                }
            }
        }
    }
}

/// One SMTP dialog: EHLO, STARTTLS (when offered), AUTH PLAIN or LOGIN, MAIL, RCPT, DATA,
/// RSET, NOOP, QUIT.
async fn dialog<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    over_tls: bool,
    offer_starttls: bool,
    greet: bool,
    seen: &Mutex<Seen>,
) -> End {
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut login = None;
    if greet && reply(stream, "220 mail.test ESMTP ready").await.is_err() {
        return End::Closed;
    }
    loop {
        let Some(line) = read_line(stream, over_tls, seen).await else { return End::Closed };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or_default();
        let answer: String = match verb {
            "EHLO" | "HELO" => {
                let mut lines = vec!["250-mail.test"];
                if offer_starttls {
                    lines.push("250-STARTTLS");
                }
                lines.extend(["250-AUTH PLAIN LOGIN", "250 8BITMIME"]);
                lines.join("\r\n")
            }
            "STARTTLS" if offer_starttls => {
                if reply(stream, "220 2.0.0 go ahead").await.is_err() {
                    return End::Closed;
                }
                return End::StartTls;
            }
            "AUTH" => {
                let mut words = line.split(' ').skip(1);
                let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
                let given = match mechanism.as_str() {
                    "PLAIN" => {
                        let initial = match words.next() {
                            Some(initial) => Some(initial.to_owned()),
                            None => ask(stream, "334 ", over_tls, seen).await,
                        };
                        initial.and_then(|b64| decode(&b64)).and_then(|plain| {
                            let mut parts = plain.split('\0').skip(1);
                            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
                        })
                    }
                    "LOGIN" => {
                        let user = ask(stream, "334 VXNlcm5hbWU6", over_tls, seen).await.and_then(|b| decode(&b));
                        let password = match user {
                            Some(_) => ask(stream, "334 UGFzc3dvcmQ6", over_tls, seen).await.and_then(|b| decode(&b)),
                            None => None,
                        };
                        user.zip(password)
                    }
                    _ => None,
                };
                match given {
                    Some(credentials) => {
                        login = Some(credentials);
                        "235 2.7.0 authenticated".into()
                    }
                    None => "535 5.7.8 bad login".into(),
                }
            }
            "MAIL" => {
                mail_from = line[4..].trim().to_owned();
                rcpt_to.clear();
                "250 2.1.0 ok".into()
            }
            "RCPT" => {
                rcpt_to.push(line[4..].trim().to_owned());
                "250 2.1.5 ok".into()
            }
            "DATA" => {
                if reply(stream, "354 end with <CRLF>.<CRLF>").await.is_err() {
                    return End::Closed;
                }
                let mut data = String::new();
                loop {
                    let Some(line) = read_line(stream, over_tls, seen).await else { return End::Closed };
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push('\n');
                }
                seen.lock().unwrap().delivered.push(Delivered {
                    over_tls,
                    mail_from: std::mem::take(&mut mail_from),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                    login: login.clone(),
                });
                "250 2.0.0 queued".into()
            }
            "RSET" => {
                mail_from.clear();
                rcpt_to.clear();
                "250 2.0.0 ok".into()
            }
            "NOOP" => "250 2.0.0 ok".into(),
            "QUIT" => {
                let _ = reply(stream, "221 2.0.0 bye").await;
                return End::Closed;
            }
            _ => "502 5.5.1 not here".into(),
        };
        if reply(stream, &answer).await.is_err() {
            return End::Closed;
        }
    }
}

/// Sends a prompt and reads the client's answer line.
async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    prompt: &str,
    over_tls: bool,
    seen: &Mutex<Seen>,
) -> Option<String> {
    reply(stream, prompt).await.ok()?;
    read_line(stream, over_tls, seen).await
}

fn decode(b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

/// Reads one line (without its line end) and records it; `None` at the end of the stream,
/// on an error, or after [`IDLE`] without one.
async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    over_tls: bool,
    seen: &Mutex<Seen>,
) -> Option<String> {
    let mut buffer = Vec::new();
    match tokio::time::timeout(IDLE, stream.read_until(b'\n', &mut buffer)).await {
        Ok(Ok(n)) if n > 0 => {}
        _ => return None,
    }
    let text = String::from_utf8_lossy(&buffer).trim_end_matches(['\r', '\n']).to_owned();
    seen.lock().unwrap().lines.push(Line { over_tls, text: text.clone() });
    Some(text)
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufReader<S>, text: &str) -> std::io::Result<()> {
    let stream = stream.get_mut();
    stream.write_all(format!("{text}\r\n").as_bytes()).await?;
    stream.flush().await
}
