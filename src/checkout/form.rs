//! The checkout form's data and rules, without any view: what the visitor chose and typed,
//! checked with the same core rules the server applies, the carts the vault's frames are
//! shown, and the field errors in the visitor's language. The product and details steps
//! read the form from here.

use crate::shared::format;
use crate::shared::i18n::{Key, Locale};
use tweetbuy_core::frame::Cart;
use tweetbuy_core::order::{validate_buyer_details, QuoteRequest};
use tweetbuy_core::{Country, FieldError, Offer, ShippingAddress};

/// Everything the visitor chooses and types, except the card (which only the vault's frame
/// ever holds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckoutForm {
    pub variant_id: String,
    pub quantity: u32,
    pub email: String,
    pub name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub share_email: bool,
    /// A discount code the api accepted for this choice (upper case); empty without one.
    pub discount_code: String,
}

impl CheckoutForm {
    /// A fresh form: the first variant in stock, quantity 1, the first shipping country.
    pub fn for_offer(offer: &Offer) -> CheckoutForm {
        let variant = offer.variants.iter().find(|v| v.stock != Some(0)).or(offer.variants.first());
        CheckoutForm {
            variant_id: variant.map(|v| v.id.clone()).unwrap_or_default(),
            quantity: 1,
            country: offer.ships_to.first().map(|c| c.code().to_owned()).unwrap_or_default(),
            ..CheckoutForm::default()
        }
    }

    pub fn shipping(&self) -> ShippingAddress {
        ShippingAddress {
            name: self.name.clone(),
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
        }
    }

    /// The same checks the server makes, so the visitor sees every problem before paying.
    pub fn validate(&self, offer: &Offer) -> Vec<FieldError> {
        let shipping = self.shipping();
        validate_buyer_details(offer, &self.variant_id, self.quantity, &self.email, Some(&shipping))
            .err()
            .unwrap_or_default()
    }

    /// What the card frame is shown: the whole cart, normalized as the server would, once
    /// every detail passes core's rules; `None` while something is missing or wrong.
    pub fn cart(&self, offer: &Offer) -> Option<Cart> {
        let shipping = self.shipping();
        let (email, shipping) =
            validate_buyer_details(offer, &self.variant_id, self.quantity, &self.email, Some(&shipping)).ok()?;
        Some(Cart { email: Some(email), shipping, share_email: self.share_email, ..self.saved_cart(offer) })
    }

    /// What the saved-info frame is shown: the variant and quantity, with the saved email
    /// and address (`null`), and the email kept from the seller.
    pub fn saved_cart(&self, offer: &Offer) -> Cart {
        Cart {
            product_id: offer.product_id.clone(),
            variant_id: self.variant_id.clone(),
            quantity: self.quantity,
            tweet_id: Some(offer.tweet_id.to_string()),
            email: None,
            shipping: None,
            share_email: false,
            discount_code: self.discount(),
        }
    }

    /// The applied discount code, if any.
    pub fn discount(&self) -> Option<String> {
        (!self.discount_code.is_empty()).then(|| self.discount_code.clone())
    }

    /// The quote request for the current choice.
    pub fn quote_request(&self, offer: &Offer) -> QuoteRequest {
        let physical = offer.kind.needs_shipping();
        QuoteRequest {
            product_id: offer.product_id.clone(),
            variant_id: self.variant_id.clone(),
            quantity: self.quantity,
            country: physical.then(|| Country::parse(&self.country)).flatten(),
            region: (physical && !self.region.is_empty()).then(|| self.region.clone()),
            discount_code: self.discount(),
        }
    }
}

/// One text input of the form: its key in [`FieldError::field`], label and autofill token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Email,
    Name,
    Line1,
    Line2,
    City,
    Region,
    PostalCode,
}

impl Field {
    pub fn key(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::Name => "name",
            Field::Line1 => "line1",
            Field::Line2 => "line2",
            Field::City => "city",
            Field::Region => "region",
            Field::PostalCode => "postal_code",
        }
    }

    /// The HTML autocomplete token, so the browser's autofill fills the right box.
    pub fn autocomplete(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::Name => "shipping name",
            Field::Line1 => "shipping address-line1",
            Field::Line2 => "shipping address-line2",
            Field::City => "shipping address-level2",
            Field::Region => "shipping address-level1",
            Field::PostalCode => "shipping postal-code",
        }
    }

    /// Whether the buyer must fill this field in for an address in `country`, by core's
    /// rules: a postal code where the country has them, a region only where it is a state
    /// (the US, whose states are a list of their own, not this text field).
    pub(crate) fn required(self, country: &str) -> bool {
        let country = Country::parse(country);
        match self {
            Field::Line2 => false,
            Field::Region => country.is_some_and(|c| c.requires_region()),
            Field::PostalCode => country.is_none_or(|c| c.has_postal_codes()),
            _ => true,
        }
    }

    pub(crate) fn value(self, d: &CheckoutForm) -> &String {
        match self {
            Field::Email => &d.email,
            Field::Name => &d.name,
            Field::Line1 => &d.line1,
            Field::Line2 => &d.line2,
            Field::City => &d.city,
            Field::Region => &d.region,
            Field::PostalCode => &d.postal_code,
        }
    }

    pub(crate) fn value_mut(self, d: &mut CheckoutForm) -> &mut String {
        match self {
            Field::Email => &mut d.email,
            Field::Name => &mut d.name,
            Field::Line1 => &mut d.line1,
            Field::Line2 => &mut d.line2,
            Field::City => &mut d.city,
            Field::Region => &mut d.region,
            Field::PostalCode => &mut d.postal_code,
        }
    }
}

/// The label of the input a field error belongs to, for the error summary.
pub fn field_label(field: &str, us: bool) -> Key {
    match field {
        "email" => Key::Email,
        "name" => Key::FullName,
        "line1" => Key::Address,
        "line2" => Key::Address2,
        "city" => Key::City,
        "region" if us => Key::State,
        "region" => Key::Region,
        "postal_code" => Key::PostalCode,
        "country" => Key::Country,
        "variant" => Key::OptionLegend,
        "quantity" => Key::Quantity,
        tweetbuy_core::discount::FIELD => Key::DiscountCode,
        _ => Key::Card,
    }
}

/// The inline and summary text of every field error, in the visitor's language.
pub fn localized_errors(errors: &[FieldError], offer: &Offer, form: &CheckoutForm, locale: &Locale) -> Vec<FieldError> {
    let country = Country::parse(&form.country)
        .map(|c| format::country_name(c, &locale.tag))
        .unwrap_or_else(|| form.country.clone());
    let max = quantity_max(offer, &form.variant_id);
    let localize = |e: &FieldError| FieldError { message: locale.field_error(e, &country, max), ..e.clone() };
    // In the order the sheet shows the fields, so the summary reads top to bottom and the
    // first error focused is the first on screen. (Picked field by field: a sort would bring
    // its own code into the checkout module for a handful of errors.)
    let mut ordered: Vec<FieldError> = Vec::with_capacity(errors.len());
    for field in ON_SCREEN {
        ordered.extend(errors.iter().filter(|e| e.field == *field).map(localize));
    }
    ordered.extend(errors.iter().filter(|e| !ON_SCREEN.contains(&e.field.as_str())).map(localize));
    ordered
}

/// The fields an error can name, in the order the sheet shows them; others come after.
const ON_SCREEN: &[&str] = &[
    "variant_id",
    "quantity",
    "email",
    "name",
    "line1",
    "line2",
    "city",
    "country",
    "region",
    "postal_code",
    "share_email",
    "discount_code",
];

/// The first error for a field, if any.
pub fn error_for(errors: &[FieldError], key: &str) -> Option<String> {
    errors.iter().find(|e| e.field == key).map(|e| e.message.clone())
}

/// The most of the chosen variant one order may take (at least 1, so the field stays
/// usable; buying is blocked separately when nothing is left).
pub fn quantity_max(offer: &Offer, variant_id: &str) -> u32 {
    offer.variant(variant_id).map_or(1, |v| offer.max_quantity(v).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    use tweetbuy_core::testing::tee;

    #[test]
    fn a_fresh_form_skips_sold_out_variants() {
        let d = CheckoutForm::for_offer(&tee());
        assert_eq!(d.variant_id, "m");
        assert_eq!(d.country, "US");
        assert_eq!(d.quantity, 1);
    }

    /// What the form tells a screen reader is required is what core refuses empty, field by
    /// field, in every country (an empty postal code is fine in Ireland, a region outside the US).
    #[test]
    fn the_fields_marked_required_are_those_core_refuses_empty() {
        // Shipped everywhere: a country it does not ship to is refused before its fields.
        let offer = Offer { ships_to: Vec::new(), ..tee() };
        let fields =
            [Field::Email, Field::Name, Field::Line1, Field::Line2, Field::City, Field::Region, Field::PostalCode];
        let mut optional_postal_codes = 0;
        for country in Country::all() {
            for field in fields {
                let mut d = CheckoutForm::for_offer(&offer);
                d.country = country.code().to_owned();
                field.value_mut(&mut d).clear();
                let refused = d.validate(&offer).iter().any(|e| e.field == field.key());
                assert_eq!(refused, field.required(country.code()), "{field:?} in {}", country.code());
                optional_postal_codes += usize::from(field == Field::PostalCode && !refused);
            }
        }
        assert!(optional_postal_codes >= 2, "Ireland and Hong Kong have no postal code to require");
    }

    #[test]
    fn validation_uses_the_core_rules_and_names_fields() {
        let offer = tee();
        let mut d = CheckoutForm::for_offer(&offer);
        let keys: Vec<String> = d.validate(&offer).into_iter().map(|e| e.field).collect();
        assert_eq!(keys, ["email", "name", "line1", "city", "postal_code", "region"]);
        d.email = "jane@example.com".into();
        d.name = "Jane Doe".into();
        d.line1 = "1 Main St".into();
        d.city = "New York".into();
        d.region = "NY".into();
        d.postal_code = "10001".into();
        assert!(d.validate(&offer).is_empty());
        assert_eq!(error_for(&[FieldError::new("email", "x", "Bad")], "email").as_deref(), Some("Bad"));
    }

    #[test]
    fn errors_read_in_the_visitors_language_with_their_field() {
        let offer = tee();
        let mut d = CheckoutForm::for_offer(&offer);
        d.postal_code = "ABC".into();
        let found = d.validate(&offer);
        let es = localized_errors(&found, &offer, &d, &Locale::new("es"));
        assert_eq!(error_for(&es, "email").as_deref(), Some("Escribe tu correo electrónico."));
        assert_eq!(error_for(&es, "postal_code").as_deref(), Some("Este código postal no es válido en United States."));
        assert_eq!(field_label("region", true), Key::State);
        assert_eq!(field_label("number", true), Key::Card);
    }

    #[test]
    fn errors_come_in_the_order_the_sheet_shows_their_fields() {
        let offer = tee();
        let d = CheckoutForm::for_offer(&offer);
        let core_order: Vec<String> = d.validate(&offer).into_iter().map(|e| e.field).collect();
        assert_eq!(core_order, ["email", "name", "line1", "city", "postal_code", "region"], "core's own order");
        let mut found = d.validate(&offer);
        found.insert(0, FieldError::new("discount_code", "discount_unknown", "Unknown"));
        found.push(FieldError::new("number", "invalid_number", "Bad card"));
        let shown: Vec<String> =
            localized_errors(&found, &offer, &d, &Locale::new("en")).into_iter().map(|e| e.field).collect();
        assert_eq!(shown, ["email", "name", "line1", "city", "region", "postal_code", "discount_code", "number"]);
    }

    #[test]
    fn the_card_frame_is_shown_a_cart_only_once_the_details_pass() {
        let offer = tee();
        let mut d = CheckoutForm::for_offer(&offer);
        d.email = " jane@example.com ".into();
        assert_eq!(d.cart(&offer), None, "no address yet");
        d.name = "Jane Doe".into();
        d.line1 = "1 Main St".into();
        d.city = "New York".into();
        d.region = "ny".into();
        d.postal_code = "10001".into();
        d.quantity = 2;
        d.share_email = true;
        let cart = d.cart(&offer).expect("complete");
        assert_eq!(cart.email.as_deref(), Some("jane@example.com"), "trimmed as the server would");
        assert_eq!(cart.shipping.as_ref().map(|a| a.region.as_str()), Some("NY"));
        assert_eq!((cart.variant_id.as_str(), cart.quantity, cart.share_email), ("m", 2, true));
        assert_eq!(cart.tweet_id, Some(offer.tweet_id.to_string()));
        let json = serde_json::to_string(&tweetbuy_core::frame::ToFrame::Show {
            v: tweetbuy_core::frame::V1,
            cart: Some(cart),
        })
        .unwrap();
        assert!(tweetbuy_core::frame::ToFrame::decode(&json).is_some(), "the frame accepts it: {json}");
        assert!(!json.contains("price") && !json.contains("total"), "{json}");
        d.postal_code = "ABC".into();
        assert_eq!(d.cart(&offer), None);
        let mut ticket = tweetbuy_core::testing::ticket();
        ticket.variants.truncate(1);
        let mut t = CheckoutForm::for_offer(&ticket);
        t.email = "fan@example.com".into();
        assert_eq!(t.cart(&ticket).and_then(|c| c.shipping), None, "nothing ships");
        assert!(t.cart(&ticket).is_some());
    }

    #[test]
    fn the_saved_frame_is_shown_the_choice_and_nothing_of_the_buyer() {
        let offer = tee();
        let mut d = CheckoutForm::for_offer(&offer);
        d.email = "typed@example.com".into();
        d.share_email = true;
        d.quantity = 3;
        let cart = d.saved_cart(&offer);
        assert_eq!((cart.product_id.as_str(), cart.variant_id.as_str(), cart.quantity), ("red-tee", "m", 3));
        assert_eq!((cart.email, cart.shipping, cart.share_email), (None, None, false));
    }

    #[test]
    fn quote_request_carries_no_price_and_shipping_only_for_goods() {
        let offer = tee();
        let mut d = CheckoutForm::for_offer(&offer);
        d.region = "NY".into();
        let q = d.quote_request(&offer);
        assert_eq!(q.country.unwrap().code(), "US");
        assert_eq!(q.region.as_deref(), Some("NY"));
        let mut ticket = offer.clone();
        ticket.kind = tweetbuy_core::ProductKind::Ticket;
        assert_eq!(d.quote_request(&ticket).country, None);
        assert_eq!(q.discount_code, None);
        d.discount_code = "TWEET10".into();
        assert_eq!(d.quote_request(&offer).discount_code.as_deref(), Some("TWEET10"));
        assert_eq!(d.saved_cart(&offer).discount_code.as_deref(), Some("TWEET10"), "the frames price it too");
    }

    #[test]
    fn every_field_has_a_distinct_autofill_token() {
        let all =
            [Field::Email, Field::Name, Field::Line1, Field::Line2, Field::City, Field::Region, Field::PostalCode];
        let mut tokens: Vec<&str> = all.iter().map(|f| f.autocomplete()).collect();
        tokens.sort();
        tokens.dedup();
        assert_eq!(tokens.len(), all.len());
    }
}
