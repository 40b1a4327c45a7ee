//! The order confirmation.

use crate::checkout::bind::handler;
use crate::shared::format;
use crate::shared::i18n::{Key, Locale};
use leptos::prelude::*;
use tweetbuy_core::{Country, OrderReceipt, ProductKind};

/// Where the order goes, in one line: the address for goods (or "your saved address" when
/// the order went to saved details, which the page never sees), the delivery note otherwise.
pub(crate) fn destination(receipt: &OrderReceipt, kind: ProductKind, locale: &Locale) -> String {
    match (&receipt.shipping, &receipt.delivery) {
        (Some(a), _) => {
            let country = Country::parse(&a.country)
                .map(|c| format::country_name(c, &locale.tag))
                .unwrap_or_else(|| a.country.clone());
            let region = if a.region.is_empty() { String::new() } else { format!(" {}", a.region) };
            let address = format!("{}, {}, {}{region} {}, {country}", a.name, a.line1, a.city, a.postal_code);
            locale.fill(Key::ShipsTo, &[("address", &address)])
        }
        (None, _) if kind.needs_shipping() => locale.t(Key::ShipsToSaved),
        (None, Some(delivery)) if !delivery.trim().is_empty() => delivery.clone(),
        (None, _) => locale.t(Key::DeliveredByEmail),
    }
}

/// Whether [`destination`] is the seller's own delivery note, in the seller's language.
pub(crate) fn from_seller(receipt: &OrderReceipt, kind: ProductKind) -> bool {
    receipt.shipping.is_none()
        && !kind.needs_shipping()
        && receipt.delivery.as_ref().is_some_and(|d| !d.trim().is_empty())
}

/// Where the receipt went: the address, or, for an order to saved details, just that it was
/// emailed.
pub(crate) fn receipt_line(receipt: &OrderReceipt, locale: &Locale) -> String {
    match receipt.email.trim() {
        "" => locale.t(Key::ReceiptSentSaved),
        email => locale.fill(Key::ReceiptSent, &[("email", email)]),
    }
}

/// The discount the order had, as "Discount (TWEET10): −$6.00"; `None` without a code.
pub(crate) fn discount_line(receipt: &OrderReceipt, locale: &Locale) -> Option<String> {
    let d = receipt.quote.discount.as_ref()?;
    let off = format::money(&tweetbuy_core::Money::new(-d.amount.minor, d.amount.currency), &locale.tag);
    Some(format!("{}: {off}", locale.fill(Key::Discount, &[("code", &d.code)])))
}

/// The confirmation: order number, what was bought, where it goes, and the receipt.
#[component]
pub fn Confirmation(
    /// The server's receipt for the order.
    receipt: OrderReceipt,
    /// What kind of product it was (goods ship; tickets and downloads are delivered).
    kind: ProductKind,
    /// The language the seller wrote the product's title and options in (the catalog's
    /// `lang`), for screen readers (3.1.2 Language of parts); `None`: the visitor's.
    #[prop(optional_no_strip)]
    lang: Option<String>,
    /// Closes the sheet.
    on_done: Callback<()>,
) -> impl IntoView {
    let locale = crate::shared::i18n::use_locale();
    let (destination, receipt_line) = locale.with(|l| (destination(&receipt, kind, l), receipt_line(&receipt, l)));
    let total = format::money(&receipt.quote.total, &locale.tag());
    // "2 × Tee (M)" in every language: only the seller's words are marked with theirs.
    let quantity = format::number(receipt.quantity, &locale.tag());
    let bought = format!("{} ({})", receipt.product_title, receipt.variant_label);
    let paid = locale.fill(
        Key::PaidWith,
        &[("total", &total), ("brand", receipt.card_brand.display_name()), ("last4", &receipt.card_last4)],
    );
    let discount =
        locale.with(|l| discount_line(&receipt, l)).map(|line| view! { <p class="tb-discount-line">{line}</p> });
    let delivery_class = if kind.needs_shipping() { "tb-ships-to" } else { "tb-delivery" };
    let delivery_lang = lang.clone().filter(|_| from_seller(&receipt, kind));
    view! {
        <div part="confirmation" class="tb-confirmation">
            <h3 class="tb-confirmed" tabindex="-1" data-tb-focus="">{locale.t(Key::Confirmed)}</h3>
            <p class="tb-order-number">
                {locale.t(Key::OrderNumber)} " " <strong data-order-number="">{receipt.order_number.clone()}</strong>
            </p>
            <p class="tb-bought">{quantity} " × " <span lang=lang>{bought}</span></p>
            {discount}
            <p>{paid}</p>
            <p class=delivery_class lang=delivery_lang>{destination}</p>
            <p class="tb-receipt">{receipt_line}</p>
            <button type="button" class="tb-primary" on:click=handler(move |_| on_done.run(()))>{locale.t(Key::Done)}</button>
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
        let (goods, ticket) = (ProductKind::Physical, ProductKind::Ticket);
        assert_eq!(destination(&r, goods, &en), "Ships to Jane Doe, 1 Main St, New York NY 10001, United States");
        assert!(destination(&r, goods, &Locale::new("es")).starts_with("Se envía a Jane Doe"));
        assert_eq!(receipt_line(&r, &en), "A receipt was sent to a@b.co.");
        assert!(!from_seller(&r, goods));
        r.shipping = None;
        r.delivery = Some("Your ticket is emailed to you.".into());
        assert_eq!(destination(&r, ticket, &en), "Your ticket is emailed to you.");
        assert!(from_seller(&r, ticket), "the seller's note, in the seller's language");
        r.delivery = None;
        assert_eq!(destination(&r, ticket, &en), "Delivered by email.");
        assert!(!from_seller(&r, ticket), "our own words");
    }

    #[test]
    fn a_discount_is_on_the_receipt_only_when_the_order_had_one() {
        let en = Locale::new("en");
        let mut r = receipt();
        assert_eq!(discount_line(&r, &en), None);
        let amount = tweetbuy_core::Money::new(300, tweetbuy_core::Currency::USD);
        r.quote.discount = Some(tweetbuy_core::Discount { code: "TWEET10".into(), amount });
        assert_eq!(discount_line(&r, &en).as_deref(), Some("Discount (TWEET10): -$3.00"));
        assert!(discount_line(&r, &Locale::new("es")).is_some_and(|l| l.starts_with("Descuento (TWEET10): ")));
    }

    #[test]
    fn an_order_to_saved_details_names_neither_the_address_nor_the_email() {
        let en = Locale::new("en");
        let r = OrderReceipt { email: String::new(), shipping: None, ..receipt() };
        assert_eq!(destination(&r, ProductKind::Physical, &en), "Ships to your saved address.");
        assert_eq!(receipt_line(&r, &en), "We emailed your receipt.");
        assert_eq!(receipt_line(&r, &Locale::new("es")), "Te hemos enviado el recibo por correo.");
    }
}
