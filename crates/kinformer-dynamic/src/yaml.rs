//! YAML manifests: read single and multi-document streams (`---` separated, comments,
//! anchors and merge keys) into [`DynamicObject`]s, and write objects back as YAML.
//!
//! Each document goes YAML -> `serde_yaml::Value` (aliases resolved, `<<` merged) ->
//! `serde_json::Value` -> `DynamicObject`, so objects read from YAML are the same as those
//! read from JSON. Documents are counted from 1, empty ones included, as kubectl counts.

use kinformer_meta::Object;
use serde::Deserialize;

use crate::dynamic_object::DynamicObject;
use crate::error::{Error, Result};

/// Reads every object of a YAML stream. Empty documents (nothing, or only comments) are
/// skipped; a document that is not a mapping, lacks `apiVersion` or `kind`, or has a
/// malformed body is an error naming its 1-based index.
///
/// ```
/// let objects = kinformer_dynamic::from_yaml_documents(
///     "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# only a comment\n---\n\
///      apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
/// ).unwrap();
/// assert_eq!(objects.len(), 2);
/// ```
pub fn from_yaml_documents(text: &str) -> Result<Vec<DynamicObject>> {
    let mut objects = Vec::new();
    for (position, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let index = position + 1;
        let mut value = serde_yaml::Value::deserialize(document)
            .map_err(|source| Error::YamlParseFailed { index, source })?;
        if value.is_null() {
            continue;
        }
        value
            .apply_merge()
            .map_err(|source| Error::YamlParseFailed { index, source })?;
        objects.push(object_from_document(index, value)?);
    }
    Ok(objects)
}

/// Writes objects as one YAML stream, documents separated by `---`.
pub fn to_yaml(objects: &[DynamicObject]) -> Result<String> {
    let mut out = String::new();
    for (position, object) in objects.iter().enumerate() {
        // Through JSON first: metadata keeps some fields as raw JSON, which only
        // serde_json's own serializers understand.
        let json = object.to_json_value()?;
        let text = serde_yaml::to_string(&json).map_err(|source| Error::YamlEmitFailed {
            index: position + 1,
            source,
        })?;
        if position > 0 {
            out.push_str("---\n");
        }
        out.push_str(&text);
    }
    Ok(out)
}

fn object_from_document(index: usize, value: serde_yaml::Value) -> Result<DynamicObject> {
    let problem = |problem: String| Error::InvalidDocument { index, problem };
    let json = serde_json::to_value(&value)
        .map_err(|error| problem(format!("cannot be represented as JSON: {error}")))?;
    let serde_json::Value::Object(map) = &json else {
        return Err(problem(format!(
            "expected a mapping (an object), found {}",
            describe(&json)
        )));
    };
    for field in ["apiVersion", "kind"] {
        match map.get(field) {
            Some(serde_json::Value::String(text)) if !text.is_empty() => {}
            Some(serde_json::Value::String(_)) => {
                return Err(problem(format!("{field} is empty")));
            }
            None | Some(serde_json::Value::Null) => {
                return Err(problem(format!("{field} is not set")));
            }
            Some(other) => {
                return Err(problem(format!(
                    "{field} must be a string, found {}",
                    describe(other)
                )));
            }
        }
    }
    let object = DynamicObject::from_json_value(json).map_err(|error| match error {
        Error::DecodeFailed { source, .. } => problem(format!("malformed object: {source}")),
        other => other,
    })?;
    object
        .gvk()
        .map_err(|error| problem(format!("{error}: {}", object.api_version())))?;
    Ok(object)
}

fn describe(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a sequence",
        serde_json::Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"# A namespace, a config map, and a deployment reusing its labels by anchor.
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
---
# nothing but a comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {team: shop, tier: web}
data:
  mode: fast
  retries: "3"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: &shop-labels
    team: shop
    tier: web
spec:
  replicas: 2
  selector:
    matchLabels: *shop-labels
  template:
    metadata:
      labels:
        <<: *shop-labels
        app: web
    spec:
      containers:
        - name: app
          image: shop:1.2
          resources: {limits: {cpu: 500m, memory: 1Gi}}
"#;

    #[test]
    fn multi_document_manifest_reads_every_object_in_order() {
        let objects = from_yaml_documents(MANIFEST).unwrap();
        let kinds: Vec<_> = objects.iter().map(|o| o.kind().into_owned()).collect();
        assert_eq!(kinds, ["Namespace", "ConfigMap", "Deployment"]);
        let config = &objects[1];
        assert_eq!(config.metadata.labels.get("tier"), Some("web"));
        assert_eq!(config.get_str("data.retries"), Some("3"));
        let deployment = &objects[2];
        assert_eq!(deployment.metadata.labels.get("team"), Some("shop"));
        assert_eq!(
            deployment.get_str("spec.selector.matchLabels.tier"),
            Some("web")
        );
        assert_eq!(
            deployment
                .get_object("spec.template.metadata.labels")
                .map(|labels| labels.len()),
            Some(3)
        );
        assert_eq!(
            deployment.get_str("spec.template.metadata.labels.team"),
            Some("shop")
        );
        assert_eq!(deployment.get_i64("spec.replicas"), Some(2));
        assert_eq!(
            deployment.get_str("spec.template.spec.containers.0.resources.limits.memory"),
            Some("1Gi")
        );
        assert_eq!(deployment.gvk().unwrap().group, "apps");
    }

    #[test]
    fn single_document_and_empty_streams_are_accepted() {
        let one = from_yaml_documents("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n").unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].metadata.name(), "p");
        assert!(from_yaml_documents("").unwrap().is_empty());
        assert!(from_yaml_documents("# just a comment\n---\n")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_documents_are_errors_naming_the_document_and_problem() {
        let good = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n";
        let table: &[(String, usize, &str)] = &[
            (
                format!("{good}---\nkind: Pod\n"),
                2,
                "apiVersion is not set",
            ),
            (format!("{good}---\napiVersion: v1\n"), 2, "kind is not set"),
            (
                format!("---\n---\n{good}---\napiVersion: v1\nkind: ''\n"),
                3,
                "kind is empty",
            ),
            (format!("{good}---\n- a\n- b\n"), 2, "expected a mapping"),
            (format!("{good}---\njust text\n"), 2, "expected a mapping"),
            (
                format!("apiVersion: v1\nkind: [Pod]\n---\n{good}"),
                1,
                "kind must be a string",
            ),
            (
                format!("{good}---\napiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    a: [1]\n"),
                2,
                "malformed object",
            ),
            (
                format!("{good}---\napiVersion: a/b/c\nkind: Pod\n"),
                2,
                "invalid apiVersion",
            ),
        ];
        for (text, index, fragment) in table {
            match from_yaml_documents(text) {
                Err(Error::InvalidDocument {
                    index: found,
                    problem,
                }) => {
                    assert_eq!(found, *index, "{text:?}: {problem}");
                    assert!(problem.contains(fragment), "{text:?}: {problem}");
                }
                other => panic!("{text:?} should fail, got {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_yaml_is_a_parse_error_naming_the_document() {
        let text = "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: [unclosed\n";
        match from_yaml_documents(text) {
            Err(error @ Error::YamlParseFailed { index: 2, .. }) => {
                assert!(error.to_string().contains("document 2"), "{error}");
            }
            other => panic!("expected a parse error in document 2, got {other:?}"),
        }
        assert!(matches!(
            from_yaml_documents("a: *missing\n"),
            Err(Error::YamlParseFailed { index: 1, .. })
        ));
    }

    #[test]
    fn objects_written_as_yaml_read_back_equal() {
        let objects = from_yaml_documents(MANIFEST).unwrap();
        let text = to_yaml(&objects).unwrap();
        assert_eq!(text.matches("\n---\n").count(), 2, "{text}");
        let again = from_yaml_documents(&text).unwrap();
        assert_eq!(again, objects);
        assert_eq!(to_yaml(&[]).unwrap(), "");
    }

    #[test]
    fn objects_with_raw_managed_fields_write_as_yaml() {
        let object: DynamicObject = serde_json::from_str(
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","managedFields":[{"manager":"kubectl","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{}}}]}}"#,
        )
        .unwrap();
        let text = to_yaml(std::slice::from_ref(&object)).unwrap();
        assert!(text.contains("manager: kubectl"), "{text}");
        assert_eq!(
            from_yaml_documents(&text).unwrap()[0]
                .to_json_value()
                .unwrap(),
            object.to_json_value().unwrap()
        );
    }
}
