//! YAML in and out for typed kinds, by way of `serde_json::Value`.
//!
//! Body fields are kept as raw JSON ([`kinformer_meta::Lazy`]), which only serde_json can
//! produce or consume; going through a `Value` lets YAML manifests decode into typed kinds.

use kinformer_meta::Resource;

use crate::error::{Error, Result};

/// Decodes a typed object from one YAML document.
///
/// ```
/// use kinformer_typed::{from_yaml, Pod};
/// let pod: Pod = from_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n").unwrap();
/// assert_eq!(pod.metadata.name(), "web");
/// ```
pub fn from_yaml<K: Resource>(text: &str) -> Result<K> {
    let value: serde_json::Value =
        serde_yaml::from_str(text).map_err(|source| Error::YamlParseFailed { source })?;
    serde_json::from_value(value).map_err(|source| Error::DecodeFailed {
        kind: K::KIND,
        source,
    })
}

/// Encodes a typed object as a YAML document.
pub fn to_yaml<K: Resource>(object: &K) -> Result<String> {
    let encode_failed = |message: String| Error::EncodeFailed {
        kind: K::KIND,
        message,
    };
    let value = serde_json::to_value(object).map_err(|error| encode_failed(error.to_string()))?;
    serde_yaml::to_string(&value).map_err(|error| encode_failed(error.to_string()))
}
