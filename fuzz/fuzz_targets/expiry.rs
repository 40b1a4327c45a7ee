//! The expiry parser: never panics, and an accepted month is 1–12.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tweetbuy_core::card::Expiry;

fuzz_target!(|data: &str| {
    if let Ok(expiry) = Expiry::parse(data) {
        assert!((1..=12).contains(&expiry.month));
        let _ = expiry.validate(2026, 11);
    }
});
