//! The checkout sheet: email, shipping (physical goods only), the card frame, consent, the
//! server's quote and the Pay button.

use crate::checkout::card::CardFrame;
use crate::checkout::form::{error_for, field_label, is_card_field, localized_errors, CheckoutForm, Field};
use crate::checkout::messages;
use crate::checkout::order::{pay, PayError, PendingOrder};
use crate::shared::context::WidgetCtx;
use crate::shared::events::{self, EmbedCtx, WidgetEvent};
use crate::shared::format;
use crate::shared::i18n::Key;
use leptos::prelude::*;
use tweetbuy_core::address::US_STATES;
use tweetbuy_core::{ErrorCode, FieldError, Offer, OrderReceipt, Quote};

/// Drops a field's error once the visitor edits it; the summary follows.
fn clear_error(errors: RwSignal<Vec<FieldError>>, key: &str) {
    if errors.with_untracked(|e| e.iter().any(|f| f.field == key)) {
        errors.update(|e| e.retain(|f| f.field != key));
    }
}

/// A labelled text input bound to one field of the form, with its inline error.
#[component]
fn TextField(
    field: Field,
    form: RwSignal<CheckoutForm>,
    /// Current field errors, already in the visitor's language.
    errors: RwSignal<Vec<FieldError>>,
    label: String,
    /// Takes focus when the checkout step appears.
    #[prop(optional)]
    autofocus: bool,
) -> impl IntoView {
    let id = format!("tb-{}", field.key());
    let error_id = format!("{id}-error");
    let error = move || errors.with(|e| error_for(e, field.key()));
    let input_type = if field == Field::Email { "email" } else { "text" };
    view! {
        <div class="tb-field" part="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=input_type
                autocomplete=field.autocomplete()
                inputmode=if field == Field::Email { Some("email") } else { None }
                required=field != Field::Line2
                aria-required=if field == Field::Line2 { "false" } else { "true" }
                data-tb-focus=autofocus.then_some("")
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
                prop:value=move || form.with(|d| field.value(d).clone())
                on:input=move |ev| {
                    form.update(|d| *field.value_mut(d) = event_target_value(&ev));
                    clear_error(errors, field.key());
                }
            />
            <p id=error_id class="tb-error">{error}</p>
        </div>
    }
}

/// The checkout sheet.
#[component]
pub fn Checkout(
    /// The offer being bought.
    offer: Offer,
    /// The form, kept by the button across openings.
    form: RwSignal<CheckoutForm>,
    /// Back to the product form.
    on_back: Callback<()>,
    /// The order went through.
    on_paid: Callback<OrderReceipt>,
    /// The server said the offer changed meanwhile (sold out, sale ended): read it again.
    on_stale: Callback<()>,
    /// Escape was pressed inside the card frame: close the sheet.
    on_escape: Callback<()>,
) -> impl IntoView {
    let ctx = expect_context::<WidgetCtx>();
    let locale = crate::shared::i18n::use_locale();
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<String>);
    let frame_ready = RwSignal::new(false);
    let iframe = NodeRef::<leptos::html::Iframe>::new();
    let summary_ref = NodeRef::<leptos::html::Div>::new();
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let physical = offer.kind.needs_shipping();
    let seller = offer.seller.name.clone();
    let tag = locale.tag();
    let offer_value = StoredValue::new(offer.clone());

    // Only what changes the price asks for a new quote, not every keystroke of the email.
    let quote_request = {
        let offer = offer.clone();
        Memo::new(move |_| form.with(|d| d.quote_request(&offer)))
    };
    let quote = {
        let api = ctx.api.clone();
        LocalResource::new(move || {
            let request = quote_request.get();
            let api = api.clone();
            async move { api.post::<_, Quote>("/api/v1/quote", &request, None).await }
        })
    };

    // Server and frame errors arrive in English with stable codes: show them in the
    // visitor's language.
    let set_errors = move |found: Vec<FieldError>| {
        let localized = form.with_untracked(|d| {
            offer_value.with_value(|o| locale.with(|locale| localized_errors(&found, o, d, locale)))
        });
        errors.set(localized);
    };
    // Focus the first field to fix, or the summary when the problem is not one field's.
    let focus_problem = move || {
        leptos::task::spawn_local(async move {
            crate::shared::util::sleep(0).await;
            let first = errors.with_untracked(|e| e.iter().find(|f| !is_card_field(&f.field)).map(|f| f.field.clone()));
            let field =
                first.and_then(|key| form_ref.get_untracked()?.query_selector(&format!("#tb-{key}")).ok().flatten());
            match field.and_then(|f| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(f).ok()) {
                Some(input) => {
                    let _ = input.focus();
                }
                None => {
                    if let Some(summary) = summary_ref.get_untracked() {
                        let _ = summary.focus();
                    }
                }
            }
        });
    };

    // The order's answer was lost and the widget is asking for its outcome.
    let checking = RwSignal::new(false);
    // An order whose outcome is unknown, asked about again before anything new is paid.
    let pending = use_context::<PendingOrder>().unwrap_or_default();
    let pay_action = {
        let (offer, ctx) = (offer.clone(), ctx.clone());
        Action::new_local(move |_: &()| {
            let (offer, ctx, form) = (offer.clone(), ctx.clone(), form.get_untracked());
            let frame = iframe.get_untracked();
            let earlier = pending.0.get_value();
            async move {
                let remember = move |order| pending.0.set_value(order);
                pay(&ctx, &offer, &form, frame, earlier, &remember, &move |on| checking.set(on)).await
            }
        })
    };
    let paying = pay_action.pending();
    let saved = use_context::<crate::checkout::saved::SavedCtx>();
    let embed = StoredValue::new(use_context::<EmbedCtx>());
    let emit_error = move |code: String, message: &str| {
        embed.with_value(|embed| {
            if let Some(embed) = embed {
                events::emit(embed, WidgetEvent::Error { code, message: message.to_owned() });
            }
        })
    };
    Effect::new(move |_| {
        if let Some(result) = pay_action.value().get() {
            match result {
                Ok((receipt, token)) => {
                    if let Some(saved) = saved {
                        saved.paid_token.set(Some(token));
                    }
                    on_paid.run(receipt)
                }
                Err(PayError::Fields(fields)) => {
                    set_errors(fields);
                    failure.set(Some(locale.t(Key::FixFields)));
                    focus_problem();
                }
                Err(PayError::Client(error)) => {
                    if let crate::shared::api::ClientError::Api { error: api_error, .. } = &error {
                        set_errors(api_error.fields.clone());
                        if matches!(
                            api_error.code,
                            ErrorCode::SoldOut | ErrorCode::SaleEnded | ErrorCode::SaleNotStarted
                        ) {
                            on_stale.run(());
                        }
                    }
                    let message = locale.with(|locale| messages::for_error(locale, &error));
                    emit_error(events::error_code(&error), &message);
                    failure.set(Some(message));
                    focus_problem();
                }
                Err(PayError::Card(key)) => {
                    let message = locale.t(key);
                    emit_error("card_error".into(), &message);
                    failure.set(Some(message));
                    focus_problem();
                }
            }
        }
    });
    let submit = {
        let offer = offer.clone();
        move || {
            if paying.get_untracked() {
                return;
            }
            let found = form.with_untracked(|d| d.validate(&offer));
            failure.set(None);
            if !found.is_empty() {
                set_errors(found);
                failure.set(Some(locale.t(Key::FixFields)));
                focus_problem();
                return;
            }
            errors.set(Vec::new());
            pay_action.dispatch(());
        }
    };

    let countries = offer
        .ships_to
        .iter()
        .map(|c| {
            let code = c.code().to_owned();
            let selected = code.clone();
            let name = format::country_name(*c, &tag);
            view! {
                <option value=code.clone() selected=move || form.with(|d| d.country == selected)>
                    {name}
                </option>
            }
        })
        .collect_view();
    let states = US_STATES
        .iter()
        .map(|s| view! { <option value=*s selected=move || form.with(|d| d.region == *s)>{*s}</option> })
        .collect_view();
    let is_us = move || form.with(|d| d.country == "US");
    let region_error = move || errors.with(|e| error_for(e, "region"));
    let country_error = move || errors.with(|e| error_for(e, "country"));
    let pay_tag = tag.clone();
    let pay_label = move || match quote.get() {
        Some(Ok(q)) => {
            let total = format::money(&q.total, &pay_tag);
            locale.fill(Key::PayTotal, &[("total", &total)])
        }
        _ => locale.t(Key::Pay),
    };
    let summary_tag = tag.clone();
    let summary = move || {
        quote.get().map(|result| match result {
            Ok(q) => {
                let row = |key: Key, amount| {
                    view! {
                        <div class="tb-row">
                            <dt>{locale.t(key)}</dt>
                            <dd>{format::money(&amount, &summary_tag)}</dd>
                        </div>
                    }
                };
                view! {
                    <section class="tb-order-summary" aria-labelledby="tb-summary-title">
                        <h3 id="tb-summary-title" class="tb-subtitle">{locale.t(Key::OrderSummary)}</h3>
                        <dl class="tb-summary">
                            {row(Key::Subtotal, q.subtotal)}
                            {physical.then(|| row(Key::Shipping, q.shipping))}
                            {row(Key::Tax, q.tax)}
                            {row(Key::Total, q.total)}
                        </dl>
                    </section>
                }
                .into_any()
            }
            Err(e) => {
                view! { <p class="tb-error">{locale.with(|locale| messages::for_error(locale, &e))}</p> }.into_any()
            }
        })
    };
    let card_errors = move || {
        errors.with(|e| {
            e.iter().filter(|f| is_card_field(&f.field)).map(|f| f.message.clone()).collect::<Vec<_>>().join(" ")
        })
    };
    let error_list = move || {
        let us = is_us();
        errors.with(|e| {
            e.iter()
                .map(|f| {
                    let label = locale.t(field_label(&f.field, us));
                    view! { <li>{format!("{label}: {}", f.message)}</li> }
                })
                .collect_view()
        })
    };
    let vault_origin = ctx.vault_origin.clone();

    view! {
        <form
            node_ref=form_ref
            class="tb-checkout"
            novalidate=true
            aria-labelledby="tb-title"
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
        >
            <div node_ref=summary_ref class="tb-failure" role="alert" tabindex="-1">
                {move || {
                    let fix_only = failure.with(|f| f.as_deref() == Some(locale.t(Key::FixFields)).as_deref());
                    let nothing_left = errors.with(|e| e.is_empty());
                    failure.get().filter(|_| !(fix_only && nothing_left)).map(|f| view! { <p class="tb-failure-title">{f}</p> })
                }}
                <ul class="tb-error-list">{error_list}</ul>
            </div>
            <TextField field=Field::Email form=form errors=errors label=locale.t(Key::Email) autofocus=true />
            {physical.then(|| {
                view! {
                <fieldset class="tb-shipping">
                    <legend>{locale.t(Key::ShippingAddress)}</legend>
                    <TextField field=Field::Name form=form errors=errors label=locale.t(Key::FullName) />
                    <TextField field=Field::Line1 form=form errors=errors label=locale.t(Key::Address) />
                    <TextField field=Field::Line2 form=form errors=errors label=locale.t(Key::Address2) />
                    <TextField field=Field::City form=form errors=errors label=locale.t(Key::City) />
                    <div class="tb-field" part="field">
                        <label for="tb-country">{locale.t(Key::Country)}</label>
                        <select
                            id="tb-country"
                            autocomplete="shipping country"
                            aria-invalid=move || if country_error().is_some() { "true" } else { "false" }
                            aria-describedby="tb-country-error"
                            on:change=move |ev| {
                                form.update(|d| { d.country = event_target_value(&ev); d.region.clear(); });
                                clear_error(errors, "country");
                            }
                        >
                            {countries}
                        </select>
                        <p id="tb-country-error" class="tb-error">{country_error}</p>
                    </div>
                    <Show
                        when=is_us
                        fallback={
                            let label = locale.t(Key::Region);
                            move || view! { <TextField field=Field::Region form=form errors=errors label=label.clone() /> }
                        }
                    >
                        <div class="tb-field" part="field">
                            <label for="tb-region">{locale.t(Key::State)}</label>
                            <select
                                id="tb-region"
                                autocomplete="shipping address-level1"
                                aria-required="true"
                                aria-invalid=move || if region_error().is_some() { "true" } else { "false" }
                                aria-describedby="tb-region-error"
                                on:change=move |ev| {
                                    form.update(|d| d.region = event_target_value(&ev));
                                    clear_error(errors, "region");
                                }
                            >
                                <option value="" selected=move || form.with(|d| d.region.is_empty())>
                                    {locale.t(Key::Choose)}
                                </option>
                                {states.clone()}
                            </select>
                            <p id="tb-region-error" class="tb-error">{region_error}</p>
                        </div>
                    </Show>
                    <TextField field=Field::PostalCode form=form errors=errors label=locale.t(Key::PostalCode) />
                </fieldset>
            }})}
            <div class="tb-field tb-card" part="field">
                <span id="tb-card-label" class="tb-label">{locale.t(Key::Card)}</span>
                <CardFrame
                    vault_origin=vault_origin
                    title=locale.t(Key::CardDetails)
                    lang=locale.tag()
                    iframe=iframe
                    on_escape=on_escape
                    on_ready=Callback::new(move |_: ()| frame_ready.set(true))
                />
                <p class="tb-error" id="tb-card-error">{card_errors}</p>
            </div>
            <label class="tb-consent" for="tb-share-email">
                <input
                    id="tb-share-email"
                    type="checkbox"
                    prop:checked=move || form.with(|d| d.share_email)
                    on:change=move |ev| form.update(|d| d.share_email = event_target_checked(&ev))
                />
                <span>{locale.fill(Key::ShareEmail, &[("seller", &seller)])}</span>
            </label>
            <p class="tb-note">{locale.t(Key::CardNeverShared)}</p>
            <Transition fallback={
                let text = locale.t(Key::Calculating);
                move || view! { <p class="tb-muted">{text.clone()}</p> }
            }>{summary}</Transition>
            <div class="tb-actions">
                <button type="button" class="tb-secondary" on:click=move |_| on_back.run(())>{locale.t(Key::Back)}</button>
                <button
                    type="submit"
                    part="pay"
                    class="tb-primary tb-pay"
                    disabled=move || paying.get() || !frame_ready.get()
                    aria-busy=move || if paying.get() { "true" } else { "false" }
                >
                    {move || match (paying.get(), checking.get()) {
                        (true, true) => locale.t(Key::CheckingOrder),
                        (true, false) => locale.t(Key::Paying),
                        _ => pay_label(),
                    }}
                </button>
            </div>
        </form>
    }
}
