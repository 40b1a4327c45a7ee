//! The buyer's choice on the product step: the variant (an accessible radio group) and the
//! quantity (a stepper bounded by stock and the per-order limit). Both lock while a saved
//! payment is under way.

use crate::checkout::bind::bind;
use crate::checkout::bind::handler;
use crate::checkout::form::{quantity_max, CheckoutForm};
use crate::checkout::product::{quantity_hint, stepped, stock_text, typed_quantity};
use crate::shared::format;
use crate::shared::i18n::{Key, SheetLocale};
use leptos::prelude::*;
use tweetbuy_core::catalog::Availability;
use tweetbuy_core::{Offer, ProductKind};

/// The variants as radio buttons, each with its price and stock.
#[component]
pub fn VariantPicker(
    offer: RwSignal<Offer>,
    form: RwSignal<CheckoutForm>,
    locale: SheetLocale,
    busy: RwSignal<bool>,
) -> impl IntoView {
    let first = offer.get_untracked();
    let tag = locale.tag();
    let variants = first
        .variants
        .iter()
        .map(|variant| {
            let lang = first.lang.clone();
            let id = StoredValue::new(variant.id.clone());
            let input_id = format!("tb-variant-{}", variant.id);
            let label_for = input_id.clone();
            let price = format::money(&variant.price, &tag);
            let meta = move || {
                let stock = offer.with(|o| id.with_value(|id| o.variant(id).and_then(|v| v.stock)));
                format!("{price} · {}", locale.with(|l| stock_text(stock, l)))
            };
            let disabled = move || {
                busy.get()
                    || offer.with(|o| {
                        o.availability != Availability::Available
                            || id.with_value(|id| o.variant(id).is_some_and(|v| v.stock == Some(0)))
                    })
            };
            let choose = move |_| {
                let max = offer.with_untracked(|o| id.with_value(|id| quantity_max(o, id)));
                form.update(|d| {
                    d.variant_id = id.get_value();
                    d.quantity = d.quantity.clamp(1, max);
                })
            };
            view! {
                <label part="variant" class="tb-variant" for=label_for>
                    <input id=input_id type="radio" name="variant" value=id.get_value() disabled=bind(disabled)
                        prop:checked=bind(move || form.with(|d| id.with_value(|id| d.variant_id == *id)))
                        on:change=handler(choose)
                    />
                    <span class="tb-variant-label" lang=lang>{variant.label.clone()}</span>
                    <span class="tb-variant-meta">{bind(meta)}</span>
                </label>
            }
        })
        .collect_view();
    let legend = locale.t(if first.kind == ProductKind::Ticket { Key::TicketLegend } else { Key::OptionLegend });
    view! {
        <fieldset class="tb-variants" role="radiogroup" aria-labelledby="tb-variants-legend">
            <legend id="tb-variants-legend">{legend}</legend>
            {variants}
        </fieldset>
    }
}

/// The quantity: − and + buttons around a number field, with the limit in words.
#[component]
pub fn QuantityStepper(
    offer: RwSignal<Offer>,
    form: RwSignal<CheckoutForm>,
    locale: SheetLocale,
    busy: RwSignal<bool>,
) -> impl IntoView {
    let closed = move || busy.get() || offer.with(|o| o.availability != Availability::Available);
    let max = move || offer.with(|o| form.with(|d| quantity_max(o, &d.variant_id)));
    // The option for which a typed number above the limit was cut down: the hint says so
    // until the next change of quantity or option.
    let cut = RwSignal::new(None::<String>);
    // Fewer left than the buyer chose (the stock went down while the sheet was open, or a
    // payment found it so): the quantity comes down to what can be bought, and the hint says
    // so, rather than showing a number that Continue would quietly cut.
    crate::checkout::bind::effect(move |_| {
        let top = max();
        if form.with_untracked(|d| d.quantity > top) {
            cut.set(form.with_untracked(|d| Some(d.variant_id.clone())));
            form.update(|d| d.quantity = top);
        }
    });
    // What a step changed the quantity to, said aloud ("Quantity 3"): the field's new value
    // is not.
    let stepped_to = RwSignal::new(None::<String>);
    let step = move |delta: i64| {
        let top = max();
        cut.set(None);
        form.update(|d| d.quantity = stepped(d.quantity, delta, top));
        let mut said = locale.t(Key::Quantity);
        said.push(' ');
        said.push_str(&form.with_untracked(|d| d.quantity).to_string());
        stepped_to.set(Some(said));
    };
    let hint = move || {
        let open = offer.with(|o| o.availability == Availability::Available);
        let key = offer.with(|o| {
            form.with(|d| quantity_hint(o, &d.variant_id, cut.with(|c| c.as_deref() == Some(d.variant_id.as_str()))))
        });
        key.filter(|_| open).map(|key| locale.fill(key, &[("max", &max().to_string())]))
    };
    view! {
        <div class="tb-field tb-quantity" part="field">
            <label for="tb-quantity">{locale.t(Key::Quantity)}</label>
            <div class="tb-stepper">
                <button type="button" class="tb-step" aria-label=locale.t(Key::Decrease) aria-controls="tb-quantity"
                    // At a limit a step does nothing, but keeps focus: a disabled button
                    // would drop it to the page.
                    disabled=bind(closed)
                    aria-disabled=bind(move || form.with(|d| d.quantity <= 1).then_some("true"))
                    on:click=handler(move |_| step(-1))
                >
                    <span aria-hidden="true">"−"</span>
                </button>
                <input id="tb-quantity" type="number" inputmode="numeric" min="1" aria-describedby="tb-quantity-hint"
                    max=bind(move || max().to_string())
                    prop:value=bind(move || form.with(|d| d.quantity.to_string()))
                    disabled=bind(closed)
                    on:change=handler(move |ev| {
                        let (wanted, was_cut) = typed_quantity(&event_target_value(&ev), max());
                        cut.set(was_cut.then(|| form.with_untracked(|d| d.variant_id.clone())));
                        form.update(|d| d.quantity = wanted);
                    })
                />
                <button type="button" class="tb-step" aria-label=locale.t(Key::Increase) aria-controls="tb-quantity"
                    disabled=bind(closed)
                    aria-disabled=bind(move || form.with(|d| d.quantity >= max()).then_some("true"))
                    on:click=handler(move |_| step(1))
                >
                    <span aria-hidden="true">"+"</span>
                </button>
            </div>
            <p id="tb-quantity-hint" class="tb-muted" aria-live="polite">{bind(hint)}</p>
            <p class="tb-visually-hidden" role="status">{bind(move || stepped_to.get())}</p>
        </div>
    }
}
