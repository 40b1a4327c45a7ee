//! The checkout module: the product sheet, checkout, card frame, order and confirmation.
//! The button module loads it when a visitor is about to buy and calls [`open_sheet`].

use tweetbuy::api::ApiClient;
use tweetbuy::mount::WidgetCtx;
use tweetbuy::sheet_loader::OpenRequest;
use wasm_bindgen::prelude::*;
use web_sys::Element;

fn main() {
    console_error_panic_hook::set_once();
    tweetbuy::styles::warm();
}

/// Opens the sheet of one button, or with `show` false builds it hidden ahead of a click
/// (the argument order is the button module's, in `tweetbuy::sheet_loader::call`).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn open_sheet(
    host: Element,
    embed: Element,
    offer_json: String,
    api_base: String,
    vault_origin: String,
    locale: String,
    theme: String,
    show: bool,
) {
    let ctx = WidgetCtx { api: ApiClient::new(api_base), vault_origin, locale, theme };
    let request = OpenRequest { host, embed, offer_json, ctx };
    match show {
        true => tweetbuy::sheet_host::open(request),
        false => tweetbuy::sheet_host::prepare(request),
    }
}
