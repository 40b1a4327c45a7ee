//! Attaches a Buy button, in its own shadow root, under every embed that has an offer.

use crate::api::{ApiClient, ClientError};
use crate::button::BuyButton;
use crate::config::WidgetConfig;
use crate::discover::{find_embeds, ATTACHED_ATTR};
use crate::offers::lookup;
use crate::styles;
use leptos::prelude::*;
use std::collections::HashMap;
use tweetbuy_core::{Offer, TweetId};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, ShadowRootInit, ShadowRootMode};

/// What every component of one widget instance needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetCtx {
    pub api: ApiClient,
    /// The card vault's origin, from the offer lookup: the only origin frames may talk to.
    pub vault_origin: String,
    pub locale: String,
    pub theme: String,
}

/// Finds every embed in the document, looks up their offers in one request, and attaches a
/// button to each embed that has one.
pub async fn scan_and_attach(config: &WidgetConfig) -> Result<usize, ClientError> {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) else {
        return Ok(0);
    };
    scan_subtree(config, &root).await
}

/// Scans one subtree: the same as [`scan_and_attach`], for embeds added later.
pub async fn scan_subtree(config: &WidgetConfig, root: &Element) -> Result<usize, ClientError> {
    let embeds = find_embeds(root);
    if embeds.is_empty() {
        return Ok(0);
    }
    let api = ApiClient::new(&config.api_base);
    let ids: Vec<TweetId> = embeds.iter().map(|e| e.tweet_id.clone()).collect();
    let found = lookup(&api, &ids).await?;
    let by_tweet: HashMap<&str, &Offer> = found.offers.iter().map(|o| (o.tweet_id.as_str(), o)).collect();
    let ctx = WidgetCtx {
        api,
        vault_origin: found.vault_origin.clone(),
        locale: config.locale.clone(),
        theme: config.theme.clone(),
    };
    let mut attached = 0;
    for embed in embeds {
        if let Some(offer) = by_tweet.get(embed.tweet_id.as_str()) {
            if attach(&embed.element, (*offer).clone(), ctx.clone()).is_some() {
                attached += 1;
            }
        }
    }
    Ok(attached)
}

/// Inserts a host element right after the embed, gives it a shadow root with the widget's
/// stylesheet, and mounts the button there for the life of the page.
pub fn attach(embed: &Element, offer: Offer, ctx: WidgetCtx) -> Option<Element> {
    let document = embed.owner_document()?;
    let host = document.create_element("div").ok()?;
    host.set_attribute("data-tweetbuy-host", offer.tweet_id.as_str()).ok()?;
    host.set_attribute("data-tweetbuy-product", &offer.product_id).ok()?;
    embed.after_with_node_1(&host).ok()?;
    embed.set_attribute(ATTACHED_ATTR, offer.tweet_id.as_str()).ok()?;
    let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)).ok()?;
    styles::adopt(&root);
    // Leptos re-renders conditional views relative to their parent *element*; a shadow root
    // is a fragment, so the view gets an element of its own inside it.
    let container = document.create_element("div").ok()?;
    container.set_attribute("class", "tb-root").ok()?;
    root.append_child(&container).ok()?;
    let handle = leptos::mount::mount_to(container.unchecked_into::<HtmlElement>(), move || {
        provide_context(ctx);
        view! { <BuyButton offer=offer /> }
    });
    handle.forget();
    Some(host)
}
