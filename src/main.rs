//! The button module: what every host page loads. It finds embeds, looks up offers and
//! attaches the Buy buttons; the checkout module (`src/bin/checkout.rs`) loads on demand.
//! Everything lives in the library so tests can reach it.
//!
//! Built without std (index.html: `data-cargo-no-default-features`), so this entry point
//! brings what std would: an allocator and a panic handler. Neither formats anything: std's
//! panic messages and formatting machinery, and dlmalloc, were a third of the module.

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(not(feature = "std"), no_main)]

use wasm_bindgen::prelude::*;

/// A free-list allocator of a few hundred bytes. The module has one thread.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
// SAFETY: a wasm32 module without threads: the allocator is never used from two at once.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// A panic is a bug: the call that hit it ends in a wasm trap (a `RuntimeError` in the
/// console, as std's abort gave), and the host page goes on.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(feature = "std")]
fn main() {}

/// Called by the loader (`embed.js`) once this module is instantiated, with the function
/// that loads the checkout module, the offer lookups it already sent (`[url, Promise]`
/// pairs; see `button::offers::use_preloaded`), the kit that does the buttons' DOM work
/// (`button::kit`) and what it found of the page (`button::config`).
#[wasm_bindgen]
pub fn boot(load_checkout: js_sys::Function, preloaded: JsValue, kit: JsValue, page: JsValue) {
    tweetbuy::start(load_checkout, &preloaded, kit, &page);
}
