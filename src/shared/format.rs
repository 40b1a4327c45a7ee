//! Money, numbers, dates and country names as the visitor reads them, through the
//! browser's `Intl`.

use crate::prelude::*;
#[cfg(feature = "checkout")]
use crate::shared::i18n::{Key, Locale};
#[cfg(feature = "checkout")]
use tweetbuy_core::Country;
use tweetbuy_core::Money;

/// `$30.00`, `45,00 €`, … in the visitor's locale and the amount's currency, as
/// `Intl.NumberFormat` writes it.
///
/// The locales tweetbuy-core knows are written without `Intl`, whose first use costs a
/// page tens of milliseconds ([`tweetbuy_core::locale_format`]); others go through `Intl`
/// in the browser, and natively (unit tests) fall back to the core crate's plain English.
pub fn money(amount: &Money, locale: &str) -> String {
    if let Some(text) = tweetbuy_core::locale_format::money(amount, locale) {
        return text;
    }
    #[cfg(target_arch = "wasm32")]
    {
        intl::money(amount, locale).unwrap_or_else(|| intl::plain_money(amount))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        amount.to_string()
    }
}

/// Sets up the browser's number formatting for `locale` (with US dollars, the common case)
/// before the first price is needed, where `Intl` will write it: the first
/// `Intl.NumberFormat` of a page visit loads the locale data, 20 ms and more in Chromium,
/// so the button module does it while the offer lookup is on the network instead of after
/// it answers.
pub fn warm(locale: &str) {
    let _ = money(&Money::new(0, tweetbuy_core::Currency::USD), locale);
}

#[cfg(feature = "checkout")]
/// A whole number with the locale's grouping (`1,000`, `1.000`).
pub fn number(n: u32, locale: &str) -> String {
    if let Some(text) = tweetbuy_core::locale_format::number(n.into(), locale) {
        return text;
    }
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(text) = intl::number(n, locale) {
            return text;
        }
    }
    let _ = locale;
    n.to_string()
}

#[cfg(feature = "checkout")]
/// A date and time (Unix seconds) in the locale's medium style.
pub fn date_time(unix_seconds: i64, locale: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(text) = intl::date_time(unix_seconds, locale) {
            return text;
        }
    }
    let _ = locale;
    format!("@{unix_seconds}")
}

#[cfg(feature = "checkout")]
/// A country's name in the locale (`Intl.DisplayNames`), or the core crate's English name.
pub fn country_name(country: Country, locale: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(text) = intl::region_name(country.code(), locale) {
            return text;
        }
    }
    let _ = locale;
    country.name().to_owned()
}

#[cfg(feature = "checkout")]
/// Splits a number of seconds into days, hours, minutes and seconds, for the sale
/// countdown. Negative input counts as zero.
pub fn countdown_parts(seconds: i64) -> (i64, i64, i64, i64) {
    let s = seconds.max(0);
    (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60, s % 60)
}

#[cfg(feature = "checkout")]
/// The time left until a sale ends, in words: `13d 04h 05m 09s`.
pub fn countdown(seconds: i64, locale: &Locale) -> String {
    let (d, h, m, s) = countdown_parts(seconds);
    let two = |n: i64| format!("{n:02}");
    locale.fill(Key::Countdown, &[("d", &d.to_string()), ("h", &two(h)), ("m", &two(m)), ("s", &two(s))])
}

#[cfg(target_arch = "wasm32")]
mod intl {
    use crate::prelude::*;
    #[cfg(feature = "checkout")]
    use js_sys::Function;
    use js_sys::{Array, Intl, Object, Reflect};
    use tweetbuy_core::Money;
    #[cfg(feature = "checkout")]
    use wasm_bindgen::{JsCast, JsValue};

    fn options(pairs: &[(&str, &str)]) -> Option<Object> {
        let options = Object::new();
        for (k, v) in pairs {
            Reflect::set(&options, &(*k).into(), &(*v).into()).ok()?;
        }
        Some(options)
    }

    fn locales(locale: &str) -> Array {
        Array::of1(&locale.into())
    }

    crate::shared::local::page_local! {
        /// One `Intl.NumberFormat` per locale and currency: making one costs far more than
        /// using it, and a page may show a thousand prices (of few locales and currencies).
        static MONEY: core::cell::RefCell<Vec<(String, &'static str, Intl::NumberFormat)>> =
            const { core::cell::RefCell::new(Vec::new()) };
    }

    pub fn money(amount: &Money, locale: &str) -> Option<String> {
        let code = amount.currency.code();
        let format = MONEY.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some((_, _, format)) = cache.iter().find(|(l, c, _)| l == locale && *c == code) {
                return Some(format.clone());
            }
            let options = options(&[("style", "currency"), ("currency", code)])?;
            let format = Intl::NumberFormat::new(&locales(locale), &options);
            cache.push((locale.to_owned(), code, format.clone()));
            Some(format)
        })?;
        format.format().call1(&format, &amount.major().into()).ok()?.as_string()
    }

    /// `$30.00`, as core's `Display` writes it, where `Intl` could not format the amount
    /// (the digits through `Number#toFixed`: Rust's float formatting would cost the button
    /// module kilobytes).
    pub fn plain_money(amount: &Money) -> String {
        let digits = amount.currency.minor_digits() as u8;
        let major = amount.major();
        let mut text = String::new();
        if major < 0.0 {
            text.push('-');
        }
        text.push_str(amount.currency.symbol());
        let number = js_sys::Number::from(major.abs());
        text.push_str(&number.to_fixed(digits).map(String::from).unwrap_or_default());
        text
    }

    #[cfg(feature = "checkout")]
    pub fn number(n: u32, locale: &str) -> Option<String> {
        let format = Intl::NumberFormat::new(&locales(locale), &Object::new());
        format.format().call1(&format, &n.into()).ok()?.as_string()
    }

    #[cfg(feature = "checkout")]
    pub fn date_time(unix_seconds: i64, locale: &str) -> Option<String> {
        let options = options(&[("dateStyle", "medium"), ("timeStyle", "short")])?;
        let format = Intl::DateTimeFormat::new(&locales(locale), &options);
        let date = js_sys::Date::new(&JsValue::from_f64(unix_seconds as f64 * 1000.0));
        format.format().call1(&format, &date).ok()?.as_string()
    }

    #[cfg(feature = "checkout")]
    /// `new Intl.DisplayNames([locale], {type: "region"}).of(code)`, where supported.
    pub fn region_name(code: &str, locale: &str) -> Option<String> {
        let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let ctor: Function = Reflect::get(&intl, &"DisplayNames".into()).ok()?.dyn_into().ok()?;
        let kind: JsValue = options(&[("type", "region")])?.into();
        let args = Array::of2(&locales(locale), &kind);
        let names = Reflect::construct(&ctor, &args).ok()?;
        let of: Function = Reflect::get(&names, &"of".into()).ok()?.dyn_into().ok()?;
        of.call1(&names, &code.into()).ok()?.as_string()
    }
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
        assert_eq!(countdown(90_061, &Locale::new("en")), "1d 01h 01m 01s");
        assert_eq!(countdown(59, &Locale::new("es")), "0 d 00 h 00 min 59 s");
        assert_eq!(country_name(Country::parse("US").unwrap(), "en"), "United States");
    }
}
