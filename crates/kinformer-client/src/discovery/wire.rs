//! The discovery documents as the API server sends them: legacy (`APIVersions`,
//! `APIGroupList`, `APIResourceList`) and aggregated (`apidiscovery.k8s.io/v2`
//! `APIGroupDiscoveryList`), plus `/version`.

use serde::{Deserialize, Serialize};

use kinformer_meta::object_meta::null_as_default;

/// `/version`: the server's build information.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerVersion {
    /// Major version, such as `1`.
    #[serde(default)]
    pub major: String,
    /// Minor version, such as `36` (may carry a `+`).
    #[serde(default)]
    pub minor: String,
    /// The full version, such as `v1.36.0`.
    #[serde(default)]
    pub git_version: String,
    /// The commit built.
    #[serde(default)]
    pub git_commit: String,
    /// `clean` or `dirty`.
    #[serde(default)]
    pub git_tree_state: String,
    /// When the server was built.
    #[serde(default)]
    pub build_date: String,
    /// The Go version used.
    #[serde(default)]
    pub go_version: String,
    /// The Go compiler.
    #[serde(default)]
    pub compiler: String,
    /// `os/arch`.
    #[serde(default)]
    pub platform: String,
}

/// `/api`: the versions of the core group.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiVersions {
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: Vec<String>,
}

/// `/apis`: the named groups.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiGroupList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<ApiGroup>,
}

/// One group of `/apis`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiGroup {
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: Vec<GroupVersionForDiscovery>,
    #[serde(default)]
    pub preferred_version: Option<GroupVersionForDiscovery>,
}

/// One version of a group.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupVersionForDiscovery {
    #[serde(default)]
    pub version: String,
}

/// `/api/v1`, `/apis/{group}/{version}`: the resources of one group/version.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiResourceList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub resources: Vec<LegacyResource>,
}

/// One resource of an `APIResourceList`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LegacyResource {
    pub name: String,
    #[serde(default)]
    pub singular_name: String,
    #[serde(default)]
    pub namespaced: bool,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub verbs: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub short_names: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub categories: Vec<String>,
}

/// `apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiGroupDiscoveryList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: Vec<ApiGroupDiscovery>,
}

/// One group of an aggregated document; versions come in preference order.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiGroupDiscovery {
    #[serde(default)]
    pub metadata: GroupMeta,
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: Vec<ApiVersionDiscovery>,
}

/// The metadata of an aggregated group: only its name matters (empty for core).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GroupMeta {
    #[serde(default)]
    pub name: Option<String>,
}

/// One version of an aggregated group.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiVersionDiscovery {
    pub version: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub resources: Vec<AggregatedResource>,
    /// `Current`, or `Stale` when an aggregated server could not be reached.
    #[serde(default)]
    pub freshness: Option<String>,
}

/// One resource of an aggregated group version.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AggregatedResource {
    pub resource: String,
    #[serde(default)]
    pub response_kind: Option<ResponseKind>,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub singular_resource: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub verbs: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub short_names: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub categories: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub subresources: Vec<AggregatedSubresource>,
}

/// The kind a resource answers with.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseKind {
    #[serde(default)]
    pub kind: String,
}

/// A subresource (`status`, `scale`) of an aggregated resource.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AggregatedSubresource {
    pub subresource: String,
}
