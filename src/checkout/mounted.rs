//! The sheets mounted on this page, one under each button a visitor pointed at or clicked.
//!
//! Kept apart from [`crate::checkout::host`], which mounts them: every step finds its sheet's
//! dialog here (through [`crate::checkout::focus`]), and the host uses every step.

use leptos::prelude::*;
use std::any::Any;
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// A sheet mounted under one button.
pub(crate) struct Opened {
    pub(crate) host: Element,
    pub(crate) id: u32,
    pub(crate) open: RwSignal<bool>,
    /// Built ahead of a click, hidden ([`crate::checkout::host::prepare`]).
    pub(crate) ready: RwSignal<bool>,
    /// Dropping it unmounts the view and disposes its reactive owner.
    pub(crate) _view: Box<dyn Any>,
}

thread_local! {
    pub(crate) static OPENED: RefCell<Vec<Opened>> = const { RefCell::new(Vec::new()) };
}

/// The mounted sheet's dialog under the host `id` gave ([`crate::checkout::focus::SheetRoot`]):
/// not the button module's stand-in, which may still be there.
pub(crate) fn sheet_dialog(id: u32) -> Option<web_sys::HtmlDialogElement> {
    let host = OPENED.with(|o| o.borrow().iter().find(|s| s.id == id).map(|s| s.host.clone()))?;
    let selector = format!("dialog.tb-sheet:not(.{})", crate::shared::context::WAITING_CLASS);
    host.shadow_root()?.query_selector(&selector).ok()??.dyn_into().ok()
}
