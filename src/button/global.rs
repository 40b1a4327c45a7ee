//! `window.tweetbuy`: the widget's only global name, with `version` and `scan(root?)`.

use crate::button::config::WidgetConfig;
use crate::prelude::Rc;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The global's name on `window`.
pub const GLOBAL: &str = "tweetbuy";

/// Defines `window.tweetbuy`. Returns false when it already exists (the script was
/// included twice), in which case this copy must not start. Only `window`'s own property
/// counts: an element with `id="tweetbuy"` is also `window.tweetbuy` (named access, from
/// window's prototype chain), and it is the page's heading, not another copy.
pub fn install(config: &Rc<WidgetConfig>) -> bool {
    let window = crate::shared::util::window();
    // `Object.prototype.hasOwnProperty`, not js-sys's suggested `Object.hasOwn`, which
    // browsers older than Safari 15.4 lack: there the module would not start at all.
    #[allow(deprecated)]
    if window.has_own_property(&GLOBAL.into()) {
        return false;
    }
    let api = Object::new();
    let _ = Reflect::set(&api, &"version".into(), &env!("CARGO_PKG_VERSION").into());
    let config = config.clone();
    // `tweetbuy.scan(root?)`: rescans a subtree (or the document) for single-page apps and
    // resolves to the number of buttons attached.
    let scan = crate::shared::util::function(move |root, _| {
        let root = root
            .dyn_into::<web_sys::Element>()
            .ok()
            .or_else(|| crate::shared::util::window().document()?.document_element());
        let scanned = root.and_then(|root| crate::button::mount::scan_roots(&config, &[root]));
        scanned.unwrap_or_else(|| Promise::resolve(&JsValue::from(0))).into()
    });
    let _ = Reflect::set(&api, &"scan".into(), &scan);
    let _ = Object::freeze(&api);
    Reflect::set(&window, &GLOBAL.into(), &api).unwrap_or(false)
}
