//! The details form's inputs: labelled text fields with their inline errors, and the
//! shipping address block (country and state or region). Every edit tells the step how it
//! happened ([`Edit`]), so the card frame learns the new cart at the right moment.

use crate::checkout::bind::bind;
use crate::checkout::bind::handler;
use crate::checkout::form::{error_for, CheckoutForm, Field};
use crate::checkout::react::Edit;
use crate::shared::format;
use crate::shared::i18n::{Key, SheetLocale};
use leptos::prelude::*;
use tweetbuy_core::address::US_STATES;
use tweetbuy_core::{FieldError, Offer};

/// Drops a field's error once the visitor edits it; the summary follows.
pub(crate) fn clear_error(errors: RwSignal<Vec<FieldError>>, key: &str) {
    if errors.with_untracked(|e| e.iter().any(|f| f.field == key)) {
        errors.update(|e| e.retain(|f| f.field != key));
    }
}

fn invalid(error: Option<String>) -> &'static str {
    if error.is_some() {
        "true"
    } else {
        "false"
    }
}

/// A labelled text input bound to one field of the form, with its inline error.
#[component]
pub fn TextField(
    field: Field,
    form: RwSignal<CheckoutForm>,
    /// Current field errors, already in the visitor's language.
    errors: RwSignal<Vec<FieldError>>,
    label: String,
    edited: Callback<Edit>,
    /// Takes focus when the details step appears.
    #[prop(optional)]
    autofocus: bool,
) -> impl IntoView {
    let id = format!("tb-{}", field.key());
    let error_id = format!("{id}-error");
    let error = move || errors.with(|e| error_for(e, field.key()));
    let email = field == Field::Email;
    view! {
        <div class="tb-field" part="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=if email { "email" } else { "text" }
                autocomplete=field.autocomplete()
                inputmode=email.then_some("email")
                // Exposed to screen readers as required, with the country's rule.
                prop:required=bind(move || form.with(|d| field.required(&d.country)))
                data-tb-focus=autofocus.then_some("")
                aria-invalid=bind(move || invalid(error()))
                aria-describedby=error_id.clone()
                prop:value=bind(move || form.with(|d| field.value(d).clone()))
                on:input=handler(move |ev| {
                    form.update(|d| *field.value_mut(d) = event_target_value(&ev));
                    clear_error(errors, field.key());
                    edited.run(Edit::Typing);
                })
                // `change` also fires on leaving a field whose text changed: no wait then.
                on:change=handler(move |_| edited.run(Edit::Done))
            />
            <p id=error_id class="tb-error">{bind(error)}</p>
        </div>
    }
}

/// "Share my email with the seller": unticked unless the buyer ticks it.
pub fn share_email(form: RwSignal<CheckoutForm>, label: String, edited: Callback<Edit>) -> impl IntoView {
    view! {
        <label class="tb-consent" for="tb-share-email">
            <input id="tb-share-email" type="checkbox"
                prop:checked=bind(move || form.with(|d| d.share_email))
                on:change=handler(move |ev| {
                    form.update(|d| d.share_email = event_target_checked(&ev));
                    edited.run(Edit::Done);
                })
            />
            <span>{label}</span>
        </label>
    }
}

/// A select of the shipping block, labelled, with its inline error.
#[component]
fn SelectField(
    key: &'static str,
    label: String,
    autocomplete: &'static str,
    errors: RwSignal<Vec<FieldError>>,
    form: RwSignal<CheckoutForm>,
    /// Puts the picked value in the form.
    pick: fn(&mut CheckoutForm, String),
    edited: Callback<Edit>,
    children: Children,
) -> impl IntoView {
    let error = move || errors.with(|e| error_for(e, key));
    view! {
        <div class="tb-field" part="field">
            <label for=format!("tb-{key}")>{label}</label>
            <select
                id=format!("tb-{key}")
                autocomplete=autocomplete
                aria-required="true"
                aria-invalid=bind(move || invalid(error()))
                aria-describedby=format!("tb-{key}-error")
                on:change=handler(move |ev| {
                    form.update(|d| pick(d, event_target_value(&ev)));
                    edited.run(Edit::Done);
                    clear_error(errors, key);
                })
            >
                {children()}
            </select>
            <p id=format!("tb-{key}-error") class="tb-error">{bind(error)}</p>
        </div>
    }
}

/// The shipping address: name, lines, city, country, state (US) or region, postal code.
#[component]
pub fn ShippingFields(
    offer: StoredValue<Offer>,
    form: RwSignal<CheckoutForm>,
    errors: RwSignal<Vec<FieldError>>,
    locale: SheetLocale,
    edited: Callback<Edit>,
) -> impl IntoView {
    let text = move |field: Field, key: Key| {
        view! { <TextField field=field form=form errors=errors label=locale.t(key) edited=edited /> }
    };
    let tag = locale.tag();
    let countries = offer.with_value(|o| o.ships_to.clone()).into_iter().map(|c| {
        let code = c.code().to_owned();
        let selected = code.clone();
        view! { <option value=code selected=bind(move || form.with(|d| d.country == selected))>{format::country_name(c, &tag)}</option> }
    });
    let countries = countries.collect_view();
    let states = move || {
        US_STATES
            .iter()
            .map(|s| view! { <option value=*s selected=bind(move || form.with(|d| d.region == *s))>{*s}</option> })
            .collect_view()
    };
    let region = move || {
        view! { <TextField field=Field::Region form=form errors=errors label=locale.t(Key::Region) edited=edited /> }
    };
    let state = move || {
        view! {
            <SelectField key="region" label=locale.t(Key::State) autocomplete="shipping address-level1"
                errors=errors form=form edited=edited pick=|d, v| d.region = v>
                <option value="" selected=bind(move || form.with(|d| d.region.is_empty()))>{locale.t(Key::Choose)}</option>
                {states()}
            </SelectField>
        }
    };
    // The region's field is built again only when the country changes between the US and
    // elsewhere, not on every edit of the form.
    let us = Memo::new(move |_| form.with(|d| d.country == "US"));
    view! {
        <fieldset class="tb-shipping">
            <legend>{locale.t(Key::ShippingAddress)}</legend>
            {text(Field::Name, Key::FullName)}
            {text(Field::Line1, Key::Address)}
            {text(Field::Line2, Key::Address2)}
            {text(Field::City, Key::City)}
            <SelectField key="country" label=locale.t(Key::Country) autocomplete="shipping country" errors=errors
                form=form edited=edited pick=|d, v| { d.country = v; d.region.clear(); }>
                {countries}
            </SelectField>
            {bind(move || if us.get() { state().into_any() } else { region().into_any() })}
            {text(Field::PostalCode, Key::PostalCode)}
        </fieldset>
    }
}
