//! Saved buyer info on the product step: the vault's saved-info frame (the iframe named
//! `tweetbuy-saved`), which draws the saved card and ship-to, the amount, Pay and "Remove my
//! saved info". The page learns only whether saved info exists (`ready`, `saved`), shows the
//! frame in place of Continue when it does, and tells it the variant, quantity and discount
//! code; it never sees the card, the email or the address.

use crate::checkout::bind::bind;
use crate::checkout::bind::handler;
use crate::checkout::discount::DiscountField;
use crate::checkout::form::{field_label, localized_errors, CheckoutForm};
use crate::checkout::frame_link::{vault_frame, FrameLink};
use crate::checkout::react::{react, report_failure, Reaction};
use crate::shared::events::EmbedCtx;
use crate::shared::i18n::{Key, SheetLocale};
use leptos::prelude::*;
use tweetbuy_core::frame::FromFrame;
use tweetbuy_core::{Offer, OrderReceipt};

/// What this device has saved, as far as the page knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavedState {
    /// The frame has not said yet.
    Unknown,
    /// Nothing saved (or it was removed): the normal way, Continue.
    Nothing,
    /// Saved info to pay with, in the frame.
    Saved,
}

/// The state after one message from the saved-info frame.
pub fn saved_after(state: SavedState, message: &FromFrame) -> SavedState {
    match message {
        FromFrame::Ready { saved, .. } | FromFrame::Saved { saved, .. } if *saved => SavedState::Saved,
        FromFrame::Ready { .. } | FromFrame::Saved { .. } => SavedState::Nothing,
        _ => state,
    }
}

/// Whether the saved info is offered in place of Continue: it exists, and something can be
/// bought with it. When nothing can (sold out, the sale over), Continue shows instead,
/// disabled, as for any buyer; a payment already under way keeps its frame in sight until it
/// ends.
pub fn saved_offered(state: SavedState, blocked: bool, busy: bool) -> bool {
    state == SavedState::Saved && (!blocked || busy)
}

/// The saved-info block: heading, the frame (sized by itself), what went wrong, and "Use
/// another card or address". Hidden until the frame says saved info exists.
#[component]
pub fn SavedBuy(
    offer: RwSignal<Offer>,
    form: RwSignal<CheckoutForm>,
    /// Buying is blocked right now (sold out, sale over): the frame is shown no cart.
    blocked: Memo<bool>,
    state: RwSignal<SavedState>,
    /// A payment is under way: the choice is locked.
    busy: RwSignal<bool>,
    locale: SheetLocale,
    link: FrameLink,
    on_other: Callback<()>,
    on_paid: Callback<OrderReceipt>,
    on_stale: Callback<()>,
    on_escape: Callback<()>,
) -> impl IntoView {
    let embed = StoredValue::new(use_context::<EmbedCtx>());
    let problem = RwSignal::new(None::<String>);
    // The code field's own errors; a change of code reaches the frame through the form.
    let code_errors = RwSignal::new(Vec::new());
    let code_offer = StoredValue::new(offer.get_untracked());
    crate::checkout::bind::effect(move |_| code_offer.set_value(offer.get()));
    let show_cart = move || {
        if state.get_untracked() == SavedState::Saved {
            let cart = offer.with_untracked(|o| form.with_untracked(|d| d.saved_cart(o)));
            link.show((!blocked.get_untracked()).then_some(cart));
        }
    };
    // Every change of variant or quantity (or of what can be bought) reaches the frame.
    crate::checkout::bind::effect(move |_| {
        form.track();
        offer.track();
        blocked.track();
        show_cart();
    });
    let on_message = Callback::new(move |message: FromFrame| {
        let next = saved_after(state.get_untracked(), &message);
        if next != state.get_untracked() {
            state.set(next);
        }
        match react(message) {
            Reaction::ShowCart => show_cart(),
            Reaction::FixFields(found) => {
                busy.set(false);
                let lines = offer
                    .with_untracked(|o| form.with_untracked(|d| locale.with(|l| localized_errors(&found, o, d, l))));
                // Saved-mode errors are about the saved address's country or region, or the choice.
                let text = lines.iter().map(|e| format!("{}: {}", locale.t(field_label(&e.field, false)), e.message));
                problem.set(Some(text.collect::<Vec<_>>().join(" ")));
            }
            Reaction::Busy => {
                problem.set(None);
                busy.set(true);
            }
            Reaction::Paid(receipt) => on_paid.run(*receipt),
            Reaction::Failed { code, message, stale } => {
                busy.set(false);
                embed.with_value(|e| report_failure(e.as_ref(), code, message));
                if let Some(key) = stale {
                    problem.set(Some(locale.t(key)));
                    on_stale.run(());
                }
            }
            Reaction::Close => on_escape.run(()),
            Reaction::CheckDetails | Reaction::Nothing => {}
        }
    });
    view! {
        <section class="tb-saved" part="saved" aria-labelledby="tb-saved-title"
            hidden=bind(move || !saved_offered(state.get(), blocked.get(), busy.get()))>
            <h3 id="tb-saved-title" class="tb-subtitle" tabindex="-1">{locale.t(Key::SavedTitle)}</h3>
            <fieldset class="tb-discount-lock" disabled=bind(move || busy.get())>
                <DiscountField offer=code_offer form=form errors=code_errors locale=locale edited=Callback::new(|_| {}) busy=busy />
            </fieldset>
            {vault_frame(link, locale.t(Key::SavedTitle), locale.tag(), Some("tb-saved-title"), on_message)}
            <p class="tb-error" role="alert">{bind(move || problem.get())}</p>
            <button type="button" class="tb-secondary tb-use-other" disabled=bind(move || busy.get()) on:click=handler(move |_| on_other.run(()))>
                {locale.t(Key::UseOther)}
            </button>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::frame::V1;

    #[test]
    fn the_state_follows_what_the_frame_says_exists() {
        let ready = |saved| FromFrame::Ready { v: V1, saved };
        let saved = |saved| FromFrame::Saved { v: V1, saved };
        assert_eq!(saved_after(SavedState::Unknown, &ready(true)), SavedState::Saved);
        assert_eq!(saved_after(SavedState::Unknown, &ready(false)), SavedState::Nothing);
        assert_eq!(saved_after(SavedState::Saved, &saved(false)), SavedState::Nothing, "removed");
        assert_eq!(saved_after(SavedState::Nothing, &saved(true)), SavedState::Saved);
        assert_eq!(saved_after(SavedState::Saved, &FromFrame::Paying { v: V1 }), SavedState::Saved);
        assert_eq!(saved_after(SavedState::Unknown, &FromFrame::Resize { v: V1, height: 9 }), SavedState::Unknown);
    }

    #[test]
    fn saved_info_is_offered_only_while_something_can_be_bought_with_it() {
        assert!(saved_offered(SavedState::Saved, false, false));
        assert!(!saved_offered(SavedState::Saved, true, false), "sold out: Continue, disabled, instead");
        assert!(saved_offered(SavedState::Saved, true, true), "a payment under way keeps its frame");
        for state in [SavedState::Unknown, SavedState::Nothing] {
            assert!(!saved_offered(state, false, false));
            assert!(!saved_offered(state, true, true));
        }
    }
}
