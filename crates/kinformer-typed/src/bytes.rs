//! `ByteString`: binary data carried as base64 in JSON (`Secret.data`, `ConfigMap.binaryData`).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that travel as a base64 string; `Debug` shows only their length, never the content.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteString(pub Vec<u8>);

impl ByteString {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for ByteString {
    fn from(bytes: &[u8]) -> Self {
        ByteString(bytes.to_vec())
    }
}

impl From<&str> for ByteString {
    fn from(text: &str) -> Self {
        ByteString(text.as_bytes().to_vec())
    }
}

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ByteString(<{} bytes>)", self.0.len())
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map(ByteString)
            .map_err(|error| D::Error::custom(format_args!("invalid base64 data: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_debug_hides_the_content() {
        let bytes: ByteString = serde_json::from_str(r#""aHVudGVyMg==""#).unwrap();
        assert_eq!(bytes.as_bytes(), b"hunter2");
        assert_eq!(serde_json::to_string(&bytes).unwrap(), r#""aHVudGVyMg==""#);
        let debug = format!("{bytes:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("7 bytes"),
            "{debug}"
        );
    }

    #[test]
    fn invalid_base64_is_an_error_not_a_panic() {
        let err = serde_json::from_str::<ByteString>(r#""not base64!""#).unwrap_err();
        assert!(err.to_string().contains("base64"), "{err}");
    }
}
