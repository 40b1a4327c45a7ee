//! The Buy button under a tweet embed.
//!
//! Plain DOM, no framework: the button is part of the small module every host page loads
//! before anyone clicks, and a page may hold a thousand of them. One event listener
//! function serves every button. A click hands over to the checkout module
//! ([`crate::sheet_loader`]); pointing at or focusing a button loads it early and builds
//! that button's sheet, hidden.

use crate::format;
use crate::i18n::{Key, Locale};
use crate::theme::ButtonStyle;
use tweetbuy_core::{OfferHead, ProductKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// The button's text: "Buy · $30.00", or "Get tickets" for tickets, in the visitor's language.
pub fn label(offer: &OfferHead, locale: &Locale) -> String {
    match (offer.kind, offer.price_from()) {
        (ProductKind::Ticket, _) => locale.t(Key::GetTickets),
        (_, Some(price)) => locale.fill(Key::BuyPrice, &[("price", &format::money(&price, &locale.tag))]),
        (_, None) => locale.t(Key::Buy),
    }
}

/// The label for a button style: compact drops the price ("Buy", "Get tickets").
pub fn label_for(offer: &OfferHead, locale: &Locale, style: ButtonStyle) -> String {
    match (style, offer.kind) {
        (ButtonStyle::Compact, ProductKind::Ticket) => locale.t(Key::GetTickets),
        (ButtonStyle::Compact, _) => locale.t(Key::Buy),
        _ => label(offer, locale),
    }
}

/// The locale of one embed: its own `data-lang` first, then the script's and the page's
/// settings (merged into `configured`).
pub fn embed_locale(embed: &Element, configured: &str) -> Locale {
    Locale::pick([embed.get_attribute("data-lang").as_deref(), Some(configured)])
}

/// Builds the button in a widget's view root (already marked by [`crate::theme::apply`]
/// with the button style and any label override) and returns it.
pub fn render(root: &Element, offer: &OfferHead, embed: &Element, configured_locale: &str) -> Option<Element> {
    let document = root.owner_document()?;
    let locale = embed_locale(embed, configured_locale);
    let style = ButtonStyle::resolve(root.get_attribute("data-button-style").as_deref(), None);
    let text = match root.get_attribute("data-label") {
        Some(custom) => custom,
        None => LABELS.with(|labels| {
            let key = (offer.tweet_id.to_string(), locale.tag.clone(), style.as_str());
            labels.borrow_mut().entry(key).or_insert_with(|| label_for(offer, &locale, style)).clone()
        }),
    };
    let anchor = document.create_element("div").ok()?;
    anchor.set_class_name("tb-anchor");
    anchor.set_attribute("lang", &locale.tag).ok()?;
    let button = document.create_element("button").ok()?;
    for (name, value) in [
        ("part", "button"),
        ("class", "tb-buy"),
        ("type", "button"),
        ("aria-haspopup", "dialog"),
        ("aria-expanded", "false"),
    ] {
        button.set_attribute(name, value).ok()?;
    }
    button.set_text_content(Some(&text));
    LISTENER.with(|listener| {
        for event in ["click", "pointerenter", "pointerdown", "focus"] {
            let _ = button.add_event_listener_with_callback(event, listener);
        }
    });
    anchor.append_child(&button).ok()?;
    root.append_child(&anchor).ok()?;
    Some(button)
}

/// Shows (or, with `None`, clears) a message under the button, for a checkout that could
/// not load: the visitor learns why nothing opened and that another click retries.
pub fn show_problem(button: &Element, message: Option<&str>) {
    let Some(root) = crate::theme::root_of(button) else { return };
    if message.is_some() {
        crate::placement::settle(&root);
    }
    let existing = root.query_selector(".tb-load-error").ok().flatten();
    match (existing, message) {
        (Some(note), Some(text)) => note.set_text_content(Some(text)),
        (Some(note), None) => note.remove(),
        (None, Some(text)) => {
            let Some(note) = root.owner_document().and_then(|d| d.create_element("p").ok()) else { return };
            note.set_class_name("tb-load-error");
            let _ = note.set_attribute("role", "alert");
            note.set_text_content(Some(text));
            let _ = root.append_child(&note);
        }
        (None, None) => {}
    }
}

/// On a button while the closing sheet hands focus back to it (`src/sheet_host.rs`, in the
/// checkout module): that focus does not build a new sheet.
pub const RETURNING_ATTR: &str = "data-tb-returning";

thread_local! {
    /// Labels already worked out, by tweet, locale and style: a page may hold many buttons
    /// for a few offers, and formatting a price is the costly part of a button.
    static LABELS: std::cell::RefCell<std::collections::HashMap<(String, String, &'static str), String>> =
        Default::default();

    /// The one listener every button shares: a click opens, anything else (pointing at
    /// the button, pressing on it, focusing it) builds its sheet ahead of the click.
    static LISTENER: js_sys::Function = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        let Some(button) = event.current_target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        if event.type_() == "click" {
            crate::mount::open_from(&button);
        } else if !button.has_attribute(RETURNING_ATTR) {
            crate::mount::prepare_from(&button);
        }
    })
    .into_js_value()
    .unchecked_into();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::{Currency, Money, TweetId};

    fn tee() -> OfferHead {
        OfferHead {
            tweet_id: TweetId::parse("1528000000000000001").unwrap(),
            product_id: "red-tee".into(),
            kind: ProductKind::Physical,
            variants: vec![
                tweetbuy_core::catalog::VariantPrice { price: Money::new(3500, Currency::USD) },
                tweetbuy_core::catalog::VariantPrice { price: Money::new(3000, Currency::USD) },
            ],
        }
    }

    #[test]
    fn label_adapts_to_kind_and_language() {
        let mut offer = tee();
        assert_eq!(label(&offer, &Locale::new("en-US")), "Buy · $30.00", "the lowest price");
        assert_eq!(label(&offer, &Locale::new("es")), "Comprar · $30.00", "native fallback for the amount");
        offer.kind = ProductKind::Ticket;
        assert_eq!(label(&offer, &Locale::new("en-US")), "Get tickets");
        assert_eq!(label(&offer, &Locale::new("es-ES")), "Comprar entradas");
        offer.kind = ProductKind::Digital;
        offer.variants.clear();
        assert_eq!(label(&offer, &Locale::new("en-US")), "Buy");
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
