//! What the page tells the widget, and what the button module hands the checkout module.
//!
//! The two modules are separate wasm instances with separate memories, so a sheet request
//! crosses between them as a plain JS object. [`OpenRequest::to_js`] and
//! [`OpenRequest::from_js`] are its one definition, used on both sides.

use crate::prelude::*;
use crate::shared::api::ApiClient;
use crate::shared::i18n::Locale;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

/// On a button while the closing sheet hands focus back to it: that focus does not build a
/// new sheet.
pub(crate) const RETURNING_ATTR: &str = "data-tb-returning";

/// The dialog the button module shows at once on a click while the checkout module is
/// still loading; the real sheet takes its place.
pub(crate) const WAITING_CLASS: &str = "tb-waiting";

/// What every component of one widget instance needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetCtx {
    pub api: ApiClient,
    /// The card vault's origin, from the offer lookup: the only origin frames may talk to.
    pub vault_origin: String,
    pub locale: String,
    pub theme: String,
}

/// The sheet's [`WidgetCtx`], which the sheet provides to everything in it. Not Leptos's
/// `expect_context`: its panic message formats the type's name with `Debug`, which links
/// string escaping and Unicode tables into the checkout module for a message no buyer sees.
#[cfg(feature = "checkout")]
pub(crate) fn widget_ctx() -> WidgetCtx {
    leptos::prelude::use_context::<WidgetCtx>().expect("the sheet provides its WidgetCtx")
}

/// Everything the checkout module needs to show one offer's sheet.
#[derive(Clone, Debug)]
pub struct OpenRequest {
    /// The button's shadow host, right after the embed.
    pub host: Element,
    /// The embed, where the publisher's events are dispatched.
    pub embed: Element,
    /// The offer as the lookup sent it: the checkout module decodes it whole.
    pub offer_json: String,
    pub ctx: WidgetCtx,
}

/// The keys of a request's JS object. `show` opens the sheet; without it the sheet is
/// built hidden, ahead of a click.
const KEYS: [&str; 8] = ["host", "embed", "offerJson", "apiBase", "vaultOrigin", "locale", "theme", "show"];

impl OpenRequest {
    /// The request as the JS object the checkout module's `open_sheet` takes.
    pub fn to_js(&self, show: bool) -> JsValue {
        let object = js_sys::Object::new();
        let values: [JsValue; 8] = [
            self.host.clone().into(),
            self.embed.clone().into(),
            self.offer_json.as_str().into(),
            self.ctx.api.url("").into(),
            self.ctx.vault_origin.as_str().into(),
            self.ctx.locale.as_str().into(),
            self.ctx.theme.as_str().into(),
            show.into(),
        ];
        for (key, value) in KEYS.iter().zip(values) {
            let _ = js_sys::Reflect::set(&object, &(*key).into(), &value);
        }
        object.into()
    }

    /// Reads what [`OpenRequest::to_js`] wrote, with its `show` flag; `None` for anything
    /// else.
    pub fn from_js(value: &JsValue) -> Option<(OpenRequest, bool)> {
        let get = |key: &str| js_sys::Reflect::get(value, &key.into()).ok();
        let text = |key: &str| get(key)?.as_string();
        let element = |key: &str| get(key)?.dyn_into::<Element>().ok();
        let [host, embed, offer, api, vault, locale, theme, show] = KEYS;
        let ctx = WidgetCtx {
            api: ApiClient::new(text(api)?),
            vault_origin: text(vault)?,
            locale: text(locale)?,
            theme: text(theme)?,
        };
        let request = OpenRequest { host: element(host)?, embed: element(embed)?, offer_json: text(offer)?, ctx };
        Some((request, get(show)?.as_bool()?))
    }
}

/// The locale of one embed: its own `data-lang` first, then the script's and the page's
/// settings (merged into `configured`).
pub fn embed_locale(embed: &Element, configured: &str) -> Locale {
    Locale::pick([crate::shared::names::attr(embed, "data-lang").as_deref(), Some(configured)])
}
