//! What a refund or a cancellation may take from an order, decided from the order as it is
//! under its row lock: pure, so the rules are tested on their own. The database keeps the
//! same bound in the conditional UPDATE that reserves the amount.

/// An order as a refund sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderState {
    /// `pending`, `paid`, `declined` or `failed`.
    pub status: String,
    pub total_minor: i64,
    /// What its refunds under way or done have reserved.
    pub reserved_minor: i64,
    pub shipped: bool,
    pub cancelled: bool,
}

impl OrderState {
    /// What is left of the total to refund.
    pub fn left_minor(&self) -> i64 {
        (self.total_minor - self.reserved_minor).max(0)
    }
}

/// What the seller asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// A refund of this amount, or of everything left.
    Refund { amount_minor: Option<i64> },
    /// Cancel an unshipped order: refund everything left and return its stock.
    Cancel,
}

/// Why the order cannot give what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Never paid: nothing was charged, so nothing can be given back.
    NotPaid { status: String },
    /// The amount is zero or negative.
    AmountInvalid,
    /// More than what is left (which may be nothing).
    Exceeds { left_minor: i64 },
    /// Cancelling a shipped order.
    Shipped,
    /// Cancelling a cancelled order.
    Cancelled,
}

/// The amount to reserve for `ask` on `order`: at least 1 for a refund; for a cancellation
/// everything left, which is 0 when earlier refunds gave back the whole total.
pub(crate) fn plan(order: &OrderState, ask: Ask) -> Result<i64, Refusal> {
    if order.status != "paid" {
        return Err(Refusal::NotPaid { status: order.status.clone() });
    }
    let left = order.left_minor();
    match ask {
        Ask::Refund { amount_minor: Some(amount) } if amount <= 0 => Err(Refusal::AmountInvalid),
        Ask::Refund { amount_minor: Some(amount) } if amount > left => Err(Refusal::Exceeds { left_minor: left }),
        Ask::Refund { amount_minor: Some(amount) } => Ok(amount),
        Ask::Refund { amount_minor: None } if left == 0 => Err(Refusal::Exceeds { left_minor: 0 }),
        Ask::Refund { amount_minor: None } => Ok(left),
        Ask::Cancel if order.cancelled => Err(Refusal::Cancelled),
        Ask::Cancel if order.shipped => Err(Refusal::Shipped),
        Ask::Cancel => Ok(left),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid(total: i64, reserved: i64) -> OrderState {
        OrderState {
            status: "paid".into(),
            total_minor: total,
            reserved_minor: reserved,
            shipped: false,
            cancelled: false,
        }
    }

    fn refund(amount: Option<i64>) -> Ask {
        Ask::Refund { amount_minor: amount }
    }

    #[test]
    fn a_refund_takes_at_most_what_is_left() {
        assert_eq!(plan(&paid(2500, 0), refund(None)), Ok(2500), "full");
        assert_eq!(plan(&paid(2500, 1000), refund(None)), Ok(1500), "the rest");
        assert_eq!(plan(&paid(2500, 1000), refund(Some(1500))), Ok(1500), "exactly what is left");
        assert_eq!(plan(&paid(2500, 1000), refund(Some(1))), Ok(1));
        assert_eq!(plan(&paid(2500, 1000), refund(Some(1501))), Err(Refusal::Exceeds { left_minor: 1500 }));
        assert_eq!(plan(&paid(2500, 2500), refund(Some(1))), Err(Refusal::Exceeds { left_minor: 0 }));
        assert_eq!(plan(&paid(2500, 2500), refund(None)), Err(Refusal::Exceeds { left_minor: 0 }), "nothing left");
        assert_eq!(plan(&paid(2500, 0), refund(Some(0))), Err(Refusal::AmountInvalid));
        assert_eq!(plan(&paid(2500, 0), refund(Some(-5))), Err(Refusal::AmountInvalid));
        assert_eq!(plan(&paid(2500, 0), refund(Some(i64::MAX))), Err(Refusal::Exceeds { left_minor: 2500 }));
    }

    #[test]
    fn only_a_paid_order_gives_anything_back() {
        for status in ["pending", "declined", "failed"] {
            let order = OrderState { status: status.into(), ..paid(2500, 0) };
            for ask in [refund(None), refund(Some(100)), Ask::Cancel] {
                assert_eq!(plan(&order, ask), Err(Refusal::NotPaid { status: status.into() }), "{status} {ask:?}");
            }
        }
    }

    #[test]
    fn a_cancellation_refunds_what_is_left_of_an_unshipped_order() {
        assert_eq!(plan(&paid(2500, 0), Ask::Cancel), Ok(2500));
        assert_eq!(plan(&paid(2500, 900), Ask::Cancel), Ok(1600));
        assert_eq!(plan(&paid(2500, 2500), Ask::Cancel), Ok(0), "refunded in full, still cancelled (stock back)");
        let shipped = OrderState { shipped: true, ..paid(2500, 0) };
        assert_eq!(plan(&shipped, Ask::Cancel), Err(Refusal::Shipped));
        assert_eq!(plan(&shipped, refund(Some(100))), Ok(100), "a shipped order can still be refunded");
        let cancelled = OrderState { cancelled: true, ..paid(2500, 2500) };
        assert_eq!(plan(&cancelled, Ask::Cancel), Err(Refusal::Cancelled));
        assert_eq!(plan(&cancelled, refund(None)), Err(Refusal::Exceeds { left_minor: 0 }));
    }
}
