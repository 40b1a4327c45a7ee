//! Paying: token from the card frame, then the order request with its `Idempotency-Key`.

use crate::api::ClientError;
use crate::card_frame::{tokenize, TokenizeError};
use crate::checkout::Details;
use crate::i18n::Key;
use crate::mount::WidgetCtx;
use tweetbuy_core::{FieldError, Offer, OrderReceipt, OrderRequest};
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
pub fn order_request(offer: &Offer, form: &Details, card_token: &str) -> OrderRequest {
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

/// Tokenizes the card in the vault's frame, then places the order. Returns the receipt and
/// the typed card's one-time token (which the confirmation may offer to save).
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
                crate::util::sleep(CHECK_OUTCOME_EVERY_MS).await;
            }
            outcome => {
                checking(false);
                return outcome;
            }
        }
    }
}

pub async fn pay(
    ctx: &WidgetCtx,
    offer: &Offer,
    form: &Details,
    frame: Option<HtmlIFrameElement>,
    checking: &dyn Fn(bool),
) -> Result<(OrderReceipt, String), PayError> {
    let frame = frame.ok_or(PayError::Card(Key::CardLoading))?;
    let card = tokenize(&frame, &ctx.vault_origin).await.map_err(|e| match e {
        TokenizeError::Invalid(fields) => PayError::Fields(fields),
        TokenizeError::Failed(_) => PayError::Card(Key::SomethingWrong),
        TokenizeError::Timeout | TokenizeError::NotReady => PayError::Card(Key::CardNoAnswer),
    })?;
    let request = order_request(offer, form, &card.token);
    // A fresh key per attempt: each attempt carries a new one-time token, so it is a new
    // request; a network retry of the same attempt reuses this key.
    let key = crate::util::random_id();
    let receipt = place_order(ctx, &request, &key, checking).await.map_err(PayError::Client)?;
    Ok((receipt, card.token))
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
    use tweetbuy_core::ProductKind;

    #[test]
    fn the_request_has_a_token_and_shipping_only_for_goods() {
        let mut offer: Offer = serde_json::from_value(serde_json::json!({
            "tweet_id": "1528000000000000003", "product_id": "tour", "title": "t", "description": "d",
            "seller": {"name": "Demi", "kind": "artist"}, "kind": "ticket", "currency": "USD",
            "variants": [{"id": "ga", "label": "GA", "price": {"minor": 8950, "currency": "USD"}, "stock": null}],
            "limited_edition": false, "availability": "available", "sale_ends_at": null, "max_per_order": 4
        }))
        .unwrap();
        let form = Details { email: " a@b.co ".into(), variant_id: "ga".into(), quantity: 2, ..Details::default() };
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
