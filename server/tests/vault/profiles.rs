use crate::harness::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};

const VISA: &str = "4242 4242 4242 4242";

/// A card typed into the frame for a new intent for the tee: the intent, its one-time token,
/// and the save secret only the frame sees.
pub struct Typed {
    pub intent: Value,
    pub token: String,
    pub secret: String,
}

pub async fn typed(server: &TestServer, number: &str) -> Typed {
    let intent = server.create_intent(&tee_details(1)).await;
    let (token, secret) = server.token_with_secret(number, "123", intent["intent_id"].as_str().unwrap()).await;
    Typed { intent, token, secret }
}

pub fn address() -> Value {
    us_address()
}

/// Pays the card's intent with its token through the api.
pub async fn buy(server: &TestServer, card: &Typed) -> Reply {
    server.pay(&card.intent, &card.token, &fresh_key()).await
}

/// A request from the frame with the device credential (and the vault's `Origin`, which a
/// browser sends with the frame's POST and DELETE; its GET gets `Sec-Fetch-Site` instead).
pub fn with_credential(method: Method, uri: &str, credential: &str) -> Request<Body> {
    let browser = if method == Method::GET { ("sec-fetch-site", "same-origin") } else { ("origin", VAULT_ORIGIN) };
    Request::builder()
        .method(method)
        .uri(uri)
        .header(browser.0, browser.1)
        .header("cookie", credential_cookie(credential))
        .body(Body::empty())
        .unwrap()
}

pub async fn save(server: &TestServer, token: &str, secret: &str) -> Reply {
    let body = json!({"token": token, "save_secret": secret, "email": "jane@example.com", "shipping": address()});
    send(&server.vault, post_json("/v1/profiles", &body, None)).await
}

/// Pays with a typed card, then saves it; returns the device credential.
pub async fn paid_and_saved(server: &TestServer) -> String {
    let card = typed(server, VISA).await;
    let paid = buy(server, &card).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    let saved = save(server, &card.token, &card.secret).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text());
    let json = saved.json();
    assert_eq!(
        json["saved"],
        json!({"brand": "visa", "last4": "4242", "exp_month": json["saved"]["exp_month"],
        "exp_year": json["saved"]["exp_year"], "ship_to": "J. Doe, 10001"})
    );
    saved.credential()
}

/// A one-time saved-card token for `intent_id`; panics unless 201.
pub async fn saved_token(server: &TestServer, credential: &str, intent_id: &str) -> String {
    let reply = server.mint_saved(credential, intent_id).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.json()["last4"], "4242");
    reply.json()["token"].as_str().unwrap().to_owned()
}

async fn charge(server: &TestServer, token: &str, intent_id: &str) -> Reply {
    server.vault_charge(token, intent_id, "ord_x", 100).await
}

#[tokio::test]
async fn save_pay_with_saved_info_then_remove_and_the_old_token_fails() {
    let server = start().await;
    let credential = paid_and_saved(&server).await;
    assert!(credential.starts_with("cred_"));

    // What the frame reads to build the intent: the card as shown, the email and address.
    let lookup = server.saved_profile(&credential).await;
    assert_eq!(lookup.status, StatusCode::OK);
    assert_eq!(lookup.header("cache-control"), Some("no-store"));
    let profile = lookup.json();
    assert_eq!(profile["card"]["ship_to"], "J. Doe, 10001");
    assert_eq!(profile["card"]["last4"], "4242");
    assert_eq!(profile["email"], "jane@example.com");
    let mut saved_address = address();
    saved_address["line2"] = json!("");
    assert_eq!(profile["shipping"], saved_address);

    // The repeat purchase: an intent from the saved details, a one-time saved-card token for it.
    let mut details = tee_details(1);
    details["email"] = profile["email"].clone();
    details["shipping"] = profile["shipping"].clone();
    let intent = server.create_intent(&details).await;
    let intent_id = intent["intent_id"].as_str().unwrap().to_owned();
    let token = saved_token(&server, &credential, &intent_id).await;
    assert!(token.starts_with("sav_"));
    let again = server.pay(&intent, &token, &fresh_key()).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    let receipt = again.json();
    assert_eq!(receipt["email"], "jane@example.com");
    assert_eq!(receipt["shipping"]["line1"], "1 Main St", "the saved address, through the intent");
    assert_eq!(receipt["card_last4"], "4242");
    // One-time: the same saved-card token does not charge twice.
    assert_eq!(charge(&server, &token, &intent_id).await.error_code(), "token_invalid");

    // The reusable card token itself is never chargeable on its own.
    let (reusable,): (String,) = sqlx::query_as("SELECT token FROM cards WHERE reusable = TRUE")
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert!(reusable.starts_with("scard_"));
    assert_eq!(charge(&server, &reusable, &intent_id).await.error_code(), "token_invalid");

    // Remove: the profile, its card's number and wrapped key, and every token minted for it.
    let next = server.create_intent(&details).await;
    let pending = saved_token(&server, &credential, next["intent_id"].as_str().unwrap()).await;
    let removed = send(&server.vault, with_credential(Method::DELETE, "/v1/profile", &credential)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let reply = charge(&server, &pending, next["intent_id"].as_str().unwrap()).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::BAD_REQUEST, "token_invalid"));
    assert_eq!(server.pay(&next, &pending, &fresh_key()).await.error_code(), "token_invalid");
    let (profiles,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM profiles").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(profiles, 0);
    let (key, number): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT wrapped_key, ciphertext FROM cards WHERE token = $1")
            .bind(&reusable)
            .fetch_one(&server.vault_state.db)
            .await
            .unwrap();
    assert!(key.is_empty() && number.is_empty(), "crypto-shredded");
    let lookup = send(&server.vault, with_credential(Method::GET, "/v1/profile", &credential)).await;
    assert_eq!(lookup.status, StatusCode::UNAUTHORIZED);
}

/// Saving on a device that already has saved info replaces it: the new cookie takes the old
/// credential's place, so the old profile is erased with the save, not left behind where no
/// Remove could reach it.
#[tokio::test]
async fn saving_again_replaces_what_the_device_had_saved() {
    let server = start().await;
    let first = paid_and_saved(&server).await;
    let (first_card,): (String,) =
        sqlx::query_as("SELECT card_id FROM profiles").fetch_one(&server.vault_state.db).await.unwrap();

    // Another card, paid and saved from the same device: its save carries the first cookie.
    let card = typed(&server, "5555 5555 5555 4444").await;
    assert_eq!(buy(&server, &card).await.status, StatusCode::CREATED);
    let body =
        json!({"token": card.token, "save_secret": card.secret, "email": "jane@example.com", "shipping": address()});
    let mut request = post_json("/v1/profiles", &body, None);
    request.headers_mut().insert("cookie", credential_cookie(&first).parse().unwrap());
    let saved = send(&server.vault, request).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text());
    assert_eq!(saved.json()["saved"]["last4"], "4444");
    let second = saved.credential();

    let first_lookup = send(&server.vault, with_credential(Method::GET, "/v1/profile", &first)).await;
    assert_eq!(first_lookup.status, StatusCode::UNAUTHORIZED, "the replaced credential opens nothing");
    let (key, number): (Vec<u8>, Vec<u8>) = sqlx::query_as("SELECT wrapped_key, ciphertext FROM cards WHERE id = $1")
        .bind(&first_card)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert!(key.is_empty() && number.is_empty(), "the first saved card is erased with the save");
    assert_eq!(server.saved_profile(&second).await.json()["card"]["last4"], "4444");

    // One Remove then leaves nothing saved at all.
    let removed = send(&server.vault, with_credential(Method::DELETE, "/v1/profile", &second)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let (profiles, kept): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM profiles), (SELECT COUNT(*) FROM cards WHERE reusable = TRUE AND length(ciphertext) > 0)",
    )
    .fetch_one(&server.vault_state.db)
    .await
    .unwrap();
    assert_eq!((profiles, kept), (0, 0));
}

/// Every `Set-Cookie` of a reply.
fn set_cookies(reply: &Reply) -> Vec<String> {
    reply.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

/// The credential lives in a cookie a third-party frame keeps where third-party storage is
/// blocked (partitioned), that no script reads (`HttpOnly`), and that only the vault's own
/// pages can use; the body a script reads never holds it.
#[tokio::test]
async fn the_credential_is_an_httponly_partitioned_cookie_forgotten_when_its_profile_is() {
    let server = start().await;
    let card = typed(&server, VISA).await;
    assert_eq!(buy(&server, &card).await.status, StatusCode::CREATED);
    let saved = save(&server, &card.token, &card.secret).await;
    assert!(!saved.text().contains("cred_"), "no credential in the body: {}", saved.text());
    let credential = saved.credential();
    let ttl = tweetbuy_server::vault::sweeper::CREDENTIAL_IDLE_SECONDS;
    let common = format!("Path=/; Max-Age={ttl}; Secure; SameSite=None; Partitioned");
    assert_eq!(
        set_cookies(&saved),
        [format!("__Host-tb_cred={credential}; {common}; HttpOnly"), format!("__Host-tb_saved=1; {common}")]
    );

    // Only the cookie opens it: the credential as a bearer header, as before, opens nothing.
    let bearer = Request::get("/v1/profile")
        .header("sec-fetch-site", "same-origin")
        .header("authorization", format!("Bearer {credential}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&server.vault, bearer).await.status, StatusCode::UNAUTHORIZED);
    // Among the page's other cookies, as a browser sends them.
    let mut among = with_credential(Method::GET, "/v1/profile", &credential);
    among.headers_mut().insert("cookie", format!("a=1; {}; b=2", credential_cookie(&credential)).parse().unwrap());
    assert_eq!(send(&server.vault, among).await.status, StatusCode::OK);

    // Paying with it keeps it for another idle time; removing forgets both cookies, and a
    // credential that opens nothing is forgotten too.
    let intent = server.create_intent(&tee_details(1)).await;
    let minted = server.mint_saved(&credential, intent["intent_id"].as_str().unwrap()).await;
    assert_eq!(set_cookies(&minted), set_cookies(&saved));
    let forgotten = [
        "__Host-tb_cred=; Path=/; Max-Age=0; Secure; SameSite=None; Partitioned; HttpOnly",
        "__Host-tb_saved=; Path=/; Max-Age=0; Secure; SameSite=None; Partitioned",
    ];
    let removed = send(&server.vault, with_credential(Method::DELETE, "/v1/profile", &credential)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(set_cookies(&removed), forgotten);
    let stale = server.saved_profile(&credential).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    assert_eq!(set_cookies(&stale), forgotten);
}

#[tokio::test]
async fn saving_needs_the_frames_secret_and_a_paid_card_and_works_once() {
    let server = start().await;
    let unpaid = typed(&server, VISA).await;
    assert_eq!(save(&server, &unpaid.token, &unpaid.secret).await.error_code(), "token_invalid", "not paid");

    let declined = typed(&server, "4000 0000 0000 0002").await;
    assert_eq!(buy(&server, &declined).await.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(save(&server, &declined.token, &declined.secret).await.error_code(), "token_invalid", "declined");

    let card = typed(&server, VISA).await;
    assert_eq!(buy(&server, &card).await.status, StatusCode::CREATED);
    let (token, secret) = (card.token.clone(), card.secret.clone());
    // The token alone (what the publisher's page saw) is not enough.
    assert_eq!(save(&server, &token, "not-the-secret").await.error_code(), "token_invalid");
    // A page elsewhere cannot save on the buyer's behalf.
    let body = json!({"token": token, "save_secret": secret, "email": "jane@example.com", "shipping": address()});
    let mut foreign = post_json("/v1/profiles", &body, None);
    foreign.headers_mut().insert("origin", PUBLISHER_ORIGIN.parse().unwrap());
    assert_eq!(send(&server.vault, foreign).await.status, StatusCode::FORBIDDEN);
    let bad = json!({"token": token, "save_secret": secret, "email": "nope", "shipping": address()});
    assert_eq!(
        send(&server.vault, post_json("/v1/profiles", &bad, None)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    assert_eq!(save(&server, &token, &secret).await.status, StatusCode::CREATED);
    assert_eq!(save(&server, &token, &secret).await.error_code(), "token_invalid", "only once");
    // The paid one-time card's number was moved into the profile and erased from its row.
    let (number,): (Vec<u8>,) = sqlx::query_as("SELECT ciphertext FROM cards WHERE token = $1")
        .bind(&token)
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert!(number.is_empty());
}

#[tokio::test]
async fn only_the_credential_holder_gets_tokens_and_each_pays_one_intent() {
    let server = start().await;
    let credential = paid_and_saved(&server).await;
    let (a, b) = (server.create_intent(&tee_details(1)).await, server.create_intent(&tee_details(1)).await);
    let (a_id, b_id) = (a["intent_id"].as_str().unwrap(), b["intent_id"].as_str().unwrap());
    for bad in ["cred_wrong", "tok_x", ""] {
        let reply = server.mint_saved(bad, a_id).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    let mut foreign = with_credential(Method::POST, "/v1/profile/tokens", &credential);
    foreign.headers_mut().insert("origin", OTHER_PUBLISHER_ORIGIN.parse().unwrap());
    assert_eq!(send(&server.vault, foreign).await.status, StatusCode::FORBIDDEN);

    // The token names the intent it pays: none, or a malformed one, is refused by name.
    let no_body = send(&server.vault, with_credential(Method::POST, "/v1/profile/tokens", &credential)).await;
    assert!(no_body.status.is_client_error(), "{}", no_body.text());
    let mut empty = with_credential(Method::POST, "/v1/profile/tokens", &credential);
    empty.headers_mut().insert("content-type", "application/json".parse().unwrap());
    *empty.body_mut() = Body::from("{}");
    let reply = send(&server.vault, empty).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert!(reply.json()["message"].as_str().unwrap().contains("intent_id"), "{}", reply.text());
    for malformed in ["", "pi_", "ord_123", "pi_a b", "pi_\u{0}", &format!("pi_{}", "a".repeat(62))] {
        let reply = server.mint_saved(&credential, malformed).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{malformed:?}: {}", reply.text());
        assert_eq!(reply.fields(), ["intent_id"], "{malformed:?}");
    }
    let (minted,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM saved_tokens").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(minted, 0, "no token minted for a refused request");

    // A saved-card token minted for A is refused for B (nothing charged) and still pays A.
    let token = saved_token(&server, &credential, a_id).await;
    let charges = server.vault_charges().await;
    let reply = server.vault_charge(&token, b_id, "ord_b", 3000).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(reply.error_code(), "token_mismatch");
    assert_eq!(server.vault_charges().await, charges, "no charge row");
    let reply = server.vault_charge(&token, a_id, "ord_a", 3000).await;
    assert_eq!(reply.json()["status"], "approved", "{}", reply.text());

    // The saved details reach the api only inside an intent: no route hands them out.
    for bearer in [None, Some(VAULT_API_KEY)] {
        let mut request = post_json("/v1/saved/details", &json!({"token": token}), None);
        if let Some(key) = bearer {
            request.headers_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
        }
        assert_eq!(send(&server.vault, request).await.status, StatusCode::NOT_FOUND, "{bearer:?}");
    }
}

#[tokio::test]
async fn the_saved_address_and_number_are_encrypted_at_rest() {
    let server = start().await;
    let _credential = paid_and_saved(&server).await;
    let bytes = server.db_bytes("vault.db").await;
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for plain in ["4242424242424242", "1 Main St", "jane@example.com", "Jane Doe", "cred_"] {
        assert!(!contains(plain.as_bytes()), "{plain} in vault.db");
    }
    assert!(contains(b"scard_"), "the search works");
}

/// Each frame route, without any sign of coming from the vault's own page (no `Origin`, no
/// `Sec-Fetch-Site: same-origin`), is refused: a script elsewhere holding a stolen
/// credential is not a browser on the vault's frame.
#[tokio::test]
async fn frame_routes_refuse_requests_without_origin() {
    let server = start().await;
    let credential = paid_and_saved(&server).await;
    for (method, uri) in
        [(Method::GET, "/v1/profile"), (Method::POST, "/v1/profile/tokens"), (Method::DELETE, "/v1/profile")]
    {
        let mut bare = with_credential(method.clone(), uri, &credential);
        bare.headers_mut().remove("origin");
        bare.headers_mut().remove("sec-fetch-site");
        let reply = send(&server.vault, bare).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(reply.error_code(), "forbidden");
    }
    // Sec-Fetch-Site stands in for Origin only on a GET (browsers omit Origin there).
    let mut delete = with_credential(Method::DELETE, "/v1/profile", &credential);
    delete.headers_mut().remove("origin");
    delete.headers_mut().insert("sec-fetch-site", "same-origin".parse().unwrap());
    assert_eq!(send(&server.vault, delete).await.status, StatusCode::FORBIDDEN);
    let mut cross = with_credential(Method::GET, "/v1/profile", &credential);
    cross.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(&server.vault, cross).await.status, StatusCode::FORBIDDEN);
    let mut save = post_json("/v1/profiles", &json!({}), None);
    save.headers_mut().remove("origin");
    assert_eq!(send(&server.vault, save).await.status, StatusCode::FORBIDDEN);
    // The profile was not touched by any of them.
    let lookup = send(&server.vault, with_credential(Method::GET, "/v1/profile", &credential)).await;
    assert_eq!(lookup.status, StatusCode::OK);
}

/// A credential unused for 180 days stops working, and its profile is erased; one used
/// within that time is kept, and each use starts the 180 days again.
#[tokio::test]
async fn a_credential_unused_for_180_days_stops_working_and_its_profile_is_erased() {
    let server = start().await;
    let stale = paid_and_saved(&server).await;
    let fresh = paid_and_saved(&server).await;
    let day = 24 * 60 * 60;
    let now = tweetbuy_server::clock::now();
    let set_last_use = |credential: String, at: i64| {
        let db = server.vault_state.db.clone();
        async move {
            sqlx::query("UPDATE profiles SET last_used_at = $1 WHERE credential_hash = $2")
                .bind(at)
                .bind(tweetbuy_server::hashing::sha256_hex(credential.as_bytes()))
                .execute(&db)
                .await
                .unwrap();
        }
    };
    set_last_use(stale.clone(), now - 181 * day).await;
    set_last_use(fresh.clone(), now - 179 * day).await;

    let reply = send(&server.vault, with_credential(Method::GET, "/v1/profile", &stale)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    let reply = server.mint_saved(&stale, VAULT_TEST_INTENT).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let (profiles,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM profiles").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(profiles, 1, "the stale profile is erased");
    let (live_saved_cards,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM cards WHERE reusable = TRUE AND length(wrapped_key) > 0")
            .fetch_one(&server.vault_state.db)
            .await
            .unwrap();
    assert_eq!(live_saved_cards, 1, "and its card's number with it");

    // The fresh one works. Shown in a frame, it is not used: a page that loads the saved-info
    // frame on every visit keeps nothing alive. Paying with it moves its last use to now.
    let last_used = || {
        let db = server.vault_state.db.clone();
        async move {
            let (at,): (i64,) = sqlx::query_as("SELECT last_used_at FROM profiles").fetch_one(&db).await.unwrap();
            at
        }
    };
    let reply = send(&server.vault, with_credential(Method::GET, "/v1/profile", &fresh)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(last_used().await, now - 179 * day, "shown, not used");
    let reply = server.mint_saved(&fresh, VAULT_TEST_INTENT).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert!(last_used().await >= now, "the 180 days start again");

    // The sweeper erases idle profiles nobody asks about.
    set_last_use(fresh.clone(), now - 181 * day).await;
    let report = tweetbuy_server::vault::sweeper::sweep_once(&server.vault_state.db, now).await.unwrap();
    assert_eq!(report.profiles_erased, 1);
    let (profiles,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM profiles").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(profiles, 0);
}

/// A profile mints at most 10 saved-card tokens a minute; then 429 with Retry-After.
#[tokio::test]
async fn saved_card_tokens_are_limited_per_profile() {
    let server = start().await;
    let credential = paid_and_saved(&server).await;
    let other = paid_and_saved(&server).await;
    for _ in 0..10 {
        saved_token(&server, &credential, VAULT_TEST_INTENT).await;
    }
    let reply = server.mint_saved(&credential, VAULT_TEST_INTENT).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.text());
    assert_eq!(reply.error_code(), "rate_limited");
    assert_eq!(reply.header("retry-after"), Some("60"));
    // Another profile is not held back by it, and a minute later the first one mints again.
    saved_token(&server, &other, VAULT_TEST_INTENT).await;
    sqlx::query("UPDATE profiles SET mint_window_start = mint_window_start - 61")
        .execute(&server.vault_state.db)
        .await
        .unwrap();
    saved_token(&server, &credential, VAULT_TEST_INTENT).await;
}

/// Many requests at once cannot mint more than the limit between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_requests_cannot_mint_past_the_limit() {
    let server = start().await;
    let credential = paid_and_saved(&server).await;
    let replies =
        futures_util::future::join_all((0..25).map(|_| server.mint_saved(&credential, VAULT_TEST_INTENT))).await;
    let minted = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let refused = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((minted, refused), (10, 15), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    let (rows,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM saved_tokens").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(rows, 10);
}
