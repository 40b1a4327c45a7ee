//! The order confirmation.

use crate::shared::format;
use crate::shared::i18n::{Key, Locale};
use leptos::prelude::*;
use tweetbuy_core::{Country, OrderReceipt, ProductKind};

/// Where the order goes, in one line: the address for goods, the delivery note otherwise.
pub(crate) fn destination(receipt: &OrderReceipt, locale: &Locale) -> String {
    match (&receipt.shipping, &receipt.delivery) {
        (Some(a), _) => {
            let country = Country::parse(&a.country)
                .map(|c| format::country_name(c, &locale.tag))
                .unwrap_or_else(|| a.country.clone());
            let region = if a.region.is_empty() { String::new() } else { format!(" {}", a.region) };
            let address = format!("{}, {}, {}{region} {}, {country}", a.name, a.line1, a.city, a.postal_code);
            locale.fill(Key::ShipsTo, &[("address", &address)])
        }
        (None, Some(delivery)) if !delivery.trim().is_empty() => delivery.clone(),
        (None, _) => locale.t(Key::DeliveredByEmail),
    }
}

/// The confirmation: order number, what was bought, where it goes, and the receipt.
#[component]
pub fn Confirmation(
    /// The server's receipt for the order.
    receipt: OrderReceipt,
    /// What kind of product it was (goods ship; tickets and downloads are delivered).
    kind: ProductKind,
    /// Closes the sheet.
    on_done: Callback<()>,
) -> impl IntoView {
    let locale = crate::shared::i18n::use_locale();
    let total = format::money(&receipt.quote.total, &locale.tag());
    let bought = locale.fill(
        Key::Bought,
        &[
            ("quantity", &format::number(receipt.quantity, &locale.tag())),
            ("product", &receipt.product_title),
            ("variant", &receipt.variant_label),
        ],
    );
    let paid = locale.fill(
        Key::PaidWith,
        &[("total", &total), ("brand", receipt.card_brand.display_name()), ("last4", &receipt.card_last4)],
    );
    let delivery_class = if kind.needs_shipping() { "tb-ships-to" } else { "tb-delivery" };
    view! {
        <div part="confirmation" class="tb-confirmation">
            <h3 class="tb-confirmed" tabindex="-1" data-tb-focus="">{locale.t(Key::Confirmed)}</h3>
            <p class="tb-order-number">
                {locale.t(Key::OrderNumber)} " " <strong data-order-number="">{receipt.order_number.clone()}</strong>
            </p>
            <p class="tb-bought">{bought}</p>
            <p>{paid}</p>
            <p class=delivery_class>{destination(&receipt, &locale.get())}</p>
            <p class="tb-receipt">{locale.fill(Key::ReceiptSent, &[("email", &receipt.email)])}</p>
            <crate::checkout::saved::SaveOffer receipt=receipt.clone() />
            <button type="button" class="tb-primary" on:click=move |_| on_done.run(())>{locale.t(Key::Done)}</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tweetbuy_core::testing::receipt;

    #[test]
    fn goods_ship_to_the_address_and_tickets_say_how_they_arrive() {
        let mut r = receipt();
        let en = Locale::new("en");
        assert_eq!(destination(&r, &en), "Ships to Jane Doe, 1 Main St, New York NY 10001, United States");
        assert!(destination(&r, &Locale::new("es")).starts_with("Se envía a Jane Doe"));
        r.shipping = None;
        r.delivery = Some("Your ticket is emailed to you.".into());
        assert_eq!(destination(&r, &en), "Your ticket is emailed to you.");
        r.delivery = None;
        assert_eq!(destination(&r, &en), "Delivered by email.");
    }
}
