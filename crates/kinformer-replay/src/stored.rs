//! One committed object, encoded once: compact JSON bytes without `kind` and `apiVersion`
//! (exactly a list item), the byte span of its `metadata` (for metadata-only answers), and the
//! few fields selectors read. Responses are made by concatenating these bytes; a
//! `serde_json::Value` is decoded only when a write, a patch, a Table or a field selector
//! needs one.

use std::ops::Range;

use bytes::{BufMut, Bytes};
use serde_json::{Map, Value};

/// One extracted selectable field: its path and its value as a field selector compares it.
type SelectableField = (&'static str, Box<str>);

/// A committed object as the server serves it.
#[derive(Debug)]
pub(crate) struct Stored {
    /// `{...}`: the object without `kind` and `apiVersion`, compact JSON.
    body: Bytes,
    /// Where the `metadata` value sits in `body`.
    metadata: Range<u32>,
    /// The stored `kind`.
    kind: Box<str>,
    /// The stored `apiVersion`.
    api_version: Box<str>,
    /// `metadata.name`.
    name: Box<str>,
    /// `metadata.namespace`, if any.
    namespace: Option<Box<str>>,
    /// `metadata.labels`, in key order.
    labels: Box<[(Box<str>, Box<str>)]>,
    /// The resource's selectable fields beyond name and namespace (`spec.nodeName`, ...) that
    /// the object has, when extracted at commit; `None` means not extracted.
    selectable: Option<Box<[SelectableField]>>,
}

fn text(value: Option<&Value>) -> Box<str> {
    value.and_then(Value::as_str).unwrap_or("").into()
}

impl Stored {
    /// Encodes an object once, extracting the values of these selectable fields.
    pub fn encode_selectable(object: &Value, fields: &[&'static str]) -> Stored {
        let mut stored = Stored::encode(object);
        stored.selectable = Some(
            fields
                .iter()
                .filter_map(|field| {
                    let value = crate::selector::field_value(object, field)?;
                    Some((*field, value.into_owned().into_boxed_str()))
                })
                .collect(),
        );
        stored
    }

    /// Encodes an object once.
    pub fn encode(object: &Value) -> Stored {
        let empty = Map::new();
        let map = object.as_object().unwrap_or(&empty);
        let mut body = Vec::with_capacity(4096);
        body.push(b'{');
        let mut metadata = 0..0;
        let mut first = true;
        for (key, value) in map {
            if key == "kind" || key == "apiVersion" {
                continue;
            }
            if !first {
                body.push(b',');
            }
            first = false;
            // Writing JSON into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut body, key);
            body.push(b':');
            let start = body.len();
            let _ = serde_json::to_writer(&mut body, value);
            if key == "metadata" {
                metadata = start as u32..body.len() as u32;
            }
        }
        body.push(b'}');
        let meta = map.get("metadata");
        let labels = meta
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|labels| {
                let mut pairs: Vec<(Box<str>, Box<str>)> = labels
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
                    .collect();
                pairs.sort();
                pairs.into_boxed_slice()
            })
            .unwrap_or_default();
        Stored {
            body: Bytes::from(body.into_boxed_slice()),
            metadata,
            kind: text(map.get("kind")),
            api_version: text(map.get("apiVersion")),
            name: text(meta.and_then(|m| m.get("name"))),
            namespace: meta
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .map(Into::into),
            labels,
            selectable: None,
        }
    }

    /// The object as a list item (without `kind` and `apiVersion`), as shared bytes.
    pub fn item_bytes(&self) -> Bytes {
        self.body.clone()
    }

    /// The `metadata` value's JSON as shared bytes.
    pub fn metadata_bytes(&self) -> Bytes {
        if self.metadata.is_empty() {
            return Bytes::from_static(b"{}");
        }
        self.body
            .slice(self.metadata.start as usize..self.metadata.end as usize)
    }

    /// The `metadata` value's JSON (`{}` when the object has none).
    pub fn metadata(&self) -> &[u8] {
        if self.metadata.is_empty() {
            return b"{}";
        }
        &self.body[self.metadata.start as usize..self.metadata.end as usize]
    }

    /// Appends the whole object with this `kind` and `apiVersion` in front, as the apiserver
    /// orders them.
    pub fn write_object(&self, kind: &str, api_version: &str, out: &mut Vec<u8>) {
        write_type_meta(kind, api_version, out);
        let rest = &self.body[1..];
        if rest.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(rest);
    }

    /// The whole object with this `kind` and `apiVersion`, as bytes.
    pub fn object_bytes(&self, kind: &str, api_version: &str) -> Bytes {
        let mut out = Vec::with_capacity(self.body.len() + 64);
        self.write_object(kind, api_version, &mut out);
        Bytes::from(out)
    }

    /// Appends `{"kind":"PartialObjectMetadata","apiVersion":...,"metadata":{...}}`.
    pub fn write_partial(&self, meta_version: &str, out: &mut impl BufMut) {
        out.put_slice(b"{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/");
        out.put_slice(meta_version.as_bytes());
        out.put_slice(b"\",\"metadata\":");
        out.put_slice(self.metadata());
        out.put_u8(b'}');
    }

    /// Decodes the object, with its stored `kind` and `apiVersion`.
    pub fn value(&self) -> Value {
        let mut value: Value =
            serde_json::from_slice(&self.body).unwrap_or_else(|_| Value::Object(Map::new()));
        if let Some(map) = value.as_object_mut() {
            if !self.api_version.is_empty() {
                map.insert(
                    "apiVersion".into(),
                    Value::String(self.api_version.to_string()),
                );
            }
            if !self.kind.is_empty() {
                map.insert("kind".into(), Value::String(self.kind.to_string()));
            }
        }
        value
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `metadata.namespace`, if set.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// A selectable field's value: `Some(None)` when extracted and absent, `None` when the
    /// fields were not extracted (the caller decodes).
    pub fn selectable(&self, field: &str) -> Option<Option<&str>> {
        let fields = self.selectable.as_ref()?;
        Some(fields.iter().find(|(f, _)| *f == field).map(|(_, v)| &**v))
    }

    /// A label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.labels[i].1)
    }
}

/// Appends `{"kind":"K","apiVersion":"V"` (no closing brace).
pub(crate) fn write_type_meta(kind: &str, api_version: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"kind\":");
    let _ = serde_json::to_writer(&mut *out, kind);
    out.extend_from_slice(b",\"apiVersion\":");
    let _ = serde_json::to_writer(&mut *out, api_version);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x", "b": "y"}},
            "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})
    }

    #[test]
    fn the_item_leaves_out_kind_and_api_version() {
        let stored = Stored::encode(&pod());
        assert_eq!(
            std::str::from_utf8(&stored.item_bytes()).unwrap(),
            r#"{"metadata":{"labels":{"app":"x","b":"y"},"name":"a","namespace":"ns"},"spec":{"nodeName":"n1"},"status":{"phase":"Running"}}"#
        );
    }

    #[test]
    fn the_object_puts_kind_and_api_version_first() {
        let stored = Stored::encode(&pod());
        let bytes = stored.object_bytes("Pod", "v1");
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with(r#"{"kind":"Pod","apiVersion":"v1","metadata":{"#));
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), pod());
        let empty = Stored::encode(&json!({"kind": "X"}));
        assert_eq!(
            &empty.object_bytes("X", "v1")[..],
            br#"{"kind":"X","apiVersion":"v1"}"#
        );
    }

    #[test]
    fn partial_metadata_is_the_metadata_span() {
        let stored = Stored::encode(&pod());
        let mut out = Vec::new();
        stored.write_partial("v1", &mut out);
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            value,
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": pod()["metadata"]})
        );
    }

    #[test]
    fn value_round_trips_and_selectors_read_the_extracted_fields() {
        let stored = Stored::encode(&pod());
        assert_eq!(stored.value(), pod());
        assert_eq!(stored.label("app"), Some("x"));
        assert_eq!(stored.label("zzz"), None);
        assert_eq!(stored.namespace(), Some("ns"));
        assert_eq!(stored.selectable("spec.nodeName"), None, "not extracted");
        let selectable = Stored::encode_selectable(&pod(), &["spec.nodeName", "status.podIP"]);
        assert_eq!(selectable.selectable("spec.nodeName"), Some(Some("n1")));
        assert_eq!(selectable.selectable("status.podIP"), Some(None));
        assert_eq!(stored.name(), "a");
    }
}
