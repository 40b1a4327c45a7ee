//! Where the button sits: its own row under the embed, taken only while nobody can see it.
//!
//! The button module runs after the host page's first paint (it is an async module from
//! another origin), so a row inserted under an embed the visitor is looking at would push
//! everything below it down: a layout shift. Instead every button starts *floating*: its
//! host takes no height, and the button hangs over the embed's bottom right corner, its
//! bottom just above whatever follows the embed. An `IntersectionObserver` hands the button
//! its row once the floating button is below the viewport, where the row moves nothing the
//! visitor sees. Embeds found below the fold (most of a long page) get their row on the
//! next frame; a button that stays in sight, or above it, keeps floating.

use crate::prelude::*;
use crate::shared::names;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// On a view root (`.tb-root`) whose button floats and has no row yet (`src/button/mount.css`).
pub const FLOATING_ATTR: &str = "data-floating";

/// How far out of sight the button must be before its row is taken, so a button at the
/// viewport's edge never moves while a pixel of it shows.
const OUT_OF_SIGHT: &str = "16px";

crate::shared::local::page_local! {
    static OBSERVER: Option<IntersectionObserver> = {
        let callback = Closure::<dyn Fn(js_sys::Array, IntersectionObserver)>::new(
            |entries: js_sys::Array, observer: IntersectionObserver| {
                for entry in entries.iter() {
                    let entry: IntersectionObserverEntry = entry.unchecked_into();
                    if below_sight(&entry) {
                        let anchor = entry.target();
                        observer.unobserve(&anchor);
                        take_row(&anchor);
                    }
                }
            },
        )
        .into_js_value();
        let init = IntersectionObserverInit::new();
        init.set_root_margin(OUT_OF_SIGHT);
        IntersectionObserver::new_with_options(callback.unchecked_ref(), &init).ok()
    };
}

/// Marks a new view root as floating: its host takes no height until [`watch`] decides.
pub fn float(root: &Element) {
    let _ = root.set_attribute(FLOATING_ATTR, "");
}

/// Watches a floating button's anchor (`.tb-anchor`), and gives it its row once it is out
/// of sight. Without `IntersectionObserver` the row is taken at once.
pub fn watch(anchor: &Element) {
    let watched = OBSERVER.with(|o| o.as_ref().map(|o| o.observe(anchor)).is_some());
    if !watched {
        take_row(anchor);
    }
}

/// Gives the button its row now: the visitor asked for something that needs room (a note
/// under the button), and a shift right after their own input is expected.
pub fn settle(root: &Element) {
    if let Ok(Some(anchor)) = root.query_selector(".tb-anchor") {
        forget(&anchor);
    }
    let _ = root.remove_attribute(FLOATING_ATTR);
}

/// Stops watching an anchor whose host left the page.
pub fn forget(anchor: &Element) {
    OBSERVER.with(|o| {
        if let Some(o) = o {
            o.unobserve(anchor);
        }
    });
}

/// On a new view root (`.tb-root`) until its host is lined up: the view is not rendered
/// (`src/button/mount.css`), so the browser never lays its button out anywhere else first
/// (which it would count as a layout shift once the host moves it).
pub const UNALIGNED_ATTR: &str = "data-unaligned";

crate::shared::local::page_local! {
    /// Embeds (with their hosts) waiting for the browser's next layout.
    static WAITING: core::cell::RefCell<Vec<(Element, Element)>> = Default::default();
}

crate::shared::local::page_local! {
    /// Reports once the waiting embeds are laid out: a `ResizeObserver` is told after the
    /// browser's own layout and before it paints, so reading the boxes forces no layout of
    /// its own (reading them in an animation frame did, for every new batch).
    static LAID_OUT: Option<web_sys::ResizeObserver> = {
        let callback = Closure::<dyn Fn(js_sys::Array, web_sys::ResizeObserver)>::new(
            |_entries: js_sys::Array, observer: web_sys::ResizeObserver| {
                let pairs = WAITING.with(|w| core::mem::take(&mut *w.borrow_mut()));
                for (embed, _) in &pairs {
                    observer.unobserve(embed);
                }
                align_timed(&pairs);
            },
        )
        .into_js_value();
        web_sys::ResizeObserver::new(callback.unchecked_ref()).ok()
    };
}

/// Lines each host up with its embed's border box (same left edge, same width), so the
/// button sits flush with the embed's right edge, centred and indented embeds included,
/// and shows a new view ([`UNALIGNED_ATTR`]).
///
/// Done once the browser has laid the embeds out, before it paints ([`LAID_OUT`]): the
/// page's own stylesheets have loaded by then (they block rendering), while the module
/// itself may run before they do and read the embed's unstyled box. All boxes are read
/// first, then written. An embed the browser does not lay out (hidden) waits until it is.
/// Without `ResizeObserver`, in the next animation frame.
pub fn align_before_paint(pairs: Vec<(Element, Element)>) {
    if pairs.is_empty() {
        return;
    }
    let observed = LAID_OUT.with(|o| {
        let o = o.as_ref()?;
        for (embed, _) in &pairs {
            o.observe(embed);
        }
        Some(())
    });
    if observed.is_some() {
        WAITING.with(|w| w.borrow_mut().extend(pairs));
        return;
    }
    let Some(window) = web_sys::window() else { return };
    let align = Closure::once_into_js(move || align_timed(&pairs));
    let _ = window.request_animation_frame(align.unchecked_ref());
}

/// The first alignment of these hosts: [`align_now`], the views shown, a performance mark.
fn align_timed(pairs: &[(Element, Element)]) {
    if pairs.is_empty() {
        return;
    }
    let start = crate::button::marks::now();
    align_now(pairs);
    for (_, host) in pairs {
        if let Some(root) = host.shadow_root().and_then(|s| s.first_element_child()) {
            names::remove_attr(&root, UNALIGNED_ATTR);
        }
    }
    crate::button::marks::align_batch(start, crate::button::marks::now() - start, pairs.len());
}

fn align_now(pairs: &[(Element, Element)]) {
    let fold = viewport_height();
    let boxes: Vec<Option<EmbedBox>> = pairs.iter().map(|(embed, host)| EmbedBox::of(embed, host, fold)).collect();
    for ((_, host), embed_box) in pairs.iter().zip(boxes) {
        if let Some(embed_box) = embed_box {
            embed_box.apply_to(host);
        }
    }
}

fn viewport_height() -> f64 {
    web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(f64::MAX)
}

crate::shared::local::page_local! {
    static REALIGN_QUEUED: core::cell::Cell<bool> = core::cell::Cell::new(false);
}

/// Lines every button up again after the window changes size (a centred embed moves, a
/// narrower one shrinks), once per frame however many `resize` events arrive. It sets no
/// performance mark: the marks time mounting, which a resize is not.
/// `pairs` lists every mounted button's embed and host.
pub fn follow_resizes(pairs: fn() -> Vec<(Element, Element)>) {
    let Some(window) = web_sys::window() else { return };
    let on_resize = Closure::<dyn Fn()>::new(move || {
        if REALIGN_QUEUED.with(|q| q.replace(true)) {
            return;
        }
        let realign = Closure::once_into_js(move || {
            REALIGN_QUEUED.with(|q| q.set(false));
            align_now(&pairs());
        });
        if let Some(window) = web_sys::window() {
            let _ = window.request_animation_frame(realign.unchecked_ref());
        }
    })
    .into_js_value();
    let _ = window.add_event_listener_with_callback("resize", on_resize.unchecked_ref());
}

/// Where an embed's border box sits across its container, and how much free space lies
/// between the host (right under the embed) and whatever follows it.
#[derive(Clone, Copy, Debug)]
struct EmbedBox {
    width: f64,
    margin_left: f64,
    /// `None` far below the fold, where the button takes its row and never floats.
    gap: Option<f64>,
}

/// How far below the fold a host must be for its floating button (up to a button and a
/// space above the host, plus the observer's margin) to be wholly out of sight.
const FLOAT_REACH: f64 = 80.0;

impl EmbedBox {
    /// `None` for an embed that left the page or is not rendered. Two boxes per embed: the
    /// host, less the margin we gave it before, starts at its container's content edge, so
    /// the difference of the left edges is the embed's left margin (or its centring).
    fn of(embed: &Element, host: &Element, fold: f64) -> Option<Self> {
        let embed_box = tweet_box(embed);
        let host_box = host.get_bounding_client_rect();
        let given = names::style_value(&host.unchecked_ref::<web_sys::HtmlElement>().style(), "margin-left");
        let given = Some(js_sys::parse_float(&given)).filter(|m| m.is_finite()).unwrap_or(0.0);
        let gap = match host_box.top() > fold + FLOAT_REACH {
            true => None,
            false => Some(match next_rendered(host) {
                Some(next) => (next.get_bounding_client_rect().top() - host_box.top()).max(0.0),
                None => 0.0,
            }),
        };
        let width = embed_box.width();
        (width > 0.0).then_some(Self { width, margin_left: embed_box.left() - (host_box.left() - given), gap })
    }

    /// Inline `!important` (allowed by a strict CSP), so hostile page rules cannot undo it.
    /// The gap goes to the view as `--tb-float-gap`: a floating button drops into that free
    /// space first, and covers the embed's corner only by what does not fit.
    fn apply_to(self, host: &Element) {
        let style = host.unchecked_ref::<web_sys::HtmlElement>().style();
        names::set_important(&style, "max-width", &px(self.width));
        names::set_important(&style, "margin-left", &px(self.margin_left));
        if let Some(gap) = self.gap {
            names::set_style(&style, "--tb-float-gap", &px(gap));
        }
    }
}

/// The box the visitor sees as the tweet. A tweet widgets.js has rendered is an iframe in a
/// wrapper that may span the whole column (its width comes from widgets.js's own styles,
/// which a page can override or lack), so the button lines up with the iframe.
fn tweet_box(embed: &Element) -> web_sys::DomRect {
    let frame = names::query(embed, ":scope > iframe");
    frame.filter(|f| f.get_client_rects().length() > 0).unwrap_or_else(|| embed.clone()).get_bounding_client_rect()
}

/// The first element after the host that takes up room on the page (not a `<script>`).
fn next_rendered(host: &Element) -> Option<Element> {
    let mut next = host.next_element_sibling();
    while let Some(element) = next {
        if element.get_client_rects().length() > 0 {
            return Some(element);
        }
        next = element.next_element_sibling();
    }
    None
}

/// A CSS length, through `Number#toString`: Rust's float formatting would cost the module
/// kilobytes.
fn px(value: f64) -> String {
    let number: String = js_sys::Number::from(value).to_string_with_radix(10).map(String::from).unwrap_or_default();
    number + "px"
}

/// Whether the floating button is wholly below the viewport, and with it everything the row
/// would push down. Above the viewport a row would move the content on screen unless the
/// browser's scroll anchoring made up for it, and Chromium does not always (tried: it let
/// the page jump when rows were taken above it), so a button there keeps floating.
fn below_sight(entry: &IntersectionObserverEntry) -> bool {
    let viewport_bottom = entry.root_bounds().map_or_else(viewport_height, |bounds| bounds.bottom());
    !entry.is_intersecting() && entry.bounding_client_rect().top() >= viewport_bottom
}

fn take_row(anchor: &Element) {
    if let Some(root) = anchor.parent_element() {
        names::remove_attr(&root, FLOATING_ATTR);
    }
}
