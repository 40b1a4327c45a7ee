//! tweetbuy: a buy button for tweet embeds, as two wasm modules built from this library.
//!
//! The folders are the architecture, and dependencies point one way:
//! [`button`] and [`checkout`] use [`shared`]; neither uses the other. The one thing that
//! crosses from the button module to the checkout module is
//! [`shared::context::OpenRequest`].
//!
//! - [`button`]: the module every host page loads (`src/main.rs`, no Leptos). Read the
//!   script tag, find tweet embeds, look up their offers in one request, and attach a Buy
//!   button in its own shadow root under each; load the checkout module when a visitor is
//!   about to buy.
//! - [`checkout`]: the module loaded on demand (`src/bin/checkout.rs`, Leptos 0.8,
//!   client-side). Its folders follow one purchase: `sheet` (the dialog), `product`
//!   (details, options, live stock), `saved` (the vault's saved-info frame, on the product
//!   step), `details` (email, shipping, consent, the quote, beside the vault's card frame),
//!   `confirmation`. The vault's frames own Pay; `frame_link` is how the page talks to them.
//! - [`shared`]: what both modules need: HTTP, locale and messages' catalog, formatting,
//!   the stylesheet and theme, publisher events, and the context handed between them.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

/// What std's prelude would give every module, from `alloc`: the button module builds
/// without std (see `Cargo.toml`'s `std` feature).
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::rc::Rc;
    pub(crate) use alloc::string::{String, ToString};
    pub(crate) use alloc::vec;
    pub(crate) use alloc::vec::Vec;
}

#[cfg(feature = "checkout")]
pub mod checkout;

pub mod button;
pub mod shared;

/// Starts the widget on the current page: find embeds, look up offers, attach buttons, and
/// keep watching for embeds that come and go.
///
/// `load_checkout` loads the checkout module (see [`button::loader`]); `preloaded` holds the
/// offer lookups the loader already sent; `kit` does the buttons' DOM work
/// ([`button::kit`]); `page` is what the loader found of the page
/// (`button::config`).
///
/// Never throws into the host page: a failed lookup is one console warning. Loading the
/// script twice starts the widget once.
pub fn start(
    load_checkout: js_sys::Function,
    preloaded: &wasm_bindgen::JsValue,
    kit: wasm_bindgen::JsValue,
    page: &wasm_bindgen::JsValue,
) {
    button::start(load_checkout, preloaded, kit, page);
}
