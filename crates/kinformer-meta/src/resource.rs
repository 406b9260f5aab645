//! The traits that make later layers generic over typed and dynamic objects: [`Object`]
//! (metadata and type access for any object) and [`Resource`] (a kind known at compile time),
//! plus [`ApiResource`], the runtime description a dynamic client works from.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::gvk::{GroupVersion, GroupVersionKind, GroupVersionResource};
use crate::object_meta::{ObjectMeta, TypeMeta};

/// Whether a resource lives in a namespace or at cluster scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Objects live in a namespace (`/namespaces/{ns}/...`).
    Namespaced,
    /// Objects are cluster-wide.
    Cluster,
}

/// Any Kubernetes object: typed, dynamic or metadata-only.
///
/// Implementations always answer `api_version` and `kind`, even when the JSON they were
/// decoded from lacked them (list items do): that is a guarantee of this project.
pub trait Object: Clone + Send + Sync + 'static {
    /// The object's metadata.
    fn metadata(&self) -> &ObjectMeta;
    /// Mutable metadata.
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
    /// The object's `apiVersion`.
    fn api_version(&self) -> Cow<'_, str>;
    /// The object's `kind`.
    fn kind(&self) -> Cow<'_, str>;

    /// `apiVersion` and `kind` together.
    fn type_meta(&self) -> TypeMeta {
        TypeMeta::new(self.api_version(), self.kind())
    }
}

/// A kind whose group, version, kind and plural are known at compile time.
pub trait Resource: Object + Serialize + DeserializeOwned {
    /// The API group, empty for core.
    const GROUP: &'static str;
    /// The version.
    const VERSION: &'static str;
    /// `group/version`, or `version` for core.
    const API_VERSION: &'static str;
    /// The kind.
    const KIND: &'static str;
    /// The plural resource name used in paths.
    const PLURAL: &'static str;
    /// Namespaced or cluster-scoped.
    const SCOPE: Scope;

    /// The runtime description of this kind.
    fn api_resource() -> ApiResource {
        ApiResource {
            group: Self::GROUP.into(),
            version: Self::VERSION.into(),
            kind: Self::KIND.into(),
            plural: Self::PLURAL.into(),
            scope: Self::SCOPE,
        }
    }
}

/// Everything needed to address a resource at run time (what discovery tells).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApiResource {
    /// The API group, empty for core.
    pub group: String,
    /// The version.
    pub version: String,
    /// The kind.
    pub kind: String,
    /// The plural resource name used in paths.
    pub plural: String,
    /// Namespaced or cluster-scoped.
    pub scope: Scope,
}

impl ApiResource {
    /// The description of a typed kind.
    pub fn of<K: Resource>() -> Self {
        K::api_resource()
    }

    /// A description from a GVK, its plural and scope.
    pub fn from_gvk(gvk: &GroupVersionKind, plural: impl Into<String>, scope: Scope) -> Self {
        ApiResource {
            group: gvk.group.clone(),
            version: gvk.version.clone(),
            kind: gvk.kind.clone(),
            plural: plural.into(),
            scope,
        }
    }

    /// `group/version`, or `version` for core.
    pub fn api_version(&self) -> String {
        GroupVersion::new(&self.group, &self.version).to_string()
    }

    /// The group/version/kind.
    pub fn gvk(&self) -> GroupVersionKind {
        GroupVersionKind::new(&self.group, &self.version, &self.kind)
    }

    /// The group/version/resource.
    pub fn gvr(&self) -> GroupVersionResource {
        GroupVersionResource::new(&self.group, &self.version, &self.plural)
    }

    /// True for namespaced resources.
    pub fn is_namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }
}

/// An object reduced to its type and metadata (what metadata-only informers cache).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialObjectMetadata {
    /// `apiVersion` and `kind` of the object described.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// The object's metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
}

impl Object for PartialObjectMetadata {
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
    fn api_version(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.types.api_version)
    }
    fn kind(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.types.kind)
    }
}
