//! Prices and counts written as the browser's `Intl.NumberFormat` writes them, for the
//! locales we know, without asking `Intl`.
//!
//! Why: the first `Intl.NumberFormat` of a page visit costs Chromium 20 to 80 ms on a
//! desktop (it loads the locale's number data), four times that on a slow phone, and the
//! Buy button's label carries a price. For these locales the widget writes the number
//! itself; for any other it asks `Intl` as before. `tests/locale_format_vectors.json` holds
//! what Chromium's `Intl` wrote for every entry here: `tests/locale_format_vectors.rs`
//! checks this table against it, and the widget's browser tests check the file against
//! `Intl` itself, so a browser whose locale data changed fails a test instead of showing
//! another format.

use crate::money::{Currency, Money};
use crate::prelude::*;

/// How a locale writes the number: its decimal and grouping separators, and the fewest
/// integer digits that get grouped (Spanish writes 1234,50 but 12.345,00).
struct Numbers {
    decimal: char,
    group: char,
    min_grouped: usize,
}

const POINT: Numbers = Numbers { decimal: '.', group: ',', min_grouped: 4 };
const COMMA: Numbers = Numbers { decimal: ',', group: '.', min_grouped: 4 };
const SPANISH: Numbers = Numbers { decimal: ',', group: '.', min_grouped: 5 };
const FRENCH: Numbers = Numbers { decimal: ',', group: '\u{202f}', min_grouped: 4 };

/// Locales that write every price the same way: the number style, and each currency's
/// text before and after the number, in the order of [`Currency`] (USD, EUR, GBP).
struct Format {
    tags: &'static [&'static str],
    numbers: Numbers,
    affixes: [(&'static str, &'static str); 3],
}

const FORMATS: &[Format] = &[
    Format { tags: &["en", "en-US", "ja", "ja-JP"], numbers: POINT, affixes: [("$", ""), ("€", ""), ("£", "")] },
    Format {
        tags: &["en-GB", "en-CA", "en-IE", "en-NZ"],
        numbers: POINT,
        affixes: [("US$", ""), ("€", ""), ("£", "")],
    },
    Format {
        tags: &["en-AU", "es-MX", "es-419"],
        numbers: POINT,
        affixes: [("USD\u{a0}", ""), ("EUR\u{a0}", ""), ("GBP\u{a0}", "")],
    },
    Format { tags: &["es-US"], numbers: POINT, affixes: [("$", ""), ("EUR\u{a0}", ""), ("GBP\u{a0}", "")] },
    Format {
        tags: &["es", "es-ES"],
        numbers: SPANISH,
        affixes: [("", "\u{a0}US$"), ("", "\u{a0}€"), ("", "\u{a0}GBP")],
    },
    Format {
        tags: &["fr", "fr-FR"],
        numbers: FRENCH,
        affixes: [("", "\u{a0}$US"), ("", "\u{a0}€"), ("", "\u{a0}£GB")],
    },
    Format { tags: &["de", "de-DE"], numbers: COMMA, affixes: [("", "\u{a0}$"), ("", "\u{a0}€"), ("", "\u{a0}£")] },
    Format { tags: &["pt-BR"], numbers: COMMA, affixes: [("US$\u{a0}", ""), ("€\u{a0}", ""), ("£\u{a0}", "")] },
];

/// `amount` as `Intl.NumberFormat(tag, {style: "currency", currency})` writes it, when
/// `tag` (any case) is one of the known locales and the amount is not negative; otherwise
/// `None`, and the caller asks `Intl`.
pub fn money(amount: &Money, tag: &str) -> Option<String> {
    if amount.minor < 0 {
        return None;
    }
    let format = find(tag)?;
    let (before, after) = format.affixes[match amount.currency {
        Currency::USD => 0,
        Currency::EUR => 1,
        Currency::GBP => 2,
    }];
    let scale = 10u64.pow(amount.currency.minor_digits());
    let minor = amount.minor.unsigned_abs();
    let mut text = String::from(before);
    push_grouped(&mut text, minor / scale, &format.numbers);
    text.push(format.numbers.decimal);
    push_padded(&mut text, minor % scale, amount.currency.minor_digits() as usize);
    text.push_str(after);
    Some(text)
}

/// A count (`1,234`, `1234` in Spanish) as `Intl.NumberFormat(tag)` writes it, when `tag`
/// is one of the known locales.
pub fn number(n: u64, tag: &str) -> Option<String> {
    let mut text = String::new();
    push_grouped(&mut text, n, &find(tag)?.numbers);
    Some(text)
}

fn find(tag: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
}

/// The integer part, grouped by thousands when it has enough digits.
fn push_grouped(text: &mut String, whole: u64, numbers: &Numbers) {
    let mut digits = [0u8; 20];
    let mut count = 0;
    let mut rest = whole;
    loop {
        digits[count] = b'0' + (rest % 10) as u8;
        count += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let grouped = count >= numbers.min_grouped;
    for at in (0..count).rev() {
        text.push(digits[at] as char);
        if grouped && at > 0 && at % 3 == 0 {
            text.push(numbers.group);
        }
    }
}

/// `value` with leading zeros to `width` digits.
fn push_padded(text: &mut String, value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut rest = value;
    for at in (0..width).rev() {
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    text.extend(digits[..width].iter().map(|d| *d as char));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_separators() {
        let usd = |minor| Money::new(minor, Currency::USD);
        assert_eq!(money(&usd(3000), "en-US").as_deref(), Some("$30.00"));
        assert_eq!(money(&usd(123456750), "en").as_deref(), Some("$1,234,567.50"));
        assert_eq!(money(&usd(123450), "es").as_deref(), Some("1234,50\u{a0}US$"));
        assert_eq!(money(&usd(1234500), "ES-es").as_deref(), Some("12.345,00\u{a0}US$"));
        assert_eq!(money(&usd(5), "fr").as_deref(), Some("0,05\u{a0}$US"));
        assert_eq!(money(&usd(-5), "en"), None, "negative amounts are left to Intl");
        assert_eq!(money(&usd(5), "en-ZA"), None, "an unknown locale is left to Intl");
        assert_eq!(number(1234, "fr").as_deref(), Some("1\u{202f}234"));
        assert_eq!(number(0, "de").as_deref(), Some("0"));
    }

    /// Every locale and currency of the table has prices and counts, grouped ones among
    /// them, in the vectors that Intl wrote.
    #[test]
    fn every_entry_is_checked_against_intl() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../tests/locale_format_vectors.json")).unwrap();
        let cases = |kind: &str| vectors[kind].as_array().unwrap().clone();
        let (prices, counts) = (cases("money"), cases("numbers"));
        for format in FORMATS {
            for tag in format.tags {
                for currency in ["USD", "EUR", "GBP"] {
                    let priced = prices.iter().any(|v| {
                        v["tag"] == *tag
                            && v["currency"] == currency
                            && v["minor"].as_i64() > Some(100_000)
                            && v["text"].is_string()
                    });
                    assert!(priced, "{tag} {currency}: no grouped price written by Intl");
                }
                let counted = counts.iter().any(|v| v["tag"] == *tag && v["n"].as_u64() > Some(10_000));
                assert!(counted, "{tag}: no grouped count written by Intl");
            }
        }
    }
}
