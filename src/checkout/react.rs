//! What the steps do with each message of a vault frame (the card frame on the details
//! step, the saved-info frame on the product step), and when the buyer's edits reach the
//! frame: plain functions, so they are tested without a browser.

use crate::shared::events::{self, EmbedCtx, WidgetEvent};
use crate::shared::i18n::Key;
use tweetbuy_core::frame::FromFrame;
use tweetbuy_core::{ErrorCode, FieldError, OrderReceipt};

/// What one message from a frame asks of the step showing it.
#[derive(Clone, Debug, PartialEq)]
pub enum Reaction {
    /// The frame (re)loaded and knows no cart: show it the current one.
    ShowCart,
    /// Pay was pressed while the frame had no cart: the details step checks its form, shows
    /// what to fix and focuses the first.
    CheckDetails,
    /// The api refused the cart: these errors go on the page.
    FixFields(Vec<FieldError>),
    /// A payment started: the form is locked until it ends.
    Busy,
    Paid(Box<OrderReceipt>),
    /// The payment did not go through (the frame says why). `stale` when the offer changed
    /// meanwhile (sold out, sale over), so the sheet reads it again.
    Failed {
        code: ErrorCode,
        message: String,
        stale: Option<Key>,
    },
    /// Escape inside the frame: close the sheet.
    Close,
    /// Nothing to do here (the frame sizes itself; saved info is tracked on its own).
    Nothing,
}

/// The reaction to one frame message.
pub fn react(message: FromFrame) -> Reaction {
    match message {
        FromFrame::Ready { .. } => Reaction::ShowCart,
        FromFrame::NeedsDetails { .. } => Reaction::CheckDetails,
        FromFrame::Invalid { errors, .. } => Reaction::FixFields(errors),
        FromFrame::Paying { .. } => Reaction::Busy,
        FromFrame::Paid { receipt, .. } => Reaction::Paid(Box::new(receipt)),
        FromFrame::Failed { code, message, .. } => Reaction::Failed { code, message, stale: stale(code) },
        FromFrame::Escape { .. } => Reaction::Close,
        FromFrame::Saved { .. } | FromFrame::Resize { .. } => Reaction::Nothing,
    }
}

/// Tells the publisher's page that a payment failed, with the api's code and the frame's
/// message (no detail of the buyer).
pub fn report_failure(embed: Option<&EmbedCtx>, code: ErrorCode, message: String) {
    if let Some(embed) = embed {
        events::emit(embed, WidgetEvent::Error { code: events::code_name(code).into(), message });
    }
}

/// For a payment refused because the offer changed meanwhile, what the page says about it.
pub fn stale(code: ErrorCode) -> Option<Key> {
    match code {
        ErrorCode::SoldOut => Some(Key::SoldOutMeanwhile),
        ErrorCode::NotEnoughStock => Some(Key::FewerLeftMeanwhile),
        ErrorCode::SaleEnded => Some(Key::SaleEndedMeanwhile),
        ErrorCode::SaleNotStarted => Some(Key::ReasonNotStarted),
        _ => None,
    }
}

/// How an edit of the form happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// A keystroke: more are likely to follow.
    Typing,
    /// A change, a choice, or leaving the field.
    Done,
}

/// How long typing waits before the frame is shown the new cart (each `show` prices a new
/// payment intent at the api).
pub const TYPING_PAUSE_MS: i32 = 300;

/// How long after an edit the frame is shown the cart.
pub fn delay(edit: Edit) -> i32 {
    match edit {
        Edit::Typing => TYPING_PAUSE_MS,
        Edit::Done => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::frame::V1;

    #[test]
    fn each_frame_message_has_its_reaction() {
        assert_eq!(react(FromFrame::Ready { v: V1, saved: false }), Reaction::ShowCart);
        assert_eq!(react(FromFrame::NeedsDetails { v: V1 }), Reaction::CheckDetails);
        let errors = vec![FieldError::new("email", "email_invalid", "m")];
        assert_eq!(react(FromFrame::Invalid { v: V1, errors: errors.clone() }), Reaction::FixFields(errors));
        assert_eq!(react(FromFrame::Paying { v: V1 }), Reaction::Busy);
        let receipt = tweetbuy_core::testing::receipt();
        assert_eq!(react(FromFrame::Paid { v: V1, receipt: receipt.clone() }), Reaction::Paid(Box::new(receipt)));
        assert_eq!(react(FromFrame::Escape { v: V1 }), Reaction::Close);
        assert_eq!(react(FromFrame::Saved { v: V1, saved: true }), Reaction::Nothing);
        let failed = |code| react(FromFrame::Failed { v: V1, code, message: "m".into() });
        assert_eq!(
            failed(ErrorCode::SoldOut),
            Reaction::Failed { code: ErrorCode::SoldOut, message: "m".into(), stale: Some(Key::SoldOutMeanwhile) }
        );
        assert!(matches!(
            failed(ErrorCode::NotEnoughStock),
            Reaction::Failed { stale: Some(Key::FewerLeftMeanwhile), .. }
        ));
        assert!(matches!(failed(ErrorCode::SaleEnded), Reaction::Failed { stale: Some(Key::SaleEndedMeanwhile), .. }));
        assert!(matches!(failed(ErrorCode::PaymentDeclined), Reaction::Failed { stale: None, .. }));
        assert!(matches!(failed(ErrorCode::Unknown), Reaction::Failed { stale: None, .. }));
    }

    #[test]
    fn typing_waits_and_a_change_does_not() {
        assert_eq!(delay(Edit::Typing), TYPING_PAUSE_MS);
        assert_eq!(delay(Edit::Done), 0);
    }
}
