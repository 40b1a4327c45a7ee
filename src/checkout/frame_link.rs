//! The page's side of the vault's frames: the card frame (on the details step) and the
//! saved-info frame (on the product step). The frame owns Pay; the page only tells it what the
//! buyer is buying ([`ToFrame::Show`]) and reacts to what it reports.
//!
//! Both are one page at one address, which learns which frame it is from the iframe's name
//! ([`FrameMode::name`]): the card frame, opened after the saved-info frame, is answered from
//! the browser's copy of the page.
//!
//! Messages go to the frame with the vault's exact origin as the target (never `*`), and a
//! message counts only if it comes from that origin *and* from that iframe's window.

use crate::checkout::bind::handler;
use crate::checkout::focus::SheetRoot;
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;
use tweetbuy_core::frame::{Cart, FromFrame, ToFrame, V1};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessageEvent;

/// Which of the vault's frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameMode {
    /// Card number, expiry, security code, "save for next time", and Pay.
    Card,
    /// The saved card and ship-to drawn by the frame, Pay, and Remove.
    Saved,
}

impl FrameMode {
    /// The iframe's name, which the frame's page reads as its mode (`frame-keys.js`); named for
    /// the widget, so that no link of the publisher's that targets a frame by name finds it.
    fn name(self) -> &'static str {
        match self {
            FrameMode::Card => "tweetbuy-card",
            FrameMode::Saved => "tweetbuy-saved",
        }
    }

    /// The frame's class and its part, for the host page's styles.
    fn class_and_part(self) -> (&'static str, &'static str) {
        match self {
            FrameMode::Card => ("tb-card-frame", "card-frame"),
            FrameMode::Saved => ("tb-saved-frame", "saved-frame"),
        }
    }
}

/// The frames' page on the vault origin, with the visitor's language for its labels.
pub fn frame_url(vault_origin: &str, lang: &str) -> String {
    let lang: String = lang.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(35).collect();
    format!("{}/frame?lang={lang}", vault_origin.trim_end_matches('/'))
}

/// The tallest a frame may make itself, in CSS pixels.
pub const MAX_FRAME_HEIGHT: u32 = 1200;

/// The message an event carries, if it counts: from the vault's exact origin, from our
/// iframe's window (`from_our_frame`), and a valid v1 frame message.
pub fn accept(origin: &str, vault_origin: &str, from_our_frame: bool, data: Option<String>) -> Option<FromFrame> {
    if !from_our_frame || origin != vault_origin.trim_end_matches('/') {
        return None;
    }
    crate::checkout::wire::from_frame_text(&data?)
}

/// Whether a `show` must go out: the frame creates a payment intent for each one, so the
/// same cart is not sent twice in a row. `last` is what was sent since the frame was
/// ready (`None`: nothing yet).
pub fn needs_show(last: Option<&Option<Cart>>, next: &Option<Cart>) -> bool {
    last != Some(next)
}

/// One vault frame: which one (the sheet shows one of each at most, found by its class in
/// the sheet rather than held by a node ref), the origin it may talk to, and the last cart
/// it was shown.
#[derive(Clone, Copy)]
pub struct FrameLink {
    root: SheetRoot,
    mode: FrameMode,
    origin: StoredValue<String>,
    shown: StoredValue<Option<Option<Cart>>>,
}

impl FrameLink {
    pub fn new(vault_origin: &str, mode: FrameMode) -> FrameLink {
        FrameLink {
            root: SheetRoot::current(),
            mode,
            origin: StoredValue::new(vault_origin.trim_end_matches('/').to_owned()),
            shown: StoredValue::new(None),
        }
    }

    // Every method does nothing once the component that made the link is gone (a late
    // timer or event must not touch what was disposed).
    fn frame(self) -> Option<web_sys::HtmlIFrameElement> {
        self.origin.try_with_value(|_| ())?;
        let (class, _) = self.mode.class_and_part();
        self.root.find(&format!("iframe.{class}"))?.dyn_into().ok()
    }

    /// Posts one message to the frame, with the vault's exact origin as the target.
    pub fn post(self, message: &ToFrame) -> bool {
        let (Some(target), Some(origin)) = (self.frame().and_then(|f| f.content_window()), self.origin.try_get_value())
        else {
            return false;
        };
        target.post_message(&JsValue::from_str(&crate::checkout::wire::to_frame(message)), &origin).is_ok()
    }

    /// Tells the frame what the buyer is buying now, unless it was just told the same.
    pub fn show(self, cart: Option<Cart>) {
        if self.shown.try_with_value(|last| needs_show(last.as_ref(), &cart)) == Some(true)
            && self.post(&ToFrame::Show { v: V1, cart: cart.clone() })
        {
            self.shown.try_set_value(Some(cart));
        }
    }

    /// The frame (re)loaded and knows no cart: the next [`FrameLink::show`] goes out.
    pub fn reset(self) {
        self.shown.try_set_value(None);
    }

    fn send_theme(self) {
        if let Some(tokens) = self.frame().and_then(|frame| crate::shared::theme::frame_theme(frame.unchecked_ref())) {
            self.post(&ToFrame::Theme { v: V1, tokens });
        }
    }

    /// Calls `on_message` with every message from this frame while the calling component lives.
    fn listen(self, on_message: impl Fn(FromFrame) + 'static) {
        let handle = window_event_listener(leptos::ev::message, move |event: MessageEvent| {
            let window = self.frame().and_then(|f| f.content_window());
            let ours = window.is_some_and(|w| event.source().is_some_and(|s| JsValue::from(s) == JsValue::from(w)));
            let vault = self.origin.try_get_value().unwrap_or_default();
            if let Some(message) = accept(&event.origin(), &vault, ours, event.data().as_string()) {
                on_message(message);
            }
        });
        on_cleanup(move || handle.remove());
    }
}

/// How often a vault frame that has not said it is ready is looked at: one whose page loaded
/// (an error page loads too) before the look before is said to have failed and is loaded
/// again.
const READY_CHECK_MS: i32 = 5_000;
/// How many looks a frame whose page never loads (a request that hangs) gets before it is
/// loaded again all the same: 30 s.
const LOOKS_BEFORE_RELOAD: u8 = 6;

/// A vault frame: sized by its `resize` messages, themed like the sheet on load and when it
/// says it is ready; every other message goes to `on_message`. `title` is its accessible
/// name and `lang` the visitor's language tag (for the frame's own labels), both in the
/// visitor's language; `labelled_by` the id of the visible label naming it, if any.
///
/// A card frame that has not said it is ready a while after it loaded, or long after it was
/// asked for (the vault or the network is down), is said to have failed, under it, and is
/// loaded again, until it comes: without it there is no Pay, and nothing else would tell the
/// buyer why.
pub fn vault_frame(
    link: FrameLink,
    title: String,
    lang: String,
    labelled_by: Option<&'static str>,
    on_message: Callback<FromFrame>,
) -> impl IntoView {
    // The CSS height, as text: the sheet's other optional texts share its signal type.
    let height = RwSignal::new(None::<String>);
    let failed = RwSignal::new(None::<String>);
    let (ready, loaded) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(false)));
    let heard = ready.clone();
    link.listen(move |message| match message {
        FromFrame::Resize { height: h, .. } => height.set(Some(format!("{}px", h.min(MAX_FRAME_HEIGHT)))),
        FromFrame::Ready { .. } => {
            heard.set(true);
            failed.set(None);
            link.reset();
            link.send_theme();
            on_message.run(message)
        }
        other => on_message.run(other),
    });
    let locale = crate::shared::i18n::use_locale();
    let on_load = loaded.clone();
    // One task looks at the card frame until it is ready or gone (the sheet's signals with
    // it). Not the saved-info frame: it says it is ready only once the vault has answered
    // whether anything is saved, which a slow network may take longer than these looks to
    // do, and without it the buyer still pays with the card frame.
    let watched = link.mode == FrameMode::Card;
    leptos::task::spawn_local(async move {
        // Looks since the frame was asked for, and since its page loaded: a page that loaded
        // just before a look gets until the next.
        let (mut looks, mut since_load) = (0, 0);
        while watched && !ready.get() {
            crate::shared::util::sleep(READY_CHECK_MS).await;
            looks += 1;
            since_load += u8::from(loaded.get());
            if ready.get() || !(since_load == 2 || looks == LOOKS_BEFORE_RELOAD) {
                continue;
            }
            let Some(frame) = link.frame().filter(|_| !failed.is_disposed()) else { break };
            failed.set(Some(locale.t(crate::shared::i18n::Key::FrameUnavailable)));
            // The same address again: loaded anew, and looked at again once it has.
            frame.set_src(&frame.src());
            (looks, since_load) = (0, 0);
            loaded.set(false);
        }
    });
    let mode = link.mode;
    let (class, part) = mode.class_and_part();
    view! {
        <iframe
            class=class
            part=part
            name=mode.name()
            title=title
            aria-labelledby=labelled_by
            src=frame_url(&link.origin.get_value(), &lang)
            style:height=move || height.get()
            on:load=handler(move |_| {
                link.send_theme();
                on_load.set(true);
            })
        ></iframe>
        <p class="tb-error tb-frame-failed" role="alert">{crate::checkout::bind::bind(move || failed.get())}</p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_frames_valid_messages_count() {
        let vault = "http://127.0.0.1:8082/";
        let ready = || Some(r#"{"type":"ready","v":1,"saved":true}"#.to_owned());
        assert_eq!(
            accept("http://127.0.0.1:8082", vault, true, ready()),
            Some(FromFrame::Ready { v: V1, saved: true })
        );
        assert_eq!(accept("http://127.0.0.1:8082", vault, false, ready()), None, "another window");
        assert_eq!(accept("http://evil.test", vault, true, ready()), None, "another origin");
        assert_eq!(accept("http://127.0.0.1:8082", vault, true, None), None, "not a string");
        let old = r#"{"type":"token","v":1,"request_id":"r","card":{"token":"t"}}"#.to_owned();
        assert_eq!(accept("http://127.0.0.1:8082", vault, true, Some(old)), None, "the old protocol");
    }

    #[test]
    fn the_frames_share_an_address_with_a_clean_language_and_differ_by_name() {
        assert_eq!(frame_url("http://v.test/", "es"), "http://v.test/frame?lang=es");
        assert_eq!(frame_url("http://v.test", "es\"><x"), "http://v.test/frame?lang=esx");
        // The name frame-keys.js reads as saved-info mode; any other is the card frame.
        assert_eq!(FrameMode::Saved.name(), "tweetbuy-saved");
        assert_ne!(FrameMode::Card.name(), FrameMode::Saved.name());
    }

    #[test]
    fn the_same_cart_is_shown_once() {
        let cart = Cart {
            product_id: "p".into(),
            variant_id: "m".into(),
            quantity: 1,
            tweet_id: None,
            email: None,
            shipping: None,
            share_email: false,
            discount_code: None,
        };
        assert!(needs_show(None, &None), "nothing sent since ready: even null goes out");
        assert!(needs_show(None, &Some(cart.clone())));
        assert!(!needs_show(Some(&Some(cart.clone())), &Some(cart.clone())));
        assert!(needs_show(Some(&Some(cart.clone())), &Some(Cart { quantity: 2, ..cart.clone() })));
        assert!(needs_show(Some(&Some(cart)), &None));
        assert!(!needs_show(Some(&None), &None));
    }
}
