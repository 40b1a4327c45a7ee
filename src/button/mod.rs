//! The button module: what every host page loads, before anyone clicks.
//!
//! In the order of a page load: [`config`] reads the settings the loader found; [`discover`] and
//! [`observe`] find tweet embeds, now and as they come and go; [`offers`] looks up all their
//! offers in one request; [`mount`] attaches a host with its own shadow root under each
//! embed that has one, and [`buy_button`] draws the button, each batch's DOM work done by the
//! loader's [`kit`] in one call per step; [`placement`] gives it its row
//! without moving what the visitor sees; [`loader`] loads the checkout module once a button
//! is in sight and the page is idle, or when a visitor points at, focuses or clicks one. [`global`] keeps one copy of the widget
//! per page, and [`marks`] leaves User Timing marks for the benchmark.
//!
//! Plain web-sys, no Leptos: every kilobyte here is paid by every page view.

pub(crate) mod buy_button;
pub(crate) mod config;
pub mod discover;
pub(crate) mod global;
pub mod kit;
pub mod loader;
pub(crate) mod marks;
pub mod mount;
pub(crate) mod observe;
pub mod offers;
pub(crate) mod placement;

use crate::shared::names;

/// See [`crate::start`].
pub(crate) fn start(
    load_checkout: js_sys::Function,
    preloaded: &wasm_bindgen::JsValue,
    dom_kit: wasm_bindgen::JsValue,
    page: &wasm_bindgen::JsValue,
) {
    kit::use_kit(dom_kit);
    loader::use_module(load_checkout);
    offers::use_preloaded(preloaded);
    let Some(config) = config::WidgetConfig::from_page(page) else {
        return;
    };
    if !global::install(&config) {
        return;
    }
    observe::watch(&config);
    let root = crate::shared::util::window().document().and_then(|d| d.document_element());
    if let Some(root) = root {
        // A page saved with our marks and hosts in it (a snapshot, a prerendered page): the
        // marks would keep its embeds from buttons, and its hosts are dead copies.
        let (host, attached) = (names::js(mount::HOST_ATTR), names::js(discover::ATTACHED_ATTR));
        kit::with(|kit| kit.copies(&root, &host, &attached));
        observe::scan_now(&config, alloc::vec![root]);
    }
}
