use crate::harness::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};

const VISA: &str = "4242 4242 4242 4242";

/// Tokenizes as the frame does; returns the token and the save secret only the frame sees.
pub async fn tokenize_with_secret(server: &TestServer, number: &str) -> (String, String) {
    let body = json!({"number": number, "expiry": future_expiry(), "cvc": "123"});
    let reply = send(&server.vault, post_json("/v1/tokens", &body, Some(&fresh_key()))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let json = reply.json();
    (json["token"].as_str().unwrap().to_owned(), json["save_secret"].as_str().unwrap().to_owned())
}

pub fn address() -> Value {
    json!({"name": "Jane Doe", "line1": "1 Main St", "city": "New York", "region": "NY",
           "postal_code": "10001", "country": "US"})
}

/// An order for the tee through the api.
pub async fn buy(server: &TestServer, token: &str, email: &str, shipping: Option<Value>) -> Reply {
    let mut body = json!({"product_id": TEE, "variant_id": "m", "quantity": 1, "email": email, "card_token": token});
    if let Some(shipping) = shipping {
        body["shipping"] = shipping;
    }
    server.order(&body, &fresh_key()).await
}

/// A request from the frame with the device credential (and the vault's `Origin`, which a
/// browser sends with the frame's POST and DELETE; its GET gets `Sec-Fetch-Site` instead).
pub fn with_credential(method: Method, uri: &str, credential: &str) -> Request<Body> {
    let browser = if method == Method::GET { ("sec-fetch-site", "same-origin") } else { ("origin", VAULT_ORIGIN) };
    Request::builder()
        .method(method)
        .uri(uri)
        .header(browser.0, browser.1)
        .header("authorization", format!("Bearer {credential}"))
        .body(Body::empty())
        .unwrap()
}

pub async fn save(server: &TestServer, token: &str, secret: &str) -> Reply {
    let body = json!({"token": token, "save_secret": secret, "email": "jane@example.com", "shipping": address()});
    send(&server.vault, post_json("/v1/profiles", &body, None)).await
}

/// Pays with a typed card, then saves it; returns the device credential.
pub async fn paid_and_saved(server: &TestServer) -> String {
    let (token, secret) = tokenize_with_secret(server, VISA).await;
    let paid = buy(server, &token, "jane@example.com", Some(address())).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    let saved = save(server, &token, &secret).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text());
    let json = saved.json();
    assert_eq!(
        json["saved"],
        json!({"brand": "visa", "last4": "4242", "exp_month": json["saved"]["exp_month"],
        "exp_year": json["saved"]["exp_year"], "ship_to": "J. Doe, 10001"})
    );
    json["credential"].as_str().unwrap().to_owned()
}

pub async fn saved_token(server: &TestServer, credential: &str) -> String {
    let reply = send(&server.vault, with_credential(Method::POST, "/v1/profile/tokens", credential)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.json()["last4"], "4242");
    reply.json()["token"].as_str().unwrap().to_owned()
}

async fn charge(server: &TestServer, token: &str) -> Reply {
    let mut request = post_json(
        "/v1/charges",
        &json!({"token": token, "amount": {"minor": 100, "currency": "USD"}, "reference": "ord_x"}),
        None,
    );
    request.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
    send(&server.vault, request).await
}

#[tokio::test]
async fn save_pay_with_saved_info_then_remove_and_the_old_token_fails() {
    let server = start().await;
    let credential = paid_and_saved(&server).await;
    assert!(credential.starts_with("cred_"));

    let lookup = send(&server.vault, with_credential(Method::GET, "/v1/profile", &credential)).await;
    assert_eq!(lookup.status, StatusCode::OK);
    assert_eq!(lookup.json()["ship_to"], "J. Doe, 10001");

    // The repeat purchase: a one-time saved-card token, no email and no address typed.
    let token = saved_token(&server, &credential).await;
    assert!(token.starts_with("sav_"));
    let again = buy(&server, &token, "", None).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    let receipt = again.json();
    assert_eq!(receipt["email"], "jane@example.com");
    assert_eq!(receipt["shipping"]["line1"], "1 Main St", "the saved address, from the vault");
    assert_eq!(receipt["card_last4"], "4242");
    // One-time: the same saved-card token does not charge twice.
    assert_eq!(charge(&server, &token).await.error_code(), "token_invalid");

    // The reusable card token itself is never chargeable on its own.
    let (reusable,): (String,) = sqlx::query_as("SELECT token FROM cards WHERE reusable = TRUE")
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    assert!(reusable.starts_with("scard_"));
    assert_eq!(charge(&server, &reusable).await.error_code(), "token_invalid");

    // Remove: the profile, its card's number and wrapped key, and every token minted for it.
    let pending = saved_token(&server, &credential).await;
    let removed = send(&server.vault, with_credential(Method::DELETE, "/v1/profile", &credential)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let reply = charge(&server, &pending).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::BAD_REQUEST, "token_invalid"));
    assert_eq!(buy(&server, &pending, "", None).await.error_code(), "token_invalid");
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

#[tokio::test]
async fn saving_needs_the_frames_secret_and_a_paid_card_and_works_once() {
    let server = start().await;
    let (unpaid, unpaid_secret) = tokenize_with_secret(&server, VISA).await;
    assert_eq!(save(&server, &unpaid, &unpaid_secret).await.error_code(), "token_invalid", "not paid");

    let (declined, declined_secret) = tokenize_with_secret(&server, "4000 0000 0000 0002").await;
    assert_eq!(buy(&server, &declined, "jane@example.com", Some(address())).await.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(save(&server, &declined, &declined_secret).await.error_code(), "token_invalid", "declined");

    let (token, secret) = tokenize_with_secret(&server, VISA).await;
    assert_eq!(buy(&server, &token, "jane@example.com", Some(address())).await.status, StatusCode::CREATED);
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
async fn only_the_credential_holder_gets_tokens_and_only_the_api_gets_details() {
    let server = start().await;
    let credential = paid_and_saved(&server).await;
    for bad in ["cred_wrong", "tok_x", ""] {
        let reply = send(&server.vault, with_credential(Method::POST, "/v1/profile/tokens", bad)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    let mut foreign = with_credential(Method::POST, "/v1/profile/tokens", &credential);
    foreign.headers_mut().insert("origin", OTHER_PUBLISHER_ORIGIN.parse().unwrap());
    assert_eq!(send(&server.vault, foreign).await.status, StatusCode::FORBIDDEN);

    let token = saved_token(&server, &credential).await;
    let details = json!({"token": token});
    let anonymous = send(&server.vault, post_json("/v1/saved/details", &details, None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "the saved address is for the api only");
    let mut as_api = post_json("/v1/saved/details", &details, None);
    as_api.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
    let reply = send(&server.vault, as_api).await;
    assert_eq!(reply.json()["shipping"]["postal_code"], "10001");

    // A one-time token for a typed card cannot pose as a saved one, nor the reverse.
    let (typed, _) = tokenize_with_secret(&server, VISA).await;
    let mut as_api = post_json("/v1/saved/details", &json!({"token": typed}), None);
    as_api.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
    assert_eq!(send(&server.vault, as_api).await.error_code(), "token_invalid");
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
    let reply = send(&server.vault, with_credential(Method::POST, "/v1/profile/tokens", &stale)).await;
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

    // The fresh one works, and using it moves its last use to now.
    let reply = send(&server.vault, with_credential(Method::GET, "/v1/profile", &fresh)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let (last_used,): (i64,) =
        sqlx::query_as("SELECT last_used_at FROM profiles").fetch_one(&server.vault_state.db).await.unwrap();
    assert!(last_used >= now, "the 180 days start again");

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
        saved_token(&server, &credential).await;
    }
    let reply = send(&server.vault, with_credential(Method::POST, "/v1/profile/tokens", &credential)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.text());
    assert_eq!(reply.error_code(), "rate_limited");
    assert_eq!(reply.header("retry-after"), Some("60"));
    // Another profile is not held back by it, and a minute later the first one mints again.
    saved_token(&server, &other).await;
    sqlx::query("UPDATE profiles SET mint_window_start = mint_window_start - 61")
        .execute(&server.vault_state.db)
        .await
        .unwrap();
    saved_token(&server, &credential).await;
}

/// Many requests at once cannot mint more than the limit between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_requests_cannot_mint_past_the_limit() {
    let server = start().await;
    let credential = paid_and_saved(&server).await;
    let replies = futures_util::future::join_all(
        (0..25).map(|_| send(&server.vault, with_credential(Method::POST, "/v1/profile/tokens", &credential))),
    )
    .await;
    let minted = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let refused = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((minted, refused), (10, 15), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    let (rows,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM saved_tokens").fetch_one(&server.vault_state.db).await.unwrap();
    assert_eq!(rows, 10);
}
