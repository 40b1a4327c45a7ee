//! Small browser helpers shared by the feature modules.

use crate::prelude::Box;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The page's `window`, read once. `web_sys::window()` looks for the global object
    /// through `globalThis`, `self`, `window` and `global` (four imports and the code to try
    /// them, in the module every page loads); the widget only ever runs in a page.
    #[wasm_bindgen(thread_local_v2, js_name = window)]
    static WINDOW: web_sys::Window;
}

/// The page's `window`.
pub(crate) fn window() -> web_sys::Window {
    WINDOW.with(web_sys::Window::clone)
}

/// Logs one warning to the console; the host page never sees an exception from us.
pub(crate) fn warn(message: &str) {
    web_sys::console::warn_1(&message.into());
}

/// Resolves after `ms` milliseconds (a `setTimeout` promise).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// `f` as a JS function called at most once, of (up to) two arguments, that answers with
/// its value. Every such function of the button module (the kit's `then`, the next frame,
/// an idle callback) is of this one boxed closure type, so one copy of wasm-bindgen's glue
/// serves them all.
pub(crate) fn once_function(f: impl FnOnce(JsValue, JsValue) -> JsValue + 'static) -> JsValue {
    let f: Box<dyn FnOnce(JsValue, JsValue) -> JsValue> = Box::new(f);
    wasm_bindgen::closure::Closure::once_into_js(f)
}

/// `f` as a JS function called at most once, its arguments and value unused ([`once_function`]).
pub(crate) fn once_js(f: impl FnOnce() + 'static) -> JsValue {
    once_function(move |_, _| {
        f();
        JsValue::UNDEFINED
    })
}

/// `f` as a JS function of (up to) two arguments that answers with its value, called any
/// number of times, that lives as long as the page. Every callback of the button module
/// (observers, listeners, the page's `tweetbuy.scan`, the lookup's retry rule) is of this
/// one boxed closure type, so one copy of wasm-bindgen's closure glue serves them all.
pub(crate) fn function(f: impl Fn(JsValue, JsValue) -> JsValue + 'static) -> JsValue {
    let f: Box<dyn Fn(JsValue, JsValue) -> JsValue> = Box::new(f);
    wasm_bindgen::closure::Closure::wrap(f).into_js_value()
}

/// [`function`] for a callback whose value nobody reads.
pub(crate) fn callback(f: impl Fn(JsValue, JsValue) + 'static) -> JsValue {
    function(move |a, b| {
        f(a, b);
        JsValue::UNDEFINED
    })
}

/// Runs `f` in the next animation frame, before it paints.
pub(crate) fn next_frame(f: impl FnOnce() + 'static) {
    let _ = window().request_animation_frame(once_js(f).unchecked_ref());
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

/// `base` to the power `exponent`: `Math.pow` in the browser (`core` has no float maths and
/// the button module links no std), Rust's natively (unit tests).
pub(crate) fn pow(base: f64, exponent: f64) -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Math::pow(base, exponent)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        base.powf(exponent)
    }
}

/// `n` in decimal digits, as `n.to_string()` writes it, without the formatting machinery
/// that links (its table of digit pairs and writer: 0.2 KB brotli of the button module).
pub(crate) fn decimal(n: u32) -> alloc::string::String {
    let (mut text, mut rest) = (alloc::string::String::new(), n);
    loop {
        text.insert(0, char::from(b'0' + (rest % 10) as u8));
        rest /= 10;
        if rest == 0 {
            break text;
        }
    }
}

/// The nearest whole number (halves away from zero), without std's float maths.
pub(crate) fn round(value: f64) -> f64 {
    let whole = value as i64 as f64;
    match value - whole {
        d if d >= 0.5 => whole + 1.0,
        d if d <= -0.5 => whole - 1.0,
        _ => whole,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rounds_halves_away_from_zero() {
        for (value, rounded) in
            [(0.0, 0.0), (0.49, 0.0), (0.5, 1.0), (254.5, 255.0), (-0.5, -1.0), (-1.2, -1.0), (7.0, 7.0)]
        {
            assert_eq!(super::round(value), rounded, "{value}");
            assert_eq!(super::round(value), f64::round(value), "as std rounds {value}");
        }
    }
}
