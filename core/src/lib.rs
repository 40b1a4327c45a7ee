//! Wire types and validation rules shared by the widget (wasm32) and the server (native).
//!
//! Every rule that judges a buyer's input lives here once, so the browser and the backend
//! can never disagree about what is valid. The modules follow the path of one purchase:
//! a tweet id found in an embed, the offer looked up for it, the buyer's contact and
//! shipping details, the card (seen only by the vault), the order, and the messages between
//! the widget and the vault's frame, which owns Pay.
//!
//! Without its default `std` feature the crate is `no_std` (it needs `alloc`), so the
//! widget's button module can use the tweet-id rule and the offer's head without linking std.
//!
//! No web or server dependencies: only `serde`, `serde_json` and `thiserror` (and, behind the
//! optional `openapi` feature the server turns on, `utoipa` schemas for the wire types).

#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

/// What std's prelude would give every module, taken from `alloc` so the crate also builds
/// without std.
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::format;
    pub(crate) use alloc::string::String;
    pub(crate) use alloc::vec::Vec;
}

pub mod address;
pub mod card;
pub mod catalog;
pub mod css;
pub mod discount;
pub mod error;
pub mod frame;
pub mod locale_format;
pub mod money;
pub mod order;
pub mod saved;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod theme;
pub mod tweet;
pub mod vault;
pub mod waitlist;

pub use address::{validate_email, validate_postal_code, Country, ShippingAddress};
pub use card::{CardBrand, CardError, CardNumber, Expiry};
pub use catalog::{
    Availability, AvailabilityResponse, Offer, OfferHead, OffersResponse, ProductKind, Seller, SellerKind, Variant,
};
pub use discount::{Discount, DiscountRefusal, DiscountValue};
pub use error::{ApiError, ErrorCode, FieldError};
pub use money::{Currency, Money};
pub use order::{IntentRequest, OrderReceipt, PayRequest, PaymentIntent, Quote};
pub use tweet::TweetId;

/// The header that makes a write safe to retry (IETF draft `Idempotency-Key`).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
