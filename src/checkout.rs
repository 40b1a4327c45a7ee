//! The checkout sheet: email, shipping (physical goods only), the card frame, consent, the
//! server's quote and the Pay button.

use crate::card_frame::CardFrame;
use crate::format;
use crate::messages;
use crate::mount::WidgetCtx;
use crate::order::{pay, PayError};
use leptos::prelude::*;
use tweetbuy_core::address::US_STATES;
use tweetbuy_core::order::{validate_buyer_details, QuoteRequest};
use tweetbuy_core::{Country, FieldError, Offer, OrderReceipt, Quote, ShippingAddress};

/// Everything the visitor chooses and types, except the card (which only the vault's frame
/// ever holds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    pub variant_id: String,
    pub quantity: u32,
    pub email: String,
    pub name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub share_email: bool,
}

impl Details {
    /// A fresh form: the first variant in stock, quantity 1, the first shipping country.
    pub fn for_offer(offer: &Offer) -> Details {
        let variant = offer.variants.iter().find(|v| v.stock != Some(0)).or(offer.variants.first());
        Details {
            variant_id: variant.map(|v| v.id.clone()).unwrap_or_default(),
            quantity: 1,
            country: offer.ships_to.first().map(|c| c.code().to_owned()).unwrap_or_default(),
            ..Details::default()
        }
    }

    pub fn shipping(&self) -> ShippingAddress {
        ShippingAddress {
            name: self.name.clone(),
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
        }
    }

    /// The same checks the server makes, so the visitor sees every problem before paying.
    pub fn validate(&self, offer: &Offer) -> Vec<FieldError> {
        let shipping = self.shipping();
        validate_buyer_details(offer, &self.variant_id, self.quantity, &self.email, Some(&shipping))
            .err()
            .unwrap_or_default()
    }

    /// The quote request for the current choice.
    pub fn quote_request(&self, offer: &Offer) -> QuoteRequest {
        let physical = offer.kind.needs_shipping();
        QuoteRequest {
            product_id: offer.product_id.clone(),
            variant_id: self.variant_id.clone(),
            quantity: self.quantity,
            country: physical.then(|| Country::parse(&self.country)).flatten(),
            region: (physical && !self.region.is_empty()).then(|| self.region.clone()),
        }
    }
}

/// One text input of the form: its key in [`FieldError::field`], label and autofill token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Email,
    Name,
    Line1,
    Line2,
    City,
    Region,
    PostalCode,
}

impl Field {
    pub fn key(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::Name => "name",
            Field::Line1 => "line1",
            Field::Line2 => "line2",
            Field::City => "city",
            Field::Region => "region",
            Field::PostalCode => "postal_code",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Email => "Email",
            Field::Name => "Full name",
            Field::Line1 => "Address",
            Field::Line2 => "Apartment, suite (optional)",
            Field::City => "City",
            Field::Region => "State / region",
            Field::PostalCode => "Postal code",
        }
    }

    /// The HTML autocomplete token, so the browser's autofill fills the right box.
    pub fn autocomplete(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::Name => "shipping name",
            Field::Line1 => "shipping address-line1",
            Field::Line2 => "shipping address-line2",
            Field::City => "shipping address-level2",
            Field::Region => "shipping address-level1",
            Field::PostalCode => "shipping postal-code",
        }
    }

    fn value(self, d: &Details) -> &String {
        match self {
            Field::Email => &d.email,
            Field::Name => &d.name,
            Field::Line1 => &d.line1,
            Field::Line2 => &d.line2,
            Field::City => &d.city,
            Field::Region => &d.region,
            Field::PostalCode => &d.postal_code,
        }
    }

    fn value_mut(self, d: &mut Details) -> &mut String {
        match self {
            Field::Email => &mut d.email,
            Field::Name => &mut d.name,
            Field::Line1 => &mut d.line1,
            Field::Line2 => &mut d.line2,
            Field::City => &mut d.city,
            Field::Region => &mut d.region,
            Field::PostalCode => &mut d.postal_code,
        }
    }
}

/// The first error for a field, if any.
pub fn error_for(errors: &[FieldError], key: &str) -> Option<String> {
    errors.iter().find(|e| e.field == key).map(|e| e.message.clone())
}

/// A labelled text input bound to one field of the form, with its inline error.
#[component]
fn TextField(
    /// Which field.
    field: Field,
    /// The form.
    details: RwSignal<Details>,
    /// Current field errors.
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    let id = format!("tb-{}", field.key());
    let error_id = format!("{id}-error");
    let error = move || errors.with(|e| error_for(e, field.key()));
    let input_type = if field == Field::Email { "email" } else { "text" };
    view! {
        <div class="tb-field" part="field">
            <label for=id.clone()>{field.label()}</label>
            <input
                id=id
                type=input_type
                autocomplete=field.autocomplete()
                required=field != Field::Line2
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
                prop:value=move || details.with(|d| field.value(d).clone())
                on:input=move |ev| details.update(|d| *field.value_mut(d) = event_target_value(&ev))
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
    details: RwSignal<Details>,
    /// Back to the product details.
    on_back: Callback<()>,
    /// The order went through.
    on_paid: Callback<OrderReceipt>,
) -> impl IntoView {
    let ctx = expect_context::<WidgetCtx>();
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<String>);
    let frame_ready = RwSignal::new(false);
    let iframe = NodeRef::<leptos::html::Iframe>::new();
    let physical = offer.kind.needs_shipping();
    let seller = offer.seller.name.clone();
    let locale = ctx.locale.clone();

    let quote = {
        let (offer, api) = (offer.clone(), ctx.api.clone());
        LocalResource::new(move || {
            let request = details.with(|d| d.quote_request(&offer));
            let api = api.clone();
            async move { api.post::<_, Quote>("/api/v1/quote", &request, None).await }
        })
    };

    let pay_action = {
        let (offer, ctx) = (offer.clone(), ctx.clone());
        Action::new_local(move |_: &()| {
            let (offer, ctx, form) = (offer.clone(), ctx.clone(), details.get_untracked());
            let frame = iframe.get_untracked();
            async move { pay(&ctx, &offer, &form, frame).await }
        })
    };
    let paying = pay_action.pending();
    Effect::new(move |_| {
        if let Some(result) = pay_action.value().get() {
            match result {
                Ok(receipt) => on_paid.run(receipt),
                Err(PayError::Fields(fields)) => {
                    failure.set(Some("Some details need fixing: see the marked fields.".into()));
                    errors.set(fields);
                }
                Err(PayError::Client(error)) => {
                    if let crate::api::ClientError::Api { error: api_error, .. } = &error {
                        errors.set(api_error.fields.clone());
                    }
                    failure.set(Some(messages::for_error(&error)));
                }
                Err(PayError::Card(message)) => failure.set(Some(message)),
            }
        }
    });
    let submit = {
        let offer = offer.clone();
        move || {
            if paying.get_untracked() {
                return;
            }
            let found = details.with_untracked(|d| d.validate(&offer));
            failure.set(None);
            if !found.is_empty() {
                errors.set(found);
                failure.set(Some("Some details need fixing: see the marked fields.".into()));
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
            view! {
                <option value=code.clone() selected=move || details.with(|d| d.country == selected)>
                    {c.name()}
                </option>
            }
        })
        .collect_view();
    let states = US_STATES
        .iter()
        .map(|s| view! { <option value=*s selected=move || details.with(|d| d.region == *s)>{*s}</option> })
        .collect_view();
    let is_us = move || details.with(|d| d.country == "US");
    let region_error = move || errors.with(|e| error_for(e, "region"));
    let pay_locale = locale.clone();
    let pay_label = move || match quote.get() {
        Some(Ok(q)) => format!("Pay {}", format::money(&q.total, &pay_locale)),
        _ => "Pay".to_owned(),
    };
    let summary = move || {
        quote.get().map(|result| match result {
            Ok(q) => {
                let row = |name: &'static str, amount| view! { <div class="tb-row"><dt>{name}</dt><dd>{format::money(&amount, &locale)}</dd></div> };
                view! {
                    <dl class="tb-summary" aria-label="Order summary">
                        {row("Subtotal", q.subtotal)}
                        {row("Shipping", q.shipping)}
                        {row("Tax", q.tax)}
                        {row("Total", q.total)}
                    </dl>
                }
                .into_any()
            }
            Err(e) => view! { <p class="tb-error">{messages::for_error(&e)}</p> }.into_any(),
        })
    };
    let card_errors = move || {
        errors.with(|e| {
            e.iter()
                .filter(|f| matches!(f.field.as_str(), "number" | "expiry" | "cvc"))
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    let vault_origin = ctx.vault_origin.clone();

    view! {
        <form
            class="tb-checkout"
            novalidate=true
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
        >
            <p class="tb-failure" role="alert" aria-live="assertive">{move || failure.get()}</p>
            <TextField field=Field::Email details=details errors=errors />
            {physical.then(|| view! {
                <fieldset class="tb-shipping">
                    <legend>"Shipping address"</legend>
                    <TextField field=Field::Name details=details errors=errors />
                    <TextField field=Field::Line1 details=details errors=errors />
                    <TextField field=Field::Line2 details=details errors=errors />
                    <TextField field=Field::City details=details errors=errors />
                    <div class="tb-field" part="field">
                        <label for="tb-country">"Country"</label>
                        <select id="tb-country" autocomplete="shipping country" on:change=move |ev| details.update(|d| { d.country = event_target_value(&ev); d.region.clear(); })>
                            {countries}
                        </select>
                    </div>
                    <Show
                        when=is_us
                        fallback=move || view! { <TextField field=Field::Region details=details errors=errors /> }
                    >
                        <div class="tb-field" part="field">
                            <label for="tb-region">"State"</label>
                            <select
                                id="tb-region"
                                autocomplete="shipping address-level1"
                                aria-invalid=move || if region_error().is_some() { "true" } else { "false" }
                                aria-describedby="tb-region-error"
                                on:change=move |ev| details.update(|d| d.region = event_target_value(&ev))
                            >
                                <option value="" selected=move || details.with(|d| d.region.is_empty())>"Choose…"</option
                                >
                                {states.clone()}
                            </select>
                            <p id="tb-region-error" class="tb-error">{region_error}</p>
                        </div>
                    </Show>
                    <TextField field=Field::PostalCode details=details errors=errors />
                </fieldset>
            })}
            <div class="tb-field tb-card" part="field">
                <span id="tb-card-label" class="tb-label">"Card"</span>
                <CardFrame vault_origin=vault_origin iframe=iframe on_ready=Callback::new(move |_: ()| frame_ready.set(true)) />
                <p class="tb-error" id="tb-card-error">{card_errors}</p>
            </div>
            <label class="tb-consent">
                <input
                    type="checkbox"
                    prop:checked=move || details.with(|d| d.share_email)
                    on:change=move |ev| details.update(|d| d.share_email = event_target_checked(&ev))
                />
                <span>{format!("Share my email with {seller}")}</span>
            </label>
            <p class="tb-note">"Your card is never shared with the seller."</p>
            <Transition fallback=|| view! { <p class="tb-muted">"Calculating total…"</p> }>{summary}</Transition>
            <div class="tb-actions">
                <button type="button" class="tb-secondary" on:click=move |_| on_back.run(())>"Back"</button>
                <button
                    type="submit"
                    part="pay"
                    class="tb-primary tb-pay"
                    disabled=move || paying.get() || !frame_ready.get()
                    aria-busy=move || if paying.get() { "true" } else { "false" }
                >
                    {move || if paying.get() { "Paying…".to_owned() } else { pay_label() }}
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tee() -> Offer {
        serde_json::from_value(serde_json::json!({
            "tweet_id": "1528000000000000001", "product_id": "red-tee", "title": "t", "description": "d",
            "seller": {"name": "(RED)", "kind": "nonprofit"}, "kind": "physical", "currency": "USD",
            "variants": [{"id": "s", "label": "S", "price": {"minor": 3000, "currency": "USD"}, "stock": 0},
                         {"id": "m", "label": "M", "price": {"minor": 3000, "currency": "USD"}, "stock": 5}],
            "limited_edition": true, "availability": "available", "sale_ends_at": null,
            "ships_to": ["US"], "max_per_order": 5
        }))
        .unwrap()
    }

    #[test]
    fn a_fresh_form_skips_sold_out_variants() {
        let d = Details::for_offer(&tee());
        assert_eq!(d.variant_id, "m");
        assert_eq!(d.country, "US");
        assert_eq!(d.quantity, 1);
    }

    #[test]
    fn validation_uses_the_core_rules_and_names_fields() {
        let offer = tee();
        let mut d = Details::for_offer(&offer);
        let keys: Vec<String> = d.validate(&offer).into_iter().map(|e| e.field).collect();
        assert_eq!(keys, ["email", "name", "line1", "city", "postal_code", "region"]);
        d.email = "jane@example.com".into();
        d.name = "Jane Doe".into();
        d.line1 = "1 Main St".into();
        d.city = "New York".into();
        d.region = "NY".into();
        d.postal_code = "10001".into();
        assert!(d.validate(&offer).is_empty());
        assert_eq!(error_for(&[FieldError::new("email", "x", "Bad")], "email").as_deref(), Some("Bad"));
    }

    #[test]
    fn quote_request_carries_no_price_and_shipping_only_for_goods() {
        let offer = tee();
        let mut d = Details::for_offer(&offer);
        d.region = "NY".into();
        let q = d.quote_request(&offer);
        assert_eq!(q.country.unwrap().code(), "US");
        assert_eq!(q.region.as_deref(), Some("NY"));
        let mut ticket = offer.clone();
        ticket.kind = tweetbuy_core::ProductKind::Ticket;
        assert_eq!(d.quote_request(&ticket).country, None);
    }

    #[test]
    fn every_field_has_a_distinct_autofill_token() {
        let all =
            [Field::Email, Field::Name, Field::Line1, Field::Line2, Field::City, Field::Region, Field::PostalCode];
        let mut tokens: Vec<&str> = all.iter().map(|f| f.autocomplete()).collect();
        tokens.sort();
        tokens.dedup();
        assert_eq!(tokens.len(), all.len());
    }
}
