//! The widget's settings, from the one script tag a publisher pastes, as the loader found it.
//!
//! The loader (`server/assets/embed.js`) has already found its own script tag, the api's base
//! URL and the page's visitor id for the lookup it sends ahead, by the rules of
//! `server/assets/lookup-rules.mjs`; the module takes them from it rather than carry the same
//! rules a second time. What only the module reads (theme, locale, do-not-track, prefetching,
//! the button's style and label) it reads from the script tag itself.

use crate::prelude::*;
use crate::shared::api::ApiClient;
use wasm_bindgen::{JsCast, JsValue};

/// Settings from the script tag's `src` and `data-*` attributes; one per page, shared
/// (`Rc`) by everything that scans.
#[derive(Debug)]
pub struct WidgetConfig {
    /// Where the api lives: `data-api`, or else the script's own origin.
    pub api: ApiClient,
    /// The loader's script tag, whose `data-*` attributes are the page's defaults.
    pub script: Option<web_sys::Element>,
    /// `light`, `dark` or `auto` (`data-theme`).
    pub theme: String,
    /// `data-locale`, or else the page's `lang`, or else the browser's language: the first
    /// of them that is a usable tag, cleaned ([`crate::shared::i18n::Locale::pick`]).
    pub locale: String,
    /// Do-not-track: store nothing on the device, send no visitor identifier. Set by the
    /// script's `data-dnt="true"`, or by the first embed that asks ([`Self::asked_dnt`]), and
    /// kept for the rest of the page visit, whatever embeds come later.
    dnt: core::cell::Cell<bool>,
    /// Fetch the checkout module ahead of a click once a button is in sight and the page
    /// is idle; `data-prefetch="false"` leaves it until a visitor points at a button.
    pub prefetch: bool,
    /// The loader's maker of the page's visitor id.
    visitor: Option<js_sys::Function>,
}

impl WidgetConfig {
    /// The settings, from what the loader found of the page (`page`: `script`, its script
    /// tag or null; `api`, the api's base URL, or null when there is none; `visitor`, a
    /// function giving the page's visitor id). `None` without an api to ask.
    pub fn from_page(page: &JsValue) -> Option<Rc<WidgetConfig>> {
        let field = |key: &str| js_sys::Reflect::get(page, &key.into()).ok();
        let api = ApiClient::new(field("api")?.as_string()?);
        let script = field("script").and_then(|s| s.dyn_into::<web_sys::Element>().ok());
        let visitor = field("visitor").and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        let window = crate::shared::util::window();
        let document = window.document()?;
        let attr = |name: &str| script.as_ref().and_then(|s| s.get_attribute(name));
        let page_lang = document.document_element().and_then(|e| e.get_attribute("lang"));
        let browser = window.navigator().language();
        // Cleaned here, once: `Intl` throws on a malformed tag (`es_ES`).
        let locale =
            crate::shared::i18n::Locale::pick([attr("data-locale"), page_lang, browser].iter().map(Option::as_deref))
                .tag;
        Some(Rc::new(WidgetConfig {
            api,
            theme: attr("data-theme").unwrap_or_else(|| "auto".into()),
            locale,
            dnt: core::cell::Cell::new(attr("data-dnt").is_some_and(|v| is_true(&v))),
            prefetch: attr("data-prefetch").is_none_or(|v| !is_false(&v)),
            script,
            visitor,
        }))
    }

    /// Records that an embed of the page asked not to be tracked: no visitor id from now on.
    pub(crate) fn asked_dnt(&self) {
        self.dnt.set(true);
    }

    /// A random, revocable visitor id for stable rollout bucketing, kept in the page's
    /// localStorage (made and kept by the loader's `visitorId`). `None` once the script or
    /// any embed has asked for do-not-track, and when the page cannot keep one.
    pub fn visitor_id(&self) -> Option<String> {
        if self.dnt.get() {
            return None;
        }
        self.visitor.as_ref()?.call0(&JsValue::NULL).ok()?.as_string()
    }
}

/// `data-dnt` and the like: true, 1, yes or on, in any case (the loader's `isTrue`).
pub(crate) fn is_true(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
}

fn is_false(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "false" | "0" | "no" | "off")
}

#[cfg(test)]
mod tests {
    /// The loader decides the same (server/assets/lookup-rules.mjs): one table for both.
    #[test]
    fn dnt_values_as_the_shared_table_says() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../core/tests/lookup_vectors.json")).unwrap();
        let truthy = vectors["truthy"].as_array().unwrap();
        assert!(truthy.len() >= 5);
        for case in truthy {
            let value = case["value"].as_str().unwrap();
            assert_eq!(super::is_true(value), case["ok"].as_bool().unwrap(), "{value:?}");
        }
    }

    use super::*;

    #[test]
    fn dnt_and_prefetch_values() {
        assert!(is_true("true") && is_true(" TRUE ") && is_true("1"));
        assert!(!is_true("false") && !is_true(""));
        assert!(is_false("false") && is_false(" OFF ") && is_false("0"));
        assert!(!is_false("true") && !is_false(""), "prefetching stays on unless turned off");
    }
}
