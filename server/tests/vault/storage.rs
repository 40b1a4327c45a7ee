use crate::harness::*;
use axum::http::StatusCode;
use serde_json::json;
use tweetbuy_server::vault::card_store::CardRow;
use tweetbuy_server::vault::envelope::{self, EnvelopeError};

/// CVCs made of digits that never occur in the vault's ids (base32 has no 0, 1, 8, 9), so a
/// match in the file could only be the CVC itself.
const AMEX: &str = "378282246310005";
const AMEX_CVC: &str = "9081";
const VISA: &str = "4242424242424242";
const VISA_CVC: &str = "918";

async fn card_row(server: &TestServer, token: &str) -> CardRow {
    sqlx::query_as(
        "SELECT id, token, owner, key_id, wrapped_key, key_nonce, ciphertext, nonce, brand, last4, exp_month, \
         exp_year, expires_at, used_at FROM cards WHERE token = $1",
    )
    .bind(token)
    .fetch_one(&server.vault_state.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_database_holds_neither_cvc_nor_plain_number() {
    let server = start().await;
    let amex = server.vault_token("3782 822463 10005", AMEX_CVC).await;
    let visa = server.vault_token("4242 4242 4242 4242", VISA_CVC).await;
    // Checkpoint-free: read the main file, the WAL and the shm together.
    let bytes = server.db_bytes("vault.db").await;
    assert!(!contains_alone(&bytes, AMEX_CVC.as_bytes()), "Amex CVC found in vault.db");
    assert!(!contains_alone(&bytes, VISA_CVC.as_bytes()), "Visa CVC found in vault.db");
    assert!(contains_alone(b"x\x01918\x02", b"918") && !contains_alone(b"ab918cd", b"918"), "the search itself");
    for number in [AMEX, VISA, "3782 822463 10005", "4242 4242 4242 4242"] {
        assert!(!contains(&bytes, number.as_bytes()), "{number} found in vault.db");
    }
    // The search works: the token itself is there in clear.
    assert!(contains(&bytes, visa.as_bytes()));

    // The number is there, encrypted: it opens with the right key, id and owner.
    let row = card_row(&server, &amex).await;
    assert_eq!(row.sealed.ciphertext.len(), AMEX.len() + 16, "ciphertext plus the GCM tag");
    assert_eq!(row.sealed.wrapped_key.len(), 32 + 16);
    assert_eq!(row.owner, "anon");
    let plain = envelope::open(&server.vault_state.keys, &row.id, &row.owner, &row.sealed).unwrap();
    assert_eq!(plain.as_slice(), AMEX.as_bytes());
}

#[tokio::test]
async fn a_ciphertext_copied_to_another_row_does_not_decrypt() {
    let server = start().await;
    let a = server.vault_token(VISA, "123").await;
    let b = server.vault_token("5555 5555 5555 4444", "123").await;
    // Move A's encrypted number and wrapped key into B's row.
    sqlx::query(
        "UPDATE cards SET key_id = (SELECT key_id FROM cards WHERE token = $1), \
         wrapped_key = (SELECT wrapped_key FROM cards WHERE token = $1), \
         key_nonce = (SELECT key_nonce FROM cards WHERE token = $1), \
         ciphertext = (SELECT ciphertext FROM cards WHERE token = $1), \
         nonce = (SELECT nonce FROM cards WHERE token = $1) WHERE token = $2",
    )
    .bind(&a)
    .bind(&b)
    .execute(&server.vault_state.db)
    .await
    .unwrap();
    let row_b = card_row(&server, &b).await;
    let row_a = card_row(&server, &a).await;
    assert_eq!(row_a.sealed.ciphertext, row_b.sealed.ciphertext, "the copy happened");
    let keys = &server.vault_state.keys;
    assert_eq!(envelope::open(keys, &row_b.id, &row_b.owner, &row_b.sealed), Err(EnvelopeError::Decrypt));
    assert_eq!(envelope::open(keys, &row_a.id, "user_42", &row_a.sealed), Err(EnvelopeError::Decrypt));
    assert!(envelope::open(keys, &row_a.id, &row_a.owner, &row_a.sealed).is_ok());

    // Charging B fails closed: an internal error, never an approval on A's card.
    let charge = |token: &str| {
        let mut request = post_json(
            "/v1/charges",
            &json!({"token": token, "amount": {"minor": 100, "currency": "USD"}, "reference": "ord_1",
                    "intent_id": VAULT_TEST_INTENT}),
            None,
        );
        request.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
        request
    };
    let reply = send(&server.vault, charge(&b)).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.error_code(), "internal");
    let reply = send(&server.vault, charge(&a)).await;
    assert_eq!(reply.json()["status"], "approved");
}

async fn charge_once(server: &TestServer, token: &str) {
    let mut request = post_json(
        "/v1/charges",
        &json!({"token": token, "amount": {"minor": 100, "currency": "USD"}, "reference": "ord_1",
                    "intent_id": VAULT_TEST_INTENT}),
        None,
    );
    request.headers_mut().insert("authorization", format!("Bearer {VAULT_API_KEY}").parse().unwrap());
    assert_eq!(send(&server.vault, request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_declined_token_has_its_number_erased_at_once() {
    let server = start().await;
    let token = server.vault_token("4000 0000 0000 0002", "123").await;
    charge_once(&server, &token).await;
    let row = card_row(&server, &token).await;
    assert!(row.sealed.ciphertext.is_empty() && row.sealed.wrapped_key.is_empty());
    assert!(row.used_at.is_some());
}

#[tokio::test]
async fn a_paid_token_keeps_its_number_only_for_the_save_window() {
    let server = start().await;
    let token = server.vault_token(VISA, "123").await;
    charge_once(&server, &token).await;
    // Kept so the buyer can still tick "save my card" on the confirmation…
    let row = card_row(&server, &token).await;
    assert!(!row.sealed.ciphertext.is_empty() && row.used_at.is_some());
    // …and erased once the token's 15 minutes are up.
    let erased =
        tweetbuy_server::vault::card_store::erase_expired(&server.vault_state.db, row.expires_at).await.unwrap();
    assert_eq!(erased, 1);
    let row = card_row(&server, &token).await;
    assert!(row.sealed.ciphertext.is_empty() && row.sealed.wrapped_key.is_empty());
}
