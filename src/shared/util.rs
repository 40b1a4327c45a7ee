//! Small browser helpers shared by the feature modules.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Logs one warning to the console; the host page never sees an exception from us.
pub(crate) fn warn(message: &str) {
    web_sys::console::warn_1(&message.into());
}

/// A random identifier from the browser's CSPRNG (`crypto.randomUUID()`), used for
/// idempotency keys and frame request ids.
pub(crate) fn random_id() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("{}", js_sys::Math::random().to_bits()))
}

/// Resolves after `ms` milliseconds (a `setTimeout` promise).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Runs `f` in the next animation frame, before it paints.
pub(crate) fn next_frame(f: impl FnOnce() + 'static) {
    let callback = wasm_bindgen::closure::Closure::once_into_js(f);
    if let Some(window) = web_sys::window() {
        let _ = window.request_animation_frame(callback.unchecked_ref());
    }
}

/// A decimal number, or `None`. In the browser through `parseFloat`, so the module carries
/// no float parser of its own; natively (unit tests) through Rust's.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    #[cfg(target_arch = "wasm32")]
    {
        Some(js_sys::Number::parse_float(text)).filter(|n| n.is_finite())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.parse().ok().filter(|n: &f64| n.is_finite())
    }
}
