//! `DynamicObject`: an object of any kind, as type, metadata and the rest of its JSON body.
//!
//! The wire form is flat (`{"apiVersion", "kind", "metadata", ...rest}`); serde is written
//! by hand rather than with `#[serde(flatten)]`, which buffers every field through an
//! intermediate map and is several times slower on large lists.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use kinformer_meta::{ApiResource, GroupVersionKind, Object, ObjectMeta, Resource, TypeMeta};

use crate::error::{Error, Result};

/// An object of any kind: its `apiVersion`/`kind`, its metadata, and every other top-level
/// field of its body (`spec`, `status`, `data`...) as one JSON object.
///
/// ```
/// use kinformer_dynamic::DynamicObject;
/// let object: DynamicObject = serde_json::from_str(
///     r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}}"#,
/// ).unwrap();
/// assert_eq!(object.get_i64("spec.replicas"), Some(3));
/// assert_eq!(object.gvk().unwrap().kind, "Deployment");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicObject {
    /// `apiVersion` and `kind`; `None` when the body had neither (list items).
    pub types: Option<TypeMeta>,
    /// The object's metadata.
    pub metadata: ObjectMeta,
    /// Every other top-level field; always a JSON object.
    pub data: Value,
}

impl Default for DynamicObject {
    fn default() -> Self {
        DynamicObject {
            types: None,
            metadata: ObjectMeta::default(),
            data: Value::Object(Map::new()),
        }
    }
}

impl DynamicObject {
    /// An empty object of the kind `resource` describes, named `name`.
    pub fn new(name: impl Into<String>, resource: &ApiResource) -> Self {
        DynamicObject {
            types: Some(TypeMeta::new(resource.api_version(), &resource.kind)),
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            data: Value::Object(Map::new()),
        }
    }

    /// The same object placed in `namespace`.
    pub fn within(mut self, namespace: impl Into<String>) -> Self {
        self.metadata.namespace = Some(namespace.into());
        self
    }

    /// The same object with its body (every field but types and metadata) replaced.
    pub fn with_data(mut self, data: Map<String, Value>) -> Self {
        self.data = Value::Object(data);
        self
    }

    /// Fills a missing or empty `apiVersion` and `kind` from `resource`, as clients do for
    /// list items, which the API server sends without them. Present values are kept.
    pub fn fill_types(&mut self, resource: &ApiResource) {
        let types = self.types.get_or_insert_with(TypeMeta::default);
        if types.api_version.is_empty() {
            types.api_version = resource.api_version();
        }
        if types.kind.is_empty() {
            types.kind.clone_from(&resource.kind);
        }
    }

    /// The same object with missing types filled from `resource` (see
    /// [`DynamicObject::fill_types`]).
    pub fn with_types(mut self, resource: &ApiResource) -> Self {
        self.fill_types(resource);
        self
    }

    /// The group/version/kind the object says it is.
    pub fn gvk(&self) -> Result<GroupVersionKind> {
        let types = self.types.as_ref();
        let api_version = types.map_or("", |types| types.api_version.as_str());
        let kind = types.map_or("", |types| types.kind.as_str());
        match (api_version.is_empty(), kind.is_empty()) {
            (true, true) => Err(Error::MissingTypeMeta {
                missing: "apiVersion and kind",
            }),
            (true, false) => Err(Error::MissingTypeMeta {
                missing: "apiVersion",
            }),
            (false, true) => Err(Error::MissingTypeMeta { missing: "kind" }),
            (false, false) => GroupVersionKind::from_api_version_and_kind(api_version, kind)
                .map_err(|source| Error::InvalidApiVersion { source }),
        }
    }

    /// Converts a typed object into a dynamic one (types filled from `K` when the typed
    /// object's JSON lacks them).
    pub fn from_typed<K: Resource>(object: &K) -> Result<Self> {
        let value =
            serde_json::to_value(object).map_err(|source| Error::EncodeFailed { source })?;
        let mut dynamic: DynamicObject =
            serde_json::from_value(value).map_err(|source| Error::DecodeFailed {
                type_name: "DynamicObject",
                source,
            })?;
        dynamic.fill_types(&K::api_resource());
        Ok(dynamic)
    }

    /// Converts into the typed kind `K`. The object must be of `K`'s group, version and
    /// kind ([`Error::KindMismatch`] names both otherwise); missing types are taken as `K`'s.
    pub fn try_into_typed<K: Resource>(mut self) -> Result<K> {
        let resource = K::api_resource();
        self.fill_types(&resource);
        let found = self.gvk()?;
        let expected = resource.gvk();
        if found != expected {
            return Err(Error::KindMismatch {
                expected: Box::new(expected),
                found: Box::new(found),
            });
        }
        self.decode_as()
    }

    /// Decodes the whole object (types, metadata and body) into any deserializable type,
    /// without checking its kind.
    pub fn decode_as<T: DeserializeOwned>(&self) -> Result<T> {
        let value = serde_json::to_value(self).map_err(|source| Error::EncodeFailed { source })?;
        serde_json::from_value(value).map_err(|source| Error::DecodeFailed {
            type_name: std::any::type_name::<T>(),
            source,
        })
    }

    /// The whole object as one JSON value.
    pub fn to_json_value(&self) -> Result<Value> {
        serde_json::to_value(self).map_err(|source| Error::EncodeFailed { source })
    }

    /// An object from one JSON value (which must be a JSON object).
    pub fn from_json_value(value: Value) -> Result<Self> {
        serde_json::from_value(value).map_err(|source| Error::DecodeFailed {
            type_name: "DynamicObject",
            source,
        })
    }
}

impl Object for DynamicObject {
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
    fn api_version(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.types.as_ref().map_or("", |t| t.api_version.as_str()))
    }
    fn kind(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.types.as_ref().map_or("", |t| t.kind.as_str()))
    }
}

impl Serialize for DynamicObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let body = match &self.data {
            Value::Object(map) => Some(map),
            Value::Null => None,
            _ => {
                return Err(serde::ser::Error::custom(
                    "DynamicObject data must be a JSON object",
                ))
            }
        };
        let body = body.map(|map| {
            map.iter()
                .filter(|(key, _)| !matches!(key.as_str(), "apiVersion" | "kind" | "metadata"))
        });
        let mut map = serializer.serialize_map(None)?;
        if let Some(types) = &self.types {
            map.serialize_entry("apiVersion", &types.api_version)?;
            map.serialize_entry("kind", &types.kind)?;
        }
        map.serialize_entry("metadata", &self.metadata)?;
        if let Some(body) = body {
            for (key, value) in body {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// A top-level key of an object body, recognised without allocating for the known ones.
enum Key {
    ApiVersion,
    Kind,
    Metadata,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> std::result::Result<Key, E> {
                Ok(match key {
                    "apiVersion" => Key::ApiVersion,
                    "kind" => Key::Kind,
                    "metadata" => Key::Metadata,
                    other => Key::Other(other.to_owned()),
                })
            }
            fn visit_string<E: de::Error>(self, key: String) -> std::result::Result<Key, E> {
                Ok(match key.as_str() {
                    "apiVersion" => Key::ApiVersion,
                    "kind" => Key::Kind,
                    "metadata" => Key::Metadata,
                    _ => Key::Other(key),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for DynamicObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = DynamicObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<DynamicObject, A::Error> {
                let mut api_version: Option<String> = None;
                let mut kind: Option<String> = None;
                let mut metadata: Option<ObjectMeta> = None;
                let mut data = Map::new();
                while let Some(key) = access.next_key::<Key>()? {
                    match key {
                        Key::ApiVersion => {
                            api_version =
                                Some(access.next_value::<Option<String>>()?.unwrap_or_default());
                        }
                        Key::Kind => {
                            kind = Some(access.next_value::<Option<String>>()?.unwrap_or_default());
                        }
                        Key::Metadata => {
                            metadata = access.next_value::<Option<ObjectMeta>>()?;
                        }
                        Key::Other(name) => {
                            let value: Value = access.next_value()?;
                            data.insert(name, value);
                        }
                    }
                }
                let types = if api_version.is_some() || kind.is_some() {
                    Some(TypeMeta {
                        api_version: api_version.unwrap_or_default(),
                        kind: kind.unwrap_or_default(),
                    })
                } else {
                    None
                };
                Ok(DynamicObject {
                    types,
                    metadata: metadata.unwrap_or_default(),
                    data: Value::Object(data),
                })
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinformer_meta::Scope;

    /// A small typed kind for conversion tests (the typed crate is built separately).
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ConfigMap {
        #[serde(flatten)]
        types: TypeMeta,
        #[serde(default)]
        metadata: ObjectMeta,
        #[serde(default)]
        data: std::collections::BTreeMap<String, String>,
    }

    impl Object for ConfigMap {
        fn metadata(&self) -> &ObjectMeta {
            &self.metadata
        }
        fn metadata_mut(&mut self) -> &mut ObjectMeta {
            &mut self.metadata
        }
        fn api_version(&self) -> Cow<'_, str> {
            Cow::Borrowed("v1")
        }
        fn kind(&self) -> Cow<'_, str> {
            Cow::Borrowed("ConfigMap")
        }
    }

    impl Resource for ConfigMap {
        const GROUP: &'static str = "";
        const VERSION: &'static str = "v1";
        const API_VERSION: &'static str = "v1";
        const KIND: &'static str = "ConfigMap";
        const PLURAL: &'static str = "configmaps";
        const SCOPE: Scope = Scope::Namespaced;
    }

    fn deployments() -> ApiResource {
        ApiResource::from_gvk(
            &GroupVersionKind::new("apps", "v1", "Deployment"),
            "deployments",
            Scope::Namespaced,
        )
    }

    #[test]
    fn json_round_trips_with_body_fields_flattened() {
        let json = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"},
                         "managedFields": [{"manager": "kubectl", "operation": "Apply"}]},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c"}]}}},
            "status": {"conditions": [{"type": "Available", "status": "True"}]},
            "futureField": {"nested": [1, 2.5, null, true]}
        });
        let object: DynamicObject = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(object.metadata.name(), "web");
        assert_eq!(object.data["spec"]["replicas"], 3);
        assert!(object.data.get("metadata").is_none());
        assert_eq!(serde_json::to_value(&object).unwrap(), json);

        let text = serde_json::to_string(&json).unwrap();
        let from_text: DynamicObject = serde_json::from_str(&text).unwrap();
        assert_eq!(from_text, object);
        assert_eq!(serde_json::to_value(&from_text).unwrap(), json);
    }

    #[test]
    fn list_items_without_types_are_filled_by_fill_types() {
        let mut item: DynamicObject =
            serde_json::from_str(r#"{"metadata":{"name":"web"},"spec":{}}"#).unwrap();
        assert_eq!(item.types, None);
        assert!(matches!(
            item.gvk(),
            Err(Error::MissingTypeMeta {
                missing: "apiVersion and kind"
            })
        ));
        assert_eq!(item.kind(), "");
        item.fill_types(&deployments());
        assert_eq!(item.api_version(), "apps/v1");
        assert_eq!(item.kind(), "Deployment");
        assert_eq!(
            item.gvk().unwrap(),
            GroupVersionKind::new("apps", "v1", "Deployment")
        );
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["apiVersion"], "apps/v1");
        assert_eq!(json["kind"], "Deployment");
    }

    #[test]
    fn fill_types_keeps_what_the_object_already_says() {
        let item: DynamicObject =
            serde_json::from_str(r#"{"apiVersion":"apps/v1beta1","metadata":{}}"#).unwrap();
        let item = item.with_types(&deployments());
        assert_eq!(item.api_version(), "apps/v1beta1");
        assert_eq!(item.kind(), "Deployment");
    }

    #[test]
    fn null_metadata_and_types_decode_as_empty() {
        let object: DynamicObject =
            serde_json::from_str(r#"{"apiVersion":null,"kind":"Pod","metadata":null}"#).unwrap();
        assert_eq!(object.metadata, ObjectMeta::default());
        assert!(matches!(
            object.gvk(),
            Err(Error::MissingTypeMeta {
                missing: "apiVersion"
            })
        ));
    }

    #[test]
    fn malformed_bodies_are_decode_errors_not_panics() {
        for body in [
            r#"[1,2]"#,
            r#""text""#,
            r#"{"metadata":{"labels":{"a":1}}}"#,
            r#"{"kind":3}"#,
        ] {
            assert!(
                serde_json::from_str::<DynamicObject>(body).is_err(),
                "{body}"
            );
        }
        let invalid = DynamicObject {
            types: Some(TypeMeta::new("a/b/c", "X")),
            ..DynamicObject::default()
        };
        assert!(matches!(
            invalid.gvk(),
            Err(Error::InvalidApiVersion { .. })
        ));
    }

    #[test]
    fn new_objects_carry_types_name_and_namespace() {
        let object = DynamicObject::new("web", &deployments()).within("prod");
        assert_eq!(
            serde_json::to_value(&object).unwrap(),
            serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "prod"}
            })
        );
        let serde_json::Value::Object(body) = serde_json::json!({"spec": {"paused": true}}) else {
            unreachable!("a literal object")
        };
        let object = object.with_data(body);
        assert_eq!(object.get_bool("spec.paused"), Some(true));
    }

    #[test]
    fn typed_objects_convert_to_dynamic_and_back() {
        let typed = ConfigMap {
            types: TypeMeta::new("v1", "ConfigMap"),
            metadata: ObjectMeta {
                name: Some("settings".into()),
                namespace: Some("prod".into()),
                ..ObjectMeta::default()
            },
            data: [("mode".to_owned(), "fast".to_owned())].into(),
        };
        let dynamic = DynamicObject::from_typed(&typed).unwrap();
        assert_eq!(dynamic.get_str("data.mode"), Some("fast"));
        assert_eq!(dynamic.metadata.namespace(), Some("prod"));
        assert_eq!(dynamic.kind(), "ConfigMap");
        let back: ConfigMap = dynamic.try_into_typed().unwrap();
        assert_eq!(back, typed);
    }

    #[test]
    fn typed_conversion_fills_types_missing_from_the_typed_json() {
        let typed = ConfigMap {
            types: TypeMeta::default(),
            metadata: ObjectMeta::default(),
            data: Default::default(),
        };
        let dynamic = DynamicObject::from_typed(&typed).unwrap();
        assert_eq!(dynamic.api_version(), "v1");
        assert_eq!(dynamic.kind(), "ConfigMap");
        let untyped: DynamicObject = serde_json::from_str(r#"{"data":{"a":"b"}}"#).unwrap();
        let typed: ConfigMap = untyped.try_into_typed().unwrap();
        assert_eq!(typed.data["a"], "b");
        assert_eq!(typed.types, TypeMeta::new("v1", "ConfigMap"));
    }

    #[test]
    fn converting_to_the_wrong_kind_names_both_kinds() {
        let deployment = DynamicObject::new("web", &deployments());
        match deployment.try_into_typed::<ConfigMap>() {
            Err(error @ Error::KindMismatch { .. }) => {
                let message = error.to_string();
                assert!(message.contains("Deployment"), "{message}");
                assert!(message.contains("ConfigMap"), "{message}");
            }
            other => panic!("expected a kind mismatch, got {other:?}"),
        }
        let wrong_body: DynamicObject =
            serde_json::from_str(r#"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":1}}"#)
                .unwrap();
        assert!(matches!(
            wrong_body.try_into_typed::<ConfigMap>(),
            Err(Error::DecodeFailed { .. })
        ));
    }

    #[test]
    fn non_object_data_fails_to_encode_instead_of_writing_garbage() {
        let object = DynamicObject {
            data: serde_json::json!([1]),
            ..DynamicObject::default()
        };
        assert!(serde_json::to_string(&object).is_err());
        assert!(matches!(
            object.to_json_value(),
            Err(Error::EncodeFailed { .. })
        ));
    }
}
