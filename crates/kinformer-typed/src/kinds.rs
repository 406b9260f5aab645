//! The table of built-in kinds this crate types: group, version, kind, plural, scope and
//! kubectl's short names, for a fake API server's discovery and a REST mapper.

use kinformer_meta::{ApiResource, Resource, Scope};

use crate::api::{apiextensions, apps, batch, coordination, core, events};

/// One built-in kind: how to address it and what kubectl calls it for short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinKind {
    /// The API group, empty for core.
    pub group: &'static str,
    /// The version.
    pub version: &'static str,
    /// The kind.
    pub kind: &'static str,
    /// The plural resource name used in paths.
    pub plural: &'static str,
    /// The singular resource name (lower-case kind).
    pub singular: &'static str,
    /// Namespaced or cluster-scoped.
    pub scope: Scope,
    /// kubectl's short names (`po`, `deploy`).
    pub short_names: &'static [&'static str],
}

impl BuiltinKind {
    const fn of<K: Resource>(singular: &'static str, short_names: &'static [&'static str]) -> Self {
        BuiltinKind {
            group: K::GROUP,
            version: K::VERSION,
            kind: K::KIND,
            plural: K::PLURAL,
            singular,
            scope: K::SCOPE,
            short_names,
        }
    }

    /// The runtime description of this kind.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.into(),
            version: self.version.into(),
            kind: self.kind.into(),
            plural: self.plural.into(),
            scope: self.scope,
        }
    }

    /// True when `name` is this kind's plural, singular, kind (any case) or a short name.
    pub fn is_named(&self, name: &str) -> bool {
        name == self.plural
            || name == self.singular
            || name.eq_ignore_ascii_case(self.kind)
            || self.short_names.contains(&name)
    }
}

/// Every built-in kind of this crate, core first.
pub const BUILTIN_KINDS: &[BuiltinKind] = &[
    BuiltinKind::of::<core::v1::Pod>("pod", &["po"]),
    BuiltinKind::of::<core::v1::ConfigMap>("configmap", &["cm"]),
    BuiltinKind::of::<core::v1::Secret>("secret", &[]),
    BuiltinKind::of::<core::v1::Service>("service", &["svc"]),
    BuiltinKind::of::<core::v1::Namespace>("namespace", &["ns"]),
    BuiltinKind::of::<core::v1::Node>("node", &["no"]),
    BuiltinKind::of::<core::v1::Event>("event", &["ev"]),
    BuiltinKind::of::<core::v1::ServiceAccount>("serviceaccount", &["sa"]),
    BuiltinKind::of::<core::v1::Endpoints>("endpoints", &["ep"]),
    BuiltinKind::of::<core::v1::PersistentVolumeClaim>("persistentvolumeclaim", &["pvc"]),
    BuiltinKind::of::<apps::v1::Deployment>("deployment", &["deploy"]),
    BuiltinKind::of::<apps::v1::ReplicaSet>("replicaset", &["rs"]),
    BuiltinKind::of::<apps::v1::StatefulSet>("statefulset", &["sts"]),
    BuiltinKind::of::<apps::v1::DaemonSet>("daemonset", &["ds"]),
    BuiltinKind::of::<batch::v1::Job>("job", &[]),
    BuiltinKind::of::<batch::v1::CronJob>("cronjob", &["cj"]),
    BuiltinKind::of::<coordination::v1::Lease>("lease", &[]),
    BuiltinKind::of::<apiextensions::v1::CustomResourceDefinition>(
        "customresourcedefinition",
        &["crd", "crds"],
    ),
    BuiltinKind::of::<events::v1::Event>("event", &["ev"]),
];

/// The runtime descriptions of every built-in kind.
pub fn list_kinds() -> Vec<ApiResource> {
    BUILTIN_KINDS
        .iter()
        .map(BuiltinKind::api_resource)
        .collect()
}

/// The built-in kinds matching a name as typed on a command line (`po`, `pods`, `Pod`,
/// `deployments.apps`): core/v1 first when a name is ambiguous (`events`).
pub fn find_kind(name: &str) -> Option<&'static BuiltinKind> {
    let (name, group) = match name.split_once('.') {
        Some((name, group)) => (name, Some(group)),
        None => (name, None),
    };
    BUILTIN_KINDS.iter().find(|kind| {
        kind.is_named(name)
            && group.is_none_or(|group| {
                kind.group == group || kind.group.starts_with(&format!("{group}."))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_resolve_to_their_kinds() {
        for (name, kind, group) in [
            ("po", "Pod", ""),
            ("deploy", "Deployment", "apps"),
            ("crd", "CustomResourceDefinition", "apiextensions.k8s.io"),
            ("pvc", "PersistentVolumeClaim", ""),
            ("cronjobs", "CronJob", "batch"),
            ("events.events.k8s.io", "Event", "events.k8s.io"),
            ("events", "Event", ""),
        ] {
            let found = find_kind(name).unwrap_or_else(|| panic!("{name} not found"));
            assert_eq!((found.kind, found.group), (kind, group), "{name}");
        }
        assert!(find_kind("flunders").is_none());
    }

    #[test]
    fn the_table_lists_every_kind_once_with_a_plural_and_scope() {
        let kinds = list_kinds();
        assert_eq!(kinds.len(), 19);
        let namespace = kinds.iter().find(|k| k.kind == "Namespace").unwrap();
        assert_eq!(
            (namespace.plural.as_str(), namespace.scope),
            ("namespaces", Scope::Cluster)
        );
        let mut gvks: Vec<_> = kinds.iter().map(ApiResource::gvk).collect();
        gvks.sort_by_key(|gvk| format!("{gvk:?}"));
        gvks.dedup();
        assert_eq!(gvks.len(), 19);
    }
}
