//! The checkout module: everything after a visitor decides to buy, loaded on demand.
//!
//! [`host`] mounts a sheet into the button's shadow root (built hidden ahead of a click,
//! shown by it), and [`mounted`] keeps the sheets mounted on the page. The folders follow
//! one purchase: [`sheet`] is the dialog around the steps; [`product`] shows the offer
//! (gallery, options, live stock via [`live`], sale countdown), "Email me when it's back"
//! for an item that cannot be bought now ([`waitlist`]), and, when this device has saved
//! info, the vault's saved-info frame ([`saved`]); [`form`] holds what the visitor chose
//! and typed, with the core rules that check it and the carts the frames are shown;
//! [`details`] takes the email, shipping address and consent beside the vault's card frame,
//! with [`discount`]'s "Have a code?"; and [`confirmation`] shows the order number and what
//! happens next.
//!
//! The vault's frames own Pay: [`frame_link`] is the one way to talk to them (exact origin
//! and window, both ways), and [`react`] says what each of their messages means to a step.
//! [`messages`] turns a failed request into what people read; [`focus`] moves focus once a
//! view has caught up.

pub(crate) mod bind;
pub mod confirmation;
pub(crate) mod details;
pub(crate) mod discount;
pub(crate) mod focus;
pub(crate) mod form;
pub(crate) mod frame_link;
pub mod host;
pub(crate) mod live;
pub(crate) mod messages;
pub(crate) mod mounted;
pub(crate) mod product;
pub(crate) mod react;
pub(crate) mod saved;
pub(crate) mod sheet;
pub(crate) mod waitlist;
pub(crate) mod wire;
