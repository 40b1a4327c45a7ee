//! Watches the page for embeds that arrive later (infinite scroll, client-side navigation)
//! and for embeds that leave it.
//!
//! Added subtrees are collected and scanned once per animation frame, so however many
//! embeds a frame of work adds, they cost one batched lookup.

use crate::button::config::WidgetConfig;
use crate::button::discover::{ATTACHED_ATTR, TWEET_ATTR};
use crate::button::mount::{self, HOST_ATTR};
use crate::prelude::*;
use core::cell::RefCell;
use wasm_bindgen::JsCast;
use web_sys::{Element, MutationObserver, MutationObserverInit};

crate::shared::local::page_local! {
    static QUEUED: RefCell<Option<Vec<Element>>> = const { RefCell::new(None) };
}

/// Queues roots for the next frame's scan; the first one of a frame schedules it.
pub fn queue_scan(config: &Rc<WidgetConfig>, roots: Vec<Element>) {
    let schedule = QUEUED.with(|q| {
        let mut q = q.borrow_mut();
        let first = q.is_none();
        q.get_or_insert_with(Vec::new).extend(roots);
        first
    });
    if !schedule {
        return;
    }
    let config = config.clone();
    crate::shared::util::next_frame(move || {
        let roots = QUEUED.with(|q| q.borrow_mut().take()).unwrap_or_default();
        scan_now(&config, roots);
    });
}

/// Scans now, without waiting for the next frame: the first scan of the page, whose lookup
/// should leave as early as possible.
pub fn scan_now(config: &Rc<WidgetConfig>, roots: Vec<Element>) {
    // A failed lookup is warned about by the scan itself.
    let _ = mount::scan_roots(config, &roots);
}

/// Starts watching the document (and the window's size) for the rest of the page visit.
pub fn watch(config: &Rc<WidgetConfig>) {
    crate::button::placement::follow_resizes(mount::mounted_pairs);
    let Some(root) = crate::shared::util::window().document().and_then(|d| d.document_element()) else {
        return;
    };
    let config = config.clone();
    let callback = crate::shared::util::callback(move |records, _| {
        let records: js_sys::Array = records.unchecked_into();
        // Our own hosts hold no embeds in the light DOM: the kit leaves them out.
        let Some(Ok(changes)) = crate::button::kit::with(|kit| {
            kit.changes(&records, &crate::shared::names::js(HOST_ATTR), &crate::shared::names::js(ATTACHED_ATTR))
        }) else {
            return;
        };
        let removed = changes.get(0).is_truthy();
        let added = crate::button::kit::elements(&changes.get(1).unchecked_into());
        // Releases first: widgets.js swaps a blockquote for its iframe in one mutation, and
        // the button must follow the swap rather than be attached twice.
        if removed {
            mount::release_detached(&crate::button::kit::elements(&changes.get(2).unchecked_into()));
        }
        if !added.is_empty() {
            queue_scan(&config, added);
        }
    });
    let Ok(observer) = MutationObserver::new(callback.unchecked_ref()) else {
        return;
    };
    let init = MutationObserverInit::new();
    init.set_child_list(true);
    init.set_subtree(true);
    // A single-page app that shows another tweet in the same element changes only this.
    init.set_attribute_filter(&js_sys::Array::of1(&crate::shared::names::js(TWEET_ATTR)));
    // The observer, and its callback, live as long as the page.
    let _ = observer.observe_with_options(&root, &init);
}
