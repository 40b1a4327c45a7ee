//! The product details: seller, description, price, variant and quantity.

use crate::checkout::Details;
use crate::format;
use crate::mount::WidgetCtx;
use leptos::prelude::*;
use tweetbuy_core::catalog::{Availability, SellerKind};
use tweetbuy_core::{Offer, ProductKind};

/// Why buying is not possible right now, in words; `None` when it is.
pub fn unavailable_reason(availability: Availability) -> Option<&'static str> {
    match availability {
        Availability::Available => None,
        Availability::SoldOut => Some("Sold out. Every unit has been sold."),
        Availability::SaleEnded => Some("This sale has ended."),
        Availability::NotStarted => Some("This sale has not started yet."),
    }
}

/// The badge text for a seller's kind.
pub fn seller_badge(kind: SellerKind) -> &'static str {
    match kind {
        SellerKind::Nonprofit => "Nonprofit",
        SellerKind::Brand => "Brand",
        SellerKind::Artist => "Artist",
    }
}

/// Product details with the variant picker (an accessible radio group) and quantity.
#[component]
pub fn ProductSheet(
    /// The offer shown.
    offer: Offer,
    /// The chosen variant and quantity live here with the rest of the form.
    details: RwSignal<Details>,
    /// Called when the visitor moves on to checkout.
    on_continue: Callback<()>,
) -> impl IntoView {
    let ctx = expect_context::<WidgetCtx>();
    let locale = ctx.locale.clone();
    let reason = unavailable_reason(offer.availability);
    let max_quantity = {
        let offer = offer.clone();
        move || offer.variant(&details.with(|d| d.variant_id.clone())).map_or(1, |v| offer.max_quantity(v).max(1))
    };
    let variants = offer
        .variants
        .iter()
        .map(|variant| {
            let id = variant.id.clone();
            let id_for_check = id.clone();
            let price = format::money(&variant.price, &locale);
            let stock = match variant.stock {
                Some(0) => " · sold out".to_owned(),
                Some(n) if offer.limited_edition => format!(" · {n} left"),
                _ => String::new(),
            };
            let sold_out = variant.stock == Some(0);
            view! {
                <label part="variant" class="tb-variant">
                    <input
                        type="radio"
                        name="variant"
                        value=id.clone()
                        disabled=sold_out || reason.is_some()
                        prop:checked=move || details.with(|d| d.variant_id == id_for_check)
                        on:change=move |_| details.update(|d| d.variant_id = id.clone())
                    />
                    <span class="tb-variant-label">{variant.label.clone()}</span>
                    <span class="tb-variant-meta">{price}{stock}</span>
                </label>
            }
        })
        .collect_view();
    let price = offer.price_from().map(|p| format::money(&p, &locale)).unwrap_or_default();
    let stock_left = offer.limited_edition.then(|| offer.stock_left()).flatten();
    let delivery = match offer.kind {
        ProductKind::Physical => None,
        _ => Some(offer.delivery.clone().unwrap_or_else(|| "Delivered by email.".into())),
    };
    let quantity_max = max_quantity.clone();
    view! {
        <div class="tb-product">
            {offer.images.first().map(|img| view! { <img class="tb-image" src=img.url.clone() alt=img.alt.clone() /> })}
            <p class="tb-seller">
                {offer.seller.name.clone()}
                <span class="tb-badge">{seller_badge(offer.seller.kind)}</span>
                {offer.limited_edition.then(|| view! { <span class="tb-badge tb-badge-limited">"Limited edition"</span> })}
            </p>
            <p part="price" class="tb-price">{price}</p>
            {stock_left.map(|n| view! { <p class="tb-stock" aria-live="polite">{format!("{n} left")}</p> })}
            <p class="tb-description">{offer.description.clone()}</p>
            {delivery.map(|d| view! { <p class="tb-delivery">{d}</p> })}
            <fieldset class="tb-variants" role="radiogroup">
                <legend>{if offer.kind == ProductKind::Ticket { "Ticket" } else { "Option" }}</legend>
                {variants}
            </fieldset>
            <label class="tb-field" part="field">
                <span>"Quantity"</span>
                <input
                    type="number"
                    min="1"
                    max=move || quantity_max().to_string()
                    prop:value=move || details.with(|d| d.quantity.to_string())
                    disabled=reason.is_some()
                    on:input=move |ev| {
                        let max = max_quantity();
                        let wanted = event_target_value(&ev).parse::<u32>().unwrap_or(1);
                        details.update(|d| d.quantity = wanted.clamp(1, max));
                    }
                />
            </label>
            {reason.map(|r| view! { <p class="tb-unavailable" role="status">{r}</p> })}
            <button
                type="button"
                class="tb-primary"
                disabled=reason.is_some()
                on:click=move |_| on_continue.run(())
            >
                "Continue"
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unavailable_state_gives_a_reason() {
        assert_eq!(unavailable_reason(Availability::Available), None);
        for a in [Availability::SoldOut, Availability::SaleEnded, Availability::NotStarted] {
            assert!(unavailable_reason(a).is_some());
        }
        assert_eq!(seller_badge(SellerKind::Nonprofit), "Nonprofit");
    }
}
