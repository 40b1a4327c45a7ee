//! Reading parsed JSON field by field, whichever parser made it.
//!
//! In both modules the value comes from the browser's own `JSON.parse`, so neither carries a
//! JSON parser of its own (serde_json was a fifth of the button module's bytes, and with the
//! derives of every wire type a third of the checkout module's); native tests read a
//! `serde_json::Value` through the same trait. The checkout module's readers and writers of
//! whole wire types are in `crate::checkout::wire`.

use crate::prelude::*;
use wasm_bindgen::JsCast;

/// A parsed JSON value, read field by field.
pub(crate) trait Json: Sized {
    fn field(&self, key: &str) -> Option<Self>;
    fn text(&self) -> Option<String>;
    // The button module reads only an error's code and message (the kit reads its lookup's
    // answers: `crate::button::offers`); the checkout module's readers use the rest.
    #[cfg_attr(not(feature = "checkout"), allow(dead_code))]
    fn number(&self) -> Option<f64>;
    #[cfg_attr(not(feature = "checkout"), allow(dead_code))]
    fn items(&self) -> Option<Vec<Self>>;
    #[cfg_attr(not(feature = "checkout"), allow(dead_code))]
    fn boolean(&self) -> Option<bool>;
    #[cfg_attr(not(feature = "checkout"), allow(dead_code))]
    fn is_null(&self) -> bool;
    /// An object's own keys; `None` for anything that is not an object.
    #[cfg_attr(not(feature = "checkout"), allow(dead_code))]
    fn keys(&self) -> Option<Vec<String>>;
}

impl Json for wasm_bindgen::JsValue {
    fn field(&self, key: &str) -> Option<Self> {
        let value = js_sys::Reflect::get(self, &key.into()).ok()?;
        (!value.is_undefined()).then_some(value)
    }
    fn text(&self) -> Option<String> {
        self.as_string()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn items(&self) -> Option<Vec<Self>> {
        js_sys::Array::is_array(self).then(|| js_sys::Array::from(self).iter().collect())
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn is_null(&self) -> bool {
        wasm_bindgen::JsValue::is_null(self)
    }
    fn keys(&self) -> Option<Vec<String>> {
        (self.is_object() && !js_sys::Array::is_array(self)).then(|| {
            js_sys::Object::keys(self.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string()).collect()
        })
    }
}

/// A name of one of core's enums (`"physical"`, `"USD"`) by its table ([`wire_names!`]).
/// Not in the button module (no std): it reads its few names with core's own parsers
/// (`ProductKind::from_name`, `Currency::parse`).
#[cfg(feature = "std")]
pub(crate) fn named<T: Copy>(name: &str, names: &[(&str, T)]) -> Option<T> {
    names.iter().find(|(known, _)| *known == name).map(|(_, value)| *value)
}

/// The wire names of one of core's enums, as serde spells them, for [`named`]: a table,
/// where serde's derive writes out a comparison for each variant wherever a name is read.
/// The `match` makes a variant added to core a compile error here until it has its name;
/// the tests check every name against serde.
#[cfg(feature = "std")]
macro_rules! wire_names {
    ($(#[$doc:meta])* $table:ident: $ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        $(#[$doc])*
        pub(crate) const $table: &[(&str, $ty)] = &[$(($name, $ty::$variant)),*];
        const _: fn($ty) = |value| match value {
            $($ty::$variant)|* => {}
        };
    };
}
#[cfg(feature = "std")]
pub(crate) use wire_names;

/// Every name of a table is the one serde writes and reads for its variant.
#[cfg(test)]
pub(crate) fn assert_serde_names<T>(names: &[(&str, T)])
where
    T: Copy + PartialEq + core::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    for (name, value) in names {
        assert_eq!(serde_json::to_value(value).unwrap(), *name, "{value:?}");
        assert_eq!(serde_json::from_value::<T>(serde_json::json!(name)).unwrap(), *value, "{name}");
        assert_eq!(named(name, names), Some(*value));
    }
}

#[cfg(test)]
impl Json for serde_json::Value {
    fn field(&self, key: &str) -> Option<Self> {
        self.get(key).cloned()
    }
    fn text(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn items(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn is_null(&self) -> bool {
        serde_json::Value::is_null(self)
    }
    fn keys(&self) -> Option<Vec<String>> {
        self.as_object().map(|o| o.keys().cloned().collect())
    }
}
