//! The two conversions in a real browser (wasm-bindgen-test in headless Chromium, run by
//! `make test-wasm`): a Rust stream the browser reads, and a browser's stream read in Rust.
#![cfg(target_arch = "wasm32")]

use futures_core::Stream;
use std::cell::Cell;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wasm_streams::ReadableStream;

wasm_bindgen_test_configure!(run_in_browser);

type Item = Result<JsValue, JsValue>;

/// The given items, then the end (or, with `hang`, no end); `dropped` is set when the
/// stream is dropped, and `polls` counts how often it was asked. With `later`, each item
/// comes a turn of the task queue after it was first asked for (the waker's path).
struct Items {
    items: std::vec::IntoIter<Item>,
    hang: bool,
    later: bool,
    waiting: bool,
    dropped: Rc<Cell<bool>>,
    polls: Rc<Cell<u32>>,
}

impl Items {
    fn new(items: Vec<Item>) -> Items {
        Items {
            items: items.into_iter(),
            hang: false,
            later: false,
            waiting: false,
            dropped: Rc::default(),
            polls: Rc::default(),
        }
    }
}

impl Stream for Items {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.polls.set(self.polls.get() + 1);
        if self.later && !self.waiting {
            self.waiting = true;
            let waker = cx.waker().clone();
            let wake = Closure::once(move |_: JsValue| waker.wake());
            let _ = js_sys::Promise::resolve(&JsValue::UNDEFINED).then(&wake);
            wake.forget();
            return Poll::Pending;
        }
        self.waiting = false;
        match self.items.next() {
            None if self.hang => Poll::Pending,
            next => Poll::Ready(next),
        }
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        self.dropped.set(true);
    }
}

/// Every item of `stream` until its end.
async fn read_all(mut stream: impl Stream<Item = Item> + Unpin) -> Vec<Item> {
    let mut items = Vec::new();
    while let Some(item) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        items.push(item);
    }
    items
}

fn bytes(text: &str) -> Item {
    Ok(js_sys::Uint8Array::from(text.as_bytes()).into())
}

/// One turn of the browser's task queue, for what a stream does after a call returns.
async fn settle() {
    JsFuture::from(js_sys::Promise::resolve(&JsValue::UNDEFINED)).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_browser_reads_a_rust_stream_to_its_end() {
    let items = Items::new(vec![bytes("tweet"), bytes("buy")]);
    let dropped = items.dropped.clone();
    let raw = ReadableStream::from_stream(items).into_raw();
    let response = web_sys::Response::new_with_opt_readable_stream(Some(&raw)).unwrap();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    assert_eq!(text.as_string().as_deref(), Some("tweetbuy"));
    assert!(dropped.get(), "the Rust stream is dropped once it has ended");
}

#[wasm_bindgen_test]
async fn items_that_come_later_wake_the_read_and_the_stream_is_let_go_at_its_end() {
    let mut items = Items::new(vec![Ok("a".into()), Ok("b".into())]);
    items.later = true;
    let raw = ReadableStream::from_stream(items).into_raw();
    let read = read_all(ReadableStream::from_raw(raw.clone()).into_stream()).await;
    let read: Vec<Option<String>> = read.into_iter().map(|item| item.ok().and_then(|v| v.as_string())).collect();
    assert_eq!(read, [Some("a".into()), Some("b".into())]);
    assert!(!raw.locked(), "a read to the end releases the stream");
}

#[wasm_bindgen_test]
async fn the_rust_stream_is_asked_for_an_item_only_when_one_is_read() {
    let items = Items::new(vec![Ok(1.into()), Ok(2.into()), Ok(3.into())]);
    let polls = items.polls.clone();
    let raw = ReadableStream::from_stream(items).into_raw();
    settle().await;
    assert_eq!(polls.get(), 0, "nothing is taken before a read");
    let mut stream = ReadableStream::from_raw(raw).into_stream();
    let first = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
    assert_eq!(first.and_then(Result::ok), Some(JsValue::from(1)));
    settle().await;
    assert_eq!(polls.get(), 1, "one read, one item asked for");
}

#[wasm_bindgen_test]
async fn a_browser_stream_reads_in_rust_chunk_by_chunk() {
    let response = web_sys::Response::new_with_opt_str(Some("hello, stream")).unwrap();
    let items = read_all(ReadableStream::from_raw(response.body().unwrap()).into_stream()).await;
    assert!(!items.is_empty());
    let bytes: Vec<u8> = items.into_iter().flat_map(|c| js_sys::Uint8Array::new(&c.unwrap()).to_vec()).collect();
    assert_eq!(bytes, b"hello, stream");
}

#[wasm_bindgen_test]
async fn an_error_of_the_rust_stream_is_the_reads_last_item() {
    let items = Items::new(vec![Ok(1.into()), Err("broken".into()), Ok(2.into())]);
    let dropped = items.dropped.clone();
    let raw = ReadableStream::from_stream(items).into_raw();
    let read = read_all(ReadableStream::from_raw(raw).into_stream()).await;
    assert_eq!(read.len(), 2, "nothing after the error: {read:?}");
    assert_eq!(read[0].as_ref().ok(), Some(&JsValue::from(1)));
    assert_eq!(read[1].as_ref().err().and_then(JsValue::as_string).as_deref(), Some("broken"));
    assert!(dropped.get(), "the Rust stream is dropped once it has erred");
}

#[wasm_bindgen_test]
async fn a_reader_that_stops_early_cancels_the_stream_and_drops_its_source() {
    let mut items = Items::new(vec![Ok("first".into())]);
    items.hang = true;
    let dropped = items.dropped.clone();
    let raw = ReadableStream::from_stream(items).into_raw();
    let mut stream = ReadableStream::from_raw(raw.clone()).into_stream();
    let first = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
    assert_eq!(first.and_then(Result::ok).and_then(|v| v.as_string()).as_deref(), Some("first"));
    assert!(!dropped.get());
    drop(stream);
    settle().await;
    assert!(dropped.get(), "dropping the Rust reader cancels the stream, which lets go of its source");
    assert!(!raw.locked(), "and releases the stream");
}
