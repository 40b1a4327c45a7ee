//! The button module: what every host page loads. It finds embeds, looks up offers and
//! attaches the Buy buttons; the checkout module (`src/bin/checkout.rs`) loads on demand.
//! Everything lives in the library so tests can reach it.

use wasm_bindgen::prelude::*;

fn main() {}

/// Called by the loader (`embed.js`) once this module is instantiated, with the function
/// that loads the checkout module.
#[wasm_bindgen]
pub fn boot(load_checkout: js_sys::Function) {
    tweetbuy::start(load_checkout);
}
