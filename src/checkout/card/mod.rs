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

/// How long the vault may take to answer a message (a tokenization, a saved-info request).
pub const ANSWER_TIMEOUT_MS: i32 = 20_000;

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

/// Why the frame gave no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    NotReady,
    Timeout,
    /// The frame answered `failed`, with the vault's message.
    Failed(String),
}

/// The reply to `request_id`, if this message is one from our frame.
pub fn reply_to(from_our_frame: bool, data: Option<String>, request_id: &str) -> Option<FromFrame> {
    if !from_our_frame {
        return None;
    }
    let reply = FromFrame::decode(&data?)?;
    let id = match &reply {
        FromFrame::Token { request_id, .. }
        | FromFrame::Failed { request_id, .. }
        | FromFrame::Saved { request_id, .. }
        | FromFrame::Removed { request_id, .. }
        | FromFrame::Invalid { request_id, .. } => request_id,
        _ => return None,
    };
    (id == request_id).then_some(reply)
}

/// Posts one message to the frame (exact target origin) and waits for its reply, which
/// counts only from that origin and that iframe's window.
pub async fn ask(
    iframe: &HtmlIFrameElement,
    vault_origin: &str,
    message: impl FnOnce(String) -> ToFrame,
) -> Result<FromFrame, FrameError> {
    let target = iframe.content_window().ok_or(FrameError::NotReady)?;
    let origin = vault_origin.trim_end_matches('/').to_owned();
    let request_id = crate::shared::util::random_id();
    let (sender, receiver) = oneshot::channel();
    let sender = Rc::new(RefCell::new(Some(sender)));
    let listener = {
        let (origin, request_id, target) = (origin.clone(), request_id.clone(), target.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let same_source = event.source().is_some_and(|s| JsValue::from(s) == JsValue::from(target.clone()));
            let ours = event.origin() == origin && same_source;
            if let Some(reply) = reply_to(ours, event.data().as_string(), &request_id) {
                if let Some(sender) = sender.borrow_mut().take() {
                    let _ = sender.send(reply);
                }
            }
        })
    };
    let window = web_sys::window().ok_or(FrameError::NotReady)?;
    let _ = window.add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    let json = serde_json::to_string(&message(request_id)).unwrap_or_default();
    let outcome = match target.post_message(&JsValue::from_str(&json), &origin) {
        Err(_) => Err(FrameError::NotReady),
        Ok(()) => match select(receiver, Box::pin(crate::shared::util::sleep(ANSWER_TIMEOUT_MS))).await {
            Either::Left((Ok(FromFrame::Failed { message, .. }), _)) => Err(FrameError::Failed(message)),
            Either::Left((Ok(reply), _)) => Ok(reply),
            Either::Left((Err(_), _)) | Either::Right(_) => Err(FrameError::Timeout),
        },
    };
    let _ = window.remove_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    outcome
}

/// Asks the frame to tokenize what was typed, and waits for its answer.
pub async fn tokenize(iframe: &HtmlIFrameElement, vault_origin: &str) -> Result<CardToken, TokenizeError> {
    match ask(iframe, vault_origin, |request_id| ToFrame::Tokenize { v: V1, request_id }).await {
        Ok(FromFrame::Token { card, .. }) => Ok(card),
        Ok(FromFrame::Invalid { errors, .. }) => Err(TokenizeError::Invalid(errors)),
        Ok(_) => Err(TokenizeError::Failed(String::new())),
        Err(FrameError::Failed(message)) => Err(TokenizeError::Failed(message)),
        Err(FrameError::Timeout) => Err(TokenizeError::Timeout),
        Err(FrameError::NotReady) => Err(TokenizeError::NotReady),
    }
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
        let token = |data: &str, id: &str| match reply_to(true, Some(data.into()), id) {
            Some(FromFrame::Token { card, .. }) => Some(card.last4),
            _ => None,
        };
        assert_eq!(token(TOKEN, "r1").as_deref(), Some("4242"));
        assert!(reply_to(false, Some(TOKEN.into()), "r1").is_none(), "wrong origin or source");
        assert!(token(TOKEN, "r2").is_none(), "another request");
        assert!(reply_to(true, Some("{\"type\":\"token\"}".into()), "r1").is_none(), "malformed");
        assert!(reply_to(true, None, "r1").is_none(), "not a string");
        let invalid = r#"{"type":"invalid","v":1,"request_id":"r1","errors":[{"field":"number","code":"invalid_number","message":"m"}]}"#;
        assert!(
            matches!(reply_to(true, Some(invalid.into()), "r1"), Some(FromFrame::Invalid { errors, .. }) if errors.len() == 1)
        );
        let removed = r#"{"type":"removed","v":1,"request_id":"r1"}"#;
        assert!(matches!(reply_to(true, Some(removed.into()), "r1"), Some(FromFrame::Removed { .. })));
        assert!(reply_to(true, Some(r#"{"type":"ready","v":1}"#.into()), "r1").is_none(), "not a reply");
        let forged = r#"{"type":"saved","v":1,"request_id":"r1","saved":null,"credential":"cred_x"}"#;
        assert!(reply_to(true, Some(forged.into()), "r1").is_none());
        assert_eq!(frame_url("http://127.0.0.1:8082/", "es"), "http://127.0.0.1:8082/frame?lang=es");
        assert_eq!(frame_url("http://v.test", "es\"><x"), "http://v.test/frame?lang=esx");
        assert!(is_escape(true, Some(r#"{"type":"escape","v":1}"#.into())));
        assert!(!is_escape(false, Some(r#"{"type":"escape","v":1}"#.into())), "only from our frame");
        assert!(!is_escape(true, Some(r#"{"type":"escape","v":2}"#.into())));
    }
}
