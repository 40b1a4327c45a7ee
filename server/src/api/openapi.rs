//! `GET /api/openapi.json`: the api origin's OpenAPI document, generated with `utoipa` from the
//! `#[utoipa::path]` annotations on the handlers and the `ToSchema` derives of the core wire
//! types (core's `openapi` feature).
//!
//! [`ROUTES`] lists every route `api_app` serves, in one place. The test in
//! `server/tests/api/openapi.rs` checks that the document holds exactly these routes, that each
//! one answers on the real router, and that the router's source declares no route missing here.

use super::webhooks::{endpoints as hooks, objects, EventType};
use super::{
    admin, availability, discounts, images, intents, offers, orders, quote, refunds, seller_orders, waitlist, widget,
};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use tweetbuy_core::ErrorCode;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

/// Every route the api origin serves, as `(method, path)` with OpenAPI path templates. The
/// widget's static files are served by a directory service under `/tweetbuy/`, listed here as
/// `/tweetbuy/{file}`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/v1/offers"),
    ("GET", "/api/v1/products/{product_id}/availability"),
    ("POST", "/api/v1/quote"),
    ("POST", "/api/v1/intents"),
    ("POST", "/api/v1/waitlist"),
    ("GET", "/api/v1/waitlist/unsubscribe"),
    ("POST", "/api/v1/waitlist/unsubscribe"),
    ("POST", "/api/v1/orders"),
    ("GET", "/tweetbuy/embed.js"),
    ("GET", "/tweetbuy/{file}"),
    ("GET", "/images/{file}"),
    ("POST", "/admin/v1/catalog"),
    ("GET", "/admin/v1/orders"),
    ("GET", "/admin/v1/orders.csv"),
    ("GET", "/admin/v1/discounts"),
    ("POST", "/admin/v1/discounts"),
    ("POST", "/admin/v1/discounts/{code}/disable"),
    ("GET", "/admin/v1/webhooks"),
    ("POST", "/admin/v1/webhooks"),
    ("GET", "/admin/v1/webhooks/{endpoint_id}"),
    ("PATCH", "/admin/v1/webhooks/{endpoint_id}"),
    ("DELETE", "/admin/v1/webhooks/{endpoint_id}"),
    ("POST", "/admin/v1/webhooks/{endpoint_id}/rotate"),
    ("GET", "/admin/v1/webhooks/{endpoint_id}/deliveries"),
    ("POST", "/admin/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend"),
    ("POST", "/admin/v1/orders/{order_number}/refunds"),
    ("POST", "/admin/v1/orders/{order_number}/cancel"),
    ("POST", "/admin/v1/orders/{order_number}/ship"),
];

/// The stable error codes: `(code, statuses it comes with, when)`. Clients switch on `code`,
/// never on `message`. Rendered into the `ErrorCode` schema's description.
pub const ERROR_CODES: &[(ErrorCode, &str, &str)] = &[
    (
        ErrorCode::BadRequest,
        "400, 405, 422",
        "Malformed JSON, a bad query, a malformed `Idempotency-Key` (400); a wrong method (405); \
         an unknown field or a wrong type in a JSON body (422).",
    ),
    (
        ErrorCode::ValidationFailed,
        "422",
        "Input that parses but is not acceptable; `fields` has one entry per problem.",
    ),
    (ErrorCode::NotFound, "404", "No such product, image or path."),
    (ErrorCode::SoldOut, "409", "The product or the chosen option has no stock left."),
    (
        ErrorCode::NotEnoughStock,
        "409",
        "Some of the chosen option is left, fewer than the order asks for; the message says how many.",
    ),
    (ErrorCode::SaleEnded, "409", "The sale window has closed."),
    (ErrorCode::SaleNotStarted, "409", "The sale window has not opened yet."),
    (ErrorCode::OnSale, "409", "A waitlist join for an item that can be bought now."),
    (ErrorCode::PaymentDeclined, "402", "The card was declined; `decline_code` says why. Nothing was charged."),
    (ErrorCode::PaymentError, "502", "The payment service could not be reached. Nothing was charged; retry."),
    (ErrorCode::TokenInvalid, "400", "The card token is unknown, used or expired; tokenize the card again."),
    (
        ErrorCode::TokenMismatch,
        "422",
        "The card token was minted for another payment intent. Nothing was charged; the token still pays its own.",
    ),
    (
        ErrorCode::IntentInvalid,
        "409, 422",
        "The payment intent is unknown, expired or its client secret is wrong (422), or another order already \
         pays it or is paying it (409). Nothing was charged.",
    ),
    (ErrorCode::IdempotencyKeyMissing, "400", "A write that needs an `Idempotency-Key` header came without one."),
    (ErrorCode::IdempotencyKeyReused, "422", "The `Idempotency-Key` was already used with a different body."),
    (
        ErrorCode::IdempotencyInProgress,
        "409",
        "The first request with this `Idempotency-Key` is still running; retry shortly.",
    ),
    (ErrorCode::Unauthorized, "401", "The admin api without a valid bearer key."),
    (ErrorCode::Forbidden, "403", "Vault origin only: a card token request from an origin that is not allowed."),
    (ErrorCode::PayloadTooLarge, "413", "A JSON body over 64 KiB."),
    (ErrorCode::UnsupportedMediaType, "415", "A body in a content type the endpoint does not take."),
    (ErrorCode::RateLimited, "429", "Too many order requests from this client; see `Retry-After`."),
    (
        ErrorCode::Unavailable,
        "503",
        "The widget build or its loader template is missing; admin api: the vault did not answer a refund (retry \
         with the same key: it never refunds twice).",
    ),
    (ErrorCode::Internal, "500", "Our failure; the cause is logged, never sent. Retrying is safe."),
    (
        ErrorCode::OrderNotPaid,
        "409",
        "Admin api: a refund, cancellation or shipment of an order that was never paid (pending, declined or \
         failed); nothing was charged, so nothing can be given back.",
    ),
    (
        ErrorCode::RefundExceedsRemaining,
        "409",
        "Admin api: a refund for more than what is left of the order's total (the message says how much is left; \
         nothing when it was refunded in full).",
    ),
    (ErrorCode::OrderShipped, "409", "Admin api: a cancellation of an order that has shipped; refund it instead."),
    (ErrorCode::OrderCancelled, "409", "Admin api: shipping an order that was cancelled."),
];

const DESCRIPTION: &str = "The tweetbuy api origin: the widget's files, offer lookups, live availability, \
quotes and orders, and the seller's admin api. It never sees a card number: an order pays a priced payment intent \
with a vault token minted for that intent alone.\n\nEvery error is JSON, `{code, message, fields?, decline_code?}` (the `ApiError` schema); \
the stable codes are listed in the `ErrorCode` schema. Responses carry a CSP, `nosniff` and \
`Referrer-Policy`; CORS allows the configured publisher origins only.";

#[derive(OpenApi)]
#[openapi(
    info(title = "tweetbuy api", description = DESCRIPTION),
    paths(
        healthz,
        document,
        offers::lookup,
        availability::availability,
        quote::quote,
        intents::create_intent,
        waitlist::join,
        waitlist::unsubscribe_page,
        waitlist::unsubscribe,
        orders::create_order,
        widget::embed_js,
        widget_file,
        images::image,
        admin::import_catalog,
        admin::list_orders,
        admin::export_orders,
        discounts::admin::create_code,
        discounts::admin::list_codes,
        discounts::admin::disable_code,
        hooks::list_endpoints,
        hooks::create_endpoint,
        hooks::get_endpoint,
        hooks::update_endpoint,
        hooks::delete_endpoint,
        hooks::rotate_secret,
        hooks::list_deliveries,
        hooks::resend_delivery,
        refunds::admin::create_refund,
        refunds::admin::cancel_order,
        refunds::admin::ship_order,
    ),
    components(schemas(
        tweetbuy_core::ApiError,
        ErrorCode,
        tweetbuy_core::FieldError,
        seller_orders::SellerOrder,
        EventType,
        objects::StockObject,
        refunds::Refund,
        refunds::Shipment,
        refunds::admin::RefundBody,
    )),
    modifiers(&Tweaks),
    tags(
        (name = "buyer", description = "What the widget calls while a buyer shops."),
        (name = "widget", description = "The widget's files and generated product images."),
        (name = "admin", description = "The seller's admin api (bearer key)."),
        (name = "ops", description = "Health and this document."),
    )
)]
pub(crate) struct ApiDoc;

/// The bearer scheme of the admin api, and the error codes' table.
struct Tweaks;

impl Modify for Tweaks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The seller's admin key (`TWEETBUY_ADMIN_KEY`, or a file named by `--admin-key-file`).",
                    ))
                    .build(),
            ),
        );
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut("ErrorCode") {
            // `unknown` is the client's name for a code from a newer server; no server sends it.
            if let Some(values) = object.enum_values.as_mut() {
                values.retain(|v| v != "unknown");
            }
            object.description = Some(error_code_table());
        }
    }
}

/// The stable error codes as a Markdown table.
pub fn error_code_table() -> String {
    let mut text = String::from(
        "Stable error codes. Clients switch on these, never on `message`; a client should treat a \
         code it does not know like `internal`.\n\n| code | status | when |\n|---|---|---|\n",
    );
    for (code, status, when) in ERROR_CODES {
        let name = serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        text.push_str(&format!("| `{name}` | {status} | {when} |\n"));
    }
    text
}

/// The document, rendered once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
        plain_descriptions(&mut doc);
        doc.to_string()
    })
}

/// Every `description` in `doc` without rustdoc's link syntax ([`without_rustdoc_links`]).
fn plain_descriptions(doc: &mut serde_json::Value) {
    match doc {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    serde_json::Value::String(text) if key == "description" => *text = without_rustdoc_links(text),
                    _ => plain_descriptions(value),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(plain_descriptions),
        _ => {}
    }
}

/// `text` with each of rustdoc's intra-doc links (``[`Offer::title`]``,
/// ``[`Variant::id`](crate::Variant::id)``) left as the code span it shows. utoipa copies the
/// wire types' doc comments into the document, and they are written for rustdoc: a client
/// reading the document can use the name, not the brackets or a Rust path. A Markdown link
/// to a page stays as it is.
fn without_rustdoc_links(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("[`") {
        plain.push_str(&rest[..open]);
        let link = &rest[open + 1..];
        let Some(close) = link.find("`]").filter(|&end| !link[..end].contains(['[', ']', '\n'])) else {
            plain.push('[');
            rest = link;
            continue;
        };
        let after = &link[close + 2..];
        let target = after.strip_prefix('(').and_then(|t| t.find(')').map(|end| (&t[..end], &t[end + 1..])));
        rest = match target {
            // A Markdown link to a page stays whole.
            Some((url, _)) if url.contains("://") => {
                plain.push('[');
                plain.push_str(&link[..close + 2]);
                after
            }
            Some((path, next)) if !path.contains(char::is_whitespace) => {
                plain.push_str(&link[..close + 1]);
                next
            }
            _ => {
                plain.push_str(&link[..close + 1]);
                after
            }
        };
    }
    plain.push_str(rest);
    plain
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "ops",
    responses((status = 200, description = "The OpenAPI document of the api origin.", content_type = "application/json", body = Object))
)]
pub async fn document() -> Response {
    ([(CONTENT_TYPE, "application/json"), (CACHE_CONTROL, "no-cache")], json()).into_response()
}

/// Liveness: the process answers. (The handler is a closure in `api_app`; this function only
/// carries its documentation.)
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "ops",
    responses((status = 200, description = "The server is up.", content_type = "text/plain", body = String, example = "ok"))
)]
#[allow(dead_code)]
fn healthz() {}

/// A file of the current widget build (glue module, wasm, styles). Names with a content hash are
/// cached for a year (`immutable`); others are `no-cache`. (Served by a directory service in
/// `widget::router`; this function only carries its documentation.)
#[utoipa::path(
    get,
    path = "/tweetbuy/{file}",
    tag = "widget",
    params(("file" = String, Path, description = "A file name from the widget build.", example = "tweetbuy-3f2a9c1e0b7d6a54_bg.wasm")),
    responses(
        (status = 200, description = "The file.", content_type = "application/octet-stream"),
        (status = 404, description = "No such file."),
    )
)]
#[allow(dead_code)]
fn widget_file() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustdoc_links_become_the_code_they_show() {
        let plain = without_rustdoc_links;
        assert_eq!(
            plain("By its [`Offer::product_id`]; see [`validate_email`]."),
            "By its `Offer::product_id`; see `validate_email`."
        );
        assert_eq!(plain("Its [`Variant::id`](crate::Variant::id), or [`X`](super::x)."), "Its `Variant::id`, or `X`.");
        // Not links: left as they are.
        assert_eq!(plain("A [`spec`](https://example.com/spec) link."), "A [`spec`](https://example.com/spec) link.");
        assert_eq!(plain("Code `[a]`, [`unclosed, and [x] stay."), "Code `[a]`, [`unclosed, and [x] stay.");
        assert_eq!(plain("[`a`] (then words)"), "`a` (then words)");
        assert_eq!(plain("no links"), "no links");
    }

    #[test]
    fn the_served_document_has_no_rustdoc_links() {
        let doc = json();
        assert!(!doc.contains("[`") && !doc.contains("](crate::"), "rustdoc links left in the document");
        // The wire types' docs are there, as plain text.
        assert!(doc.contains("`Offer::product_id`"));
    }
}
