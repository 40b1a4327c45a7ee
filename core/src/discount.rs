//! Discount codes: how a code is written, how much it takes off, and why one is refused.
//!
//! A code is applied only on the server, in the quote, the payment intent and the order; the
//! widget sends the code the buyer typed and shows what the server answered. The widget does
//! use [`normalize_code`] first, so "tweet10 " and "TWEET10" are one code on both sides and a
//! malformed code is refused without a round trip.

use crate::error::FieldError;
use crate::money::Money;
use crate::prelude::*;
use serde::{Deserialize, Serialize};

/// The form field a refusal is shown beside.
pub const FIELD: &str = "discount_code";
/// Longest code, in characters.
pub const MAX_CODE_LEN: usize = 32;
/// Shortest code, in characters.
pub const MIN_CODE_LEN: usize = 3;

/// A discount taken off one quote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Discount {
    /// The code as stored (upper case).
    pub code: String,
    /// Taken off the subtotal; never more than the subtotal.
    pub amount: Money,
}

/// How much a code takes off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiscountValue {
    /// A whole percentage of the subtotal, 1 to 100.
    Percent(u32),
    /// A fixed amount, in one currency: it applies only to products priced in it.
    Amount(Money),
}

impl DiscountValue {
    /// What this value takes off `subtotal`: a percentage rounded half up to the minor unit,
    /// never more than the subtotal. `None` when a fixed amount is in another currency.
    pub fn off(self, subtotal: Money) -> Option<Money> {
        let minor = match self {
            DiscountValue::Percent(percent) => {
                let scaled = i128::from(subtotal.minor) * i128::from(percent.min(100));
                i64::try_from((scaled + 50).div_euclid(100)).ok()?
            }
            DiscountValue::Amount(amount) if amount.currency == subtotal.currency => amount.minor,
            DiscountValue::Amount(_) => return None,
        };
        Some(Money::new(minor.clamp(0, subtotal.minor.max(0)), subtotal.currency))
    }

    /// Whether a seller may create it: 1 to 100 percent, or an amount from 1 to the largest
    /// price a catalog may set ([`MAX_PRICE_MINOR`](crate::catalog::MAX_PRICE_MINOR)), which
    /// every client's numbers hold exactly.
    pub fn is_valid(self) -> bool {
        match self {
            DiscountValue::Percent(p) => (1..=100).contains(&p),
            DiscountValue::Amount(a) => (1..=crate::catalog::MAX_PRICE_MINOR).contains(&a.minor),
        }
    }
}

/// Why a code does not apply. Each is a field error on [`FIELD`], with a stable code the
/// widget shows in the visitor's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscountRefusal {
    /// No such code (or it was turned off, or is malformed).
    Unknown,
    /// Its start is still to come.
    NotStarted,
    /// Its end has passed.
    Expired,
    /// Every use has been taken.
    UsedUp,
    /// This email has used it as often as it may.
    AlreadyUsed,
    /// It is for another product, or another currency.
    NotApplicable,
}

impl DiscountRefusal {
    /// Every refusal, for tests and catalogs.
    pub const ALL: [DiscountRefusal; 6] = [
        DiscountRefusal::Unknown,
        DiscountRefusal::NotStarted,
        DiscountRefusal::Expired,
        DiscountRefusal::UsedUp,
        DiscountRefusal::AlreadyUsed,
        DiscountRefusal::NotApplicable,
    ];

    /// The stable code of the field error.
    pub fn code(self) -> &'static str {
        match self {
            DiscountRefusal::Unknown => "discount_unknown",
            DiscountRefusal::NotStarted => "discount_not_started",
            DiscountRefusal::Expired => "discount_expired",
            DiscountRefusal::UsedUp => "discount_used_up",
            DiscountRefusal::AlreadyUsed => "discount_already_used",
            DiscountRefusal::NotApplicable => "discount_not_applicable",
        }
    }

    /// The English message (the widget shows its own translation by [`code`](Self::code)).
    pub fn message(self) -> &'static str {
        match self {
            DiscountRefusal::Unknown => "This code is not valid.",
            DiscountRefusal::NotStarted => "This code cannot be used yet.",
            DiscountRefusal::Expired => "This code has expired.",
            DiscountRefusal::UsedUp => "This code has been used up.",
            DiscountRefusal::AlreadyUsed => "You have already used this code.",
            DiscountRefusal::NotApplicable => "This code is not for this item.",
        }
    }

    /// The refusal as the field error the api answers.
    pub fn field_error(self) -> FieldError {
        FieldError::new(FIELD, self.code(), self.message())
    }

    /// The refusal behind a field error's code.
    pub fn from_code(code: &str) -> Option<DiscountRefusal> {
        DiscountRefusal::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The code as stored: trimmed and upper-cased, [`MIN_CODE_LEN`] to [`MAX_CODE_LEN`] ASCII
/// letters, digits, `-` or `_`. Anything else is no code we could have issued.
pub fn normalize_code(raw: &str) -> Result<String, DiscountRefusal> {
    let code = raw.trim().to_ascii_uppercase();
    let well_formed = (MIN_CODE_LEN..=MAX_CODE_LEN).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed {
        Ok(code)
    } else {
        Err(DiscountRefusal::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    #[test]
    fn percent_rounds_half_up_and_never_exceeds_the_subtotal() {
        assert_eq!(DiscountValue::Percent(10).off(usd(3000)), Some(usd(300)));
        // 15 % of $0.10 = 1.5 cents → 2 cents.
        assert_eq!(DiscountValue::Percent(15).off(usd(10)), Some(usd(2)));
        // 15 % of $0.09 = 1.35 cents → 1 cent.
        assert_eq!(DiscountValue::Percent(15).off(usd(9)), Some(usd(1)));
        assert_eq!(DiscountValue::Percent(100).off(usd(4999)), Some(usd(4999)));
        assert_eq!(DiscountValue::Percent(250).off(usd(4999)), Some(usd(4999)));
        assert_eq!(DiscountValue::Percent(10).off(usd(0)), Some(usd(0)));
    }

    #[test]
    fn amount_is_capped_and_bound_to_its_currency() {
        assert_eq!(DiscountValue::Amount(usd(500)).off(usd(3000)), Some(usd(500)));
        assert_eq!(DiscountValue::Amount(usd(5000)).off(usd(3000)), Some(usd(3000)));
        let eur = Money::new(500, Currency::EUR);
        assert_eq!(DiscountValue::Amount(eur).off(usd(3000)), None);
    }

    #[test]
    fn values_a_seller_may_create() {
        assert!(DiscountValue::Percent(1).is_valid());
        assert!(DiscountValue::Percent(100).is_valid());
        assert!(!DiscountValue::Percent(0).is_valid());
        assert!(!DiscountValue::Percent(101).is_valid());
        assert!(DiscountValue::Amount(usd(1)).is_valid());
        assert!(!DiscountValue::Amount(usd(0)).is_valid());
        assert!(!DiscountValue::Amount(usd(-5)).is_valid());
        assert!(DiscountValue::Amount(usd(crate::catalog::MAX_PRICE_MINOR)).is_valid());
        assert!(!DiscountValue::Amount(usd(crate::catalog::MAX_PRICE_MINOR + 1)).is_valid());
        assert!(!DiscountValue::Amount(usd(i64::MAX)).is_valid());
    }

    #[test]
    fn codes_are_normalized_or_refused() {
        assert_eq!(normalize_code(" tweet10 ").as_deref(), Ok("TWEET10"));
        assert_eq!(normalize_code("drop_2026-a").as_deref(), Ok("DROP_2026-A"));
        assert_eq!(normalize_code("ab"), Err(DiscountRefusal::Unknown));
        assert_eq!(normalize_code(&"A".repeat(MAX_CODE_LEN)).map(|c| c.len()), Ok(MAX_CODE_LEN));
        assert_eq!(normalize_code(&"A".repeat(MAX_CODE_LEN + 1)), Err(DiscountRefusal::Unknown));
        assert_eq!(normalize_code("TWEET 10"), Err(DiscountRefusal::Unknown));
        assert_eq!(normalize_code("TWÉET10"), Err(DiscountRefusal::Unknown));
    }

    #[test]
    fn every_refusal_round_trips_through_its_code() {
        for refusal in DiscountRefusal::ALL {
            assert_eq!(DiscountRefusal::from_code(refusal.code()), Some(refusal));
            let error = refusal.field_error();
            assert_eq!((error.field.as_str(), error.code.as_str()), (FIELD, refusal.code()));
        }
        assert_eq!(DiscountRefusal::from_code("required"), None);
    }
}
