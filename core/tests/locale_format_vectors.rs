//! The prices and counts of `locale_format_vectors.json` (beside this file), as Chromium's
//! `Intl.NumberFormat` wrote them: tweetbuy-core's table of locale formats must write each
//! one the same, and leave to `Intl` exactly the locales and amounts the file marks `null`.
//! The widget's browser tests (`tests/web.rs`) run the same file against `Intl` itself.

use serde::Deserialize;
use tweetbuy_core::{locale_format, Currency, Money};

#[derive(Deserialize)]
struct Vectors {
    money: Vec<Price>,
    numbers: Vec<Count>,
}

#[derive(Deserialize)]
struct Price {
    tag: String,
    currency: String,
    minor: i64,
    text: Option<String>,
}

#[derive(Deserialize)]
struct Count {
    tag: String,
    n: u64,
    text: Option<String>,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("locale_format_vectors.json")).expect("locale_format_vectors.json parses")
}

#[test]
fn prices_as_intl_wrote_them() {
    let prices = vectors().money;
    assert!(prices.len() > 100);
    for case in &prices {
        let amount = Money::new(case.minor, Currency::parse(&case.currency).expect("a known currency"));
        assert_eq!(
            locale_format::money(&amount, &case.tag),
            case.text,
            "{} {} {}",
            case.tag,
            case.currency,
            case.minor
        );
    }
}

#[test]
fn counts_as_intl_wrote_them() {
    let counts = vectors().numbers;
    assert!(counts.len() > 50);
    for case in &counts {
        assert_eq!(locale_format::number(case.n, &case.tag), case.text, "{} {}", case.tag, case.n);
    }
}
