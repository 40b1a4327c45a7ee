//! Paying: token from the card frame, then the order request with its `Idempotency-Key`.

use crate::checkout::card::{tokenize, TokenizeError};
use crate::checkout::form::CheckoutForm;
use crate::shared::api::ClientError;
use crate::shared::context::WidgetCtx;
use crate::shared::i18n::Key;
use tweetbuy_core::{ErrorCode, FieldError, Offer, OrderReceipt, OrderRequest};
use web_sys::HtmlIFrameElement;

/// Why a payment did not complete. Whatever the visitor typed stays in the form.
#[derive(Clone, Debug, PartialEq)]
pub enum PayError {
    /// Fields to fix (ours, the frame's or the server's).
    Fields(Vec<FieldError>),
    /// The card frame could not produce a token: what to tell the visitor.
    Card(Key),
    /// The api refused or could not be reached.
    Client(ClientError),
}

/// The order body: the token stands in for the card, and no price is sent because the
/// server computes every amount from its catalog.
pub fn order_request(offer: &Offer, form: &CheckoutForm, card_token: &str) -> OrderRequest {
    OrderRequest {
        product_id: offer.product_id.clone(),
        variant_id: form.variant_id.clone(),
        quantity: form.quantity,
        email: form.email.trim().to_owned(),
        shipping: offer.kind.needs_shipping().then(|| form.shipping()),
        card_token: card_token.to_owned(),
        share_email: form.share_email,
        tweet_id: Some(offer.tweet_id.clone()),
    }
}

/// How long to keep asking for the outcome of an order whose answer was lost, before the
/// visitor is told the store cannot be reached (whatever they do next, the same key never
/// charges twice).
pub const CHECK_OUTCOME_FOR_MS: f64 = 10_000.0;

/// Pause between two questions about a lost order's outcome.
pub const CHECK_OUTCOME_EVERY_MS: i32 = 3_000;

/// Whether to keep asking for a lost order's outcome: only when no answer came at all, and
/// only for a while.
pub fn keep_checking(error: &ClientError, elapsed_ms: f64) -> bool {
    matches!(error, ClientError::Network(_)) && elapsed_ms < CHECK_OUTCOME_FOR_MS
}

/// Sends the order with its key. When the connection drops mid-payment the key and body
/// are kept and sent again until an answer comes: the server replays the first outcome
/// for the same key, so this asks "what happened?" rather than paying again.
/// `checking` is told while the widget is waiting to learn the outcome.
pub async fn place_order(
    ctx: &WidgetCtx,
    request: &OrderRequest,
    key: &str,
    checking: &dyn Fn(bool),
) -> Result<OrderReceipt, ClientError> {
    let started = js_sys::Date::now();
    loop {
        match ctx.api.post("/api/v1/orders", request, Some(key)).await {
            Err(error) if keep_checking(&error, js_sys::Date::now() - started) => {
                checking(true);
                crate::shared::util::sleep(CHECK_OUTCOME_EVERY_MS).await;
            }
            outcome => {
                checking(false);
                return outcome;
            }
        }
    }
}

/// An order that was sent but whose outcome is unknown (no answer, or a server error): its
/// key and body, kept so that the next Pay first asks about it with the same key (the
/// server replays its outcome) instead of paying again.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub key: String,
    pub request: OrderRequest,
}

/// The sheet's order whose outcome is unknown, in Leptos context: shared by the typed-card
/// and saved-card paths, and kept while the sheet is closed and opened again.
#[derive(Clone, Copy)]
pub struct PendingOrder(pub leptos::prelude::StoredValue<Option<Pending>>);

impl Default for PendingOrder {
    fn default() -> Self {
        PendingOrder(leptos::prelude::StoredValue::new(None))
    }
}

/// Whether a failed order request leaves its outcome unknown: it may have been charged.
pub fn outcome_unknown(error: &ClientError) -> bool {
    match error {
        ClientError::Network(_) => true,
        ClientError::Api { status, error } => *status >= 500 || error.code == ErrorCode::IdempotencyInProgress,
        ClientError::Decode { status, .. } => *status >= 500,
    }
}

/// Places an order, never twice: an earlier order whose outcome is still unknown is settled
/// first (same key, same body). If it went through, its receipt is the answer; if it is
/// still unknown, the visitor is told and nothing new is sent; if it failed for good, a new
/// attempt follows with `fresh`'s request (a new one-time token) and a new key.
/// `remember` keeps the order whose outcome is unknown for the next Pay. Returns the
/// receipt and the card token it used.
pub async fn place_settling(
    ctx: &WidgetCtx,
    pending: Option<Pending>,
    remember: &dyn Fn(Option<Pending>),
    checking: &dyn Fn(bool),
    fresh: impl std::future::Future<Output = Result<OrderRequest, PayError>>,
) -> Result<(OrderReceipt, String), PayError> {
    if let Some(earlier) = pending {
        match place_order(ctx, &earlier.request, &earlier.key, checking).await {
            Ok(receipt) => {
                remember(None);
                return Ok((receipt, earlier.request.card_token));
            }
            Err(error) if outcome_unknown(&error) => return Err(PayError::Client(error)),
            Err(_) => remember(None),
        }
    }
    let order = Pending { key: crate::shared::util::random_id(), request: fresh.await? };
    // Kept before sending: if the page loses the answer, the next Pay asks about this one.
    remember(Some(order.clone()));
    match place_order(ctx, &order.request, &order.key, checking).await {
        Ok(receipt) => {
            remember(None);
            Ok((receipt, order.request.card_token))
        }
        Err(error) => {
            if !outcome_unknown(&error) {
                remember(None);
            }
            Err(PayError::Client(error))
        }
    }
}

/// Tokenizes the typed card in the vault's frame (only when a new order is needed), then
/// places the order through [`place_settling`].
pub async fn pay(
    ctx: &WidgetCtx,
    offer: &Offer,
    form: &CheckoutForm,
    frame: Option<HtmlIFrameElement>,
    pending: Option<Pending>,
    remember: &dyn Fn(Option<Pending>),
    checking: &dyn Fn(bool),
) -> Result<(OrderReceipt, String), PayError> {
    let fresh = async {
        let frame = frame.ok_or(PayError::Card(Key::CardLoading))?;
        let card = tokenize(&frame, &ctx.vault_origin).await.map_err(|e| match e {
            TokenizeError::Invalid(fields) => PayError::Fields(fields),
            TokenizeError::Failed(_) => PayError::Card(Key::SomethingWrong),
            TokenizeError::Timeout | TokenizeError::NotReady => PayError::Card(Key::CardNoAnswer),
        })?;
        Ok(order_request(offer, form, &card.token))
    };
    place_settling(ctx, pending, remember, checking, fresh).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lost_answer_is_checked_again_and_only_for_a_while() {
        let network = ClientError::Network("offline".into());
        assert!(keep_checking(&network, 0.0));
        assert!(!keep_checking(&network, CHECK_OUTCOME_FOR_MS + 1.0));
        let declined = ClientError::Api {
            status: 402,
            error: tweetbuy_core::ApiError::new(tweetbuy_core::ErrorCode::PaymentDeclined, "no"),
        };
        assert!(!keep_checking(&declined, 0.0));
    }

    #[test]
    fn an_order_may_have_been_charged_unless_the_api_said_otherwise() {
        let api = |status, code| ClientError::Api { status, error: tweetbuy_core::ApiError::new(code, "m") };
        assert!(outcome_unknown(&ClientError::Network("reset".into())));
        assert!(outcome_unknown(&api(500, ErrorCode::Internal)));
        assert!(outcome_unknown(&api(503, ErrorCode::Unavailable)));
        assert!(outcome_unknown(&api(409, ErrorCode::IdempotencyInProgress)));
        assert!(outcome_unknown(&ClientError::Decode { status: 502, detail: "<html>".into() }));
        assert!(!outcome_unknown(&api(402, ErrorCode::PaymentDeclined)));
        assert!(!outcome_unknown(&api(409, ErrorCode::SoldOut)));
        assert!(!outcome_unknown(&api(422, ErrorCode::ValidationFailed)));
    }
    use tweetbuy_core::ProductKind;

    #[test]
    fn the_request_has_a_token_and_shipping_only_for_goods() {
        let mut offer = tweetbuy_core::testing::ticket();
        let form =
            CheckoutForm { email: " a@b.co ".into(), variant_id: "ga".into(), quantity: 2, ..CheckoutForm::default() };
        let request = order_request(&offer, &form, "tok_1");
        assert_eq!(request.card_token, "tok_1");
        assert_eq!(request.email, "a@b.co");
        assert!(request.shipping.is_none());
        offer.kind = ProductKind::Physical;
        assert!(order_request(&offer, &form, "tok_1").shipping.is_some());
        let json = serde_json::to_string(&request).unwrap();
        assert!(!json.contains("price") && !json.contains("total"), "{json}");
    }
}
