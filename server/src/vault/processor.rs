//! The test-mode card processor: the outcome depends only on the card number, following
//! `tests/fixtures/test-cards.md` (any future expiry, any CVC of the right length).
//!
//! The vault asks it inside the transaction that records the charge, and that transaction
//! can still roll back after an approval (a later card of a batch fails, the commit fails);
//! the api then asks again under the same reference. A real processor in its place must be
//! asked with the charge's reference (the order's id) as its idempotency key, so that a
//! second ask returns the first authorization instead of charging the card again.

use tweetbuy_core::vault::DeclineCode;
use tweetbuy_core::{CardNumber, Money};

/// The numbers that decline, and why. Every other valid number is approved.
const DECLINING_CARDS: &[(&str, DeclineCode)] = &[
    ("4000000000000002", DeclineCode::CardDeclined),
    ("4000000000009995", DeclineCode::InsufficientFunds),
    ("4000000000000069", DeclineCode::ExpiredCard),
    ("4000000000000127", DeclineCode::IncorrectCvc),
    ("4000000000000119", DeclineCode::ProcessingError),
];

/// Approves or declines a charge on `card`.
pub fn authorize(card: &CardNumber) -> Result<(), DeclineCode> {
    match DECLINING_CARDS.iter().find(|(number, _)| *number == card.expose_digits()) {
        Some((_, code)) => Err(*code),
        None => Ok(()),
    }
}

/// Gives `amount` back to the card of an approved charge. In test mode every refund of an
/// approved charge goes through; the bounds (never more than was charged) are the vault's,
/// checked before this is called.
pub fn refund(charge_id: &str, amount: Money) -> Result<(), String> {
    if amount.minor <= 0 || charge_id.is_empty() {
        return Err(format!("nothing to refund: {amount} on {charge_id:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_per_test_card() {
        let outcome = |n: &str| authorize(&CardNumber::parse(n).unwrap());
        assert_eq!(outcome("4242 4242 4242 4242"), Ok(()));
        assert_eq!(outcome("2223 0031 2200 3222"), Ok(()));
        assert_eq!(outcome("3782 822463 10005"), Ok(()));
        assert_eq!(outcome("5555 5555 5555 4444"), Ok(()), "any other valid number");
        assert_eq!(outcome("4000 0000 0000 0002"), Err(DeclineCode::CardDeclined));
        assert_eq!(outcome("4000 0000 0000 9995"), Err(DeclineCode::InsufficientFunds));
        assert_eq!(outcome("4000 0000 0000 0069"), Err(DeclineCode::ExpiredCard));
        assert_eq!(outcome("4000 0000 0000 0127"), Err(DeclineCode::IncorrectCvc));
        assert_eq!(outcome("4000 0000 0000 0119"), Err(DeclineCode::ProcessingError));
    }

    #[test]
    fn refunds_of_a_positive_amount_go_through() {
        let usd = |minor| Money::new(minor, tweetbuy_core::Currency::parse("USD").unwrap());
        assert_eq!(refund("ch_1", usd(1)), Ok(()));
        assert!(refund("ch_1", usd(0)).is_err());
        assert!(refund("", usd(5)).is_err());
    }
}
