//! `Packed<T>`: a rarely read field kept as LZ4-compressed JSON until somebody reads it.
//!
//! [`Lazy`](crate::Lazy) keeps a body as the JSON it arrived as, which costs exactly its
//! size. `managedFields` is different: it is about a third of a typical pod's JSON, almost
//! nobody reads it, and its text (`{".":{},"f:image":{},...}`) repeats itself so much that a
//! fast block compressor halves it. Compressing costs about 2 ns a byte on decode, once;
//! reading decompresses (about 0.5 ns a byte) and decodes into `T`, kept from then on. An
//! unread field re-encodes to exactly the bytes it arrived as. Fields under 128 bytes, and
//! every field while [`set_compression`] is off, are kept as one uncompressed LZ4 block
//! instead: the same layout, the cost of a copy.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::OnceLock;

use lz4_flex::block::{
    compress_into_with_table, compress_prepend_size, get_maximum_output_size, CompressTable,
};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// A JSON field decoded into `T` on first read, kept LZ4-compressed until then.
pub struct Packed<T> {
    /// The JSON as received, compressed, with its length in front; empty (no allocation)
    /// once the value has been mutated or was built in memory. Never empty otherwise, and a
    /// box rather than an `Option` so `Option<Packed<T>>` needs no extra tag.
    packed: Box<[u8]>,
    /// The decoded value, filled on first read; boxed so an unread field stays two words
    /// and a flag.
    value: OnceLock<Box<T>>,
}

impl<T> Packed<T> {
    /// Wraps an already decoded value.
    pub fn new(value: T) -> Self {
        Packed {
            packed: Box::default(),
            value: OnceLock::from(Box::new(value)),
        }
    }

    /// Compresses JSON text that will be decoded on first read.
    pub fn from_raw(raw: &RawValue) -> Self {
        Packed {
            packed: pack(raw.get()),
            value: OnceLock::new(),
        }
    }

    /// The JSON this field was received as, when it has not been mutated since
    /// (decompressed on each call).
    pub fn raw_json(&self) -> Option<Result<String>> {
        self.kept().map(unpack::<T>)
    }

    /// The compressed JSON, when kept.
    fn kept(&self) -> Option<&[u8]> {
        Some(&*self.packed).filter(|packed| !packed.is_empty())
    }

    /// True when the value has been decoded (or was built in memory).
    pub fn is_decoded(&self) -> bool {
        self.value.get().is_some()
    }

    /// Heap bytes held for the compressed JSON (zero once mutated or built in memory).
    pub fn packed_len(&self) -> usize {
        self.packed.len()
    }
}

impl<T: DeserializeOwned> Packed<T> {
    /// Reads the value, decompressing and decoding it on the first call.
    pub fn get(&self) -> Result<&T> {
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        let decoded = Box::new(self.decode()?);
        // Another thread may have decoded concurrently; either copy is equal.
        Ok(self.value.get_or_init(|| decoded))
    }

    /// Mutable access; the received JSON is dropped since it no longer describes the value.
    pub fn get_mut(&mut self) -> Result<&mut T> {
        if self.value.get().is_none() {
            let decoded = Box::new(self.decode()?);
            let _ = self.value.set(decoded);
        }
        self.packed = Box::default();
        self.value
            .get_mut()
            .map(|value| &mut **value)
            .ok_or(Error::LazyDecodeFailed {
                type_name: std::any::type_name::<T>(),
                message: "the value vanished after decoding".into(),
            })
    }

    /// Replaces the value.
    pub fn set(&mut self, value: T) {
        self.packed = Box::default();
        self.value = OnceLock::from(Box::new(value));
    }

    /// Takes the decoded value out.
    pub fn into_inner(mut self) -> Result<T> {
        if let Some(value) = self.value.take() {
            return Ok(*value);
        }
        self.decode()
    }

    fn decode(&self) -> Result<T> {
        let text = match self.kept() {
            Some(packed) => unpack::<T>(packed)?,
            None => "null".to_owned(),
        };
        serde_json::from_str(&text).map_err(|source| Error::LazyDecodeFailed {
            type_name: std::any::type_name::<T>(),
            message: source.to_string(),
        })
    }
}

/// Whether [`Packed`] fields decoded from now on are compressed (the default) or only
/// copied, process-wide.
///
/// Compressing halves `managedFields` in memory and costs about 1 to 2 microseconds per
/// object on decode (about a fifth of decoding a typical pod); a process that decodes far
/// more objects than it keeps, or keeps few, may prefer the copy. Fields already decoded
/// keep their form; both forms read, compare and encode alike.
pub fn set_compression(enabled: bool) {
    COMPRESSION.store(enabled, AtomicOrdering::Relaxed);
}

/// Whether [`Packed`] fields are compressed on decode (see [`set_compression`]).
pub fn compression() -> bool {
    COMPRESSION.load(AtomicOrdering::Relaxed)
}

static COMPRESSION: AtomicBool = AtomicBool::new(true);

/// Packs JSON text into an LZ4 block, its length in front (the layout
/// `decompress_size_prepended` reads): compressed, or as one run of literals when
/// compression is off (a valid block that costs a copy).
fn pack(text: &str) -> Box<[u8]> {
    // Below this a block of literals is as small as LZ4 makes it, and cheaper to build.
    const WORTH_COMPRESSING: usize = 128;
    if compression() && text.len() >= WORTH_COMPRESSING {
        compress(text)
    } else {
        store(text.as_bytes())
    }
}

/// An LZ4 block holding `input` as literals only: a token whose high nibble says "15 or
/// more literals", the rest of the count in 255s and a final byte, then the bytes.
fn store(input: &[u8]) -> Box<[u8]> {
    let Ok(len) = u32::try_from(input.len()) else {
        return compress_prepend_size(input).into_boxed_slice();
    };
    let mut block = Vec::with_capacity(4 + 1 + input.len() / 255 + 1 + input.len());
    block.extend_from_slice(&len.to_le_bytes());
    if input.len() < 15 {
        block.push((input.len() as u8) << 4);
    } else {
        block.push(0xF0);
        let mut rest = input.len() - 15;
        while rest >= 255 {
            block.push(255);
            rest -= 255;
        }
        block.push(rest as u8);
    }
    block.extend_from_slice(input);
    block.into_boxed_slice()
}

/// Compresses `text`. Each thread keeps its compressor's hash table and a scratch buffer,
/// so compressing allocates only the result, at its exact size.
fn compress(text: &str) -> Box<[u8]> {
    thread_local! {
        static SCRATCH: RefCell<(CompressTable, Vec<u8>)> =
            RefCell::new((CompressTable::default(), Vec::new()));
    }
    let input = text.as_bytes();
    let compressed = SCRATCH.try_with(|scratch| {
        let (table, buffer) = &mut *scratch.try_borrow_mut().ok()?;
        buffer.clear();
        buffer.resize(get_maximum_output_size(input.len()), 0);
        let written = compress_into_with_table(input, buffer, table).ok()?;
        let mut packed = Vec::with_capacity(4 + written);
        packed.extend_from_slice(&u32::try_from(input.len()).ok()?.to_le_bytes());
        packed.extend_from_slice(&buffer[..written]);
        Some(packed.into_boxed_slice())
    });
    // Without the scratch (a thread being torn down, a text past 4 GiB), the one-off way.
    compressed
        .ok()
        .flatten()
        .unwrap_or_else(|| compress_prepend_size(input).into_boxed_slice())
}

/// Decompresses what [`pack`] made. It never fails on bytes `pack` made; the error is for a
/// bug, named, rather than a panic.
fn unpack<T>(packed: &[u8]) -> Result<String> {
    let failed = |message: String| Error::LazyDecodeFailed {
        type_name: std::any::type_name::<T>(),
        message,
    };
    let bytes = lz4_flex::block::decompress_size_prepended(packed)
        .map_err(|error| failed(format!("decompressing the kept JSON: {error}")))?;
    String::from_utf8(bytes).map_err(|error| failed(format!("the kept JSON: {error}")))
}

impl<T: Default> Default for Packed<T> {
    fn default() -> Self {
        Packed::new(T::default())
    }
}

impl<T: Clone> Clone for Packed<T> {
    fn clone(&self) -> Self {
        let value = OnceLock::new();
        if let Some(decoded) = self.value.get() {
            let _ = value.set(decoded.clone());
        }
        Packed {
            packed: self.packed.clone(),
            value,
        }
    }
}

impl<T> From<T> for Packed<T> {
    fn from(value: T) -> Self {
        Packed::new(value)
    }
}

impl<T: DeserializeOwned + PartialEq> PartialEq for Packed<T> {
    fn eq(&self, other: &Self) -> bool {
        // Equal compressed bytes come from equal text (the compressor is deterministic).
        if let (Some(a), Some(b)) = (self.kept(), other.kept()) {
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

impl<T: fmt::Debug> fmt::Debug for Packed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.value.get(), self.kept()) {
            (Some(value), _) => value.fmt(f),
            (None, Some(packed)) => write!(f, "Packed({} bytes of compressed JSON)", packed.len()),
            (None, None) => f.write_str("Packed(null)"),
        }
    }
}

impl<T: Serialize> Serialize for Packed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        match (self.kept(), self.value.get()) {
            (Some(packed), _) => {
                let text = unpack::<T>(packed).map_err(S::Error::custom)?;
                let raw = RawValue::from_string(text).map_err(S::Error::custom)?;
                raw.serialize(serializer)
            }
            (None, Some(value)) => value.serialize(serializer),
            (None, None) => serializer.serialize_none(),
        }
    }
}

impl<'de, T> Deserialize<'de> for Packed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        // Like `Lazy`: serde_json's slice, str, reader and Value deserializers can give the
        // raw text; other formats go through serde_json::Value first.
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(Packed::from_raw(&raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const FIELDS: &str = r#"[{"manager":"kubelet","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},"f:phase":{}}},"subresource":"status"}]"#;

    #[test]
    fn unread_field_reencodes_byte_for_byte_and_is_smaller_than_its_json() {
        let packed: Packed<serde_json::Value> = serde_json::from_str(FIELDS).unwrap();
        assert!(!packed.is_decoded());
        assert_eq!(serde_json::to_string(&packed).unwrap(), FIELDS);
        assert_eq!(packed.raw_json().unwrap().unwrap(), FIELDS);
        assert!(
            packed.packed_len() < FIELDS.len() * 9 / 10,
            "{} of {}",
            packed.packed_len(),
            FIELDS.len()
        );
    }

    #[test]
    fn an_unread_field_is_small_inline() {
        assert!(size_of::<Option<Packed<Vec<String>>>>() <= 4 * size_of::<usize>());
    }

    #[test]
    fn stored_blocks_read_back_exactly_at_every_length_class() {
        for len in [1, 14, 15, 16, 269, 270, 271, 600, 5_000] {
            let text: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let block = store(text.as_bytes());
            assert_eq!(unpack::<()>(&block).unwrap(), text, "length {len}");
            assert!(
                block.len() <= text.len() + 4 + 2 + len / 255,
                "length {len}"
            );
        }
    }

    #[test]
    fn short_fields_are_copied_and_read_back_the_same() {
        let json = r#"[{"manager":"m","operation":"Apply"}]"#;
        let packed: Packed<Vec<serde_json::Value>> = serde_json::from_str(json).unwrap();
        assert_eq!(packed.packed_len(), json.len() + 4 + 2);
        assert_eq!(serde_json::to_string(&packed).unwrap(), json);
        assert_eq!(packed.get().unwrap()[0]["operation"], "Apply");
    }

    #[test]
    fn first_read_decodes_and_later_reads_share_it() {
        let packed: Packed<BTreeMap<String, u32>> = serde_json::from_str(r#"{"a":1}"#).unwrap();
        assert_eq!(packed.get().unwrap()["a"], 1);
        assert!(packed.is_decoded());
        assert!(std::ptr::eq(packed.get().unwrap(), packed.get().unwrap()));
    }

    #[test]
    fn mutation_drops_the_stale_json() {
        let mut packed: Packed<BTreeMap<String, u32>> = serde_json::from_str(r#"{"a":1}"#).unwrap();
        packed.get_mut().unwrap().insert("b".into(), 2);
        assert!(packed.raw_json().is_none());
        assert_eq!(packed.packed_len(), 0);
        assert_eq!(serde_json::to_string(&packed).unwrap(), r#"{"a":1,"b":2}"#);
    }

    #[test]
    fn equal_json_is_equal_and_a_decoded_value_compares_by_value() {
        let a: Packed<serde_json::Value> = serde_json::from_str(FIELDS).unwrap();
        let b: Packed<serde_json::Value> = serde_json::from_str(FIELDS).unwrap();
        assert_eq!(a, b);
        let built = Packed::new(serde_json::from_str::<serde_json::Value>(FIELDS).unwrap());
        assert_eq!(a, built);
        assert_ne!(a, Packed::new(serde_json::Value::Null));
    }

    #[test]
    fn malformed_body_is_an_error_naming_the_type_not_a_panic() {
        let packed: Packed<BTreeMap<String, u32>> =
            serde_json::from_str(r#"{"a":"nope"}"#).unwrap();
        let err = packed.get().unwrap_err();
        assert!(matches!(err, Error::LazyDecodeFailed { .. }), "{err}");
        assert!(err.to_string().contains("BTreeMap"), "{err}");
    }

    #[test]
    fn decodes_from_a_json_value_and_encodes_into_one() {
        let value = serde_json::json!({"fields": [{"manager": "m"}]});
        #[derive(Deserialize, Serialize)]
        struct Holder {
            fields: Packed<serde_json::Value>,
        }
        let holder: Holder = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(holder.fields.get().unwrap()[0]["manager"], "m");
        let fresh: Holder = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&fresh).unwrap(), value);
    }
}
