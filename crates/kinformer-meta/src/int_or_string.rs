//! `IntOrString`: a value that is either an integer or a string (ports, `maxSurge: 25%`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An integer or a string, as the API's `intstr.IntOrString`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// An integer value.
    Int(i32),
    /// A string value (a named port, a percentage).
    String(String),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(n) => write!(f, "{n}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(n) => serializer.serialize_i32(*n),
            IntOrString::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Int(i32),
            Text(String),
        }
        Ok(match Repr::deserialize(deserializer)? {
            Repr::Int(n) => IntOrString::Int(n),
            Repr::Text(s) => IntOrString::String(s),
        })
    }
}
