//! The Buy button under a tweet embed.

use crate::checkout::Details;
use crate::format;
use crate::mount::WidgetCtx;
use crate::sheet::Sheet;
use leptos::prelude::*;
use tweetbuy_core::{Offer, ProductKind};

/// The button's text: "Buy · $30.00", or "Get tickets" for tickets.
pub fn label(offer: &Offer, locale: &str) -> String {
    match (offer.kind, offer.price_from()) {
        (ProductKind::Ticket, _) => "Get tickets".to_owned(),
        (_, Some(price)) => format!("Buy · {}", format::money(&price, locale)),
        (_, None) => "Buy".to_owned(),
    }
}

/// The Buy button for one offer. It opens the product sheet as a modal dialog, and keeps
/// what the visitor typed when the sheet is closed and opened again during the visit.
#[component]
pub fn BuyButton(
    /// The offer attached to this tweet.
    offer: Offer,
) -> impl IntoView {
    let ctx = expect_context::<WidgetCtx>();
    let open = RwSignal::new(false);
    let details = RwSignal::new(Details::for_offer(&offer));
    let button_ref = NodeRef::<leptos::html::Button>::new();
    let text = label(&offer, &ctx.locale);
    let offer = StoredValue::new(offer);
    let close = Callback::new(move |_: ()| {
        open.set(false);
        if let Some(button) = button_ref.get_untracked() {
            let _ = button.focus();
        }
    });
    view! {
        <div class="tb-anchor">
            <button
                node_ref=button_ref
                part="button"
                class="tb-buy"
                type="button"
                aria-haspopup="dialog"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| open.set(true)
            >
                {text}
            </button>
        </div>
        <Show when=move || open.get()>
            <Sheet offer=offer.get_value() details=details on_close=close />
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::catalog::{Availability, Seller, SellerKind, Variant};
    use tweetbuy_core::{Currency, Money, TweetId};

    pub(crate) fn tee() -> Offer {
        Offer {
            tweet_id: TweetId::parse("1528000000000000001").unwrap(),
            product_id: "red-tee".into(),
            title: "(RED) tee".into(),
            description: "d".into(),
            seller: Seller { name: "(RED)".into(), kind: SellerKind::Nonprofit },
            kind: ProductKind::Physical,
            currency: Currency::USD,
            variants: vec![Variant {
                id: "m".into(),
                label: "M".into(),
                price: Money::new(3000, Currency::USD),
                stock: Some(5),
            }],
            images: vec![],
            limited_edition: true,
            availability: Availability::Available,
            sale_ends_at: None,
            ships_to: vec![tweetbuy_core::Country::parse("US").unwrap()],
            max_per_order: 5,
            delivery: None,
        }
    }

    #[test]
    fn label_adapts_to_kind() {
        let mut offer = tee();
        assert_eq!(label(&offer, "en-US"), "Buy · $30.00");
        offer.kind = ProductKind::Ticket;
        assert_eq!(label(&offer, "en-US"), "Get tickets");
    }
}
