//! The checkout module: everything after a visitor decides to buy, loaded on demand.
//!
//! [`host`] mounts a sheet into the button's shadow root (built hidden ahead of a click,
//! shown by it). The folders follow one purchase: [`sheet`] is the dialog around the
//! steps; [`product`] shows the offer (gallery, options, live stock via [`live`], sale
//! countdown); [`form`] holds what the visitor chose and typed, with the core rules
//! that check it; [`details`] takes the email, shipping address and consent and asks for the
//! server's quote; [`card`] is the vault's frame, where the card is typed; [`order`] pays
//! under an `Idempotency-Key`; [`saved`] is saved buyer info on this device; and
//! [`confirmation`] shows the order number and what happens next. [`messages`] turns
//! failures into what people read.

pub(crate) mod card;
pub mod confirmation;
pub(crate) mod details;
pub(crate) mod form;
pub mod host;
pub(crate) mod live;
pub(crate) mod messages;
pub(crate) mod order;
pub(crate) mod product;
pub(crate) mod saved;
pub(crate) mod sheet;
