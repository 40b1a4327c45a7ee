//! Attaches a Buy button, in its own shadow root, under every embed that has an offer, and
//! takes it away again when the embed leaves the page.
//!
//! Space for the button is reserved as soon as an embed is found, before the offer lookup
//! answers, so a button that appears does not push the page down. Offers (and the absence
//! of one) are cached for the page visit, so rescans never ask twice.

use crate::api::{ApiClient, ClientError};
use crate::button::BuyButton;
use crate::config::WidgetConfig;
use crate::discover::{find_embeds, tweet_id_of, FoundEmbed, ATTACHED_ATTR, EMBED_SELECTOR};
use crate::events::{self, EmbedCtx, WidgetEvent};
use crate::offers::lookup;
use crate::styles;
use leptos::prelude::*;
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use tweetbuy_core::{Offer, TweetId};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, ShadowRootInit, ShadowRootMode};

/// The attribute on our host element, holding the tweet id.
pub const HOST_ATTR: &str = "data-tweetbuy-host";

/// What every component of one widget instance needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetCtx {
    pub api: ApiClient,
    /// The card vault's origin, from the offer lookup: the only origin frames may talk to.
    pub vault_origin: String,
    pub locale: String,
    pub theme: String,
}

/// One button on the page.
struct Mounted {
    id: u32,
    host: Element,
    embed: Element,
    tweet_id: String,
    /// Dropping it unmounts the view and disposes its reactive owner (timers, listeners).
    view: Option<Box<dyn Any>>,
}

#[derive(Default)]
struct Registry {
    offers: HashMap<String, Option<Offer>>,
    vault_origin: String,
    mounted: Vec<Mounted>,
    next_id: u32,
    warned: bool,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// How many buttons are mounted now (for tests and the benchmark).
pub fn mounted_count() -> usize {
    REGISTRY.with(|r| r.borrow().mounted.len())
}

/// Whether a host element still has a mounted view (for tests).
pub fn is_mounted(host: &Element) -> bool {
    REGISTRY.with(|r| r.borrow().mounted.iter().any(|m| &m.host == host && m.view.is_some()))
}

/// Scans the whole document.
pub async fn scan_and_attach(config: &WidgetConfig) -> Result<usize, ClientError> {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) else {
        return Ok(0);
    };
    scan_roots(config, &[root]).await
}

/// Finds unattached embeds under the given roots, looks up the unknown ones in one batched
/// request, and attaches a button to each embed that has an offer. Returns how many
/// buttons were attached.
pub async fn scan_roots(config: &WidgetConfig, roots: &[Element]) -> Result<usize, ClientError> {
    let mut found: Vec<FoundEmbed> = Vec::new();
    // Roots may nest (a subtree and its parent added in one frame): a JS Set keeps each
    // element once, by identity.
    let seen = js_sys::Set::new(&wasm_bindgen::JsValue::UNDEFINED);
    for root in roots.iter().filter(|r| r.is_connected()) {
        for embed in find_embeds(root) {
            if !seen.has(&embed.element) {
                seen.add(&embed.element);
                found.push(embed);
            }
        }
    }
    let known_without_offer =
        |id: &TweetId| REGISTRY.with(|r| matches!(r.borrow().offers.get(id.as_str()), Some(None)));
    let candidates: Vec<FoundEmbed> = found
        .into_iter()
        .filter(|e| !adopt_replacement(&e.element, &e.tweet_id) && !known_without_offer(&e.tweet_id))
        .collect();
    if candidates.is_empty() {
        return Ok(0);
    }
    let reserve_start = crate::marks::now();
    // Read every width first, then write: one layout for the whole batch.
    let widths: Vec<f64> = candidates.iter().map(|e| e.element.get_bounding_client_rect().width()).collect();
    let pending: Vec<(FoundEmbed, Element)> = candidates
        .into_iter()
        .zip(widths)
        .filter_map(|(embed, width)| reserve(&embed, width).map(|host| (embed, host)))
        .collect();
    let reserve_ms = crate::marks::now() - reserve_start;

    let unknown: Vec<TweetId> = pending
        .iter()
        .map(|(e, _)| e.tweet_id.clone())
        .filter(|id| REGISTRY.with(|r| !r.borrow().offers.contains_key(id.as_str())))
        .collect();
    if !unknown.is_empty() {
        let dnt = config.dnt || pending.iter().any(|(e, _)| crate::config::embed_dnt(&e.element));
        let visitor = if dnt { None } else { crate::config::visitor_id() };
        let api = ApiClient::new(&config.api_base);
        match lookup(&api, &unknown, visitor.as_deref()).await {
            Ok(answer) => REGISTRY.with(|r| {
                let mut r = r.borrow_mut();
                for id in &unknown {
                    r.offers.entry(id.to_string()).or_insert(None);
                }
                for offer in answer.offers {
                    r.offers.insert(offer.tweet_id.to_string(), Some(offer));
                }
                if !answer.vault_origin.is_empty() {
                    r.vault_origin = answer.vault_origin;
                }
            }),
            Err(err) => {
                for (embed, host) in &pending {
                    release(embed, host);
                }
                return Err(err);
            }
        }
    }

    let (vault_origin, offers) = REGISTRY.with(|r| {
        let r = r.borrow();
        let offers: Vec<Option<Offer>> =
            pending.iter().map(|(e, _)| r.offers.get(e.tweet_id.as_str()).cloned().flatten()).collect();
        (r.vault_origin.clone(), offers)
    });
    let ctx = WidgetCtx {
        api: ApiClient::new(&config.api_base),
        vault_origin,
        locale: config.locale.clone(),
        theme: config.theme.clone(),
    };
    let mount_start = crate::marks::now();
    let mut attached = 0;
    for ((embed, host), offer) in pending.into_iter().zip(offers) {
        match offer {
            Some(offer) => {
                mount_button(&embed.element, &host, offer, ctx.clone());
                attached += 1;
            }
            None => release(&embed, &host),
        }
    }
    if attached > 0 {
        crate::marks::first_button();
    }
    crate::marks::attach_batch(reserve_start, reserve_ms + (crate::marks::now() - mount_start), attached);
    Ok(attached)
}

/// Logs the first failure of the page visit as one console warning; later ones are quiet.
pub fn warn_once(message: &str) {
    let first = REGISTRY.with(|r| !std::mem::replace(&mut r.borrow_mut().warned, true));
    if first {
        crate::util::warn(message);
    }
}

/// Inserts the host right after the embed, with its shadow root and stylesheet, reserving
/// the button's space. The embed is marked at once so no concurrent scan takes it too.
fn reserve(embed: &FoundEmbed, embed_width: f64) -> Option<Element> {
    let document = embed.element.owner_document()?;
    let host = document.create_element("div").ok()?;
    host.set_attribute(HOST_ATTR, embed.tweet_id.as_str()).ok()?;
    // Inline `!important` through the CSSOM (allowed by a strict CSP) keeps hostile page
    // rules such as `* { all: unset !important }` from collapsing or hiding the host.
    let style = host.unchecked_ref::<HtmlElement>().style();
    let _ = style.set_property_with_priority("display", "block", "important");
    if embed_width > 0.0 {
        let _ = style.set_property_with_priority("max-width", &format!("{embed_width}px"), "important");
    }
    let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)).ok()?;
    styles::adopt(&root);
    // Leptos re-renders conditional views relative to their parent *element*; a shadow root
    // is a fragment, so the view gets an element of its own inside it.
    let container = document.create_element("div").ok()?;
    container.set_attribute("class", "tb-root").ok()?;
    root.append_child(&container).ok()?;
    embed.element.after_with_node_1(&host).ok()?;
    embed.element.set_attribute(ATTACHED_ATTR, embed.tweet_id.as_str()).ok()?;
    Some(host)
}

/// Leaves an embed untouched after all: no offer, or the api could not be reached.
fn release(embed: &FoundEmbed, host: &Element) {
    host.remove();
    let _ = embed.element.remove_attribute(ATTACHED_ATTR);
}

fn mount_button(embed: &Element, host: &Element, offer: Offer, ctx: WidgetCtx) {
    let Some(container) = host.shadow_root().and_then(|r| r.query_selector(".tb-root").ok().flatten()) else {
        return;
    };
    // Light, dark or auto, the button style and the label override, on the view's root.
    crate::theme::apply(embed, host, &ctx.theme);
    let id = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.next_id += 1;
        r.next_id
    });
    let embed_ctx =
        EmbedCtx { host_id: id, tweet_id: offer.tweet_id.to_string(), product_id: offer.product_id.clone() };
    events::register(id, embed);
    let ready = embed_ctx.clone();
    let tweet_id = offer.tweet_id.to_string();
    let handle = leptos::mount::mount_to(container.unchecked_into::<HtmlElement>(), move || {
        provide_context(ctx);
        provide_context(embed_ctx);
        view! { <BuyButton offer=offer /> }
    });
    REGISTRY.with(|r| {
        r.borrow_mut().mounted.push(Mounted {
            id,
            host: host.clone(),
            embed: embed.clone(),
            tweet_id,
            view: Some(Box::new(handle)),
        })
    });
    events::emit(&ready, WidgetEvent::Ready);
}

/// widgets.js may replace a blockquote that already has our button by its rendered form.
/// If the element right before the host (skipping other embed forms) is a new embed of the
/// same tweet, the button moves to it instead of a second one being attached.
fn adopt_replacement(element: &Element, tweet_id: &TweetId) -> bool {
    let mut next = element.next_element_sibling();
    while let Some(sibling) = next {
        if sibling.get_attribute(HOST_ATTR).as_deref() == Some(tweet_id.as_str()) {
            return adopt(&sibling, element);
        }
        if !sibling.matches(EMBED_SELECTOR).unwrap_or(false) {
            return false;
        }
        next = sibling.next_element_sibling();
    }
    false
}

fn adopt(host: &Element, new_embed: &Element) -> bool {
    let adopted = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let m = r.mounted.iter_mut().find(|m| &m.host == host)?;
        m.embed = new_embed.clone();
        Some(m.id)
    });
    match adopted {
        Some(id) => {
            events::register(id, new_embed);
            let _ = new_embed.set_attribute(ATTACHED_ATTR, &host.get_attribute(HOST_ATTR).unwrap_or_default());
            true
        }
        None => false,
    }
}

/// After nodes left the page: a button whose embed is gone is unmounted and its host
/// removed, unless widgets.js put a rendered embed of the same tweet in its place.
pub fn release_detached() {
    let gone: Vec<Mounted> = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let mut keep = Vec::new();
        let mut gone = Vec::new();
        for mut m in r.mounted.drain(..) {
            if m.host.is_connected() && !m.embed.is_connected() {
                if let Some(replacement) = replacement_before(&m.host, &m.tweet_id) {
                    let _ = replacement.set_attribute(ATTACHED_ATTR, &m.tweet_id);
                    m.embed = replacement;
                    events::register(m.id, &m.embed);
                }
            }
            if m.host.is_connected() && m.embed.is_connected() {
                keep.push(m);
            } else {
                gone.push(m);
            }
        }
        r.mounted = keep;
        gone
    });
    for mut m in gone {
        events::unregister(m.id);
        drop(m.view.take());
        m.host.remove();
    }
}

fn replacement_before(host: &Element, tweet_id: &str) -> Option<Element> {
    let previous = host.previous_element_sibling()?;
    let same = previous.matches(EMBED_SELECTOR).unwrap_or(false)
        && tweet_id_of(&previous).is_some_and(|id| id.as_str() == tweet_id);
    same.then_some(previous)
}

/// Attaches a button for an offer already in hand (tests, and pages that pass offers in).
pub fn attach(embed: &Element, offer: Offer, ctx: WidgetCtx) -> Option<Element> {
    let found = FoundEmbed { element: embed.clone(), tweet_id: offer.tweet_id.clone() };
    let host = reserve(&found, 0.0)?;
    mount_button(embed, &host, offer, ctx);
    Some(host)
}
