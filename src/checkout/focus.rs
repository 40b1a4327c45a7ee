//! Moving focus once the view has caught up: a step, a field or a block that just appeared
//! exists in the DOM only after this turn's reactive updates have run.
//!
//! Targets are found by selector inside the sheet's dialog rather than held by node refs:
//! each element type a node ref is made for brings its own copy of the ref's code.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The sheet's dialog, which every step searches for what to focus.
#[derive(Clone, Copy)]
pub struct SheetRoot(NodeRef<leptos::html::Dialog>);

impl SheetRoot {
    /// The sheet being built (provided by [`crate::checkout::sheet::Sheet`]); a view mounted
    /// on its own has no dialog, and finds nothing.
    pub fn current() -> SheetRoot {
        use_context::<SheetRoot>().unwrap_or_else(|| SheetRoot(NodeRef::new()))
    }

    /// Provides `dialog` as the root of the sheet being built.
    pub fn provide(dialog: NodeRef<leptos::html::Dialog>) {
        provide_context(SheetRoot(dialog));
    }

    /// The first element of the sheet matching `selector`.
    pub fn find(self, selector: &str) -> Option<web_sys::Element> {
        self.0.get_untracked()?.query_selector(selector).ok().flatten()
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
