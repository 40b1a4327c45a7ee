//! Postal codes for every known country: never panics, and an accepted code is its own
//! normal form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tweetbuy_core::address::{validate_postal_code, Country};

fuzz_target!(|data: &str| {
    for country in Country::all() {
        if let Ok(code) = validate_postal_code(country, data) {
            assert_eq!(validate_postal_code(country, &code).as_deref(), Ok(code.as_str()));
        }
    }
});
