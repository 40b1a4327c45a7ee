//! Performance marks for `make bench`: standard User Timing entries, no extra global.
//!
//! `tweetbuy:first-button` (once), a `tweetbuy:attach` measure around each batch's DOM
//! work (reserving hosts and mounting views, not the network wait in between), with the
//! batch size and the wasm memory size in its `detail`, and a `tweetbuy:align` measure
//! around the batch's alignment in the next frame.

use core::cell::Cell;
use wasm_bindgen::JsCast;

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

/// The size of the module's linear memory, in bytes.
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map(|b| b.byte_length() as f64)
        .unwrap_or_default()
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
    let Some(p) = performance() else {
        return;
    };
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &"count".into(), &(count as f64).into());
    let _ = js_sys::Reflect::set(&detail, &"domMs".into(), &dom_ms.into());
    let _ = js_sys::Reflect::set(&detail, &"wasmBytes".into(), &wasm_memory_bytes().into());
    let _ = js_sys::Reflect::set(&detail, &"reserveMs".into(), &phases.reserve_ms.into());
    let _ = js_sys::Reflect::set(&detail, &"mountMs".into(), &phases.mount_ms.into());
    measure(&p, "tweetbuy:attach", start, dom_ms, &detail);
}

/// Records one batch's alignment pass ([`crate::button::placement::align_before_paint`]): reading
/// the embeds' boxes, which makes the browser lay out the page, checking the new buttons'
/// accent colours, and sizing the hosts.
pub fn align_batch(start: f64, dom_ms: f64, count: usize) {
    let Some(p) = performance() else {
        return;
    };
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &"count".into(), &(count as f64).into());
    measure(&p, "tweetbuy:align", start, dom_ms, &detail);
}

fn measure(p: &web_sys::Performance, name: &str, start: f64, duration: f64, detail: &js_sys::Object) {
    // `performance.measure(name, {start, duration, detail})`, called through Reflect because
    // web-sys keeps the options dictionary behind its unstable-API flag.
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"start".into(), &start.into());
    let _ = js_sys::Reflect::set(&options, &"duration".into(), &duration.into());
    let _ = js_sys::Reflect::set(&options, &"detail".into(), detail);
    if let Ok(measure) = js_sys::Reflect::get(p, &"measure".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
        let _ = measure.call2(p, &name.into(), &options);
    }
}
