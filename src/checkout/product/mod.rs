//! The product step: what the offer is (gallery, seller, price, live stock, the sale's
//! countdown), the buyer's choice of variant and quantity, and Continue, or Pay in the
//! vault's saved-info frame when this device has saved info.

mod about;
mod actions;
mod choice;

use crate::checkout::form::CheckoutForm;
use crate::checkout::waitlist::Waitlist;
use crate::shared::format;
use crate::shared::i18n::{use_locale, Key, Locale};
use about::ProductAbout;
pub use about::SaleNotice;
use actions::BuyActions;
use choice::{QuantityStepper, VariantPicker};
use leptos::prelude::*;
use tweetbuy_core::{Offer, OrderReceipt};

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

/// How a ticket or download reaches the buyer, with the language it is in when the seller
/// wrote it (our own words are in the sheet's); `None` for goods that ship.
pub fn delivery_note(offer: &Offer, locale: &Locale) -> Option<(String, Option<String>)> {
    (!offer.kind.needs_shipping()).then(|| match offer.delivery.clone().filter(|d| !d.trim().is_empty()) {
        Some(theirs) => (theirs, offer.lang.clone()),
        None => (locale.t(Key::DeliveredByEmail), None),
    })
}

/// The quantity after pressing − (`delta` −1) or + (1): from 1 to `max`.
pub fn stepped(quantity: u32, delta: i64, max: u32) -> u32 {
    (i64::from(quantity) + delta).clamp(1, i64::from(max.max(1))) as u32
}

/// The quantity typed into the field: a whole number from 1 to `max`, 1 when unreadable; and
/// whether it was more than `max` (then the buyer is told it was cut).
pub fn typed_quantity(text: &str, max: u32) -> (u32, bool) {
    let typed = text.trim().parse::<u64>().ok();
    let top = max.max(1);
    let quantity = typed.map_or(1, |n| n.clamp(1, u64::from(top)) as u32);
    (quantity, typed.is_some_and(|n| n > u64::from(top)))
}

/// What the quantity's hint says: the per-order limit, or the units left when fewer are left
/// (a buyer told "up to 5" who may only buy 1 would be misled); "changed to" after a typed
/// number was cut down to it. Nothing for an option with none left, which says so itself.
pub fn quantity_hint(offer: &Offer, variant_id: &str, cut: bool) -> Option<Key> {
    let left = offer.variant(variant_id).and_then(|v| v.stock);
    match (cut, left) {
        (_, Some(0)) => None,
        (true, _) => Some(Key::QuantityCut),
        (false, Some(left)) if left < offer.max_per_order => Some(Key::QuantityLeft),
        _ => Some(Key::QuantityLimit),
    }
}

/// The product step.
#[component]
pub fn ProductSheet(
    /// The offer shown, kept fresh by the sheet while it is open.
    offer: RwSignal<Offer>,
    /// The clock for the sale countdown (Unix seconds).
    now: RwSignal<i64>,
    /// The chosen variant and quantity live here with the rest of the form.
    form: RwSignal<CheckoutForm>,
    /// The sheet is shown: the saved-info frame may load.
    frames: RwSignal<bool>,
    /// On to the details step.
    on_continue: Callback<()>,
    /// Paid in the saved-info frame.
    on_paid: Callback<OrderReceipt>,
    /// The offer changed meanwhile: read it again.
    on_stale: Callback<()>,
    /// Escape inside the saved-info frame: close the sheet.
    on_escape: Callback<()>,
) -> impl IntoView {
    let locale = use_locale();
    let busy = RwSignal::new(false);
    let blocked = Memo::new(move |_| {
        offer.with(|o| form.with(|d| locale.with(|l| blocked_reason(o, &d.variant_id, l)))).is_some()
    });
    view! {
        <div class="tb-product">
            <ProductAbout offer=offer now=now form=form locale=locale />
            <Waitlist offer=offer locale=locale />
            <VariantPicker offer=offer form=form locale=locale busy=busy />
            <QuantityStepper offer=offer form=form locale=locale busy=busy />
            <BuyActions offer=offer form=form locale=locale busy=busy blocked=blocked frames=frames
                on_continue=on_continue on_paid=on_paid on_stale=on_stale on_escape=on_escape />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::form::quantity_max;
    use tweetbuy_core::catalog::Availability;
    use tweetbuy_core::ProductKind;
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
    fn the_stepper_and_the_typed_quantity_stay_in_bounds() {
        assert_eq!(stepped(1, -1, 3), 1);
        assert_eq!(stepped(2, 1, 3), 3);
        assert_eq!(stepped(3, 1, 3), 3);
        assert_eq!(stepped(5, -1, 3), 3, "a lower limit since");
        assert_eq!(stepped(1, 1, 0), 1, "never below 1");
        assert_eq!(typed_quantity(" 2 ", 3), (2, false));
        assert_eq!(typed_quantity("9", 3), (3, true), "cut down, and said so");
        assert_eq!(typed_quantity("99999999999", 3), (3, true));
        assert_eq!(typed_quantity("0", 3), (1, false));
        assert_eq!(typed_quantity("two", 3), (1, false));
        assert_eq!(typed_quantity("-1", 3), (1, false));
    }

    #[test]
    fn quantity_is_bounded_by_stock_and_the_order_limit() {
        let offer = ticket();
        assert_eq!(quantity_max(&offer, "ga"), 2, "stock");
        assert_eq!(quantity_max(&offer, "free"), 4, "per-order limit");
        assert_eq!(quantity_max(&offer, "vip"), 1, "never below 1; buying is blocked instead");
    }

    #[test]
    fn the_quantity_hint_names_what_limits_it() {
        let offer = ticket();
        assert_eq!(quantity_hint(&offer, "ga", false), Some(Key::QuantityLeft), "2 left, under the limit of 4");
        assert_eq!(quantity_hint(&offer, "free", false), Some(Key::QuantityLimit), "stock not counted");
        assert_eq!(quantity_hint(&offer, "ga", true), Some(Key::QuantityCut));
        assert_eq!(quantity_hint(&offer, "vip", false), None, "none left: the option says so");
        let en = Locale::new("en");
        assert_eq!(en.fill(Key::QuantityLeft, &[("max", "2")]), "Only 2 left");
        assert_eq!(en.fill(Key::QuantityCut, &[("max", "2")]), "Changed to 2, the most you can buy");
    }

    #[test]
    fn stock_and_delivery_in_words() {
        let en = Locale::new("en");
        assert_eq!(stock_text(Some(0), &en), "Sold out");
        assert_eq!(stock_text(Some(3), &en), "3 left");
        assert_eq!(stock_text(None, &en), "In stock");
        assert_eq!(stock_text(Some(3), &Locale::new("es")), "quedan 3");
        let mut offer = ticket();
        offer.lang = Some("en-GB".into());
        assert_eq!(delivery_note(&offer, &en).unwrap(), ("Delivered by email.".into(), None), "ours");
        offer.delivery = Some("Your ticket is emailed to you.".into());
        let theirs = ("Your ticket is emailed to you.".into(), Some("en-GB".into()));
        assert_eq!(delivery_note(&offer, &en).unwrap(), theirs, "the seller's, in their language");
        offer.kind = ProductKind::Physical;
        assert_eq!(delivery_note(&offer, &en), None);
    }
}
