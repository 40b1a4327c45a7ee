//! In-browser tests of the widget (wasm-bindgen-test in headless Chromium): discovery on
//! the shared embed fixtures, and the button and sheets mounted into real shadow roots.
#![cfg(target_arch = "wasm32")]

use tweetbuy::button::discover::FoundEmbed;
use tweetbuy::shared::api::ApiClient;
use tweetbuy::shared::context::WidgetCtx;
use tweetbuy_core::Offer;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

const PUBLISH: &str = include_str!("fixtures/embeds/publish-twitter-com.html");
const X_COM: &str = include_str!("fixtures/embeds/x-com.html");
const DARK: &str = include_str!("fixtures/embeds/dark-theme.html");
const RENDERED: &str = include_str!("fixtures/embeds/rendered-iframe.html");
const NO_OFFER: &str = include_str!("fixtures/embeds/no-offer.html");

// The kit the loader hands the button module (the build appends the same file to its glue),
// made with the loader's rules, as the loader makes it.
#[wasm_bindgen(module = "/src/button/kit.js")]
extern "C" {
    #[wasm_bindgen(js_name = buttonKit)]
    fn button_kit(rules: &JsValue) -> JsValue;
}

/// The kit, as the loader makes it: `buttonKit({ tweetIdOf, lookupPaths, dntOf, embedForms: EMBED_SELECTOR })`, with the
/// loader's rules (server/assets/lookup-rules.mjs, whose declarations the server writes into
/// the loader's scope the same way).
fn loader_kit() -> JsValue {
    let rules = include_str!("../server/assets/lookup-rules.mjs").replace("export ", "");
    let rules = js_sys::Function::new_no_args(&format!(
        "{rules}\nreturn {{ tweetIdOf, lookupPaths, dntOf, embedForms: EMBED_SELECTOR }};"
    ));
    button_kit(&rules.call0(&JsValue::NULL).unwrap())
}

/// Finds embeds as the module does on a page, through the loader's kit.
fn find_embeds(root: &Element) -> Vec<FoundEmbed> {
    tweetbuy::button::kit::use_kit(loader_kit());
    tweetbuy::button::discover::find_embeds(root)
}

/// Attaches a button as the module does on a page, through the loader's kit.
fn attach(embed: &Element, offer: &Offer, ctx: WidgetCtx) -> Option<Element> {
    tweetbuy::button::kit::use_kit(loader_kit());
    tweetbuy::button::mount::attach(embed, offer, ctx)
}

fn container(html: &str) -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    // Drop the fixtures' widgets.js tags: a test page must not try to reach the network.
    let cleaned =
        html.replace("<script async src=\"https://platform.twitter.com/widgets.js\" charset=\"utf-8\"></script>", "");
    div.set_inner_html(&cleaned);
    document.body().unwrap().append_child(&div).unwrap();
    div
}

fn offer(tweet: &str, kind: &str, availability: &str, stock: u32) -> Offer {
    offer_with(tweet, kind, availability, stock, None)
}

fn offer_with(tweet: &str, kind: &str, availability: &str, stock: u32, sale_ends_at: Option<i64>) -> Offer {
    let mut offer = tweetbuy_core::testing::tee();
    offer.tweet_id = tweetbuy_core::TweetId::parse(tweet).unwrap();
    offer.product_id = format!("p-{tweet}");
    offer.kind = serde_json::from_value(serde_json::json!(kind)).unwrap();
    offer.availability = serde_json::from_value(serde_json::json!(availability)).unwrap();
    offer.sale_ends_at = sale_ends_at;
    offer.variants.retain(|v| v.id == "m");
    offer.variants[0].stock = Some(stock);
    offer.ships_to.push(tweetbuy_core::Country::parse("CA").unwrap());
    offer.images = tweetbuy_core::testing::tee_images();
    offer
}

fn ctx() -> WidgetCtx {
    // One module in tests: a click opens the sheet in process instead of loading the
    // checkout module.
    tweetbuy::button::loader::use_in_process(tweetbuy::checkout::host::open);
    WidgetCtx {
        api: ApiClient::new("http://127.0.0.1:9"),
        vault_origin: "http://127.0.0.1:9".into(),
        locale: "en-US".into(),
        theme: "auto".into(),
    }
}

fn shadow(host: &Element) -> ShadowRoot {
    host.shadow_root().expect("an open shadow root")
}

/// Waits 30 ms: long enough for spawned tasks, effects and a paint to run, without
/// depending on animation frames (which a background tab may not get).
async fn pause_30ms() {
    tweetbuy::shared::util::sleep(30).await;
}

/// Waits until `done` holds, looking every 10 ms for up to 5 s: on a busy machine a sheet
/// can take far longer than its usual few milliseconds. Panics, naming `what`, if it never
/// does.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tweetbuy::shared::util::sleep(10).await;
    }
    panic!("waited 5 s for {what}");
}

#[wasm_bindgen_test]
fn finds_every_fixture_embed_form_with_its_id() {
    let root = container(&[PUBLISH, X_COM, DARK, RENDERED, NO_OFFER].concat());
    let ids: Vec<String> = find_embeds(&root).into_iter().map(|e| e.tweet_id.to_string()).collect();
    assert_eq!(ids, ["1528000000000000001", "1528000000000000003", "1528000000000000002", "1528000000000000004", "20"]);
    root.remove();
}

#[wasm_bindgen_test]
fn an_embed_form_inside_another_is_the_outer_ones() {
    // A wrapper the publisher marked round a blockquote, and what widgets.js later renders in
    // the blockquote's place once the wrapper has its button.
    let root = container(&format!("<figure data-tweetbuy-tweet=\"1528000000000000001\">{PUBLISH}</figure>{X_COM}"));
    let found = find_embeds(&root);
    let ids: Vec<String> = found.iter().map(|e| e.tweet_id.to_string()).collect();
    assert_eq!(ids, ["1528000000000000001", "1528000000000000003"]);
    assert_eq!(found[0].element.tag_name(), "FIGURE");
    let figure = found[0].element.clone();
    figure.set_attribute("data-tweetbuy-attached", "1528000000000000001").unwrap();
    figure.set_inner_html(&RENDERED.replace("1528000000000000004", "1528000000000000001"));
    assert!(
        find_embeds(&figure).is_empty(),
        "the rendered tweet inside the attached wrapper gets no button of its own"
    );
    root.remove();
}

/// The offer lookup's answers (`[status, body]` pairs, as the kit's `ask` resolves them),
/// read as the module reads them: by the loader's kit, then the module's rules.
fn read_answers(
    answers: &[(u16, String)],
) -> Result<tweetbuy::button::offers::Lookup, tweetbuy::shared::api::ClientError> {
    tweetbuy::button::kit::use_kit(loader_kit());
    let pairs = js_sys::Array::new();
    for (status, body) in answers {
        pairs.push(&js_sys::Array::of2(&(*status).into(), &body.as_str().into()));
    }
    tweetbuy::button::offers::read_answers(&pairs)
}

#[wasm_bindgen_test]
fn the_kit_reads_the_lookups_answer_as_the_api_writes_it() {
    let mut tee = tweetbuy_core::testing::tee();
    tee.lang = Some("es-MX".into());
    let offers = vec![tee, tweetbuy_core::testing::ticket()];
    let response = tweetbuy_core::OffersResponse { vault_origin: "http://vault.test".into(), offers: offers.clone() };
    let found = read_answers(&[(200, serde_json::to_string(&response).unwrap())]).unwrap();
    assert_eq!(found.vault_origin, "http://vault.test");
    assert_eq!(found.offers.len(), 2);
    for (found, offer) in found.offers.iter().zip(&offers) {
        let json = serde_json::to_string(offer).unwrap();
        let head: tweetbuy_core::OfferHead = serde_json::from_str(&json).unwrap();
        assert_eq!(found.head, head, "the head serde reads");
        assert_eq!(found.title, offer.title);
        assert_eq!(Some(&found.title_lang).filter(|l| !l.is_empty()), offer.lang.as_ref(), "the title's language");
        let whole: Offer = serde_json::from_str(&found.json).unwrap();
        assert_eq!(&whole, offer, "the checkout module gets the offer as sent");
    }
}

/// The loader sends the first lookup ahead and reads its body as it arrives
/// (server/assets/embed.js): the kit's `ask` answers with that `[status, text]` as it is,
/// sending nothing.
#[wasm_bindgen_test]
async fn the_kit_answers_with_the_lookup_the_loader_read_ahead() {
    let kit = loader_kit();
    let ask: js_sys::Function = js_sys::Reflect::get(&kit, &"ask".into()).unwrap().unchecked_into();
    let read_ahead = js_sys::Array::of2(&200.into(), &"{\"offers\":[]}".into());
    let sent = js_sys::Array::of1(&js_sys::Promise::resolve(&read_ahead));
    // Nothing listens there: only a request sent anew would go to it, and fail.
    let urls = js_sys::Array::of1(&"http://127.0.0.1:9/api/v1/offers?tweet_ids=1".into());
    let never_again = js_sys::Function::new_no_args("return -1");
    let args = js_sys::Array::of4(&urls, &sent, &5_000.into(), &never_again);
    let asked: js_sys::Promise = ask.apply(&kit, &args).unwrap().unchecked_into();
    let answers: js_sys::Array = wasm_bindgen_futures::JsFuture::from(asked).await.unwrap().unchecked_into();
    assert_eq!(answers.length(), 1);
    let answer: js_sys::Array = answers.get(0).unchecked_into();
    assert_eq!(answer.get(0).as_f64(), Some(200.0));
    assert_eq!(answer.get(1).as_string().as_deref(), Some("{\"offers\":[]}"));
}

/// The lookup the loader sent ahead has no deadline of its own: the kit gives it the
/// module's, counted from the module's ask, then asks again, so an api that never answers
/// that first request does not leave the page without buttons for the whole visit.
#[wasm_bindgen_test]
async fn the_kit_asks_again_when_the_lookup_sent_ahead_never_answers() {
    let kit = loader_kit();
    let ask: js_sys::Function = js_sys::Reflect::get(&kit, &"ask".into()).unwrap().unchecked_into();
    let never = js_sys::Promise::new(&mut |_, _| {});
    let sent = js_sys::Array::of1(&never);
    let urls = js_sys::Array::of1(&"data:application/json,{\"offers\":[]}".into());
    let retry_at_once = js_sys::Function::new_with_args("status, attempt", "return attempt < 5 ? 0 : -1");
    let args = js_sys::Array::of4(&urls, &sent, &300.into(), &retry_at_once);
    let started = js_sys::Date::now();
    let asked: js_sys::Promise = ask.apply(&kit, &args).unwrap().unchecked_into();
    let deadline = js_sys::Promise::new(&mut |resolve, _| {
        let window = web_sys::window().unwrap();
        window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 5_000).unwrap();
    });
    let first = js_sys::Promise::race(&js_sys::Array::of2(&asked, &deadline));
    let first = wasm_bindgen_futures::JsFuture::from(first).await.unwrap();
    assert!(first.is_truthy(), "the kit still waits for the lookup sent ahead after 5 s");
    assert!(js_sys::Date::now() - started >= 290.0, "given up on before its deadline");
    let answer: js_sys::Array = first.unchecked_into::<js_sys::Array>().get(0).unchecked_into();
    assert_eq!(answer.get(0).as_f64(), Some(200.0), "asked again: {:?}", answer.get(1).as_string());
    assert_eq!(answer.get(1).as_string().as_deref(), Some("{\"offers\":[]}"));
}

/// A lookup sent ahead that answers late, but within the deadline, is the answer.
#[wasm_bindgen_test]
async fn the_kit_waits_its_deadline_for_the_lookup_sent_ahead() {
    let kit = loader_kit();
    let ask: js_sys::Function = js_sys::Reflect::get(&kit, &"ask".into()).unwrap().unchecked_into();
    let late = js_sys::Promise::new(&mut |resolve, _| {
        let answer = js_sys::Array::of2(&200.into(), &"{\"offers\":[]}".into());
        let resolve_late = js_sys::Function::new_with_args("resolve, answer", "setTimeout(() => resolve(answer), 100)");
        resolve_late.call2(&JsValue::NULL, &resolve, &answer).unwrap();
    });
    // Nothing listens there: a request sent anew would fail.
    let urls = js_sys::Array::of1(&"http://127.0.0.1:9/api/v1/offers?tweet_ids=1".into());
    let never_again = js_sys::Function::new_no_args("return -1");
    let args = js_sys::Array::of4(&urls, &js_sys::Array::of1(&late), &2_000.into(), &never_again);
    let asked: js_sys::Promise = ask.apply(&kit, &args).unwrap().unchecked_into();
    let answers: js_sys::Array = wasm_bindgen_futures::JsFuture::from(asked).await.unwrap().unchecked_into();
    let answer: js_sys::Array = answers.get(0).unchecked_into();
    assert_eq!(answer.get(0).as_f64(), Some(200.0), "{:?}", answer.get(1).as_string());
}

#[wasm_bindgen_test]
fn the_kit_reads_a_field_of_the_wrong_type_as_absent() {
    let tee = serde_json::to_value(tweetbuy_core::testing::tee()).unwrap();
    let with = |path: &[&str], value: serde_json::Value| {
        let mut offer = tee.clone();
        let mut at = &mut offer;
        for key in path {
            at = match key.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*key],
            };
        }
        *at = value;
        let body = serde_json::json!({"vault_origin": "http://vault.test", "offers": [offer]});
        read_answers(&[(200, body.to_string())]).unwrap().offers
    };
    assert_eq!(with(&["title"], serde_json::json!("Tee")).len(), 1, "the offer as it is");
    for (path, bad) in [
        (&["tweet_id"][..], serde_json::json!(1528000000000000001u64)),
        (&["product_id"], serde_json::json!(7)),
        (&["kind"], serde_json::json!(null)),
        (&["variants"], serde_json::json!({})),
        (&["variants", "0", "price", "minor"], serde_json::json!(1.5)),
        (&["variants", "0", "price", "minor"], serde_json::json!("3000")),
        (&["variants", "0", "price", "minor"], serde_json::json!(1e21)),
        (&["variants", "0", "price", "currency"], serde_json::json!(["USD"])),
    ] {
        assert_eq!(with(path, bad.clone()), [], "{path:?}: {bad}");
    }
    let found = with(&["title"], serde_json::json!("A \u{1e}tee\u{1f}"));
    assert_eq!(found[0].title, "A tee", "a separator in a text is dropped, not read as one");
}

#[wasm_bindgen_test]
fn the_kit_reads_why_a_lookup_failed() {
    use tweetbuy::shared::api::ClientError;
    let ok = (200, r#"{"vault_origin":"http://vault.test","offers":[]}"#.to_string());
    assert_eq!(
        read_answers(&[ok.clone(), (0, "Failed to fetch".into())]),
        Err(ClientError::Network("Failed to fetch".into()))
    );
    let limited = (429, r#"{"code":"rate_limited","message":"Slow down."}"#.to_string());
    match read_answers(&[limited, ok.clone()]) {
        Err(ClientError::Api { status: 429, error }) => assert_eq!(error.message, "Slow down."),
        other => panic!("{other:?}"),
    }
    assert!(matches!(read_answers(&[(502, "<html>".into())]), Err(ClientError::Decode { status: 502, .. })));
    assert!(matches!(read_answers(&[(200, "<html>".into())]), Err(ClientError::Decode { status: 200, .. })));
    assert_eq!(read_answers(&[ok]).map(|found| found.offers.len()), Ok(0));
}

#[wasm_bindgen_test]
fn explicit_opt_in_and_quoted_links() {
    let root = container(concat!(
        r#"<div data-tweetbuy-tweet="1528000000000000005"></div>"#,
        r#"<div data-tweetbuy-tweet="not-an-id"></div>"#,
        r#"<blockquote class="twitter-tweet"><p>See <a href="https://twitter.com/x/status/999">this</a></p>&mdash; A <a href="https://twitter.com/a/status/1528000000000000006">date</a></blockquote>"#,
    ));
    let ids: Vec<String> = find_embeds(&root).into_iter().map(|e| e.tweet_id.to_string()).collect();
    assert_eq!(ids, ["1528000000000000005", "1528000000000000006"]);
    root.remove();
}

#[wasm_bindgen_test]
async fn the_button_mounts_in_a_shadow_root_after_the_embed() {
    let root = container(PUBLISH);
    let embed = find_embeds(&root).remove(0);
    let host = attach(&embed.element, &offer("1528000000000000001", "physical", "available", 5), ctx()).unwrap();
    pause_30ms().await;
    assert_eq!(embed.element.next_element_sibling().unwrap(), host, "host sits right after the embed");
    assert!(find_embeds(&root).is_empty(), "an attached embed is not found again");
    let shadow = shadow(&host);
    assert_eq!(shadow.adopted_style_sheets().length(), 1, "CSS adopted inside the shadow root");
    let button = shadow.query_selector("button[part=button]").unwrap().expect("the Buy button");
    assert_eq!(button.text_content().unwrap(), "Buy · $30.00");
    assert_eq!(button.get_attribute("aria-haspopup").as_deref(), Some("dialog"));
    let head_styles =
        web_sys::window().unwrap().document().unwrap().head().unwrap().query_selector_all("style").unwrap().length();
    assert_eq!(head_styles, 0, "nothing injected into the page's head");
    root.remove();
}

#[wasm_bindgen_test]
async fn a_rendered_tweet_gets_its_button_at_the_tweets_right_edge_not_its_wrappers() {
    // What widgets.js leaves, on a page without widgets.js's own wrapper styles: the wrapper
    // spans the column, the tweet (the iframe) is 550 px wide.
    let root = container(concat!(
        r#"<div style="width: 900px"><div class="twitter-tweet twitter-tweet-rendered">"#,
        r#"<iframe width="550" height="220" style="display: block; border: 0" data-tweet-id="1528000000000000004"></iframe>"#,
        r#"</div></div>"#,
    ));
    let embed = find_embeds(&root).remove(0);
    let host = attach(&embed.element, &offer("1528000000000000004", "physical", "available", 5), ctx()).unwrap();
    wait_for_frames(2).await;
    let iframe = root.query_selector("iframe").unwrap().unwrap().get_bounding_client_rect();
    let wrapper = embed.element.get_bounding_client_rect();
    assert!(wrapper.right() - iframe.right() > 300.0, "the wrapper is wider than the tweet");
    let button = shadow(&host).query_selector("button[part=button]").unwrap().unwrap().get_bounding_client_rect();
    // In its row the button is flush with the tweet's right edge; floating over the tweet's
    // corner it is inset by 8 px.
    let inset = iframe.right() - button.right();
    assert!((-1.0..=9.0).contains(&inset), "button ends at {}, the tweet at {}", button.right(), iframe.right());
    root.remove();
}

#[wasm_bindgen_test]
async fn a_failing_accent_gets_a_readable_text_colour_before_its_button_shows() {
    // The page's tokens reach the shadow root through the host: a yellow accent with white
    // text fails AA, the default blue passes.
    let failing = container(&format!(
        r#"<div style="--tweetbuy-accent: #facc15; --tweetbuy-accent-text: #ffffff">{PUBLISH}</div>"#
    ));
    let passing = container(X_COM);
    // An outline button shows neither colour, but its sheets' main buttons show both.
    let outlined = container(&format!(
        r#"<div style="--tweetbuy-accent: #facc15; --tweetbuy-accent-text: #ffffff; --tweetbuy-accent-outline: #1f2937">{PUBLISH}</div>"#
    ));
    let yellow = find_embeds(&failing).remove(0);
    let blue = find_embeds(&passing).remove(0);
    let outline = find_embeds(&outlined).remove(0);
    outline.element.set_attribute("data-button-style", "outline").unwrap();
    let yellow = attach(&yellow.element, &offer("1528000000000000001", "physical", "available", 5), ctx()).unwrap();
    let blue = attach(&blue.element, &offer("1528000000000000003", "physical", "available", 5), ctx()).unwrap();
    let outline = attach(&outline.element, &offer("1528000000000000001", "physical", "available", 5), ctx()).unwrap();
    wait_for_frames(2).await;
    let look = |host: &Element| {
        let root = shadow(host).query_selector(".tb-root").unwrap().unwrap();
        let button = shadow(host).query_selector("button[part=button]").unwrap().unwrap();
        let colour =
            web_sys::window().unwrap().get_computed_style(&button).unwrap().unwrap().get_property_value("color");
        (root.get_attribute("data-accent-text"), colour.unwrap(), root.has_attribute("data-unaligned"))
    };
    assert_eq!(look(&yellow), (Some("dark".into()), "rgb(0, 0, 0)".into(), false), "dark text on yellow, shown");
    assert_eq!(look(&blue), (None, "rgb(255, 255, 255)".into(), false), "the designer's white on blue, shown");
    assert_eq!(
        look(&outline),
        (Some("dark".into()), "rgb(31, 41, 55)".into(), false),
        "the outline's own colour, and dark text for its sheets' buttons on yellow"
    );
    failing.remove();
    passing.remove();
    outlined.remove();
}

/// Waits for `n` animation frames: the widget lines buttons up in the next one.
async fn wait_for_frames(n: u32) {
    for _ in 0..n {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = web_sys::window().unwrap().request_animation_frame(&resolve);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

#[wasm_bindgen_test]
async fn a_removed_embed_takes_its_button_out_of_the_registry() {
    let root = container(&[PUBLISH, X_COM].concat());
    let embeds = find_embeds(&root);
    let first = attach(&embeds[0].element, &offer("1528000000000000001", "physical", "available", 5), ctx()).unwrap();
    let second = attach(&embeds[1].element, &offer("1528000000000000003", "ticket", "available", 5), ctx()).unwrap();
    pause_30ms().await;
    assert!(tweetbuy::button::mount::is_mounted(&first) && tweetbuy::button::mount::is_mounted(&second));
    embeds[0].element.remove();
    tweetbuy::button::mount::release_detached(&[]);
    assert!(!first.is_connected(), "the host left with its embed");
    assert!(!embeds[0].element.has_attribute("data-tweetbuy-attached"), "put back, the embed is found again");
    // The registry is what would keep a gone button (host, embed, offer) alive.
    assert!(!tweetbuy::button::mount::is_mounted(&first), "the registry let go of the removed button");
    assert!(second.is_connected() && tweetbuy::button::mount::is_mounted(&second), "the other button stays");
    root.remove();
    tweetbuy::button::mount::release_detached(&[]);
    assert!(!tweetbuy::button::mount::is_mounted(&second));
}

#[wasm_bindgen_test]
async fn clicking_opens_a_modal_product_sheet_and_escape_closes_it() {
    let root = container(X_COM);
    let embed = find_embeds(&root).remove(0);
    let host = attach(&embed.element, &offer("1528000000000000003", "ticket", "available", 5), ctx()).unwrap();
    pause_30ms().await;
    let shadow = shadow(&host);
    let button: HtmlElement = shadow.query_selector("button[part=button]").unwrap().unwrap().unchecked_into();
    assert_eq!(button.text_content().unwrap(), "Get tickets");
    button.click();
    until("the sheet", || shadow.query_selector("dialog[open]").unwrap().is_some()).await;
    let dialog: web_sys::HtmlDialogElement =
        shadow.query_selector("dialog").unwrap().expect("the sheet").unchecked_into();
    assert!(dialog.open(), "opened with showModal");
    assert_eq!(dialog.get_attribute("aria-labelledby").as_deref(), Some("tb-title"));
    assert_eq!(shadow.query_selector("#tb-title").unwrap().unwrap().text_content().unwrap(), "Limited tee");
    let price = shadow.query_selector("[part=price]").unwrap().unwrap().text_content().unwrap();
    assert_eq!(price, "$30.00");
    let radio = shadow.query_selector("input[type=radio][value=m]").unwrap().unwrap();
    assert!(radio.unchecked_ref::<web_sys::HtmlInputElement>().checked(), "the first variant in stock is chosen");
    // Escape on a modal dialog fires `cancel`; the sheet closes and focus returns.
    let cancel = web_sys::Event::new_with_event_init_dict("cancel", &{
        let init = web_sys::EventInit::new();
        init.set_cancelable(true);
        init
    })
    .unwrap();
    dialog.dispatch_event(&cancel).unwrap();
    let focus_on_button = || shadow.active_element().is_some_and(|e| e.tag_name() == "BUTTON");
    until("the sheet removed, focus back", || shadow.query_selector("dialog").unwrap().is_none() && focus_on_button())
        .await;
    assert!(shadow.query_selector("dialog").unwrap().is_none(), "sheet removed");
    assert_eq!(shadow.active_element().map(|e| e.tag_name()), Some("BUTTON".to_owned()), "focus back on the button");
    root.remove();
}

#[wasm_bindgen_test]
async fn sold_out_disables_buying_and_says_why() {
    let root = container(PUBLISH);
    let embed = find_embeds(&root).remove(0);
    let host = attach(&embed.element, &offer("1528000000000000001", "physical", "sold_out", 0), ctx()).unwrap();
    pause_30ms().await;
    let shadow = shadow(&host);
    shadow.query_selector("button[part=button]").unwrap().unwrap().unchecked_into::<HtmlElement>().click();
    pause_30ms().await;
    let reason = shadow.query_selector(".tb-unavailable").unwrap().expect("a reason").text_content().unwrap();
    assert!(reason.contains("Sold out"), "{reason}");
    let next: web_sys::HtmlButtonElement =
        shadow.query_selector(".tb-product .tb-primary").unwrap().unwrap().unchecked_into();
    assert!(next.disabled());
    root.remove();
}

// ---- Each sheet state, mounted for real ----

fn q(shadow: &ShadowRoot, selector: &str) -> Option<Element> {
    shadow.query_selector(selector).unwrap()
}

fn text(shadow: &ShadowRoot, selector: &str) -> String {
    q(shadow, selector).unwrap_or_else(|| panic!("no {selector}")).text_content().unwrap_or_default()
}

fn click(shadow: &ShadowRoot, selector: &str) {
    q(shadow, selector).unwrap_or_else(|| panic!("no {selector}")).unchecked_into::<HtmlElement>().click();
}

fn disabled(shadow: &ShadowRoot, selector: &str) -> bool {
    q(shadow, selector).unwrap_or_else(|| panic!("no {selector}")).has_attribute("disabled")
}

fn type_into(shadow: &ShadowRoot, selector: &str, value: &str) {
    let input: web_sys::HtmlInputElement = q(shadow, selector).unwrap().unchecked_into();
    input.set_value(value);
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
}

fn escape(shadow: &ShadowRoot) {
    let init = web_sys::EventInit::new();
    init.set_cancelable(true);
    q(shadow, "dialog")
        .unwrap()
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("cancel", &init).unwrap())
        .unwrap();
}

/// Mounts a button for `offer` after an embed with the given `data-lang`, and opens its sheet.
async fn open(offer: Offer, data_lang: Option<&str>) -> (Element, ShadowRoot) {
    let lang = data_lang.map(|l| format!(r#" data-lang="{l}""#)).unwrap_or_default();
    let root = container(&format!(
        r#"<blockquote class="twitter-tweet"{lang}><p>t</p><a href="https://twitter.com/x/status/{}">d</a></blockquote>"#,
        offer.tweet_id
    ));
    let embed = find_embeds(&root).remove(0);
    let host = attach(&embed.element, &offer, ctx()).unwrap();
    pause_30ms().await;
    let shadow = shadow(&host);
    click(&shadow, "button[part=button]");
    until("the sheet", || q(&shadow, "dialog[open]").is_some()).await;
    (root, shadow)
}

#[wasm_bindgen_test]
async fn the_product_sheet_shows_gallery_seller_price_live_stock_and_options() {
    let (root, shadow) = open(offer("1528000000000000011", "physical", "available", 3), None).await;
    let dialog = q(&shadow, "dialog").unwrap();
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    let images = shadow.query_selector_all(".tb-gallery img").unwrap();
    assert_eq!(images.length(), 2, "every image");
    assert_eq!(
        images.item(1).unwrap().unchecked_into::<Element>().get_attribute("alt").as_deref(),
        Some("The back of the tee.")
    );
    assert!(text(&shadow, ".tb-seller").contains("Sold by (RED)"));
    assert_eq!(text(&shadow, ".tb-seller .tb-badge"), "Nonprofit");
    assert_eq!(text(&shadow, "[part=price]"), "$30.00");
    assert_eq!(text(&shadow, ".tb-stock"), "3 left");
    assert_eq!(q(&shadow, ".tb-stock").unwrap().get_attribute("aria-live").as_deref(), Some("polite"));
    assert_eq!(q(&shadow, "fieldset").unwrap().get_attribute("role").as_deref(), Some("radiogroup"));
    assert_eq!(text(&shadow, ".tb-variant-meta"), "$30.00 · 3 left");
    assert_eq!(q(&shadow, "#tb-quantity").unwrap().get_attribute("max").as_deref(), Some("3"), "bounded by stock");
    click(&shadow, "button[aria-label='Increase quantity']");
    click(&shadow, "button[aria-label='Increase quantity']");
    click(&shadow, "button[aria-label='Increase quantity']");
    pause_30ms().await;
    assert_eq!(q(&shadow, "#tb-quantity").unwrap().unchecked_into::<web_sys::HtmlInputElement>().value(), "3");
    // At its limit the step stays focusable and says it does nothing (a disabled button would
    // drop a keyboard user's focus to the page).
    let increase = q(&shadow, "button[aria-label='Increase quantity']").unwrap();
    assert_eq!(increase.get_attribute("aria-disabled").as_deref(), Some("true"), "no more than the stock");
    click(&shadow, "button[aria-label='Increase quantity']");
    pause_30ms().await;
    assert_eq!(q(&shadow, "#tb-quantity").unwrap().unchecked_into::<web_sys::HtmlInputElement>().value(), "3");
    assert!(!disabled(&shadow, ".tb-product .tb-primary"));
    assert_eq!(text(&shadow, ".tb-unavailable"), "");
    root.remove();
}

#[wasm_bindgen_test]
async fn an_ended_sale_disables_everything_and_says_why() {
    let (root, shadow) = open(offer("1528000000000000012", "physical", "sale_ended", 3), None).await;
    assert_eq!(text(&shadow, ".tb-unavailable"), "This sale has ended, so buying is closed.");
    assert!(disabled(&shadow, ".tb-product .tb-primary"));
    assert!(disabled(&shadow, "input[type=radio]"));
    assert!(disabled(&shadow, "#tb-quantity"));
    assert!(q(&shadow, "[role=timer]").is_none());
    root.remove();
}

#[wasm_bindgen_test]
async fn a_time_limited_sale_counts_down() {
    let ends = (js_sys::Date::now() / 1000.0) as i64 + 3_600;
    let (root, shadow) = open(offer_with("1528000000000000013", "ticket", "available", 9, Some(ends)), None).await;
    let first = text(&shadow, "[role=timer]");
    assert!(first.starts_with("Sale ends in 0d 00h 59m") || first.starts_with("Sale ends in 0d 01h 00m"), "{first}");
    tweetbuy::shared::util::sleep(1_200).await;
    assert_ne!(text(&shadow, "[role=timer]"), first, "it ticks");
    assert!(text(&shadow, ".tb-delivery").contains("No shipping address needed."));
    root.remove();
}

#[wasm_bindgen_test]
async fn a_spanish_embed_speaks_spanish_and_formats_for_es() {
    let (root, shadow) = open(offer("1528000000000000014", "physical", "available", 3), Some("es")).await;
    let button = text(&shadow, "button[part=button]");
    assert!(button.starts_with("Comprar · 30,00"), "{button}");
    assert_eq!(q(&shadow, "dialog").unwrap().get_attribute("lang").as_deref(), Some("es"));
    assert_eq!(text(&shadow, ".tb-product .tb-primary"), "Continuar");
    assert_eq!(text(&shadow, ".tb-stock"), "Quedan 3");
    assert_eq!(q(&shadow, ".tb-close").unwrap().get_attribute("aria-label").as_deref(), Some("Cerrar"));
    root.remove();
}

#[wasm_bindgen_test]
async fn checkout_for_goods_asks_for_an_address_and_shows_inline_errors_with_a_summary() {
    let (root, shadow) = open(offer("1528000000000000015", "physical", "available", 3), None).await;
    click(&shadow, ".tb-product .tb-primary");
    let mut active = None;
    for _ in 0..20 {
        pause_30ms().await;
        active = shadow.active_element().map(|e| format!("{}#{}", e.tag_name(), e.id()));
        if active.as_deref() == Some("INPUT#tb-email") {
            break;
        }
    }
    assert_eq!(active.as_deref(), Some("INPUT#tb-email"), "the checkout takes focus on its first field");
    assert_eq!(q(&shadow, "#tb-name").unwrap().get_attribute("autocomplete").as_deref(), Some("shipping name"));
    let countries = shadow.query_selector_all("#tb-country option").unwrap();
    assert_eq!(countries.length(), 2, "the countries it ships to");
    assert!(!q(&shadow, "#tb-share-email").unwrap().unchecked_into::<web_sys::HtmlInputElement>().checked());
    assert_eq!(text(&shadow, ".tb-consent"), "Share my email with (RED)");
    let card = q(&shadow, "iframe.tb-card-frame").unwrap();
    assert_eq!(card.get_attribute("aria-labelledby").as_deref(), Some("tb-card-label"));
    assert_eq!(card.get_attribute("src").as_deref(), Some("http://127.0.0.1:9/frame?lang=en-US"));
    assert_eq!(card.get_attribute("name").as_deref(), Some("tweetbuy-card"), "its mode, for the frame's page");
    assert!(
        q(&shadow, "[part=pay]").is_none() && q(&shadow, "form button[type=submit]").is_none(),
        "Pay is in the frame"
    );
    type_into(&shadow, "#tb-postal_code", "ABC");
    let form: web_sys::HtmlFormElement = q(&shadow, "form").unwrap().unchecked_into();
    form.request_submit().unwrap();
    pause_30ms().await;
    assert_eq!(text(&shadow, "#tb-email-error"), "Enter your email address.");
    assert_eq!(q(&shadow, "#tb-email").unwrap().get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(text(&shadow, "#tb-postal_code-error"), "This is not a valid postal code for United States.");
    let summary = text(&shadow, ".tb-failure");
    assert!(summary.starts_with("Some details need fixing:") && summary.contains("Postal code:"), "{summary}");
    assert_eq!(q(&shadow, ".tb-failure").unwrap().get_attribute("role").as_deref(), Some("alert"));
    // Fixing a field clears its own error.
    type_into(&shadow, "#tb-email", "jane@example.com");
    pause_30ms().await;
    assert_eq!(text(&shadow, "#tb-email-error"), "");
    assert!(!text(&shadow, ".tb-failure").contains("Email:"));
    root.remove();
}

#[wasm_bindgen_test]
async fn the_saved_info_frame_waits_hidden_behind_continue_until_it_says_saved_info_exists() {
    let (root, shadow) = open(offer("1528000000000000017", "physical", "available", 3), Some("es")).await;
    until("the saved-info block", || q(&shadow, ".tb-saved").is_some()).await;
    let saved = q(&shadow, ".tb-saved").expect("the saved-info block");
    assert!(saved.has_attribute("hidden"), "hidden until the frame says saved info exists");
    let frame = q(&shadow, ".tb-saved iframe.tb-saved-frame").expect("its frame, loading");
    assert_eq!(frame.get_attribute("src").as_deref(), Some("http://127.0.0.1:9/frame?lang=es"));
    assert_eq!(frame.get_attribute("name").as_deref(), Some("tweetbuy-saved"), "its mode, for the frame's page");
    assert_eq!(frame.get_attribute("aria-labelledby").as_deref(), Some("tb-saved-title"));
    assert_eq!(text(&shadow, ".tb-use-other"), "Usar otra tarjeta o dirección");
    assert!(!q(&shadow, ".tb-continue").unwrap().has_attribute("hidden"), "Continue meanwhile");
    // A message that is not from the frame's window changes nothing.
    let init = js_sys::Object::new();
    js_sys::Reflect::set(&init, &"data".into(), &r#"{"type":"ready","v":1,"saved":true}"#.into()).unwrap();
    js_sys::Reflect::set(&init, &"origin".into(), &"http://127.0.0.1:9".into()).unwrap();
    let constructor: js_sys::Function =
        js_sys::Reflect::get(&js_sys::global(), &"MessageEvent".into()).unwrap().unchecked_into();
    let args = js_sys::Array::of2(&"message".into(), &init);
    let forged: web_sys::Event = js_sys::Reflect::construct(&constructor, &args).unwrap().unchecked_into();
    web_sys::window().unwrap().dispatch_event(&forged).unwrap();
    pause_30ms().await;
    assert!(q(&shadow, ".tb-saved").unwrap().has_attribute("hidden"), "a forged ready is ignored");
    root.remove();
}

#[wasm_bindgen_test]
async fn tickets_need_no_address_and_typed_details_survive_closing() {
    let (root, shadow) = open(offer("1528000000000000016", "ticket", "available", 3), None).await;
    click(&shadow, ".tb-product .tb-primary");
    pause_30ms().await;
    assert!(q(&shadow, "#tb-name").is_none() && q(&shadow, ".tb-shipping").is_none(), "no shipping for tickets");
    type_into(&shadow, "#tb-email", "fan@example.com");
    escape(&shadow);
    pause_30ms().await;
    assert!(q(&shadow, "dialog").is_none());
    click(&shadow, "button[part=button]");
    pause_30ms().await;
    click(&shadow, ".tb-product .tb-primary");
    pause_30ms().await;
    let email: web_sys::HtmlInputElement = q(&shadow, "#tb-email").unwrap().unchecked_into();
    assert_eq!(email.value(), "fan@example.com", "kept for the page visit");
    root.remove();
}

/// A physical order's confirmation for `receipt`, mounted in English and given a moment to
/// draw: its container, and what unmounts and removes it.
async fn confirmation_of(receipt: tweetbuy_core::OrderReceipt) -> (Element, impl FnOnce()) {
    use leptos::prelude::*;
    use tweetbuy::checkout::confirmation::Confirmation;
    use tweetbuy::shared::i18n::Locale;
    let root = container("");
    let target: HtmlElement = root.clone().unchecked_into();
    let handle = leptos::mount::mount_to(target, move || {
        provide_context(RwSignal::new(Locale::new("en-US")));
        view! { <Confirmation receipt=receipt kind=tweetbuy_core::ProductKind::Physical on_done=Callback::new(|_| ()) /> }
    });
    pause_30ms().await;
    let mounted = root.clone();
    let done = move || {
        drop(handle);
        mounted.remove();
    };
    (root, done)
}

#[wasm_bindgen_test]
async fn the_confirmation_names_the_order_what_was_bought_and_where_it_goes() {
    let usd = |minor| tweetbuy_core::Money::new(minor, tweetbuy_core::Currency::USD);
    let mut receipt = tweetbuy_core::testing::receipt();
    receipt.product_title = "Tee".into();
    receipt.quantity = 2;
    receipt.quote =
        tweetbuy_core::Quote { subtotal: usd(6000), discount: None, shipping: usd(500), tax: usd(0), total: usd(6500) };
    receipt.shipping = Some(tweetbuy_core::ShippingAddress {
        city: "Toronto".into(),
        region: "ON".into(),
        postal_code: "M5V 2T6".into(),
        country: "CA".into(),
        ..tweetbuy_core::testing::address()
    });
    let (root, done) = confirmation_of(receipt).await;
    let get = |sel: &str| root.query_selector(sel).unwrap().unwrap().text_content().unwrap();
    assert_eq!(get("[data-order-number]"), "TB-7K3Q9X");
    assert_eq!(get(".tb-bought"), "2 × Tee (M)");
    assert_eq!(get(".tb-ships-to"), "Ships to Jane Doe, 1 Main St, Toronto ON M5V 2T6, Canada");
    assert_eq!(get(".tb-receipt"), "A receipt was sent to a@b.co.");
    assert!(root.query_selector(".tb-confirmed[data-tb-focus]").unwrap().is_some(), "the heading takes focus");
    done();
}

#[wasm_bindgen_test]
async fn a_confirmation_for_saved_details_names_neither_the_address_nor_the_email() {
    let receipt =
        tweetbuy_core::OrderReceipt { email: String::new(), shipping: None, ..tweetbuy_core::testing::receipt() };
    let (root, done) = confirmation_of(receipt).await;
    let get = |sel: &str| root.query_selector(sel).unwrap().unwrap().text_content().unwrap();
    assert_eq!(get(".tb-ships-to"), "Ships to your saved address.");
    assert_eq!(get(".tb-receipt"), "We emailed your receipt.");
    done();
}

/// The widget writes prices and counts for the locales tweetbuy-core knows without `Intl`
/// (`tweetbuy_core::locale_format`), from a table checked natively against
/// `core/tests/locale_format_vectors.json`. Here that file is checked against this
/// browser's `Intl` itself: a browser whose locale data changed fails here, rather than the
/// button showing a price the sheet writes otherwise.
#[wasm_bindgen_test]
fn the_locale_format_vectors_are_what_intl_writes() {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../core/tests/locale_format_vectors.json")).unwrap();
    let intl = |tag: &str, options: &js_sys::Object, n: f64| {
        let format = js_sys::Intl::NumberFormat::new(&js_sys::Array::of1(&tag.into()), options);
        format.format().call1(&format, &n.into()).unwrap().as_string().unwrap()
    };
    let mut checked = 0;
    for case in vectors["money"].as_array().unwrap() {
        let Some(text) = case["text"].as_str() else { continue };
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"style".into(), &"currency".into()).unwrap();
        js_sys::Reflect::set(&options, &"currency".into(), &case["currency"].as_str().unwrap().into()).unwrap();
        let (tag, major) = (case["tag"].as_str().unwrap(), case["minor"].as_i64().unwrap() as f64 / 100.0);
        assert_eq!(intl(tag, &options, major), text, "{case}");
        checked += 1;
    }
    for case in vectors["numbers"].as_array().unwrap() {
        let Some(text) = case["text"].as_str() else { continue };
        let tag = case["tag"].as_str().unwrap();
        assert_eq!(intl(tag, &js_sys::Object::new(), case["n"].as_f64().unwrap()), text, "{case}");
        checked += 1;
    }
    assert!(checked > 300, "only {checked} vectors");
}
