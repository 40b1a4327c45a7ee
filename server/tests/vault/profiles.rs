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

pub fn with_credential(method: Method, uri: &str, credential: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {credential}"))
        .body(Body::empty())
        .unwrap()
}

async fn save(server: &TestServer, token: &str, secret: &str) -> Reply {
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
