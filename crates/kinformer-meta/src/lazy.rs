//! `Lazy<T>`: a field kept as its compact JSON until somebody reads it.
//!
//! An informer cache holds hundreds of thousands of objects, and most code reads only their
//! metadata. Typed kinds therefore keep their bodies (`spec`, `status`, `data`, ...) as the
//! compact JSON bytes the server sent, and decode them into `T` on first access. The bytes are
//! exactly the JSON size, so an unread body costs no more than the wire format, and an object
//! that is never mutated re-encodes byte for byte.

use std::fmt;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// A JSON field decoded into `T` on first read, kept as compact JSON until then.
pub struct Lazy<T> {
    /// The JSON as received; `None` once the value has been mutated or was built in memory.
    raw: Option<Box<RawValue>>,
    /// The decoded value, filled on first read.
    value: OnceLock<T>,
}

impl<T> Lazy<T> {
    /// Wraps an already decoded value.
    pub fn new(value: T) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        Lazy {
            raw: None,
            value: cell,
        }
    }

    /// Wraps compact JSON that will be decoded on first read.
    pub fn from_raw(raw: Box<RawValue>) -> Self {
        Lazy {
            raw: Some(raw),
            value: OnceLock::new(),
        }
    }

    /// The JSON this field was received as, when it has not been mutated since.
    pub fn raw_json(&self) -> Option<&str> {
        self.raw.as_deref().map(RawValue::get)
    }

    /// True when the value has been decoded (or was built in memory).
    pub fn is_decoded(&self) -> bool {
        self.value.get().is_some()
    }

    /// Bytes held on the heap for the raw JSON (zero once decoded from memory).
    pub fn raw_len(&self) -> usize {
        self.raw.as_deref().map_or(0, |raw| raw.get().len())
    }
}

impl<T: DeserializeOwned> Lazy<T> {
    /// Reads the value, decoding it from JSON on the first call.
    pub fn get(&self) -> Result<&T> {
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        let decoded = self.decode()?;
        // Another thread may have decoded concurrently; either copy is equal.
        Ok(self.value.get_or_init(|| decoded))
    }

    /// Mutable access; the received JSON is dropped since it no longer describes the value.
    pub fn get_mut(&mut self) -> Result<&mut T> {
        if self.value.get().is_none() {
            let decoded = self.decode()?;
            let _ = self.value.set(decoded);
        }
        self.raw = None;
        Ok(self.value.get_mut().expect("value was set just above"))
    }

    /// Replaces the value.
    pub fn set(&mut self, value: T) {
        self.raw = None;
        self.value = OnceLock::new();
        let _ = self.value.set(value);
    }

    /// Takes the decoded value out.
    pub fn into_inner(mut self) -> Result<T> {
        if let Some(value) = self.value.take() {
            return Ok(value);
        }
        self.decode()
    }

    fn decode(&self) -> Result<T> {
        let raw = self.raw.as_deref().map_or("null", RawValue::get);
        serde_json::from_str(raw).map_err(|source| Error::LazyDecodeFailed {
            type_name: std::any::type_name::<T>(),
            message: source.to_string(),
        })
    }
}

impl<T: Default> Default for Lazy<T> {
    fn default() -> Self {
        Lazy::new(T::default())
    }
}

impl<T: Clone> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        let value = OnceLock::new();
        if let Some(decoded) = self.value.get() {
            let _ = value.set(decoded.clone());
        }
        Lazy {
            raw: self.raw.clone(),
            value,
        }
    }
}

impl<T> From<T> for Lazy<T> {
    fn from(value: T) -> Self {
        Lazy::new(value)
    }
}

impl<T: DeserializeOwned + PartialEq> PartialEq for Lazy<T> {
    fn eq(&self, other: &Self) -> bool {
        if let (Some(a), Some(b)) = (self.raw_json(), other.raw_json()) {
            if a == b {
                return true;
            }
        }
        match (self.get(), other.get()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.value.get(), self.raw_json()) {
            (Some(value), _) => value.fmt(f),
            (None, Some(raw)) => write!(f, "Lazy({} bytes of JSON)", raw.len()),
            (None, None) => f.write_str("Lazy(null)"),
        }
    }
}

impl<T: Serialize> Serialize for Lazy<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match (&self.raw, self.value.get()) {
            (Some(raw), _) => raw.serialize(serializer),
            (None, Some(value)) => value.serialize(serializer),
            (None, None) => serializer.serialize_none(),
        }
    }
}

impl<'de, T> Deserialize<'de> for Lazy<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        // Works with serde_json's slice, str, reader and Value deserializers. Other formats
        // (YAML) go through serde_json::Value first; see the typed crate's `from_yaml`.
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(Lazy::from_raw(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn unread_field_reencodes_byte_for_byte() {
        let json = r#"{"b":[1,2,{"c":null}],"a":"x"}"#;
        let lazy: Lazy<serde_json::Value> = serde_json::from_str(json).unwrap();
        assert!(!lazy.is_decoded());
        assert_eq!(serde_json::to_string(&lazy).unwrap(), json);
    }

    #[test]
    fn first_read_decodes_and_later_reads_share_it() {
        let lazy: Lazy<BTreeMap<String, u32>> = serde_json::from_str(r#"{"a":1}"#).unwrap();
        assert_eq!(lazy.get().unwrap()["a"], 1);
        assert!(lazy.is_decoded());
        assert!(std::ptr::eq(lazy.get().unwrap(), lazy.get().unwrap()));
    }

    #[test]
    fn mutation_drops_the_stale_raw_json() {
        let mut lazy: Lazy<BTreeMap<String, u32>> = serde_json::from_str(r#"{"a":1}"#).unwrap();
        lazy.get_mut().unwrap().insert("b".into(), 2);
        assert_eq!(lazy.raw_json(), None);
        assert_eq!(serde_json::to_string(&lazy).unwrap(), r#"{"a":1,"b":2}"#);
    }

    #[test]
    fn malformed_body_is_an_error_naming_the_type_not_a_panic() {
        let lazy: Lazy<BTreeMap<String, u32>> = serde_json::from_str(r#"{"a":"nope"}"#).unwrap();
        let err = lazy.get().unwrap_err();
        assert!(matches!(err, Error::LazyDecodeFailed { .. }), "{err}");
        assert!(err.to_string().contains("BTreeMap"), "{err}");
    }

    #[test]
    fn decodes_from_a_json_value_too() {
        let value = serde_json::json!({"spec": {"replicas": 3}});
        #[derive(Deserialize)]
        struct Holder {
            spec: Lazy<serde_json::Value>,
        }
        let holder: Holder = serde_json::from_value(value).unwrap();
        assert_eq!(holder.spec.get().unwrap()["replicas"], 3);
    }
}
