//! Per-page globals that work with and without std.
//!
//! The checkout module and the tests link std and use `thread_local!`. The button module is
//! `no_std`, and a wasm module without threads has exactly one thread, so there a global is a
//! plain `static` initialised on first use. [`page_local!`] writes one or the other, and
//! both are read the same way: `NAME.with(|value| ...)`.

// The `Sync` below holds only for a wasm module without threads.
#[cfg(all(not(feature = "std"), any(not(target_arch = "wasm32"), target_feature = "atomics")))]
compile_error!("without std the library is the button module: wasm32, one thread (no atomics)");

/// A lazily initialised global, for the `no_std` button module only (see the module docs).
///
/// A plain slot rather than a `OnceCell`: the module has about twenty of these, and `OnceCell`'s
/// initialisation (with its check for an `init` that uses its own global) is a copy of code
/// per type.
#[cfg(not(feature = "std"))]
pub(crate) struct Local<T> {
    init: fn() -> T,
    slot: core::cell::UnsafeCell<Option<T>>,
}

// SAFETY: only built without std, that is into the button module, which is a wasm32 module
// without threads: nothing can reach the value from a second thread.
#[cfg(not(feature = "std"))]
unsafe impl<T> Sync for Local<T> {}

#[cfg(not(feature = "std"))]
impl<T> Local<T> {
    /// A global whose value `init` makes on first use.
    pub(crate) const fn new(init: fn() -> T) -> Self {
        Local { init, slot: core::cell::UnsafeCell::new(None) }
    }

    /// Runs `f` with the value, making it first if needed.
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(self.get())
    }

    /// The value, made first if needed.
    #[inline(never)]
    fn get(&'static self) -> &'static T {
        let slot = self.slot.get();
        // SAFETY: one thread (above). The slot is written only while it is empty, and a
        // reference into it is handed out only once it is full, after which it is never
        // written again: no reference to a value exists while the slot is written. An `init`
        // that used its own global filled the slot already, and that first value stays.
        unsafe {
            if (*slot).is_none() {
                let value = (self.init)();
                if (*slot).is_none() {
                    *slot = Some(value);
                }
            }
            match &*slot {
                Some(value) => value,
                None => core::hint::unreachable_unchecked(),
            }
        }
    }
}

/// A global whose value is made at compile time, for the `no_std` button module only: no
/// check on reading it and no copy of code per type, where [`Local`] has both.
#[cfg(not(feature = "std"))]
pub(crate) struct Fixed<T>(pub(crate) T);

// SAFETY: as for `Local`: only in the button module, a wasm32 module without threads.
#[cfg(not(feature = "std"))]
unsafe impl<T> Sync for Fixed<T> {}

#[cfg(not(feature = "std"))]
impl<T> Fixed<T> {
    /// Runs `f` with the value.
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}

/// `static NAME: Type = init;`, as `thread_local!` with std and as a [`Local`] without;
/// `static NAME: Type = const { init };` for a value made at compile time, as a [`Fixed`].
macro_rules! page_local {
    ($(#[$attr:meta])* static $name:ident: $t:ty = const $init:block; $($rest:tt)*) => {
        #[cfg(feature = "std")]
        std::thread_local! { $(#[$attr])* static $name: $t = const $init; }
        #[cfg(not(feature = "std"))]
        $(#[$attr])* static $name: $crate::shared::local::Fixed<$t> = $crate::shared::local::Fixed($init);
        $crate::shared::local::page_local! { $($rest)* }
    };
    ($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        #[cfg(feature = "std")]
        std::thread_local! { $(#[$attr])* static $name: $t = $init; }
        #[cfg(not(feature = "std"))]
        $(#[$attr])* static $name: $crate::shared::local::Local<$t> = $crate::shared::local::Local::new(|| $init);
        $crate::shared::local::page_local! { $($rest)* }
    };
    () => {};
}
pub(crate) use page_local;
