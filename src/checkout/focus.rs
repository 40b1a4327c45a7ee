//! Moving focus once the view has caught up: a step, a field or a block that just appeared
//! exists in the DOM only after this turn's reactive updates have run.
//!
//! Targets are found by selector inside the sheet's dialog rather than held by node refs:
//! each element type a node ref is made for brings its own copy of the ref's code.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The sheet of one button (the id its host gave it, [`crate::checkout::mounted`]), which
/// every step searches for what to focus.
#[derive(Clone, Copy)]
pub struct SheetRoot(u32);

impl SheetRoot {
    /// The sheet being built (provided by [`crate::checkout::host`]); a view mounted on its
    /// own has no sheet, and finds nothing.
    pub fn current() -> SheetRoot {
        use_context::<SheetRoot>().unwrap_or(SheetRoot(0))
    }

    /// Provides the sheet of host `host_id` to the views built under it.
    pub fn provide(host_id: u32) {
        provide_context(SheetRoot(host_id));
    }

    /// The sheet's dialog, once mounted.
    pub fn dialog(self) -> Option<web_sys::HtmlDialogElement> {
        crate::checkout::mounted::sheet_dialog(self.0)
    }

    /// The first element of the sheet matching `selector`.
    pub fn find(self, selector: &str) -> Option<web_sys::Element> {
        self.dialog()?.query_selector(selector).ok().flatten()
    }
}

/// Focuses, right after the current render, the element the first of `selectors` that
/// matches anything finds in the sheet.
pub fn focus_soon(root: SheetRoot, selectors: &[&str]) {
    let selectors: Vec<String> = selectors.iter().map(|s| (*s).to_owned()).collect();
    leptos::task::spawn_local(async move {
        crate::shared::util::sleep(0).await;
        let target = selectors.iter().find_map(|s| root.find(s));
        if let Some(element) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
}
