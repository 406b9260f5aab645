//! The REST mapper: from what a user types (`deploy`, `deployments.apps`, `Deployment`,
//! `deployment.v1.apps`) or a kind to the resource to address, built from discovery (client-go's
//! `RESTMapper` with kubectl's shortcut expansion).
//!
//! Rules, as kubectl applies them:
//! - names match case-insensitively against the plural, the singular, the short names and the
//!   kind;
//! - `name.version.group` names one version when that version serves the resource; otherwise
//!   the text after the first dot is a group (`deployments.apps`,
//!   `flunders.wardle.example.com`);
//! - without a version, the group's preferred version that serves the resource wins; across
//!   groups, the first group in discovery order wins (core first), so `events` is core/v1.

use kinformer_meta::{ApiResource, GroupVersionKind};

use crate::discovery::{DiscoveredResource, DiscoveryClient, ServerResources};
use crate::error::{Error, Result};

/// Maps resource names and kinds to resources.
#[derive(Clone, Debug, Default)]
pub struct RestMapper {
    /// Every resource of every group/version, in priority order: groups in discovery order,
    /// versions in preference order.
    resources: Vec<DiscoveredResource>,
}

impl RestMapper {
    /// A mapper over what discovery found.
    pub fn new(discovered: &ServerResources) -> Self {
        let mut resources = Vec::new();
        for group in &discovered.groups {
            for version in &group.versions {
                let gv = kinformer_meta::GroupVersion::new(&group.name, version);
                resources.extend(
                    discovered
                        .resources_for(&gv)
                        .unwrap_or_default()
                        .iter()
                        .cloned(),
                );
            }
        }
        RestMapper { resources }
    }

    /// A mapper built from a discovery client (its cache is used when present).
    pub async fn from_discovery(discovery: &DiscoveryClient) -> Result<Self> {
        Ok(RestMapper::new(
            &*discovery.server_groups_and_resources().await?,
        ))
    }

    /// Every resource known, in priority order.
    pub fn resources(&self) -> &[DiscoveredResource] {
        &self.resources
    }

    /// Resolves a resource argument as kubectl does (`po`, `pods`, `Pod`, `deployments.apps`,
    /// `deployment.v1.apps`).
    pub fn resource_for(&self, argument: &str) -> Result<ApiResource> {
        self.find_argument(argument)
            .map(DiscoveredResource::api_resource)
            .ok_or_else(|| Error::UnknownResource {
                name: argument.to_owned(),
            })
    }

    /// Like [`resource_for`](Self::resource_for), with everything discovery said about it
    /// (short names, verbs, subresources).
    pub fn discovered_for(&self, argument: &str) -> Result<&DiscoveredResource> {
        self.find_argument(argument)
            .ok_or_else(|| Error::UnknownResource {
                name: argument.to_owned(),
            })
    }

    /// The resource serving exactly this group/version/kind.
    pub fn resource_for_kind(&self, gvk: &GroupVersionKind) -> Result<ApiResource> {
        self.resources
            .iter()
            .find(|r| r.group == gvk.group && r.version == gvk.version && r.kind == gvk.kind)
            .map(DiscoveredResource::api_resource)
            .ok_or_else(|| Error::UnknownResource {
                name: gvk.to_string(),
            })
    }

    /// The resource of a group and kind at the group's preferred version that serves it.
    pub fn preferred_resource_for_kind(&self, group: &str, kind: &str) -> Result<ApiResource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.kind == kind)
            .map(DiscoveredResource::api_resource)
            .ok_or_else(|| Error::UnknownResource {
                name: if group.is_empty() {
                    kind.to_owned()
                } else {
                    format!("{kind}.{group}")
                },
            })
    }

    /// The kind served by a plural resource at a group/version.
    pub fn kind_for(&self, group: &str, version: &str, plural: &str) -> Result<GroupVersionKind> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.name == plural)
            .map(|r| GroupVersionKind::new(&r.group, &r.version, &r.kind))
            .ok_or_else(|| Error::UnknownResource {
                name: format!("{plural}.{version}.{group}"),
            })
    }

    fn find_argument(&self, argument: &str) -> Option<&DiscoveredResource> {
        let argument = argument.trim().to_ascii_lowercase();
        if argument.is_empty() {
            return None;
        }
        let (name, rest) = match argument.split_once('.') {
            Some((name, rest)) => (name, Some(rest)),
            None => (argument.as_str(), None),
        };
        let Some(rest) = rest else {
            return self.resources.iter().find(|r| is_named(r, name));
        };
        // `name.version.group` first, when the part after the first dot starts with a version.
        if let Some((version, group)) = rest.split_once('.') {
            let exact = self
                .resources
                .iter()
                .find(|r| r.version == version && r.group == group && is_named(r, name));
            if exact.is_some() {
                return exact;
            }
        }
        self.resources
            .iter()
            .find(|r| r.group == rest && is_named(r, name))
    }
}

/// True when `name` (lower-case) is the resource's plural, singular, short name or kind.
fn is_named(resource: &DiscoveredResource, name: &str) -> bool {
    resource.name == name
        || resource.singular_name == name
        || resource.kind.eq_ignore_ascii_case(name)
        || resource.short_names.iter().any(|short| short == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{DiscoveredGroup, DiscoveryMode, GroupVersionResources};
    use kinformer_meta::{GroupVersion, Scope};

    fn resource(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        short: &[&str],
    ) -> DiscoveredResource {
        DiscoveredResource {
            name: plural.into(),
            singular_name: kind.to_ascii_lowercase(),
            short_names: short.iter().map(|s| s.to_string()).collect(),
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            namespaced: kind != "Node",
            verbs: vec!["get".into(), "list".into()],
            ..DiscoveredResource::default()
        }
    }

    fn mapper() -> RestMapper {
        let group_versions = vec![
            (
                "",
                "v1",
                vec![
                    resource("", "v1", "Pod", "pods", &["po"]),
                    resource("", "v1", "Event", "events", &["ev"]),
                    resource("", "v1", "Node", "nodes", &["no"]),
                ],
            ),
            (
                "apps",
                "v1",
                vec![resource(
                    "apps",
                    "v1",
                    "Deployment",
                    "deployments",
                    &["deploy"],
                )],
            ),
            (
                "apps",
                "v1beta2",
                vec![resource(
                    "apps",
                    "v1beta2",
                    "Deployment",
                    "deployments",
                    &["deploy"],
                )],
            ),
            (
                "events.k8s.io",
                "v1",
                vec![resource("events.k8s.io", "v1", "Event", "events", &["ev"])],
            ),
            (
                "wardle.example.com",
                "v1beta1",
                vec![resource(
                    "wardle.example.com",
                    "v1beta1",
                    "Flunder",
                    "flunders",
                    &[],
                )],
            ),
            (
                "wardle.example.com",
                "v1alpha1",
                vec![
                    resource("wardle.example.com", "v1alpha1", "Fischer", "fischers", &[]),
                    resource("wardle.example.com", "v1alpha1", "Flunder", "flunders", &[]),
                ],
            ),
        ];
        let groups = vec![
            DiscoveredGroup {
                name: "".into(),
                versions: vec!["v1".into()],
            },
            DiscoveredGroup {
                name: "apps".into(),
                versions: vec!["v1".into(), "v1beta2".into()],
            },
            DiscoveredGroup {
                name: "events.k8s.io".into(),
                versions: vec!["v1".into()],
            },
            DiscoveredGroup {
                name: "wardle.example.com".into(),
                versions: vec!["v1beta1".into(), "v1alpha1".into()],
            },
        ];
        RestMapper::new(&ServerResources {
            mode: DiscoveryMode::Legacy,
            aggregated_version: None,
            groups,
            group_versions: group_versions
                .into_iter()
                .map(|(g, v, resources)| GroupVersionResources {
                    group_version: GroupVersion::new(g, v),
                    resources,
                })
                .collect(),
            failures: Vec::new(),
        })
    }

    #[test]
    fn resolves_every_spelling_kubectl_accepts_for_deployments() {
        let mapper = mapper();
        for argument in [
            "deploy",
            "deployments",
            "deployment",
            "Deployment",
            "deployments.apps",
            "deploy.apps",
        ] {
            let resource = mapper.resource_for(argument).unwrap();
            assert_eq!(
                (
                    resource.group.as_str(),
                    resource.version.as_str(),
                    resource.plural.as_str()
                ),
                ("apps", "v1", "deployments"),
                "{argument}"
            );
        }
        let pinned = mapper.resource_for("deployment.v1beta2.apps").unwrap();
        assert_eq!(pinned.version, "v1beta2");
        assert_eq!(
            mapper.resource_for("deployment.v1.apps").unwrap().version,
            "v1"
        );
    }

    #[test]
    fn core_wins_over_other_groups_and_groups_select_explicitly() {
        let mapper = mapper();
        assert_eq!(mapper.resource_for("events").unwrap().group, "");
        assert_eq!(mapper.resource_for("ev").unwrap().group, "");
        assert_eq!(
            mapper.resource_for("events.events.k8s.io").unwrap().group,
            "events.k8s.io"
        );
        assert_eq!(mapper.resource_for("po").unwrap().plural, "pods");
        assert_eq!(mapper.resource_for("no").unwrap().scope, Scope::Cluster);
    }

    #[test]
    fn preferred_version_wins_and_older_only_resources_resolve_at_their_version() {
        let mapper = mapper();
        assert_eq!(mapper.resource_for("flunders").unwrap().version, "v1beta1");
        assert_eq!(
            mapper
                .resource_for("flunders.wardle.example.com")
                .unwrap()
                .version,
            "v1beta1"
        );
        assert_eq!(
            mapper
                .resource_for("flunder.v1alpha1.wardle.example.com")
                .unwrap()
                .version,
            "v1alpha1"
        );
        assert_eq!(mapper.resource_for("fischers").unwrap().version, "v1alpha1");
    }

    #[test]
    fn kinds_map_to_resources_and_back() {
        let mapper = mapper();
        let gvk = GroupVersionKind::new("apps", "v1beta2", "Deployment");
        assert_eq!(mapper.resource_for_kind(&gvk).unwrap().version, "v1beta2");
        assert_eq!(
            mapper
                .preferred_resource_for_kind("apps", "Deployment")
                .unwrap()
                .version,
            "v1"
        );
        assert_eq!(mapper.kind_for("", "v1", "pods").unwrap().kind, "Pod");
        assert!(matches!(
            mapper.resource_for_kind(&GroupVersionKind::new("apps", "v9", "Deployment")),
            Err(Error::UnknownResource { .. })
        ));
    }

    #[test]
    fn unknown_names_are_typed_errors_naming_what_was_asked() {
        let mapper = mapper();
        for unknown in ["widgets", "deploy.batch", "", "pods.v1.nope"] {
            match mapper.resource_for(unknown) {
                Err(Error::UnknownResource { name }) => assert_eq!(name, unknown),
                other => panic!("{unknown}: {other:?}"),
            }
        }
    }
}
