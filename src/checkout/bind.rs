//! One type for the live values of the sheet's views.
//!
//! Leptos compiles the code that renders a closure's value (its effect, and its text,
//! attribute or view state) once per closure type, and every closure is a type of its own.
//! Behind [`Bound`] (and [`BoundView`] for views, which are not `Sync`), the live texts,
//! flags, attribute values and views of one value type share that code.

use std::sync::{Arc, Mutex};

/// A view child or attribute value that follows the signals it reads.
pub type Bound<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// A view (an `AnyView`, or an optional one) that follows the signals it reads.
pub type BoundView<T> = Arc<Mutex<dyn FnMut() -> T + Send>>;

/// `read` as a [`Bound`].
pub fn bind<T>(read: impl Fn() -> T + Send + Sync + 'static) -> Bound<T> {
    Arc::new(read)
}

/// `read` as a [`BoundView`].
pub fn bind_view<T>(read: impl FnMut() -> T + Send + 'static) -> BoundView<T> {
    Arc::new(Mutex::new(read))
}

/// Runs `run` now and again whenever a signal it read changes, as `Effect::new` does, with
/// what it returned the last time. Boxed, so each value type's effect task is compiled once.
pub fn effect<T: 'static>(run: impl FnMut(Option<T>) -> T + 'static) {
    let run: Box<dyn FnMut(Option<T>) -> T> = Box::new(run);
    leptos::prelude::Effect::new(run);
}

/// An event handler, boxed: each event's listener code is compiled once, not per handler.
pub fn handler<E>(on_event: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(on_event)
}
