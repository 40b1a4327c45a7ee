//! The end of the product step: Continue, or, when this device has saved info, the vault's
//! saved-info frame in its place (Buy, size, Pay) with "Use another card or address".

use crate::checkout::bind::bind;
use crate::checkout::bind::handler;
use crate::checkout::focus::{focus_soon, SheetRoot};
use crate::checkout::form::{quantity_max, CheckoutForm};
use crate::checkout::frame_link::{FrameLink, FrameMode};
use crate::checkout::saved::{saved_offered, SavedBuy, SavedState};
use crate::shared::context::widget_ctx;
use crate::shared::i18n::{Key, SheetLocale};
use leptos::prelude::*;
use tweetbuy_core::{Offer, OrderReceipt};
use wasm_bindgen::JsCast;

/// The Continue button.
const CONTINUE: &str = ".tb-continue";

/// The saved-info frame.
const SAVED_FRAME: &str = ".tb-saved-frame";

/// Whether the sheet holds no focus, or only `or` (an element about to be hidden).
fn focus_lost(root: SheetRoot, or: Option<&str>) -> bool {
    let Some(shadow) = root.dialog().and_then(|d| d.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok()) else {
        return false;
    };
    match shadow.active_element() {
        None => true,
        Some(active) => or.and_then(|selector| root.find(selector)).is_some_and(|e| e == active),
    }
}

/// Continue or the saved-info frame, and the status line saying saved info was removed.
#[component]
pub fn BuyActions(
    offer: RwSignal<Offer>,
    form: RwSignal<CheckoutForm>,
    locale: SheetLocale,
    busy: RwSignal<bool>,
    /// Buying is blocked right now (sold out, sale over, option sold out).
    blocked: Memo<bool>,
    /// The sheet is shown: frames may load.
    frames: RwSignal<bool>,
    on_continue: Callback<()>,
    on_paid: Callback<OrderReceipt>,
    on_stale: Callback<()>,
    on_escape: Callback<()>,
) -> impl IntoView {
    let link = FrameLink::new(&widget_ctx().vault_origin, FrameMode::Saved);
    let state = RwSignal::new(SavedState::Unknown);
    let notice = RwSignal::new(None::<String>);
    let root = SheetRoot::current();
    let offered = move || saved_offered(state.get(), blocked.get(), busy.get());
    // Focus follows what took the place of what had it: Continue's place goes to the saved
    // info, and after Remove the frame's goes back to Continue. Saved info taken away because
    // nothing can be bought (an option sold out meanwhile) leaves focus in its frame to the
    // sheet's title, as Continue, disabled, cannot take it.
    // What the effect last saw (the state, and whether the saved info was offered), untracked.
    let before = RwSignal::new(SavedState::Unknown);
    let was_offered = RwSignal::new(false);
    crate::checkout::bind::effect(move |_| {
        let now = (state.get(), offered());
        match ((before.get_untracked(), was_offered.get_untracked()), now) {
            ((SavedState::Saved, _), (SavedState::Nothing, _)) => {
                notice.set(Some(locale.t(Key::SavedRemoved)));
                focus_soon(root, &[CONTINUE]);
            }
            ((earlier, _), (SavedState::Saved, _)) if earlier != SavedState::Saved => {
                notice.set(None);
                // To the saved info's title, before the frame: the buyer's next Tabs enter
                // it. The page never moves focus into the frame itself (frame_link.rs).
                if focus_lost(root, None) {
                    focus_soon(root, &["#tb-saved-title"]);
                }
            }
            ((_, true), (SavedState::Saved, false)) if focus_lost(root, Some(SAVED_FRAME)) => {
                focus_soon(root, &["#tb-title"]);
            }
            _ => {}
        }
        before.set(now.0);
        was_offered.set(now.1);
    });
    let go = move || {
        let top = offer.with_untracked(|o| form.with_untracked(|d| quantity_max(o, &d.variant_id)));
        form.update(|d| d.quantity = d.quantity.clamp(1, top));
        notice.set(None);
        on_continue.run(())
    };
    let saved = move || {
        frames.get().then(|| {
            view! {
                <SavedBuy offer=offer form=form blocked=blocked state=state busy=busy locale=locale link=link
                    on_other=Callback::new(move |_: ()| go()) on_paid=on_paid on_stale=on_stale on_escape=on_escape />
            }
        })
    };
    view! {
        <p class="tb-saved-notice" role="status">{bind(move || notice.get())}</p>
        {bind(saved)}
        <button type="button" class="tb-primary tb-continue" data-tb-focus=""
            hidden=bind(offered)
            disabled=bind(move || blocked.get())
            on:click=handler(move |_| go())
        >
            {locale.t(Key::Continue)}
        </button>
    }
}
