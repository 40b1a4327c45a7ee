//! The card-number parser: never panics, and what it accepts is all digits of a brand's
//! length whose Debug form hides the number.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tweetbuy_core::card::CardNumber;

fuzz_target!(|data: &str| {
    if let Ok(card) = CardNumber::parse(data) {
        let digits = card.expose_digits();
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert!(card.brand().lengths().contains(&digits.len()));
        assert!(!format!("{card:?}").contains(digits));
    }
});
