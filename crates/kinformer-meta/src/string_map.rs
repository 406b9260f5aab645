//! `StringMap`: the compact, sorted string-to-string map used for labels and annotations.
//!
//! A `BTreeMap<String, String>` allocates a node of eleven slots even for one label, and a
//! vector of string pairs still allocates twice per entry; in a large cache that is most of
//! an object's metadata cost. This map keeps every key and value in one string, in key order,
//! with one table of where each ends: two allocations however many entries it holds.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A sorted map from string keys to string values (labels, annotations, selectors).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StringMap {
    /// Keys and values concatenated in key order: key 0, value 0, key 1, value 1, ...
    text: Box<str>,
    /// Where each key and each value ends in `text` (two offsets per entry).
    ends: Box<[u32]>,
}

impl StringMap {
    /// An empty map.
    pub fn new() -> Self {
        StringMap::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    /// True when the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|index| self.value_at(index))
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`, returning the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let (key, value): (String, String) = (key.into(), value.into());
        let mut entries = self.to_pairs();
        let previous = match self.position(&key) {
            Ok(index) => Some(std::mem::replace(&mut entries[index].1, value)),
            Err(index) => {
                entries.insert(index, (key, value));
                None
            }
        };
        *self = StringMap::from_sorted(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        previous
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.position(key).ok()?;
        let removed = self.value_at(index).to_owned();
        let kept = StringMap::from_sorted(
            self.iter()
                .enumerate()
                .filter(|(at, _)| *at != index)
                .map(|(_, entry)| entry),
        );
        *self = kept;
        Some(removed)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        (0..self.len()).map(|index| (self.key_at(index), self.value_at(index)))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|index| self.key_at(index))
    }

    /// Heap bytes held by this map (its text and offset table), for memory accounting.
    pub fn heap_size(&self) -> usize {
        self.text.len() + std::mem::size_of_val(&*self.ends)
    }

    /// Where the text of slot `slot` (a key at `2 * index`, its value at `2 * index + 1`)
    /// starts and ends.
    fn span(&self, slot: usize) -> &str {
        let start = slot
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.text[start..self.ends[slot] as usize]
    }

    fn key_at(&self, index: usize) -> &str {
        self.span(2 * index)
    }

    fn value_at(&self, index: usize) -> &str {
        self.span(2 * index + 1)
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.key_at(middle).cmp(key) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return Ok(middle),
            }
        }
        Err(low)
    }

    fn to_pairs(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    /// Builds the map from entries already sorted by key without duplicates.
    fn from_sorted<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut builder = Builder::default();
        for (key, value) in entries {
            builder.push(key, value);
        }
        builder.finish()
    }

    /// Builds the map from entries in any order; for a repeated key the last value wins.
    fn from_unsorted(mut entries: Vec<(String, String)>) -> Self {
        // A stable sort keeps repeated keys in arrival order, so the last of each run wins.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut builder = Builder::default();
        for (index, (key, value)) in entries.iter().enumerate() {
            if entries.get(index + 1).is_some_and(|next| next.0 == *key) {
                continue;
            }
            builder.push(key, value);
        }
        builder.finish()
    }
}

/// Appends entries to the map's text and offset table.
#[derive(Default)]
struct Builder {
    text: String,
    ends: Vec<u32>,
}

impl Builder {
    fn push(&mut self, key: &str, value: &str) {
        self.text.push_str(key);
        self.ends.push(offset(self.text.len()));
        self.text.push_str(value);
        self.ends.push(offset(self.text.len()));
    }

    /// True when every key so far is strictly greater than the one before.
    fn is_sorted(&self) -> bool {
        let map = self.view();
        (1..map.len()).all(|index| map.key_at(index - 1) < map.key_at(index))
    }

    fn view(&self) -> StringMapView<'_> {
        StringMapView {
            text: &self.text,
            ends: &self.ends,
        }
    }

    fn finish(self) -> StringMap {
        StringMap {
            text: self.text.into_boxed_str(),
            ends: self.ends.into_boxed_slice(),
        }
    }

    /// The map built so far, copied into allocations of exactly its size.
    fn to_map(&self) -> StringMap {
        StringMap {
            text: Box::from(self.text.as_str()),
            ends: Box::from(self.ends.as_slice()),
        }
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }
}

thread_local! {
    /// Each thread decodes maps into one reused builder, then copies the result out at its
    /// exact size: two allocations per map instead of one per growth step.
    static SCRATCH: RefCell<Builder> = RefCell::new(Builder::default());
}

/// Reads a JSON map's entries into a builder and turns it into a map.
fn decode_entries<'de, A: MapAccess<'de>>(
    builder: &mut Builder,
    access: &mut A,
) -> Result<StringMap, A::Error> {
    builder.clear();
    while let Some((key, value)) = access.next_entry::<Text<'de>, Text<'de>>()? {
        builder.push(&key.0, &value.0);
    }
    // Servers send sorted keys, so this is the common path: one pass, one copy.
    if builder.is_sorted() {
        return Ok(builder.to_map());
    }
    Ok(StringMap::from_unsorted(builder.view().pairs()))
}

/// A borrowed map under construction, to read keys back while building.
struct StringMapView<'a> {
    text: &'a str,
    ends: &'a [u32],
}

impl StringMapView<'_> {
    fn len(&self) -> usize {
        self.ends.len() / 2
    }

    fn key_at(&self, index: usize) -> &str {
        let slot = 2 * index;
        let start = slot
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.text[start..self.ends[slot] as usize]
    }

    fn pairs(&self) -> Vec<(String, String)> {
        (0..self.len())
            .map(|index| {
                let value_start = self.ends[2 * index] as usize;
                let value = &self.text[value_start..self.ends[2 * index + 1] as usize];
                (self.key_at(index).to_owned(), value.to_owned())
            })
            .collect()
    }
}

/// An offset into a map's text. Maps are labels and annotations, which the API limits to
/// 256 KiB in all; a text past 4 GiB would need a different map, not a silent wrap.
fn offset(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl PartialOrd for StringMap {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StringMap {
    /// Compares entry by entry, as a sorted list of pairs would.
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl Hash for StringMap {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for (key, value) in self.iter() {
            key.hash(state);
            value.hash(state);
        }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for StringMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        StringMap::from_unsorted(
            iter.into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        )
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

/// A string read from JSON, borrowed from the input when it holds no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
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
                let scratch = SCRATCH.try_with(|scratch| {
                    let mut builder = scratch.try_borrow_mut().ok()?;
                    Some(decode_entries(&mut builder, &mut access))
                });
                match scratch {
                    Ok(Some(decoded)) => decoded,
                    // No scratch (the thread is ending): a builder of its own.
                    _ => decode_entries(&mut Builder::default(), &mut access),
                }
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
    fn repeated_keys_keep_the_last_value_and_unsorted_input_is_sorted() {
        let map: StringMap = serde_json::from_str(r#"{"b":"1","a":"2","b":"3"}"#).unwrap();
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "2"), ("b", "3")]);
        let map: StringMap = [("z", "1"), ("a", "2"), ("z", "4")].into_iter().collect();
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "2"), ("z", "4")]);
    }

    #[test]
    fn escaped_and_empty_strings_survive_a_round_trip() {
        let json = r#"{"":"","a\"b":"line\nbreak","k":"\u00e9t\u00e9"}"#;
        let map: StringMap = serde_json::from_str(json).unwrap();
        assert_eq!(map.get(""), Some(""));
        assert_eq!(map.get("a\"b"), Some("line\nbreak"));
        assert_eq!(map.get("k"), Some("été"));
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            r#"{"":"","a\"b":"line\nbreak","k":"été"}"#
        );
    }

    #[test]
    fn the_map_holds_its_text_and_offsets_and_nothing_else() {
        let map: StringMap = serde_json::from_str(r#"{"app":"web","tier":"front"}"#).unwrap();
        assert_eq!(map.heap_size(), "appwebtierfront".len() + 4 * 4);
        assert_eq!(StringMap::new().heap_size(), 0);
    }

    #[test]
    fn ordering_and_equality_follow_the_entries() {
        let a = StringMap::from([("a", "1")]);
        let b = StringMap::from([("a", "1"), ("b", "")]);
        assert!(a < b);
        assert_eq!(a, StringMap::from([("a", "1")]));
        assert_ne!(StringMap::from([("ab", "")]), StringMap::from([("a", "b")]));
    }

    #[test]
    fn non_string_value_is_an_error() {
        assert!(serde_json::from_str::<StringMap>(r#"{"a":1}"#).is_err());
    }
}
