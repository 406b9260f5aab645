//! `StringMap`: the compact, sorted string-to-string map used for labels and annotations.
//!
//! A `BTreeMap<String, String>` allocates a node of eleven slots even for one label, which
//! is most of an object's metadata cost in a large cache. This map is one sorted boxed slice,
//! so a pod's three labels cost three entries and their strings, nothing more.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A sorted map from string keys to string values (labels, annotations, selectors).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StringMap {
    entries: Vec<(Box<str>, Box<str>)>,
}

impl StringMap {
    /// An empty map.
    pub fn new() -> Self {
        StringMap::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|index| &*self.entries[index].1)
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`, returning the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let key: String = key.into();
        let value: Box<str> = value.into().into_boxed_str();
        match self.position(&key) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value).into()),
            Err(index) => {
                self.entries.insert(index, (key.into_boxed_str(), value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.position(key).ok()?;
        Some(self.entries.remove(index).1.into())
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(k, v)| (&**k, &**v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.entries.iter().map(|(k, _)| &**k)
    }

    /// Heap bytes held by this map (entries and strings), for memory accounting.
    pub fn heap_size(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(Box<str>, Box<str>)>()
            + self
                .entries
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(key))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for StringMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = StringMap::new();
        for (key, value) in iter {
            map.insert(key, value);
        }
        map.entries.shrink_to_fit();
        map
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for StringMap {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl fmt::Debug for StringMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for StringMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = StringMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings to strings, or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<StringMap, E> {
                Ok(StringMap::new())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<StringMap, E> {
                Ok(StringMap::new())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<StringMap, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StringMap, A::Error> {
                let mut entries: Vec<(Box<str>, Box<str>)> =
                    Vec::with_capacity(access.size_hint().unwrap_or(0));
                while let Some((key, value)) = access.next_entry::<String, String>()? {
                    entries.push((key.into_boxed_str(), value.into_boxed_str()));
                }
                // Servers send sorted keys; sort anyway and let the last duplicate win.
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries.reverse();
                entries.dedup_by(|later, earlier| later.0 == earlier.0);
                entries.reverse();
                entries.shrink_to_fit();
                Ok(StringMap { entries })
            }
        }
        deserializer.deserialize_option(MapVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_keeps_keys_sorted_and_replaces_values() {
        let mut map = StringMap::new();
        assert_eq!(map.insert("b", "1"), None);
        assert_eq!(map.insert("a", "2"), None);
        assert_eq!(map.insert("b", "3").as_deref(), Some("1"));
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map.get("b"), Some("3"));
        assert_eq!(map.remove("a").as_deref(), Some("2"));
        assert!(!map.contains_key("a"));
    }

    #[test]
    fn null_decodes_as_empty_and_round_trips_as_object() {
        let map: StringMap = serde_json::from_str("null").unwrap();
        assert!(map.is_empty());
        let map: StringMap = serde_json::from_str(r#"{"z":"1","a":"2"}"#).unwrap();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":"2","z":"1"}"#);
    }

    #[test]
    fn non_string_value_is_an_error() {
        assert!(serde_json::from_str::<StringMap>(r#"{"a":1}"#).is_err());
    }
}
