//! A web `ReadableStream` as a Rust [`Stream`] and a Rust stream as a `ReadableStream`: the
//! part of crates.io's `wasm-streams` 0.5 API that Leptos's `server_fn` uses (for server
//! functions whose body or answer streams), put in its place for the whole workspace
//! (`[patch.crates-io]` in the root `Cargo.toml`).
//!
//! Why a crate of our own: `wasm-streams` defines three JS classes with `#[wasm_bindgen]`
//! (the underlying source, byte source and sink it hands the browser), and an exported
//! class is linked into every module that links the crate, used or not. Leptos links
//! `server_fn` and `server_fn` links `wasm-streams`, so the checkout module, which calls no
//! server function, carried those classes; wasm-opt removes their exports, but the futures
//! they start stay behind, reachable through the function table. Here the same two
//! conversions are built from closures, which are linked only where something calls them.

use futures_core::Stream;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// A web `ReadableStream` of JS values, on its way to or from a Rust [`Stream`].
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

/// A Rust stream as the browser pulls it: one item per pull.
type Source = Pin<Box<dyn Stream<Item = Result<JsValue, JsValue>>>>;

impl ReadableStream {
    /// Wraps a browser's stream.
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        ReadableStream { raw }
    }

    /// The browser's stream.
    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// A stream the browser reads from `stream`: each pull waits for its next item and
    /// enqueues it; the stream's end closes it and an `Err` item errors it. The Rust stream
    /// is dropped when it ends, errs, or the reader cancels.
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        let source: Rc<RefCell<Option<Source>>> = Rc::new(RefCell::new(Some(Box::pin(stream))));
        let pull = {
            let source = source.clone();
            Closure::<dyn FnMut(web_sys::ReadableStreamDefaultController) -> js_sys::Promise>::new(
                move |controller: web_sys::ReadableStreamDefaultController| {
                    let source = source.clone();
                    wasm_bindgen_futures::future_to_promise(async move {
                        let next = NextItem { source: source.clone() }.await;
                        match next {
                            Some(Ok(chunk)) => controller.enqueue_with_chunk(&chunk)?,
                            Some(Err(error)) => {
                                source.borrow_mut().take();
                                return Err(error);
                            }
                            None => {
                                source.borrow_mut().take();
                                controller.close()?;
                            }
                        }
                        Ok(JsValue::UNDEFINED)
                    })
                },
            )
        };
        let cancel = Closure::<dyn FnMut(JsValue)>::new(move |_reason: JsValue| {
            source.borrow_mut().take();
        });
        // Handed to the browser, which frees them with the stream (no Rust owner outlives it).
        let underlying = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&underlying, &"pull".into(), &pull.into_js_value());
        let _ = js_sys::Reflect::set(&underlying, &"cancel".into(), &cancel.into_js_value());
        // Pulled only when read, as crates.io's: no item is taken from the Rust stream ahead.
        let strategy = web_sys::QueuingStrategy::new();
        strategy.set_high_water_mark(0.0);
        let raw = web_sys::ReadableStream::new_with_underlying_source_and_strategy(&underlying, &strategy)
            .expect_throw("a ReadableStream with a plain pull source");
        ReadableStream { raw }
    }

    /// The browser's stream read as a Rust stream: its chunks in order, then the end; a
    /// read that fails is one `Err` item and the end.
    pub fn into_stream(self) -> IntoStream {
        let reader = self.raw.get_reader().unchecked_into::<web_sys::ReadableStreamDefaultReader>();
        IntoStream { reader: Some(reader), reading: None }
    }
}

/// The next item of a [`ReadableStream::from_stream`] source; the end once it is gone.
struct NextItem {
    source: Rc<RefCell<Option<Source>>>,
}

impl Future for NextItem {
    type Output = Option<Result<JsValue, JsValue>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.source.borrow_mut().as_mut() {
            Some(stream) => stream.as_mut().poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

/// A browser's stream as a Rust [`Stream`] ([`ReadableStream::into_stream`]). Holds the
/// stream's lock until dropped or ended.
pub struct IntoStream {
    reader: Option<web_sys::ReadableStreamDefaultReader>,
    reading: Option<JsFuture>,
}

impl Stream for IntoStream {
    type Item = Result<JsValue, JsValue>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(reader) = self.reader.clone() else { return Poll::Ready(None) };
        let reading = self.reading.get_or_insert_with(|| JsFuture::from(reader.read()));
        let result = match Pin::new(reading).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.reading = None;
        let item = result.and_then(|read| {
            let done = js_sys::Reflect::get(&read, &"done".into())?.as_bool().unwrap_or(false);
            (!done).then(|| js_sys::Reflect::get(&read, &"value".into())).transpose()
        });
        match item {
            Ok(Some(chunk)) => Poll::Ready(Some(Ok(chunk))),
            Ok(None) => {
                self.release();
                Poll::Ready(None)
            }
            Err(error) => {
                self.release();
                Poll::Ready(Some(Err(error)))
            }
        }
    }
}

impl IntoStream {
    /// Lets go of the stream: nothing more is read.
    fn release(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.release_lock();
        }
    }
}

impl Drop for IntoStream {
    fn drop(&mut self) {
        // Stopped before the end: the stream is told no one will read on (its source may let
        // go of what it holds), and is unlocked for anyone else.
        if let Some(reader) = self.reader.take() {
            // A stream that erred refuses the cancel; awaited, so that is no unhandled rejection.
            let cancelled = JsFuture::from(reader.cancel());
            reader.release_lock();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = cancelled.await;
            });
        }
    }
}
