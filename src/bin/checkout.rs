//! The checkout module: the product sheet, checkout, card frame, order and confirmation.
//! The button module loads it when a visitor is about to buy and calls [`open_sheet`].

use tweetbuy::shared::context::OpenRequest;
use wasm_bindgen::prelude::*;

/// The button module's allocator here too: a free list that coalesces, a few hundred bytes
/// where std's dlmalloc is 8 KB. The module has one thread.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: a wasm32 module without threads: the allocator is never used from two at once.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// No panic hook, as in the button module: a panic is a bug, and the call that hit it ends
/// in a wasm trap (a `RuntimeError` in the console). A hook that formats the message and a
/// stack trace (console_error_panic_hook) was 0.9 KB brotli of this module.
fn main() {
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
