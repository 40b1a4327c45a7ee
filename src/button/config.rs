//! The widget's settings, read from the one script tag a publisher pastes.

use crate::prelude::*;
use crate::shared::context::loader_script;
use wasm_bindgen::JsCast;

/// Settings from the script tag's `src` and `data-*` attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetConfig {
    /// Where the api lives: `data-api`, or else the script's own origin.
    pub api_base: String,
    /// `light`, `dark` or `auto` (`data-theme`).
    pub theme: String,
    /// `data-locale`, or else the page's `lang`, or else the browser's language.
    pub locale: String,
    /// `data-dnt="true"`: store nothing on the device, send no visitor identifier.
    pub dnt: bool,
    /// Fetch the checkout module ahead of a click once a button is in sight and the page
    /// is idle; `data-prefetch="false"` leaves it until a visitor points at a button.
    pub prefetch: bool,
}

/// `scheme://host[:port]` of an absolute URL, if it has one.
pub fn origin_of(url: &str) -> Option<String> {
    // The first `:` ends a scheme (which is letters only); a char search, since a substring
    // search is 2 KB of code in the button module.
    let (scheme, rest) = url.split_once(':')?;
    let rest = rest.strip_prefix("//")?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return None;
    }
    let mut origin = scheme.to_ascii_lowercase();
    origin.push_str("://");
    origin.push_str(&host.to_ascii_lowercase());
    Some(origin)
}

/// The api base URL: an explicit `data-api` wins (without its trailing slash); otherwise
/// the loader's own origin.
pub fn api_base(script_src: &str, data_api: Option<&str>) -> Option<String> {
    match data_api.map(str::trim).filter(|s| !s.is_empty()) {
        Some(explicit) => Some(explicit.trim_end_matches('/').to_owned()),
        None => origin_of(script_src),
    }
}

impl WidgetConfig {
    /// Reads the loader's script tag. Falls back to the page's own origin when the widget
    /// was started some other way (a test page or `trunk serve`).
    pub fn from_document() -> Option<WidgetConfig> {
        let window = web_sys::window()?;
        let document = window.document()?;
        let script = loader_script().and_then(|s| s.dyn_into::<web_sys::HtmlScriptElement>().ok());
        let attr = |name: &str| script.as_ref().and_then(|s| s.get_attribute(name));
        let api_base = match &script {
            Some(s) => api_base(&s.src(), attr("data-api").as_deref())?,
            None => window.location().origin().ok()?,
        };
        let page_lang = document.document_element().map(|e| e.get_attribute("lang").unwrap_or_default());
        let locale = attr("data-locale")
            .or(page_lang)
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| window.navigator().language().unwrap_or_else(|| "en-US".into()));
        Some(WidgetConfig {
            api_base,
            theme: attr("data-theme").unwrap_or_else(|| "auto".into()),
            locale,
            dnt: attr("data-dnt").is_some_and(|v| is_true(&v)),
            prefetch: attr("data-prefetch").is_none_or(|v| !is_false(&v)),
        })
    }
}

/// True when an embed's `data-dnt` asks not to be tracked (`data-dnt="true"`, as
/// publish.twitter.com writes by default).
pub fn embed_dnt(data_dnt: Option<&str>) -> bool {
    data_dnt.is_some_and(is_true)
}

fn is_true(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
}

fn is_false(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "false" | "0" | "no" | "off")
}

/// The key of the random visitor id in the page's localStorage.
pub const VISITOR_KEY: &str = "tweetbuy.visitor";

/// A random, revocable visitor id for stable rollout bucketing, kept in the page's
/// localStorage. Only called when neither the script nor an embed asked for do-not-track.
pub fn visitor_id() -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok()??;
    if let Some(id) = storage.get_item(VISITOR_KEY).ok().flatten().filter(|id| valid_visitor_id(id)) {
        return Some(id);
    }
    let id = crate::shared::util::random_id();
    storage.set_item(VISITOR_KEY, &id).ok()?;
    Some(id)
}

/// What the server accepts as a visitor id: 8 to 64 characters of `[A-Za-z0-9-]`.
pub fn valid_visitor_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    /// The loader decides the same (server/assets/lookup-rules.mjs): one table for both.
    #[test]
    fn dnt_values_visitor_ids_and_api_bases_as_the_shared_table_says() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../core/tests/lookup_vectors.json")).unwrap();
        for case in vectors["truthy"].as_array().unwrap() {
            let value = case["value"].as_str().unwrap();
            assert_eq!(super::is_true(value), case["ok"].as_bool().unwrap(), "{value:?}");
        }
        for case in vectors["visitor_ids"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap();
            assert_eq!(super::valid_visitor_id(id), case["ok"].as_bool().unwrap(), "{id:?}");
        }
        let bases = vectors["api_bases"].as_array().unwrap();
        assert!(bases.len() >= 10);
        for case in bases {
            let (src, data_api) = (case["src"].as_str().unwrap(), case["data_api"].as_str());
            assert_eq!(super::api_base(src, data_api).as_deref(), case["base"].as_str(), "{src:?} {data_api:?}");
        }
    }

    #[test]
    fn dnt_values_and_visitor_ids() {
        assert!(is_true("true") && is_true(" TRUE ") && is_true("1"));
        assert!(!is_true("false") && !is_true(""));
        assert!(is_false("false") && is_false(" OFF ") && is_false("0"));
        assert!(!is_false("true") && !is_false(""), "prefetching stays on unless turned off");
        assert!(valid_visitor_id("0f8c2a1e-8d4b-4c44-9a8e-3b1f6f0e2d11"));
        assert!(!valid_visitor_id("short"));
        assert!(!valid_visitor_id("has space in it"));
    }

    use super::*;

    #[test]
    fn api_base_prefers_data_api() {
        let src = "http://127.0.0.1:8081/tweetbuy/embed.js";
        assert_eq!(api_base(src, None).unwrap(), "http://127.0.0.1:8081");
        assert_eq!(api_base(src, Some("https://api.example.com/")).unwrap(), "https://api.example.com");
        assert_eq!(api_base(src, Some("  ")).unwrap(), "http://127.0.0.1:8081");
        assert_eq!(origin_of("HTTPS://CDN.Example.com:8443/x").unwrap(), "https://cdn.example.com:8443");
        assert_eq!(origin_of("/relative/path"), None);
        assert_eq!(origin_of("mailto:someone@example.com"), None);
        assert_eq!(origin_of("http:/one-slash"), None);
        assert_eq!(origin_of("a1:b://host"), None, "a scheme is letters only");
    }
}
