//! Money in minor units (cents), never floats.

use core::fmt;
use serde::{Deserialize, Serialize};

/// The currencies the catalog may price in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Currency {
    /// US dollars; the minor unit is the cent.
    USD,
    /// Euros; the minor unit is the cent.
    EUR,
    /// Pounds sterling; the minor unit is the penny.
    GBP,
}

impl Currency {
    /// The ISO 4217 code (`USD`), as the wire carries it.
    pub fn code(self) -> &'static str {
        match self {
            Currency::USD => "USD",
            Currency::EUR => "EUR",
            Currency::GBP => "GBP",
        }
    }

    /// Reads an ISO 4217 code in any letter case, surrounding spaces forgiven; `None` for a
    /// currency the catalog does not price in.
    pub fn parse(code: &str) -> Option<Currency> {
        match code.trim().to_ascii_uppercase().as_str() {
            "USD" => Some(Currency::USD),
            "EUR" => Some(Currency::EUR),
            "GBP" => Some(Currency::GBP),
            _ => None,
        }
    }

    /// Digits after the decimal point.
    pub fn minor_digits(self) -> u32 {
        2
    }

    /// The sign written before an amount (`$`, `€`, `£`).
    pub fn symbol(self) -> &'static str {
        match self {
            Currency::USD => "$",
            Currency::EUR => "€",
            Currency::GBP => "£",
        }
    }
}

/// An amount of money: `minor` units of `currency` (cents for USD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    /// The amount in minor units of `currency` (3000 is $30.00 in USD): whole numbers, so sums
    /// and products are exact.
    pub minor: i64,
    /// The currency the amount is in; amounts in two currencies never add up ([`Money::plus`]).
    pub currency: Currency,
}

impl Money {
    /// An amount of `minor` units of `currency` (cents for USD).
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Nothing, in `currency`: e.g. the shipping and tax of goods that do not ship.
    pub fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    /// The amount as a decimal number of major units, for `Intl.NumberFormat`.
    pub fn major(&self) -> f64 {
        self.minor as f64 / 10u32.pow(self.currency.minor_digits()) as f64
    }

    /// `quantity` times this amount; `None` on overflow.
    pub fn times(&self, quantity: u32) -> Option<Money> {
        self.minor.checked_mul(i64::from(quantity)).map(|m| Money::new(m, self.currency))
    }

    /// Sum of two amounts in the same currency; `None` on a currency mismatch or overflow.
    pub fn plus(&self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_add(other.minor))
            .flatten()
            .map(|m| Money::new(m, self.currency))
    }
}

/// A plain English rendering (`$30.00`), for logs, receipts and the CLI. The widget
/// formats money with `Intl.NumberFormat` in the visitor's locale instead.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let scale = 10i64.pow(digits);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let (major, minor) = (abs / scale as u64, abs % scale as u64);
        write!(f, "{sign}{}{major}.{minor:0width$}", self.currency.symbol(), width = digits as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_display() {
        let tee = Money::new(3000, Currency::USD);
        assert_eq!(tee.to_string(), "$30.00");
        assert_eq!(tee.times(3).unwrap().to_string(), "$90.00");
        assert_eq!(Money::new(8950, Currency::EUR).to_string(), "€89.50");
        assert_eq!(Money::new(-5, Currency::USD).to_string(), "-$0.05");
        assert!(tee.plus(Money::new(1, Currency::EUR)).is_none());
        assert_eq!(tee.plus(Money::new(5, Currency::USD)).unwrap().minor, 3005);
        assert!(Money::new(i64::MAX, Currency::USD).times(2).is_none());
        assert_eq!(tee.major(), 30.0);
    }

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::parse("eur"), Some(Currency::EUR));
        assert_eq!(Currency::parse("XYZ"), None);
        assert_eq!(serde_json::to_string(&Currency::USD).unwrap(), "\"USD\"");
    }
}
