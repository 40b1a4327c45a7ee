//! The checkout module: the product sheet, checkout, card frame, order and confirmation.
//! The button module loads it when a visitor is about to buy and calls [`open_sheet`].

use tweetbuy::shared::context::OpenRequest;
use wasm_bindgen::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    tweetbuy::shared::styles::warm();
}

/// Opens the sheet of one button, or builds it hidden ahead of a click, as the button
/// module's request says ([`OpenRequest::to_js`]). Anything else is ignored.
#[wasm_bindgen]
pub fn open_sheet(request: JsValue) {
    match OpenRequest::from_js(&request) {
        Some((request, true)) => tweetbuy::checkout::host::open(request),
        Some((request, false)) => tweetbuy::checkout::host::prepare(request),
        None => {}
    }
}
