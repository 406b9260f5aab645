//! Group, version, kind and resource names, and the REST paths built from them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An API group and version, such as `apps/v1`, or `v1` for the core group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupVersion {
    /// The group; empty for the core ("legacy") group.
    pub group: String,
    /// The version, such as `v1`.
    pub version: String,
}

/// A group, version and kind: names a type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupVersionKind {
    /// The group; empty for core.
    pub group: String,
    /// The version.
    pub version: String,
    /// The kind, such as `Deployment`.
    pub kind: String,
}

/// A group, version and resource: names a REST collection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupVersionResource {
    /// The group; empty for core.
    pub group: String,
    /// The version.
    pub version: String,
    /// The plural resource name, such as `deployments`.
    pub resource: String,
}

/// A group and resource without a version, such as `deployments.apps`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupResource {
    /// The group; empty for core.
    pub group: String,
    /// The plural resource name.
    pub resource: String,
}

impl GroupVersion {
    /// A group/version from its parts.
    pub fn new(group: impl Into<String>, version: impl Into<String>) -> Self {
        GroupVersion {
            group: group.into(),
            version: version.into(),
        }
    }

    /// Parses `group/version` or `version` (core group).
    pub fn parse(value: &str) -> Result<Self> {
        let invalid = |problem| Error::InvalidGroupVersion {
            value: value.into(),
            problem,
        };
        if value.is_empty() {
            return Err(invalid("empty"));
        }
        match value.split_once('/') {
            None => Ok(GroupVersion::new("", value)),
            Some((group, version)) => {
                if group.is_empty() || version.is_empty() {
                    Err(invalid("group and version must both be non-empty"))
                } else if version.contains('/') {
                    Err(invalid("more than one '/'"))
                } else {
                    Ok(GroupVersion::new(group, version))
                }
            }
        }
    }

    /// The `apiVersion` form: `apps/v1`, or `v1` for core.
    pub fn api_version(&self) -> String {
        self.to_string()
    }

    /// The path prefix of this group/version: `/api/v1` or `/apis/apps/v1`.
    pub fn path_prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// This group/version with a kind.
    pub fn with_kind(&self, kind: impl Into<String>) -> GroupVersionKind {
        GroupVersionKind::new(&self.group, &self.version, kind)
    }

    /// This group/version with a resource.
    pub fn with_resource(&self, resource: impl Into<String>) -> GroupVersionResource {
        GroupVersionResource::new(&self.group, &self.version, resource)
    }
}

impl fmt::Display for GroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.version)
        } else {
            write!(f, "{}/{}", self.group, self.version)
        }
    }
}

impl FromStr for GroupVersion {
    type Err = Error;
    fn from_str(value: &str) -> Result<Self> {
        GroupVersion::parse(value)
    }
}

impl GroupVersionKind {
    /// A group/version/kind from its parts.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        GroupVersionKind {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// Splits an `apiVersion` and a kind into a GVK.
    pub fn from_api_version_and_kind(api_version: &str, kind: &str) -> Result<Self> {
        Ok(GroupVersion::parse(api_version)?.with_kind(kind))
    }

    /// The group/version part.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(&self.group, &self.version)
    }

    /// The `apiVersion` form.
    pub fn api_version(&self) -> String {
        self.group_version().to_string()
    }
}

impl fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Kind={}", self.group_version(), self.kind)
    }
}

impl GroupVersionResource {
    /// A group/version/resource from its parts.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        GroupVersionResource {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
        }
    }

    /// The group/version part.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(&self.group, &self.version)
    }

    /// The group/resource part.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(&self.group, &self.resource)
    }

    /// The REST path of the collection (`namespace: None` for cluster-scoped resources or an
    /// all-namespaces list), of one object (`name`), or of its subresource.
    pub fn path(
        &self,
        namespace: Option<&str>,
        name: Option<&str>,
        subresource: Option<&str>,
    ) -> String {
        let mut path = self.group_version().path_prefix();
        if let Some(namespace) = namespace.filter(|ns| !ns.is_empty()) {
            path.push_str("/namespaces/");
            path.push_str(namespace);
        }
        path.push('/');
        path.push_str(&self.resource);
        if let Some(name) = name {
            path.push('/');
            path.push_str(name);
            if let Some(subresource) = subresource {
                path.push('/');
                path.push_str(subresource);
            }
        }
        path
    }
}

impl fmt::Display for GroupVersionResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Resource={}", self.group_version(), self.resource)
    }
}

impl GroupResource {
    /// A group/resource from its parts.
    pub fn new(group: impl Into<String>, resource: impl Into<String>) -> Self {
        GroupResource {
            group: group.into(),
            resource: resource.into(),
        }
    }

    /// Parses `resource.group` (`deployments.apps`) or `resource` (core).
    pub fn parse(value: &str) -> Self {
        match value.split_once('.') {
            Some((resource, group)) => GroupResource::new(group, resource),
            None => GroupResource::new("", value),
        }
    }
}

impl fmt::Display for GroupResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_core_and_named_group_versions() {
        assert_eq!(
            GroupVersion::parse("v1").unwrap(),
            GroupVersion::new("", "v1")
        );
        assert_eq!(
            GroupVersion::parse("apps/v1").unwrap(),
            GroupVersion::new("apps", "v1")
        );
        assert_eq!(
            GroupVersion::parse("apps/v1").unwrap().to_string(),
            "apps/v1"
        );
        for bad in ["", "/v1", "apps/", "a/b/c"] {
            assert!(GroupVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builds_rest_paths_like_the_apiserver_routes_them() {
        let pods = GroupVersionResource::new("", "v1", "pods");
        assert_eq!(
            pods.path(Some("ns"), None, None),
            "/api/v1/namespaces/ns/pods"
        );
        assert_eq!(pods.path(None, None, None), "/api/v1/pods");
        assert_eq!(
            pods.path(Some("ns"), Some("p"), Some("status")),
            "/api/v1/namespaces/ns/pods/p/status"
        );
        let deployments = GroupVersionResource::new("apps", "v1", "deployments");
        assert_eq!(
            deployments.path(None, None, None),
            "/apis/apps/v1/deployments"
        );
        let nodes = GroupVersionResource::new("", "v1", "nodes");
        assert_eq!(nodes.path(None, Some("n1"), None), "/api/v1/nodes/n1");
    }

    #[test]
    fn group_resource_parses_dotted_names() {
        assert_eq!(
            GroupResource::parse("deployments.apps"),
            GroupResource::new("apps", "deployments")
        );
        assert_eq!(GroupResource::parse("pods").to_string(), "pods");
        assert_eq!(
            GroupResource::parse("flunders.wardle.example.com").group,
            "wardle.example.com"
        );
    }
}
