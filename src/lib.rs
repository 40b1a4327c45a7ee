//! tweetbuy: a buy button for tweet embeds, as a Leptos client-side widget.
//!
//! The modules follow the path of one purchase:
//!
//! 1. [`config`]: read the one script tag (api origin, theme, locale, do-not-track).
//! 2. [`discover`] and [`observe`]: find tweet embeds in the page, now and as they come
//!    and go, and read their tweet ids.
//! 3. [`offers`]: look up the offers for all found ids in one batched request.
//! 4. [`mount`] and [`button`]: attach a Buy button in its own shadow root under each embed,
//!    [`placement`] gives it its row without moving what the visitor sees, and [`events`]
//!    tells the publisher what happens.
//! 5. [`sheet_loader`] and [`sheet_host`]: a click loads the checkout module and mounts the
//!    sheet; [`sheet`] and [`product_sheet`]: the product details dialog.
//! 6. [`checkout`]: email, shipping, consent and the server's quote.
//! 7. [`card_frame`]: the vault's iframe, where the card is typed; it hands back a token.
//! 8. [`order`]: the order request with its `Idempotency-Key`.
//! 9. [`confirmation`]: the order number and what happens next.
//!
//! Two wasm modules are built from this library (see `index.html`): the button module
//! (`src/main.rs`: steps 1–4, no Leptos, loaded by every host page) and the checkout
//! module (`src/bin/checkout.rs`: steps 5–9, loaded when a visitor is about to buy).
//!
//! Shared helpers: [`api`] (HTTP and errors), [`format`] (money and dates through `Intl`),
//! [`messages`] (what people read), [`styles`] (one stylesheet adopted by every shadow root),
//! [`theme`] (light/dark/auto, button styles, readable accent text, the card frame's theme).

pub mod api;
mod button;
#[cfg(feature = "checkout")]
mod card_frame;
#[cfg(feature = "checkout")]
mod checkout;
mod config;
#[cfg(feature = "checkout")]
pub mod confirmation;
#[cfg(test)]
mod css_min;
pub mod discover;
mod events;
mod format;
mod global;
pub mod i18n;
#[cfg(feature = "checkout")]
mod live;
mod marks;
#[cfg(feature = "checkout")]
mod messages;
pub mod mount;
mod observe;
mod offers;
#[cfg(feature = "checkout")]
mod order;
mod placement;
#[cfg(feature = "checkout")]
mod product_sheet;
#[cfg(feature = "checkout")]
mod saved_info;
#[cfg(feature = "checkout")]
mod sheet;
#[cfg(feature = "checkout")]
pub mod sheet_host;
pub mod sheet_loader;
pub mod styles;
mod theme;
pub mod util;

/// Starts the widget on the current page: find embeds, look up offers, attach buttons, and
/// keep watching for embeds that come and go.
///
/// `load_checkout` loads the checkout module (see [`sheet_loader`]).
///
/// Never throws into the host page: a failed lookup is one console warning. Loading the
/// script twice starts the widget once.
pub fn start(load_checkout: js_sys::Function) {
    sheet_loader::use_module(load_checkout);
    let Some(config) = config::WidgetConfig::from_document() else {
        return;
    };
    if !global::install(&config) {
        return;
    }
    observe::watch(&config);
    let root = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element());
    if let Some(root) = root {
        observe::scan_now(&config, vec![root]);
    }
}
