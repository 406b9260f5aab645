//! Nested field access on a [`DynamicObject`] body by dotted path (`spec.replicas`,
//! `spec.template.spec.containers.0.image`).
//!
//! A path is a list of keys separated by `.`; `\.` is a literal dot inside a key
//! (`data.config\.yaml`), and an all-digit segment indexes an array. Paths address the body
//! only: `apiVersion`, `kind` and `metadata` are the object's `types` and `metadata` fields.

use serde_json::{Map, Value};

use crate::dynamic_object::DynamicObject;
use crate::error::{Error, Result};

impl DynamicObject {
    /// The value at `path`, if present (a malformed path finds nothing).
    pub fn get(&self, path: &str) -> Option<&Value> {
        let segments = parse_path(path).ok()?;
        let mut current = &self.data;
        for segment in &segments {
            current = match current {
                Value::Object(map) => map.get(segment.as_str())?,
                Value::Array(items) => items.get(array_index(segment)?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The value at `path`, mutably.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Value> {
        let segments = parse_path(path).ok()?;
        let mut current = &mut self.data;
        for segment in &segments {
            current = match current {
                Value::Object(map) => map.get_mut(segment.as_str())?,
                Value::Array(items) => items.get_mut(array_index(segment)?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The string at `path`.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path)?.as_str()
    }

    /// The integer at `path`.
    pub fn get_i64(&self, path: &str) -> Option<i64> {
        self.get(path)?.as_i64()
    }

    /// The number at `path`, as a float.
    pub fn get_f64(&self, path: &str) -> Option<f64> {
        self.get(path)?.as_f64()
    }

    /// The boolean at `path`.
    pub fn get_bool(&self, path: &str) -> Option<bool> {
        self.get(path)?.as_bool()
    }

    /// The array at `path`.
    pub fn get_array(&self, path: &str) -> Option<&Vec<Value>> {
        self.get(path)?.as_array()
    }

    /// The object at `path`.
    pub fn get_object(&self, path: &str) -> Option<&Map<String, Value>> {
        self.get(path)?.as_object()
    }

    /// Sets the value at `path`, creating missing (or null) intermediate objects. Going
    /// through a string, number, boolean, or an array with no such index is an error.
    ///
    /// ```
    /// use kinformer_dynamic::DynamicObject;
    /// let mut object = DynamicObject::default();
    /// object.set("spec.template.spec.replicas", 2).unwrap();
    /// assert_eq!(object.get_i64("spec.template.spec.replicas"), Some(2));
    /// assert!(object.set("spec.template.spec.replicas.x", 1).is_err());
    /// ```
    pub fn set(&mut self, path: &str, value: impl Into<Value>) -> Result<()> {
        let segments = parse_path(path)?;
        let (last, parents) = segments
            .split_last()
            .ok_or_else(|| invalid(path, "path is empty"))?;
        if self.data.is_null() {
            self.data = Value::Object(Map::new());
        }
        let mut current = &mut self.data;
        for (depth, segment) in parents.iter().enumerate() {
            if current.is_null() {
                *current = Value::Object(Map::new());
            }
            current = match current {
                Value::Object(map) => map
                    .entry(segment.as_str())
                    .or_insert_with(|| Value::Object(Map::new())),
                Value::Array(items) => {
                    match array_index(segment).and_then(|index| items.get_mut(index)) {
                        Some(item) => item,
                        None => return Err(not_an_object(path, &segments[..depth], "array")),
                    }
                }
                other => return Err(not_an_object(path, &segments[..depth], type_name(other))),
            };
        }
        if current.is_null() {
            *current = Value::Object(Map::new());
        }
        match current {
            Value::Object(map) => {
                map.insert(last.clone(), value.into());
            }
            Value::Array(items) => match array_index(last).and_then(|index| items.get_mut(index)) {
                Some(item) => *item = value.into(),
                None => return Err(not_an_object(path, parents, "array")),
            },
            other => return Err(not_an_object(path, parents, type_name(other))),
        }
        Ok(())
    }

    /// Removes and returns the value at `path` (an array element shifts the later ones).
    pub fn remove(&mut self, path: &str) -> Option<Value> {
        let segments = parse_path(path).ok()?;
        let (last, parents) = segments.split_last()?;
        let mut current = &mut self.data;
        for segment in parents {
            current = match current {
                Value::Object(map) => map.get_mut(segment.as_str())?,
                Value::Array(items) => items.get_mut(array_index(segment)?)?,
                _ => return None,
            };
        }
        match current {
            Value::Object(map) => map.remove(last.as_str()),
            Value::Array(items) => {
                let index = array_index(last)?;
                (index < items.len()).then(|| items.remove(index))
            }
            _ => None,
        }
    }
}

/// Splits a path into keys, honouring `\.` and `\\`; rejects empty segments and the
/// top-level fields that live outside the body.
fn parse_path(path: &str) -> Result<Vec<String>> {
    if path.is_empty() {
        return Err(invalid(path, "path is empty"));
    }
    let mut segments = Vec::new();
    let mut segment = String::new();
    let mut characters = path.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => match characters.next() {
                Some(escaped @ ('.' | '\\')) => segment.push(escaped),
                _ => return Err(invalid(path, "'\\' must be followed by '.' or '\\'")),
            },
            '.' => {
                if segment.is_empty() {
                    return Err(invalid(path, "path has an empty segment"));
                }
                segments.push(std::mem::take(&mut segment));
            }
            other => segment.push(other),
        }
    }
    if segment.is_empty() {
        return Err(invalid(path, "path has an empty segment"));
    }
    segments.push(segment);
    for field in ["apiVersion", "kind", "metadata"] {
        if segments[0] == field {
            return Err(Error::ReservedField {
                path: path.to_owned(),
                field,
            });
        }
    }
    Ok(segments)
}

fn array_index(segment: &str) -> Option<usize> {
    if segment.bytes().all(|b| b.is_ascii_digit()) {
        segment.parse().ok()
    } else {
        None
    }
}

fn invalid(path: &str, problem: &'static str) -> Error {
    Error::InvalidPath {
        path: path.to_owned(),
        problem,
    }
}

fn not_an_object(path: &str, prefix: &[String], found: &'static str) -> Error {
    Error::NotAnObject {
        path: path.to_owned(),
        at: prefix.join("."),
        found,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 3,
                "paused": false,
                "template": {"spec": {"containers": [
                    {"name": "app", "image": "app:1"},
                    {"name": "sidecar", "image": "proxy:2"}
                ]}},
                "strategy": null
            },
            "data": {"config.yaml": "a: 1"}
        }))
        .unwrap()
    }

    #[test]
    fn typed_getters_read_nested_fields_by_path() {
        let object = deployment();
        assert_eq!(object.get_i64("spec.replicas"), Some(3));
        assert_eq!(object.get_f64("spec.replicas"), Some(3.0));
        assert_eq!(object.get_bool("spec.paused"), Some(false));
        assert_eq!(
            object
                .get_array("spec.template.spec.containers")
                .map(Vec::len),
            Some(2)
        );
        assert_eq!(
            object.get_str("spec.template.spec.containers.1.image"),
            Some("proxy:2")
        );
        assert!(object.get_object("spec.template").is_some());
        assert_eq!(object.get_str(r"data.config\.yaml"), Some("a: 1"));
        assert_eq!(object.get("spec.strategy"), Some(&Value::Null));
    }

    #[test]
    fn getters_return_none_for_missing_or_mistyped_fields() {
        let object = deployment();
        for path in [
            "spec.missing",
            "spec.replicas.deeper",
            "spec.template.spec.containers.2",
            "spec.template.spec.containers.x",
            "metadata.name",
            "kind",
            "",
            "spec..replicas",
            "spec.",
        ] {
            assert_eq!(object.get(path), None, "{path:?}");
        }
        assert_eq!(object.get_str("spec.replicas"), None);
        assert_eq!(object.get_i64("spec.paused"), None);
        assert_eq!(object.get_bool("spec.replicas"), None);
        assert_eq!(object.get_array("spec.template"), None);
        assert_eq!(object.get_object("spec.template.spec.containers"), None);
    }

    #[test]
    fn set_creates_intermediate_objects_and_replaces_values() {
        let mut object = deployment();
        object.set("spec.replicas", 5).unwrap();
        object.set("spec.selector.matchLabels.app", "web").unwrap();
        object.set("spec.strategy.type", "Recreate").unwrap();
        object
            .set("spec.template.spec.containers.0.image", "app:2")
            .unwrap();
        object.set("status", json!({"ready": 1})).unwrap();
        assert_eq!(object.get_i64("spec.replicas"), Some(5));
        assert_eq!(object.get_str("spec.selector.matchLabels.app"), Some("web"));
        assert_eq!(object.get_str("spec.strategy.type"), Some("Recreate"));
        assert_eq!(
            object.get_str("spec.template.spec.containers.0.image"),
            Some("app:2")
        );
        assert_eq!(object.get_i64("status.ready"), Some(1));
        let json = serde_json::to_value(&object).unwrap();
        assert_eq!(
            json["spec"]["selector"],
            json!({"matchLabels": {"app": "web"}})
        );
    }

    #[test]
    fn setting_through_a_non_object_is_a_typed_error() {
        let mut object = deployment();
        match object.set("spec.replicas.count", 1) {
            Err(Error::NotAnObject { at, found, .. }) => {
                assert_eq!(at, "spec.replicas");
                assert_eq!(found, "number");
            }
            other => panic!("expected NotAnObject, got {other:?}"),
        }
        match object.set("spec.template.spec.containers.5.image", "x") {
            Err(Error::NotAnObject { at, found, .. }) => {
                assert_eq!(at, "spec.template.spec.containers");
                assert_eq!(found, "array");
            }
            other => panic!("expected NotAnObject, got {other:?}"),
        }
        assert!(matches!(
            object.set("spec.template.spec.containers.name", "x"),
            Err(Error::NotAnObject { found: "array", .. })
        ));
        assert!(matches!(
            object.set("metadata.name", "x"),
            Err(Error::ReservedField {
                field: "metadata",
                ..
            })
        ));
        assert!(matches!(
            object.set("spec..x", 1),
            Err(Error::InvalidPath { .. })
        ));
        assert!(matches!(
            object.set(r"spec.a\b", 1),
            Err(Error::InvalidPath { .. })
        ));
        assert_eq!(object, deployment(), "failed sets change nothing");
    }

    #[test]
    fn remove_takes_fields_and_array_elements_out() {
        let mut object = deployment();
        assert_eq!(object.remove("spec.replicas"), Some(json!(3)));
        assert_eq!(object.get("spec.replicas"), None);
        assert_eq!(
            object.remove("spec.template.spec.containers.0"),
            Some(json!({"name": "app", "image": "app:1"}))
        );
        assert_eq!(
            object.get_str("spec.template.spec.containers.0.name"),
            Some("sidecar")
        );
        assert_eq!(object.remove("spec.template.spec.containers.3"), None);
        assert_eq!(object.remove("spec.missing.deeper"), None);
        assert_eq!(object.remove("metadata.name"), None);
        assert_eq!(object.metadata.name(), "web");
    }

    #[test]
    fn get_mut_edits_in_place() {
        let mut object = deployment();
        if let Some(Value::Array(containers)) = object.get_mut("spec.template.spec.containers") {
            containers.push(json!({"name": "third"}));
        }
        assert_eq!(
            object.get_str("spec.template.spec.containers.2.name"),
            Some("third")
        );
    }
}
