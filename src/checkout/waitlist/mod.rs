//! "Email me when it's back" on a sold-out item, "when it goes on sale" on one whose sale has
//! not started: an email, an unticked consent box, Notify me. The api keeps the address for
//! that one notice; the publisher's page hears `tweetbuy:waitlist` with no personal data.

use crate::checkout::bind::bind;
use crate::checkout::bind::handler;
use crate::checkout::form::error_for;
use crate::checkout::wire;
use crate::shared::context::widget_ctx;
use crate::shared::events::{emit, EmbedCtx, WidgetEvent};
use crate::shared::i18n::{Key, SheetLocale};
use leptos::prelude::*;
use tweetbuy_core::waitlist::{validate_waitlist, WaitFor, WaitlistRequest};
use tweetbuy_core::{Availability, FieldError, Offer};

/// What the waitlist waits for, or `None` when the item has no waitlist (it can be bought,
/// or its sale is over for good).
pub(crate) fn waits_for(availability: Availability) -> Option<WaitFor> {
    match availability {
        Availability::SoldOut => Some(WaitFor::Restock),
        Availability::NotStarted => Some(WaitFor::SaleStart),
        Availability::Available | Availability::SaleEnded => None,
    }
}

/// The waitlist block of the product step; nothing when the item has no waitlist.
#[component]
pub fn Waitlist(offer: RwSignal<Offer>, locale: SheetLocale) -> impl IntoView {
    // A flag for each thing to wait for, so the form is built again only when that changes.
    let waits = move |what| Memo::new(move |_| offer.with(|o| waits_for(o.availability) == Some(what)));
    let (restock, sale_start) = (waits(WaitFor::Restock), waits(WaitFor::SaleStart));
    bind(move || {
        let wait_for = restock.get().then_some(WaitFor::Restock).or(sale_start.get().then_some(WaitFor::SaleStart));
        wait_for.map(|wait_for| untrack(|| waitlist_form(offer, locale, wait_for)).into_any())
    })
}

fn waitlist_form(offer: RwSignal<Offer>, locale: SheetLocale, wait_for: WaitFor) -> impl IntoView {
    let api = widget_ctx().api;
    let embed = use_context::<EmbedCtx>();
    let (email, consent) = (RwSignal::new(String::new()), RwSignal::new(false));
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let (sending, joined) = (RwSignal::new(false), RwSignal::new(None::<String>));
    let root = crate::checkout::focus::SheetRoot::current();
    let failure = RwSignal::new(None::<String>);
    // Shows the errors in the visitor's language and takes focus to the first one's control.
    let show_errors = move |found: Vec<FieldError>| {
        let email_first = found.first().is_some_and(|e| e.field == "email");
        errors
            .set(locale.with(|l| {
                found.iter().map(|e| FieldError { message: l.field_error(e, "", 1), ..e.clone() }).collect()
            }));
        let target = if email_first { "#tb-waitlist-email" } else { "#tb-waitlist-consent" };
        crate::checkout::focus::focus_soon(root, &[target]);
    };
    let submit = Callback::new(move |()| {
        if sending.get_untracked() {
            return;
        }
        let request = offer.with_untracked(|o| WaitlistRequest {
            product_id: o.product_id.clone(),
            email: email.get_untracked(),
            consent: consent.get_untracked(),
            tweet_id: Some(o.tweet_id.clone()),
            lang: Some(locale.tag()),
        });
        let address = match validate_waitlist(&request) {
            Ok(address) => address,
            Err(found) => return show_errors(found),
        };
        errors.set(Vec::new());
        failure.set(None);
        sending.set(true);
        let api = api.clone();
        // Its own copy: the publisher hears of a join that lands after the sheet has closed.
        let embed = embed.clone();
        leptos::task::spawn_local(async move {
            let answer = api.post_parsed("/api/v1/waitlist", wire::waitlist_request(&request), None).await;
            if let (Ok(_), Some(embed)) = (&answer, &embed) {
                emit(embed, WidgetEvent::Waitlist);
            }
            // The form is gone (the sheet closed, or the offer came back): nothing to say.
            if sending.try_set(false).is_some() {
                return;
            }
            match answer {
                Ok(_) => {
                    let key = if wait_for == WaitFor::Restock { Key::NotifyJoinedBack } else { Key::NotifyJoinedSale };
                    joined.set(Some(locale.fill(key, &[("email", &address)])));
                    // The form (and the button that had focus) is gone: focus says what happened.
                    crate::checkout::focus::focus_soon(root, &[".tb-waitlist-done"]);
                }
                Err(crate::shared::api::ClientError::Api { error, .. }) if !error.fields.is_empty() => {
                    show_errors(error.fields);
                }
                Err(e) => failure.set(Some(locale.with(|l| crate::checkout::messages::for_error(l, &e)))),
            }
        });
    });
    let title = locale.t(if wait_for == WaitFor::Restock { Key::NotifyBack } else { Key::NotifySale });
    let error = move |key: &'static str| bind(move || errors.with(|e| error_for(e, key)));
    let invalid = move |key: &'static str| {
        bind(move || if errors.with(|e| error_for(e, key).is_some()) { "true" } else { "false" })
    };
    let form = move || {
        view! {
            <form class="tb-waitlist-form" novalidate=true
                on:submit=handler(move |ev: web_sys::SubmitEvent| { ev.prevent_default(); submit.run(()); })>
                <div class="tb-field" part="field">
                    <label for="tb-waitlist-email">{locale.t(Key::Email)}</label>
                    <input id="tb-waitlist-email" type="email" autocomplete="email" inputmode="email"
                        aria-required="true" aria-invalid=invalid("email") aria-describedby="tb-waitlist-email-error"
                        prop:value=bind(move || email.get()) on:input=handler(move |ev| email.set(event_target_value(&ev))) />
                    <p id="tb-waitlist-email-error" class="tb-error">{error("email")}</p>
                </div>
                <label class="tb-consent" for="tb-waitlist-consent">
                    <input id="tb-waitlist-consent" type="checkbox" aria-invalid=invalid("consent")
                        aria-describedby="tb-waitlist-consent-error"
                        prop:checked=bind(move || consent.get()) on:change=handler(move |ev| consent.set(event_target_checked(&ev))) />
                    <span>{locale.t(Key::NotifyConsent)}</span>
                </label>
                <p id="tb-waitlist-consent-error" class="tb-error">{error("consent")}</p>
                <button type="submit" class="tb-secondary" aria-disabled=bind(move || sending.get().then_some("true"))>
                    {locale.t(Key::NotifyMe)}
                </button>
            </form>
        }
    };
    view! {
        <section class="tb-waitlist" part="waitlist" aria-labelledby="tb-waitlist-title">
            <h3 id="tb-waitlist-title" class="tb-subtitle">{title}</h3>
            <p class="tb-waitlist-done" role="status" tabindex="-1">{bind(move || joined.get())}</p>
            {bind(move || joined.with(Option::is_none).then(|| form().into_any()))}
            <p class="tb-error" role="alert">{bind(move || failure.get())}</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_items_that_may_come_back_have_a_waitlist() {
        assert_eq!(waits_for(Availability::SoldOut), Some(WaitFor::Restock));
        assert_eq!(waits_for(Availability::NotStarted), Some(WaitFor::SaleStart));
        assert_eq!(waits_for(Availability::Available), None);
        assert_eq!(waits_for(Availability::SaleEnded), None);
    }
}
