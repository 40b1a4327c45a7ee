//! The modal sheet that walks from product to checkout to confirmation.
//!
//! A native `<dialog>` opened with `showModal()`: it sits in the top layer above anything
//! the host page does with z-index or transforms, makes the page inert behind it, traps
//! focus and closes on Escape. Below 600 px wide it is a full-width bottom sheet (CSS).
//!
//! While it is open the offer is live: stock and availability come fresh from the server
//! ([`crate::checkout::live`]), and a time-limited sale counts down.

use crate::checkout::bind::bind;
use crate::checkout::bind::handler;
use crate::checkout::confirmation::Confirmation;
use crate::checkout::details::Checkout;
use crate::checkout::focus::{focus_soon, SheetRoot};
use crate::checkout::form::CheckoutForm;
use crate::checkout::live;
use crate::checkout::product::{ProductSheet, SaleNotice};
use crate::shared::context::widget_ctx;
use crate::shared::events::{self, EmbedCtx, WidgetEvent};
use crate::shared::i18n::Key;
use leptos::prelude::*;
use tweetbuy_core::{Offer, OrderReceipt};
use wasm_bindgen::JsCast;

#[cfg(test)]
mod tests {
    use super::wrap_focus;

    #[test]
    fn tab_wraps_at_both_ends_and_nowhere_else() {
        assert_eq!(wrap_focus(5, Some(4), false), Some(0), "last → first");
        assert_eq!(wrap_focus(5, Some(0), true), Some(4), "first ← last");
        assert_eq!(wrap_focus(5, Some(2), false), None, "the browser moves it");
        assert_eq!(wrap_focus(5, Some(2), true), None);
        assert_eq!(wrap_focus(5, None, false), Some(0), "focus on the dialog itself");
        assert_eq!(wrap_focus(0, None, false), None);
    }
}

/// Where the visitor is in the purchase.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Product,
    Checkout,
    Confirmed(Box<OrderReceipt>),
}

/// The element that takes focus when a step appears: the one marked `data-tb-focus`, unless
/// it cannot take it (Continue, disabled while what was chosen is sold out, or hidden beside
/// saved info); then the sheet's title.
const FOCUS_SELECTORS: [&str; 2] = ["[data-tb-focus]:not(:disabled):not([hidden])", "#tb-title"];

/// What can take focus by Tab inside the sheet, in order.
const TABBABLE: &str = "button:not([disabled]), input:not([disabled]):not([type=radio]), \
     input[type=radio]:checked:not([disabled]), select:not([disabled]), iframe, [tabindex]:not([tabindex='-1'])";

/// Where Tab (or Shift+Tab) must wrap to, given the sheet's tabbable elements and the
/// index of the focused one: `Some(index)` to move focus there, `None` to let Tab be.
pub fn wrap_focus(count: usize, focused: Option<usize>, backwards: bool) -> Option<usize> {
    if count == 0 {
        return None;
    }
    match (focused, backwards) {
        (None, false) => Some(0),
        (None, true) => Some(count - 1),
        (Some(0), true) => Some(count - 1),
        (Some(i), false) if i + 1 == count => Some(0),
        _ => None,
    }
}

/// Keeps Tab inside the dialog: from the last element to the first and back. The native
/// modal dialog makes the page inert, but would let focus leave for the browser's own UI.
fn trap_tab(dialog: &web_sys::HtmlDialogElement, ev: &web_sys::KeyboardEvent) {
    if ev.key() != "Tab" || ev.alt_key() || ev.ctrl_key() || ev.meta_key() {
        return;
    }
    let Ok(nodes) = dialog.query_selector_all(TABBABLE) else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|el| el.get_client_rects().length() > 0)
        .collect();
    let active = dialog.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok().and_then(|r| r.active_element());
    let focused = active.and_then(|a| items.iter().position(|el| *el == *a.unchecked_ref::<web_sys::HtmlElement>()));
    if let Some(target) = wrap_focus(items.len(), focused, ev.shift_key()) {
        ev.prevent_default();
        let _ = items[target].focus();
    }
}

/// Sets the sheet's scroll padding to its sticky header's height as it is now, on every
/// focus, before the browser scrolls the focused control into view: a long title wraps the
/// header onto more lines than the stylesheet's padding allows for, and a control would
/// otherwise be scrolled to just under it, hidden.
fn pad_below_header(dialog: &web_sys::HtmlDialogElement) {
    let header =
        dialog.query_selector(".tb-header").ok().flatten().and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(header) = header {
        let _ = web_sys::HtmlElement::style(dialog)
            .set_property("scroll-padding-top", &format!("{}px", header.offset_height()));
    }
}

/// The product / checkout / confirmation dialog for one offer.
#[component]
pub fn Sheet(
    /// The offer being bought, as the lookup gave it; refreshed live while open.
    offer: Offer,
    /// What the visitor typed; owned by the button so it survives closing the sheet.
    form: RwSignal<CheckoutForm>,
    /// Called when the visitor closes the sheet (button, Escape).
    on_close: Callback<()>,
    /// Whether the dialog is shown. A sheet built ahead of the click (on hover or focus,
    /// see [`crate::checkout::host::prepare`]) waits hidden, and a click only has to show it;
    /// the live refresh and the vault's frames start when it is first shown.
    shown: RwSignal<bool>,
) -> impl IntoView {
    let ctx = widget_ctx();
    let locale = crate::shared::i18n::use_locale();
    let root = SheetRoot::current();
    // Effects first run once the view is mounted: the dialog is there to be found.
    crate::checkout::bind::effect(move |_| {
        let show = shown.get();
        if let Some(d) = root.dialog() {
            if show && !d.open() {
                let _ = d.show_modal();
                // Where showModal puts focus in Chromium. WebKit (WebKitGTK 2.50) shows a
                // sheet built ahead of the click, hidden, with focus on nothing: behind the
                // modal dialog a keyboard user could reach nothing but by Tab.
                if let Some(close) = root.find(".tb-close") {
                    let _ = close.unchecked_ref::<web_sys::HtmlElement>().focus();
                }
            }
        }
    });
    // Stored, so the emitting closure is Copy and can be used from several handlers.
    let embed = StoredValue::new(use_context::<EmbedCtx>());
    let emit = move |event: WidgetEvent| {
        embed.with_value(|embed| {
            if let Some(embed) = embed {
                events::emit(embed, event);
            }
        })
    };
    // Leave the modal state first, so the page behind is no longer inert and the Buy button
    // can take focus back.
    let close = Callback::new(move |_: ()| {
        if let Some(d) = root.dialog() {
            d.close();
        }
        on_close.run(());
    });

    let live_offer = RwSignal::new(offer.clone());
    let now = RwSignal::new(live::now_seconds());
    let alive = live::Alive::new();
    on_cleanup({
        let alive = alive.clone();
        move || alive.stop()
    });
    // Started once, after the sheet is first shown and painted: a sheet prepared on hover
    // asks nothing, and the click's frame holds nothing but showing it.
    let has_sale = offer.sale_ends_at.is_some();
    let api = ctx.api.clone();
    let started = RwSignal::new(false);
    // Read untracked: once begun, the effect reads nothing and never runs again.
    let begun = RwSignal::new(false);
    crate::checkout::bind::effect(move |_| {
        if begun.get_untracked() || !shown.get() {
            return;
        }
        begun.set(true);
        let (api, alive) = (api.clone(), alive.clone());
        leptos::task::spawn_local(async move {
            crate::shared::util::sleep(0).await;
            if !alive.is_alive() {
                return;
            }
            let _ = started.try_set(true);
            leptos::task::spawn_local(live::poll(api.clone(), live_offer, alive.clone()));
            if has_sale {
                leptos::task::spawn_local(live::tick(api, live_offer, now, alive));
            }
        });
    });

    let api = ctx.api.clone();
    let refresh = Callback::new(move |_: ()| {
        let api = api.clone();
        leptos::task::spawn_local(async move { live::refresh(&api, live_offer).await });
    });
    let step = RwSignal::new(Step::Product);
    let paid = Callback::new(move |receipt: OrderReceipt| {
        emit(WidgetEvent::Order { order_id: receipt.order_id.clone(), amount: receipt.quote.total });
        step.set(Step::Confirmed(Box::new(receipt)))
    });
    // Each new step takes focus (its first field, or its heading), so keyboard and screen
    // reader users land where the sheet changed. The first step keeps showModal's focus.
    crate::checkout::bind::effect(move |previous: Option<()>| {
        step.track();
        if previous.is_some() {
            focus_soon(root, &FOCUS_SELECTORS);
        }
    });
    let title = offer.title.clone();
    // The seller's words in the seller's language, for screen readers (3.1.2 Language of
    // parts); the sheet's own are in the visitor's.
    let title_lang = offer.lang.clone();
    let words_lang = offer.lang.clone();
    let kind = offer.kind;
    let close_label = locale.t(Key::Close);
    view! {
        <dialog
            part="sheet"
            class="tb-sheet"
            lang=locale.tag()
            aria-modal="true"
            aria-labelledby="tb-title"
            on:keydown=handler(move |ev: web_sys::KeyboardEvent| {
                if let Some(d) = root.dialog() {
                    trap_tab(&d, &ev);
                }
            })
            on:focusin=handler(move |_: web_sys::FocusEvent| {
                if let Some(d) = root.dialog() {
                    pad_below_header(&d);
                }
            })
            on:cancel=handler(move |ev: web_sys::Event| {
                ev.prevent_default();
                close.run(());
            })
        >
            <header part="header" class="tb-header">
                <h2 id="tb-title" class="tb-title" tabindex="-1" lang=title_lang>{title}</h2>
                <button type="button" class="tb-close" aria-label=close_label on:click=handler(move |_| close.run(()))>
                    <span aria-hidden="true">"×"</span>
                </button>
            </header>
            {bind(move || match step.get() {
                Step::Product => {
                    view! {
                        <ProductSheet
                            offer=live_offer
                            now=now
                            form=form
                            on_continue=Callback::new(move |_: ()| {
                                emit(WidgetEvent::Checkout);
                                step.set(Step::Checkout)
                            })
                            frames=started
                            on_paid=paid
                            on_stale=refresh
                            on_escape=close
                        />
                    }
                        .into_any()
                }
                Step::Checkout => {
                    view! {
                        <SaleNotice offer=live_offer now=now form=form locale=locale />
                        <Checkout
                            offer=live_offer.get_untracked()
                            form=form
                            on_back=Callback::new(move |_: ()| step.set(Step::Product))
                            on_paid=paid
                            on_stale=refresh
                            on_escape=close
                        />
                    }
                        .into_any()
                }
                Step::Confirmed(receipt) => {
                    view! { <Confirmation receipt=*receipt kind=kind lang=words_lang.clone() on_done=close /> }.into_any()
                }
            })}
        </dialog>
    }
}
