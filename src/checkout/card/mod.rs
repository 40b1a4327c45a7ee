//! The card frame: an iframe on the vault origin where the card is typed. The publisher's
//! page (and this widget) never sees the number; the frame hands back a token.
//!
//! Messages go to the frame with its exact origin as the target (never `*`), and a reply
//! counts only if it comes from that origin *and* from that iframe's window.

use futures::channel::oneshot;
use futures::future::{select, Either};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use tweetbuy_core::frame::{FromFrame, ToFrame, V1};
use tweetbuy_core::vault::CardToken;
use tweetbuy_core::FieldError;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlIFrameElement, MessageEvent};

/// How long the vault may take to tokenize before we give up.
pub const TOKENIZE_TIMEOUT_MS: i32 = 20_000;

/// The frame's page on the vault origin, with the visitor's language for its labels.
pub fn frame_url(vault_origin: &str, lang: &str) -> String {
    let lang: String = lang.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(35).collect();
    format!("{}/frame?lang={lang}", vault_origin.trim_end_matches('/'))
}

/// True when a message from our frame asks to close the sheet (Escape pressed inside it).
pub fn is_escape(from_our_frame: bool, data: Option<String>) -> bool {
    from_our_frame && matches!(data.as_deref().and_then(FromFrame::decode), Some(FromFrame::Escape { .. }))
}

/// Why no token came back.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TokenizeError {
    #[error("the card details need fixing")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Failed(String),
    #[error("the card form did not answer in time")]
    Timeout,
    #[error("the card form is not ready")]
    NotReady,
}

/// Decides whether a message event is a reply from our frame for `request_id`.
/// `from_our_frame` is the result of the origin and source checks.
pub fn reply_for(
    from_our_frame: bool,
    data: Option<String>,
    request_id: &str,
) -> Option<Result<CardToken, TokenizeError>> {
    if !from_our_frame {
        return None;
    }
    match FromFrame::decode(&data?)? {
        FromFrame::Token { request_id: id, card, .. } if id == request_id => Some(Ok(card)),
        FromFrame::Invalid { request_id: id, errors, .. } if id == request_id => {
            Some(Err(TokenizeError::Invalid(errors)))
        }
        FromFrame::Failed { request_id: id, message, .. } if id == request_id => {
            Some(Err(TokenizeError::Failed(message)))
        }
        _ => None,
    }
}

/// Asks the frame to tokenize what was typed, and waits for its answer.
pub async fn tokenize(iframe: &HtmlIFrameElement, vault_origin: &str) -> Result<CardToken, TokenizeError> {
    let target = iframe.content_window().ok_or(TokenizeError::NotReady)?;
    let request_id = crate::shared::util::random_id();
    let (sender, receiver) = oneshot::channel();
    let sender = Rc::new(RefCell::new(Some(sender)));
    let listener = {
        let (origin, request_id, target) = (vault_origin.to_owned(), request_id.clone(), target.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let same_source = event.source().is_some_and(|s| JsValue::from(s) == JsValue::from(target.clone()));
            let ours = event.origin() == origin && same_source;
            if let Some(reply) = reply_for(ours, event.data().as_string(), &request_id) {
                if let Some(sender) = sender.borrow_mut().take() {
                    let _ = sender.send(reply);
                }
            }
        })
    };
    let window = web_sys::window().ok_or(TokenizeError::NotReady)?;
    let _ = window.add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    let message = serde_json::to_string(&ToFrame::Tokenize { v: V1, request_id }).unwrap_or_default();
    let posted = target.post_message(&JsValue::from_str(&message), vault_origin);
    let outcome = match posted {
        Err(_) => Err(TokenizeError::NotReady),
        Ok(()) => match select(receiver, Box::pin(crate::shared::util::sleep(TOKENIZE_TIMEOUT_MS))).await {
            Either::Left((Ok(reply), _)) => reply,
            Either::Left((Err(_), _)) | Either::Right(_) => Err(TokenizeError::Timeout),
        },
    };
    let _ = window.remove_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    outcome
}

/// The iframe itself, labelled like every other field (`aria-labelledby` points at the
/// visible "Card" label; the title names the frame for assistive technology).
#[component]
pub fn CardFrame(
    /// The vault origin the frame is loaded from.
    vault_origin: String,
    /// The frame's accessible title, in the visitor's language.
    title: String,
    /// The visitor's language tag, for the frame's own labels.
    lang: String,
    /// Filled with the iframe element, for [`tokenize`].
    iframe: NodeRef<leptos::html::Iframe>,
    /// Called once the frame's page has loaded and listens.
    on_ready: Callback<()>,
    /// Escape was pressed inside the frame.
    on_escape: Callback<()>,
) -> impl IntoView {
    let src = frame_url(&vault_origin, &lang);
    let theme_origin = vault_origin.clone();
    // Checked like token replies: the vault's exact origin and this iframe's window.
    let handle = window_event_listener(leptos::ev::message, move |event: MessageEvent| {
        let ours = event.origin() == vault_origin.trim_end_matches('/')
            && iframe
                .get_untracked()
                .and_then(|f| f.content_window())
                .is_some_and(|w| event.source().is_some_and(|s| JsValue::from(s) == JsValue::from(w)));
        if is_escape(ours, event.data().as_string()) {
            on_escape.run(());
        }
    });
    on_cleanup(move || handle.remove());
    view! {
        <iframe
            node_ref=iframe
            class="tb-card-frame"
            part="card-frame"
            title=title
            aria-labelledby="tb-card-label"
            aria-describedby="tb-card-error"
            src=src
            on:load=move |_| {
                // The frame follows the sheet's theme (validated tokens only).
                if let Some(frame) = iframe.get_untracked() {
                    crate::shared::theme::send_to_frame(&frame, &theme_origin);
                }
                on_ready.run(())
            }
        ></iframe>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = r#"{"type":"token","v":1,"request_id":"r1","card":{"token":"tok_1","brand":"visa","last4":"4242","exp_month":12,"exp_year":2030}}"#;

    #[test]
    fn only_our_frames_reply_to_our_request_counts() {
        assert_eq!(reply_for(true, Some(TOKEN.into()), "r1").unwrap().unwrap().last4, "4242");
        assert!(reply_for(false, Some(TOKEN.into()), "r1").is_none(), "wrong origin or source");
        assert!(reply_for(true, Some(TOKEN.into()), "r2").is_none(), "another request");
        assert!(reply_for(true, Some("{\"type\":\"token\"}".into()), "r1").is_none(), "malformed");
        assert!(reply_for(true, None, "r1").is_none(), "not a string");
        let invalid = r#"{"type":"invalid","v":1,"request_id":"r1","errors":[{"field":"number","code":"invalid_number","message":"m"}]}"#;
        assert!(
            matches!(reply_for(true, Some(invalid.into()), "r1"), Some(Err(TokenizeError::Invalid(e))) if e.len() == 1)
        );
        assert_eq!(frame_url("http://127.0.0.1:8082/", "es"), "http://127.0.0.1:8082/frame?lang=es");
        assert_eq!(frame_url("http://v.test", "es\"><x"), "http://v.test/frame?lang=esx");
        assert!(is_escape(true, Some(r#"{"type":"escape","v":1}"#.into())));
        assert!(!is_escape(false, Some(r#"{"type":"escape","v":1}"#.into())), "only from our frame");
        assert!(!is_escape(true, Some(r#"{"type":"escape","v":2}"#.into())));
    }
}
