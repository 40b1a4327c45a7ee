//! The checkout module's side of a click: mounts the sheet into the button's shadow root
//! the first time (ahead of the click when the visitor points at or focuses the button),
//! and opens it again on later clicks with what the visitor typed still there. The button
//! module ([`crate::button::mount`]) owns the host; this module only adds the sheet's view to its
//! root and hands focus back to the button when the sheet closes.

use crate::checkout::bind::bind;
use crate::checkout::form::CheckoutForm;
use crate::checkout::mounted::{Opened, OPENED};
use crate::checkout::sheet::Sheet;
use crate::shared::context::OpenRequest;
use crate::shared::events::{self, EmbedCtx, WidgetEvent};
use leptos::prelude::*;
use std::cell::Cell;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// A mounted sheet's two switches, handed out of the mounting closure.
#[derive(Clone, Copy)]
struct Visibility {
    /// Shown to the visitor.
    open: RwSignal<bool>,
    /// Built ahead of a click, hidden ([`prepare`]).
    ready: RwSignal<bool>,
}

thread_local! {
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
}

/// Opens the sheet for one button (the checkout module's `open_sheet`).
pub fn open(request: OpenRequest) {
    mount(request, true);
}

/// Builds the sheet for one button, hidden, when a visitor points at or focuses it (the
/// checkout module's `open_sheet` with `show` false): the click then only shows it. It
/// asks the server nothing and loads no frame until it is shown.
pub fn prepare(request: OpenRequest) {
    mount(request, false);
}

fn mount(request: OpenRequest, show: bool) {
    let OpenRequest { host, embed, offer_json, ctx } = request;
    // Sheets whose button left the page go with it.
    OPENED.with(|o| o.borrow_mut().retain(|s| s.host.is_connected()));
    // One sheet waits built at a time: a pointer passing over many buttons does not leave
    // a hidden sheet under each (what was typed is kept either way).
    OPENED.with(|o| {
        for other in o.borrow().iter().filter(|s| s.host != host && !s.open.get_untracked()) {
            if other.ready.get_untracked() {
                other.ready.set(false);
            }
        }
    });
    let reopened = OPENED.with(|o| {
        let o = o.borrow();
        let sheet = o.iter().find(|s| s.host == host)?;
        // widgets.js may have replaced the embed since the last open.
        events::register(sheet.id, &embed, &host);
        match show {
            true => sheet.open.set(true),
            false => sheet.ready.set(true),
        }
        Some(())
    });
    if reopened.is_some() {
        return;
    }
    let Some(offer) = crate::checkout::wire::offer_from_text(&offer_json) else {
        crate::shared::util::warn("tweetbuy: the offer could not be read");
        return;
    };
    let Some(shadow) = host.shadow_root() else { return };
    let Some(root) = shadow.query_selector(".tb-root").ok().flatten() else { return };
    // The whole widget's stylesheet now, not just the button's.
    crate::shared::styles::adopt(&shadow);
    let id = NEXT_ID.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    events::register(id, &embed, &host);
    let embed_ctx =
        EmbedCtx { host_id: id, tweet_id: offer.tweet_id.to_string(), product_id: offer.product_id.clone() };
    let locale = crate::shared::context::embed_locale(&embed, &ctx.locale);
    let opened: std::rc::Rc<Cell<Option<Visibility>>> = Default::default();
    let view = leptos::mount::mount_to(root.unchecked_into::<HtmlElement>(), {
        let opened = opened.clone();
        let host = host.clone();
        move || {
            provide_context(ctx);
            provide_context(embed_ctx.clone());
            crate::checkout::focus::SheetRoot::provide(id);
            // One locale for every step of every session of this sheet.
            provide_context(crate::shared::i18n::SheetLocale::new(locale));
            let open = RwSignal::new(show);
            let ready = RwSignal::new(!show);
            // Each close ends a session: the next sheet is a new one, at the product again,
            // even when a hover prepares it before the closed one has been taken down.
            let session = RwSignal::new(0i64);
            let built = Memo::new(move |_| open.get() || ready.get());
            opened.set(Some(Visibility { open, ready }));
            let form = RwSignal::new(CheckoutForm::for_offer(&offer));
            let offer = StoredValue::new(offer);
            let close = Callback::new(move |_: ()| {
                open.set(false);
                ready.set(false);
                session.update(|n| *n += 1);
                events::emit(&embed_ctx, WidgetEvent::Close);
                return_focus(&host);
            });
            bind(move || {
                // A new session builds a new sheet; showing a prepared one does not.
                built.get().then(|| {
                    session.track();
                    view! { <Sheet offer=offer.get_value() form=form on_close=close shown=open /> }
                })
            })
        }
    });
    if let Some(Visibility { open, ready }) = opened.get() {
        OPENED.with(|o| o.borrow_mut().push(Opened { host, id, open, ready, _view: Box::new(view) }));
    }
}

/// The sheet closed: the button says so and takes focus back.
fn return_focus(host: &Element) {
    let button = host.shadow_root().and_then(|r| r.query_selector(".tb-buy").ok().flatten());
    if let Some(button) = button {
        let _ = button.set_attribute("aria-expanded", "false");
        // Focus coming back is not a visitor's intent to buy again: no sheet is built for it.
        let _ = button.set_attribute(crate::shared::context::RETURNING_ATTR, "");
        let _ = button.unchecked_ref::<HtmlElement>().focus();
        let _ = button.remove_attribute(crate::shared::context::RETURNING_ATTR);
    }
}
