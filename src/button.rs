//! The Buy button under a tweet embed.

use crate::checkout::Details;
use crate::events::{self, EmbedCtx, WidgetEvent};
use crate::format;
use crate::i18n::{Key, Locale};
use crate::mount::WidgetCtx;
use crate::sheet::Sheet;
use crate::theme::{self, ButtonStyle};
use leptos::prelude::*;
use tweetbuy_core::{Offer, ProductKind};
use wasm_bindgen::JsCast;

/// The button's text: "Buy · $30.00", or "Get tickets" for tickets, in the visitor's language.
pub fn label(offer: &Offer, locale: &Locale) -> String {
    match (offer.kind, offer.price_from()) {
        (ProductKind::Ticket, _) => locale.t(Key::GetTickets),
        (_, Some(price)) => locale.fill(Key::BuyPrice, &[("price", &format::money(&price, &locale.tag))]),
        (_, None) => locale.t(Key::Buy),
    }
}

/// The label for a button style: compact drops the price ("Buy", "Get tickets").
pub fn label_for(offer: &Offer, locale: &Locale, style: ButtonStyle) -> String {
    match (style, offer.kind) {
        (ButtonStyle::Compact, ProductKind::Ticket) => locale.t(Key::GetTickets),
        (ButtonStyle::Compact, _) => locale.t(Key::Buy),
        _ => label(offer, locale),
    }
}

/// The embed's own `data-lang`, read from the element our shadow host sits right after.
pub fn embed_lang(inside: &web_sys::Element) -> Option<String> {
    let root = inside.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok()?;
    let embed = root.host().previous_element_sibling()?;
    embed.get_attribute("data-lang")
}

/// The Buy button for one offer. It opens the product sheet as a modal dialog, and keeps
/// what the visitor typed when the sheet is closed and opened again during the visit.
///
/// Provides the embed's [`Locale`] (an `RwSignal<Locale>` in context) to the sheets.
#[component]
pub fn BuyButton(
    /// The offer attached to this tweet.
    offer: Offer,
) -> impl IntoView {
    let ctx = expect_context::<WidgetCtx>();
    let configured = ctx.locale.clone();
    let locale = RwSignal::new(Locale::pick([Some(configured.as_str())]));
    provide_context(locale);
    let open = RwSignal::new(false);
    let details = RwSignal::new(Details::for_offer(&offer));
    let button_ref = NodeRef::<leptos::html::Button>::new();
    // The look set on the view's root by `theme::apply`: the button style and the
    // publisher's label override.
    let look = RwSignal::new((ButtonStyle::Filled, None::<String>));
    // The embed's `data-lang` comes first; the script's and the page's settings (merged in
    // `WidgetCtx::locale`) after it.
    Effect::new(move |_| {
        if let Some(button) = button_ref.get() {
            if let Some(root) = theme::root_of(&button) {
                let style = ButtonStyle::resolve(root.get_attribute("data-button-style").as_deref(), None);
                look.set((style, root.get_attribute("data-label")));
            }
            theme::fix_accent_text(&button);
            let embed = embed_lang(&button);
            let picked = Locale::pick([embed.as_deref(), Some(configured.as_str())]);
            if locale.get_untracked() != picked {
                locale.set(picked);
            }
        }
    });
    let offer = StoredValue::new(offer);
    let text = move || {
        look.with(|(style, custom)| match custom {
            Some(custom) => custom.clone(),
            None => locale.with(|l| offer.with_value(|o| label_for(o, l, *style))),
        })
    };
    let lang = move || locale.with(|l| l.tag.clone());
    // Stored, so the emitting closure is Copy and can be used from several handlers.
    let embed = StoredValue::new(use_context::<EmbedCtx>());
    let emit = move |event: WidgetEvent| {
        embed.with_value(|embed| {
            if let Some(embed) = embed {
                events::emit(embed, event);
            }
        })
    };
    let close = Callback::new(move |_: ()| {
        open.set(false);
        emit(WidgetEvent::Close);
        if let Some(button) = button_ref.get_untracked() {
            let _ = button.focus();
        }
    });
    view! {
        <div class="tb-anchor" lang=lang>
            <button
                node_ref=button_ref
                part="button"
                class="tb-buy"
                type="button"
                aria-haspopup="dialog"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| {
                    // The designer may have changed the tokens since (the playground does).
                    if let Some(button) = button_ref.get_untracked() {
                        theme::fix_accent_text(&button);
                    }
                    open.set(true);
                    emit(WidgetEvent::Open);
                }
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
    fn label_adapts_to_kind_and_language() {
        let mut offer = tee();
        assert_eq!(label(&offer, &Locale::new("en-US")), "Buy · $30.00");
        assert_eq!(label(&offer, &Locale::new("es")), "Comprar · $30.00", "native fallback for the amount");
        offer.kind = ProductKind::Ticket;
        assert_eq!(label(&offer, &Locale::new("en-US")), "Get tickets");
        assert_eq!(label(&offer, &Locale::new("es-ES")), "Comprar entradas");
    }

    #[test]
    fn compact_buttons_drop_the_price() {
        let mut offer = tee();
        let en = Locale::new("en-US");
        assert_eq!(label_for(&offer, &en, ButtonStyle::Filled), "Buy · $30.00");
        assert_eq!(label_for(&offer, &en, ButtonStyle::Outline), "Buy · $30.00");
        assert_eq!(label_for(&offer, &en, ButtonStyle::Compact), "Buy");
        offer.kind = ProductKind::Ticket;
        assert_eq!(label_for(&offer, &en, ButtonStyle::Compact), "Get tickets");
    }
}
