//! The vault charged, but its answer never reached the api: the api asks again under the same
//! order id (the vault answers with the first charge), and if it still cannot tell, the order
//! stays pending and the buyer's retry with its key settles it. Never "not charged" for a card
//! that was charged, never two charges.

use crate::harness::*;
use crate::vault_proxy::{Charge, Refunds, VaultProxy};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tweetbuy_server::api::pending_sweep::settle_stale;
use tweetbuy_server::api::vault_client::VaultClient;
use tweetbuy_server::clock;

const VISA: &str = "4242424242424242";

/// The vault behind a [`VaultProxy`] that, while `lose_first` or `lose_all` says so,
/// replaces the vault's answer to a charge with a 502 (what a dead gateway or a reset looks
/// like): the charge is made, the api never hears of it.
struct LossyVault {
    proxy: VaultProxy,
    calls: Arc<AtomicUsize>,
    lose_first: Arc<AtomicUsize>,
    lose_all: Arc<AtomicBool>,
    /// Answer 502 without passing the charge on: the vault never sees it.
    swallow: Arc<AtomicBool>,
    /// From this call on, answer as the vault does when it refuses the api's key (401 with
    /// its own error body), without passing the charge on; `usize::MAX`: never.
    refuse_from: Arc<AtomicUsize>,
}

fn lossy_vault(vault: &str) -> LossyVault {
    let calls = Arc::new(AtomicUsize::new(0));
    let lose_first = Arc::new(AtomicUsize::new(0));
    let lose_all = Arc::new(AtomicBool::new(false));
    let swallow = Arc::new(AtomicBool::new(false));
    let refuse_from = Arc::new(AtomicUsize::new(usize::MAX));
    let (c, f, a, w, r) = (calls.clone(), lose_first.clone(), lose_all.clone(), swallow.clone(), refuse_from.clone());
    let proxy = VaultProxy::start(move |charge: Charge| {
        let (c, f, a, w, r) = (c.clone(), f.clone(), a.clone(), w.clone(), r.clone());
        async move {
            let n = c.fetch_add(1, Ordering::SeqCst);
            if n >= r.load(Ordering::SeqCst) {
                let body = serde_json::json!({"code": "unauthorized", "message": "Unknown api key."});
                return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
            }
            if w.load(Ordering::SeqCst) {
                return (StatusCode::BAD_GATEWAY, "upstream connection reset").into_response();
            }
            let answer = charge.forward().await.unwrap();
            if n < f.load(Ordering::SeqCst) || a.load(Ordering::SeqCst) {
                return (StatusCode::BAD_GATEWAY, "upstream connection reset").into_response();
            }
            answer.into_response()
        }
    });
    proxy.point_at(vault);
    LossyVault { proxy, calls, lose_first, lose_all, swallow, refuse_from }
}

/// Serves `router` on a free loopback port: its URL, and a vault client that takes it for
/// the vault (a wrong address, in these tests).
async fn serve(router: axum::Router) -> (String, VaultClient) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = VaultClient::new(&url, VAULT_API_KEY);
    (url, client)
}

/// A vault client for `router` served as the vault ([`serve`]).
async fn vault_at(router: axum::Router) -> VaultClient {
    serve(router).await.1
}

async fn approved_charges(server: &TestServer) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM charges WHERE status = 'approved'")
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap();
    n
}

/// `(amount, refunded)` of the one approved charge at the vault, in minor units.
async fn approved_charge(server: &TestServer) -> (i64, i64) {
    sqlx::query_as("SELECT amount_minor, refunded_minor FROM charges WHERE status = 'approved'")
        .fetch_one(&server.vault_state.db)
        .await
        .unwrap()
}

/// `(status, attempts, last_error)` of the one stray charge the api wrote down.
async fn stray_charge(server: &TestServer) -> (String, i64, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error FROM stray_charges")
        .fetch_one(&server.api_state.db)
        .await
        .unwrap()
}

async fn order_status(server: &TestServer) -> String {
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM orders").fetch_one(&server.api_state.db).await.unwrap();
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_charge_answer_is_asked_again_and_the_order_is_paid_once() {
    let (server, proxy) = lossy_server().await;
    proxy.lose_first.store(1, Ordering::SeqCst);
    let token = server.tokenize(VISA, "123").await;
    let reply = server.order(&tee_order(&token, 2), &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.json()["card_last4"], "4242");
    assert_eq!(proxy.calls.load(Ordering::SeqCst), 2, "asked once more after the lost answer");
    assert_eq!(approved_charges(&server).await, 1, "the second ask got the first charge back");
    assert_eq!(order_status(&server).await, "paid");
    assert_eq!(server.stock(TEE, "m").await, Some(13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_charge_outcome_keeps_the_order_pending_until_the_retry_with_its_key() {
    let (server, proxy) = lossy_server().await;
    proxy.lose_all.store(true, Ordering::SeqCst);
    let token = server.tokenize(VISA, "123").await;
    let key = fresh_key();
    let reply = server.order(&tee_order(&token, 2), &key).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.text());
    assert_eq!(reply.error_code(), "unavailable");
    assert!(reply.json()["message"].as_str().unwrap().contains("not be charged twice"));
    assert_eq!(approved_charges(&server).await, 1, "the vault did charge");
    assert_eq!(order_status(&server).await, "pending", "not marked failed: the card was charged");
    assert_eq!(server.stock(TEE, "m").await, Some(13), "the stock stays with the order");

    proxy.lose_all.store(false, Ordering::SeqCst);
    let retry = server.order(&tee_order(&token, 2), &key).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    assert_eq!(approved_charges(&server).await, 1, "still one charge");
    assert_eq!(order_status(&server).await, "paid");
    assert_eq!(server.count("orders").await, 1);
    assert_eq!(server.stock(TEE, "m").await, Some(13));
    // The retry watched the order; its check, once due, finds the charge it was paid with.
    let check = |at| tweetbuy_server::api::stray_charges::check_watched(&server.api_state, at);
    let due = clock::now() + tweetbuy_server::api::pending_sweep::SETTLE_AFTER_SECS;
    assert_eq!(server.count("charge_checks").await, 1);
    assert_eq!(check(due + 60).await.unwrap(), 1);
    assert_eq!((server.count("charge_checks").await, server.count("stray_charges").await), (0, 0));
}

/// A watched order still pending when its check is due is left to the pending sweep: the
/// check passes it by, and comes back to it once it is settled. A vault that cannot answer
/// leaves the watch for the next pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_order_is_checked_only_once_settled_and_once_the_vault_answers() {
    let (server, proxy) = lossy_server().await;
    proxy.lose_all.store(true, Ordering::SeqCst);
    let token = server.tokenize(VISA, "123").await;
    let key = fresh_key();
    assert_eq!(server.order(&tee_order(&token, 1), &key).await.status, StatusCode::SERVICE_UNAVAILABLE);
    let (order_id,): (String,) = sqlx::query_as("SELECT id FROM orders").fetch_one(&server.api_state.db).await.unwrap();
    let due = clock::now() + tweetbuy_server::api::pending_sweep::SETTLE_AFTER_SECS;
    sqlx::query("INSERT INTO charge_checks (order_id, due_at) VALUES ($1, $2)")
        .bind(&order_id)
        .bind(clock::now() - 1)
        .execute(&server.api_state.db)
        .await
        .unwrap();
    let check = |at| tweetbuy_server::api::stray_charges::check_watched(&server.api_state, at);
    assert_eq!(check(due).await.unwrap(), 0, "still pending: passed by");
    assert_eq!(server.count("charge_checks").await, 1);

    // Paid by the retry, which watches it again (a later due time); the vault is then out of
    // reach for lookups: the check cannot say, and keeps the watch.
    proxy.lose_all.store(false, Ordering::SeqCst);
    assert_eq!(server.order(&tee_order(&token, 1), &key).await.status, StatusCode::CREATED);
    let mut state = server.api_state.clone();
    state.vault = vault_at(axum::Router::new()).await;
    let later = due + tweetbuy_server::api::pending_sweep::SETTLE_AFTER_SECS;
    assert_eq!(tweetbuy_server::api::stray_charges::check_watched(&state, later).await.unwrap(), 0);
    assert_eq!(server.count("charge_checks").await, 1, "kept for the next pass");
    assert_eq!(check(later).await.unwrap(), 1);
    assert_eq!((server.count("charge_checks").await, server.count("stray_charges").await), (0, 0));
    assert_eq!(order_status(&server).await, "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_that_is_not_the_vaults_leaves_the_charge_unknown_not_refused() {
    // A proxy that passes the charge on, then times out on the api (408, its own text).
    let mut proxy = None;
    let server = start_with(|settings| {
        let timing_out = VaultProxy::start(|charge: Charge| async move {
            charge.forward().await.unwrap();
            (StatusCode::REQUEST_TIMEOUT, "proxy: upstream took too long").into_response()
        });
        timing_out.point_at(&settings.vault_internal_url);
        settings.vault_internal_url = timing_out.url.clone();
        proxy = Some(timing_out);
    })
    .await;
    let token = server.tokenize(VISA, "123").await;
    let reply = server.order(&tee_order(&token, 2), &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.text());
    assert!(reply.json()["message"].as_str().unwrap().contains("not be charged twice"), "{}", reply.text());
    assert_eq!(approved_charges(&server).await, 1, "the vault did charge");
    assert_eq!(order_status(&server).await, "pending", "not failed: the card was charged");
    assert_eq!(server.stock(TEE, "m").await, Some(13), "the stock stays with the order");
    drop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_after_a_lost_answer_leaves_the_order_pending_not_failed() {
    let (server, proxy) = lossy_server().await;
    // The first try charges and its answer is lost; the next is refused before the vault.
    proxy.lose_first.store(1, Ordering::SeqCst);
    proxy.refuse_from.store(1, Ordering::SeqCst);
    let token = server.tokenize(VISA, "123").await;
    let key = fresh_key();
    let reply = server.order(&tee_order(&token, 2), &key).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.text());
    assert!(reply.json()["message"].as_str().unwrap().contains("not be charged twice"), "{}", reply.text());
    assert_eq!(approved_charges(&server).await, 1, "the vault did charge");
    assert_eq!(order_status(&server).await, "pending", "not failed: the card was charged");
    assert_eq!(server.stock(TEE, "m").await, Some(13), "the stock stays with the order");

    // The retry with the key is refused again, but the vault's record of the order's charge
    // answers for it.
    let retry = server.order(&tee_order(&token, 2), &key).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    assert_eq!(order_status(&server).await, "paid");
    assert_eq!((approved_charges(&server).await, server.count("orders").await), (1, 1));
    assert_eq!(server.stock(TEE, "m").await, Some(13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_order_the_vault_cannot_answer_for_stays_pending() {
    let (server, proxy) = lossy_server().await;
    proxy.lose_all.store(true, Ordering::SeqCst);
    let token = server.tokenize(VISA, "123").await;
    let key = fresh_key();
    assert_eq!(server.order(&tee_order(&token, 2), &key).await.status, StatusCode::SERVICE_UNAVAILABLE);
    // Every charge is refused now, and the lookup of the order's charge cannot be answered.
    proxy.refuse_from.store(0, Ordering::SeqCst);
    proxy.proxy.point_at("http://127.0.0.1:9");
    let retry = server.order(&tee_order(&token, 2), &key).await;
    assert_eq!(retry.status, StatusCode::SERVICE_UNAVAILABLE, "{}", retry.text());
    assert_eq!(order_status(&server).await, "pending", "not failed: an earlier try charged the card");
    assert_eq!(server.stock(TEE, "m").await, Some(13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_card_order_resumed_after_the_buyer_removed_their_saved_info_is_paid_not_dropped() {
    let (server, proxy) = lossy_server().await;
    let credential = server.paid_and_saved().await;
    let stock = server.stock(TEE, "m").await.unwrap();
    let profile = server.saved_profile(&credential).await.json();
    let mut details = tee_details(1);
    details["email"] = profile["email"].clone();
    details["shipping"] = profile["shipping"].clone();
    let intent = server.create_intent(&details).await;
    let minted = server.mint_saved(&credential, intent["intent_id"].as_str().unwrap()).await;
    let token = minted.json()["token"].as_str().unwrap().to_owned();
    let key = fresh_key();
    proxy.lose_all.store(true, Ordering::SeqCst);
    assert_eq!(server.pay(&intent, &token, &key).await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(approved_charges(&server).await, 2, "the saved card was charged");

    let removed = axum::http::Request::delete("/v1/profile")
        .header("origin", VAULT_ORIGIN)
        .header("cookie", credential_cookie(&credential))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(send(&server.vault, removed).await.status, StatusCode::NO_CONTENT);
    proxy.lose_all.store(false, Ordering::SeqCst);
    let retry = server.pay(&intent, &token, &key).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    assert_eq!((approved_charges(&server).await, server.count("orders").await), (2, 2));
    let (paid,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders WHERE status = 'paid'")
        .fetch_one(&server.api_state.db)
        .await
        .unwrap();
    assert_eq!(paid, 2);
    assert_eq!(server.stock(TEE, "m").await, Some(stock - 1), "the order keeps its unit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_refused_for_the_apis_key_after_a_lost_answer_stays_pending_and_is_made_once() {
    use tweetbuy_server::api::refunds;
    let (server, proxy) = lossy_server().await;
    let token = server.tokenize(VISA, "123").await;
    let paid = server.order(&tee_order(&token, 1), &fresh_key()).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    let number = paid.json()["order_number"].as_str().unwrap().to_owned();
    let (db, vault) = (&server.api_state.db, &server.api_state.vault);
    let pending = || async {
        let (status, reserved): (String, i64) = sqlx::query_as(
            "SELECT r.status, o.refund_reserved_minor FROM refunds r JOIN orders o ON o.id = r.order_id",
        )
        .fetch_one(db)
        .await
        .unwrap();
        (status, reserved)
    };

    // Refused for the api's key on its first ask, a refund was never made: it is given up,
    // its amount no longer set aside.
    proxy.proxy.refunds(Refunds::KeyRefused);
    let (status, body) = refunds::refund(db, vault, &number, Some(500), "k0").await.unwrap_err().into_parts();
    assert_eq!((status, body.code), (StatusCode::BAD_GATEWAY, tweetbuy_core::ErrorCode::PaymentError));
    assert!(body.message.contains("nothing was refunded"), "{}", body.message);
    assert_eq!(server.count("refunds").await, 0);

    // The vault refunds, its answer is lost; then it refuses the api's key, to the seller's
    // retry and to the sweep.
    proxy.proxy.refunds(Refunds::Lost);
    let lost = refunds::refund(db, vault, &number, Some(500), "k1").await.unwrap_err();
    assert_eq!(lost.into_parts().0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(approved_charge(&server).await.1, 500, "the vault refunded");
    proxy.proxy.refunds(Refunds::KeyRefused);
    let (status, body) = refunds::refund(db, vault, &number, Some(500), "k1").await.unwrap_err().into_parts();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body:?}");
    assert!(body.message.contains("stays pending"), "{}", body.message);
    assert_eq!(refunds::settle_stale(db, vault, clock::now() + 60).await.unwrap(), 0);
    assert_eq!(pending().await, ("pending".to_owned(), 500), "kept, with its amount reserved");

    // With the key right again, the same key finishes the refund the vault already made.
    proxy.proxy.refunds(Refunds::Pass);
    refunds::refund(db, vault, &number, Some(500), "k1").await.unwrap();
    assert_eq!(pending().await, ("succeeded".to_owned(), 500));
    assert_eq!(approved_charge(&server).await.1, 500, "refunded once");
}

async fn lossy_server() -> (TestServer, LossyVault) {
    let mut proxy = None;
    let server = start_with(|settings| {
        let lossy = lossy_vault(&settings.vault_internal_url);
        settings.vault_internal_url = lossy.proxy.url.clone();
        proxy = Some(lossy);
    })
    .await;
    (server, proxy.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_settles_a_forgotten_pending_order_from_the_vaults_record() {
    let (server, proxy) = lossy_server().await;
    // Charged, but the answer never came back and the buyer never retried.
    proxy.lose_all.store(true, Ordering::SeqCst);
    let charged = server.tokenize(VISA, "123").await;
    let reply = server.order(&tee_order(&charged, 2), &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    // Never reached the vault, and the buyer went away too.
    proxy.lose_all.store(false, Ordering::SeqCst);
    proxy.swallow.store(true, Ordering::SeqCst);
    let never = server.tokenize(VISA, "123").await;
    let key = fresh_key();
    let reply = server.order(&tee_order(&never, 1), &key).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(approved_charges(&server).await, 1);
    assert_eq!(server.stock(TEE, "m").await, Some(12), "both orders hold their stock while pending");

    // Too young to settle: nothing happens.
    assert_eq!(settle_stale(&server.api_state, clock::now() - 60).await.unwrap(), 0);
    let settled = settle_stale(&server.api_state, clock::now() + 1).await.unwrap();
    assert_eq!(settled, 2);
    let statuses: Vec<(String, i64)> = sqlx::query_as("SELECT status, quantity FROM orders ORDER BY quantity")
        .fetch_all(&server.api_state.db)
        .await
        .unwrap();
    assert_eq!(statuses, [("failed".to_owned(), 1), ("paid".to_owned(), 2)]);
    assert_eq!(server.stock(TEE, "m").await, Some(13), "the never-charged order gave its unit back");
    assert_eq!(server.count("receipt_outbox").await, 1, "the paid one gets its receipt");
    assert_eq!(approved_charges(&server).await, 1, "the sweep only reads the vault's record");
    assert_eq!(settle_stale(&server.api_state, clock::now() + 1).await.unwrap(), 0, "nothing left pending");

    // The buyer of the failed one comes back with the same key: told plainly, still no charge.
    proxy.swallow.store(false, Ordering::SeqCst);
    let late = server.order(&tee_order(&never, 1), &key).await;
    assert_eq!(late.status, StatusCode::BAD_GATEWAY, "{}", late.text());
    assert_eq!(late.error_code(), "payment_error");
    assert_eq!(approved_charges(&server).await, 1);
    assert_eq!(server.stock(TEE, "m").await, Some(13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_that_is_not_the_vaults_settles_nothing() {
    let (server, proxy) = lossy_server().await;
    proxy.swallow.store(true, Ordering::SeqCst);
    let token = server.tokenize(VISA, "123").await;
    assert_eq!(server.order(&tee_order(&token, 1), &fresh_key()).await.status, StatusCode::SERVICE_UNAVAILABLE);
    // The api now asks a server that is not the vault (a plain 404 for every path).
    let mut state = server.api_state.clone();
    state.vault = vault_at(axum::Router::new()).await;
    assert_eq!(settle_stale(&state, clock::now() + 1).await.unwrap(), 0);
    assert_eq!(order_status(&server).await, "pending", "still pending, stock still held");
    assert_eq!(server.stock(TEE, "m").await, Some(14));
    // Nor the 404 a tweetbuy listener answers for a path it does not serve (the vault's public
    // listener, or the api, named by mistake as the vault): the vault's own error body, but
    // not from the vault's charge routes.
    let (url, api) = serve(tweetbuy_server::api_app(server.api_state.clone())).await;
    let answer = reqwest::get(format!("{url}/v1/charges/ord_x")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(answer.json::<serde_json::Value>().await.unwrap()["code"], "not_found");
    state.vault = api;
    assert_eq!(settle_stale(&state, clock::now() + 1).await.unwrap(), 0);
    assert_eq!(order_status(&server).await, "pending", "still pending, stock still held");
    let refund = tweetbuy_core::vault::RefundRequest {
        charge_id: "ch_x".into(),
        amount: tweetbuy_core::Money::new(100, tweetbuy_core::Currency::USD),
        reference: "void_ch_x".into(),
    };
    let outcome = state.vault.refund(&refund).await;
    assert!(matches!(outcome, tweetbuy_server::api::vault_client::RefundOutcome::Unknown(_)), "{outcome:?}");
}

#[tokio::test]
async fn the_vault_tells_the_api_about_a_charge_only_with_its_key() {
    let server = start().await;
    let token = server.tokenize(VISA, "123").await;
    let reply = server.order(&tee_order(&token, 1), &fresh_key()).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let order_id = reply.json()["order_id"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let url = format!("{}/v1/charges/{order_id}", server.vault_url);
    let without = http.get(&url).send().await.unwrap();
    assert_eq!(without.status(), 401);
    let with = http.get(&url).bearer_auth(VAULT_API_KEY).send().await.unwrap();
    assert_eq!(with.status(), 200);
    let body: serde_json::Value = with.json().await.unwrap();
    assert_eq!((body["status"].as_str(), body["last4"].as_str()), (Some("approved"), Some("4242")));
    let unknown = http
        .get(format!("{}/v1/charges/ord_nothing", server.vault_url))
        .bearer_auth(VAULT_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

/// A buyer's order whose first request outlived its key's stale window, so that the buyer's
/// retry took it over: both charge one order at once, each held at the proxy until the test
/// lets it through (`gates[0]` the first's, `gates[1]` the retry's). The first request's
/// charge is answered with a passing processing error, a decline on which the vault gives the
/// token back; the retry's goes on to the vault.
struct Race {
    server: TestServer,
    gates: Arc<[tokio::sync::Notify; 2]>,
    first: tokio::task::JoinHandle<Reply>,
    retry: tokio::task::JoinHandle<Reply>,
    /// Sends the same order again with the same key.
    again: Box<dyn Fn() -> tokio::task::JoinHandle<Reply>>,
    proxy: VaultProxy,
    /// While set, the retry's charge reaches the vault but its answer is replaced with a 502.
    lose_retry_answer: Arc<AtomicBool>,
}

async fn race() -> Race {
    let arrived = Arc::new(tokio::sync::Semaphore::new(0));
    let gates: Arc<[tokio::sync::Notify; 2]> = Arc::new(Default::default());
    let lose_retry_answer = Arc::new(AtomicBool::new(false));
    let mut proxy = None;
    let mut server = start_with(|settings| {
        let (arrived, gates, calls) = (arrived.clone(), gates.clone(), Arc::new(AtomicUsize::new(0)));
        let lose = lose_retry_answer.clone();
        let held = VaultProxy::start(move |charge: Charge| {
            let (arrived, gates, calls, lose) = (arrived.clone(), gates.clone(), calls.clone(), lose.clone());
            async move {
                let n = calls.fetch_add(1, Ordering::SeqCst).min(1);
                arrived.add_permits(1);
                gates[n].notified().await;
                if n == 0 {
                    // What the vault answers when its processor fails for a moment.
                    let declined = serde_json::json!({"charge_id": "ch_passing", "status": "declined",
                        "decline_code": "processing_error", "brand": "visa", "last4": "4242"});
                    return axum::Json(declined).into_response();
                }
                let answer = charge.forward().await.unwrap();
                if lose.load(Ordering::SeqCst) {
                    return (StatusCode::BAD_GATEWAY, "upstream connection reset").into_response();
                }
                answer.into_response()
            }
        });
        held.point_at(&settings.vault_internal_url);
        settings.vault_internal_url = held.url.clone();
        proxy = Some(held);
    })
    .await;
    // Any order in flight for a second is taken to have died.
    server.api_state.stale_in_flight_secs = 0;
    server.api = tweetbuy_server::api_app(server.api_state.clone());

    let intent = server.create_intent(&tee_details(1)).await;
    let token = server.token_for(VISA, "123", intent["intent_id"].as_str().unwrap()).await;
    let (body, key, api) = (pay_body(&intent, &token), fresh_key(), server.api.clone());
    let again = move || {
        let (body, key, api) = (body.clone(), key.clone(), api.clone());
        tokio::spawn(async move { send(&api, post_json("/api/v1/orders", &body, Some(&key))).await })
    };
    let first = again();
    arrived.acquire().await.unwrap().forget();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let retry = again();
    arrived.acquire().await.unwrap().forget();
    Race { server, gates, first, retry, again: Box::new(again), proxy: proxy.unwrap(), lose_retry_answer }
}

/// The first request hears the decline and records it, which puts the unit back on sale and
/// frees the intent; the retry's charge of the same token is approved after that. The
/// declined order must not become paid behind its own release (the unit sold twice, the
/// intent payable again): the late charge is refunded instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_approved_after_its_order_was_declined_is_refunded_not_recorded() {
    let race = race().await;
    let server = &race.server;
    race.gates[0].notify_one();
    let first = race.first.await.unwrap();
    assert_eq!(first.status, StatusCode::PAYMENT_REQUIRED, "{}", first.text());
    assert_eq!(server.stock(TEE, "m").await, Some(15), "the decline gave the unit back");
    race.gates[1].notify_one();
    let retry = race.retry.await.unwrap();

    assert_eq!(approved_charges(server).await, 1, "the retry's charge went through");
    assert_eq!(order_status(server).await, "declined", "retry answered {}: {}", retry.status, retry.text());
    assert_eq!(server.stock(TEE, "m").await, Some(15));
    assert_eq!(server.count("receipt_outbox").await, 0);
    let (charged, refunded) = approved_charge(server).await;
    assert_eq!(refunded, charged, "the late charge is given back whole");
    assert_eq!(stray_charge(server).await.0, "refunded", "written down, and settled");
    assert_eq!(retry.status, StatusCode::PAYMENT_REQUIRED, "{}", retry.text());
    assert_eq!(retry.error_code(), "payment_declined");
}

/// The same late charge while the vault cannot be asked for refunds: the retry is told what
/// the order became (declined) rather than an error, and the charge is written down, still to
/// be refunded. Once the vault is back, the sweep refunds it whole, and never twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_charge_the_vault_could_not_refund_then_is_refunded_by_the_sweep() {
    let race = race().await;
    let server = &race.server;
    race.gates[0].notify_one();
    assert_eq!(race.first.await.unwrap().status, StatusCode::PAYMENT_REQUIRED);
    race.proxy.refunds(Refunds::Down);
    race.gates[1].notify_one();
    let retry = race.retry.await.unwrap();
    assert_eq!((retry.status, retry.error_code().as_str()), (StatusCode::PAYMENT_REQUIRED, "payment_declined"));
    assert_eq!(order_status(server).await, "declined");
    let (charged, refunded) = approved_charge(server).await;
    assert_eq!((charged > 0, refunded), (true, 0), "not refunded yet");
    let (status, attempts, error) = stray_charge(server).await;
    assert_eq!((status.as_str(), attempts), ("pending", 1), "written down: {error:?}");
    // The seller sees it on the order, as its refund goes.
    let seller_view = || async {
        let orders = tweetbuy_server::api::seller_orders::list(&server.api_state.db).await.unwrap();
        assert_eq!(orders.len(), 1);
        let order = &orders[0];
        assert_eq!(order.status, "declined");
        assert!(order.late_charge_id.as_deref().is_some_and(|id| !id.is_empty()), "{order:?}");
        let csv = tweetbuy_server::api::seller_orders::to_csv(&orders);
        let row = csv.lines().nth(1).unwrap().to_owned();
        (order.late_charge_refund.clone(), row)
    };
    let (refund, row) = seller_view().await;
    assert_eq!(refund.as_deref(), Some("pending"));
    assert!(row.ends_with(",pending,0"), "{row}");
    let sweep = || tweetbuy_server::api::stray_charges::retry_pending(&server.api_state);
    assert_eq!(sweep().await.unwrap(), 0, "still out of reach");
    assert_eq!(stray_charge(server).await.1, 2);

    race.proxy.refunds(Refunds::Pass);
    assert_eq!(sweep().await.unwrap(), 1);
    assert_eq!(approved_charge(server).await, (charged, charged), "given back whole");
    assert_eq!(stray_charge(server).await.0, "refunded");
    assert_eq!(seller_view().await.0.as_deref(), Some("refunded"));
    assert_eq!(sweep().await.unwrap(), 0, "nothing left to ask");
    // Asked again all the same (another replica's answer lost): the vault answers with the
    // refund it made, under the charge's reference, and refunds nothing more.
    sqlx::query("UPDATE stray_charges SET status = 'pending'").execute(&server.api_state.db).await.unwrap();
    assert_eq!(sweep().await.unwrap(), 1);
    assert_eq!(approved_charge(server).await, (charged, charged), "never twice");
    assert_eq!(stray_charge(server).await.0, "refunded");
}

/// The same late charge, but its answer never reaches the api (a reset, or the process killed
/// as the vault answered): nothing on the api's side says the declined order was charged.
/// The retry watched the order, so once no charge of it can still come the sweep reads the
/// vault's record and refunds the charge whole, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_charge_whose_answer_was_lost_is_found_by_the_sweep_and_refunded() {
    let race = race().await;
    let server = &race.server;
    race.gates[0].notify_one();
    assert_eq!(race.first.await.unwrap().status, StatusCode::PAYMENT_REQUIRED);
    race.lose_retry_answer.store(true, Ordering::SeqCst);
    race.gates[1].notify_one();
    let retry = race.retry.await.unwrap();
    assert_eq!(retry.status, StatusCode::SERVICE_UNAVAILABLE, "{}", retry.text());
    assert_eq!(order_status(server).await, "declined");
    assert_eq!(server.stock(TEE, "m").await, Some(15), "the unit is back on sale");
    let (charged, refunded) = approved_charge(server).await;
    assert_eq!((charged > 0, refunded), (true, 0), "charged, and nothing says so");
    assert_eq!(server.count("stray_charges").await, 0);

    let check = |at| tweetbuy_server::api::stray_charges::check_watched(&server.api_state, at);
    let due = clock::now() + tweetbuy_server::api::pending_sweep::SETTLE_AFTER_SECS;
    assert_eq!(check(due - 60).await.unwrap(), 0, "a charge of the order may still be on its way");
    assert_eq!(approved_charge(server).await.1, 0);
    // Watches due before it, of orders taken back whole since (nothing to check), more than
    // one read of the watches holds: the pass goes on to the order.
    for n in 0..150 {
        sqlx::query("INSERT INTO charge_checks (order_id, due_at) VALUES ($1, $2)")
            .bind(format!("ord_gone{n}"))
            .bind(due - 100)
            .execute(&server.api_state.db)
            .await
            .unwrap();
    }
    assert_eq!(check(due + 60).await.unwrap(), 151);
    assert_eq!(approved_charge(server).await, (charged, charged), "given back whole");
    assert_eq!(stray_charge(server).await.0, "refunded", "and written down for the seller");
    assert_eq!(check(due + 120).await.unwrap(), 0, "checked once");
    assert_eq!(order_status(server).await, "declined");
    assert_eq!(server.count("receipt_outbox").await, 0);
}

/// The other way round: the retry's charge is approved and the order paid first, then the
/// first request hears its decline. The order stays paid, and the key's stored answer, which
/// every later retry gets, stays the payment: the late decline is told only to the request
/// that heard it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decline_heard_after_the_retry_paid_leaves_the_order_and_its_answer_paid() {
    let race = race().await;
    let server = &race.server;
    race.gates[1].notify_one();
    let retry = race.retry.await.unwrap();
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    race.gates[0].notify_one();
    let first = race.first.await.unwrap();
    assert_eq!(first.status, StatusCode::PAYMENT_REQUIRED, "{}", first.text());

    assert_eq!(order_status(server).await, "paid");
    assert_eq!(server.stock(TEE, "m").await, Some(14), "the paid unit stays sold");
    let replay = (race.again)().await.unwrap();
    assert_eq!(replay.status, StatusCode::CREATED, "the answer kept is the payment: {}", replay.text());
    assert_eq!(replay.json()["order_number"], retry.json()["order_number"]);
    assert_eq!(approved_charges(server).await, 1);
    // The watched order's check finds the charge it was paid with, and refunds nothing.
    let due = clock::now() + tweetbuy_server::api::pending_sweep::SETTLE_AFTER_SECS + 60;
    assert_eq!(tweetbuy_server::api::stray_charges::check_watched(&server.api_state, due).await.unwrap(), 1);
    assert_eq!(approved_charge(server).await.1, 0, "the payment stays");
    assert_eq!(server.count("stray_charges").await, 0);
}

/// The api's first try of a charge is held on its way to the vault and its answer lost; its
/// next try is answered with a processing error, a decline on which the vault gives the token
/// back. The held try may still claim the token and be approved: the order stays pending (the
/// buyer told to try again, not "declined"), and the retry with its key is paid by that charge,
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processing_error_after_a_lost_try_leaves_the_order_pending_for_that_try() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let mut proxy = None;
    let server = start_with(|settings| {
        let (gate, calls) = (gate.clone(), calls.clone());
        let held = VaultProxy::start(move |charge: Charge| {
            let (gate, calls) = (gate.clone(), calls.clone());
            async move {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => {
                        tokio::spawn(async move {
                            gate.notified().await;
                            charge.forward().await.unwrap();
                        });
                        (StatusCode::BAD_GATEWAY, "upstream connection reset").into_response()
                    }
                    1 => {
                        let declined = serde_json::json!({"charge_id": "ch_passing", "status": "declined",
                            "decline_code": "processing_error", "brand": "visa", "last4": "4242"});
                        axum::Json(declined).into_response()
                    }
                    _ => charge.forward().await.unwrap().into_response(),
                }
            }
        });
        held.point_at(&settings.vault_internal_url);
        settings.vault_internal_url = held.url.clone();
        proxy = Some(held);
    })
    .await;
    let _proxy = proxy.unwrap();
    let token = server.tokenize(VISA, "123").await;
    let key = fresh_key();
    let first = server.order(&tee_order(&token, 1), &key).await;
    assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE, "{}", first.text());
    assert_eq!(order_status(&server).await, "pending");
    assert_eq!(server.stock(TEE, "m").await, Some(14), "the unit stays held");

    gate.notify_one();
    while approved_charges(&server).await == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let retry = server.order(&tee_order(&token, 1), &key).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    assert_eq!(order_status(&server).await, "paid");
    assert_eq!(approved_charges(&server).await, 1);
    assert_eq!(server.stock(TEE, "m").await, Some(14));
}
