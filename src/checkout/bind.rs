//! One type for the live values of the sheet's views, its effects and its event handlers.
//!
//! Leptos compiles the code that renders a closure's value (its effect, and its text,
//! attribute or view state) once per closure type, and every closure is a type of its own.
//! Behind [`Bound`], the live texts, flags, attribute values and views of one value type
//! share that code. It is the type `view!` itself gives the closures written in place
//! (`{move || …}`), so a named closure passed through [`bind`] shares their code too.

use std::sync::{Arc, Mutex};

/// A view child or attribute value that follows the signals it reads.
pub type Bound<T> = Arc<Mutex<dyn FnMut() -> T + Send>>;

/// `read` as a [`Bound`].
pub fn bind<T>(read: impl FnMut() -> T + Send + 'static) -> Bound<T> {
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
