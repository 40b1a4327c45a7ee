//! Money and dates as the visitor reads them, through the browser's `Intl`.

use tweetbuy_core::Money;

/// `$30.00`, `30,00 €`, … in the visitor's locale and the amount's currency.
///
/// In the browser this is `Intl.NumberFormat`; natively (unit tests) it falls back to the
/// plain English rendering of the core crate.
pub fn money(amount: &Money, locale: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(text) = intl_money(amount, locale) {
            return text;
        }
    }
    let _ = locale;
    amount.to_string()
}

#[cfg(target_arch = "wasm32")]
fn intl_money(amount: &Money, locale: &str) -> Option<String> {
    use js_sys::{Array, Intl, Object, Reflect};
    let options = Object::new();
    Reflect::set(&options, &"style".into(), &"currency".into()).ok()?;
    Reflect::set(&options, &"currency".into(), &amount.currency.code().into()).ok()?;
    let format = Intl::NumberFormat::new(&Array::of1(&locale.into()), &options);
    format.format().call1(&format, &amount.major().into()).ok()?.as_string()
}

/// Splits a number of seconds into days, hours, minutes and seconds, for the sale
/// countdown. Negative input counts as zero.
pub fn countdown_parts(seconds: i64) -> (i64, i64, i64, i64) {
    let s = seconds.max(0);
    (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::Currency;

    #[test]
    fn native_fallback_and_countdown() {
        assert_eq!(money(&Money::new(3000, Currency::USD), "en-US"), "$30.00");
        assert_eq!(countdown_parts(90_061), (1, 1, 1, 1));
        assert_eq!(countdown_parts(-5), (0, 0, 0, 0));
    }
}
