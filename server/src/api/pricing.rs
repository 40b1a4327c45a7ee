//! Prices, shipping and tax, computed by the server alone: the client never sends an amount.
//!
//! The tax table is **illustrative**, for the demo only: a few US states' base sales-tax
//! rates, 5 % for every other state, nothing outside the US, charged on the subtotal of
//! goods shipped to the address. It is not tax advice and not a real tax engine.

use super::catalog::Product;
use super::discounts::DiscountCode;
use crate::error::AppError;
use tweetbuy_core::{Country, Discount, FieldError, Money, Quote};

/// Tax rates in thousandths of a percent (8 875 = 8.875 %), per US state.
const US_STATE_RATES: &[(&str, i64)] = &[("NY", 8_875), ("CA", 7_250), ("TX", 6_250)];
/// Every other US state (illustrative).
const US_DEFAULT_RATE: i64 = 5_000;
/// 100 % in the same unit.
const FULL_RATE: i64 = 100_000;

/// The illustrative tax rate for a destination, in thousandths of a percent.
pub fn tax_rate(country: Option<Country>, region: &str) -> i64 {
    match country {
        Some(c) if c.code() == "US" => {
            let region = region.trim().to_ascii_uppercase();
            US_STATE_RATES.iter().find(|(state, _)| *state == region).map_or(US_DEFAULT_RATE, |(_, rate)| *rate)
        }
        _ => 0,
    }
}

/// `amount × rate`, rounded half up to the minor unit (for non-negative amounts).
pub fn tax_on(amount: Money, rate: i64) -> Money {
    let scaled = i128::from(amount.minor) * i128::from(rate);
    let half = i128::from(FULL_RATE / 2);
    let minor = (scaled + half).div_euclid(i128::from(FULL_RATE));
    Money::new(i64::try_from(minor).unwrap_or(i64::MAX), amount.currency)
}

/// The price breakdown for `quantity` of one variant, shipped to `destination` (country and
/// region) when the product ships, less `discount` (a code already judged applicable, see
/// [`super::discounts::applicable`]). Tax applies only to shipped goods, by their address,
/// on the subtotal after the discount.
pub fn quote(
    product: &Product,
    variant_id: &str,
    quantity: u32,
    destination: Option<(Country, &str)>,
    discount: Option<&DiscountCode>,
) -> Result<Quote, AppError> {
    let offer = &product.offer;
    let mut errors = Vec::new();
    let variant = offer.variant(variant_id);
    if variant.is_none() {
        errors.push(FieldError::new("variant", "variant_invalid", "Choose an option."));
    }
    if quantity == 0 || quantity > offer.max_per_order {
        errors.push(FieldError::new(
            "quantity",
            "quantity_invalid",
            format!("Choose a quantity from 1 to {}.", offer.max_per_order),
        ));
    }
    let ships = offer.kind.needs_shipping();
    if let Some((country, _)) = destination {
        if ships && !offer.ships_to.is_empty() && !offer.ships_to.contains(&country) {
            errors.push(FieldError::new(
                "country",
                "country_not_shipped",
                format!("This item does not ship to {}.", country.name()),
            ));
        }
    }
    let Some(variant) = variant.filter(|_| errors.is_empty()) else {
        return Err(AppError::validation(errors));
    };

    let overflow = || AppError::internal("price arithmetic overflowed");
    let subtotal = variant.price.times(quantity).ok_or_else(overflow)?;
    let discount = match discount {
        None => None,
        Some(code) => {
            let mut amount = code.value.off(subtotal).ok_or_else(|| {
                AppError::validation(vec![tweetbuy_core::DiscountRefusal::NotApplicable.field_error()])
            })?;
            // A card is never charged zero: with nothing to ship, a code leaves the last
            // minor unit to pay.
            let ships_for_a_fee = ships && product.shipping.minor > 0;
            if !ships_for_a_fee && amount.minor >= subtotal.minor {
                amount.minor = (subtotal.minor - 1).max(0);
            }
            Some(Discount { code: code.code.clone(), amount })
        }
    };
    let discounted = Money::new(subtotal.minor - discount.as_ref().map_or(0, |d| d.amount.minor), subtotal.currency);
    let (shipping, tax) = if ships {
        let (country, region) = destination.map_or((None, ""), |(c, r)| (Some(c), r));
        (product.shipping, tax_on(discounted, tax_rate(country, region)))
    } else {
        (Money::zero(offer.currency), Money::zero(offer.currency))
    };
    let total = discounted.plus(shipping).and_then(|t| t.plus(tax)).ok_or_else(overflow)?;
    Ok(Quote { subtotal, discount, shipping, tax, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::Currency;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    #[test]
    fn rates_by_destination() {
        let us = Country::parse("US");
        assert_eq!(tax_rate(us, "ny"), 8_875);
        assert_eq!(tax_rate(us, "CA"), 7_250);
        assert_eq!(tax_rate(us, "TX"), 6_250);
        assert_eq!(tax_rate(us, "OR"), 5_000);
        assert_eq!(tax_rate(us, ""), 5_000);
        assert_eq!(tax_rate(Country::parse("CA"), "ON"), 0);
        assert_eq!(tax_rate(None, "NY"), 0);
    }

    #[test]
    fn tax_rounds_half_up_to_cents() {
        // $30.00 × 8.875 % = $2.6625 → $2.66
        assert_eq!(tax_on(usd(3000), 8_875), usd(266));
        // $60.00 × 8.875 % = $5.325 → $5.33 (exactly half a cent rounds up)
        assert_eq!(tax_on(usd(6000), 8_875), usd(533));
        // $48.00 × 7.25 % = $3.48
        assert_eq!(tax_on(usd(4800), 7_250), usd(348));
        // $0.10 × 5 % = $0.005 → $0.01
        assert_eq!(tax_on(usd(10), 5_000), usd(1));
        // $0.09 × 5 % = $0.0045 → $0.00
        assert_eq!(tax_on(usd(9), 5_000), usd(0));
        assert_eq!(tax_on(usd(3000), 0), usd(0));
    }

    #[test]
    fn a_discount_comes_off_before_tax() {
        let offer = tweetbuy_core::testing::tee();
        let variant = offer.variants[0].id.clone();
        let product = Product { offer, shipping: usd(500), sale_starts_at: None, rollout_share: 100 };
        let ten = DiscountCode::for_product("TWEET10", tweetbuy_core::DiscountValue::Percent(10), "red-tee");
        let ny = Some((Country::parse("US").unwrap(), "NY"));
        let full = quote(&product, &variant, 2, ny, None).unwrap();
        let less = quote(&product, &variant, 2, ny, Some(&ten)).unwrap();
        let off = full.subtotal.minor / 10;
        assert_eq!(less.discount, Some(Discount { code: "TWEET10".into(), amount: usd(off) }));
        assert_eq!(less.subtotal, full.subtotal);
        assert_eq!(less.tax, tax_on(usd(full.subtotal.minor - off), 8_875));
        assert_eq!(less.total.minor, full.subtotal.minor - off + 500 + less.tax.minor);
        // All of it off a ticket (nothing ships): one cent is still paid, so there is a charge.
        let ticket = Product {
            offer: tweetbuy_core::testing::ticket(),
            shipping: usd(0),
            sale_starts_at: None,
            rollout_share: 100,
        };
        let all = DiscountCode { value: tweetbuy_core::DiscountValue::Percent(100), ..ten.clone() };
        let free = quote(&ticket, &ticket.offer.variants[0].id, 1, None, Some(&all)).unwrap();
        assert_eq!(free.total.minor, 1, "{free:?}");
        let euros = DiscountCode {
            value: tweetbuy_core::DiscountValue::Amount(Money::new(100, tweetbuy_core::Currency::EUR)),
            ..ten
        };
        assert!(quote(&product, &variant, 1, ny, Some(&euros)).is_err());
    }
}
