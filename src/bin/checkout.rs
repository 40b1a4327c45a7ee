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

/// Opens the sheet of one button (the argument order is the button module's, in
/// `tweetbuy::sheet_loader::call`).
#[wasm_bindgen]
pub fn open_sheet(
    host: Element,
    embed: Element,
    offer_json: String,
    api_base: String,
    vault_origin: String,
    locale: String,
    theme: String,
) {
    tweetbuy::sheet_host::open(request(host, embed, offer_json, api_base, vault_origin, locale, theme));
}

/// Builds the sheet of one button ahead of a click, hidden (same arguments as
/// [`open_sheet`]).
#[wasm_bindgen]
pub fn prepare_sheet(
    host: Element,
    embed: Element,
    offer_json: String,
    api_base: String,
    vault_origin: String,
    locale: String,
    theme: String,
) {
    tweetbuy::sheet_host::prepare(request(host, embed, offer_json, api_base, vault_origin, locale, theme));
}

fn request(
    host: Element,
    embed: Element,
    offer_json: String,
    api_base: String,
    vault_origin: String,
    locale: String,
    theme: String,
) -> OpenRequest {
    let ctx = WidgetCtx { api: ApiClient::new(api_base), vault_origin, locale, theme };
    OpenRequest { host, embed, offer_json, ctx }
}
