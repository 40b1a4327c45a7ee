//! Shared set-up for the integration tests: temp databases, a real vault on an ephemeral
//! loopback port, the api pointed at it, and small request helpers.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tower::ServiceExt;
use tweetbuy_server::api::seed::seed_demo_if_empty;
use tweetbuy_server::db::Location;
use tweetbuy_server::vault::keys::{Keyring, MasterKey};
pub use tweetbuy_server::vault::profiles::CREDENTIAL_COOKIE;
use tweetbuy_server::{api_app, clock, db, vault_app, ApiSettings, ApiState, VaultSettings, VaultState};

pub const PUBLISHER_ORIGIN: &str = "http://publisher.test:8080";
pub const OTHER_PUBLISHER_ORIGIN: &str = "https://news.example";
pub const API_ORIGIN: &str = "http://api.test:8081";
pub const VAULT_ORIGIN: &str = "http://vault.test:8082";
pub const VAULT_API_KEY: &str = "test-vault-key-0123456789";

pub const TEE: &str = "red-tee";
pub const SCARF: &str = "burberry-heritage-scarf";
pub const TICKET: &str = "demi-fall-tour-ticket";
pub const SOLD_OUT_TEE: &str = "paramore-tour-tee";
pub const TOOL_KIT: &str = "home-depot-tool-kit";
pub const CONCIERTO: &str = "rosalia-concierto";

/// The PostgreSQL server the tests run against, when `TWEETBUY_TEST_PG_URL` is set
/// (`make test-pg`). Without it the tests use SQLite files, unless `TWEETBUY_REQUIRE_PG=1`
/// says PostgreSQL was expected, in which case its absence fails the test.
pub fn pg_url() -> Option<String> {
    match std::env::var("TWEETBUY_TEST_PG_URL").ok().filter(|u| !u.trim().is_empty()) {
        Some(url) => Some(url),
        None if std::env::var("TWEETBUY_REQUIRE_PG").is_ok_and(|v| v == "1") => {
            panic!("TWEETBUY_REQUIRE_PG=1 but TWEETBUY_TEST_PG_URL is not set: start PostgreSQL (scripts/postgres.sh)")
        }
        None => None,
    }
}

/// Fresh, empty databases for one test: SQLite files in `dir`, or two new schemas with a
/// random prefix on the test PostgreSQL server (tests run in parallel and must not share).
pub fn fresh_locations(dir: &Path) -> (Location, Location) {
    match pg_url() {
        Some(url) => {
            let prefix = tweetbuy_server::ids::random_id("t");
            (
                Location::Postgres { url: url.clone(), schema: format!("{prefix}_api") },
                Location::Postgres { url, schema: format!("{prefix}_vault") },
            )
        }
        None => (Location::Sqlite(dir.join("api.db")), Location::Sqlite(dir.join("vault.db"))),
    }
}

pub struct TestServer {
    pub dir: TempDir,
    pub api_state: ApiState,
    pub vault_state: VaultState,
    pub api: Router,
    pub vault: Router,
    pub vault_url: String,
    /// What [`TestServer::order`] paid under each (key, body), so a repeat reuses its intent
    /// and token the way a retry in the frame does.
    payments: std::sync::Mutex<std::collections::HashMap<String, Value>>,
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The device credential a save answered with, from its `HttpOnly` cookie.
    pub fn credential(&self) -> String {
        let prefix = format!("{CREDENTIAL_COOKIE}=");
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&prefix))
            .and_then(|v| v.split(';').next())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| panic!("no credential cookie in {:?}", self.headers))
            .to_owned()
    }

    /// An error body: exactly the `{code, message, …}` shape, returning the code.
    pub fn error_code(&self) -> String {
        let body = self.json();
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "no message in {body}");
        assert!(self.header("content-type").unwrap_or_default().starts_with("application/json"));
        body["code"].as_str().unwrap_or_else(|| panic!("no code in {body}")).to_owned()
    }

    /// Field names of a `validation_failed` body.
    pub fn fields(&self) -> Vec<String> {
        self.json()["fields"]
            .as_array()
            .map(|a| a.iter().map(|f| f["field"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    }
}

/// Writes minimal asset templates, like the ones the front-end engineer ships.
pub fn write_assets(dir: &Path) -> PathBuf {
    let assets = dir.join("assets");
    std::fs::create_dir_all(assets.join("frame")).unwrap();
    std::fs::create_dir_all(assets.join("publisher")).unwrap();
    std::fs::write(
        assets.join("frame/frame.html"),
        r#"<!doctype html><html lang="{{LANG}}" data-allowed="{{ALLOWED_ORIGINS}}" data-vault="{{VAULT_ORIGIN}}" data-api="{{API_ORIGIN}}"><script defer src="/frame-words-{{LANG}}.js"></script><form id="card"></form><script src="/frame.js"></script></html>"#,
    )
    .unwrap();
    // As the vault's minifier prints them, so that what is sent is what was written.
    std::fs::write(assets.join("frame/frame.js"), "console.log(`frame`);").unwrap();
    std::fs::write(assets.join("frame/keys.js"), "window.tbKeyboard={};").unwrap();
    std::fs::write(assets.join("frame/rules.mjs"), "export const decode=()=>null;").unwrap();
    std::fs::write(assets.join("frame/frame.css"), "body{margin:0}").unwrap();
    std::fs::write(
        assets.join("frame/confirm.html"),
        r#"<!doctype html><html lang="{{LANG}}"><title>{{W_TITLE}}</title><main data-nothing="{{W_NOTHING}}"><button>{{W_CANCEL}}</button></main><script defer src="/confirm.js"></script></html>"#,
    )
    .unwrap();
    std::fs::write(assets.join("frame/confirm.js"), "window.close();").unwrap();
    std::fs::write(assets.join("frame/ask.mjs"), "export const asker=()=>null;").unwrap();
    std::fs::create_dir_all(assets.join("frame/words")).unwrap();
    for lang in ["en", "es"] {
        std::fs::write(assets.join(format!("frame/words/{lang}.js")), format!("window.tbWords={{lang:`{lang}`}};"))
            .unwrap();
    }
    assets
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

/// The `Cookie` header the frame's requests carry with a device credential.
pub fn credential_cookie(credential: &str) -> String {
    format!("{CREDENTIAL_COOKIE}={credential}")
}

/// The admin bearer key of [`start_admin`].
pub const ADMIN_KEY: &str = "admin-key-for-tests-0123456789";

/// [`start`], with the seller's admin api on under [`ADMIN_KEY`].
pub async fn start_admin() -> TestServer {
    let mut server = start().await;
    server.api = tweetbuy_server::api_app(server.api_state.clone().with_admin_key(Some(ADMIN_KEY.into())));
    server
}

/// Starts the vault on a loopback port and builds the api against it; `tweak` may change
/// the api's settings before the state is built.
pub async fn start_with(tweak: impl FnOnce(&mut ApiSettings)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let assets = write_assets(dir.path());
    let allowed = vec![PUBLISHER_ORIGIN.to_owned(), OTHER_PUBLISHER_ORIGIN.to_owned()];

    let (api_location, vault_location) = fresh_locations(dir.path());
    let vault_db = db::open_vault(&vault_location).await.unwrap();
    let vault_state = VaultState::new(
        vault_db,
        Keyring::new(MasterKey::generate()),
        VaultSettings {
            vault_origin: VAULT_ORIGIN.to_owned(),
            api_origin: API_ORIGIN.to_owned(),
            allowed_origins: allowed.clone(),
            assets_dir: assets.clone(),
            api_key: VAULT_API_KEY.to_owned(),
        },
    );
    let vault = vault_app(vault_state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vault_url = format!("http://{}", listener.local_addr().unwrap());
    let served = vault.clone();
    tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });

    let api_db = db::open_api(&api_location).await.unwrap();
    seed_demo_if_empty(&api_db, clock::now()).await.unwrap();
    let mut settings = ApiSettings {
        api_origin: API_ORIGIN.to_owned(),
        vault_origin: VAULT_ORIGIN.to_owned(),
        allowed_origins: allowed,
        widget_dir: dir.path().join("dist"),
        vault_internal_url: vault_url.clone(),
        vault_api_key: VAULT_API_KEY.to_owned(),
    };
    tweak(&mut settings);
    let api_state = ApiState::new(api_db, settings);
    let api = api_app(api_state.clone());
    TestServer { dir, api_state, vault_state, api, vault, vault_url, payments: Default::default() }
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, body }
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// A GET with these request headers.
pub fn get_with(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

/// A JSON POST, with an idempotency key when given.
pub fn post_json(uri: &str, body: &Value, key: Option<&str>) -> Request<Body> {
    post_raw(uri, serde_json::to_vec(body).unwrap(), key)
}

/// A POST to one of the vault's frame routes carries the vault's `Origin`, as the frame's
/// does in a browser (the vault refuses them without it).
pub fn post_raw(uri: &str, body: Vec<u8>, key: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(Method::POST).uri(uri).header(header::CONTENT_TYPE, "application/json");
    if is_frame_route(uri) {
        builder = builder.header(header::ORIGIN, VAULT_ORIGIN);
    }
    if let Some(key) = key {
        builder = builder.header("Idempotency-Key", key);
    }
    builder.body(Body::from(body)).unwrap()
}

/// The vault routes only its own frame may call.
pub fn is_frame_route(uri: &str) -> bool {
    ["/v1/tokens", "/v1/profiles", "/v1/profile"]
        .iter()
        .any(|route| uri == *route || uri.starts_with(&format!("{route}/")))
}

/// An expiry two years ahead, as a buyer types it.
pub fn future_expiry() -> String {
    let (year, month) = clock::year_month(clock::now());
    format!("{month:02}/{:02}", (year + 2) % 100)
}

pub fn fresh_key() -> String {
    tweetbuy_server::ids::random_id("key_")
}

/// Marks a card the test typed (see [`TestServer::order`]).
const TYPED: &str = "typed-card|";

impl TestServer {
    /// A card as the buyer types it into the frame. The tests write it where an order's
    /// `card_token` goes; [`TestServer::order`] mints the token for the order's intent.
    pub async fn tokenize(&self, number: &str, cvc: &str) -> String {
        format!("{TYPED}{number}|{cvc}")
    }

    /// Mints a one-time token for `intent_id` at the vault, as the frame does on Pay.
    pub async fn mint(&self, number: &str, cvc: &str, intent_id: &str) -> Reply {
        let body = json!({"number": number, "expiry": future_expiry(), "cvc": cvc, "intent_id": intent_id});
        send(&self.vault, post_json("/v1/tokens", &body, Some(&fresh_key()))).await
    }

    /// Prices an intent for an order's details (the body without its `card_token`).
    pub async fn intent(&self, body: &Value) -> Reply {
        let mut details = body.clone();
        if let Some(fields) = details.as_object_mut() {
            fields.remove("card_token");
        }
        send(&self.api, post_json("/api/v1/intents", &details, None)).await
    }

    /// Pays an order the way the buyer does through the frame: an intent for the body's
    /// details, a token for that intent (from the typed card in `card_token`; any other
    /// `card_token` is sent as it is), then `POST /api/v1/orders` under `key`. A refused
    /// intent or card is the reply. The same key and body again reuse the same intent and
    /// token, as the frame's retry does.
    pub async fn order(&self, body: &Value, key: &str) -> Reply {
        let memo = format!("{key}\n{body}");
        let known = self.payments.lock().unwrap().get(&memo).cloned();
        let pay = match known {
            Some(pay) => pay,
            None => {
                let intent = self.intent(body).await;
                if intent.status != StatusCode::CREATED {
                    return intent;
                }
                let intent = intent.json();
                let intent_id = intent["intent_id"].as_str().unwrap();
                let card = body["card_token"].as_str().unwrap_or_default();
                let token = match card.strip_prefix(TYPED).and_then(|c| c.split_once('|')) {
                    Some((number, cvc)) => {
                        let minted = self.mint(number, cvc, intent_id).await;
                        if minted.status != StatusCode::CREATED {
                            return minted;
                        }
                        minted.json()["token"].as_str().unwrap().to_owned()
                    }
                    None => card.to_owned(),
                };
                let pay =
                    json!({"intent_id": intent_id, "client_secret": intent["client_secret"], "card_token": token});
                self.payments.lock().unwrap().insert(memo, pay.clone());
                pay
            }
        };
        send(&self.api, post_json("/api/v1/orders", &pay, Some(key))).await
    }

    /// A one-time token for a typed card that pays [`VAULT_TEST_INTENT`], for the vault's
    /// own tests (the vault checks only the form of an intent id).
    pub async fn vault_token(&self, number: &str, cvc: &str) -> String {
        self.token_for(number, cvc, VAULT_TEST_INTENT).await
    }

    /// Prices an intent for `details` (an order's details, without a card); panics unless 201.
    pub async fn create_intent(&self, details: &Value) -> Value {
        let reply = self.intent(details).await;
        assert_eq!(reply.status, StatusCode::CREATED, "intent: {}", reply.text());
        reply.json()
    }

    /// A one-time token for a typed card that pays `intent_id`; panics unless 201.
    pub async fn token_for(&self, number: &str, cvc: &str, intent_id: &str) -> String {
        self.token_with_secret(number, cvc, intent_id).await.0
    }

    /// A one-time token for `intent_id` and the save secret only the frame sees.
    pub async fn token_with_secret(&self, number: &str, cvc: &str, intent_id: &str) -> (String, String) {
        let reply = self.mint(number, cvc, intent_id).await;
        assert_eq!(reply.status, StatusCode::CREATED, "tokenize: {}", reply.text());
        let body = reply.json();
        (body["token"].as_str().unwrap().to_owned(), body["save_secret"].as_str().unwrap().to_owned())
    }

    /// `POST /api/v1/orders`: pays `intent` (as the api answered it) with `token` under `key`.
    pub async fn pay(&self, intent: &Value, token: &str, key: &str) -> Reply {
        send(&self.api, post_json("/api/v1/orders", &pay_body(intent, token), Some(key))).await
    }

    /// `POST /v1/charges` at the vault, as the api sends it (with its bearer key).
    pub async fn vault_charge(&self, token: &str, intent_id: &str, reference: &str, minor: i64) -> Reply {
        let body = json!({"token": token, "amount": {"minor": minor, "currency": "USD"}, "reference": reference,
                          "intent_id": intent_id});
        let mut request = post_json("/v1/charges", &body, None);
        request.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {VAULT_API_KEY}").parse().unwrap());
        send(&self.vault, request).await
    }

    /// Rows of the vault's `charges` table.
    pub async fn vault_charges(&self) -> i64 {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM charges").fetch_one(&self.vault_state.db).await.unwrap();
        n
    }

    /// Whether the vault has marked a one-time typed-card token used.
    pub async fn token_used(&self, token: &str) -> bool {
        let (used,): (Option<i64>,) = sqlx::query_as("SELECT used_at FROM cards WHERE token = $1")
            .bind(token)
            .fetch_one(&self.vault_state.db)
            .await
            .unwrap();
        used.is_some()
    }

    /// Pays for a tee with a typed Visa and saves it with the buyer's details, as the frame
    /// does after a purchase; returns the device credential.
    pub async fn paid_and_saved(&self) -> String {
        let intent = self.create_intent(&tee_details(1)).await;
        let intent_id = intent["intent_id"].as_str().unwrap();
        let (token, secret) = self.token_with_secret("4242 4242 4242 4242", "123", intent_id).await;
        let paid = self.pay(&intent, &token, &fresh_key()).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
        let body =
            json!({"token": token, "save_secret": secret, "email": "jane@example.com", "shipping": us_address()});
        let saved = send(&self.vault, post_json("/v1/profiles", &body, None)).await;
        assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text());
        saved.credential()
    }

    /// `POST /v1/profile/tokens` from the frame: a one-time saved-card token for `intent_id`.
    pub async fn mint_saved(&self, credential: &str, intent_id: &str) -> Reply {
        let request = Request::post("/v1/profile/tokens")
            .header(header::ORIGIN, VAULT_ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, credential_cookie(credential))
            .body(Body::from(json!({"intent_id": intent_id}).to_string()))
            .unwrap();
        send(&self.vault, request).await
    }

    /// What the frame reads about the saved info (`GET /v1/profile`).
    pub async fn saved_profile(&self, credential: &str) -> Reply {
        let request = Request::get("/v1/profile")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, credential_cookie(credential))
            .body(Body::empty())
            .unwrap();
        send(&self.vault, request).await
    }

    /// A repeat purchase with saved info, as the frame makes it: the intent from the saved
    /// email and address, a saved-card token for that intent, then the order.
    pub async fn pay_with_saved(&self, credential: &str, key: &str) -> Reply {
        let profile = self.saved_profile(credential).await;
        assert_eq!(profile.status, StatusCode::OK, "{}", profile.text());
        let profile = profile.json();
        let mut details = tee_details(1);
        details["email"] = profile["email"].clone();
        details["shipping"] = profile["shipping"].clone();
        let intent = self.create_intent(&details).await;
        let minted = self.mint_saved(credential, intent["intent_id"].as_str().unwrap()).await;
        assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text());
        self.pay(&intent, minted.json()["token"].as_str().unwrap(), key).await
    }

    pub async fn stock(&self, product: &str, variant: &str) -> Option<i64> {
        let (stock,): (Option<i64>,) = sqlx::query_as("SELECT stock FROM variants WHERE product_id = $1 AND id = $2")
            .bind(product)
            .bind(variant)
            .fetch_one(&self.api_state.db)
            .await
            .unwrap();
        stock
    }

    pub async fn set_stock(&self, product: &str, variant: &str, stock: i64) {
        sqlx::query("UPDATE variants SET stock = $1 WHERE product_id = $2 AND id = $3")
            .bind(stock)
            .bind(product)
            .bind(variant)
            .execute(&self.api_state.db)
            .await
            .unwrap();
    }

    pub async fn count(&self, table: &str) -> i64 {
        let (n,): (i64,) =
            sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&self.api_state.db).await.unwrap();
        n
    }

    pub async fn order_row(&self, order_id: &str) -> (String, Option<String>, Option<String>, Option<String>) {
        sqlx::query_as("SELECT status, card_last4, decline_code, charge_id FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_one(&self.api_state.db)
            .await
            .unwrap()
    }

    /// Everything a database holds in the clear. SQLite: every byte of the main file, the
    /// WAL and the shared-memory file. PostgreSQL: the text of every text column of every
    /// table (binary columns are ciphertext, checked by decrypting them elsewhere).
    pub async fn db_bytes(&self, name: &str) -> Vec<u8> {
        let pool = if name.starts_with("api") { &self.api_state.db } else { &self.vault_state.db };
        let mut bytes = Vec::new();
        if pg_url().is_some() {
            let columns: Vec<(String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND data_type = 'text'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for (table, column) in columns {
                let values: Vec<(Option<String>,)> =
                    sqlx::query_as(&format!("SELECT {column} FROM {table}")).fetch_all(pool).await.unwrap();
                for value in values.into_iter().filter_map(|(v,)| v) {
                    bytes.extend(value.into_bytes());
                    bytes.push(b'\n');
                }
            }
        } else {
            for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
                if entry.file_name().to_string_lossy().starts_with(name) {
                    bytes.extend(std::fs::read(entry.path()).unwrap());
                }
            }
        }
        assert!(!bytes.is_empty(), "no {name} data");
        bytes
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Like [`contains`], but only where the needle stands alone: not inside a longer run of
/// letters and digits. A 3-digit CVC turns up by chance inside hex hashes, uuids and
/// timestamps; stored as a value of its own, it would stand alone.
pub fn contains_alone(haystack: &[u8], needle: &[u8]) -> bool {
    let n = needle.len();
    (0..haystack.len().saturating_sub(n - 1)).any(|i| {
        let alone = |at: Option<&u8>| at.is_none_or(|b| !b.is_ascii_alphanumeric());
        &haystack[i..i + n] == needle
            && alone(i.checked_sub(1).and_then(|j| haystack.get(j)))
            && alone(haystack.get(i + n))
    })
}

pub fn us_address() -> Value {
    json!({
        "name": "Jane Doe",
        "line1": "1 Main St",
        "city": "New York",
        "region": "NY",
        "postal_code": "10001",
        "country": "US"
    })
}

/// What a buyer chose, as the frame posts it for an intent: the tee, size M, shipped to
/// New York ([`tee_order`] without its card).
pub fn tee_details(quantity: u32) -> Value {
    let mut details = tee_order("", quantity);
    details.as_object_mut().unwrap().remove("card_token");
    details
}

/// The `PayRequest` body that pays `intent` (as the api answered it) with `token`.
pub fn pay_body(intent: &Value, token: &str) -> Value {
    json!({"intent_id": intent["intent_id"], "client_secret": intent["client_secret"], "card_token": token})
}

/// An intent id the api never issued: the vault checks only its form, so its own tests
/// mint and charge tokens for this one.
pub const VAULT_TEST_INTENT: &str = "pi_vaulttest0001";

/// An order for the tee, size M, shipped to New York.
/// The orders of [`tee_sale`]: more than two batches of the background workers (20 each).
pub const TEE_SALE: usize = 45;

/// [`TEE_SALE`] paid orders of one tee each, over its sizes (its whole stock is 50): their
/// order numbers and ids.
pub async fn tee_sale(server: &TestServer) -> Vec<(String, String)> {
    let mut orders = Vec::new();
    for (variant, count) in [("s", 10), ("m", 15), ("l", 15), ("xl", 5)] {
        for _ in 0..count {
            let card = server.tokenize("4242424242424242", "123").await;
            let mut order = tee_order(&card, 1);
            order["variant_id"] = json!(variant);
            let reply = server.order(&order, &fresh_key()).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
            let body = reply.json();
            orders.push((
                body["order_number"].as_str().unwrap().to_owned(),
                body["order_id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(orders.len(), TEE_SALE);
    orders
}

pub fn tee_order(token: &str, quantity: u32) -> Value {
    json!({
        "product_id": TEE,
        "variant_id": "m",
        "quantity": quantity,
        "email": "jane@example.com",
        "shipping": us_address(),
        "card_token": token,
        "share_email": true,
        "tweet_id": "1528000000000000001"
    })
}

/// A mail as a reader sees it: its headers as written, then its body decoded from the
/// transfer encoding lettre chose (quoted-printable or base64 for text that is not ASCII).
pub fn mail_text(raw: &str) -> String {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let encoding = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Transfer-Encoding:"))
        .map(|value| value.trim().to_ascii_lowercase());
    let bytes = match encoding.as_deref() {
        Some("quoted-printable") => {
            let joined = body.replace("=\r\n", "");
            let mut out = Vec::new();
            let mut rest = joined.as_bytes();
            while let Some((&byte, tail)) = rest.split_first() {
                match (byte, tail.get(..2).and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()))
                {
                    (b'=', Some(decoded)) => {
                        out.push(decoded);
                        rest = &tail[2..];
                    }
                    _ => {
                        out.push(byte);
                        rest = tail;
                    }
                }
            }
            out
        }
        Some("base64") => {
            use base64::Engine;
            let compact: String = body.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD.decode(compact).expect("a base64 body")
        }
        _ => body.as_bytes().to_vec(),
    };
    format!("{head}\r\n\r\n{}", String::from_utf8(bytes).expect("a UTF-8 body"))
}
