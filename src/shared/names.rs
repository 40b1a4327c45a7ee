//! Attribute and other names as JS strings made once per page visit.
//!
//! A `&str` handed to the browser is copied out of wasm memory and decoded into a new JS
//! string on every call. A page with a thousand buttons decoded 36,000 strings while the
//! buttons went on, 30,000 of them the same few dozen names ("data-theme",
//! "data-tweetbuy-host", …). A name passed through [`js`] is decoded once and kept; values
//! that differ per button (a tweet id, a label) still cross as text. `getAttribute` is the
//! DOM's own and never throws.

use crate::prelude::*;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

#[wasm_bindgen]
extern "C" {
    /// Any element, for calls by name.
    type Dom;
    #[wasm_bindgen(method, js_name = getAttribute)]
    fn get_attribute(this: &Dom, name: &JsValue) -> Option<String>;
}

fn dom(object: &JsValue) -> &Dom {
    object.unchecked_ref()
}

crate::shared::local::page_local! {
    /// Every name used so far, by the address and length of its `&'static str`.
    static KEPT: RefCell<Vec<((usize, usize), JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// `name` as a JS string, decoded on its first use in the page visit.
pub(crate) fn js(name: &'static str) -> JsValue {
    let key = (name.as_ptr() as usize, name.len());
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        if let Some((_, value)) = kept.iter().find(|(k, _)| *k == key) {
            return value.clone();
        }
        let value = JsValue::from_str(name);
        kept.push((key, value.clone()));
        value
    })
}

/// An element's attribute by a kept name.
pub(crate) fn attr(element: &Element, name: &'static str) -> Option<String> {
    dom(element).get_attribute(&js(name))
}
