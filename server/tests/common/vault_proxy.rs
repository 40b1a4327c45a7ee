//! A proxy between the api and the vault, for the tests that need the path between them to
//! misbehave: lose the vault's answer, hold a charge, deliver it late, or drop it.
//!
//! The api is pointed at [`VaultProxy::url`] instead of the vault
//! (`ApiSettings::vault_internal_url`, or `TWEETBUY_VAULT_INTERNAL_URL` for a process).
//! Each `POST /v1/charges` is handed to the test's hook as a [`Charge`]; the hook decides
//! what the api gets back: it may wait, answer without passing the charge on, or
//! [`Charge::forward`] it and replace the vault's answer. Lookups of a charge
//! (`GET /v1/charges/{reference}`) pass straight through; refunds too, unless the test says
//! otherwise ([`VaultProxy::refunds`]). Which vault the proxy
//! forwards to can change while it runs ([`VaultProxy::point_at`]): a restarted process
//! listens on a new port.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use tweetbuy_core::vault::ANSWER_HEADER;

pub struct VaultProxy {
    /// Where the api sends its charges instead of the vault.
    pub url: String,
    vault: Arc<Mutex<String>>,
    refunds: Arc<AtomicU8>,
}

/// What the proxy does with the refunds the api asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Refunds {
    /// Passed to the vault, its answer passed back.
    Pass,
    /// Answered 503 without passing them on, as a vault out of reach would.
    Down,
    /// Passed to the vault, which refunds, and answered 502: the api never hears of it.
    Lost,
    /// Answered as the vault answers a key it does not accept (401, its own error body),
    /// without passing them on.
    KeyRefused,
}

/// One charge on its way through the proxy, as the api sent it.
pub struct Charge {
    vault: Arc<Mutex<String>>,
    authorization: String,
    body: Bytes,
}

/// What the vault answered to a forwarded request.
pub struct VaultAnswer {
    pub status: StatusCode,
    pub body: Bytes,
    /// Whether it carried the vault's [`ANSWER_HEADER`], passed on as a proxy passes headers.
    pub own: bool,
}

impl VaultAnswer {
    async fn read(reply: reqwest::Response) -> reqwest::Result<VaultAnswer> {
        let status = StatusCode::from_u16(reply.status().as_u16()).unwrap();
        let own = reply.headers().contains_key(ANSWER_HEADER);
        Ok(VaultAnswer { status, own, body: reply.bytes().await? })
    }
}

impl IntoResponse for VaultAnswer {
    fn into_response(self) -> Response {
        let mut response = (self.status, [("content-type", "application/json")], self.body).into_response();
        if self.own {
            response.headers_mut().insert(ANSWER_HEADER, axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

impl Charge {
    /// Passes the charge on to the vault the proxy points at now (not when the charge
    /// arrived: a held charge reaches whichever vault is there when it is let go).
    pub async fn forward(self) -> reqwest::Result<VaultAnswer> {
        let vault = self.vault.lock().unwrap().clone();
        let reply = reqwest::Client::new()
            .post(format!("{vault}/v1/charges"))
            .header("authorization", self.authorization)
            .header("content-type", "application/json")
            .body(self.body)
            .send()
            .await?;
        VaultAnswer::read(reply).await
    }
}

impl VaultProxy {
    /// Listens on a free loopback port, forwarding nowhere until [`point_at`](Self::point_at).
    /// `hook` is called for each charge once its body has arrived; a task the hook spawns
    /// goes on even if the api gives up on the request (or dies). Needs a Tokio runtime.
    pub fn start<H, F>(hook: H) -> VaultProxy
    where
        H: Fn(Charge) -> F + Send + Sync + 'static,
        F: Future<Output = Response> + Send + 'static,
    {
        let vault = Arc::new(Mutex::new(String::new()));
        let hook = Arc::new(hook);
        let (charges, lookups, refunds) = (vault.clone(), vault.clone(), vault.clone());
        let refunds_mode = Arc::new(AtomicU8::new(Refunds::Pass as u8));
        let mode = refunds_mode.clone();
        let app = axum::Router::new()
            .route(
                "/v1/charges",
                axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                    let authorization = headers["authorization"].to_str().unwrap().to_owned();
                    hook(Charge { vault: charges.clone(), authorization, body })
                }),
            )
            .route(
                "/v1/charges/{reference}",
                axum::routing::get(move |headers: HeaderMap, Path(reference): Path<String>| {
                    let vault = lookups.lock().unwrap().clone();
                    async move {
                        let reply = reqwest::Client::new()
                            .get(format!("{vault}/v1/charges/{reference}"))
                            .header("authorization", headers["authorization"].to_str().unwrap())
                            .send()
                            .await
                            .unwrap();
                        VaultAnswer::read(reply).await.unwrap().into_response()
                    }
                }),
            )
            .route(
                "/v1/refunds",
                axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                    let vault = refunds.lock().unwrap().clone();
                    let mode = mode.load(Ordering::SeqCst);
                    async move {
                        if mode == Refunds::Down as u8 {
                            return (StatusCode::SERVICE_UNAVAILABLE, "the vault is down").into_response();
                        }
                        if mode == Refunds::KeyRefused as u8 {
                            let body = serde_json::json!({"code": "unauthorized", "message": "Unknown api key."});
                            return (StatusCode::UNAUTHORIZED, [(ANSWER_HEADER, "1")], axum::Json(body))
                                .into_response();
                        }
                        let reply = reqwest::Client::new()
                            .post(format!("{vault}/v1/refunds"))
                            .header("authorization", headers["authorization"].to_str().unwrap())
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                            .unwrap();
                        let answer = VaultAnswer::read(reply).await.unwrap();
                        if mode == Refunds::Lost as u8 {
                            return (StatusCode::BAD_GATEWAY, "upstream connection reset").into_response();
                        }
                        answer.into_response()
                    }
                }),
            );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        VaultProxy { url, vault, refunds: refunds_mode }
    }

    /// Treats the refunds asked from now on as `mode` says.
    pub fn refunds(&self, mode: Refunds) {
        self.refunds.store(mode as u8, Ordering::SeqCst);
    }

    /// Forwards from now on to the vault at `vault` (a base URL such as `http://127.0.0.1:PORT`).
    pub fn point_at(&self, vault: &str) {
        *self.vault.lock().unwrap() = vault.to_owned();
    }
}
