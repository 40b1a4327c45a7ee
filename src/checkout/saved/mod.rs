//! Saved buyer info in the sheet: "Pay with Visa •••• 4242, ship to J. Doe, 10001".
//!
//! Everything goes through the vault's saved-info frame (`/frame?mode=saved`, hidden, one
//! per open sheet) with the v1 messages of [`tweetbuy_core::frame`]: `lookup` when the sheet
//! opens, `pay_saved` for a one-time saved-card token, `save` after a purchase with a typed
//! card (the frame adds the save secret only it holds), `remove`. The device credential and
//! the card stay on the vault origin; this page only sees [`SavedCard`] display data.
//!
//! Paying with saved info sends the order with no email and no address: the api fills them
//! in from the vault, server to server.

use crate::checkout::card::{ask, FrameError};
use crate::checkout::messages;
use crate::checkout::order::PayError;
use crate::shared::context::WidgetCtx;
use crate::shared::i18n::{Key, Locale};
use leptos::prelude::*;
use tweetbuy_core::frame::{FromFrame, ToFrame, V1};
use tweetbuy_core::saved::{is_saved_card_token, SavedCard};
use tweetbuy_core::{Offer, OrderReceipt, OrderRequest, ShippingAddress};

/// What this device has saved, as far as the sheet knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SavedState {
    /// The lookup has not answered yet.
    Looking,
    /// Nothing saved (or it was removed): the normal form.
    Nothing,
    /// Saved info to pay with.
    Saved(SavedCard),
    /// The vault could not tell (storage blocked, offline): the normal form.
    Unavailable,
}

impl SavedState {
    /// The saved card, when there is one to pay with.
    pub fn card(&self) -> Option<&SavedCard> {
        match self {
            SavedState::Saved(card) => Some(card),
            _ => None,
        }
    }

    /// The state after one reply from the frame. A failure leaves saved info in place
    /// (the visitor can try again), except that an unanswered lookup means "unavailable".
    pub fn after(&self, reply: &FromFrame) -> SavedState {
        match reply {
            FromFrame::Saved { saved: Some(card), .. } => SavedState::Saved(card.clone()),
            FromFrame::Saved { saved: None, .. } | FromFrame::Removed { .. } => SavedState::Nothing,
            _ if *self == SavedState::Looking => SavedState::Unavailable,
            _ => self.clone(),
        }
    }
}

/// "Pay with Visa •••• 4242, ship to J. Doe, 10001" (without the address when nothing ships).
pub fn summary(card: &SavedCard, locale: &Locale) -> String {
    let brand = card.brand.display_name();
    match card.ship_to.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(ship_to) => {
            locale.fill(Key::SavedSummary, &[("brand", brand), ("last4", &card.last4), ("ship_to", ship_to)])
        }
        None => locale.fill(Key::SavedPayWith, &[("brand", brand), ("last4", &card.last4)]),
    }
}

/// Whether the confirmation may offer to save: only after paying with a typed card (a
/// saved card is saved already).
pub fn can_offer_save(paid_token: Option<&str>) -> bool {
    paid_token.is_some_and(|t| !t.trim().is_empty() && !is_saved_card_token(t))
}

/// The order body for a saved-card token: no email and no address, which the api takes
/// from the saved profile; no price, as always.
pub fn saved_order_request(offer: &Offer, variant_id: &str, quantity: u32, card_token: &str) -> OrderRequest {
    OrderRequest {
        product_id: offer.product_id.clone(),
        variant_id: variant_id.to_owned(),
        quantity,
        email: String::new(),
        shipping: None,
        card_token: card_token.to_owned(),
        share_email: false,
        tweet_id: Some(offer.tweet_id.clone()),
    }
}

/// The saved-info frame's page: the same frame without the card form.
pub fn saved_frame_url(vault_origin: &str, lang: &str) -> String {
    format!("{}&mode=saved", crate::checkout::card::frame_url(vault_origin, lang))
}

/// Saved info for one open sheet, shared by its steps through context.
#[derive(Clone, Copy)]
pub struct SavedCtx {
    pub state: RwSignal<SavedState>,
    /// The typed card's one-time token of the purchase just made (for "save").
    pub paid_token: RwSignal<Option<String>>,
    /// What the last remove said, for the sheet's status line.
    pub notice: RwSignal<Option<Key>>,
    frame: NodeRef<leptos::html::Iframe>,
    origin: StoredValue<String>,
}

impl SavedCtx {
    /// Creates the sheet's saved-info state and provides it to the steps.
    pub fn provide(vault_origin: &str) -> SavedCtx {
        let ctx = SavedCtx {
            state: RwSignal::new(SavedState::Looking),
            paid_token: RwSignal::new(None),
            notice: RwSignal::new(None),
            frame: NodeRef::new(),
            origin: StoredValue::new(vault_origin.trim_end_matches('/').to_owned()),
        };
        provide_context(ctx);
        ctx
    }

    /// Sends one message and applies the reply to the state.
    pub async fn ask(self, message: impl FnOnce(String) -> ToFrame) -> Result<FromFrame, FrameError> {
        let frame = self.frame.get_untracked().ok_or(FrameError::NotReady)?;
        let reply = ask(&frame, &self.origin.get_value(), message).await;
        // Only a real change notifies, so a step showing saved info is not rebuilt (and its
        // pending action dropped) by a reply that changes nothing.
        let next = self.state.with_untracked(|s| match &reply {
            Ok(r) => s.after(r),
            Err(_) if *s == SavedState::Looking => SavedState::Unavailable,
            Err(_) => s.clone(),
        });
        if self.state.with_untracked(|s| *s != next) {
            self.state.set(next);
        }
        reply
    }
}

/// The hidden saved-info frame; looks up what this device saved once it has loaded.
#[component]
pub fn SavedFrame(ctx: SavedCtx, lang: String) -> impl IntoView {
    let src = saved_frame_url(&ctx.origin.get_value(), &lang);
    let title = Locale::new(&lang).t(Key::SavedTitle);
    view! {
        <iframe
            node_ref=ctx.frame
            class="tb-saved-frame"
            hidden=true
            aria-hidden="true"
            tabindex="-1"
            title=title
            src=src
            on:load=move |_| {
                leptos::task::spawn_local(async move {
                    let _ = ctx.ask(|request_id| ToFrame::Lookup { v: V1, request_id }).await;
                });
            }
        ></iframe>
    }
}

/// The status line for saved info ("removed"), kept in the accessibility tree while empty.
#[component]
pub fn SavedNotice() -> impl IntoView {
    let ctx = use_context::<SavedCtx>();
    let locale = crate::shared::i18n::use_locale();
    let text = move || ctx.and_then(|c| c.notice.get()).map(|k| locale.t(k));
    view! { <p class="tb-saved-notice" role="status">{text}</p> }
}

/// The product step's saved-info block: the summary, Pay (one tap), "Use another card or
/// address" (the normal form) and "Remove my saved info".
#[component]
pub fn SavedPay(
    /// The offer and the visitor's choice of variant and quantity.
    offer: RwSignal<Offer>,
    form: RwSignal<crate::checkout::form::CheckoutForm>,
    /// Why buying is blocked right now, if it is.
    blocked: Signal<bool>,
    /// The order went through.
    on_paid: Callback<OrderReceipt>,
    /// The normal form, to change the card or address.
    on_other: Callback<()>,
) -> impl IntoView {
    let Some(saved) = use_context::<SavedCtx>() else {
        return ().into_any();
    };
    let widget = expect_context::<WidgetCtx>();
    let locale = crate::shared::i18n::use_locale();
    let failure = RwSignal::new(None::<String>);

    // Shared with the typed-card path: an order whose outcome is unknown is asked about
    // again, with its key, before anything new is paid.
    let pending = use_context::<crate::checkout::order::PendingOrder>().unwrap_or_default();
    let pay_action = Action::new_local(move |_: &()| {
        let (widget, offer, (variant, quantity)) =
            (widget.clone(), offer.get_untracked(), form.with_untracked(|d| (d.variant_id.clone(), d.quantity)));
        let earlier = pending.0.get_value();
        async move {
            let fresh = async {
                match saved.ask(|request_id| ToFrame::PaySaved { v: V1, request_id }).await {
                    Ok(FromFrame::Token { card, .. }) => {
                        Ok(saved_order_request(&offer, &variant, quantity, &card.token))
                    }
                    Ok(_) | Err(FrameError::Failed(_)) => Err(PayError::Card(Key::SavedCardFailed)),
                    Err(_) => Err(PayError::Card(Key::CardNoAnswer)),
                }
            };
            let remember = move |order| pending.0.set_value(order);
            crate::checkout::order::place_settling(&widget, earlier, &remember, &|_| {}, fresh)
                .await
                .map(|(receipt, _)| receipt)
                .map_err(|e| match e {
                    PayError::Card(key) => locale.t(key),
                    PayError::Client(e) => locale.with(|locale| messages::for_error(locale, &e)),
                    PayError::Fields(_) => locale.t(Key::SomethingWrong),
                })
        }
    });
    let paying = pay_action.pending();
    Effect::new(move |_| match pay_action.value().get() {
        Some(Ok(receipt)) => {
            saved.paid_token.set(None);
            on_paid.run(receipt);
        }
        Some(Err(message)) => failure.set(Some(message)),
        None => {}
    });
    // On success the state turns to Nothing and this block goes away (the step then shows
    // the normal form and moves focus there), so the outcome is applied here, not in an
    // effect of this block.
    let remove_action = Action::new_local(move |_: &()| async move {
        match saved.ask(|request_id| ToFrame::Remove { v: V1, request_id }).await {
            Ok(FromFrame::Removed { .. }) => saved.notice.set(Some(Key::SavedRemoved)),
            _ => {
                let _ = failure.try_set(Some(locale.t(Key::RemoveFailed)));
            }
        }
    });
    let removing = remove_action.pending();

    let line = move || saved.state.with(|s| s.card().map(|c| locale.with(|locale| summary(c, locale))));
    let subtotal = move || {
        offer.with(|o| {
            form.with(|d| {
                o.variant(&d.variant_id).map(|v| {
                    let amount = tweetbuy_core::Money::new(v.price.minor * i64::from(d.quantity), v.price.currency);
                    let money = crate::shared::format::money(&amount, &locale.tag());
                    let key = if o.kind.needs_shipping() { Key::SavedPlusShipping } else { Key::SavedPlusTax };
                    locale.fill(key, &[("subtotal", &money)])
                })
            })
        })
    };
    let busy = move || paying.get() || removing.get();
    view! {
        <section class="tb-saved" part="saved" aria-labelledby="tb-saved-title">
            <h3 id="tb-saved-title" class="tb-subtitle">{locale.t(Key::SavedTitle)}</h3>
            <p id="tb-saved-summary" class="tb-saved-summary">{line}</p>
            <p class="tb-note">{subtotal}</p>
            <p class="tb-error" role="alert">{move || failure.get()}</p>
            <button
                type="button"
                part="pay-saved"
                class="tb-primary tb-pay"
                aria-describedby="tb-saved-summary"
                aria-busy=move || if paying.get() { "true" } else { "false" }
                disabled=move || busy() || blocked.get()
                on:click=move |_| {
                    if !busy() {
                        failure.set(None);
                        saved.notice.set(None);
                        pay_action.dispatch(());
                    }
                }
            >
                {move || locale.t(if paying.get() { Key::Paying } else { Key::Pay })}
            </button>
            <div class="tb-saved-actions">
                <button
                    type="button"
                    class="tb-secondary"
                    disabled=busy
                    on:click=move |_| {
                        saved.notice.set(None);
                        on_other.run(())
                    }
                >
                    {locale.t(Key::UseOther)}
                </button>
                <button
                    type="button"
                    class="tb-secondary tb-saved-remove"
                    disabled=busy
                    on:click=move |_| {
                        failure.set(None);
                        remove_action.dispatch(());
                    }
                >
                    {move || locale.t(if removing.get() { Key::Removing } else { Key::RemoveSaved })}
                </button>
            </div>
        </section>
    }
    .into_any()
}

/// The confirmation's offer to save the card (and address) that just paid: unticked;
/// ticking it reveals Save.
#[component]
pub fn SaveOffer(receipt: OrderReceipt) -> impl IntoView {
    let Some(saved) = use_context::<SavedCtx>() else {
        return ().into_any();
    };
    let token = saved.paid_token.get_untracked();
    if !can_offer_save(token.as_deref()) {
        return ().into_any();
    }
    let token = token.unwrap_or_default();
    let locale = crate::shared::i18n::use_locale();
    let ticked = RwSignal::new(false);
    let done = RwSignal::new(None::<Result<String, String>>);
    let status_ref = NodeRef::<leptos::html::P>::new();
    let (email, shipping): (String, Option<ShippingAddress>) = (receipt.email.clone(), receipt.shipping.clone());
    let label = locale.t(if shipping.is_some() { Key::SaveOffer } else { Key::SaveOfferCard });
    let save_action = Action::new_local(move |_: &()| {
        let (token, email, shipping) = (token.clone(), email.clone(), shipping.clone());
        async move {
            saved.ask(move |request_id| ToFrame::Save { v: V1, request_id, card_token: token, email, shipping }).await
        }
    });
    let saving = save_action.pending();
    Effect::new(move |_| {
        let outcome = match save_action.value().get() {
            Some(Ok(FromFrame::Saved { saved: Some(card), .. })) => {
                let line = locale.with(|locale| summary(&card, locale));
                Ok(locale.fill(Key::SavedDone, &[("summary", &line)]))
            }
            Some(_) => Err(locale.t(Key::SaveFailed)),
            None => return,
        };
        let ok = outcome.is_ok();
        done.set(Some(outcome));
        if ok {
            saved.paid_token.set(None);
        }
        leptos::task::spawn_local(async move {
            crate::shared::util::sleep(0).await;
            if let Some(p) = status_ref.get_untracked() {
                let _ = p.focus();
            }
        });
    });
    let finished = move || done.with(|d| matches!(d, Some(Ok(_))));
    view! {
        <div class="tb-save-offer" part="save-offer">
            <Show when=move || !finished()>
                <label class="tb-consent" for="tb-save-info">
                    <input
                        id="tb-save-info"
                        type="checkbox"
                        prop:checked=move || ticked.get()
                        on:change=move |ev| ticked.set(event_target_checked(&ev))
                    />
                    <span>{label.clone()}</span>
                </label>
                <Show when=move || ticked.get()>
                    <button
                        type="button"
                        class="tb-secondary tb-save"
                        aria-busy=move || if saving.get() { "true" } else { "false" }
                        disabled=move || saving.get()
                        on:click=move |_| {
                            done.set(None);
                            save_action.dispatch(());
                        }
                    >
                        {move || locale.t(if saving.get() { Key::Saving } else { Key::SaveButton })}
                    </button>
                </Show>
            </Show>
            <p
                node_ref=status_ref
                class="tb-save-status"
                class:tb-error=move || done.with(|d| matches!(d, Some(Err(_))))
                role="status"
                tabindex="-1"
            >
                {move || done.get().map(|d| d.unwrap_or_else(|e| e))}
            </p>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::card::CardBrand;

    fn card(ship_to: Option<&str>) -> SavedCard {
        SavedCard {
            brand: CardBrand::Visa,
            last4: "4242".into(),
            exp_month: 12,
            exp_year: 2034,
            ship_to: ship_to.map(Into::into),
        }
    }

    #[test]
    fn the_summary_line_names_the_card_and_where_it_ships() {
        let en = Locale::new("en");
        assert_eq!(summary(&card(Some("J. Doe, 10001")), &en), "Pay with Visa •••• 4242, ship to J. Doe, 10001");
        assert_eq!(summary(&card(None), &en), "Pay with Visa •••• 4242");
        assert_eq!(summary(&card(Some("  ")), &en), "Pay with Visa •••• 4242");
        assert_eq!(
            summary(&card(Some("J. Doe, 10001")), &Locale::new("es")),
            "Pagar con Visa •••• 4242, enviar a J. Doe, 10001"
        );
    }

    #[test]
    fn the_state_follows_the_frames_replies() {
        let saved = FromFrame::Saved { v: V1, request_id: "r".into(), saved: Some(card(None)) };
        let nothing = FromFrame::Saved { v: V1, request_id: "r".into(), saved: None };
        let removed = FromFrame::Removed { v: V1, request_id: "r".into() };
        let failed = FromFrame::Failed { v: V1, request_id: "r".into(), message: "m".into() };
        assert_eq!(SavedState::Looking.after(&saved), SavedState::Saved(card(None)));
        assert_eq!(SavedState::Looking.after(&nothing), SavedState::Nothing);
        assert_eq!(SavedState::Looking.after(&failed), SavedState::Unavailable, "an unanswered lookup");
        let s = SavedState::Saved(card(None));
        assert_eq!(s.after(&failed), s, "a failed pay or remove keeps the saved info");
        assert_eq!(s.after(&removed), SavedState::Nothing);
        assert_eq!(SavedState::Nothing.after(&saved).card().unwrap().last4, "4242", "after a save");
        assert!(SavedState::Unavailable.card().is_none());
    }

    #[test]
    fn only_a_typed_card_is_offered_for_saving() {
        assert!(can_offer_save(Some("tok_abc")));
        assert!(!can_offer_save(Some("sav_abc")), "already saved");
        assert!(!can_offer_save(Some("")));
        assert!(!can_offer_save(None));
    }

    #[test]
    fn the_saved_frame_is_the_card_frame_without_its_form() {
        assert_eq!(saved_frame_url("http://v.test/", "es"), "http://v.test/frame?lang=es&mode=saved");
    }

    #[test]
    fn a_saved_order_carries_the_token_and_leaves_contact_to_the_vault() {
        let offer = tweetbuy_core::testing::tee();
        let r = saved_order_request(&offer, "m", 2, "sav_1");
        assert_eq!((r.card_token.as_str(), r.quantity, r.email.as_str()), ("sav_1", 2, ""));
        assert!(r.shipping.is_none() && !r.share_email);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("price") && !json.contains("total"), "{json}");
    }
}
