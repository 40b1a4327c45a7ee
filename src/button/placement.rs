//! Where the button sits: its own row under the embed, taken only while nobody can see it.
//!
//! The button module runs after the host page's first paint (it is an async module from
//! another origin), so a row inserted under an embed the visitor is looking at would push
//! everything below it down: a layout shift. Instead every button starts *floating*: its
//! host takes no height, and the button hangs over the embed's bottom right corner, its
//! bottom just above whatever follows the embed. An `IntersectionObserver` hands the button
//! its row once the floating button is below the viewport, where the row moves nothing the
//! visitor sees. Embeds found far below the fold (most of a long page) get their row as they
//! are first lined up, before the browser paints, and nothing watches them; a button that
//! stays in sight, or above it, keeps floating.

use crate::prelude::*;
use crate::shared::names;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, IntersectionObserver, IntersectionObserverInit};

/// On a view root (`.tb-root`) whose button floats and has no row yet (`src/button/mount.css`).
pub const FLOATING_ATTR: &str = "data-floating";

/// How far out of sight the button must be before its row is taken, so a button at the
/// viewport's edge never moves while a pixel of it shows.
const OUT_OF_SIGHT: &str = "16px";

crate::shared::local::page_local! {
    static OBSERVER: Option<IntersectionObserver> = {
        let callback = crate::shared::util::callback(|entries, observer| {
            let (entries, observer): (js_sys::Array, IntersectionObserver) =
                (entries.unchecked_into(), observer.unchecked_into());
            crate::button::kit::with(|kit| {
                let Ok(sight) = kit.sight(&entries) else { return };
                let chosen = below_sight(&sight.to_vec(), viewport_height());
                if !chosen.is_empty() {
                    let _ = kit.settle(&entries, &chosen, &observer, &names::js(FLOATING_ATTR));
                }
            });
        });
        let init = IntersectionObserverInit::new();
        init.set_root_margin(OUT_OF_SIGHT);
        IntersectionObserver::new_with_options(callback.unchecked_ref(), &init).ok()
    };
}

/// The observer that gives floating buttons their rows (the kit has it watch the anchor,
/// `.tb-anchor`, of each new button left floating by its first alignment), or `null` where
/// there is none: then a new view never floats ([`floats`]) and takes its row at once.
fn floating_observer() -> JsValue {
    OBSERVER.with(|o| o.as_ref().map_or(JsValue::NULL, JsValue::from))
}

/// Marks a new view root as floating: its host takes no height until its anchor is out of
/// sight (the [`floating_observer`] watches it).
pub fn float(root: &Element) {
    let _ = root.set_attribute(FLOATING_ATTR, "");
}

/// Whether new views start floating ([`FLOATING_ATTR`]): only where an observer can tell
/// when their row may be taken.
pub fn floats() -> bool {
    OBSERVER.with(Option::is_some)
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

crate::shared::local::page_local! {
    /// Watches every mounted embed's size: a tweet shown late (a tab, an accordion), or one
    /// whose width the page changes without the window's, gets its button lined up again.
    /// The kit reports only widths that changed since the embed's last report, so the first
    /// report of each (all of a new batch, already lined up) costs nothing more.
    static RESIZED: Option<web_sys::ResizeObserver> = {
        let callback = crate::shared::util::callback(|entries, _| {
            let Some(Ok(pairs)) = crate::button::kit::with(|kit| kit.resized(&entries.unchecked_into())) else {
                return;
            };
            let pairs: Pairs = (pairs.get(0).unchecked_into(), pairs.get(1).unchecked_into());
            if pairs.0.length() > 0 {
                align_now(&[&pairs]);
            }
        });
        web_sys::ResizeObserver::new(callback.unchecked_ref()).ok()
    };
}

/// Starts watching these embeds' sizes ([`RESIZED`]).
pub(crate) fn watch_sizes(embeds: &js_sys::Array) {
    RESIZED.with(|o| {
        if let Some(o) = o {
            crate::button::kit::with(|kit| kit.observe(o, embeds));
        }
    });
}

/// Watches `new`'s size instead of `old`'s: a rendered embed took the blockquote's place.
pub(crate) fn rewatch_size(old: &Element, new: &Element) {
    unwatch_size(old);
    watch_sizes(&js_sys::Array::of1(new));
}

/// Stops watching an embed's size: its button is gone (an observer keeps what it watches).
pub(crate) fn unwatch_size(embed: &Element) {
    RESIZED.with(|o| {
        if let Some(o) = o {
            o.unobserve(embed);
        }
    });
}

/// On a new view root (`.tb-root`) until its host is lined up, and while its tweet is not
/// rendered: the view is not rendered (`src/button/mount.css`), so the browser never lays
/// its button out anywhere else first (which it would count as a layout shift once the host
/// moves it), and a tweet the page hides takes its button with it. The host itself stays,
/// with no height, so its box is still there to measure when the tweet shows again.
pub const UNALIGNED_ATTR: &str = "data-unaligned";

/// Embeds and their hosts, two JS arrays in step, as the kit takes them.
pub(crate) type Pairs = (js_sys::Array, js_sys::Array);

/// A new batch's buttons, in the order of its hosts, for its first alignment: their accent
/// colours are checked then, and with `prefetch` the checkout module is fetched once one of
/// them is in sight.
pub(crate) struct NewButtons {
    pub(crate) buttons: js_sys::Array,
    pub(crate) kinds: crate::shared::theme::AccentKinds,
    pub(crate) prefetch: bool,
}

/// A batch waiting for the browser's next layout, with its buttons when they are new.
struct Waiting {
    pairs: Pairs,
    new: Option<NewButtons>,
}

crate::shared::local::page_local! {
    /// Batches of embeds (with their hosts) waiting for the browser's next layout.
    static WAITING: core::cell::RefCell<Vec<Waiting>> = const { core::cell::RefCell::new(Vec::new()) };
}

crate::shared::local::page_local! {
    /// Reports once the page is next laid out: a `ResizeObserver` is told after the
    /// browser's own layout and before it paints, so reading the boxes forces no layout of
    /// its own (reading them in an animation frame did, for every new batch). It watches the
    /// root element alone, for every waiting batch: an observer reports a new target after
    /// the next layout whatever its state (a hidden one with no size), so watching each
    /// embed told no more, at two calls per embed.
    static LAID_OUT: Option<web_sys::ResizeObserver> = {
        let callback = crate::shared::util::callback(|_entries, observer| {
            observer.unchecked_into::<web_sys::ResizeObserver>().disconnect();
            let batches = WAITING.with(|w| core::mem::take(&mut *w.borrow_mut()));
            align_timed(batches);
        });
        web_sys::ResizeObserver::new(callback.unchecked_ref()).ok()
    };
}

/// Lines each host up with its embed's border box (same left edge, same width), so the
/// button sits flush with the embed's right edge, centred and indented embeds included,
/// and shows a new view ([`UNALIGNED_ATTR`]).
///
/// Done once the browser has laid the page out, before it paints ([`LAID_OUT`]): the
/// page's own stylesheets have loaded by then (they block rendering), while the module
/// itself may run before they do and read the embed's unstyled box. All boxes are read
/// first, then written. A hidden embed's host is left as it is.
pub fn align_before_paint(embed: &Element, host: &Element) {
    wait_for_layout((js_sys::Array::of1(embed), js_sys::Array::of1(host)), None);
}

/// Queues a batch to be lined up once the page is next laid out. With `new` buttons, their
/// accent colours are checked first ([`crate::shared::theme::AccentKinds`]), and with its
/// `prefetch` the checkout module is fetched ahead of a click once one of them is in sight,
/// told by the boxes read then, or by an observer for a batch out of sight
/// ([`crate::button::loader::prefetch_when_seen`]).
pub(crate) fn wait_for_layout(pairs: Pairs, new: Option<NewButtons>) {
    let waiting = Waiting { pairs, new };
    let root = crate::shared::util::window().document().and_then(|d| d.document_element());
    let watching = LAID_OUT.with(|o| match (o, root) {
        (Some(o), Some(root)) => {
            // Watched anew, it is reported after the next layout even if it was watched.
            o.observe(&root);
            true
        }
        _ => false,
    });
    match watching {
        true => WAITING.with(|w| w.borrow_mut().push(waiting)),
        // Without `ResizeObserver` (browsers before 2020), at once: reading the boxes makes
        // the browser lay the page out now, a cost only those browsers pay.
        false => align_timed(vec![waiting]),
    }
}

/// The first alignment of these batches: the new buttons' accent colours checked (the
/// page's styles are computed by now, and the views still hidden), [`align_now`], the views
/// shown, a performance mark, then the prefetch decision of each batch that asked for one.
fn align_timed(batches: Vec<Waiting>) {
    let count: u32 = batches.iter().map(|w| w.pairs.0.length()).sum();
    if count == 0 {
        return;
    }
    let start = crate::button::marks::now();
    for new in batches.iter().filter_map(|w| w.new.as_ref()) {
        new.kinds.check(&new.buttons);
    }
    let pairs: Vec<&Pairs> = batches.iter().map(|w| &w.pairs).collect();
    let boxes = align_now(&pairs);
    crate::button::marks::align_batch(start, crate::button::marks::now() - start, count as usize);
    let fold = viewport_height();
    for (boxes, waiting) in boxes.iter().zip(&batches) {
        let Some(new) = waiting.new.as_ref().filter(|new| new.prefetch) else { continue };
        match boxes.as_deref().is_some_and(|b| any_in_sight(b, fold)) {
            true => crate::button::loader::seen(),
            false => crate::button::loader::prefetch_when_seen(&new.buttons),
        }
    }
}

/// Reads every batch's boxes, then sizes every host. Returns the boxes read, per batch
/// ([`host_sizes`] says what they are).
fn align_now(batches: &[&Pairs]) -> Vec<Option<Vec<f64>>> {
    let fold = viewport_height();
    let measured: Vec<Option<Vec<f64>>> = batches
        .iter()
        .map(|(embeds, hosts)| {
            crate::button::kit::with(|kit| kit.measure(embeds, hosts, fold + FLOAT_REACH).ok())
                .flatten()
                .map(|boxes| boxes.to_vec())
        })
        .collect();
    // Where each button goes: its row at once far below the fold, else floating, watched; at
    // any alignment, as a tweet hidden at its first (a closed tab) is lined up when it shows.
    let floating = floating_observer();
    let shown = names::js(UNALIGNED_ATTR);
    let floating_attr = names::js(FLOATING_ATTR);
    for ((embeds, hosts), boxes) in batches.iter().copied().zip(&measured) {
        let Some(boxes) = boxes else { continue };
        let sizes = js_sys::Float64Array::from(&host_sizes(boxes, fold)[..]);
        crate::button::kit::with(|kit| kit.apply(embeds, hosts, &sizes, &shown, &floating_attr, &floating));
    }
    measured
}

fn viewport_height() -> f64 {
    crate::shared::util::window().inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(f64::MAX)
}

crate::shared::local::page_local! {
    static REALIGN_QUEUED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Lines every button up again after the window changes size (a centred embed moves, a
/// narrower one shrinks), once per frame however many `resize` events arrive. It sets no
/// performance mark: the marks time mounting, which a resize is not.
/// `pairs` gives every mounted button's embed and host, in two arrays in step.
pub fn follow_resizes(pairs: fn() -> Pairs) {
    let window = crate::shared::util::window();
    let on_resize = crate::shared::util::callback(move |_, _| {
        if REALIGN_QUEUED.with(|q| q.replace(true)) {
            return;
        }
        crate::shared::util::next_frame(move || {
            REALIGN_QUEUED.with(|q| q.set(false));
            align_now(&[&pairs()]);
        });
    });
    let _ = window.add_event_listener_with_callback("resize", on_resize.unchecked_ref());
}

/// How far below the fold a host must be for its floating button (up to a button and a
/// space above the host, plus the observer's margin) to be wholly out of sight.
const FLOAT_REACH: f64 = 80.0;

/// The numbers each host is sized by, four per host (`width`, `margin-left`, the free space
/// `--tb-float-gap` under it, and 1 if its button takes its row now, 0 if it floats, [`HIDDEN`]
/// if it is hidden with its tweet; NaN: leave it), from the seven per host the kit measured: the tweet's width and left edge, the
/// host's top and left edge, the host's inline margin, the top of the first element
/// with a box after the host (NaN: none, or not read), and the host's CSS zoom (the boxes
/// are in its own pixels), negated if the host is placed by the browser ([`ANCHORED`]).
///
/// The host, less the margin we gave it before, starts at its container's content edge, so
/// the difference of the left edges is the embed's left margin (or its centring). A tweet
/// without width is not rendered (it left the page, or is hidden, as a filtered list hides
/// some): its view is hidden with it ([`UNALIGNED_ATTR`]), and shown again once the tweet
/// is, as the kit reports its width then. Far below the fold a button takes its row at once, where it
/// moves nothing the visitor sees and no observer need watch it, and its gap is not set.
///
/// In a grid or a flex line a host of its own would take a cell, or a gap, and move the
/// page's tweets; after a tweet floated beside the text it would start level with the
/// tweet's top. There the browser places it at its embed's bottom edge, out of the flow
/// (CSS anchor positioning, which follows the embed wherever the page moves it), and its
/// button floats over the tweet's bottom right corner for good, as no row can be taken
/// under a cell or a float.
fn host_sizes(boxes: &[f64], fold: f64) -> Vec<f64> {
    let mut sizes = Vec::with_capacity(boxes.len() / 7 * 4);
    for b in boxes.chunks_exact(7) {
        let [tweet_width, tweet_left, host_top, host_left, given, next_top] = [b[0], b[1], b[2], b[3], b[4], b[5]];
        let hidden = tweet_width.is_nan() || tweet_width <= 0.0;
        // The zoom (CSS `zoom`) the boxes were divided by, negative for a host the browser
        // places at its embed.
        if b[6] < 0.0 {
            sizes.extend([ANCHORED, f64::NAN, f64::NAN, if hidden { HIDDEN } else { f64::NAN }]);
            continue;
        }
        if hidden {
            sizes.extend([f64::NAN, f64::NAN, f64::NAN, HIDDEN]);
            continue;
        }
        // The fold is in the window's pixels, the boxes in the host's own.
        let far_below = host_top * b[6] > fold + FLOAT_REACH;
        let gap = match (far_below, next_top.is_nan()) {
            (true, _) => f64::NAN,
            (false, true) => 0.0,
            (false, false) => (next_top - host_top).max(0.0),
        };
        sizes.extend([tweet_width, tweet_left - (host_left - given), gap, if far_below { 1.0 } else { 0.0 }]);
    }
    sizes
}

/// The width [`host_sizes`] gives a host the browser places at its embed (the kit's
/// `anchor`).
const ANCHORED: f64 = -1.0;

/// Where [`host_sizes`] puts a button whose tweet is not rendered: nowhere, its host hidden.
const HIDDEN: f64 = -1.0;

/// Whether a button of the batch is in sight, from the boxes the kit measured (seven per
/// host, as [`host_sizes`] reads them): a host whose tweet is rendered and whose top edge,
/// where its button sits, is within the viewport.
fn any_in_sight(boxes: &[f64], fold: f64) -> bool {
    boxes.chunks_exact(7).any(|b| b[0] > 0.0 && (0.0..=fold).contains(&(b[2] * b[6].abs())))
}

/// Which floating buttons are wholly below the viewport, and with them everything their row
/// would push down, by index, from three numbers per observed anchor: whether it intersects,
/// its top, the viewport's bottom (NaN: `fold`, the window's height). Above the viewport a
/// row would move the content on screen unless the browser's scroll anchoring made up for
/// it, and Chromium does not always (tried: it let the page jump when rows were taken above
/// it), so a button there keeps floating.
fn below_sight(sight: &[f64], fold: f64) -> Vec<u32> {
    let below = |s: &[f64]| {
        let viewport_bottom = if s[2].is_nan() { fold } else { s[2] };
        s[0] == 0.0 && s[1] >= viewport_bottom
    };
    (0u32..).zip(sight.chunks_exact(3)).filter(|(_, s)| below(s)).map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x.is_nan() && y.is_nan()) || x == y)
    }

    #[test]
    fn a_host_takes_its_tweets_width_and_left_edge_and_the_space_under_it() {
        let nan = f64::NAN;
        let fold = 900.0;
        // A centred tweet of 550 px at x=237 in a column starting at x=8, the host given a
        // margin of 229 px before; the next element 30 px under the host's top.
        let sizes = host_sizes(&[550.0, 237.0, 400.0, 237.0, 229.0, 430.0, 1.0], fold);
        assert!(same(&sizes, &[550.0, 229.0, 30.0, 0.0]), "{sizes:?}");
        // Nothing after the host: no free space. An element overlapping the host: none either.
        assert!(same(&host_sizes(&[500.0, 8.0, 400.0, 8.0, 0.0, nan, 1.0], fold), &[500.0, 0.0, 0.0, 0.0]));
        assert!(same(&host_sizes(&[500.0, 8.0, 400.0, 8.0, 0.0, 390.0, 1.0], fold), &[500.0, 0.0, 0.0, 0.0]));
    }

    #[test]
    fn in_a_grid_or_flex_line_the_browser_places_the_host_shown_while_its_tweet_is() {
        let nan = f64::NAN;
        let fold = 900.0;
        // In sight or far below, with or without room under it: anchored, never a row.
        for top in [400.0, fold + FLOAT_REACH + 500.0] {
            let sizes = host_sizes(&[300.0, 8.0, top, 8.0, 0.0, top + 16.0, -1.0], fold);
            assert!(same(&sizes, &[ANCHORED, nan, nan, nan]), "{sizes:?}");
        }
        let hidden = host_sizes(&[0.0, 0.0, 0.0, 0.0, 0.0, nan, -1.0], fold);
        assert!(same(&hidden, &[ANCHORED, nan, nan, HIDDEN]), "a hidden tweet's host is hidden: {hidden:?}");
        let mixed = host_sizes(&[500.0, 8.0, 400.0, 8.0, 0.0, nan, 1.0, 300.0, 8.0, 400.0, 8.0, 0.0, nan, -1.0], fold);
        assert!(same(&mixed, &[500.0, 0.0, 0.0, 0.0, ANCHORED, nan, nan, nan]), "each by its own: {mixed:?}");
    }

    #[test]
    fn a_batch_is_in_sight_when_a_rendered_tweets_host_starts_within_the_viewport() {
        let nan = f64::NAN;
        let fold = 900.0;
        let host = |width: f64, top: f64| [width, 8.0, top, 8.0, 0.0, nan, 1.0];
        assert!(any_in_sight(&[host(500.0, 1400.0), host(500.0, 600.0)].concat(), fold));
        assert!(any_in_sight(&host(500.0, 900.0), fold), "at the fold its button still shows");
        assert!(!any_in_sight(&host(500.0, 901.0), fold), "below the fold");
        assert!(!any_in_sight(&host(500.0, -20.0), fold), "scrolled past");
        assert!(!any_in_sight(&host(0.0, 300.0), fold), "a tweet that is not rendered");
        assert!(!any_in_sight(&[], fold));
        // On a page zoomed by CSS the boxes are in the host's own pixels: 1,200 of them at a
        // zoom of 0.6 are 720 of the window's, within its 900.
        let zoomed = |top: f64, zoom: f64| [500.0, 8.0, top, 8.0, 0.0, nan, zoom];
        assert!(any_in_sight(&zoomed(1200.0, 0.6), fold));
        assert!(!any_in_sight(&zoomed(700.0, 1.5), fold), "1,050 of the window's pixels: below");
        assert!(any_in_sight(&zoomed(1200.0, -0.6), fold), "a host the browser places, zoomed");
    }

    #[test]
    fn on_a_page_zoomed_by_css_the_fold_is_weighed_in_the_windows_pixels() {
        let nan = f64::NAN;
        let fold = 900.0;
        // 1,600 of the host's pixels at a zoom of 0.6 are 960 of the window's: within reach,
        // so it floats (a row taken there would move what the visitor sees).
        let near = host_sizes(&[500.0, 8.0, 1600.0, 8.0, 0.0, nan, 0.6], fold);
        assert!(same(&near, &[500.0, 0.0, 0.0, 0.0]), "{near:?}");
        let far = host_sizes(&[500.0, 8.0, 1600.0, 8.0, 0.0, nan, 1.0], fold);
        assert!(same(&far, &[500.0, 0.0, nan, 1.0]), "{far:?}");
    }

    #[test]
    fn a_row_is_taken_only_by_a_button_wholly_below_the_viewport() {
        let nan = f64::NAN;
        let sight = [
            0.0, 950.0, 900.0, // below: takes its row
            1.0, 850.0, 900.0, // in sight
            0.0, -60.0, 900.0, // above: keeps floating
            0.0, 900.0, nan, // no root bounds: the window's height is the fold
            0.0, 899.0, nan,
        ];
        assert_eq!(below_sight(&sight, 900.0), vec![0, 3]);
    }

    #[test]
    fn far_below_the_fold_a_button_takes_its_row_at_once_and_an_unrendered_tweets_is_hidden() {
        let nan = f64::NAN;
        let fold = 900.0;
        let below = host_sizes(&[500.0, 8.0, fold + FLOAT_REACH + 1.0, 8.0, 0.0, nan, 1.0], fold);
        assert!(same(&below, &[500.0, 0.0, nan, 1.0]), "its row, no gap: {below:?}");
        let at_reach = host_sizes(&[500.0, 8.0, fold + FLOAT_REACH, 8.0, 0.0, nan, 1.0], fold);
        assert!(same(&at_reach, &[500.0, 0.0, 0.0, 0.0]), "at the reach it floats, its gap read: {at_reach:?}");
        let above = host_sizes(&[500.0, 8.0, -400.0, 8.0, 0.0, nan, 1.0], fold);
        assert!(same(&above, &[500.0, 0.0, 0.0, 0.0]), "above the viewport it floats: {above:?}");
        let hidden = [nan, nan, nan, HIDDEN];
        assert!(same(
            &host_sizes(&[0.0, 8.0, 10.0, 8.0, 0.0, 40.0, 0.0, nan, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0], fold),
            &[hidden, hidden].concat()
        ));
    }
}
