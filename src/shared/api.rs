//! HTTP to the tweetbuy api, with one error type for every way a request can fail.

use crate::prelude::*;
use crate::shared::json::Json;
use tweetbuy_core::{ApiError, ErrorCode, IDEMPOTENCY_HEADER};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How long one request may take before it is abandoned (and, if safe, retried).
pub(crate) const REQUEST_TIMEOUT_MS: i32 = 10_000;

/// Tries per request, the first included.
pub(crate) const MAX_ATTEMPTS: u32 = 4;

/// Whether a failed request may be sent again: only requests that are safe to repeat
/// (reads, and writes carrying an `Idempotency-Key`), and only for failures that another
/// try can fix: no answer, 429, 5xx, or the same key still running (409
/// `idempotency_in_progress`). Any other 4xx is the request's own fault and is final.
pub(crate) fn retryable(error: &ClientError) -> bool {
    match error {
        ClientError::Network(_) => true,
        ClientError::Api { status, error } => {
            retryable_status(*status) || error.code == ErrorCode::IdempotencyInProgress
        }
        ClientError::Decode { status, .. } => retryable_status(*status),
    }
}

/// An answer another try may change: 429 or 5xx.
fn retryable_status(status: u16) -> bool {
    status == 429 || status >= 500
}

/// For a read (the button module's offer lookup, which the kit sends): after try number
/// `attempt` ended with `status` (0: no answer), the wait before the next try, or -1 when
/// there is none; the rule of [`retryable`] and [`backoff_ms`]. A read is never answered
/// `idempotency_in_progress`, so the status says all.
pub(crate) fn read_retry_in(status: u16, attempt: u32, jitter: f64) -> i32 {
    match attempt < MAX_ATTEMPTS && (status == 0 || retryable_status(status)) {
        true => backoff_ms(attempt, jitter),
        false => -1,
    }
}

/// The wait before try number `attempt + 1` (attempt counts from 1): exponential from
/// 300 ms, capped at 4 s, with "equal jitter" (`jitter` in 0..1 picks a point in the upper
/// half) so many clients retrying after one outage do not arrive in step.
pub(crate) fn backoff_ms(attempt: u32, jitter: f64) -> i32 {
    let exponential = 300.0 * f64::from(1u32 << attempt.saturating_sub(1).min(10));
    let capped = exponential.min(4_000.0);
    // Rounded half up by hand: `f64::round` is not in `core`, and the value is never negative.
    (capped / 2.0 + capped / 2.0 * jitter.clamp(0.0, 1.0) + 0.5) as i32
}

/// Why a request to the api did not give the expected answer. Clone, so it can sit in a
/// signal and be awaited from a resource.
/// Displayed (through thiserror) only where std is linked; the button module reports a
/// failed lookup with [`ClientError::summary`], which needs no formatting machinery.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "std", derive(thiserror::Error))]
pub enum ClientError {
    /// No answer: offline, DNS, CORS, or the server is down.
    #[cfg_attr(feature = "std", error("network error: {0}"))]
    Network(String),
    /// The api answered with its JSON error body.
    #[cfg_attr(feature = "std", error("{} ({status})", .error.message))]
    Api { status: u16, error: ApiError },
    /// The api answered with something we could not read.
    #[cfg_attr(feature = "std", error("unexpected response ({status}): {detail}"))]
    Decode { status: u16, detail: String },
}

impl ClientError {
    /// What went wrong, in a few words for a console warning: the network error, or the
    /// api's message, or that the answer was unreadable.
    pub(crate) fn summary(&self) -> &str {
        match self {
            ClientError::Network(detail) => detail,
            ClientError::Api { error, .. } => &error.message,
            ClientError::Decode { .. } => "unexpected response",
        }
    }
}

/// The api's address and the requests the widget makes to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiClient {
    base: String,
}

impl ApiClient {
    pub fn new(base: impl Into<String>) -> ApiClient {
        ApiClient { base: base.into().trim_end_matches('/').to_owned() }
    }

    pub fn url(&self, path: &str) -> String {
        let mut url = self.base.clone();
        url.push_str(path);
        url
    }

    /// `GET path`, the answer parsed by the browser (`JSON.parse`) and read through
    /// [`crate::shared::json::Json`]: neither module carries a JSON parser.
    pub async fn get_parsed(&self, path: &str) -> Result<JsValue, ClientError> {
        send_with_retries(true, &self.url(path), "GET", None, None).await
    }

    /// `POST path` with a JSON body (written by the caller), the answer parsed by the
    /// browser. With an `Idempotency-Key` the request is safe to repeat, so it is retried
    /// with the *same* key: a retry after a lost answer gets the stored outcome of the first
    /// try instead of a second charge. Without a key it is sent once.
    pub async fn post_parsed(
        &self,
        path: &str,
        body: String,
        idempotency_key: Option<&str>,
    ) -> Result<JsValue, ClientError> {
        let url = self.url(path);
        send_with_retries(idempotency_key.is_some(), &url, "POST", Some(&body), idempotency_key).await
    }
}

/// Sends a request (the browser's `fetch`), retrying when it is `safe` to repeat and the
/// failure is [`retryable`], at most [`MAX_ATTEMPTS`] times in all.
async fn send_with_retries(
    safe: bool,
    url: &str,
    method: &str,
    body: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<JsValue, ClientError> {
    let mut attempt = 1;
    loop {
        match send_once(url, method, body, idempotency_key).await {
            Err(error) if safe && attempt < MAX_ATTEMPTS && retryable(&error) => {
                crate::shared::util::sleep(backoff_ms(attempt, js_sys::Math::random())).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// What a rejected promise says, for [`ClientError::Network`].
fn network(error: JsValue) -> ClientError {
    let message = match error.dyn_ref::<js_sys::Error>() {
        Some(error) => error.message().into(),
        None => error.as_string().unwrap_or_else(|| "request failed".into()),
    };
    ClientError::Network(message)
}

/// One try, built afresh and abandoned after [`REQUEST_TIMEOUT_MS`].
async fn send_once(
    url: &str,
    method: &str,
    body: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<JsValue, ClientError> {
    let window = crate::shared::util::window();
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let headers = web_sys::Headers::new().map_err(network)?;
        headers.set("content-type", "application/json").map_err(network)?;
        if let Some(key) = idempotency_key {
            headers.set(IDEMPOTENCY_HEADER, key).map_err(network)?;
        }
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(body));
    }
    let controller = web_sys::AbortController::new().ok();
    init.set_signal(controller.as_ref().map(|c| c.signal()).as_ref());
    let timer = controller.and_then(|c| {
        let abort = wasm_bindgen::closure::Closure::once_into_js(move || c.abort());
        window.set_timeout_with_callback_and_timeout_and_arguments_0(abort.unchecked_ref(), REQUEST_TIMEOUT_MS).ok()
    });
    let result = read(window.fetch_with_str_and_init(url, &init)).await;
    if let Some(timer) = timer {
        window.clear_timeout_with_handle(timer);
    }
    result
}

/// The answer to a request already sent (`fetch`'s promise), parsed.
async fn read(sent: js_sys::Promise) -> Result<JsValue, ClientError> {
    let response: web_sys::Response = JsFuture::from(sent).await.map_err(network)?.unchecked_into();
    let text = JsFuture::from(response.text().map_err(network)?).await.map_err(network)?;
    parse(response.status(), &text.as_string().unwrap_or_default())
}

/// Turns a status and body into the answer, parsed by the browser's `JSON.parse` and left
/// as a JS value, or a [`ClientError`].
pub(crate) fn parse(status: u16, body: &str) -> Result<JsValue, ClientError> {
    answer(status, js_sys::JSON::parse(body).ok(), body)
}

/// The parsed answer of a 2xx, else the error its body names.
fn answer<J: Json>(status: u16, parsed: Option<J>, body: &str) -> Result<J, ClientError> {
    match parsed {
        Some(value) if succeeded(status, true) => Ok(value),
        parsed => Err(error_from(status, parsed.as_ref(), body)),
    }
}

/// Whether an answer is the api's own: a 2xx whose body is JSON.
pub(crate) fn succeeded(status: u16, parsed: bool) -> bool {
    parsed && (200..300).contains(&status)
}

/// The error for a failed answer, read from its parsed `body` (see [`error_of`]).
pub(crate) fn error_from(status: u16, body: Option<&impl Json>, text: &str) -> ClientError {
    let field = |key| body.and_then(|b| b.field(key)).and_then(|f| f.text());
    let (code, message) = (field("code"), field("message"));
    #[allow(unused_mut)]
    let mut error = error_of(status, body.is_some(), code.as_deref(), message.as_deref(), text);
    // Only the checkout shows field errors beside its fields; the button module has none.
    #[cfg(feature = "checkout")]
    if let ClientError::Api { error, .. } = &mut error {
        if let Some(items) = body.and_then(|b| b.field("fields")).and_then(|f| f.items()) {
            error.fields = items.iter().filter_map(field_error).collect();
        }
    }
    error
}

/// The error for an answer that is not the api's ([`succeeded`]): the api's error, when its
/// body is JSON with a `code` and a `message`; else an answer we could not read, with the
/// start of its body (`text`).
// Not inlined: in the checkout module's readers of answers it cost 0.2 KB brotli.
#[inline(never)]
pub(crate) fn error_of(
    status: u16,
    parsed: bool,
    code: Option<&str>,
    message: Option<&str>,
    text: &str,
) -> ClientError {
    match (code, message) {
        _ if !parsed && (200..300).contains(&status) => ClientError::Decode { status, detail: "not JSON".into() },
        (Some(code), Some(message)) => ClientError::Api { status, error: ApiError::new(error_code(code), message) },
        _ => ClientError::Decode { status, detail: text.chars().take(200).collect() },
    }
}

#[cfg(feature = "std")]
crate::shared::json::wire_names! {
    /// Every error code by its wire name.
    ERROR_CODES: ErrorCode {
        BadRequest => "bad_request",
        ValidationFailed => "validation_failed",
        NotFound => "not_found",
        SoldOut => "sold_out",
        NotEnoughStock => "not_enough_stock",
        SaleEnded => "sale_ended",
        SaleNotStarted => "sale_not_started",
        OnSale => "on_sale",
        PaymentDeclined => "payment_declined",
        PaymentError => "payment_error",
        TokenInvalid => "token_invalid",
        TokenMismatch => "token_mismatch",
        IntentInvalid => "intent_invalid",
        IdempotencyKeyMissing => "idempotency_key_missing",
        IdempotencyKeyReused => "idempotency_key_reused",
        IdempotencyInProgress => "idempotency_in_progress",
        Unauthorized => "unauthorized",
        Forbidden => "forbidden",
        PayloadTooLarge => "payload_too_large",
        UnsupportedMediaType => "unsupported_media_type",
        RateLimited => "rate_limited",
        Unavailable => "unavailable",
        Internal => "internal",
        OrderNotPaid => "order_not_paid",
        RefundExceedsRemaining => "refund_exceeds_remaining",
        OrderShipped => "order_shipped",
        OrderCancelled => "order_cancelled",
        Unknown => "unknown",
    }
}

/// An error code as serde reads it (a code from a newer server is `unknown`). Without std
/// (the button module, which only reports that its lookup failed) every code reads as
/// `unknown`: telling them apart would link serde's deserializer.
pub(crate) fn error_code(name: &str) -> ErrorCode {
    #[cfg(feature = "std")]
    {
        crate::shared::json::named(name, ERROR_CODES).unwrap_or(ErrorCode::Unknown)
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = name;
        ErrorCode::Unknown
    }
}

#[cfg(feature = "checkout")]
fn field_error(v: &impl Json) -> Option<tweetbuy_core::FieldError> {
    let text = |key| v.field(key).and_then(|f| f.text());
    Some(tweetbuy_core::FieldError::new(text("field")?, text("code")?, text("message")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_read_by_the_names_serde_gives_them() {
        crate::shared::json::assert_serde_names(ERROR_CODES);
        assert_eq!(error_code("a_code_from_a_newer_server"), ErrorCode::Unknown);
    }

    fn api(status: u16, code: ErrorCode) -> ClientError {
        ClientError::Api { status, error: ApiError::new(code, "m") }
    }

    #[test]
    fn only_failures_another_try_can_fix_are_retried() {
        assert!(retryable(&ClientError::Network("offline".into())));
        assert!(retryable(&api(429, ErrorCode::RateLimited)));
        assert!(retryable(&api(500, ErrorCode::Internal)));
        assert!(retryable(&api(502, ErrorCode::PaymentError)));
        assert!(retryable(&api(409, ErrorCode::IdempotencyInProgress)));
        assert!(retryable(&ClientError::Decode { status: 503, detail: "<html>".into() }));
        for final_error in [
            api(400, ErrorCode::BadRequest),
            api(402, ErrorCode::PaymentDeclined),
            api(409, ErrorCode::SoldOut),
            api(422, ErrorCode::ValidationFailed),
            api(422, ErrorCode::IdempotencyKeyReused),
        ] {
            assert!(!retryable(&final_error), "{final_error:?}");
        }
    }

    #[test]
    fn a_read_goes_again_after_no_answer_429_or_5xx_until_its_last_try() {
        for status in [0, 429, 500, 503] {
            assert_eq!(read_retry_in(status, 1, 1.0), backoff_ms(1, 1.0), "{status}");
            assert_eq!(read_retry_in(status, 2, 0.0), backoff_ms(2, 0.0), "{status}");
            assert_eq!(read_retry_in(status, MAX_ATTEMPTS, 1.0), -1, "{status}: the last try stands");
        }
        for status in [200, 304, 400, 404, 409, 422] {
            assert_eq!(read_retry_in(status, 1, 0.5), -1, "{status}");
        }
    }

    #[cfg(feature = "checkout")]
    #[test]
    fn the_checkout_reads_the_field_errors_of_an_api_error() {
        let body: serde_json::Value = serde_json::from_str(
            r#"{"code":"validation_failed","message":"m","fields":[{"field":"discount_code","code":"discount_expired","message":"x"},{"field":"email"}]}"#,
        )
        .unwrap();
        let ClientError::Api { error, .. } = error_from(422, Some(&body), "") else { panic!("an api error") };
        assert_eq!(error.fields, [tweetbuy_core::FieldError::new("discount_code", "discount_expired", "x")]);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        assert_eq!(backoff_ms(1, 0.0), 150);
        assert_eq!(backoff_ms(1, 1.0), 300);
        assert_eq!(backoff_ms(2, 1.0), 600);
        assert_eq!(backoff_ms(3, 0.5), 900);
        assert_eq!(backoff_ms(20, 1.0), 4_000);
        assert_eq!(backoff_ms(20, 0.0), 2_000);
        let total: i32 = (1..MAX_ATTEMPTS).map(|a| backoff_ms(a, 1.0)).sum();
        assert!(total < REQUEST_TIMEOUT_MS, "retries stay within a few seconds: {total} ms");
    }

    #[test]
    fn decodes_success_error_and_garbage() {
        let decode = |status, body: &str| answer(status, serde_json::from_str::<serde_json::Value>(body).ok(), body);
        assert_eq!(decode(200, "[1,2]").unwrap(), serde_json::json!([1, 2]));
        let err = decode(409, r#"{"code":"sold_out","message":"Sold out."}"#);
        match err.unwrap_err() {
            ClientError::Api { status: 409, error } => assert_eq!(error.code, ErrorCode::SoldOut),
            other => panic!("{other:?}"),
        }
        let garbage = decode(502, "<html>Bad gateway</html>");
        assert!(matches!(garbage.unwrap_err(), ClientError::Decode { status: 502, .. }));
        let not_json = decode(200, "<html>");
        assert!(matches!(not_json.unwrap_err(), ClientError::Decode { status: 200, .. }));
    }

    #[test]
    fn a_parsed_error_body_gives_its_code_and_message() {
        let body = serde_json::json!({"code": "rate_limited", "message": "Slow down."});
        match error_from(429, Some(&body), "") {
            ClientError::Api { status: 429, error } => {
                assert_eq!((error.code, error.message.as_str()), (ErrorCode::RateLimited, "Slow down."))
            }
            other => panic!("{other:?}"),
        }
        let newer = serde_json::json!({"code": "no_such_code", "message": "m"});
        assert!(
            matches!(error_from(500, Some(&newer), "x"), ClientError::Api { error, .. } if error.code == ErrorCode::Unknown),
            "a code from a newer server, as serde reads it"
        );
        let no_message = serde_json::json!({"code": "sold_out"});
        assert!(matches!(error_from(409, Some(&no_message), "x"), ClientError::Decode { status: 409, .. }));
        assert!(matches!(
            error_from(502, None::<&serde_json::Value>, "<html>"),
            ClientError::Decode { status: 502, .. }
        ));
    }

    #[test]
    fn base_url_has_no_trailing_slash() {
        assert_eq!(ApiClient::new("http://a.test/").url("/api/v1/offers"), "http://a.test/api/v1/offers");
    }
}
