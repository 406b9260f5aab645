//! `TypeMeta`, `ObjectMeta`, `ListMeta` and their parts: the metadata every object carries.
//!
//! Field names and omission rules follow the Kubernetes API (`omitempty` fields are skipped
//! when empty). `managedFields`, which can be half of an object's JSON and is rarely read,
//! is kept as compressed JSON until first read (see [`Packed`]).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::packed::Packed;
use crate::string_map::StringMap;
use crate::time::Time;

/// The `apiVersion` and `kind` of an object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TypeMeta {
    /// `group/version`, or `version` for the core group.
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// The object's kind, such as `Pod`.
    #[serde(default)]
    pub kind: String,
}

impl TypeMeta {
    /// TypeMeta from an API version and kind.
    pub fn new(api_version: impl Into<String>, kind: impl Into<String>) -> Self {
        TypeMeta {
            api_version: api_version.into(),
            kind: kind.into(),
        }
    }

    /// True when either part is missing.
    pub fn is_incomplete(&self) -> bool {
        self.api_version.is_empty() || self.kind.is_empty()
    }
}

/// Metadata every persisted object has: identity, versioning, labels, ownership.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Unique name within the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Prefix from which the server generates a name when `name` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    /// Namespace of a namespaced object; absent for cluster-scoped ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Deprecated self link, kept so old objects round-trip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    /// Unique identifier set by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Opaque version used for optimistic concurrency and watches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Sequence number of the desired state's changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// When the object was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    /// When the object will be (or started to be) deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Time>,
    /// Grace period granted for the deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    /// Identifying labels used by selectors.
    #[serde(default, skip_serializing_if = "StringMap::is_empty")]
    pub labels: StringMap,
    /// Non-identifying annotations.
    #[serde(default, skip_serializing_if = "StringMap::is_empty")]
    pub annotations: StringMap,
    /// Objects this one depends on (garbage collection, controllers).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty_exact"
    )]
    pub owner_references: Vec<OwnerReference>,
    /// Conditions that must clear before the object is removed.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty_exact"
    )]
    pub finalizers: Vec<String>,
    /// Which manager owns which fields (server-side apply), kept compressed and decoded on
    /// first read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_fields: Option<Packed<Vec<ManagedFieldsEntry>>>,
}

impl ObjectMeta {
    /// The name, or `""` when unset.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The namespace, when set and not empty.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref().filter(|ns| !ns.is_empty())
    }

    /// The resourceVersion, when set.
    pub fn resource_version(&self) -> Option<&str> {
        self.resource_version.as_deref().filter(|rv| !rv.is_empty())
    }

    /// Heap bytes held by this metadata (exact allocation sizes: string capacities, the
    /// label and annotation maps, owner references, finalizers and the kept managedFields),
    /// for memory accounting. The inline size, `size_of::<ObjectMeta>()`, is not included.
    pub fn heap_size(&self) -> usize {
        let strings = [
            &self.name,
            &self.generate_name,
            &self.namespace,
            &self.self_link,
            &self.uid,
            &self.resource_version,
        ]
        .into_iter()
        .map(|value| value.as_ref().map_or(0, String::capacity))
        .sum::<usize>();
        let owners = self.owner_references.capacity() * std::mem::size_of::<OwnerReference>()
            + self
                .owner_references
                .iter()
                .map(OwnerReference::heap_size)
                .sum::<usize>();
        let finalizers = self.finalizers.capacity() * std::mem::size_of::<String>()
            + self.finalizers.iter().map(String::capacity).sum::<usize>();
        let managed = self.managed_fields.as_ref().map_or(0, Packed::packed_len);
        strings
            + self.labels.heap_size()
            + self.annotations.heap_size()
            + owners
            + finalizers
            + managed
    }

    /// The owner reference marked `controller: true`, if any.
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references
            .iter()
            .find(|owner| owner.controller == Some(true))
    }
}

/// A reference from an object to its owner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// API version of the owner.
    #[serde(default)]
    pub api_version: String,
    /// Kind of the owner.
    #[serde(default)]
    pub kind: String,
    /// Name of the owner.
    #[serde(default)]
    pub name: String,
    /// UID of the owner.
    #[serde(default)]
    pub uid: String,
    /// True when the owner is the managing controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// True when the owner cannot be deleted before this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

impl OwnerReference {
    /// Heap bytes held by the reference's strings.
    pub fn heap_size(&self) -> usize {
        self.api_version.capacity()
            + self.kind.capacity()
            + self.name.capacity()
            + self.uid.capacity()
    }
}

/// One manager's claim on a set of fields (server-side apply bookkeeping).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedFieldsEntry {
    /// Name of the managing workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// `Apply` or `Update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// API version the fields were written in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// When the entry was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// Format of `fieldsV1`; always `FieldsV1` today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_type: Option<String>,
    /// The managed field set, kept as opaque JSON.
    #[serde(default, rename = "fieldsV1", skip_serializing_if = "Option::is_none")]
    pub fields_v1: Option<FieldsV1>,
    /// Subresource (such as `status`) the fields were written through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
}

/// An opaque managed-field set, kept as the compact JSON it arrived as.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldsV1(pub Box<RawValue>);

impl PartialEq for FieldsV1 {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// Metadata of a list response: its resourceVersion and pagination state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// The version of the list as a whole; a watch continues from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Token for the next page; absent on the last page.
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
    /// How many items the next pages hold, when the server could count them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_item_count: Option<i64>,
    /// Deprecated self link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
}

/// Deserializes `null` as the type's default (servers send `null` for empty lists).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Deserializes a list with `null` as empty, then drops the growth slack: a decoded `Vec`
/// grows to four slots for its first element, and an object cached for hours keeps them.
fn null_as_empty_exact<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut items: Vec<T> = null_as_default(deserializer)?;
    items.shrink_to_fit();
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"{"name":"f1","namespace":"default","uid":"4311bae7","resourceVersion":"2","creationTimestamp":"2026-11-26T16:29:11Z","labels":{"app":"a"},"managedFields":[{"manager":"kubectl-create","operation":"Update","apiVersion":"wardle.example.com/v1alpha1","time":"2026-11-26T16:29:11Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}}]}"#;

    #[test]
    fn real_server_metadata_round_trips_exactly() {
        let meta: ObjectMeta = serde_json::from_str(META).unwrap();
        assert_eq!(meta.name(), "f1");
        assert_eq!(meta.labels.get("app"), Some("a"));
        assert_eq!(serde_json::to_string(&meta).unwrap(), META);
        let fields = meta.managed_fields.as_ref().unwrap().get().unwrap();
        assert_eq!(fields[0].manager.as_deref(), Some("kubectl-create"));
    }

    #[test]
    fn nulls_from_bookmarks_are_tolerated() {
        let meta: ObjectMeta = serde_json::from_str(
            r#"{"resourceVersion":"16","creationTimestamp":null,"labels":null,"finalizers":null,"ownerReferences":null}"#,
        )
        .unwrap();
        assert_eq!(meta.resource_version(), Some("16"));
        assert!(meta.creation_timestamp.is_none() && meta.labels.is_empty());
    }

    #[test]
    fn decoded_lists_hold_no_spare_capacity() {
        let meta: ObjectMeta = serde_json::from_str(
            r#"{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-1","uid":"u"}],"finalizers":["a","b","c","d","e"]}"#,
        )
        .unwrap();
        assert_eq!(meta.owner_references.capacity(), 1);
        assert_eq!(meta.finalizers.capacity(), 5);
        assert_eq!(meta.controller_ref(), None);
    }

    #[test]
    fn list_meta_uses_the_continue_key() {
        let list: ListMeta = serde_json::from_str(
            r#"{"resourceVersion":"6","continue":"abc","remainingItemCount":3}"#,
        )
        .unwrap();
        assert_eq!(list.continue_token.as_deref(), Some("abc"));
        assert_eq!(list.remaining_item_count, Some(3));
    }
}
