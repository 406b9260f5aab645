//! `Quantity`: a resource amount such as `500m`, `1Gi` or `2e3`, kept as the string the API
//! uses, with parsing to a number and canonical formatting.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kubernetes resource quantity (`100m`, `1Gi`, `2e3`), kept as its string form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(pub String);

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Quantity {
    fn from(value: &str) -> Self {
        Quantity(value.to_owned())
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Manifests written by hand often say `cpu: 1`; accept numbers as their text.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Int(i64),
            Float(f64),
        }
        Ok(Quantity(match Repr::deserialize(deserializer)? {
            Repr::Text(text) => text,
            Repr::Int(n) => n.to_string(),
            Repr::Float(x) => x.to_string(),
        }))
    }
}
