//! The Buy button under a tweet embed.
//!
//! Plain DOM, no framework: the button is part of the small module every host page loads
//! before anyone clicks, and a page may hold a thousand of them. One event listener
//! function serves every button. A click hands over to the checkout module
//! ([`crate::button::loader`]); pointing at or focusing a button loads it early and builds
//! that button's sheet, hidden.

use crate::prelude::*;
use crate::shared::context::WAITING_CLASS;
use crate::shared::format;
use crate::shared::i18n::{Key, Locale};
use crate::shared::theme::{ButtonStyle, Look};
use tweetbuy_core::{Availability, OfferHead, ProductKind};
use wasm_bindgen::JsCast;
use web_sys::Element;

/// What the button says instead of Buy when the offer cannot be bought now (its sheet then
/// says why, and offers the waitlist where there is one): the short form for compact buttons.
fn unavailable(offer: &OfferHead, compact: bool) -> Option<Key> {
    match (offer.availability, compact) {
        (Availability::Available, _) => None,
        (Availability::SoldOut, false) => Some(Key::ButtonSoldOut),
        (Availability::SoldOut, true) => Some(Key::VariantSoldOut),
        (Availability::SaleEnded, _) => Some(Key::ButtonSaleEnded),
        (Availability::NotStarted, false) => Some(Key::ButtonComingSoon),
        (Availability::NotStarted, true) => Some(Key::ButtonComingSoonShort),
    }
}

/// The button's text: "Buy · $30.00", or "Get tickets" for tickets, in the visitor's
/// language; "Sold out · Notify me", "Sale ended" or "Coming soon · Notify me" when it
/// cannot be bought now.
pub fn label(offer: &OfferHead, locale: &Locale) -> String {
    if let Some(key) = unavailable(offer, false) {
        return locale.t(key);
    }
    match (offer.kind, offer.price_from()) {
        (ProductKind::Ticket, _) => locale.t(Key::GetTickets),
        (_, Some(price)) => locale.fill(Key::BuyPrice, &[("price", &format::money(&price, &locale.tag))]),
        (_, None) => locale.t(Key::Buy),
    }
}

/// The label for a button style: compact drops the price ("Buy", "Get tickets").
// Not inlined into the mount's loop, which V8 compiles again once hot (see
// `crate::button::mount::sort_out`): [`cached_label`] works each label out once.
#[inline(never)]
pub fn label_for(offer: &OfferHead, locale: &Locale, style: ButtonStyle) -> String {
    if let (ButtonStyle::Compact, Some(key)) = (style, unavailable(offer, true)) {
        return locale.t(key);
    }
    match (style, offer.kind) {
        (ButtonStyle::Compact, ProductKind::Ticket) => locale.t(Key::GetTickets),
        (ButtonStyle::Compact, _) => locale.t(Key::Buy),
        _ => label(offer, locale),
    }
}

/// The text of a button of `look`: the publisher's label, or the offer's in `locale`; the
/// offer's whenever it cannot be bought now, which no publisher's "Buy now" should hide.
pub fn text(look: &Look, offer: &OfferHead, locale: &Locale) -> String {
    match &look.label {
        Some(custom) if offer.availability == Availability::Available => custom.clone(),
        _ => cached_label(offer, locale, look.style),
    }
}

/// The index, in [`prototypes`], of the view every button of `look` in `lang` copies (built
/// on first use): one deep copy where building a view takes a dozen DOM calls, and a page
/// may hold a thousand buttons. Only the label and the listeners are each button's own
/// ([`crate::button::kit`]).
pub fn prototype_index(document: &web_sys::Document, look: &Look, lang: &str) -> Option<u32> {
    PROTOTYPES.with(|prototypes| {
        let (kinds, views) = &mut *prototypes.borrow_mut();
        if let Some(at) = kinds.iter().position(|(l, tag)| l == look && tag == lang) {
            return Some(at as u32);
        }
        let view = prototype(document, look, lang)?;
        views.push(&view);
        kinds.push((look.clone(), lang.to_owned()));
        Some(views.length() - 1)
    })
}

/// Every prototype view built so far, for the kit.
pub fn prototypes() -> js_sys::Array {
    PROTOTYPES.with(|prototypes| prototypes.borrow().1.clone())
}

/// The label of a tweet's offer, worked out once per locale and button style.
fn cached_label(offer: &OfferHead, locale: &Locale, style: ButtonStyle) -> String {
    LABELS.with(|labels| {
        let mut labels = labels.borrow_mut();
        let key = (offer.tweet_id.as_str(), locale.tag.as_str(), style.as_str());
        match labels.binary_search_by(|l| (l.tweet_id.as_str(), l.locale.as_str(), l.style.as_str()).cmp(&key)) {
            Ok(at) => labels[at].text.clone(),
            Err(at) => {
                let text = label_for(offer, locale, style);
                let (tweet_id, locale) = (key.0.to_owned(), key.1.to_owned());
                labels.insert(at, Label { tweet_id, locale, style, text: text.clone() });
                text
            }
        }
    })
}

/// Finds a Buy button in its view (`.tb-root > .tb-anchor > .tb-buy`, as [`prototype`]
/// builds it) and nothing else of its shadow root, such as its sheet.
pub(crate) const BUTTON_SELECTOR: &str = ".tb-anchor > .tb-buy";

/// The view every button of one look and language copies: the root marked with the look
/// ([`crate::shared::theme::mark`]) and floating where it can ([`crate::button::placement::float`]),
/// the anchor in the language, the button without its label.
///
/// What the kit listens for ([`crate::button::kit`]'s `listen`) is found by
/// [`BUTTON_SELECTOR`]: keep the two in step.
// Not inlined into the mount's loop, which V8 compiles again once hot (see
// `crate::button::mount::sort_out`): [`prototype_index`] builds each view once.
#[inline(never)]
fn prototype(document: &web_sys::Document, look: &Look, lang: &str) -> Option<Element> {
    let root = document.create_element("div").ok()?;
    root.set_class_name("tb-root");
    crate::shared::theme::mark(&root, look);
    if crate::button::placement::floats() {
        crate::button::placement::float(&root);
    }
    root.set_attribute(crate::button::placement::UNALIGNED_ATTR, "").ok()?;
    let anchor = document.create_element("div").ok()?;
    anchor.set_class_name("tb-anchor");
    anchor.set_attribute("lang", lang).ok()?;
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
    anchor.append_child(&button).ok()?;
    root.append_child(&anchor).ok()?;
    Some(root)
}

/// Shows at once, while the checkout module loads, a dialog standing in for the sheet: the
/// product's name (in the seller's language, where the offer says it) and a busy note, so a tap answers before the module
/// has arrived (on a slow phone it takes a second or more). Escape or its Close button
/// closes it like the sheet's, and then nothing opens when the module arrives. [`replace_waiting`] takes it down
/// once the sheet is shown.
/// `on_dismissed` runs when the visitor closes it (not when the sheet replaces it).
pub fn show_waiting(
    button: &Element,
    offer: &crate::button::offers::FoundOffer,
    locale: &Locale,
    on_dismissed: impl FnOnce() + 'static,
) -> Option<web_sys::HtmlDialogElement> {
    let root = crate::shared::theme::root_of(button)?;
    let document = root.owner_document()?;
    let element = |tag: &str, class: &str, text: &str| {
        let el = document.create_element(tag).ok()?;
        el.set_class_name(class);
        el.set_text_content(Some(text));
        Some(el)
    };
    let dialog = element("dialog", "tb-sheet", "")?;
    let _ = dialog.class_list().add_1(WAITING_CLASS);
    // Its note describes it: a screen reader says the note with the dialog's name as focus
    // comes in, where a status filled before it joined the page would not be announced.
    let (title, note) = (("aria-labelledby", "tb-waiting-title"), ("aria-describedby", "tb-waiting-note"));
    for (name, value) in [("part", "sheet"), title, note, ("lang", locale.tag.as_str())] {
        dialog.set_attribute(name, value).ok()?;
    }
    // The sheet's header: its title, and Close, which a visitor without Escape (a phone)
    // needs while a slow network holds the checkout back. A dialog form's button closes
    // the dialog with no script of ours.
    let header = element("header", "tb-header", "")?;
    let heading = element("h2", "tb-title", &offer.title)?;
    heading.set_id("tb-waiting-title");
    // An absent language is left out: the title is then in the sheet's (the dialog's).
    if !offer.title_lang.is_empty() {
        heading.set_attribute("lang", &offer.title_lang).ok()?;
    }
    let form = element("form", "", "")?;
    form.set_attribute("method", "dialog").ok()?;
    let close = element("button", "tb-close", "×")?;
    close.set_attribute("aria-label", &locale.t(Key::Close)).ok()?;
    form.append_child(&close).ok()?;
    header.append_child(&heading).ok()?;
    header.append_child(&form).ok()?;
    let note = element("p", "tb-waiting-note", &locale.t(Key::CheckoutLoading))?;
    note.set_attribute("role", "status").ok()?;
    note.set_id("tb-waiting-note");
    dialog.append_child(&header).ok()?;
    dialog.append_child(&note).ok()?;
    root.append_child(&dialog).ok()?;
    let dialog: web_sys::HtmlDialogElement = dialog.unchecked_into();
    let on_close = {
        let (button, dialog) = (button.clone(), dialog.clone());
        crate::shared::util::once_js(move || {
            if !dialog.has_attribute(REPLACED_ATTR) {
                let _ = button.set_attribute("aria-expanded", "false");
                let _ = button.unchecked_ref::<web_sys::HtmlElement>().focus();
                on_dismissed();
            }
            dialog.remove();
        })
    };
    let _ = dialog.add_event_listener_with_callback("close", on_close.unchecked_ref());
    dialog.show_modal().ok()?;
    Some(dialog)
}

/// Marks a waiting dialog the widget took down, rather than one the visitor closed.
const REPLACED_ATTR: &str = "data-replaced";

/// Takes the waiting dialog down once the sheet has taken its place. Removed first: closing
/// a modal dialog hands focus back to what had it before (the Buy button, now behind the
/// sheet), which would pull focus out of the sheet the visitor is in; removed, it is modal
/// no more. Then closed, for its `close` event, which a removal does not send: a host kept
/// for its open dialogs after its tweet left the page (`leave` in the kit) looks again then,
/// and finds the sheet.
pub fn replace_waiting(dialog: &web_sys::HtmlDialogElement) {
    let _ = dialog.set_attribute(REPLACED_ATTR, "");
    dialog.remove();
    dialog.close();
}

/// Takes the waiting dialog down when the checkout could not open: closed, so focus goes
/// back to the Buy button, under which the visitor reads why.
pub fn close_waiting(dialog: &web_sys::HtmlDialogElement) {
    let _ = dialog.set_attribute(REPLACED_ATTR, "");
    dialog.close();
}

/// Shows (or, with `None`, clears) a message under the button, for a checkout that could
/// not load: the visitor learns why nothing opened and that another click retries.
pub fn show_problem(button: &Element, message: Option<&str>) {
    let Some(root) = crate::shared::theme::root_of(button) else { return };
    if message.is_some() {
        crate::button::placement::settle(&root);
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

/// A label already worked out for a tweet's offer, in one locale and button style.
struct Label {
    tweet_id: String,
    locale: String,
    style: ButtonStyle,
    text: String,
}

crate::shared::local::page_local! {
    /// The look and language of each prototype view ([`prototype_index`]), and the views.
    static PROTOTYPES: core::cell::RefCell<(Vec<(Look, String)>, js_sys::Array)> = Default::default();
}

crate::shared::local::page_local! {
    /// Labels already worked out, sorted by tweet, locale and style: a page may hold many buttons for a few offers, and
    /// formatting a price is the costly part of a button.
    static LABELS: core::cell::RefCell<Vec<Label>> = const { core::cell::RefCell::new(Vec::new()) };
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
            availability: Availability::Available,
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
        assert_eq!(label(&offer, &Locale::new("es")), "Comprar · 30,00\u{a0}US$", "as Intl writes it in Spanish");
        assert_eq!(
            label(&offer, &Locale::new("en-ZA")),
            "Buy · $30.00",
            "natively, core's plain English where Intl would write it"
        );
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

    #[test]
    fn an_offer_that_cannot_be_bought_now_says_so_in_any_style() {
        let mut offer = tee();
        let (en, es) = (Locale::new("en-US"), Locale::new("es"));
        let cases = [
            (Availability::SoldOut, "Sold out · Notify me", "Sold out", "Agotado · Avísame"),
            (Availability::SaleEnded, "Sale ended", "Sale ended", "Venta terminada"),
            (Availability::NotStarted, "Coming soon · Notify me", "Coming soon", "Próximamente · Avísame"),
        ];
        for (availability, full, compact, spanish) in cases {
            offer.availability = availability;
            for kind in [ProductKind::Physical, ProductKind::Ticket] {
                offer.kind = kind;
                assert_eq!(label_for(&offer, &en, ButtonStyle::Filled), full, "{availability:?} {kind:?}");
                assert_eq!(label_for(&offer, &en, ButtonStyle::Compact), compact, "{availability:?} {kind:?}");
                assert_eq!(label(&offer, &es), spanish, "{availability:?} {kind:?}");
            }
        }
    }
}
