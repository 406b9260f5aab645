//! The resource registry: which kinds the fake server serves (built-ins and CRDs), with the
//! plural, kind, scope, verbs and short names discovery reports.

use std::sync::Arc;

use serde_json::Value;

/// The verbs every ordinary resource supports.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One served resource: enough to route, store and describe it in discovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, empty for core.
    pub group: String,
    /// Version served.
    pub version: String,
    /// Kind, such as `Pod`.
    pub kind: String,
    /// Plural resource name used in paths, such as `pods`.
    pub plural: String,
    /// Singular name, such as `pod`.
    pub singular: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Verbs discovery reports.
    pub verbs: Vec<String>,
    /// Short names, such as `po`.
    pub short_names: Vec<String>,
    /// Categories, such as `all`.
    pub categories: Vec<String>,
    /// Whether a `/status` subresource exists (and bookmarks carry empty spec and status).
    pub status_subresource: bool,
}

impl ResourceInfo {
    /// A namespaced resource with all verbs, no short names and no status subresource.
    pub fn new(group: &str, version: &str, kind: &str, plural: &str) -> Self {
        ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            namespaced: true,
            verbs: ALL_VERBS.iter().map(|verb| verb.to_string()).collect(),
            short_names: Vec::new(),
            categories: Vec::new(),
            status_subresource: false,
        }
    }

    /// The same resource at cluster scope.
    pub fn cluster_scoped(mut self) -> Self {
        self.namespaced = false;
        self
    }

    /// The same resource with a status subresource.
    pub fn with_status(mut self) -> Self {
        self.status_subresource = true;
        self
    }

    /// The same resource with short names.
    pub fn with_short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|name| name.to_string()).collect();
        self
    }

    /// The same resource in the `all` category.
    pub fn in_all(mut self) -> Self {
        self.categories = vec!["all".into()];
        self
    }

    /// `group/version`, or `version` for core.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` (or `plural` for core), as error messages name a resource.
    pub fn qualified_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The key objects of this resource are stored under (version independent).
    pub(crate) fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }
}

/// All resources the server knows, in registration order.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    resources: Vec<Arc<ResourceInfo>>,
}

impl Registry {
    /// The built-in kinds: the core, apps, batch, coordination, apiextensions and events groups.
    pub fn builtin() -> Self {
        let mut registry = Registry::default();
        for info in builtin_resources() {
            registry.register(info);
        }
        registry
    }

    /// Adds (or replaces) a resource.
    pub fn register(&mut self, info: ResourceInfo) {
        self.resources.retain(|r| {
            !(r.group == info.group && r.version == info.version && r.plural == info.plural)
        });
        self.resources.push(Arc::new(info));
    }

    /// Removes every version of `plural.group`.
    pub fn unregister(&mut self, group: &str, plural: &str) {
        self.resources
            .retain(|r| !(r.group == group && r.plural == plural));
    }

    /// Every resource.
    pub fn all(&self) -> &[Arc<ResourceInfo>] {
        &self.resources
    }

    /// The resource at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    /// The resource serving `apiVersion` + `kind`.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceInfo>> {
        self.resources
            .iter()
            .find(|r| r.api_version() == api_version && r.kind == kind)
            .cloned()
    }

    /// The groups served, in registration order, each with its versions.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for r in &self.resources {
            match groups.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, versions)) => {
                    if !versions.contains(&r.version) {
                        versions.push(r.version.clone());
                    }
                }
                None => groups.push((r.group.clone(), vec![r.version.clone()])),
            }
        }
        groups
    }

    /// Resources served at `group/version`.
    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<Arc<ResourceInfo>> {
        self.resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .cloned()
            .collect()
    }
}

/// The ResourceInfos a CustomResourceDefinition object declares (one per served version).
pub fn resources_from_crd(crd: &Value) -> Option<Vec<ResourceInfo>> {
    let spec = crd.get("spec")?;
    let group = spec.get("group")?.as_str()?;
    let names = spec.get("names")?;
    let plural = names.get("plural")?.as_str()?;
    let kind = names.get("kind")?.as_str()?;
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let strings = |value: Option<&Value>| -> Vec<String> {
        value
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for version in spec.get("versions")?.as_array()? {
        if version.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let Some(name) = version.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut info = ResourceInfo::new(group, name, kind, plural);
        info.namespaced = namespaced;
        if let Some(singular) = names.get("singular").and_then(Value::as_str) {
            info.singular = singular.into();
        }
        info.short_names = strings(names.get("shortNames"));
        info.categories = strings(names.get("categories"));
        info.status_subresource = version.pointer("/subresources/status").is_some();
        out.push(info);
    }
    Some(out)
}

fn builtin_resources() -> Vec<ResourceInfo> {
    let core = |kind: &str, plural: &str| ResourceInfo::new("", "v1", kind, plural);
    let apps = |kind: &str, plural: &str| ResourceInfo::new("apps", "v1", kind, plural);
    let batch = |kind: &str, plural: &str| ResourceInfo::new("batch", "v1", kind, plural);
    vec![
        core("Pod", "pods")
            .with_status()
            .with_short_names(&["po"])
            .in_all(),
        core("ConfigMap", "configmaps").with_short_names(&["cm"]),
        core("Secret", "secrets"),
        core("Service", "services")
            .with_status()
            .with_short_names(&["svc"])
            .in_all(),
        core("Namespace", "namespaces")
            .cluster_scoped()
            .with_status()
            .with_short_names(&["ns"]),
        core("Node", "nodes")
            .cluster_scoped()
            .with_status()
            .with_short_names(&["no"]),
        core("Event", "events").with_short_names(&["ev"]),
        core("ServiceAccount", "serviceaccounts").with_short_names(&["sa"]),
        core("Endpoints", "endpoints").with_short_names(&["ep"]),
        core("PersistentVolumeClaim", "persistentvolumeclaims")
            .with_status()
            .with_short_names(&["pvc"]),
        apps("Deployment", "deployments")
            .with_status()
            .with_short_names(&["deploy"])
            .in_all(),
        apps("ReplicaSet", "replicasets")
            .with_status()
            .with_short_names(&["rs"])
            .in_all(),
        apps("StatefulSet", "statefulsets")
            .with_status()
            .with_short_names(&["sts"])
            .in_all(),
        apps("DaemonSet", "daemonsets")
            .with_status()
            .with_short_names(&["ds"])
            .in_all(),
        batch("Job", "jobs").with_status().in_all(),
        batch("CronJob", "cronjobs")
            .with_status()
            .with_short_names(&["cj"])
            .in_all(),
        ResourceInfo::new("coordination.k8s.io", "v1", "Lease", "leases"),
        ResourceInfo::new(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
        )
        .cluster_scoped()
        .with_status()
        .with_short_names(&["crd", "crds"]),
        ResourceInfo::new("events.k8s.io", "v1", "Event", "events").with_short_names(&["ev"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_finds_pods_by_path_and_by_kind() {
        let registry = Registry::builtin();
        let pods = registry.find("", "v1", "pods").expect("pods");
        assert_eq!(pods.kind, "Pod");
        assert!(pods.namespaced);
        assert_eq!(
            registry.find_kind("apps/v1", "Deployment").unwrap().plural,
            "deployments"
        );
        assert!(registry.find("", "v1", "widgets").is_none());
    }

    #[test]
    fn crd_object_declares_one_resource_per_served_version() {
        let crd = serde_json::json!({
            "spec": {"group": "example.com", "scope": "Cluster",
                     "names": {"plural": "widgets", "kind": "Widget", "singular": "widget", "shortNames": ["wd"]},
                     "versions": [{"name": "v1", "served": true, "subresources": {"status": {}}},
                                  {"name": "v0", "served": false}]}
        });
        let infos = resources_from_crd(&crd).expect("valid crd");
        assert_eq!(infos.len(), 1);
        assert!(!infos[0].namespaced);
        assert!(infos[0].status_subresource);
        assert_eq!(infos[0].short_names, vec!["wd".to_string()]);
    }

    #[test]
    fn groups_lists_core_first_with_versions() {
        let groups = Registry::builtin().groups();
        assert_eq!(groups[0], (String::new(), vec!["v1".to_string()]));
        assert!(groups.iter().any(|(g, _)| g == "apps"));
    }
}
