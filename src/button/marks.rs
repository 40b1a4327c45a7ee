//! Performance marks for `make bench`: standard User Timing entries, no extra global.
//!
//! `tweetbuy:first-button` (once), a `tweetbuy:attach` measure around each batch's DOM
//! work (reserving hosts and mounting views, not the network wait in between), with the
//! batch size and the wasm memory size in its `detail`, and a `tweetbuy:align` measure
//! around the batch's alignment in the next frame.

use core::cell::Cell;

crate::shared::local::page_local! {
    static FIRST_BUTTON: Cell<bool> = const { Cell::new(false) };
}

fn performance() -> Option<web_sys::Performance> {
    crate::shared::util::window().performance()
}

/// Milliseconds since the page's time origin.
pub fn now() -> f64 {
    performance().map(|p| p.now()).unwrap_or_default()
}

/// Marks the first button of the page visit.
pub fn first_button() {
    if !FIRST_BUTTON.with(|f| f.replace(true)) {
        if let Some(p) = performance() {
            let _ = p.mark("tweetbuy:first-button");
        }
    }
}

/// Where one batch's DOM time went: reserving hosts, and building the buttons.
pub struct Phases {
    pub reserve_ms: f64,
    pub mount_ms: f64,
}

/// Records one batch's DOM work: `dom_ms` spent attaching `count` buttons.
pub fn attach_batch(start: f64, dom_ms: f64, count: usize, phases: &Phases) {
    measure("tweetbuy:attach", start, dom_ms, count, phases.reserve_ms, phases.mount_ms);
}

/// Records one batch's alignment pass ([`crate::button::placement::align_before_paint`]): reading
/// the embeds' boxes, which makes the browser lay out the page, checking the new buttons'
/// accent colours, and sizing the hosts.
pub fn align_batch(start: f64, dom_ms: f64, count: usize) {
    measure("tweetbuy:align", start, dom_ms, count, f64::NAN, f64::NAN);
}

/// `performance.measure` with the batch's figures and the module's memory size in its
/// `detail`, built by the kit: in JS the object and the memory's size are a line each.
fn measure(name: &str, start: f64, duration: f64, count: usize, reserve_ms: f64, mount_ms: f64) {
    let memory = wasm_bindgen::memory();
    crate::button::kit::with(|kit| kit.timing(name, start, duration, count as f64, reserve_ms, mount_ms, &memory));
}
