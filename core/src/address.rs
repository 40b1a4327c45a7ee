//! The buyer's contact and shipping details: email, countries and their postal-code rules.

use crate::error::FieldError;
use crate::prelude::*;
use crate::text::is_single_line;
use core::fmt;
use serde::{Deserialize, Serialize};

/// An ISO 3166-1 alpha-2 country code we can ship to and whose postal rule we know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "US"))]
#[serde(try_from = "String", into = "String")]
pub struct Country([u8; 2]);

/// Postal-code shapes per country: `N` a digit, `A` a letter, anything else itself.
/// A country with no shapes has no postal codes (the field may stay empty).
const COUNTRIES: &[(&str, &str, &[&str])] = &[
    ("US", "United States", &["NNNNN", "NNNNN-NNNN"]),
    ("CA", "Canada", &["ANA NAN", "ANANAN"]),
    ("MX", "Mexico", &["NNNNN"]),
    (
        "GB",
        "United Kingdom",
        &[
            "AN NAA", "ANN NAA", "AAN NAA", "AANN NAA", "ANA NAA", "AANA NAA", "ANNAA", "ANNNAA", "AANNAA", "AANNNAA",
            "ANANAA", "AANANAA",
        ],
    ),
    ("IE", "Ireland", &[]),
    ("DE", "Germany", &["NNNNN"]),
    ("FR", "France", &["NNNNN"]),
    ("ES", "Spain", &["NNNNN"]),
    ("IT", "Italy", &["NNNNN"]),
    ("NL", "Netherlands", &["NNNN AA", "NNNNAA"]),
    ("PT", "Portugal", &["NNNN-NNN"]),
    ("AU", "Australia", &["NNNN"]),
    ("JP", "Japan", &["NNN-NNNN", "NNNNNNN"]),
    ("BR", "Brazil", &["NNNNN-NNN", "NNNNNNNN"]),
    ("HK", "Hong Kong", &[]),
];

/// US states and DC, for the state field and the illustrative tax table.
pub const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
];

impl Country {
    /// Accepts a known alpha-2 code in any letter case.
    pub fn parse(code: &str) -> Option<Country> {
        if !is_single_line(code) {
            return None;
        }
        let upper = code.trim().to_ascii_uppercase();
        COUNTRIES.iter().find(|(c, _, _)| *c == upper).map(|(c, _, _)| Country([c.as_bytes()[0], c.as_bytes()[1]]))
    }

    /// Every country we know, in table order.
    pub fn all() -> impl Iterator<Item = Country> {
        COUNTRIES.iter().filter_map(|(c, _, _)| Country::parse(c))
    }

    /// The two-letter code in upper case (`US`), as the wire carries it.
    pub fn code(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The English name; the widget localizes names through `Intl.DisplayNames`.
    pub fn name(&self) -> &'static str {
        self.entry().1
    }

    /// Whether this country's rule checks postal codes. Where it does not (`IE`, `HK`),
    /// [`validate_postal_code`] accepts any single line, an empty one included.
    pub fn has_postal_codes(&self) -> bool {
        !self.entry().2.is_empty()
    }

    /// Whether an address here must name its region: a US state. Elsewhere the region is
    /// optional, whatever the form calls it.
    pub fn requires_region(&self) -> bool {
        self.0 == *b"US"
    }

    fn entry(&self) -> &'static (&'static str, &'static str, &'static [&'static str]) {
        COUNTRIES.iter().find(|(c, _, _)| c.as_bytes() == self.0).unwrap_or(&COUNTRIES[0])
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Country {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Country::parse(&value).ok_or_else(|| format!("unknown country code: \"{value}\""))
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.code().to_owned()
    }
}

fn matches_shape(code: &str, shape: &str) -> bool {
    code.len() == shape.len()
        && code.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'N' => c.is_ascii_digit(),
            b'A' => c.is_ascii_alphabetic(),
            other => c == other,
        })
}

/// Checks a postal code against the country's rule. Letter case and surrounding space are
/// forgiven; returns the code normalized (upper case, trimmed).
pub fn validate_postal_code(country: Country, code: &str) -> Result<String, FieldError> {
    let normalized = code.trim().to_ascii_uppercase();
    let shapes = country.entry().2;
    if !is_single_line(code) {
        return Err(FieldError::new(
            "postal_code",
            "invalid_characters",
            "Remove the special characters from this field.",
        ));
    }
    if shapes.is_empty() {
        return Ok(normalized);
    }
    if normalized.is_empty() {
        return Err(FieldError::new("postal_code", "required", "Enter a postal code."));
    }
    if shapes.iter().any(|shape| matches_shape(&normalized, shape)) {
        Ok(normalized)
    } else {
        Err(FieldError::new(
            "postal_code",
            "postal_code_invalid",
            format!("This is not a valid postal code for {}.", country.name()),
        ))
    }
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain of letters,
/// digits and hyphens, no spaces, control or invisible format characters
/// ([`crate::text::is_invisible_format`]), at most 254 characters.
///
/// A domain's label may hold letters beyond ASCII (an internationalized name, whose
/// registry's own rules are the mail system's to apply) but not ASCII's symbols, which a
/// slip of the keyboard does type, nor their full-width forms (`＠`, `．`), which a mailer
/// reads as those symbols. Beyond that, telling letters from symbols would take Unicode's
/// tables of letters and digits, 1.7 KB brotli of the checkout module every buyer
/// downloads, to refuse names no one types by mistake.
pub fn validate_email(raw: &str) -> Result<String, FieldError> {
    let email = raw.trim();
    let invalid = || FieldError::new("email", "email_invalid", "Enter an email address like name@example.com.");
    if email.is_empty() {
        return Err(FieldError::new("email", "required", "Enter your email address."));
    }
    let hidden = |c: char| c.is_whitespace() || crate::text::is_invisible_format(c);
    if email.len() > 254 || !is_single_line(raw) || email.chars().any(hidden) {
        return Err(invalid());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(invalid());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || c == '-'
                    // Beyond ASCII, but not a full-width form of ASCII's symbols.
                    || !(c.is_ascii()
                        || matches!(c, '\u{ff01}'..='\u{ff0f}' | '\u{ff1a}'..='\u{ff20}' | '\u{ff3b}'..='\u{ff40}' | '\u{ff5b}'..='\u{ff65}'))
            })
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(invalid());
    }
    Ok(email.to_owned())
}

/// Where a physical order ships.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShippingAddress {
    /// The recipient's name, as it goes on the parcel. Required; like every text field here,
    /// one line of at most [`MAX_FIELD_LEN`] characters ([`ShippingAddress::validate`] checks
    /// them all).
    pub name: String,
    /// The street and number (or a PO box). Required.
    pub line1: String,
    /// Apartment, suite, floor or building; may be empty, or absent on the wire.
    #[serde(default)]
    pub line2: String,
    /// The city or town. Required.
    pub city: String,
    /// State, province or region; required for the US (a two-letter state code).
    #[serde(default)]
    pub region: String,
    /// Checked against the country's shapes and upper-cased by [`validate_postal_code`]; may be
    /// empty only where the country has none ([`Country::has_postal_codes`]).
    pub postal_code: String,
    /// The ISO 3166-1 alpha-2 code of the destination (`US`). Text rather than a [`Country`], so
    /// that [`ShippingAddress::validate`] can report an unknown code, or one the offer does not
    /// ship to, as a `country` field error beside the others.
    pub country: String,
}

/// Longest accepted text in any address field: a real address line fits; a 10 MB one does not.
pub const MAX_FIELD_LEN: usize = 200;

/// What is wrong with `region` (trimmed, upper case) as a US address's state, if anything: it
/// must be a state's code (the quote checks one the same way, once the buyer has chosen it).
pub fn us_state_problem(region: &str) -> Option<FieldError> {
    if region.is_empty() {
        Some(FieldError::new("region", "required", "Choose a state."))
    } else if !US_STATES.contains(&region) {
        Some(FieldError::new("region", "region_invalid", "Choose a US state."))
    } else {
        None
    }
}

fn text_field(field: &'static str, raw: &str, required: bool, errors: &mut Vec<FieldError>) -> String {
    let value = raw.trim();
    // Checked before trimming: a trailing newline is refused, not quietly forgiven.
    if !is_single_line(raw) {
        errors.push(FieldError::new(field, "invalid_characters", "Remove the special characters from this field."));
    } else if value.chars().count() > MAX_FIELD_LEN {
        errors.push(FieldError::new(field, "too_long", format!("Use at most {MAX_FIELD_LEN} characters.")));
    } else if required && crate::text::is_blank(value) {
        errors.push(FieldError::new(field, "required", "This field is required."));
    }
    value.to_owned()
}

impl ShippingAddress {
    /// Validates every field and returns the address normalized, or every field's error at
    /// once so a form can show them all. `ships_to` limits the countries (empty: any known).
    pub fn validate(&self, ships_to: &[Country]) -> Result<ShippingAddress, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = text_field("name", &self.name, true, &mut errors);
        let line1 = text_field("line1", &self.line1, true, &mut errors);
        let line2 = text_field("line2", &self.line2, false, &mut errors);
        let city = text_field("city", &self.city, true, &mut errors);
        let mut region = text_field("region", &self.region, false, &mut errors).to_ascii_uppercase();
        let mut postal_code = self.postal_code.trim().to_owned();
        let mut country_code = self.country.trim().to_ascii_uppercase();
        match Country::parse(&self.country) {
            None => errors.push(FieldError::new("country", "country_invalid", "Choose a country.")),
            Some(country) if !ships_to.is_empty() && !ships_to.contains(&country) => errors.push(FieldError::new(
                "country",
                "country_not_shipped",
                format!("This item does not ship to {}.", country.name()),
            )),
            Some(country) => {
                country_code = country.code().to_owned();
                match validate_postal_code(country, &self.postal_code) {
                    Ok(code) => postal_code = code,
                    Err(e) => errors.push(e),
                }
                if country.requires_region() {
                    errors.extend(us_state_problem(&region));
                } else {
                    region = region.trim().to_owned();
                }
            }
        }
        if errors.is_empty() {
            Ok(ShippingAddress { name, line1, line2, city, region, postal_code, country: country_code })
        } else {
            Err(errors)
        }
    }
}

/// Emails with internationalized domains that [`validate_email`] accepts: the server's test
/// holds its mailer to accept them too.
#[cfg(any(test, feature = "testing"))]
pub const INTERNATIONAL_EMAILS: [&str; 5] = [
    "jane@bücher.example",
    "jane@例え.テスト",
    "jane@xn--bcher-kva.example",
    "jane@müller-shop.de",
    "jörg@straße.example",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Country {
        Country::parse("us").unwrap()
    }

    #[test]
    fn postal_codes_follow_each_country() {
        let ok = |c: &str, p: &str| validate_postal_code(Country::parse(c).unwrap(), p);
        assert_eq!(ok("US", "10001").unwrap(), "10001");
        assert!(ok("US", "10001-1234").is_ok());
        assert!(ok("US", "1000").is_err());
        assert!(ok("US", "ABCDE").is_err());
        assert_eq!(ok("CA", "k1a 0b1").unwrap(), "K1A 0B1");
        assert!(ok("CA", "K1A0B1").is_ok());
        assert!(ok("CA", "11A 0B1").is_err());
        assert!(ok("GB", "SW1A 1AA").is_ok());
        assert!(ok("GB", "M1 1AE").is_ok());
        assert!(ok("GB", "12345").is_err());
        assert!(ok("NL", "1012 AB").is_ok());
        assert!(ok("JP", "100-0001").is_ok());
        assert!(ok("DE", "10115").is_ok());
        assert!(ok("DE", "1011").is_err());
        assert!(ok("HK", "").is_ok(), "no postal codes in Hong Kong");
        assert_eq!(ok("US", "").unwrap_err().code, "required");
        assert_eq!(ok("US", "1").unwrap_err().field, "postal_code");
    }

    #[test]
    fn countries_parse_in_any_case_and_reject_unknown() {
        assert_eq!(Country::parse("de").unwrap().code(), "DE");
        assert!(Country::parse("ZZ").is_none());
        assert!(Country::parse("USA").is_none());
        assert!(Country::all().count() >= 10);
        assert_eq!(serde_json::to_string(&us()).unwrap(), "\"US\"");
        assert!(serde_json::from_str::<Country>("\"XX\"").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(validate_email(" jane@example.com ").unwrap(), "jane@example.com");
        assert!(validate_email("j.doe+tee@mail.example.co.uk").is_ok());
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "jane doe@example.com",
            "jane@-x.com",
            "a@b@c.com",
            "jane@exa_mple.com",
            "jane@example,com",
            "jane@exa!mple.com",
            "jane@ex\u{9f}ample.com",
            "jane@exa\u{202e}elpm.com",
            "jane@exa\u{200b}mple.com",
            "ja\u{2066}ne@example.com",
            "jane@example\u{feff}.com",
            "jane@\u{ad}example.com",
            "jane@example\u{ff0e}com",
            "jane@exa\u{ff20}mple.com",
            "jane@exa\u{ff0f}mple.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
        for idn in INTERNATIONAL_EMAILS {
            assert!(validate_email(idn).is_ok(), "an internationalized domain: {idn:?}");
        }
        assert!(validate_email(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert_eq!(validate_email("").unwrap_err().code, "required");
    }

    fn address() -> ShippingAddress {
        ShippingAddress {
            name: "Jane Doe".into(),
            line1: "1 Main St".into(),
            line2: String::new(),
            city: "New York".into(),
            region: "ny".into(),
            postal_code: "10001".into(),
            country: "us".into(),
        }
    }

    #[test]
    fn a_good_address_is_normalized() {
        let a = address().validate(&[us()]).unwrap();
        assert_eq!(a.country, "US");
        assert_eq!(a.region, "NY");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut a = address();
        a.name = " ".into();
        a.city = String::new();
        a.postal_code = "abc".into();
        a.region = "ZZ".into();
        let errors = a.validate(&[]).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "city", "postal_code", "region"]);
    }

    #[test]
    fn a_required_field_of_invisible_characters_is_empty() {
        let mut a = address();
        // Direction marks alone: a right-to-left name that lost its letters.
        a.name = "\u{200f}\u{200e}".into();
        a.line1 = " \u{feff}\u{200b} ".into();
        a.city = "\u{2060}".into();
        let errors = a.validate(&[]).unwrap_err();
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(found, [("name", "required"), ("line1", "required"), ("city", "required")]);
    }

    #[test]
    fn ships_to_limits_countries() {
        let mut a = address();
        a.country = "DE".into();
        a.region = String::new();
        a.postal_code = "10115".into();
        let errors = a.validate(&[us()]).unwrap_err();
        assert_eq!(errors[0].code, "country_not_shipped");
        assert!(a.validate(&[]).is_ok());
    }

    #[test]
    fn control_characters_and_huge_text_are_refused() {
        let mut a = address();
        a.line1 = "1 Main\u{0}St".into();
        a.line2 = "x".repeat(10_000);
        let errors = a.validate(&[]).unwrap_err();
        assert_eq!(errors[0].code, "invalid_characters");
        assert_eq!(errors[1].code, "too_long");
        // Surrounding control characters are refused too, not trimmed away.
        for (field, value) in [("name", "Jane Doe\n"), ("city", "\tNew York"), ("region", "NY\r\n")] {
            let mut a = address();
            match field {
                "name" => a.name = value.into(),
                "city" => a.city = value.into(),
                _ => a.region = value.into(),
            }
            let errors = a.validate(&[]).unwrap_err();
            assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), (field, "invalid_characters"));
        }
        let mut a = address();
        a.postal_code = "10001\n".into();
        assert_eq!(a.validate(&[]).unwrap_err()[0].code, "invalid_characters");
        let mut a = address();
        a.country = "US\u{0}".into();
        assert_eq!(a.validate(&[]).unwrap_err()[0].code, "country_invalid");
        assert!(validate_email("jane@example.com\n").is_err());
        assert!(validate_email(" jane@example.com ").is_ok(), "spaces are still forgiven");
    }
}
