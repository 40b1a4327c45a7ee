//! Hands a click over to the checkout module: the product sheet, checkout, card frame,
//! order and confirmation live in a second wasm module, which the first page load does not
//! wait for. It is fetched when a visitor points at, presses or focuses a button, or, once
//! a button is in sight and the page is idle, ahead of any of that, so a tap on a phone
//! (where nothing hovers first) finds it ready; never ahead of time on a Save-Data or 2G
//! connection, or with `data-prefetch="false"`.
//!
//! The loader script (`embed.js`) passes a function that imports and starts that module
//! once and resolves to its exports; its `open_sheet` takes over from there. Tests and
//! single-module builds open the sheet in process instead.

use crate::prelude::*;
use crate::shared::context::OpenRequest;
use core::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The name the checkout module exports its entry point under.
pub(crate) const OPEN_EXPORT: &str = "open_sheet";

enum Opener {
    /// `() => Promise<exports of the checkout module>`, from the loader script.
    Module(js_sys::Function),
    #[cfg(feature = "checkout")]
    InProcess(fn(OpenRequest)),
}

crate::shared::local::page_local! {
    static OPENER: RefCell<Option<Opener>> = const { RefCell::new(None) };
    /// The checkout module has arrived and started: a click opens at once.
    static LOADED: Cell<bool> = const { Cell::new(false) };
}

/// Whether a click can open a sheet without waiting for the checkout module.
pub(crate) fn loaded() -> bool {
    LOADED.with(|l| l.get()) || !OPENER.with(|o| matches!(&*o.borrow(), Some(Opener::Module(_))))
}

/// Loads the checkout module (once; a failure may be tried again), then calls `done` with
/// its exports, or with why it could not load. In process (tests), at once.
pub(crate) fn when_loaded(done: impl FnOnce(Result<JsValue, String>) + 'static) {
    #[cfg(feature = "checkout")]
    if in_process().is_some() {
        return done(Ok(JsValue::UNDEFINED));
    }
    let Some(promise) = load() else { return done(Err("no checkout module".into())) };
    crate::button::kit::then(&promise, false, move |loaded, value| {
        match loaded {
            true => {
                LOADED.with(|l| l.set(true));
                done(Ok(value));
            }
            false => done(Err(describe(value))),
        }
        JsValue::UNDEFINED
    });
}

/// Loads the checkout module with `load` (see the module docs).
pub(crate) fn use_module(load: js_sys::Function) {
    OPENER.with(|o| *o.borrow_mut() = Some(Opener::Module(load)));
}

#[cfg(feature = "checkout")]
/// Opens sheets with a function linked into this module (tests, single-module builds).
pub fn use_in_process(open: fn(OpenRequest)) {
    OPENER.with(|o| *o.borrow_mut() = Some(Opener::InProcess(open)));
}

#[cfg(feature = "checkout")]
/// The function that opens sheets in process, if one was given ([`use_in_process`]).
fn in_process() -> Option<fn(OpenRequest)> {
    OPENER.with(|o| match &*o.borrow() {
        Some(Opener::InProcess(open)) => Some(*open),
        _ => None,
    })
}

fn load() -> Option<js_sys::Promise> {
    let load = OPENER.with(|o| match &*o.borrow() {
        Some(Opener::Module(load)) => Some(load.clone()),
        _ => None,
    })?;
    load.call0(&JsValue::NULL).ok()?.dyn_into::<js_sys::Promise>().ok()
}

/// Calls the checkout module's entry point (`exports`, from [`when_loaded`]) with one
/// button's request: `show` opens the sheet, else builds it hidden. In process (tests), the
/// linked function opens it.
pub(crate) fn enter(exports: &JsValue, request: OpenRequest, show: bool) -> Result<(), String> {
    #[cfg(feature = "checkout")]
    if let Some(open) = in_process() {
        open(request);
        return Ok(());
    }
    let entry = js_sys::Reflect::get(exports, &OPEN_EXPORT.into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("the checkout module has no entry point")?;
    entry.call1(&JsValue::NULL, &request.to_js(show)).map(|_| ()).map_err(describe)
}

/// A visitor points at or focuses a button: load the checkout module and build that
/// button's sheet, hidden, so the click only has to show it. A failure is left for the
/// click to report.
pub(crate) fn prepare(request: OpenRequest) {
    if OPENER.with(|o| matches!(&*o.borrow(), Some(Opener::Module(_)))) {
        when_loaded(move |loaded| {
            if let Ok(exports) = loaded {
                let _ = enter(&exports, request, false);
            }
        });
    }
}

crate::shared::local::page_local! {
    /// Watches the page's buttons until one is in sight, then lets go of all of them.
    static SIGHT: Option<web_sys::IntersectionObserver> = {
        let seen = crate::shared::util::callback(|entries, observer| {
            let entries: js_sys::Array = entries.unchecked_into();
            let in_sight = entries.iter().any(|e| e.unchecked_into::<web_sys::IntersectionObserverEntry>().is_intersecting());
            if in_sight {
                observer.unchecked_into::<web_sys::IntersectionObserver>().disconnect();
                seen();
            }
        });
        web_sys::IntersectionObserver::new(seen.unchecked_ref()).ok()
    };
    /// A button has been in sight: later batches need not be watched.
    static SEEN: Cell<bool> = Cell::new(false);
}

/// A button is in sight: the checkout module is fetched once the page is idle (where the
/// connection allows), and later batches need not be watched.
pub(crate) fn seen() {
    if !SEEN.with(|s| s.replace(true)) {
        when_idle(prefetch);
    }
}

/// Fetches the checkout module ahead of a click once one of the page's buttons is in sight
/// and the page is idle, so a tap on a phone, where nothing hovers first, finds it ready.
/// Not on connections that ask to save data or are too slow to spare it. Watches a batch's
/// buttons only until the first one is seen (or the module is there already).
pub(crate) fn prefetch_when_seen(buttons: &js_sys::Array) {
    if buttons.length() == 0 || SEEN.with(|s| s.get()) || LOADED.with(|l| l.get()) || !connection_allows_prefetch() {
        return;
    }
    SIGHT.with(|o| {
        if let Some(observer) = o {
            crate::button::kit::with(|kit| kit.observe(observer, buttons));
        }
    });
}

fn prefetch() {
    if connection_allows_prefetch() {
        // A failure is reported by the click that needs the module, which retries.
        when_loaded(|_| {});
    }
}

/// `navigator.connection` (not in every browser): no prefetch with Save-Data on or on a
/// 2G connection.
fn connection_allows_prefetch() -> bool {
    let navigator = JsValue::from(crate::shared::util::window().navigator());
    let connection = js_sys::Reflect::get(&navigator, &"connection".into()).unwrap_or(JsValue::UNDEFINED);
    if connection.is_undefined() || connection.is_null() {
        return true;
    }
    let get = |key: &str| js_sys::Reflect::get(&connection, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let save_data = get("saveData").as_bool().unwrap_or(false);
    let slow = get("effectiveType").as_string().is_some_and(|t| t.ends_with("2g"));
    !save_data && !slow
}

/// `requestIdleCallback` where there is one, else a short timeout.
fn when_idle(f: fn()) {
    let window = crate::shared::util::window();
    let callback = crate::shared::util::once_js(f);
    let idle = js_sys::Reflect::get(&window, &"requestIdleCallback".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match idle {
        Some(request) => {
            let _ = request.call1(&window, &callback);
        }
        None => {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 200);
        }
    }
}

fn describe(error: JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(error) => error.message().into(),
        None => error.as_string().unwrap_or_else(|| "unknown error".into()),
    }
}
