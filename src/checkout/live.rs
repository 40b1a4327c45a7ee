//! Live figures while a sheet is open: stock and availability refreshed from the server
//! (when the sheet opens and every 15 s), and the clock for a sale's countdown.
//!
//! The client never invents a stock figure: it shows what the offer lookup or the
//! availability endpoint said, nothing computed.

use crate::shared::api::ApiClient;
use leptos::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tweetbuy_core::Offer;

/// How often the open product sheet asks for fresh stock.
pub const REFRESH_MS: i32 = 15_000;

/// The availability endpoint of one product.
pub fn availability_path(product_id: &str) -> String {
    let safe: String =
        product_id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    format!("/api/v1/products/{safe}/availability")
}

/// Seconds since the Unix epoch, by the browser's clock.
pub fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// Cleared when the sheet goes away, so its loops stop.
#[derive(Clone, Debug, Default)]
pub struct Alive(Arc<AtomicBool>);

impl Alive {
    pub fn new() -> Alive {
        Alive(Arc::new(AtomicBool::new(true)))
    }

    pub fn is_alive(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn stop(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Asks the server once and applies the answer to the offer. A failed read changes nothing.
pub async fn refresh(api: &ApiClient, offer: RwSignal<Offer>) {
    let Some(path) = offer.try_with_untracked(|o| availability_path(&o.product_id)) else {
        return;
    };
    let answer = api.get_parsed(&path).await;
    if let Some(live) = answer.ok().as_ref().and_then(crate::checkout::wire::availability) {
        offer.try_update(|o| {
            let fresh = live.apply_to(o);
            if fresh != *o {
                *o = fresh;
            }
        });
    }
}

/// Refreshes now, then every [`REFRESH_MS`] while `alive`.
pub async fn poll(api: ApiClient, offer: RwSignal<Offer>, alive: Alive) {
    while alive.is_alive() {
        refresh(&api, offer).await;
        crate::shared::util::sleep(REFRESH_MS).await;
    }
}

/// Moves `now` every second while `alive`; when the sale's end passes, asks the server
/// once, which then says the sale has ended.
pub async fn tick(api: ApiClient, offer: RwSignal<Offer>, now: RwSignal<i64>, alive: Alive) {
    let mut asked_at_end = false;
    while alive.is_alive() {
        crate::shared::util::sleep(1_000).await;
        let t = now_seconds();
        if now.try_set(t).is_some() {
            // try_set hands the value back when the signal is gone.
            return;
        }
        let ends_at = offer.try_with_untracked(|o| o.sale_ends_at).flatten();
        if !asked_at_end && ends_at.is_some_and(|end| t >= end) {
            asked_at_end = true;
            refresh(&api, offer).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_holds_only_the_product_slug() {
        assert_eq!(availability_path("red-tee"), "/api/v1/products/red-tee/availability");
        assert_eq!(availability_path("a/../b?x"), "/api/v1/products/a..bx/availability");
        let alive = Alive::new();
        assert!(alive.is_alive());
        alive.clone().stop();
        assert!(!alive.is_alive());
    }
}
