//! `POST /api/v1/orders`: pay one payment intent with a token the vault minted for it: check
//! availability, reserve stock, claim the intent, charge the token for the intent's amount,
//! and answer with a receipt, all under an `Idempotency-Key`.

use super::order_idempotency::{self as idempotency, Begin};
use super::order_store::{self, Failure, KeyAnswer, NewOrder, PlaceError, StoredOrder};
use super::vault_client::ChargeOutcome;
use super::{catalog, intents, ApiState};
use crate::clock;
use crate::db::{from_text, retry_busy};
use crate::error::AppError;
use crate::hashing::sha256_hex;
use crate::idempotency::IdempotencyKey;
use crate::ids::random_id;
use crate::json::JsonBody;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use tweetbuy_core::order::OrderStatus;
use tweetbuy_core::text::{is_language_tag, is_single_line};
use tweetbuy_core::vault::{ChargeRequest, ChargeStatus, DeclineCode};
use tweetbuy_core::{ApiError, CardBrand, ErrorCode, FieldError, OrderReceipt, PayRequest, Quote, ShippingAddress};

/// The idempotency scope of this endpoint.
const SCOPE: &str = "orders";

/// The longest card token accepted (vault tokens are 28 characters).
const MAX_TOKEN_LEN: usize = 128;

/// Marks a response that is a stored answer to an earlier request with the same key.
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/orders", post(create_order))
}

/// Places an order: validates, checks availability, prices on the server (client prices are
/// not accepted), reserves stock atomically, charges the vault token and answers with a receipt.
///
/// Idempotent under `Idempotency-Key` (IETF draft): the same key with the same body answers the
/// stored first response, even an error (with `Idempotent-Replayed: true`); the same key with a
/// different body is 422 `idempotency_key_reused`; a retry while the first request still runs is
/// 409 `idempotency_in_progress`. Stored responses are kept at least 24 h.
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    tag = "buyer",
    params(("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters (a UUID); the same on every retry of one order.")),
    request_body(content = tweetbuy_core::PayRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Paid: the receipt.", body = tweetbuy_core::OrderReceipt,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same key."))),
        (status = 400, description = "`idempotency_key_missing`; `token_invalid` (tokenize the card again); `bad_request` (body not JSON, malformed key).", body = tweetbuy_core::ApiError),
        (status = 402, description = "`payment_declined`, with `decline_code`; the reservation is released.", body = tweetbuy_core::ApiError),
        (status = 404, description = "`not_found`: no such product.", body = tweetbuy_core::ApiError),
        (status = 409, description = "`sold_out`, `not_enough_stock` (fewer left than asked for; the message says how many), `sale_ended`, `sale_not_started`, `intent_invalid` (the intent is already paid or being paid), or `idempotency_in_progress`.", body = tweetbuy_core::ApiError),
        (status = 413, description = "`payload_too_large`: over 64 KiB.", body = tweetbuy_core::ApiError),
        (status = 415, description = "`unsupported_media_type`: not `application/json`.", body = tweetbuy_core::ApiError),
        (status = 422, description = "`validation_failed` (see `fields`; a `discount_code` field error when the intent's code went out of use meanwhile: nothing is charged); `intent_invalid` (unknown or expired intent, wrong secret); `token_mismatch` (the token was minted for another intent; nothing charged); `idempotency_key_reused`; `bad_request` for an unknown field or a wrong type.", body = tweetbuy_core::ApiError),
        (status = 429, description = "`rate_limited`: too many order requests from this client.", body = tweetbuy_core::ApiError,
            headers(("Retry-After" = String, description = "Seconds to wait."))),
        (status = 500, description = "`internal`; the key is released, so a retry runs again (and resumes the same order, never charging twice).", body = tweetbuy_core::ApiError),
        (status = 502, description = "`payment_error`: the vault could not be reached; nothing was charged.", body = tweetbuy_core::ApiError),
        (status = 503, description = "`unavailable`: the charge's outcome is not known yet (the vault's answer was lost); the order stays pending with its stock and the key is free: a retry with the same key settles it and never charges twice.", body = tweetbuy_core::ApiError),
    )
)]
async fn create_order(
    State(state): State<ApiState>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(request): JsonBody<PayRequest>,
) -> Result<Response, AppError> {
    // The fingerprint is of the body as parsed, so key order, spacing and omitted defaults
    // do not make a retry look like a different request.
    let canonical = serde_json::to_vec(&request).map_err(|e| AppError::internal(e.to_string()))?;
    let hash = sha256_hex(&canonical);
    let fresh_id = random_id("ord_");
    // The order runs in its own task so it finishes (and its key is completed, its stock
    // settled) even when the client hangs up halfway; counted, so a stop waits for it.
    let running = state.running_orders.start();
    let task = tokio::spawn(async move {
        let _running = running;
        order(state, request, key, hash, fresh_id).await
    });
    task.await.unwrap_or_else(|e| Err(AppError::internal(format!("order task failed: {e}"))))
}

/// The orders running in their own tasks ([`create_order`]), which a client hanging up does
/// not stop: the server's stop waits for them before it stops the vault they are charged at,
/// and sends what they owe afterwards.
#[derive(Debug, Default)]
pub struct RunningOrders {
    count: AtomicUsize,
    none_left: tokio::sync::Notify,
}

impl RunningOrders {
    /// Counts an order until the returned guard is dropped, however its task ends.
    fn start(self: &std::sync::Arc<Self>) -> RunningOrder {
        self.count.fetch_add(1, Ordering::SeqCst);
        RunningOrder(self.clone())
    }

    /// How many orders are running now.
    pub fn running(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Resolves once no order is running.
    pub async fn all_done(&self) {
        loop {
            // Made before the count is read: a `notify_waiters` in between still wakes it.
            let none_left = self.none_left.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            none_left.await;
        }
    }
}

/// One order counted in [`RunningOrders`].
struct RunningOrder(std::sync::Arc<RunningOrders>);

impl Drop for RunningOrder {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.none_left.notify_waiters();
        }
    }
}

/// The order under its key. A key never seen before is claimed in the placement's own
/// transaction ([`place_fresh`]). Any other key, and a request refused before its placement
/// (which may be the retry of an order already answered), takes the long way: the key first
/// ([`idempotency::begin_order`]), which knows whether to replay, refuse, resume or start.
async fn order(
    state: ApiState,
    request: PayRequest,
    key: String,
    hash: String,
    fresh_id: String,
) -> Result<Response, AppError> {
    let claim = idempotency::KeyClaim { scope: SCOPE, key: &key, hash: &hash };
    let claimed_at = clock::now();
    match place_fresh(&state, &request, &fresh_id, &claim, claimed_at).await? {
        Fresh::Placed(outcome) => return finish(&state, (&key, claimed_at), &fresh_id, outcome).await,
        Fresh::Refused(error) => return Err(error),
        Fresh::NotClaimed => {}
    }
    // Every write of the order path runs under `retry_busy`: a SQLite lock held longer than
    // the busy timeout delays the order instead of failing it.
    let claimed_at = clock::now();
    let begun = retry_busy(|| {
        idempotency::begin_order(&state.db, SCOPE, &key, &hash, Some(&fresh_id), claimed_at, state.stale_in_flight_secs)
    })
    .await?;
    // Only a resumed key can have an order already: a fresh id was drawn just now.
    let resuming = matches!(begun, Begin::Resume { .. });
    let order_id = match begun {
        Begin::Started => fresh_id,
        Begin::Resume { order_id } => {
            let order_id = order_id.unwrap_or(fresh_id);
            tracing::info!(%order_id, "resuming an order whose first attempt did not finish");
            order_id
        }
        Begin::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Ok(json_response(status, body, true));
        }
        Begin::Mismatch => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was already used for a different order.",
            ))
        }
        Begin::InProgress => {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                ErrorCode::IdempotencyInProgress,
                "This order is still being processed. Try again in a moment.",
            ))
        }
    };
    let outcome = place_order(&state, request, &order_id, &key, resuming).await;
    finish(&state, (&key, claimed_at), &order_id, outcome).await
}

/// Answers an order whose key is claimed, and completes or releases the key: the key and
/// when this request claimed it, so that a request that lost its key to a retry (it outlived
/// the stale window) leaves that retry's claim alone.
async fn finish(
    state: &ApiState,
    (key, claimed_at): (&str, i64),
    order_id: &str,
    outcome: Result<Outcome, AppError>,
) -> Result<Response, AppError> {
    let (status, body) = match outcome {
        Ok(Outcome::Answer(status, body)) => (status, body),
        // Paid: the answer was stored with the order's payment, in one transaction.
        Ok(Outcome::Stored(status, body)) => return Ok(json_response(status, body, false)),
        Ok(Outcome::Refused(error)) => {
            // Refused before anything was written: nothing to replay; the key is free again.
            retry_busy(|| idempotency::abandon(&state.db, SCOPE, key, claimed_at)).await?;
            return Err(error);
        }
        Err(error) => {
            // Our failure, not an answer. Without an order row the key is simply forgotten;
            // with one, the key keeps its order id and the next retry resumes that order (and
            // its charge) rather than charging for a second one.
            let forget = match order_store::find(&state.db, order_id).await {
                Ok(None) => retry_busy(|| idempotency::abandon(&state.db, SCOPE, key, claimed_at)).await,
                _ => retry_busy(|| idempotency::release_for_retry(&state.db, SCOPE, key, claimed_at)).await,
            };
            if let Err(forget_error) = forget {
                tracing::warn!(error = %forget_error, %order_id, "could not release the key; it goes stale instead");
            }
            return Err(error);
        }
    };
    retry_busy(|| idempotency::complete(&state.db, SCOPE, key, status.as_u16(), &body, clock::now())).await?;
    Ok(json_response(status, body, false))
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut response =
        (status, [(CONTENT_TYPE, "application/json"), (CACHE_CONTROL, "no-store")], body).into_response();
    if replayed {
        response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// What the buyer reads when the card is declined, per processor reason. A one-time card's
/// reason is always `card_declined` (the vault keeps the real one from card testers), so
/// that message also covers a mistyped security code or expiry.
pub fn decline_message(code: DeclineCode) -> &'static str {
    match code {
        DeclineCode::CardDeclined => "Your card was declined. Check the card details, or try another card.",
        DeclineCode::InsufficientFunds => "Your card has insufficient funds. Try another card.",
        DeclineCode::ExpiredCard => "Your card has expired. Try another card.",
        DeclineCode::IncorrectCvc => "The security code is incorrect. Check it and try again.",
        DeclineCode::ProcessingError => "We could not process your card. Please try again in a moment.",
    }
}

fn conflict(code: ErrorCode, message: &str) -> AppError {
    AppError::new(StatusCode::CONFLICT, code, message)
}

/// How an order attempt ended, when not with an internal error.
enum Outcome {
    /// The status and JSON body to answer and store for replay.
    Answer(StatusCode, String),
    /// An answer already stored under the request's key.
    Stored(StatusCode, String),
    /// Refused before anything was written (invalid, unknown product, sold out): answered,
    /// not stored, so the key can be used again.
    Refused(AppError),
}

/// An expected failure, as the status and body stored for replay.
fn answer(error: AppError) -> Result<Outcome, AppError> {
    if error.is_internal() {
        return Err(error);
    }
    let (status, body) = error.into_parts();
    Ok(Outcome::Answer(status, serde_json::to_string(&body).map_err(|e| AppError::internal(e.to_string()))?))
}

fn refused(error: AppError) -> Result<Outcome, AppError> {
    if error.is_internal() {
        Err(error)
    } else {
        Ok(Outcome::Refused(error))
    }
}

/// What a receipt shows besides the card.
struct ReceiptParts {
    order_id: String,
    order_number: String,
    product_title: String,
    variant_label: String,
    quantity: u32,
    quote: Quote,
    email: String,
    shipping: Option<ShippingAddress>,
    delivery: Option<String>,
}

impl ReceiptParts {
    fn paid(self, brand: CardBrand, last4: String) -> Result<Outcome, AppError> {
        let receipt = OrderReceipt {
            order_id: self.order_id,
            order_number: self.order_number,
            status: OrderStatus::Paid,
            product_title: self.product_title,
            variant_label: self.variant_label,
            quantity: self.quantity,
            quote: self.quote,
            email: self.email,
            shipping: self.shipping,
            delivery: self.delivery,
            card_brand: brand,
            card_last4: last4,
        };
        let body = serde_json::to_string(&receipt).map_err(|e| AppError::internal(e.to_string()))?;
        Ok(Outcome::Answer(StatusCode::CREATED, body))
    }
}

/// How [`place_fresh`] ended.
enum Fresh {
    /// The key was claimed with the placement: the order's outcome, as [`place_order`]'s.
    Placed(Result<Outcome, AppError>),
    /// Refused at the placement, whose rollback took the new key with it: nothing to forget.
    Refused(AppError),
    /// Nothing written, the key not claimed: refused or failed before the placement, or the
    /// key is already stored. The long way decides.
    NotClaimed,
}

/// The common case in one commit fewer: a new order whose key is claimed in the placement's
/// transaction. Nothing that could belong to another request with the same key is touched
/// unless the claim succeeded.
async fn place_fresh(
    state: &ApiState,
    request: &PayRequest,
    order_id: &str,
    claim: &idempotency::KeyClaim<'_>,
    now: i64,
) -> Result<Fresh, AppError> {
    let Ok(checked) = check(state, request, now).await else { return Ok(Fresh::NotClaimed) };
    let order = checked.order(order_id, now);
    match retry_busy(|| order_store::place(&state.db, &order, Some(claim))).await {
        Ok(number) => {
            let parts = checked.receipt(order_id, number);
            Ok(Fresh::Placed(charge_and_settle(state, &order, &checked.token, parts, claim.key, false).await))
        }
        Err(PlaceError::KeyTaken) => Ok(Fresh::NotClaimed),
        Err(error) => placement_refusal(state, &order, error).await.map(Fresh::Refused),
    }
}

/// The order itself, under the id its key recorded. An order already written under that id
/// (an earlier attempt died or failed on our side) is resumed, never placed twice.
async fn place_order(
    state: &ApiState,
    request: PayRequest,
    order_id: &str,
    key: &str,
    resuming: bool,
) -> Result<Outcome, AppError> {
    if resuming {
        if let Some(stored) = order_store::find(&state.db, order_id).await? {
            return resume(state, stored, request.card_token.trim(), key).await;
        }
    }
    let now = clock::now();
    let checked = match check(state, &request, now).await {
        Ok(checked) => checked,
        Err(error) => return refused(error),
    };
    let order = checked.order(order_id, now);
    let order_number = match retry_busy(|| order_store::place(&state.db, &order, None)).await {
        Ok(number) => number,
        Err(error) => return refused(placement_refusal(state, &order, error).await?),
    };
    let parts = checked.receipt(order_id, order_number);
    charge_and_settle(state, &order, &checked.token, parts, key, false).await
}

/// Why a placement was refused, or (`Err`) our failure.
async fn placement_refusal(state: &ApiState, order: &NewOrder<'_>, error: PlaceError) -> Result<AppError, AppError> {
    match error {
        // Whether any are left is read after the refusal, for the buyer's next choice only:
        // a buyer who asked for 3 where 2 are left may take 2, not look elsewhere. One that
        // asked for 1 was refused because none is left, which needs no read: a flash sale's
        // thousands of refusals are of that kind. Stock added since the refusal (as many as
        // asked, or more) is no reason to choose fewer.
        PlaceError::SoldOut => Ok(match order.quantity > 1 {
            true => order_store::units_left(&state.db, order).await?,
            false => None,
        }
        .filter(|left| (1..i64::from(order.quantity)).contains(left))
        .map_or_else(
            || conflict(ErrorCode::SoldOut, "This option is sold out."),
            |left| conflict(ErrorCode::NotEnoughStock, &format!("Only {left} of this option left: choose fewer.")),
        )),
        PlaceError::IntentTaken => {
            Ok(conflict(ErrorCode::IntentInvalid, "This payment was already made or is under way."))
        }
        // The code went out of use since the intent: nothing is charged, and the buyer sees
        // why beside the code, to remove it or try another.
        PlaceError::Discount(refusal) => Ok(AppError::validation(vec![refusal.field_error()])),
        PlaceError::KeyTaken => Err(AppError::internal("the placement found its key already taken")),
        PlaceError::Other(error) => Err(error),
    }
}

/// An order's parts, checked: the token it pays with, its intent, and the product and
/// variant (by index) it buys.
struct Checked {
    token: String,
    /// The language the buyer paid in, when the request named a language tag.
    lang: Option<String>,
    intent: intents::OpenIntent,
    product: catalog::Product,
    variant: usize,
}

/// The request's token, intent and product as they must be for an order; `Err` is why not
/// (a refusal) or our failure.
async fn check(state: &ApiState, request: &PayRequest, now: i64) -> Result<Checked, AppError> {
    let token = request.card_token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN || !is_single_line(&request.card_token) {
        let error = FieldError::new("card_token", "card_token_invalid", "Enter your card details again.");
        return Err(AppError::validation(vec![error]));
    }
    // Everything the order is (item, quantity, amount, email, address) comes from the intent
    // the buyer saw beside Pay; the request only names it and brings its token.
    let (intent, product) = intents::open(state, &request.intent_id, &request.client_secret, now).await?;
    let product = product.ok_or_else(|| AppError::not_found("There is no such product."))?;
    intents::ensure_on_sale(&product.offer)?;
    let variant = product.offer.variants.iter().position(|v| v.id == intent.variant_id).ok_or_else(|| {
        AppError::validation(vec![FieldError::new("variant", "variant_invalid", "Choose an option.")])
    })?;
    let lang = request.lang.as_deref().map(str::trim).filter(|tag| is_language_tag(tag)).map(str::to_owned);
    Ok(Checked { token: token.to_owned(), lang, intent, product, variant })
}

impl Checked {
    fn order<'a>(&'a self, order_id: &'a str, now: i64) -> NewOrder<'a> {
        let intent = &self.intent;
        NewOrder {
            id: order_id,
            product_id: &intent.product_id,
            variant_id: &self.product.offer.variants[self.variant].id,
            quantity: intent.quantity,
            email: &intent.email,
            share_email: intent.share_email,
            shipping: intent.shipping.as_ref(),
            quote: &intent.quote,
            tweet_id: intent.tweet_id.as_ref(),
            intent_id: &intent.id,
            lang: self.lang.as_deref(),
            names: order_store::BoughtNames {
                title: &self.product.offer.title,
                label: &self.product.offer.variants[self.variant].label,
                delivery: self.product.offer.delivery.as_deref(),
            },
            now,
        }
    }

    fn receipt(&self, order_id: &str, order_number: String) -> ReceiptParts {
        let offer = &self.product.offer;
        ReceiptParts {
            order_id: order_id.to_owned(),
            order_number,
            product_title: offer.title.clone(),
            variant_label: offer.variants[self.variant].label.clone(),
            quantity: self.intent.quantity,
            quote: self.intent.quote.clone(),
            email: self.intent.email.clone(),
            shipping: self.intent.shipping.clone(),
            delivery: offer.delivery.clone(),
        }
    }
}

/// Finishes an order an earlier attempt wrote: answers what it became, or, still pending,
/// charges it again under the same order id, which the vault answers with the earlier charge
/// if that one went through (one charge per order id).
///
/// The earlier attempt may still be charging it. One attempt may settle the order as not
/// paid, and the other's charge be approved after that; if that answer is then lost (or its
/// process dies before writing it down), nothing here records the charge. So the order is
/// watched ([`super::stray_charges::watch`]) until no charge of it can still come.
async fn resume(state: &ApiState, stored: StoredOrder, token: &str, key: &str) -> Result<Outcome, AppError> {
    if stored.status == "pending" {
        let due_at = clock::now() + super::pending_sweep::SETTLE_AFTER_SECS;
        super::stray_charges::watch(state, &stored.id, due_at).await?;
        let quote = stored.quote()?;
        let parts = receipt_parts(&stored, quote.clone())?;
        return charge_and_settle(state, &stored.as_new(&quote, clock::now())?, token, parts, key, true).await;
    }
    as_settled(&stored)
}

/// The outcome of a resumed order whose charge now says nothing was charged (the token spent
/// or gone, the vault refusing or out of reach): the vault's record of a charge under the
/// order's id, which an earlier attempt may have made, is the last word. A saved card's
/// earlier charge is not found through its token once the buyer has removed their saved
/// info, and the order must not then be taken back as never charged. When the vault cannot
/// say, the outcome is unknown and the order stays pending.
async fn earlier_charge(state: &ApiState, order_id: &str, now: ChargeOutcome) -> ChargeOutcome {
    match state.vault.charge_of(order_id).await {
        Ok(Some(result)) => {
            tracing::warn!(%order_id, answer = ?now, "a resumed order was charged by an earlier attempt");
            ChargeOutcome::Charged(result)
        }
        Ok(None) => now,
        Err(reason) => ChargeOutcome::Unknown(format!(
            "{now:?}; the vault could not say whether an earlier attempt charged: {reason}"
        )),
    }
}

/// What a stored order's receipt shows besides the card.
fn receipt_parts(stored: &StoredOrder, quote: Quote) -> Result<ReceiptParts, AppError> {
    Ok(ReceiptParts {
        order_id: stored.id.clone(),
        order_number: stored.order_number.clone(),
        product_title: stored.title.clone().unwrap_or_else(|| stored.product_id.clone()),
        variant_label: stored.label.clone().unwrap_or_else(|| stored.variant_id.clone()),
        quantity: u32::try_from(stored.quantity).map_err(|_| AppError::internal("stored quantity"))?,
        quote,
        email: stored.email.clone(),
        shipping: stored.shipping()?,
        delivery: stored.delivery.clone(),
    })
}

/// The answer for an order no longer pending: what it became.
fn as_settled(stored: &StoredOrder) -> Result<Outcome, AppError> {
    let parts = receipt_parts(stored, stored.quote()?)?;
    match stored.status.as_str() {
        "paid" => {
            let brand = from_text(stored.card_brand.as_deref().unwrap_or_default())?;
            parts.paid(brand, stored.card_last4.clone().unwrap_or_default())
        }
        "declined" => {
            let code =
                stored.decline_code.as_deref().and_then(|c| from_text(c).ok()).unwrap_or(DeclineCode::CardDeclined);
            answer(declined(code))
        }
        _ => answer(not_charged()),
    }
}

fn declined(code: DeclineCode) -> AppError {
    let mut body = ApiError::new(ErrorCode::PaymentDeclined, decline_message(code));
    body.decline_code = Some(code);
    AppError::from_api(StatusCode::PAYMENT_REQUIRED, body)
}

fn not_charged() -> AppError {
    AppError::new(
        StatusCode::BAD_GATEWAY,
        ErrorCode::PaymentError,
        "We could not reach the payment service. You have not been charged. Please try again.",
    )
}

/// Charges a pending order's token under the order's id and records the outcome. `resumed`:
/// the order was written by an earlier attempt, which may have charged it.
async fn charge_and_settle(
    state: &ApiState,
    order: &NewOrder<'_>,
    token: &str,
    parts: ReceiptParts,
    key: &str,
    resumed: bool,
) -> Result<Outcome, AppError> {
    let order_id = order.id;
    let charge = ChargeRequest {
        token: token.to_owned(),
        amount: order.quote.total,
        reference: order_id.to_owned(),
        intent_id: order.intent_id.to_owned(),
    };
    let mut outcome = state.vault.charge(&charge).await;
    if resumed && !matches!(outcome, ChargeOutcome::Charged(_) | ChargeOutcome::Unknown(_)) {
        outcome = earlier_charge(state, order_id, outcome).await;
    }
    let failure = match outcome {
        ChargeOutcome::Charged(result) if result.status == ChargeStatus::Approved => {
            let now = clock::now();
            let order_number = parts.order_number.clone();
            let Outcome::Answer(status, body) = parts.paid(result.brand, result.last4.clone())? else {
                return Err(AppError::internal("a receipt is an answer"));
            };
            let stored = KeyAnswer { scope: SCOPE, key, status: status.as_u16(), body: &body };
            let paid = retry_busy(|| {
                order_store::mark_paid_and_answer(
                    &state.db,
                    order_id,
                    result.brand,
                    &result.last4,
                    &result.charge_id,
                    now,
                    Some(&stored),
                )
            })
            .await?;
            if !paid {
                // The order was settled without this charge meanwhile: the buyer is told what
                // it became, and the charge is refunded now or by the sweep.
                super::stray_charges::give_back(state, order_id, &result.charge_id, order.quote.total).await?;
                return match order_store::find(&state.db, order_id).await? {
                    Some(settled) => as_settled(&settled),
                    None => answer(not_charged()),
                };
            }
            tracing::info!(%order_id, %order_number, total = %order.quote.total, "order paid");
            return Ok(Outcome::Stored(status, body));
        }
        ChargeOutcome::Charged(result) => {
            let code = result.decline_code.unwrap_or(DeclineCode::CardDeclined);
            let failure = Failure {
                status: "declined",
                decline_code: Some(code),
                charge_id: Some(&result.charge_id),
                card: Some((result.brand, &result.last4)),
            };
            let now = clock::now();
            retry_busy(|| order_store::mark_failed_and_release(&state.db, order, &failure, now)).await?;
            tracing::info!(%order_id, decline_code = code.as_str(), "order declined");
            return answer(declined(code));
        }
        ChargeOutcome::TokenInvalid | ChargeOutcome::TokenMismatch => {
            // Nothing was charged and nothing can be: the order is taken back whole and the
            // answer is not stored, so the key and the intent are free for a real token.
            let error = if matches!(outcome, ChargeOutcome::TokenMismatch) {
                tracing::warn!(%order_id, "a token of another intent was presented; nothing charged");
                AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::TokenMismatch,
                    "This card was confirmed for another payment. Press Pay again.",
                )
            } else {
                AppError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::TokenInvalid,
                    "Your card details have expired. Enter them again.",
                )
            };
            retry_busy(|| order_store::discard(&state.db, order)).await?;
            return refused(error);
        }
        ChargeOutcome::Unavailable(reason) => {
            tracing::error!(%order_id, %reason, "vault charge failed");
            not_charged()
        }
        ChargeOutcome::Unknown(reason) => {
            // The card may have been charged: the order stays pending with its stock, and the
            // error (not a stored answer) frees the key, so the buyer's retry with it resumes
            // this order and asks the vault again under the same order id.
            tracing::error!(%order_id, %reason, "vault charge outcome unknown; the order stays pending");
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "We could not confirm your payment yet. Try again in a moment: you will not be charged twice.",
            ));
        }
    };
    let none = Failure { status: "failed", decline_code: None, charge_id: None, card: None };
    let now = clock::now();
    retry_busy(|| order_store::mark_failed_and_release(&state.db, order, &none, now)).await?;
    answer(failure)
}

#[cfg(test)]
mod tests {
    use super::RunningOrders;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_stop_waits_for_the_orders_still_running_and_no_longer() {
        let running = Arc::new(RunningOrders::default());
        let wait = |running: &Arc<RunningOrders>| {
            let running = running.clone();
            async move { tokio::time::timeout(Duration::from_millis(50), running.all_done()).await.is_ok() }
        };
        assert!(wait(&running).await, "none running: done at once");
        let (first, second) = (running.start(), running.start());
        assert!(!wait(&running).await, "two running");
        drop(first);
        assert!(!wait(&running).await, "one still running");
        let waiting = tokio::spawn({
            let running = running.clone();
            async move { running.all_done().await }
        });
        // The waiter runs until it waits (this test's runtime has one thread), so the last
        // order's end must wake it.
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(second);
        tokio::time::timeout(Duration::from_secs(30), waiting).await.expect("woken when the last one ends").unwrap();
    }
}
