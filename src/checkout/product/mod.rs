//! The product form: gallery, seller, description, price, live stock, the sale's
//! countdown, variant and quantity.

use crate::checkout::form::quantity_max;
use crate::checkout::form::CheckoutForm;
use crate::checkout::saved::{SavedCtx, SavedNotice, SavedPay};
use crate::shared::format;
use crate::shared::i18n::{Key, Locale};
use leptos::prelude::*;
use tweetbuy_core::catalog::Availability;
use tweetbuy_core::{Offer, OrderReceipt, ProductKind};

/// A variant's stock in words: "Sold out", "3 left", or "In stock" when not counted.
pub fn stock_text(stock: Option<u32>, locale: &Locale) -> String {
    match stock {
        Some(0) => locale.t(Key::VariantSoldOut),
        Some(n) => locale.fill(Key::NLeftVariant, &[("n", &format::number(n, &locale.tag))]),
        None => locale.t(Key::InStock),
    }
}

/// Why the visitor cannot continue right now, in words; `None` when they can. The offer's
/// state first (sold out, ended), then the chosen option's stock.
pub fn blocked_reason(offer: &Offer, variant_id: &str, locale: &Locale) -> Option<String> {
    locale.unavailable(offer.availability).or_else(|| match offer.variant(variant_id) {
        Some(v) if v.stock == Some(0) => Some(locale.t(Key::ReasonVariantSoldOut)),
        None => Some(locale.t(Key::ErrVariant)),
        Some(_) => None,
    })
}

/// How a ticket or download reaches the buyer; `None` for goods that ship.
pub fn delivery_note(offer: &Offer, locale: &Locale) -> Option<String> {
    (!offer.kind.needs_shipping()).then(|| {
        offer.delivery.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| locale.t(Key::DeliveredByEmail))
    })
}

/// Product form with the variant picker (an accessible radio group) and quantity.
#[component]
pub fn ProductSheet(
    /// The offer shown, kept fresh by the sheet while it is open.
    offer: RwSignal<Offer>,
    /// The clock for the sale countdown (Unix seconds).
    now: RwSignal<i64>,
    /// The chosen variant and quantity live here with the rest of the form.
    form: RwSignal<CheckoutForm>,
    /// Called when the visitor moves on to checkout.
    on_continue: Callback<()>,
    /// Called when the order was paid right here with saved info.
    #[prop(optional)]
    on_paid: Option<Callback<OrderReceipt>>,
) -> impl IntoView {
    let locale = crate::shared::i18n::use_locale();
    let first = offer.get_untracked();
    let tag = locale.tag();

    let reason = move || offer.with(|o| form.with(|d| locale.with(|locale| blocked_reason(o, &d.variant_id, locale))));
    let closed = move || offer.with(|o| o.availability != Availability::Available);
    let max = move || offer.with(|o| form.with(|d| quantity_max(o, &d.variant_id)));

    let images = first.images.clone();
    let image_count = images.len();
    let gallery = (!images.is_empty()).then(|| {
        let items = images
            .into_iter()
            .enumerate()
            .map(|(i, img)| {
                let position =
                    locale.fill(Key::ImageN, &[("n", &(i + 1).to_string()), ("total", &image_count.to_string())]);
                view! {
                    <li class="tb-gallery-item" aria-label=(image_count > 1).then_some(position)>
                        <img class="tb-image" src=img.url alt=img.alt loading="lazy" width="400" height="300" />
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="tb-gallery" aria-label=locale.t(Key::Images)>{items}</ul> }
    });

    let variants = first
        .variants
        .iter()
        .map(|variant| {
            let id = variant.id.clone();
            let input_id = format!("tb-variant-{}", variant.id);
            let label_for = input_id.clone();
            let (for_checked, for_change, for_meta, for_disabled) = (id.clone(), id.clone(), id.clone(), id.clone());
            let price = format::money(&variant.price, &tag);
            let meta = move || {
                let stock = offer.with(|o| o.variant(&for_meta).and_then(|v| v.stock));
                format!("{price} · {}", locale.with(|locale| stock_text(stock, locale)))
            };
            let disabled = move || {
                offer.with(|o| {
                    o.availability != Availability::Available
                        || o.variant(&for_disabled).is_some_and(|v| v.stock == Some(0))
                })
            };
            view! {
                <label part="variant" class="tb-variant" for=label_for>
                    <input
                        id=input_id
                        type="radio"
                        name="variant"
                        value=id
                        disabled=disabled
                        prop:checked=move || form.with(|d| d.variant_id == for_checked)
                        on:change=move |_| {
                            let max = offer.with_untracked(|o| quantity_max(o, &for_change));
                            form.update(|d| {
                                d.variant_id = for_change.clone();
                                d.quantity = d.quantity.clamp(1, max);
                            })
                        }
                    />
                    <span class="tb-variant-label">{variant.label.clone()}</span>
                    <span class="tb-variant-meta">{meta}</span>
                </label>
            }
        })
        .collect_view();

    let price = first.price_from().map(|p| format::money(&p, &tag)).unwrap_or_default();
    let stock_left = move || {
        offer.with(|o| o.stock_left()).map(|n| locale.fill(Key::NLeft, &[("n", &format::number(n, &locale.tag()))]))
    };
    let countdown = move || {
        let (ends, open) = offer.with(|o| (o.sale_ends_at, o.availability == Availability::Available));
        ends.filter(|_| open).map(|end| {
            let left = format::countdown(end - now.get(), &locale.get());
            let at = locale.fill(Key::SaleEndsAt, &[("date", &format::date_time(end, &locale.tag()))]);
            view! {
                <p class="tb-countdown">
                    <span role="timer" aria-live="off">{locale.fill(Key::SaleEndsIn, &[("time", &left)])}</span>
                    " "
                    <span class="tb-muted">{format!("({at})")}</span>
                </p>
            }
        })
    };
    let delivery = delivery_note(&first, &locale.get()).map(|note| {
        let no_shipping = locale.t(Key::NoShipping);
        view! { <p class="tb-delivery"><strong>{note}</strong> " " {no_shipping}</p> }
    });
    let legend = locale.t(if first.kind == ProductKind::Ticket { Key::TicketLegend } else { Key::OptionLegend });
    let limited = first.limited_edition;
    let quantity_hint = move || locale.fill(Key::QuantityLimit, &[("max", &max().to_string())]);
    let step_quantity = move |delta: i64| {
        let top = i64::from(max());
        form.update(|d| d.quantity = (i64::from(d.quantity) + delta).clamp(1, top) as u32);
    };

    // Saved info on this device: Pay right here (Buy, then Pay), or the normal form.
    let saved = use_context::<SavedCtx>();
    let has_saved = Memo::new(move |_| saved.is_some_and(|s| s.state.with(|st| st.card().is_some())));
    let continue_ref = NodeRef::<leptos::html::Button>::new();
    // Saved info removed: focus goes to the normal form's Continue, which replaced it.
    Effect::new(move |before: Option<bool>| {
        let now = has_saved.get();
        if before == Some(true) && !now {
            leptos::task::spawn_local(async move {
                crate::shared::util::sleep(0).await;
                if let Some(b) = continue_ref.get_untracked() {
                    let _ = b.focus();
                }
            });
        }
        now
    });
    let saved_pay = move || {
        let continue_step = move |_: ()| {
            let top = max();
            form.update(|d| d.quantity = d.quantity.clamp(1, top));
            on_continue.run(())
        };
        view! {
            <SavedPay
                offer=offer
                form=form
                blocked=Signal::derive(move || reason().is_some())
                on_paid=on_paid.unwrap_or_else(|| Callback::new(|_| {}))
                on_other=Callback::new(continue_step)
            />
        }
    };

    view! {
        <div class="tb-product">
            {gallery}
            <p class="tb-seller">
                <span>{locale.fill(Key::SoldBy, &[("seller", &first.seller.name)])}</span>
                <span class="tb-badge">{locale.with(|locale| locale.seller_kind(first.seller.kind))}</span>
                {limited.then(|| view! { <span class="tb-badge tb-badge-limited">{locale.t(Key::LimitedEdition)}</span> })}
            </p>
            <p part="price" class="tb-price">{price}</p>
            <p class="tb-unavailable" role="status">{reason}</p>
            {limited.then(|| view! { <p class="tb-stock" aria-live="polite" aria-atomic="true">{stock_left}</p> })}
            {countdown}
            <p class="tb-description">{first.description.clone()}</p>
            {delivery}
            <fieldset class="tb-variants" role="radiogroup" aria-labelledby="tb-variants-legend">
                <legend id="tb-variants-legend">{legend}</legend>
                {variants}
            </fieldset>
            <div class="tb-field tb-quantity" part="field">
                <label for="tb-quantity">{locale.t(Key::Quantity)}</label>
                <div class="tb-stepper">
                    <button
                        type="button"
                        class="tb-step"
                        aria-label=locale.t(Key::Decrease)
                        aria-controls="tb-quantity"
                        disabled=move || closed() || form.with(|d| d.quantity <= 1)
                        on:click=move |_| step_quantity(-1)
                    >
                        <span aria-hidden="true">"−"</span>
                    </button>
                    <input
                        id="tb-quantity"
                        type="number"
                        inputmode="numeric"
                        min="1"
                        max=move || max().to_string()
                        aria-describedby="tb-quantity-hint"
                        prop:value=move || form.with(|d| d.quantity.to_string())
                        disabled=closed
                        on:change=move |ev| {
                            let top = max();
                            let wanted = event_target_value(&ev).trim().parse::<u32>().unwrap_or(1);
                            form.update(|d| d.quantity = wanted.clamp(1, top));
                        }
                    />
                    <button
                        type="button"
                        class="tb-step"
                        aria-label=locale.t(Key::Increase)
                        aria-controls="tb-quantity"
                        disabled=move || closed() || form.with(|d| d.quantity >= max())
                        on:click=move |_| step_quantity(1)
                    >
                        <span aria-hidden="true">"+"</span>
                    </button>
                </div>
                <p id="tb-quantity-hint" class="tb-muted">{move || (!closed()).then(quantity_hint)}</p>
            </div>
            <SavedNotice />
            <Show when=move || !has_saved.get()>
            <button
                node_ref=continue_ref
                type="button"
                class="tb-primary"
                data-tb-focus=""
                disabled=move || reason().is_some()
                on:click=move |_| {
                    let top = max();
                    form.update(|d| d.quantity = d.quantity.clamp(1, top));
                    on_continue.run(())
                }
            >
                {locale.t(Key::Continue)}
            </button>
            </Show>
            {move || has_saved.get().then(saved_pay)}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::{testing, Currency};

    /// A ticket in euros: GA with 2 left, VIP sold out, and a free tier that counts no stock.
    fn ticket() -> Offer {
        let mut offer = testing::ticket();
        offer.currency = Currency::EUR;
        offer.variants = ["ga", "vip", "free"]
            .into_iter()
            .zip([Some(2), Some(0), None])
            .map(|(id, stock)| testing::variant(id, 4500, Currency::EUR, stock))
            .collect();
        offer
    }

    #[test]
    fn every_blocked_state_gives_a_reason() {
        let en = Locale::new("en");
        let mut offer = ticket();
        assert_eq!(blocked_reason(&offer, "ga", &en), None);
        assert!(blocked_reason(&offer, "vip", &en).unwrap().contains("option is sold out"));
        assert!(blocked_reason(&offer, "nope", &en).is_some());
        for a in [Availability::SoldOut, Availability::SaleEnded, Availability::NotStarted] {
            offer.availability = a;
            assert!(blocked_reason(&offer, "ga", &en).is_some(), "{a:?}");
        }
        offer.availability = Availability::SaleEnded;
        assert!(blocked_reason(&offer, "ga", &Locale::new("es")).unwrap().contains("terminado"));
    }

    #[test]
    fn quantity_is_bounded_by_stock_and_the_order_limit() {
        let offer = ticket();
        assert_eq!(quantity_max(&offer, "ga"), 2, "stock");
        assert_eq!(quantity_max(&offer, "free"), 4, "per-order limit");
        assert_eq!(quantity_max(&offer, "vip"), 1, "never below 1; buying is blocked instead");
    }

    #[test]
    fn stock_and_delivery_in_words() {
        let en = Locale::new("en");
        assert_eq!(stock_text(Some(0), &en), "Sold out");
        assert_eq!(stock_text(Some(3), &en), "3 left");
        assert_eq!(stock_text(None, &en), "In stock");
        assert_eq!(stock_text(Some(3), &Locale::new("es")), "quedan 3");
        let mut offer = ticket();
        assert_eq!(delivery_note(&offer, &en).unwrap(), "Delivered by email.");
        offer.delivery = Some("Your ticket is emailed to you.".into());
        assert_eq!(delivery_note(&offer, &en).unwrap(), "Your ticket is emailed to you.");
        offer.kind = ProductKind::Physical;
        assert_eq!(delivery_note(&offer, &en), None);
    }
}
