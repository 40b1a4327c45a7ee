//! What both wasm modules use. Nothing here depends on [`crate::button`] or
//! [`crate::checkout`].
//!
//! [`context`] is what the page tells the widget and what the button module hands the
//! checkout module; [`api`] is HTTP and its errors; [`i18n`] the visitor's language and the
//! catalog of messages; [`format`] money, numbers and dates through `Intl`; [`styles`] the
//! one stylesheet every shadow root adopts (minified at build time by [`tweetbuy_core::css`]); [`theme`]
//! light/dark/auto, button styles, readable accent text and the card frame's theme;
//! [`events`] the publisher's `tweetbuy:*` events; [`json`] reads JSON the browser parsed; [`local`] per-page globals with or without std; [`util`] small browser helpers.

pub mod api;
pub mod context;
pub(crate) mod events;
pub(crate) mod format;
pub mod i18n;
pub(crate) mod json;
pub(crate) mod local;
pub(crate) mod names;
pub mod styles;
pub(crate) mod theme;
pub mod util;
