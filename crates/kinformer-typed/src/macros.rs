//! The two macros that generate this crate's types: `typed_object!` for a kind (struct,
//! serde, `Object`, `Resource`, accessors) and `api_struct!` for a body struct.
//!
//! Read an invocation (for example `Pod` in `api/core/v1/pod.rs`) next to this file: every
//! generated item is listed below in the order it is emitted.

/// Generates a kind: the struct, `Deserialize`/`Serialize`, `Object`, `Resource`,
/// `TypedObject`, `new`, and for each body field a reader, a mutable reader and a setter.
///
/// Each body field is `Option<Lazy<Stored>>` where `Stored` is the target type or a `Box` of
/// it (large bodies are boxed so an undecoded object stays small); accessors hide the box.
macro_rules! typed_object {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            resource: {
                group: $group:literal, version: $version:literal, api_version: $api_version:literal,
                kind: $kind:literal, plural: $plural:literal, scope: $scope:ident $(,)?
            },
            debug: $debug:ident,
            body: {
                $(
                    $(#[$field_attr:meta])*
                    $json:literal => $field:ident: $stored:ty as $target:ty, $field_mut:ident, $set_field:ident;
                )*
            } $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Default, PartialEq)]
        pub struct $name {
            /// Standard object metadata, always decoded.
            pub metadata: kinformer_meta::ObjectMeta,
            $(
                $(#[$field_attr])*
                pub $field: Option<kinformer_meta::Lazy<$stored>>,
            )*
            /// Top-level fields this kind does not model, written back unchanged.
            pub unknown: $crate::object::UnknownFields,
        }

        impl $name {
            #[doc = concat!("A ", $kind, " named `name`, with nothing else set.")]
            pub fn new(name: impl Into<String>) -> Self {
                let mut object = Self::default();
                object.metadata.name = Some(name.into());
                object
            }

            /// Sets the namespace (for namespaced kinds) and returns the object.
            pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
                self.metadata.namespace = Some(namespace.into());
                self
            }

            $(
                #[doc = concat!("Reads `", $json, "`, decoding it on first access; `None` when absent.")]
                pub fn $field(&self) -> kinformer_meta::Result<Option<&$target>> {
                    match &self.$field {
                        Some(lazy) => lazy
                            .get()
                            .map(|stored| Some(std::borrow::Borrow::<$target>::borrow(stored))),
                        None => Ok(None),
                    }
                }

                #[doc = concat!("Mutable `", $json, "`, created empty when absent (drops the received JSON).")]
                pub fn $field_mut(&mut self) -> kinformer_meta::Result<&mut $target> {
                    let lazy = self.$field.get_or_insert_with(|| {
                        kinformer_meta::Lazy::new(<$stored>::from(<$target>::default()))
                    });
                    lazy.get_mut()
                        .map(|stored| std::borrow::BorrowMut::<$target>::borrow_mut(stored))
                }

                #[doc = concat!("Replaces `", $json, "`.")]
                pub fn $set_field(&mut self, value: $target) {
                    self.$field = Some(kinformer_meta::Lazy::new(<$stored>::from(value)));
                }
            )*
        }

        impl kinformer_meta::Object for $name {
            fn metadata(&self) -> &kinformer_meta::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut kinformer_meta::ObjectMeta {
                &mut self.metadata
            }
            fn api_version(&self) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($api_version)
            }
            fn kind(&self) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($kind)
            }
        }

        impl kinformer_meta::Resource for $name {
            const GROUP: &'static str = $group;
            const VERSION: &'static str = $version;
            const API_VERSION: &'static str = $api_version;
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            const SCOPE: kinformer_meta::Scope = kinformer_meta::Scope::$scope;
        }

        impl $crate::object::TypedObject for $name {
            fn decode_all(&mut self) -> kinformer_meta::Result<()> {
                $(
                    if let Some(lazy) = &mut self.$field {
                        lazy.get_mut()?;
                    }
                )*
                Ok(())
            }

            fn unknown_fields(&self) -> &$crate::object::UnknownFields {
                &self.unknown
            }

            fn raw_body_len(&self) -> usize {
                0 $( + self.$field.as_ref().map_or(0, |lazy| lazy.raw_len()) )*
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let present = 0 $( + usize::from(self.$field.is_some()) )*;
                let mut map = serializer.serialize_map(Some(3 + present + self.unknown.len()))?;
                map.serialize_entry("apiVersion", $api_version)?;
                map.serialize_entry("kind", $kind)?;
                map.serialize_entry("metadata", &self.metadata)?;
                $(
                    if let Some(value) = &self.$field {
                        map.serialize_entry($json, value)?;
                    }
                )*
                self.unknown.serialize_into(&mut map)?;
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", $kind, " object"))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$name, A::Error> {
                        use $crate::object::{check_type_fields, Key};
                        let mut object = $name::default();
                        let (mut api_version, mut kind) = (None, None);
                        while let Some(key) = map.next_key::<Key<'de>>()? {
                            match key.as_str() {
                                "apiVersion" => api_version = map.next_value::<Option<Key<'de>>>()?,
                                "kind" => kind = map.next_value::<Option<Key<'de>>>()?,
                                "metadata" => {
                                    object.metadata = map.next_value::<Option<_>>()?.unwrap_or_default()
                                }
                                $( $json => object.$field = map.next_value()?, )*
                                _ => {
                                    let raw = map.next_value()?;
                                    object.unknown.insert_raw(key.as_str().into(), raw);
                                }
                            }
                        }
                        check_type_fields(api_version, kind, $api_version, $kind)?;
                        Ok(object)
                    }
                }
                deserializer.deserialize_map(ObjectVisitor)
            }
        }

        typed_object!(@debug $debug $name { $($field)* });
    };

    (@debug derive $name:ident { $($field:ident)* }) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut out = f.debug_struct(stringify!($name));
                out.field("metadata", &self.metadata);
                $( out.field(stringify!($field), &self.$field); )*
                out.field("unknown", &self.unknown).finish()
            }
        }
    };

    (@debug manual $name:ident { $($field:ident)* }) => {};
}

/// Generates a body struct: every field optional (absent, `null` and empty stay distinct where
/// the API distinguishes them), camelCase names, and an `other` catch-all so fields not
/// modelled here round-trip.
macro_rules! api_struct {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_attr:meta])*
                $field:ident: $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $(
                $(#[$field_attr])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Fields not modelled here, kept so they round-trip.
            #[serde(flatten)]
            pub other: serde_json::Map<String, serde_json::Value>,
        }
    };
}
