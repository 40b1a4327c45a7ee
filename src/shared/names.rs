//! DOM calls whose attribute, property, event and tag names are JS strings made once.
//!
//! A `&str` handed to the browser is copied out of wasm memory and decoded into a new JS
//! string on every call. A page with a thousand buttons decoded 36,000 strings while the
//! buttons went on, 30,000 of them the same few dozen names ("important", "margin-left",
//! "data-tweetbuy-host", "click", …). Through these calls each name is decoded once per page
//! visit and kept; values that differ per button (a tweet id, a label) still cross as text.
//! The calls are the DOM's own; none of them throws for the names used here.

use crate::prelude::*;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CssStyleDeclaration, Element, EventTarget};

#[wasm_bindgen]
extern "C" {
    /// Any DOM object, for calls by name (an element, a style declaration, an event target).
    type Dom;
    #[wasm_bindgen(method, js_name = getAttribute)]
    fn get_attribute(this: &Dom, name: &JsValue) -> Option<String>;
    #[wasm_bindgen(method, js_name = hasAttribute)]
    fn has_attribute(this: &Dom, name: &JsValue) -> bool;
    #[wasm_bindgen(method, js_name = setAttribute)]
    fn set_attribute_to(this: &Dom, name: &JsValue, value: &JsValue);
    #[wasm_bindgen(method, js_name = removeAttribute)]
    fn remove_attribute(this: &Dom, name: &JsValue);
    #[wasm_bindgen(method, js_name = setProperty)]
    fn set_property(this: &Dom, name: &JsValue, value: &str, priority: &JsValue);
    #[wasm_bindgen(method, js_name = setProperty)]
    fn set_property_to(this: &Dom, name: &JsValue, value: &JsValue, priority: &JsValue);
    #[wasm_bindgen(method, js_name = createElement)]
    fn create_element(this: &Dom, tag: &JsValue) -> Element;
    #[wasm_bindgen(method, js_name = querySelector)]
    fn query_selector(this: &Dom, selectors: &JsValue) -> Option<Element>;
    #[wasm_bindgen(method, js_name = getPropertyValue)]
    fn get_property_value(this: &Dom, name: &JsValue) -> String;
    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &Dom, kind: &JsValue, listener: &js_sys::Function);
}

fn dom(object: &JsValue) -> &Dom {
    object.unchecked_ref()
}

crate::shared::local::page_local! {
    /// Every name used so far, by the address and length of its `&'static str`.
    static KEPT: RefCell<Vec<((usize, usize), JsValue)>> = RefCell::new(Vec::new());
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

/// Whether an element has the attribute.
pub(crate) fn has_attr(element: &Element, name: &'static str) -> bool {
    dom(element).has_attribute(&js(name))
}

/// Sets an element's attribute to one of a few values (a theme), kept like the names.
pub(crate) fn set_attr_kept(element: &Element, name: &'static str, value: &'static str) {
    dom(element).set_attribute_to(&js(name), &js(value));
}

/// Sets an element's attribute to a JS string the caller made (to set it on two elements
/// from one decoding).
pub(crate) fn set_attr_to(element: &Element, name: &'static str, value: &JsValue) {
    dom(element).set_attribute_to(&js(name), value);
}

/// A new element of the document.
pub(crate) fn create(document: &web_sys::Document, tag: &'static str) -> Element {
    dom(document).create_element(&js(tag))
}

/// The first element under `element` that matches a selector known to be valid.
pub(crate) fn query(element: &Element, selectors: &'static str) -> Option<Element> {
    dom(element).query_selector(&js(selectors))
}

/// Removes an element's attribute.
pub(crate) fn remove_attr(element: &Element, name: &'static str) {
    dom(element).remove_attribute(&js(name));
}

/// Sets an inline style property with `!important`, which hostile page rules cannot undo.
pub(crate) fn set_important(style: &CssStyleDeclaration, name: &'static str, value: &str) {
    dom(style).set_property(&js(name), value, &js("important"));
}

/// [`set_important`] to one of a few values, kept like the names.
pub(crate) fn set_important_kept(style: &CssStyleDeclaration, name: &'static str, value: &'static str) {
    dom(style).set_property_to(&js(name), &js(value), &js("important"));
}

/// Sets an inline style property (a custom property, say) without priority.
pub(crate) fn set_style(style: &CssStyleDeclaration, name: &'static str, value: &str) {
    dom(style).set_property(&js(name), value, &js(""));
}

/// An inline style property's value.
pub(crate) fn style_value(style: &CssStyleDeclaration, name: &'static str) -> String {
    dom(style).get_property_value(&js(name))
}

/// Adds an event listener.
pub(crate) fn listen(target: &EventTarget, kind: &'static str, listener: &js_sys::Function) {
    dom(target).add_event_listener(&js(kind), listener);
}
