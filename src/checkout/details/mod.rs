//! The details step: email, shipping (physical goods only) and consent on the page, and
//! the vault's card frame, which holds the card and Pay. Whenever the details pass core's
//! rules the frame is shown the whole cart (typing waits a moment; a change goes at once),
//! and otherwise `null`; the frame asks for them (`needs_details`) if Pay is pressed first.

mod fields;
mod summary;

use crate::checkout::bind::bind;
use crate::checkout::bind::handler;
use crate::checkout::discount::DiscountField;
use crate::checkout::focus::{focus_soon, SheetRoot};
use crate::checkout::form::{localized_errors, CheckoutForm, Field};
use crate::checkout::frame_link::{vault_frame, FrameLink, FrameMode};
use crate::checkout::react::{delay, react, report_failure, Edit, Reaction};
use crate::shared::context::widget_ctx;
use crate::shared::events::EmbedCtx;
use crate::shared::i18n::{use_locale, Key};
use fields::{share_email, ShippingFields, TextField};
use leptos::prelude::*;
use summary::{error_summary, QuoteSummary};
use tweetbuy_core::{FieldError, Offer, OrderReceipt};

/// The card's label, where focus waits for the buyer to Tab into the card frame.
const CARD_LABEL: &str = "#tb-card-label";

/// Runs `show` after each edit: at once for a change, after a pause in typing for a
/// keystroke (each edit restarts the wait, so a burst of typing is shown once).
fn after_edits(show: impl Fn() + Copy + Send + Sync + 'static) -> Callback<Edit> {
    // A signal read untracked, as a counter: it shares the signal type of the sheet's other
    // counters, where a stored value of its own type would bring that type's code along.
    let edits = RwSignal::new(0i64);
    Callback::new(move |edit: Edit| {
        edits.update_untracked(|n| *n = n.wrapping_add(1));
        let this = edits.get_untracked();
        match delay(edit) {
            0 => show(),
            ms => leptos::task::spawn_local(async move {
                crate::shared::util::sleep(ms).await;
                if edits.try_get_untracked() == Some(this) {
                    show();
                }
            }),
        }
    })
}

/// The details step.
#[component]
pub fn Checkout(
    /// The offer being bought.
    offer: Offer,
    /// The form, kept by the button across openings.
    form: RwSignal<CheckoutForm>,
    /// Back to the product step.
    on_back: Callback<()>,
    /// The frame reported the order paid.
    on_paid: Callback<OrderReceipt>,
    /// The offer changed meanwhile (sold out, sale ended): read it again.
    on_stale: Callback<()>,
    /// Escape was pressed inside the card frame: close the sheet.
    on_escape: Callback<()>,
) -> impl IntoView {
    let ctx = widget_ctx();
    let embed = StoredValue::new(use_context::<EmbedCtx>());
    let locale = use_locale();
    let (errors, failure, busy) =
        (RwSignal::new(Vec::<FieldError>::new()), RwSignal::new(None::<String>), RwSignal::new(false));
    let link = FrameLink::new(&ctx.vault_origin, FrameMode::Card);
    let root = SheetRoot::current();
    let physical = offer.kind.needs_shipping();
    let seller = offer.seller.name.clone();
    let offer = StoredValue::new(offer);

    // Safe from a late timer or blur after the step is gone: then it does nothing.
    let show_cart = move || {
        if let Some(cart) = offer.try_with_value(|o| form.try_with_untracked(|d| d.cart(o))).flatten() {
            link.show(cart);
        }
    };
    let edited = after_edits(show_cart);
    // Server errors arrive in English with stable codes: shown in the visitor's language,
    // the first field to fix focused (or the summary when it is no field's).
    let show_errors = move |found: Vec<FieldError>| {
        let localized =
            offer.with_value(|o| form.with_untracked(|d| locale.with(|l| localized_errors(&found, o, d, l))));
        let first = localized.first().map(|e| format!("#tb-{}", e.field)).unwrap_or_default();
        errors.set(localized);
        failure.set(Some(locale.t(Key::FixFields)));
        // The summary (ErrorSummary) when the first error is no field's.
        focus_soon(root, &[&first, ".tb-failure"]);
    };
    // Checks the details as the server will; true when they pass.
    let check = move || {
        let found = offer.with_value(|o| form.with_untracked(|d| d.validate(o)));
        let ok = found.is_empty();
        if ok {
            errors.set(Vec::new());
            failure.set(None);
        } else {
            show_errors(found);
        }
        ok
    };
    let on_message = Callback::new(move |message| match react(message) {
        Reaction::ShowCart => show_cart(),
        Reaction::CheckDetails => {
            if check() {
                show_cart();
            }
        }
        Reaction::FixFields(found) => {
            busy.set(false);
            show_errors(found);
        }
        Reaction::Busy => {
            failure.set(None);
            busy.set(true);
        }
        Reaction::Paid(receipt) => on_paid.run(*receipt),
        Reaction::Failed { code, message, stale } => {
            busy.set(false);
            embed.with_value(|e| report_failure(e.as_ref(), code, message));
            if let Some(key) = stale {
                failure.set(Some(locale.t(key)));
                on_stale.run(());
            }
        }
        Reaction::Close => on_escape.run(()),
        Reaction::Nothing => {}
    });
    // Enter in a field: check the details, then on to the card. Focus goes to the card's
    // label, just before the frame: the buyer's next Tab enters it. The page never moves focus
    // into the frame itself, whose keyboard Pay counts only when the buyer brought focus there.
    let submit = move || {
        if !busy.get_untracked() && check() {
            show_cart();
            focus_soon(root, &[CARD_LABEL]);
        }
    };
    let us = Memo::new(move |_| form.with(|d| d.country == "US"));

    view! {
        <form class="tb-checkout" novalidate=true aria-labelledby="tb-title"
            aria-busy=bind(move || if busy.get() { "true" } else { "false" })
            on:submit=handler(move |ev: web_sys::SubmitEvent| { ev.prevent_default(); submit(); })
            on:keydown=handler(move |ev: web_sys::KeyboardEvent| if enter_submits(&ev) { ev.prevent_default(); submit(); })
        >
            {error_summary(errors, failure, locale, us)}
            <fieldset class="tb-details" disabled=bind(move || busy.get())>
                <TextField field=Field::Email form=form errors=errors label=locale.t(Key::Email) edited=edited autofocus=true />
                {physical.then(|| view! { <ShippingFields offer=offer form=form errors=errors locale=locale edited=edited /> })}
                {share_email(form, locale.fill(Key::ShareEmail, &[("seller", &seller)]), edited)}
            </fieldset>
            // Locked while paying, as the details are: the frame pays the cart it was sent.
            <fieldset class="tb-discount-lock" disabled=bind(move || busy.get())>
                <DiscountField offer=offer form=form errors=errors locale=locale edited=edited busy=busy />
            </fieldset>
            <div class="tb-field tb-card" part="field">
                <span id="tb-card-label" class="tb-label" tabindex="-1">{locale.t(Key::Card)}</span>
                {vault_frame(link, locale.t(Key::CardDetails), locale.tag(), Some("tb-card-label"), on_message)}
            </div>
            <p class="tb-status" role="status">{bind(move || busy.get().then(|| locale.t(Key::Paying)))}</p>
            <p class="tb-note">{locale.t(Key::CardNeverShared)}</p>
            <QuoteSummary offer=offer form=form locale=locale />
            <div class="tb-actions">
                <button type="button" class="tb-secondary" disabled=bind(move || busy.get()) on:click=handler(move |_| on_back.run(()))>
                    {locale.t(Key::Back)}
                </button>
            </div>
        </form>
    }
}

/// Whether a key press is Enter in one of the form's inputs, unless a field took it first (the
/// discount code's Enter applies the code). A browser submits a form on Enter by itself only
/// when it has one text field or a submit button, and the details have neither: Pay is in the
/// vault's frame.
fn enter_submits(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.key() == "Enter"
        && !ev.default_prevented()
        && !ev.is_composing()
        && ev.target().is_some_and(|t| t.is_instance_of::<web_sys::HtmlInputElement>())
}
