//! Attaches a Buy button, in its own shadow root, under every embed that has an offer, and
//! takes it away again when the embed leaves the page.
//!
//! An embed is marked as taken as soon as it is found, while the offer lookup travels; its
//! host, built whole once the offer is known, goes in right after it and takes no height:
//! [`crate::button::placement`] gives a button its row only where that moves nothing the
//! visitor sees. Offers (and the absence of one) are cached for the page visit, so rescans
//! never ask twice. The DOM work of a batch is the kit's ([`crate::button::kit`]).
//!
//! This is the button module's side; the sheets are mounted by the checkout module
//! ([`crate::checkout::host`]) into the same shadow root when the button is clicked.

use crate::button::buy_button;
use crate::button::config::WidgetConfig;
use crate::button::discover::{find_embeds, tweet_id_of, FoundEmbed, ATTACHED_ATTR, EMBED_SELECTOR};
use crate::button::loader;
use crate::button::offers::{ask, read_answers, FoundOffer};
use crate::prelude::*;
use crate::shared::api::ClientError;
use crate::shared::context::{OpenRequest, WidgetCtx, RETURNING_ATTR};
use crate::shared::events::{self, EmbedCtx, WidgetEvent};
use crate::shared::names;
use crate::shared::styles;
use crate::shared::theme::{AccentKinds, Defaults};
use core::cell::RefCell;
use tweetbuy_core::TweetId;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

/// The attribute on our host element, holding the tweet id.
pub(crate) const HOST_ATTR: &str = "data-tweetbuy-host";

/// One button on the page. Plain DOM: removing the host releases everything, and the one
/// shared listener function holds nothing per button.
struct Mounted {
    id: u32,
    host: Element,
    embed: Element,
    tweet_id: String,
    offer: Rc<FoundOffer>,
    ctx: Rc<WidgetCtx>,
    /// The embed's `data-lang` as found: the rendered tweet widgets.js puts in its place
    /// has none, and the sheet speaks the button's language.
    lang: Option<String>,
}

struct Registry {
    /// Every tweet looked up so far and its offer (`None`: it has none), sorted by tweet id.
    offers: Vec<(String, Option<Rc<FoundOffer>>)>,
    vault_origin: String,
    mounted: Vec<Mounted>,
    next_id: u32,
    warned: bool,
}

impl Registry {
    /// Empty, made at compile time (the page's registry is a constant global).
    const fn new() -> Self {
        Registry { offers: Vec::new(), vault_origin: String::new(), mounted: Vec::new(), next_id: 0, warned: false }
    }

    /// What the lookup said of a tweet: `None` if it was never asked about.
    fn offer(&self, tweet_id: &str) -> Option<&Option<Rc<FoundOffer>>> {
        let at = self.offers.binary_search_by(|(id, _)| id.as_str().cmp(tweet_id)).ok()?;
        Some(&self.offers[at].1)
    }

    /// Records what the lookup said of a tweet; `replace` false keeps an earlier answer.
    fn set_offer(&mut self, tweet_id: &str, offer: Option<Rc<FoundOffer>>, replace: bool) {
        match self.offers.binary_search_by(|(id, _)| id.as_str().cmp(tweet_id)) {
            Ok(at) if replace => self.offers[at].1 = offer,
            Ok(_) => {}
            Err(at) => self.offers.insert(at, (tweet_id.to_owned(), offer)),
        }
    }
}

crate::shared::local::page_local! {
    /// Whether the kit listens for every button of the page (set up with the first batch):
    /// a click opens, anything else (pointing at the button, pressing on it, focusing it)
    /// builds its sheet ahead of the click.
    static LISTENING: bool = {
        let listener = crate::shared::util::callback(|event, button| {
            let button: Element = button.unchecked_into();
            match event.unchecked_into::<web_sys::Event>().type_() == "click" {
                true => open_from(&button),
                false if !button.has_attribute(RETURNING_ATTR) => prepare_from(&button),
                false => {}
            }
        });
        let types = "click pointerover pointerdown focusin";
        crate::button::kit::with(|kit| kit.listen(HOST_ATTR, buy_button::BUTTON_SELECTOR, types, &listener).is_ok())
            == Some(true)
    };
}

crate::shared::local::page_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Registry::new()) };
}

/// Every mounted button's embed and host, in two arrays in step, to line them up again.
pub(crate) fn mounted_pairs() -> crate::button::placement::Pairs {
    let (embeds, hosts) = (js_sys::Array::new(), js_sys::Array::new());
    REGISTRY.with(|r| {
        for m in &r.borrow().mounted {
            embeds.push(&m.embed);
            hosts.push(&m.host);
        }
    });
    (embeds, hosts)
}

/// Whether a host element still has a mounted button (for tests).
pub fn is_mounted(host: &Element) -> bool {
    REGISTRY.with(|r| r.borrow().mounted.iter().any(|m| &m.host == host))
}

/// Finds unattached embeds under the given roots, looks up the unknown ones in one batched
/// request, and attaches a button to each embed that has an offer: the kit's promise of how
/// many buttons were attached (0, and one console warning for the page visit, if the
/// lookup failed); `None` when there was nothing to do, or no kit to do it.
pub(crate) fn scan_roots(config: &Rc<WidgetConfig>, roots: &[Element]) -> Option<js_sys::Promise> {
    let (candidates, unknown) = sort_out(embeds_under(roots));
    if candidates.is_empty() {
        return None;
    }
    if candidates.iter().any(|e| e.attrs.dnt) {
        config.asked_dnt();
    }
    let visitor = if unknown.is_empty() { None } else { config.visitor_id() };
    // The lookup goes out first, and the embeds are marked while it travels.
    let asked = match unknown.is_empty() {
        true => JsValue::NULL,
        false => ask(&config.api, &unknown, visitor.as_deref())?.into(),
    };
    let batch = Batch::new(&config.theme, config.script.as_ref())?;
    let reserve_start = crate::button::marks::now();
    let reserved = reserve(candidates)?;
    let reserve_ms = crate::button::marks::now() - reserve_start;
    // Still waiting for the lookup: the first price's formatter costs most now.
    crate::shared::format::warm(&config.locale);
    let config = config.clone();
    // The buttons are built in a task of their own (`pausing`): on a slow phone, finding,
    // reserving and reading the answer take 60-130 ms of the page's main thread, and so
    // does building.
    crate::button::kit::then(&asked, true, move |settled, answers| {
        let answer = match (settled, answers.is_null()) {
            (true, true) => None,
            (true, false) => Some(read_answers(&answers)),
            // The kit's `ask` never rejects; should it, the lookup failed.
            (false, _) => Some(Err(ClientError::Network("the lookup was not answered".into()))),
        };
        match answer {
            Some(Err(error)) => {
                if let Some(reserved) = still_reserved(reserved) {
                    release(&reserved.embeds_js);
                }
                warn_lookup_failed(&error);
                return JsValue::from(0);
            }
            Some(Ok(answer)) => remember(answer, &unknown),
            None => {}
        }
        let scan = Scan { batch, reserved, reserve_start, reserve_ms };
        JsValue::from(finish_scan(&config, scan) as u32)
    })
}

/// What a scan has done by the time its lookup answers.
struct Scan {
    batch: Batch,
    reserved: Reserved,
    reserve_start: f64,
    reserve_ms: f64,
}

/// Builds the buttons of a scan whose offers are known: returns how many were attached.
fn finish_scan(config: &WidgetConfig, scan: Scan) -> usize {
    let Some(reserved) = still_reserved(scan.reserved) else { return 0 };
    let (vault_origin, offers) = offers_of(&reserved.embeds);
    let ctx = Rc::new(WidgetCtx {
        api: config.api.clone(),
        vault_origin,
        locale: config.locale.clone(),
        theme: config.theme.clone(),
    });
    let mount_start = crate::button::marks::now();
    let attached = mount_reserved(&scan.batch, reserved, offers, &ctx, config.prefetch);
    if attached > 0 {
        crate::button::marks::first_button();
    }
    let end = crate::button::marks::now();
    let phases = crate::button::marks::Phases { reserve_ms: scan.reserve_ms, mount_ms: end - mount_start };
    crate::button::marks::attach_batch(scan.reserve_start, scan.reserve_ms + (end - mount_start), attached, &phases);
    attached
}

/// The found embeds a scan goes on with (neither adopted by an existing button nor known to
/// have no offer), and the tweets among them never looked up.
///
/// This and the scan's other loops over its embeds are functions of their own
/// (`#[inline(never)]`, which index.html has wasm-opt keep), so no function of the scan
/// grows large. V8 compiles a wasm function that runs hot a second time, with its optimizing
/// compiler on a background thread, and a loop over a thousand embeds makes the function
/// holding it hot; that compile grows with the function's size, and runs while the page
/// mounts its buttons, on the same two cores of a small machine. Measured on a page of a
/// thousand embeds: a function holding these loops (21 KB of wasm) takes 49 ms to compile,
/// the largest hot function without them (the reader of the kit's `find`, measured when it
/// still parsed the embeds' links) about 20 ms (`tests/e2e/size.test.mjs` holds every
/// function of the module under 12 KB).
#[inline(never)]
fn sort_out(found: Vec<FoundEmbed>) -> (Vec<FoundEmbed>, Vec<TweetId>) {
    let known_without_offer = |id: &TweetId| REGISTRY.with(|r| matches!(r.borrow().offer(id.as_str()), Some(None)));
    let candidates: Vec<FoundEmbed> = found
        .into_iter()
        .filter(|e| !adopt_replacement(&e.element, &e.tweet_id) && !known_without_offer(&e.tweet_id))
        .collect();
    let unknown: Vec<TweetId> = candidates
        .iter()
        .map(|e| e.tweet_id.clone())
        .filter(|id| REGISTRY.with(|r| r.borrow().offer(id.as_str()).is_none()))
        .collect();
    (candidates, unknown)
}

/// Records what the lookup of the `unknown` tweets answered: each offer, and that the rest
/// have none ([`sort_out`] says why this is a function of its own).
#[inline(never)]
fn remember(answer: crate::button::offers::Lookup, unknown: &[TweetId]) {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        for offer in answer.offers {
            let tweet_id = offer.head.tweet_id.clone();
            r.set_offer(tweet_id.as_str(), Some(Rc::new(offer)), true);
        }
        for id in unknown {
            r.set_offer(id.as_str(), None, false);
        }
        if !answer.vault_origin.is_empty() {
            r.vault_origin = answer.vault_origin;
        }
    });
}

/// The vault's origin, and each embed's offer (`None`: it has none).
#[inline(never)]
fn offers_of(embeds: &[FoundEmbed]) -> (String, Vec<Option<Rc<FoundOffer>>>) {
    REGISTRY.with(|r| {
        let r = r.borrow();
        let offers = embeds.iter().map(|e| r.offer(e.tweet_id.as_str()).cloned().flatten()).collect();
        (r.vault_origin.clone(), offers)
    })
}

/// Every embed without a button at or under the roots, each once: roots may nest (a subtree
/// and its parent added in one frame), and a JS Set keeps each element once, by identity.
#[inline(never)]
fn embeds_under(roots: &[Element]) -> Vec<FoundEmbed> {
    let roots: Vec<&Element> = roots.iter().filter(|r| r.is_connected()).collect();
    if let [only] = roots[..] {
        return find_embeds(only);
    }
    let mut found = Vec::new();
    let seen = js_sys::Set::new(&wasm_bindgen::JsValue::UNDEFINED);
    for root in roots {
        for embed in find_embeds(root) {
            if !seen.has(&embed.element) {
                seen.add(&embed.element);
                found.push(embed);
            }
        }
    }
    found
}

/// The lookup failed: one console warning for the page visit ([`warn_once`]).
pub(crate) fn warn_lookup_failed(error: &ClientError) {
    let mut message = String::from("tweetbuy: offers could not be loaded (");
    message.push_str(error.summary());
    message.push_str("); no buy buttons shown");
    warn_once(&message);
}

/// Logs the first failure of the page visit as one console warning; later ones are quiet.
pub(crate) fn warn_once(message: &str) {
    let first = REGISTRY.with(|r| !core::mem::replace(&mut r.borrow_mut().warned, true));
    if first {
        crate::shared::util::warn(message);
    }
}

/// Embeds marked as taken while their offers are looked up: in Rust, and as the JS array
/// the kit takes.
struct Reserved {
    embeds: Vec<FoundEmbed>,
    embeds_js: js_sys::Array,
}

/// Marks the embeds at once, so no concurrent scan takes them too; their buttons are built
/// once the offers are known ([`mount_reserved`]). `None` if the module has no kit, or the
/// kit failed (nothing is kept then).
#[inline(never)]
fn reserve(embeds: Vec<FoundEmbed>) -> Option<Reserved> {
    let elements: Vec<Element> = embeds.iter().map(|e| e.element.clone()).collect();
    let embeds_js = crate::button::kit::array(&elements);
    let mut ids = String::new();
    for embed in &embeds {
        if !ids.is_empty() {
            ids.push(' ');
        }
        ids.push_str(embed.tweet_id.as_str());
    }
    crate::button::kit::with(|kit| kit.mark(&embeds_js, &ids.into(), &names::js(ATTACHED_ATTR)).ok())??;
    Some(Reserved { embeds, embeds_js })
}

/// The embeds of `reserved` still this scan's once its lookup has answered or failed. The page
/// may have given one another tweet meanwhile (the kit's `changes` unmarked it), and a later
/// scan may have taken it for that tweet, or for its first tweet again: either way the offer
/// this scan looked up is no longer this scan's to show, nor its mark to take off.
#[inline(never)]
fn still_reserved(mut reserved: Reserved) -> Option<Reserved> {
    let flags = crate::button::kit::with(|kit| kit.withdrawn(&reserved.embeds_js).ok()).flatten().unwrap_or_default();
    if flags.is_empty() {
        return Some(reserved);
    }
    let mut flags = flags.bytes();
    reserved.embeds.retain(|_| flags.next() != Some(b'1'));
    // Marked again as they are: the kit's array of them is made anew.
    reserve(reserved.embeds)
}

/// Marks an embed that takes over a button (widgets.js rendered its blockquote) through the
/// kit, as every mark is: the kit takes a marked element it did not mark for a copy the page
/// made (`copies` in kit.js).
fn mark_one(embed: &Element, tweet_id: &str) {
    let embeds = js_sys::Array::of1(embed);
    crate::button::kit::with(|kit| kit.mark(&embeds, &JsValue::from_str(tweet_id), &names::js(ATTACHED_ATTR)));
}

/// Leaves these embeds untouched after all: no offer, or the api could not be reached.
fn release(embeds: &js_sys::Array) {
    crate::button::kit::with(|kit| kit.mark(embeds, &wasm_bindgen::JsValue::NULL, &names::js(ATTACHED_ATTR)));
}

/// Builds the buttons of the reserved embeds that have an offer, registers them and queues
/// them to be lined up (and, with `prefetch`, the checkout module to be fetched once one is
/// in sight); the others are released. Returns how many were attached.
#[inline(never)]
fn mount_reserved(
    batch: &Batch,
    reserved: Reserved,
    offers: Vec<Option<Rc<FoundOffer>>>,
    ctx: &Rc<WidgetCtx>,
    prefetch: bool,
) -> usize {
    let mut items = Vec::with_capacity(offers.len());
    // Most batches are whole: the kit's array serves as it is.
    let embeds_js = match offers.iter().all(Option::is_some) {
        true => reserved.embeds_js,
        false => {
            let (with, without) = (js_sys::Array::new(), js_sys::Array::new());
            for (embed, offer) in reserved.embeds.iter().zip(&offers) {
                match offer {
                    Some(_) => with.push(&embed.element),
                    None => without.push(&embed.element),
                };
            }
            release(&without);
            with
        }
    };
    for (embed, offer) in reserved.embeds.into_iter().zip(offers) {
        if let Some(offer) = offer {
            items.push(Item { embed: embed.element, attrs: embed.attrs, offer });
        }
    }
    if items.is_empty() {
        return 0;
    }
    let Some((hosts_js, buttons, kinds)) = build_views(batch, &items, &embeds_js, &ctx.locale) else {
        // The kit builds every host before it puts any in the page: nothing half-built stays.
        release(&embeds_js);
        warn_once("tweetbuy: buy buttons could not be built");
        return 0;
    };
    for (item, host) in items.iter().zip(crate::button::kit::elements(&hosts_js)) {
        register(item, host, ctx.clone());
    }
    let new = crate::button::placement::NewButtons { buttons, kinds, prefetch };
    crate::button::placement::watch_sizes(&embeds_js);
    crate::button::placement::wait_for_layout((embeds_js, hosts_js), Some(new));
    items.len()
}

/// One embed with an offer.
struct Item {
    embed: Element,
    attrs: crate::button::discover::EmbedAttrs,
    offer: Rc<FoundOffer>,
}

/// Has the kit build every item's button under its embed and announce it
/// (`tweetbuy:ready`): returns the hosts, the buttons, and the buttons' kinds, whose accent
/// colours are checked once the batch is laid out ([`AccentKinds`]).
#[inline(never)]
fn build_views(
    batch: &Batch,
    items: &[Item],
    embeds: &js_sys::Array,
    locale: &str,
) -> Option<(js_sys::Array, js_sys::Array, AccentKinds)> {
    let mut rows = crate::button::kit::Rows::default();
    let mut kinds = AccentKinds::default();
    for item in items {
        let attrs = &item.attrs;
        let look = crate::shared::theme::look(
            attrs.theme.as_deref(),
            attrs.style.as_deref(),
            attrs.label.as_deref(),
            &batch.defaults,
        );
        let locale = crate::shared::i18n::Locale::pick([attrs.lang.as_deref(), Some(locale)]);
        let proto = buy_button::prototype_index(&batch.document, &look, &locale.tag)?;
        let head = &item.offer.head;
        let text = buy_button::text(&look, head, &locale);
        rows.push(&[
            &crate::shared::util::decimal(proto),
            look.theme.as_str(),
            &text,
            head.tweet_id.as_str(),
            &head.product_id,
        ]);
        kinds.push(&look);
    }
    let made = build_rows(&rows, embeds)?;
    Some((made.get(0).unchecked_into(), made.get(1).unchecked_into(), kinds))
}

/// One call of the kit's `mount` for these rows of [`build_views`]: `[hosts, buttons]`.
fn build_rows(rows: &crate::button::kit::Rows, embeds: &js_sys::Array) -> Option<js_sys::Array> {
    // The names the kit's `mount` writes, space-separated: the host's attribute and theme
    // attribute, the `tweetbuy:ready` event it dispatches and that event's detail keys
    // ([`events::payload`]).
    let (ready, detail) = events::payload(&WidgetEvent::Ready, &EmbedCtx::default());
    let mut names = String::from(HOST_ATTR);
    for name in [THEME_ATTR, ready].into_iter().chain(detail.iter().map(|(key, _)| *key)) {
        names.push(' ');
        names.push_str(name);
    }
    let protos = buy_button::prototypes();
    let sheets = styles::button_sheets();
    if !LISTENING.with(|listening| *listening) {
        return None;
    }
    crate::button::kit::with(|kit| kit.mount(embeds, rows.as_str(), &protos, &names, &sheets).ok()).flatten()
}

/// The attribute on a host that names its view's theme, for a publisher's CSS.
const THEME_ATTR: &str = "data-tweetbuy-theme";

/// Registers a built button, so a click finds its offer and events their embed ([`emit`]).
fn register(item: &Item, host: Element, ctx: Rc<WidgetCtx>) {
    let id = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.next_id += 1;
        r.next_id
    });
    let tweet_id = item.offer.head.tweet_id.as_str().to_owned();
    let lang = item.attrs.lang.clone();
    let mounted = Mounted { id, host, embed: item.embed.clone(), tweet_id, offer: item.offer.clone(), ctx, lang };
    REGISTRY.with(|r| r.borrow_mut().mounted.push(mounted));
}

/// What the buttons of one scan share: the page's document and the script's theme defaults.
struct Batch {
    document: web_sys::Document,
    defaults: Defaults,
}

impl Batch {
    /// `theme` is the script's `data-theme`; `script` the loader's script tag, if known.
    fn new(theme: &str, script: Option<&Element>) -> Option<Batch> {
        let document = crate::shared::util::window().document()?;
        let attr = |name: &str| script.and_then(|s| s.get_attribute(name));
        Some(Batch { document, defaults: Defaults::read(theme, attr("data-button-style"), attr("data-label")) })
    }
}

fn embed_ctx(m: &Mounted) -> EmbedCtx {
    EmbedCtx { host_id: m.id, tweet_id: m.tweet_id.clone(), product_id: m.offer.head.product_id.clone() }
}

/// Tells the publisher about a button: the event goes to its embed as it is now (widgets.js
/// may have replaced the one clicked meanwhile).
fn emit(embed: &EmbedCtx, event: WidgetEvent) {
    let target = REGISTRY.with(|r| r.borrow().mounted.iter().find(|m| m.id == embed.host_id).map(|m| m.embed.clone()));
    if let Some(target) = target {
        events::emit_on(&target, embed, event);
    }
}

/// A click on a Buy button: tell the publisher, and open the sheet (loading the checkout
/// module first if this is the first click). If it cannot load, the visitor is told so
/// under the button, and another click tries again.
pub(crate) fn open_from(button: &Element) {
    let Some((embed, request, offer)) = request_for(button) else { return };
    // The designer may have changed the tokens since (the playground does).
    crate::shared::theme::fix_accent_text(button);
    let _ = button.set_attribute("aria-expanded", "true");
    crate::button::buy_button::show_problem(button, None);
    emit(&embed, WidgetEvent::Open);
    let button = button.clone();
    let locale = crate::shared::context::embed_locale(&request.embed, &request.ctx.locale);
    let waiting = match loader::loaded() {
        true => None,
        false => {
            let closed = embed.clone();
            buy_button::show_waiting(&button, &offer, &locale, move || emit(&closed, WidgetEvent::Close))
        }
    };
    loader::when_loaded(move |loaded| {
        // Escape on the waiting dialog: the visitor changed their mind.
        if loaded.is_ok() && waiting.as_ref().is_some_and(|w| !w.open()) {
            return;
        }
        match loaded.and_then(|exports| loader::enter(&exports, request, true)) {
            Ok(()) => {
                if let Some(waiting) = waiting {
                    // The sheet shows itself in the next frame; the stand-in goes then.
                    crate::shared::util::next_frame(move || buy_button::replace_waiting(&waiting));
                }
            }
            Err(error) => checkout_failed(&button, &embed, &locale, waiting.as_ref(), &error),
        }
    });
}

/// The checkout module could not load: the visitor is told so under the button, the
/// publisher gets a `tweetbuy:error`, and the next click tries again.
fn checkout_failed(
    button: &Element,
    embed: &EmbedCtx,
    locale: &crate::shared::i18n::Locale,
    waiting: Option<&web_sys::HtmlDialogElement>,
    error: &str,
) {
    let mut warning = String::from("tweetbuy: checkout could not load (");
    warning.push_str(error);
    warning.push(')');
    crate::shared::util::warn(&warning);
    if let Some(waiting) = waiting {
        buy_button::close_waiting(waiting);
    }
    let _ = button.set_attribute("aria-expanded", "false");
    let message = locale.t(crate::shared::i18n::Key::CheckoutUnavailable);
    buy_button::show_problem(button, Some(&message));
    emit(embed, WidgetEvent::Error { code: "checkout_unavailable".into(), message: message.clone() });
}

/// A visitor points at or focuses a button: its sheet is built ahead of the click.
pub(crate) fn prepare_from(button: &Element) {
    if let Some((_, request, _)) = request_for(button) {
        loader::prepare(request);
    }
}

/// What the checkout module needs to show the sheet of the button's offer, and the offer.
fn request_for(button: &Element) -> Option<(EmbedCtx, OpenRequest, Rc<FoundOffer>)> {
    let host = button.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok()?.host();
    REGISTRY.with(|r| {
        let r = r.borrow();
        let m = r.mounted.iter().find(|m| m.host == host)?;
        let mut ctx = (*m.ctx).clone();
        ctx.locale = crate::shared::i18n::Locale::pick([m.lang.as_deref(), Some(&ctx.locale)]).tag;
        let request = OpenRequest { host, embed: m.embed.clone(), offer_json: m.offer.json.clone(), ctx };
        Some((embed_ctx(m), request, m.offer.clone()))
    })
}

/// widgets.js may replace a blockquote that already has our button by its rendered form.
/// If the element right before the host (skipping embeds that have a button, such as the
/// blockquote being replaced) is a new embed of the same tweet, the button moves to it
/// instead of a second one being attached.
///
/// Only attached embeds are skipped, never any embed form: on a page of a thousand new
/// sibling embeds, skipping every embed made each one walk all that follow it (half a
/// million DOM calls, most of a second, before the first button).
fn adopt_replacement(element: &Element, tweet_id: &TweetId) -> bool {
    // Nothing to adopt before the first button (the first scan of a page).
    if REGISTRY.with(|r| r.borrow().mounted.is_empty()) {
        return false;
    }
    let mut next = element.next_element_sibling();
    while let Some(sibling) = next {
        if sibling.get_attribute(HOST_ATTR).as_deref() == Some(tweet_id.as_str()) {
            return adopt(&sibling, element);
        }
        if !sibling.has_attribute(ATTACHED_ATTR) {
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
        Some(core::mem::replace(&mut m.embed, new_embed.clone()))
    });
    let Some(old) = adopted else {
        return false;
    };
    crate::button::placement::rewatch_size(&old, new_embed);
    mark_one(new_embed, &host.get_attribute(HOST_ATTR).unwrap_or_default());
    // The rendered embed may not have the blockquote's box.
    crate::button::placement::align_before_paint(new_embed, host);
    true
}

/// Whether `host` still comes after `embed`, as a later sibling with no tweet (marked or
/// not, with an offer or not) or button between them: an element the page put between the
/// two (a caption, an ad) stays where it is, as moving our host above it would move what the
/// visitor sees; a tweet put between them takes the host back to its own.
fn follows(host: &Element, embed: &Element) -> bool {
    let mut next = embed.next_element_sibling();
    while let Some(sibling) = next {
        if &sibling == host {
            return true;
        }
        if sibling.has_attribute(HOST_ATTR) || tweet_id_of(&sibling, EMBED_SELECTOR).is_some() {
            return false;
        }
        next = sibling.next_element_sibling();
    }
    false
}

/// After nodes left the page: a button whose embed is gone is unmounted and its host
/// removed (once the visitor has closed a sheet open in it), unless widgets.js put a
/// rendered embed of the same tweet in its place; a
/// button whose embed was moved (a move is a removal, then an addition) goes after it. So
/// is the button of each `stale` embed, which the page gave another tweet.
pub fn release_detached(stale: &[Element]) {
    let gone: Vec<Mounted> = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let mut keep = Vec::new();
        let mut gone = Vec::new();
        for mut m in r.mounted.drain(..) {
            if m.host.is_connected() && !m.embed.is_connected() {
                if let Some(replacement) = replacement_before(&m.host, &m.tweet_id) {
                    mark_one(&replacement, &m.tweet_id);
                    crate::button::placement::rewatch_size(&m.embed, &replacement);
                    m.embed = replacement;
                    crate::button::placement::align_before_paint(&m.embed, &m.host);
                }
            }
            if m.host.is_connected() && m.embed.is_connected() && !stale.contains(&m.embed) {
                // The page moved the embed (a list reordered): its button goes with it.
                if !follows(&m.host, &m.embed) {
                    crate::button::kit::with(|kit| kit.follow(&m.embed, &m.host));
                    crate::button::placement::align_before_paint(&m.embed, &m.host);
                }
                keep.push(m);
            } else {
                gone.push(m);
            }
        }
        r.mounted = keep;
        gone
    });
    for m in gone {
        // Unmarked, so that the embed gets its button again if the page puts it back (a
        // kept-alive view, a tab's panel detached and re-attached).
        let _ = m.embed.remove_attribute(ATTACHED_ATTR);
        crate::button::placement::unwatch_size(&m.embed);
        if let Some(anchor) = m.host.shadow_root().and_then(|r| r.query_selector(".tb-anchor").ok().flatten()) {
            crate::button::placement::forget(&anchor);
        }
        // Kept while the visitor is buying in it: the sheet would go with the host.
        let hidden = names::js(crate::button::placement::UNALIGNED_ATTR);
        crate::button::kit::with(|kit| kit.leave(&m.host, &hidden));
    }
}

fn replacement_before(host: &Element, tweet_id: &str) -> Option<Element> {
    let previous = host.previous_element_sibling()?;
    let same = tweet_id_of(&previous, EMBED_SELECTOR).is_some_and(|id| id.as_str() == tweet_id);
    same.then_some(previous)
}

/// Attaches a button for an offer already in hand (the in-browser tests, which link std
/// and hand the module the kit themselves).
#[cfg(feature = "std")]
pub fn attach(embed: &Element, offer: &tweetbuy_core::Offer, ctx: WidgetCtx) -> Option<Element> {
    let json = serde_json::to_string(offer).ok()?;
    let offer = Rc::new(FoundOffer {
        head: serde_json::from_str(&json).ok()?,
        title: offer.title.clone(),
        title_lang: offer.lang.clone().unwrap_or_default(),
        json,
    });
    let attrs = crate::button::discover::EmbedAttrs::read(embed);
    let found = FoundEmbed { element: embed.clone(), tweet_id: offer.head.tweet_id.clone(), attrs };
    let batch = Batch::new(&ctx.theme, None)?;
    let reserved = reserve(vec![found])?;
    let attached = mount_reserved(&batch, reserved, vec![Some(offer)], &Rc::new(ctx), false);
    let host = REGISTRY.with(|r| r.borrow().mounted.iter().find(|m| &m.embed == embed).map(|m| m.host.clone()));
    host.filter(|_| attached == 1)
}
