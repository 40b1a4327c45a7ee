//! A value that belongs to one thread and may travel across threads, as long as it is only
//! reached and dropped on its own: the API of crates.io's `send_wrapper` 0.6, which Leptos
//! builds on, put in its place for the whole workspace (`[patch.crates-io]` in the root
//! `Cargo.toml`).
//!
//! Why a crate of our own: `send_wrapper` asks `std::thread::current()` for the thread
//! every time a value is wrapped or reached. On `wasm32-unknown-unknown` without atomics
//! there is only one thread, yet that call links std's thread handles (their names,
//! reference counts and the lazily made handle of the main thread): 4.8 KB of the checkout
//! module's wasm, 2.9 KB after brotli (docs/performance.md). Here, on such a target, a
//! value's thread is a zero-sized [`Home`] that is always the current one, so every check
//! folds away; everywhere else it is the [`std::thread::ThreadId`], checked as
//! `send_wrapper` checks it, with the same panics.

use std::fmt;
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};

/// Where a wrapped value was made. On a wasm target without atomics there is one thread,
/// so there is nothing to record.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Home;

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
impl Home {
    fn current() -> Self {
        Home
    }
}

/// Where a wrapped value was made: its thread.
#[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Home(std::thread::ThreadId);

#[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
impl Home {
    fn current() -> Self {
        Home(std::thread::current().id())
    }
}

/// A value of the thread that wrapped it, which is `Send` and `Sync` whatever it holds.
///
/// Reaching the value (`Deref`, `DerefMut`, [`SendWrapper::take`], cloning, formatting,
/// polling) from another thread panics, and so does dropping it there unless the value
/// needs no drop or that thread is already panicking (then the value is leaked rather than
/// dropped on the wrong thread).
pub struct SendWrapper<T> {
    value: ManuallyDrop<T>,
    home: Home,
}

// SAFETY: the value is only ever reached, moved out or dropped on the thread that wrapped it:
// every access checks `home` first and panics elsewhere, and `Drop` leaks it rather than
// drop it on another thread.
unsafe impl<T> Send for SendWrapper<T> {}
// SAFETY: as for `Send`: a shared reference reaches the value only through `Deref`, which
// checks the thread.
unsafe impl<T> Sync for SendWrapper<T> {}

impl<T> SendWrapper<T> {
    /// Wraps `value`, which belongs to the current thread from now on.
    pub fn new(value: T) -> SendWrapper<T> {
        SendWrapper { value: ManuallyDrop::new(value), home: Home::current() }
    }

    /// Whether the current thread is the one that wrapped the value, so it may be reached.
    pub fn valid(&self) -> bool {
        self.home == Home::current()
    }

    /// The value, unwrapped.
    ///
    /// # Panics
    /// On any thread but the one that wrapped it.
    #[track_caller]
    pub fn take(self) -> T {
        self.check(Use::Reach);
        let mut this = ManuallyDrop::new(self);
        // SAFETY: checked to be on the value's thread; `this` is never dropped, so the value
        // is moved out exactly once.
        unsafe { ManuallyDrop::take(&mut this.value) }
    }

    #[track_caller]
    fn check(&self, what: Use) {
        if !self.valid() {
            wrong_thread(what);
        }
    }
}

impl<T> Deref for SendWrapper<T> {
    type Target = T;

    /// # Panics
    /// On any thread but the one that wrapped the value.
    #[track_caller]
    fn deref(&self) -> &T {
        self.check(Use::Reach);
        &self.value
    }
}

impl<T> DerefMut for SendWrapper<T> {
    /// # Panics
    /// On any thread but the one that wrapped the value.
    #[track_caller]
    fn deref_mut(&mut self) -> &mut T {
        self.check(Use::Reach);
        &mut self.value
    }
}

impl<T> Drop for SendWrapper<T> {
    /// Drops the value on its own thread. On another it panics, unless the value needs no
    /// drop (nothing of it is reached then) or the thread is already panicking (a second
    /// panic would abort): the value is leaked instead.
    #[track_caller]
    fn drop(&mut self) {
        if !mem::needs_drop::<T>() || self.valid() {
            // SAFETY: on the value's thread (or a value with no drop glue), and `value` is
            // not used after this.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        } else if !std::thread::panicking() {
            wrong_thread(Use::Drop);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for SendWrapper<T> {
    /// # Panics
    /// On any thread but the one that wrapped the value.
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendWrapper").field("value", self.deref()).field("home", &self.home).finish()
    }
}

impl<T: Clone> Clone for SendWrapper<T> {
    /// A copy of the value, wrapped on the current thread.
    ///
    /// # Panics
    /// On any thread but the one that wrapped the value.
    #[track_caller]
    fn clone(&self) -> Self {
        SendWrapper::new(self.deref().clone())
    }
}

#[cfg(feature = "futures")]
mod futures {
    use super::{SendWrapper, Use};
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};
    use futures_core::Stream;

    impl<F: Future> Future for SendWrapper<F> {
        type Output = F::Output;

        /// # Panics
        /// On any thread but the one that wrapped the future.
        #[track_caller]
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.check(Use::Poll);
            // SAFETY: the future lives inside the wrapper, which is pinned, and is never moved
            // out of it while pinned (`take` consumes an unpinned wrapper).
            unsafe { self.map_unchecked_mut(|this| &mut *this.value) }.poll(cx)
        }
    }

    impl<S: Stream> Stream for SendWrapper<S> {
        type Item = S::Item;

        /// # Panics
        /// On any thread but the one that wrapped the stream.
        #[track_caller]
        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
            self.check(Use::Poll);
            // SAFETY: as for `Future::poll` above.
            unsafe { self.map_unchecked_mut(|this| &mut *this.value) }.poll_next(cx)
        }

        fn size_hint(&self) -> (usize, Option<usize>) {
            (**self).size_hint()
        }
    }
}

/// What was done to a value on the wrong thread, for the panic's message.
#[derive(Clone, Copy)]
enum Use {
    Reach,
    Poll,
    Drop,
}

#[cold]
#[inline(never)]
#[track_caller]
fn wrong_thread(what: Use) -> ! {
    let what = match what {
        Use::Reach => "Dereferenced",
        Use::Poll => "Polled",
        Use::Drop => "Dropped",
    };
    panic!("{what} a SendWrapper<T> on a thread other than the one that wrapped it")
}

#[cfg(test)]
mod tests {
    //! The `futures` tests run when the feature is on: `cargo test --workspace` (as `make test`
    //! runs it) has it through Leptos, `cargo test -p send_wrapper` needs `--features futures`.
    use super::*;
    use std::rc::Rc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread;

    /// Whether `use_it` panics when run on another thread on a value wrapped on this one.
    fn panics_elsewhere<T: 'static>(value: T, use_it: impl FnOnce(&mut SendWrapper<T>) + Send + 'static) -> bool {
        let mut wrapped = SendWrapper::new(value);
        thread::spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| use_it(&mut wrapped)));
            // Back home, so that this thread's drop is not the panic looked for.
            (outcome.is_err(), wrapped)
        })
        .join()
        .map(|(panicked, wrapped)| {
            drop(wrapped);
            panicked
        })
        .unwrap()
    }

    /// Sets its flag when dropped.
    #[derive(Debug, Clone)]
    struct Dropped(Arc<AtomicBool>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_value_is_reached_changed_and_taken_on_its_own_thread() {
        let mut wrapped = SendWrapper::new(Rc::new(vec![1, 2]));
        assert!(wrapped.valid());
        assert_eq!(**wrapped, [1, 2]);
        Rc::make_mut(&mut wrapped).push(3);
        let copy = wrapped.clone();
        assert_eq!(*copy.take(), [1, 2, 3]);
        assert_eq!(format!("{wrapped:?}").split(',').next(), Some("SendWrapper { value: [1"));

        let flag = Arc::new(AtomicBool::new(false));
        drop(SendWrapper::new(Dropped(flag.clone())));
        assert!(flag.load(Ordering::SeqCst), "dropped at home, the value is dropped");
    }

    #[test]
    fn another_thread_may_move_it_but_not_reach_it_in_any_way() {
        assert!(!panics_elsewhere(Rc::new(1), |w| assert!(!w.valid())), "asking is allowed");
        assert!(panics_elsewhere(Rc::new(1), |w| assert_eq!(***w, 1)), "Deref");
        assert!(panics_elsewhere(Rc::new(1), |w| *Rc::make_mut(w) += 1), "DerefMut");
        assert!(panics_elsewhere(Rc::new(1), |w| drop(w.clone())), "Clone");
        assert!(panics_elsewhere(Rc::new(1), |w| drop(format!("{w:?}"))), "Debug");

        let elsewhere = SendWrapper::new(Rc::new(6));
        let taken =
            thread::spawn(move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| elsewhere.take())).is_ok());
        assert!(!taken.join().unwrap(), "taking on another thread panics");
    }

    #[test]
    fn dropping_on_another_thread_panics_unless_nothing_is_dropped() {
        let flag = Arc::new(AtomicBool::new(false));
        let dropped = thread::spawn({
            let wrapped = SendWrapper::new(Dropped(flag.clone()));
            move || drop(wrapped)
        });
        assert!(dropped.join().is_err(), "a value with drop glue is not dropped on another thread");
        assert!(!flag.load(Ordering::SeqCst), "and the value is not dropped there");

        let plain = SendWrapper::new(7_u32);
        assert!(thread::spawn(move || drop(plain)).join().is_ok(), "a u32 has nothing to drop");
    }

    #[test]
    fn a_thread_already_panicking_leaks_the_value_rather_than_panic_twice() {
        let flag = Arc::new(AtomicBool::new(false));
        let wrapped = SendWrapper::new(Dropped(flag.clone()));
        let outcome = thread::spawn(move || {
            let _held = wrapped;
            panic!("the thread's own panic");
        })
        .join();
        let message = outcome.unwrap_err();
        assert_eq!(message.downcast_ref::<&str>(), Some(&"the thread's own panic"), "no second panic, no abort");
        assert!(!flag.load(Ordering::SeqCst), "leaked, not dropped on the wrong thread");
    }

    #[cfg(feature = "futures")]
    #[test]
    fn a_wrapped_future_and_stream_are_polled_on_their_thread_only() {
        use core::pin::Pin;
        use core::task::{Context, Poll};
        use futures_core::Stream;

        struct Count(Rc<u8>);
        impl Stream for Count {
            type Item = u8;
            fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<u8>> {
                let n = *self.0;
                self.0 = Rc::new(n + 1);
                Poll::Ready((n < 2).then_some(n))
            }
        }
        fn drain(stream: &mut SendWrapper<Count>) -> Vec<u8> {
            futures_executor::block_on(core::future::poll_fn(|cx| {
                let mut items = Vec::new();
                while let Poll::Ready(Some(n)) = Pin::new(&mut *stream).poll_next(cx) {
                    items.push(n);
                }
                Poll::Ready(items)
            }))
        }

        let rc = Rc::new(40);
        let future = SendWrapper::new(async move { *rc + 2 });
        assert_eq!(futures_executor::block_on(future), 42);
        assert_eq!(drain(&mut SendWrapper::new(Count(Rc::new(0)))), [0, 1]);
        assert_eq!(SendWrapper::new(Count(Rc::new(0))).size_hint(), (0, None));

        let elsewhere = SendWrapper::new(async { 1 });
        let polled = thread::spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| futures_executor::block_on(elsewhere))).is_ok()
        });
        assert!(!polled.join().unwrap(), "polling a future on another thread panics");
        assert!(panics_elsewhere(Count(Rc::new(0)), |s| drop(drain(s))), "polling a stream on another thread panics");
    }
}
