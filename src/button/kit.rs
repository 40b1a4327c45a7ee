//! The DOM work of a batch of buttons, handed to the loader's kit in one call per step.
//!
//! A call from wasm into the browser costs about a microsecond (the call, its arguments, a
//! table slot for every object it returns), and a button took some sixty of them. The kit
//! (`kit.js` beside this file, which the build appends to this module's glue; the loader
//! passes it to [`use_kit`] as it starts the module) carries out a whole batch per call: it
//! decides nothing. This module decides what each button is, with which names and values,
//! and encodes it.

use crate::prelude::*;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The object `buttonKit(rules)` returns (`kit.js` says what each call does).
    pub(crate) type Kit;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn find(
        this: &Kit,
        root: &web_sys::Element,
        selector: &str,
        attrs: &str,
    ) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn paths(this: &Kit, ids: &str, visitor: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn ask(
        this: &Kit,
        urls: &js_sys::Array,
        sent: &js_sys::Array,
        timeout_ms: i32,
        retry_in: &JsValue,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn offers(this: &Kit, answers: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_name = then)]
    fn then_call(this: &Kit, promise: &JsValue, pausing: bool, f: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn mark(
        this: &Kit,
        embeds: &js_sys::Array,
        ids: &JsValue,
        attached_attr: &JsValue,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn listen(
        this: &Kit,
        host_attr: &str,
        button_selector: &str,
        types: &str,
        listener: &JsValue,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn mount(
        this: &Kit,
        embeds: &js_sys::Array,
        rows: &str,
        protos: &js_sys::Array,
        names: &str,
        sheets: &js_sys::Array,
    ) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn follow(this: &Kit, embed: &web_sys::Element, host: &web_sys::Element) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn leave(this: &Kit, host: &web_sys::Element, hidden_attr: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn measure(
        this: &Kit,
        embeds: &js_sys::Array,
        hosts: &js_sys::Array,
        next_within: f64,
    ) -> Result<js_sys::Float64Array, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn apply(
        this: &Kit,
        embeds: &js_sys::Array,
        hosts: &js_sys::Array,
        sizes: &js_sys::Float64Array,
        hidden_attr: &JsValue,
        floating_attr: &JsValue,
        floating: &JsValue,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn observe(this: &Kit, observer: &JsValue, targets: &js_sys::Array) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn sight(this: &Kit, entries: &js_sys::Array) -> Result<js_sys::Float64Array, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn settle(
        this: &Kit,
        entries: &js_sys::Array,
        chosen: &[u32],
        observer: &JsValue,
        attr: &JsValue,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn timing(
        this: &Kit,
        name: &str,
        start: f64,
        duration: f64,
        count: f64,
        reserve_ms: f64,
        mount_ms: f64,
        memory: &JsValue,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn changes(
        this: &Kit,
        records: &js_sys::Array,
        host_attr: &JsValue,
        attached_attr: &JsValue,
    ) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn copies(
        this: &Kit,
        node: &web_sys::Element,
        host_attr: &JsValue,
        attached_attr: &JsValue,
    ) -> Result<bool, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn withdrawn(this: &Kit, embeds: &js_sys::Array) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn resized(this: &Kit, entries: &js_sys::Array) -> Result<js_sys::Array, JsValue>;
}

crate::shared::local::page_local! {
    static KIT: RefCell<Option<Kit>> = const { RefCell::new(None) };
}

/// Keeps the kit the loader (or a test) passes. Anything without a `mount` function is
/// refused: then no button is attached, and the page is left as it was.
pub fn use_kit(kit: JsValue) {
    let has_mount = js_sys::Reflect::get(&kit, &JsValue::from_str("mount")).is_ok_and(|f| f.is_function());
    KIT.with(|k| *k.borrow_mut() = has_mount.then(|| kit.unchecked_into()));
}

/// Runs `f` with the kit, if the module was given one.
pub(crate) fn with<R>(f: impl FnOnce(&Kit) -> R) -> Option<R> {
    KIT.with(|k| k.borrow().as_ref().map(f))
}

/// Calls `f(true, value)` once `promise` resolves, or `f(false, error)` once it rejects
/// (after the page has had a turn, with `pausing`): the kit's promise of what `f` returns,
/// `None` without a kit. The button module's waits are such callbacks, not futures: with
/// its scan, lookup and checkout loading as async functions, the state machines and the
/// executor that polls them were 4 KB brotli (11 %) of its wasm.
pub(crate) fn then(
    promise: &JsValue,
    pausing: bool,
    f: impl FnOnce(bool, JsValue) -> JsValue + 'static,
) -> Option<js_sys::Promise> {
    let f = crate::shared::util::once_function(move |settled, value| f(settled.is_truthy(), value));
    with(|kit| kit.then_call(promise, pausing, &f).ok()).flatten()
}

/// Separates the records of a text that crosses between the module and the kit ([`Rows`],
/// the kit's `find`).
pub(crate) const RECORD_END: char = '\u{1e}';
/// Separates the fields of a record.
pub(crate) const FIELD_END: char = '\u{1f}';
/// A field the kit read as absent (an attribute the element does not have).
pub(crate) const ABSENT: &str = "\u{1d}";

/// Records of text fields in one string, which crosses into the browser as one decoding
/// however many buttons it describes (the kit splits it). A field loses any separator it
/// held: they are control characters, which have no place in a label or an id.
#[derive(Default)]
pub(crate) struct Rows {
    text: String,
}

impl Rows {
    /// Adds one record.
    pub(crate) fn push(&mut self, fields: &[&str]) {
        if !self.text.is_empty() {
            self.text.push(RECORD_END);
        }
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.text.push(FIELD_END);
            }
            // Looked for byte by byte (both separators are ASCII, which no byte of another
            // character's UTF-8 can be): a scan for either char decodes every character,
            // a quarter of the rows' time on a page of a thousand buttons.
            match field.bytes().any(|b| b == RECORD_END as u8 || b == FIELD_END as u8) {
                true => self.text.extend(field.split([RECORD_END, FIELD_END])),
                false => self.text.push_str(field),
            }
        }
    }

    /// The records, for the kit.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}

/// A JS array of the elements, in order.
pub(crate) fn array(elements: &[web_sys::Element]) -> js_sys::Array {
    let array = js_sys::Array::new_with_length(elements.len() as u32);
    for (i, element) in elements.iter().enumerate() {
        array.set(i as u32, element.into());
    }
    array
}

/// The elements of a JS array the kit returned.
pub(crate) fn elements(array: &js_sys::Array) -> Vec<web_sys::Element> {
    (0..array.length()).map(|i| array.get(i).unchecked_into()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_join_records_and_fields_and_drop_separators_inside_a_field() {
        let mut rows = Rows::default();
        assert_eq!(rows.as_str(), "");
        rows.push(&["0", "light", "Buy · $30.00", "1528000000000000001", "red-tee"]);
        rows.push(&["1", "dark", "Get\u{1f} tickets\u{1e}", "1528000000000000003", "gig"]);
        assert_eq!(
            rows.as_str(),
            "0\u{1f}light\u{1f}Buy · $30.00\u{1f}1528000000000000001\u{1f}red-tee\u{1e}\
             1\u{1f}dark\u{1f}Get tickets\u{1f}1528000000000000003\u{1f}gig"
        );
        rows.push(&["2", "light", "\u{1e}€\u{1f}5 · ¡Ya!\u{1e}", "1528000000000000004", "ñu"]);
        assert!(
            rows.as_str().ends_with("\u{1e}2\u{1f}light\u{1f}€5 · ¡Ya!\u{1f}1528000000000000004\u{1f}ñu"),
            "separators next to characters of several bytes go, the characters stay whole"
        );
        let records: Vec<Vec<&str>> = rows.as_str().split(RECORD_END).map(|r| r.split(FIELD_END).collect()).collect();
        assert_eq!(records.len(), 3);
        assert!(records.iter().all(|r| r.len() == 5), "every record keeps its five fields");
    }
}
