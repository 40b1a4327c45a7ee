//! Card numbers, brands, expiry and CVC: the rules of `tests/fixtures/test-cards.md`.
//!
//! Only the vault's frame and the vault server ever hold a [`CardNumber`]; everything else
//! sees a [`CardBrand`] and the last four digits.

use crate::prelude::*;
use core::fmt;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A card network, detected from the number's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CardBrand {
    /// Numbers starting with 4.
    Visa,
    /// Numbers starting with 51 to 55 or 2221 to 2720.
    Mastercard,
    /// American Express: numbers starting with 34 or 37, with a four-digit security code.
    Amex,
    /// Numbers starting with 6011, 644 to 649 or 65.
    Discover,
    /// JCB: numbers starting with 3528 to 3589.
    Jcb,
    /// Numbers starting with 300 to 305, 36, 38 or 39.
    DinersClub,
    /// Numbers starting with 62; the one brand whose numbers need not pass the Luhn check.
    UnionPay,
}

impl CardBrand {
    /// Detects the brand from the leading digits (the number may be partial, as typed).
    pub fn detect(digits: &str) -> Option<CardBrand> {
        let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
        let in_range = |n: usize, lo: u32, hi: u32| prefix(n).is_some_and(|p| (lo..=hi).contains(&p));
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Longer, more specific prefixes first: 6011/644–649/65 before 62, 2221–2720 before 2.
        if in_range(2, 34, 34) || in_range(2, 37, 37) {
            Some(CardBrand::Amex)
        } else if in_range(4, 3528, 3589) {
            Some(CardBrand::Jcb)
        } else if in_range(3, 300, 305) || in_range(2, 36, 36) || in_range(2, 38, 39) {
            Some(CardBrand::DinersClub)
        } else if in_range(2, 51, 55) || in_range(4, 2221, 2720) {
            Some(CardBrand::Mastercard)
        } else if in_range(4, 6011, 6011) || in_range(3, 644, 649) || in_range(2, 65, 65) {
            Some(CardBrand::Discover)
        } else if in_range(2, 62, 62) {
            Some(CardBrand::UnionPay)
        } else if in_range(1, 4, 4) {
            Some(CardBrand::Visa)
        } else {
            None
        }
    }

    /// The number lengths this brand issues.
    pub fn lengths(self) -> &'static [usize] {
        match self {
            CardBrand::Visa => &[16, 18, 19],
            CardBrand::Mastercard => &[16],
            CardBrand::Amex => &[15],
            CardBrand::Discover => &[16, 19],
            CardBrand::Jcb => &[16, 17, 18, 19],
            CardBrand::DinersClub => &[14, 16, 19],
            CardBrand::UnionPay => &[14, 15, 16, 17, 18, 19],
        }
    }

    /// How many digits the security code has.
    pub fn cvc_length(self) -> usize {
        if self == CardBrand::Amex {
            4
        } else {
            3
        }
    }

    /// UnionPay issues numbers that do not pass the Luhn check.
    pub fn requires_luhn(self) -> bool {
        self != CardBrand::UnionPay
    }

    /// The name a person reads, e.g. on "Visa •••• 4242".
    pub fn display_name(self) -> &'static str {
        match self {
            CardBrand::Visa => "Visa",
            CardBrand::Mastercard => "Mastercard",
            CardBrand::Amex => "American Express",
            CardBrand::Discover => "Discover",
            CardBrand::Jcb => "JCB",
            CardBrand::DinersClub => "Diners Club",
            CardBrand::UnionPay => "UnionPay",
        }
    }
}

/// Why a card detail was refused. The `code` strings are stable and shown to the buyer
/// through the message catalog.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// Nothing was typed, once spaces and dashes are left out (`number_missing`).
    #[error("Enter your card number.")]
    NumberMissing,
    /// Something other than digits, spaces and dashes was typed (`number_not_digits`).
    #[error("A card number has only digits and spaces.")]
    NumberNotDigits,
    /// The leading digits match no brand we accept ([`CardBrand::detect`]) (`unknown_brand`).
    #[error("This card type is not accepted.")]
    UnknownBrand,
    /// The brand never issues numbers with this many digits ([`CardBrand::lengths`])
    /// (`wrong_length`).
    #[error("This card number has the wrong number of digits.")]
    WrongLength,
    /// The number fails the Luhn checksum, which catches most typos (`invalid_number`).
    #[error("This card number is not valid. Check it for typos.")]
    FailsLuhn,
    /// The expiry is not a month and a year in a form [`Expiry::parse`] reads (`expiry_malformed`).
    #[error("Enter the expiry as MM/YY.")]
    ExpiryMalformed,
    /// The expiry month is not 1 to 12 (`expiry_month`).
    #[error("The expiry month must be 01 to 12.")]
    ExpiryMonth,
    /// The expiry month is before the current one (`expired_card`).
    #[error("This card has expired.")]
    ExpiryInPast,
    /// The expiry year is more than 19 years after the current one (`expiry_too_far`).
    #[error("The expiry year is too far in the future.")]
    ExpiryTooFar,
    /// The security code is not exactly `expected` digits (`cvc_length`).
    #[error("The security code must have {expected} digits.")]
    CvcLength {
        /// The brand's code length ([`CardBrand::cvc_length`]): 4 for American Express, else 3.
        expected: usize,
    },
}

impl CardError {
    /// A stable machine code, e.g. for the frame's messages and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            CardError::NumberMissing => "number_missing",
            CardError::NumberNotDigits => "number_not_digits",
            CardError::UnknownBrand => "unknown_brand",
            CardError::WrongLength => "wrong_length",
            CardError::FailsLuhn => "invalid_number",
            CardError::ExpiryMalformed => "expiry_malformed",
            CardError::ExpiryMonth => "expiry_month",
            CardError::ExpiryInPast => "expired_card",
            CardError::ExpiryTooFar => "expiry_too_far",
            CardError::CvcLength { .. } => "cvc_length",
        }
    }

    /// Which input the error belongs to: `number`, `expiry` or `cvc`.
    pub fn field(&self) -> &'static str {
        match self {
            CardError::NumberMissing
            | CardError::NumberNotDigits
            | CardError::UnknownBrand
            | CardError::WrongLength
            | CardError::FailsLuhn => "number",
            CardError::ExpiryMalformed | CardError::ExpiryMonth | CardError::ExpiryInPast | CardError::ExpiryTooFar => {
                "expiry"
            }
            CardError::CvcLength { .. } => "cvc",
        }
    }
}

/// The Luhn (mod 10) checksum over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// A validated card number. Its `Debug` and `Display` show only the last four digits, so
/// it cannot end up whole in a log line by accident, and its digits are overwritten with
/// zeros when it is dropped, so they do not linger in freed memory.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    digits: String,
    brand: CardBrand,
}

impl Drop for CardNumber {
    fn drop(&mut self) {
        self.digits.zeroize();
    }
}

impl ZeroizeOnDrop for CardNumber {}

impl CardNumber {
    /// Validates a number as typed: spaces and dashes are ignored.
    pub fn parse(raw: &str) -> Result<CardNumber, CardError> {
        // Zeroized on every way out: a refused number is a card number too.
        let mut digits = Zeroizing::new(String::with_capacity(raw.len()));
        digits.extend(raw.chars().filter(|c| *c != ' ' && *c != '-'));
        if digits.is_empty() {
            return Err(CardError::NumberMissing);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::NumberNotDigits);
        }
        let brand = CardBrand::detect(&digits).ok_or(CardError::UnknownBrand)?;
        if !brand.lengths().contains(&digits.len()) {
            return Err(CardError::WrongLength);
        }
        if brand.requires_luhn() && !luhn_valid(&digits) {
            return Err(CardError::FailsLuhn);
        }
        Ok(CardNumber { digits: core::mem::take(&mut *digits), brand })
    }

    /// The brand, detected from the number's prefix when it was parsed.
    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    /// The last four digits: all of the number that anything outside the vault may see.
    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// The full digits, for the vault's encryption and processor only.
    pub fn expose_digits(&self) -> &str {
        &self.digits
    }

    /// "•••• 4242": the only form shown to people.
    pub fn masked(&self) -> String {
        mask_last4(self.last4())
    }
}

/// "•••• 4242" from the last four digits.
pub fn mask_last4(last4: &str) -> String {
    format!("•••• {last4}")
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({:?} {})", self.brand, self.masked())
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// A card's expiry month and four-digit year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    /// The month, 1 to 12.
    pub month: u8,
    /// The four-digit year; [`Expiry::parse`] reads a two-digit `YY` as `20YY`.
    pub year: u16,
}

impl Expiry {
    /// Parses what a person types: `MM/YY`, `MM / YY`, `MM/YYYY`, `MMYY`.
    pub fn parse(raw: &str) -> Result<Expiry, CardError> {
        if !crate::text::is_single_line(raw) {
            return Err(CardError::ExpiryMalformed);
        }
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let (m, y) = match compact.split_once('/') {
            Some(parts) => parts,
            // Only ASCII digits may be split by byte position (found by the property tests).
            None if (compact.len() == 4 || compact.len() == 6) && compact.bytes().all(|b| b.is_ascii_digit()) => {
                compact.split_at(2)
            }
            None => return Err(CardError::ExpiryMalformed),
        };
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !numeric(m) || !numeric(y) || m.len() > 2 || !(y.len() == 2 || y.len() == 4) {
            return Err(CardError::ExpiryMalformed);
        }
        let month: u8 = m.parse().map_err(|_| CardError::ExpiryMalformed)?;
        let year: u16 = y.parse().map_err(|_| CardError::ExpiryMalformed)?;
        let year = if y.len() == 2 { 2000 + year } else { year };
        if !(1..=12).contains(&month) {
            return Err(CardError::ExpiryMonth);
        }
        Ok(Expiry { month, year })
    }

    /// Checks the expiry against today's year and month: not before the current month, and
    /// at most 19 years ahead.
    pub fn validate(self, today_year: u16, today_month: u8) -> Result<Expiry, CardError> {
        if !(1..=12).contains(&self.month) {
            return Err(CardError::ExpiryMonth);
        }
        if (self.year, self.month) < (today_year, today_month) {
            return Err(CardError::ExpiryInPast);
        }
        if self.year > today_year + 19 {
            return Err(CardError::ExpiryTooFar);
        }
        Ok(self)
    }
}

/// Checks a security code's length for the brand. The code itself is never stored.
pub fn validate_cvc(brand: CardBrand, raw: &str) -> Result<(), CardError> {
    let cvc = raw.trim();
    let expected = brand.cvc_length();
    if !crate::text::is_single_line(raw) || cvc.len() != expected || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CardError::CvcLength { expected });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_digits_are_wiped_on_drop() {
        fn wiped_on_drop<T: ZeroizeOnDrop>() {}
        wiped_on_drop::<CardNumber>();
    }

    #[test]
    fn test_cards_from_the_fixture_are_valid_with_their_brand() {
        for (number, brand) in [
            ("4242 4242 4242 4242", CardBrand::Visa),
            ("2223 0031 2200 3222", CardBrand::Mastercard),
            ("3782 822463 10005", CardBrand::Amex),
            ("4000 0000 0000 0002", CardBrand::Visa),
            ("4000 0000 0000 9995", CardBrand::Visa),
            ("4000 0000 0000 0069", CardBrand::Visa),
            ("4000 0000 0000 0127", CardBrand::Visa),
            ("4000 0000 0000 0119", CardBrand::Visa),
        ] {
            let card = CardNumber::parse(number).unwrap_or_else(|e| panic!("{number}: {e}"));
            assert_eq!(card.brand(), brand, "{number}");
        }
    }

    #[test]
    fn luhn_failure_is_rejected() {
        assert_eq!(CardNumber::parse("4242 4242 4242 4241"), Err(CardError::FailsLuhn));
        assert_eq!(CardError::FailsLuhn.code(), "invalid_number");
    }

    #[test]
    fn brand_prefix_table() {
        let cases = [
            ("4", Some(CardBrand::Visa)),
            ("51", Some(CardBrand::Mastercard)),
            ("55", Some(CardBrand::Mastercard)),
            ("56", None),
            ("2221", Some(CardBrand::Mastercard)),
            ("2720", Some(CardBrand::Mastercard)),
            ("2220", None),
            ("2721", None),
            ("34", Some(CardBrand::Amex)),
            ("37", Some(CardBrand::Amex)),
            ("6011", Some(CardBrand::Discover)),
            ("644", Some(CardBrand::Discover)),
            ("649", Some(CardBrand::Discover)),
            ("65", Some(CardBrand::Discover)),
            ("643", None),
            ("3528", Some(CardBrand::Jcb)),
            ("3589", Some(CardBrand::Jcb)),
            ("3590", None),
            ("300", Some(CardBrand::DinersClub)),
            ("305", Some(CardBrand::DinersClub)),
            ("306", None),
            ("36", Some(CardBrand::DinersClub)),
            ("38", Some(CardBrand::DinersClub)),
            ("39", Some(CardBrand::DinersClub)),
            ("62", Some(CardBrand::UnionPay)),
            ("1", None),
            ("", None),
        ];
        for (prefix, brand) in cases {
            let padded = format!("{prefix}{}", "0".repeat(16usize.saturating_sub(prefix.len())));
            assert_eq!(CardBrand::detect(&padded), brand, "prefix {prefix:?}");
        }
    }

    #[test]
    fn lengths_per_brand() {
        // Amex is 15 only.
        assert_eq!(CardNumber::parse("378282246310005 0"), Err(CardError::WrongLength));
        // Visa 13 digits is not issued any more.
        assert_eq!(CardNumber::parse("4222222222222"), Err(CardError::WrongLength));
        // UnionPay needs no Luhn.
        assert_eq!(CardNumber::parse("6200000000000001").unwrap().brand(), CardBrand::UnionPay);
        assert!(!luhn_valid("6200000000000001"));
        // Diners 14.
        assert_eq!(CardNumber::parse("3056 930902 5904").unwrap().brand(), CardBrand::DinersClub);
    }

    #[test]
    fn number_input_errors() {
        assert_eq!(CardNumber::parse("   "), Err(CardError::NumberMissing));
        assert_eq!(CardNumber::parse("4242x4242"), Err(CardError::NumberNotDigits));
        assert_eq!(CardNumber::parse("9999 9999 9999 9999"), Err(CardError::UnknownBrand));
    }

    #[test]
    fn debug_and_display_never_show_the_number() {
        let card = CardNumber::parse("4242424242424242").unwrap();
        let shown = format!("{card:?} {card}");
        assert!(!shown.contains("424242424242"), "{shown}");
        assert!(shown.contains("4242"));
        assert_eq!(card.last4(), "4242");
        assert_eq!(card.masked(), "•••• 4242");
    }

    #[test]
    fn expiry_parsing_and_window() {
        assert_eq!(Expiry::parse("12/30"), Ok(Expiry { month: 12, year: 2030 }));
        assert_eq!(Expiry::parse(" 1 / 2031 "), Ok(Expiry { month: 1, year: 2031 }));
        assert_eq!(Expiry::parse("0130"), Ok(Expiry { month: 1, year: 2030 }));
        assert_eq!(Expiry::parse("13/30"), Err(CardError::ExpiryMonth));
        assert_eq!(Expiry::parse("00/30"), Err(CardError::ExpiryMonth));
        assert_eq!(Expiry::parse("1/3"), Err(CardError::ExpiryMalformed));
        assert_eq!(Expiry::parse("ab/cd"), Err(CardError::ExpiryMalformed));
        assert_eq!(Expiry::parse(""), Err(CardError::ExpiryMalformed));
        assert_eq!(Expiry::parse("12/\n30"), Err(CardError::ExpiryMalformed), "control characters are refused");
        assert_eq!(Expiry::parse("12/30\t"), Err(CardError::ExpiryMalformed));
        assert!(validate_cvc(CardBrand::Visa, "123\n").is_err());
        assert!(validate_cvc(CardBrand::Visa, " 123 ").is_ok());
        // Four bytes that are not four ASCII digits must not be split mid-character.
        assert_eq!(Expiry::parse("'🕴"), Err(CardError::ExpiryMalformed));
        let today = (2026, 11);
        let check = |m, y| Expiry { month: m, year: y }.validate(today.0, today.1);
        assert!(check(11, 2026).is_ok(), "the current month is still valid");
        assert_eq!(check(10, 2026), Err(CardError::ExpiryInPast));
        assert_eq!(check(12, 2025), Err(CardError::ExpiryInPast));
        assert!(check(12, 2045).is_ok(), "this year + 19");
        assert_eq!(check(1, 2046), Err(CardError::ExpiryTooFar));
    }

    #[test]
    fn cvc_length_follows_brand() {
        assert!(validate_cvc(CardBrand::Visa, "123").is_ok());
        assert_eq!(validate_cvc(CardBrand::Visa, "1234"), Err(CardError::CvcLength { expected: 3 }));
        assert!(validate_cvc(CardBrand::Amex, "1234").is_ok());
        assert_eq!(validate_cvc(CardBrand::Amex, "123"), Err(CardError::CvcLength { expected: 4 }));
        assert!(validate_cvc(CardBrand::Visa, "12a").is_err());
        assert_eq!(CardError::CvcLength { expected: 4 }.field(), "cvc");
    }
}
