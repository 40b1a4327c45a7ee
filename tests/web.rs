//! In-browser tests of the widget (wasm-bindgen-test in headless Chromium): discovery on
//! the shared embed fixtures, and the button and sheets mounted into real shadow roots.
#![cfg(target_arch = "wasm32")]

use tweetbuy::api::ApiClient;
use tweetbuy::discover::find_embeds;
use tweetbuy::mount::{attach, WidgetCtx};
use tweetbuy_core::Offer;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

const PUBLISH: &str = include_str!("../../shared/fixtures/embeds/publish-twitter-com.html");
const X_COM: &str = include_str!("../../shared/fixtures/embeds/x-com.html");
const DARK: &str = include_str!("../../shared/fixtures/embeds/dark-theme.html");
const RENDERED: &str = include_str!("../../shared/fixtures/embeds/rendered-iframe.html");
const NO_OFFER: &str = include_str!("../../shared/fixtures/embeds/no-offer.html");

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
    serde_json::from_value(serde_json::json!({
        "tweet_id": tweet, "product_id": "p-".to_owned() + tweet, "title": "Limited tee", "description": "A tee.",
        "seller": {"name": "(RED)", "kind": "nonprofit"}, "kind": kind, "currency": "USD",
        "variants": [{"id": "m", "label": "M", "price": {"minor": 3000, "currency": "USD"}, "stock": stock}],
        "limited_edition": true, "availability": availability, "sale_ends_at": null,
        "ships_to": ["US"], "max_per_order": 5
    }))
    .unwrap()
}

fn ctx() -> WidgetCtx {
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

async fn next_frame() {
    tweetbuy::util::sleep(30).await;
}

#[wasm_bindgen_test]
fn finds_every_fixture_embed_form_with_its_id() {
    let root = container(&[PUBLISH, X_COM, DARK, RENDERED, NO_OFFER].concat());
    let ids: Vec<String> = find_embeds(&root).into_iter().map(|e| e.tweet_id.to_string()).collect();
    assert_eq!(ids, ["1528000000000000001", "1528000000000000003", "1528000000000000002", "1528000000000000004", "20"]);
    root.remove();
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
    let host = attach(&embed.element, offer("1528000000000000001", "physical", "available", 5), ctx()).unwrap();
    next_frame().await;
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
async fn clicking_opens_a_modal_product_sheet_and_escape_closes_it() {
    let root = container(X_COM);
    let embed = find_embeds(&root).remove(0);
    let host = attach(&embed.element, offer("1528000000000000003", "ticket", "available", 5), ctx()).unwrap();
    next_frame().await;
    let shadow = shadow(&host);
    let button: HtmlElement = shadow.query_selector("button[part=button]").unwrap().unwrap().unchecked_into();
    assert_eq!(button.text_content().unwrap(), "Get tickets");
    button.click();
    next_frame().await;
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
    next_frame().await;
    assert!(shadow.query_selector("dialog").unwrap().is_none(), "sheet removed");
    assert_eq!(shadow.active_element().map(|e| e.tag_name()), Some("BUTTON".to_owned()), "focus back on the button");
    root.remove();
}

#[wasm_bindgen_test]
async fn sold_out_disables_buying_and_says_why() {
    let root = container(PUBLISH);
    let embed = find_embeds(&root).remove(0);
    let host = attach(&embed.element, offer("1528000000000000001", "physical", "sold_out", 0), ctx()).unwrap();
    next_frame().await;
    let shadow = shadow(&host);
    shadow.query_selector("button[part=button]").unwrap().unwrap().unchecked_into::<HtmlElement>().click();
    next_frame().await;
    let reason = shadow.query_selector(".tb-unavailable").unwrap().expect("a reason").text_content().unwrap();
    assert!(reason.contains("Sold out"), "{reason}");
    let next: web_sys::HtmlButtonElement =
        shadow.query_selector(".tb-product .tb-primary").unwrap().unwrap().unchecked_into();
    assert!(next.disabled());
    root.remove();
}
