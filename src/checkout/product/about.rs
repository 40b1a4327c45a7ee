//! What the product step says about the offer: the gallery, the seller, the price, why
//! buying is blocked (if it is), live stock, the sale's countdown, the description and how
//! a ticket or download arrives.

use crate::checkout::bind::bind;
use crate::checkout::form::CheckoutForm;
use crate::checkout::product::{blocked_reason, delivery_note};
use crate::shared::format;
use crate::shared::i18n::{Key, SheetLocale};
use leptos::prelude::*;
use tweetbuy_core::catalog::{Availability, Image};
use tweetbuy_core::Offer;

/// The product's photos, each labelled with its position when there are several.
fn gallery(images: Vec<Image>, lang: Option<String>, locale: SheetLocale) -> impl IntoView {
    let count = images.len();
    let items = images
        .into_iter()
        .enumerate()
        .map(|(i, img)| {
            let position = locale.fill(Key::ImageN, &[("n", &(i + 1).to_string()), ("total", &count.to_string())]);
            view! {
                <li class="tb-gallery-item" aria-label=(count > 1).then_some(position)>
                    <img class="tb-image" src=img.url alt=img.alt lang=lang.clone() loading="lazy" width="400" height="300" />
                </li>
            }
        })
        .collect_view();
    (count > 0).then(|| view! { <ul class="tb-gallery" aria-label=locale.t(Key::Images)>{items}</ul> })
}

/// The sale's countdown while the sale is open (nothing otherwise), following the live
/// offer and the sheet's clock.
fn sale_countdown(
    offer: RwSignal<Offer>,
    now: RwSignal<i64>,
    locale: SheetLocale,
) -> impl Fn() -> Option<AnyView> + Copy {
    move || {
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
            .into_any()
        })
    }
}

/// The sale's countdown on the checkout step, and, politely announced, why buying closed if
/// the sale ends or sells out while the buyer fills in the form.
#[component]
pub fn SaleNotice(
    offer: RwSignal<Offer>,
    /// The sheet's clock (Unix seconds).
    now: RwSignal<i64>,
    form: RwSignal<CheckoutForm>,
    locale: SheetLocale,
) -> impl IntoView {
    let reason = move || offer.with(|o| form.with(|d| locale.with(|l| blocked_reason(o, &d.variant_id, l))));
    view! {
        {bind(sale_countdown(offer, now, locale))}
        <p class="tb-unavailable" role="status">{bind(reason)}</p>
    }
}

/// The offer's description, kept fresh: stock, availability and the countdown follow the
/// live offer and the sheet's clock.
#[component]
pub fn ProductAbout(
    offer: RwSignal<Offer>,
    /// The clock for the sale countdown (Unix seconds).
    now: RwSignal<i64>,
    /// The form's chosen variant, for the reason buying is blocked.
    form: RwSignal<CheckoutForm>,
    locale: SheetLocale,
) -> impl IntoView {
    let first = offer.get_untracked();
    let reason = move || offer.with(|o| form.with(|d| locale.with(|l| blocked_reason(o, &d.variant_id, l))));
    let stock_left = move || {
        offer.with(|o| o.stock_left()).map(|n| locale.fill(Key::NLeft, &[("n", &format::number(n, &locale.tag()))]))
    };
    let countdown = sale_countdown(offer, now, locale);
    let delivery = delivery_note(&first, &locale.get()).map(|(note, lang)| {
        view! { <p class="tb-delivery"><strong lang=lang>{note}</strong> " " {locale.t(Key::NoShipping)}</p> }
    });
    let price = first.price_from().map(|p| format::money(&p, &locale.tag())).unwrap_or_default();
    let limited = first.limited_edition;
    view! {
        {gallery(first.images.clone(), first.lang.clone(), locale)}
        <p class="tb-seller">
            <span>{locale.fill(Key::SoldBy, &[("seller", &first.seller.name)])}</span>
            <span class="tb-badge">{locale.with(|l| l.seller_kind(first.seller.kind))}</span>
            {limited.then(|| view! { <span class="tb-badge tb-badge-limited">{locale.t(Key::LimitedEdition)}</span> })}
        </p>
        <p part="price" class="tb-price">{price}</p>
        <p class="tb-unavailable" role="status">{bind(reason)}</p>
        {limited.then(|| view! { <p class="tb-stock" aria-live="polite" aria-atomic="true">{bind(stock_left)}</p> })}
        {bind(countdown)}
        <p class="tb-description" lang=first.lang.clone()>{first.description.clone()}</p>
        {delivery}
    }
}
