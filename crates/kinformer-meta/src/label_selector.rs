//! `LabelSelector`: the API object form of a selector (`matchLabels`, `matchExpressions`),
//! as found in Deployment and Service specs.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::labels::Selector;
use crate::string_map::StringMap;

/// A selector as written in an object (`spec.selector` of a Deployment).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels that must be equal.
    #[serde(default, skip_serializing_if = "StringMap::is_empty")]
    pub match_labels: StringMap,
    /// Set-based requirements.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::object_meta::null_as_default"
    )]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl LabelSelector {
    /// The selector this object describes (see `TryFrom<&LabelSelector>` for
    /// [`Selector`]); an empty object selects everything.
    pub fn to_selector(&self) -> Result<Selector> {
        Selector::try_from(self)
    }
}

/// One set-based requirement of a [`LabelSelector`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` and `NotIn`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::object_meta::null_as_default"
    )]
    pub values: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_selector_converts_and_round_trips_as_json() {
        let json = serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]
        });
        let object: LabelSelector = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&object).unwrap(), json);
        let selector = object.to_selector().unwrap();
        assert_eq!(selector.to_string(), "app=web,tier notin (db)");
        assert!(selector.matches(&StringMap::from([("app", "web"), ("tier", "api")])));
        assert!(!selector.matches(&StringMap::from([("app", "web"), ("tier", "db")])));
    }

    #[test]
    fn null_expressions_decode_as_an_empty_selector() {
        let object: LabelSelector =
            serde_json::from_str(r#"{"matchLabels":null,"matchExpressions":null}"#).unwrap();
        assert!(object.to_selector().unwrap().is_everything());
    }
}
