//! Moving focus once the view has caught up: a step, a field or a block that just appeared
//! exists in the DOM only after this turn's reactive updates have run.

use wasm_bindgen::JsCast;

/// Focuses what `target` finds, right after the current render.
pub fn focus_soon(target: impl FnOnce() -> Option<web_sys::Element> + 'static) {
    leptos::task::spawn_local(async move {
        crate::shared::util::sleep(0).await;
        if let Some(element) = target().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
}
