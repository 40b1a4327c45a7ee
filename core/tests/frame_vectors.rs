//! The vault frame's message rules, from the one table both sides run: `frame_vectors.json`
//! beside this file. The frame (`server/assets/frame/rules.mjs`) runs the same theme values
//! and page messages in `tests/e2e/frame_rules.test.mjs`, so the Rust and JavaScript copies
//! of each rule cannot drift apart unnoticed. The frame's own messages (`from_frame`) are
//! the shapes the widget accepts.

use serde::Deserialize;
use tweetbuy_core::frame::{FromFrame, ToFrame};
use tweetbuy_core::theme::{valid, Kind};

#[derive(Deserialize)]
struct Vectors {
    theme_values: Vec<ThemeCase>,
    to_frame: Vec<MessageCase>,
    from_frame: Vec<MessageCase>,
}

#[derive(Deserialize)]
struct ThemeCase {
    kind: String,
    value: String,
    ok: bool,
}

#[derive(Deserialize)]
struct MessageCase {
    note: String,
    message: String,
    ok: bool,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("frame_vectors.json")).expect("frame_vectors.json parses")
}

fn kind(name: &str) -> Kind {
    match name {
        "scheme" => Kind::Scheme,
        "colour" => Kind::Colour,
        "length" => Kind::Length,
        "font" => Kind::Font,
        "weight" => Kind::Weight,
        other => panic!("unknown kind {other} in frame_vectors.json"),
    }
}

#[test]
fn theme_values_are_judged_as_the_table_says() {
    let cases = vectors().theme_values;
    assert!(cases.len() > 100, "the table is there");
    let wrong: Vec<String> = cases
        .iter()
        .filter(|c| valid(kind(&c.kind), &c.value) != c.ok)
        .map(|c| format!("{} {:?}: expected ok={}", c.kind, c.value, c.ok))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn page_messages_are_judged_as_the_table_says() {
    let cases = vectors().to_frame;
    assert!(cases.iter().any(|c| c.ok) && cases.iter().any(|c| !c.ok));
    let wrong: Vec<String> = cases
        .iter()
        .filter(|c| ToFrame::decode(&c.message).is_some() != c.ok)
        .map(|c| format!("{}: expected ok={}", c.note, c.ok))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn frame_messages_are_judged_as_the_table_says() {
    let cases = vectors().from_frame;
    assert!(cases.iter().any(|c| c.ok) && cases.iter().any(|c| !c.ok));
    let wrong: Vec<String> = cases
        .iter()
        .filter(|c| FromFrame::decode(&c.message).is_some() != c.ok)
        .map(|c| format!("{}: expected ok={}", c.note, c.ok))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
