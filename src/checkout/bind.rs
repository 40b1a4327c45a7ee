//! One type for the live values of the sheet's views.
//!
//! Leptos compiles the code that renders a closure's value (its effect, and its text or
//! attribute state) once per closure type, and every closure is a type of its own. Behind
//! [`Bound`], the live texts, flags and attribute values of one value type share that code.

use std::sync::Arc;

/// A view child or attribute value that follows the signals it reads.
pub type Bound<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// `read` as a [`Bound`].
pub fn bind<T>(read: impl Fn() -> T + Send + Sync + 'static) -> Bound<T> {
    Arc::new(read)
}
