//! The discovery client: what groups, versions and resources a server serves (client-go's
//! `DiscoveryClient`, and what `kubectl api-resources` prints).
//!
//! Start with [`DiscoveryClient`]. It asks for aggregated discovery first (one
//! `apidiscovery.k8s.io/v2` document each from `/api` and `/apis`, or `v2beta1` from servers
//! 1.26-1.29 that do not know v2, in one Accept header as kubectl sends it) and falls back to
//! the legacy endpoints (`/api`, `/apis`, then one `APIResourceList` per group/version) when
//! the server answers with plain documents or refuses the aggregated media types (406). A group/version that fails (or is reported `Stale`) is listed
//! in [`ServerResources::failures`] beside everything that succeeded. Results are cached in
//! memory until [`DiscoveryClient::invalidate`]. The wire documents are in `wire`.

mod wire;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use kinformer_meta::{ApiResource, GroupVersion, Scope};

use crate::api::decode;
use crate::error::{Error, Result};
use crate::Client;

pub use wire::ServerVersion;

/// The Accept header of an aggregated discovery request, as kubectl sends it: `v2`, then
/// `v2beta1` (servers 1.26-1.29), then plain JSON (legacy discovery).
pub const AGGREGATED_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

/// The aggregated discovery versions this client reads, preferred first.
pub const AGGREGATED_VERSIONS: [&str; 2] = ["v2", "v2beta1"];

/// One resource a server serves, with what `kubectl api-resources` prints about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiscoveredResource {
    /// The plural name used in paths (`deployments`).
    pub name: String,
    /// The singular name (`deployment`).
    pub singular_name: String,
    /// Short names (`deploy`).
    pub short_names: Vec<String>,
    /// The group, empty for core.
    pub group: String,
    /// The version.
    pub version: String,
    /// The kind (`Deployment`).
    pub kind: String,
    /// True for namespaced resources.
    pub namespaced: bool,
    /// The verbs allowed (`get`, `list`, `watch`, ...).
    pub verbs: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Subresources (`status`, `scale`).
    pub subresources: Vec<String>,
}

impl DiscoveredResource {
    /// `group/version`, or `version` for core (kubectl's APIVERSION column).
    pub fn api_version(&self) -> String {
        GroupVersion::new(&self.group, &self.version).to_string()
    }

    /// The runtime description clients address the resource with.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
            plural: self.name.clone(),
            scope: if self.namespaced {
                Scope::Namespaced
            } else {
                Scope::Cluster
            },
        }
    }

    /// True when the resource allows `verb`.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// One API group and its versions, preferred first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiscoveredGroup {
    /// The group name, empty for core.
    pub name: String,
    /// The versions served, in the server's order of preference.
    pub versions: Vec<String>,
}

impl DiscoveredGroup {
    /// The preferred version.
    pub fn preferred_version(&self) -> Option<&str> {
        self.versions.first().map(String::as_str)
    }
}

/// The resources of one group/version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupVersionResources {
    /// The group/version.
    pub group_version: GroupVersion,
    /// Its resources (subresources are folded into their parent).
    pub resources: Vec<DiscoveredResource>,
}

/// A group/version whose discovery failed.
#[derive(Clone, Debug)]
pub struct DiscoveryFailure {
    /// The group/version (`apps/v1`, `v1`).
    pub group_version: GroupVersion,
    /// Why it failed.
    pub error: Arc<Error>,
}

/// How the server answered discovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscoveryMode {
    /// `/api` and `/apis` sent aggregated documents.
    Aggregated,
    /// At least one of them sent legacy documents, so per-group/version requests were made.
    Legacy,
}

/// Everything discovery found: groups, resources per group/version, and the failures.
#[derive(Clone, Debug)]
pub struct ServerResources {
    /// How the server answered.
    pub mode: DiscoveryMode,
    /// The `apidiscovery.k8s.io` version of the aggregated documents (`v2` or `v2beta1`);
    /// `None` when neither root answered with one.
    pub aggregated_version: Option<&'static str>,
    /// The groups, core first, in the server's order.
    pub groups: Vec<DiscoveredGroup>,
    /// The resources of every group/version that succeeded, in group order and version
    /// preference order.
    pub group_versions: Vec<GroupVersionResources>,
    /// The group/versions that failed; the rest of the result is still valid.
    pub failures: Vec<DiscoveryFailure>,
}

impl ServerResources {
    /// True when no group/version failed.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }

    /// The resources of one group/version, if it was discovered.
    pub fn resources_for(&self, group_version: &GroupVersion) -> Option<&[DiscoveredResource]> {
        self.group_versions
            .iter()
            .find(|gv| &gv.group_version == group_version)
            .map(|gv| gv.resources.as_slice())
    }

    /// One entry per resource of each group, at the most preferred version that serves it
    /// (what `kubectl api-resources` lists): a resource only an older version serves is listed
    /// at that version.
    pub fn preferred_resources(&self) -> Vec<DiscoveredResource> {
        let mut out: Vec<DiscoveredResource> = Vec::new();
        for group in &self.groups {
            let first_of_group = out.len();
            for version in &group.versions {
                let gv = GroupVersion::new(&group.name, version);
                for resource in self.resources_for(&gv).unwrap_or_default() {
                    if !out[first_of_group..]
                        .iter()
                        .any(|r| r.name == resource.name)
                    {
                        out.push(resource.clone());
                    }
                }
            }
        }
        out
    }
}

/// Asks a server what it serves; clones share one cache.
#[derive(Clone, Debug)]
pub struct DiscoveryClient {
    client: Client,
    aggregated: bool,
    cache: Arc<Mutex<Option<Arc<ServerResources>>>>,
}

impl DiscoveryClient {
    /// A discovery client that tries aggregated discovery first.
    pub fn new(client: Client) -> Self {
        DiscoveryClient {
            client,
            aggregated: true,
            cache: Arc::default(),
        }
    }

    /// Uses only the legacy endpoints (never asks for aggregated documents).
    pub fn legacy_only(mut self) -> Self {
        self.aggregated = false;
        self.invalidate();
        self
    }

    /// Drops the cached result; the next call asks the server again.
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
    }

    /// `/version`.
    pub async fn server_version(&self) -> Result<ServerVersion> {
        let (bytes, _) = self.get("/version", crate::request::JSON).await?;
        decode(&bytes)
    }

    /// The groups served, core first, each with its versions (preferred first).
    pub async fn server_groups(&self) -> Result<Vec<DiscoveredGroup>> {
        Ok(self.server_groups_and_resources().await?.groups.clone())
    }

    /// Groups and the resources of every group/version, from the cache when present.
    /// Failures of single group/versions are in [`ServerResources::failures`]; only a failure
    /// of `/api` or `/apis` itself is an error.
    pub async fn server_groups_and_resources(&self) -> Result<Arc<ServerResources>> {
        if let Some(cached) = self.cache.lock().ok().and_then(|cache| cache.clone()) {
            return Ok(cached);
        }
        let fresh = Arc::new(self.discover().await?);
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some(fresh.clone());
        }
        Ok(fresh)
    }

    /// The preferred resources (see [`ServerResources::preferred_resources`]) and the
    /// failures met on the way.
    pub async fn server_preferred_resources(
        &self,
    ) -> Result<(Vec<DiscoveredResource>, Vec<DiscoveryFailure>)> {
        let all = self.server_groups_and_resources().await?;
        Ok((all.preferred_resources(), all.failures.clone()))
    }

    async fn discover(&self) -> Result<ServerResources> {
        let accept = if self.aggregated {
            AGGREGATED_ACCEPT
        } else {
            crate::request::JSON
        };
        let core = self.root("/api", accept).await?;
        let named = self.root("/apis", accept).await?;
        let mut result = ServerResources {
            mode: DiscoveryMode::Aggregated,
            aggregated_version: None,
            groups: Vec::new(),
            group_versions: Vec::new(),
            failures: Vec::new(),
        };
        let mut legacy_group_versions = Vec::new();
        for root in [core, named] {
            match root {
                Root::Aggregated(list, version) => {
                    result.aggregated_version = Some(version);
                    add_aggregated(&mut result, list);
                }
                Root::Legacy(groups) => {
                    result.mode = DiscoveryMode::Legacy;
                    for group in groups {
                        for version in &group.versions {
                            legacy_group_versions.push(GroupVersion::new(&group.name, version));
                        }
                        result.groups.push(group);
                    }
                }
            }
        }
        let fetched = futures::future::join_all(
            legacy_group_versions
                .iter()
                .map(|gv| self.legacy_resources(gv)),
        )
        .await;
        for (group_version, outcome) in legacy_group_versions.into_iter().zip(fetched) {
            match outcome {
                Ok(resources) => result.group_versions.push(GroupVersionResources {
                    group_version,
                    resources,
                }),
                Err(error) => result.failures.push(DiscoveryFailure {
                    group_version,
                    error: Arc::new(error),
                }),
            }
        }
        // Keep group/versions in group order and version preference order, whichever way
        // they arrived.
        let order = |gv: &GroupVersion| {
            result
                .groups
                .iter()
                .enumerate()
                .find_map(|(g, group)| {
                    (group.name == gv.group)
                        .then(|| (g, group.versions.iter().position(|v| *v == gv.version)))
                })
                .unwrap_or((usize::MAX, None))
        };
        let mut group_versions = std::mem::take(&mut result.group_versions);
        group_versions.sort_by_key(|gv| order(&gv.group_version));
        result.group_versions = group_versions;
        Ok(result)
    }

    async fn root(&self, path: &'static str, accept: &'static str) -> Result<Root> {
        let failed = |source: Error| Error::DiscoveryFailed {
            group_version: path.to_owned(),
            source: Box::new(source),
        };
        let (bytes, content_type) = match self.get(path, accept).await {
            // A server (or a proxy in front of it) that refuses the aggregated media types
            // is asked again for the legacy document.
            Err(error) if accept != crate::request::JSON && is_not_acceptable(&error) => {
                self.get(path, crate::request::JSON).await.map_err(failed)?
            }
            answer => answer.map_err(failed)?,
        };
        if content_type.contains("as=APIGroupDiscoveryList") {
            let version = aggregated_version(&content_type).ok_or_else(|| {
                failed(Error::InvalidRequest(format!(
                    "the server answered with an aggregated discovery version this client \
                     does not read ({content_type}); it reads {}",
                    AGGREGATED_VERSIONS.join(", ")
                )))
            })?;
            return Ok(Root::Aggregated(decode(&bytes).map_err(failed)?, version));
        }
        if path == "/api" {
            let versions: wire::ApiVersions = decode(&bytes).map_err(failed)?;
            return Ok(Root::Legacy(vec![DiscoveredGroup {
                name: String::new(),
                versions: versions.versions,
            }]));
        }
        let list: wire::ApiGroupList = decode(&bytes).map_err(failed)?;
        let groups = list
            .groups
            .into_iter()
            .map(|group| {
                let mut versions: Vec<String> =
                    group.versions.into_iter().map(|v| v.version).collect();
                if let Some(preferred) = group.preferred_version {
                    if let Some(at) = versions.iter().position(|v| *v == preferred.version) {
                        let version = versions.remove(at);
                        versions.insert(0, version);
                    }
                }
                DiscoveredGroup {
                    name: group.name,
                    versions,
                }
            })
            .collect();
        Ok(Root::Legacy(groups))
    }

    async fn legacy_resources(&self, gv: &GroupVersion) -> Result<Vec<DiscoveredResource>> {
        let (bytes, _) = self
            .get(&gv.path_prefix(), crate::request::JSON)
            .await
            .map_err(|source| Error::DiscoveryFailed {
                group_version: gv.to_string(),
                source: Box::new(source),
            })?;
        let list: wire::ApiResourceList = decode(&bytes)?;
        Ok(from_legacy(gv, list))
    }

    async fn get(&self, path: &str, accept: &str) -> Result<(Bytes, String)> {
        let request = http::Request::get(path)
            .header(ACCEPT, accept)
            .body(Bytes::new())
            .map_err(|error| Error::InvalidRequest(format!("discovery path {path:?}: {error}")))?;
        let response = self.client.send(request).await?;
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((response.into_body().bytes().await?, content_type))
    }
}

/// What `/api` or `/apis` answered.
enum Root {
    Aggregated(wire::ApiGroupDiscoveryList, &'static str),
    Legacy(Vec<DiscoveredGroup>),
}

/// True for a 406 Not Acceptable answer (a Status or a bare code).
fn is_not_acceptable(error: &Error) -> bool {
    match error {
        Error::Http { code, .. } => *code == 406,
        other => other.status().is_some_and(|status| status.code == 406),
    }
}

/// The `v=` of an `application/json;g=apidiscovery.k8s.io;v=...;as=APIGroupDiscoveryList`
/// content type, when it is one this client reads.
fn aggregated_version(content_type: &str) -> Option<&'static str> {
    let mut group = false;
    let mut version = None;
    for parameter in content_type.split(';').skip(1) {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match name.trim() {
            "g" => group = value == "apidiscovery.k8s.io",
            "v" => version = AGGREGATED_VERSIONS.iter().copied().find(|v| *v == value),
            _ => {}
        }
    }
    version.filter(|_| group)
}

fn add_aggregated(result: &mut ServerResources, list: wire::ApiGroupDiscoveryList) {
    for group in list.items {
        let name = group.metadata.name.unwrap_or_default();
        let mut versions = Vec::new();
        for version in group.versions {
            let group_version = GroupVersion::new(&name, &version.version);
            versions.push(version.version.clone());
            if version.freshness.as_deref() == Some("Stale") {
                result.failures.push(DiscoveryFailure {
                    error: Arc::new(Error::DiscoveryFailed {
                        group_version: group_version.to_string(),
                        source: Box::new(Error::InvalidRequest(
                            "the server reported this group/version as stale".into(),
                        )),
                    }),
                    group_version,
                });
                continue;
            }
            let resources = version
                .resources
                .into_iter()
                .map(|r| DiscoveredResource {
                    name: r.resource,
                    singular_name: r.singular_resource,
                    short_names: r.short_names,
                    group: name.clone(),
                    version: version.version.clone(),
                    kind: r.response_kind.map(|k| k.kind).unwrap_or_default(),
                    namespaced: r.scope == "Namespaced",
                    verbs: r.verbs,
                    categories: r.categories,
                    subresources: r.subresources.into_iter().map(|s| s.subresource).collect(),
                })
                .collect();
            result.group_versions.push(GroupVersionResources {
                group_version,
                resources,
            });
        }
        result.groups.push(DiscoveredGroup { name, versions });
    }
}

fn from_legacy(gv: &GroupVersion, list: wire::ApiResourceList) -> Vec<DiscoveredResource> {
    let mut resources: Vec<DiscoveredResource> = Vec::new();
    let mut subresources = Vec::new();
    for r in list.resources {
        if let Some((parent, sub)) = r.name.split_once('/') {
            subresources.push((parent.to_owned(), sub.to_owned()));
            continue;
        }
        resources.push(DiscoveredResource {
            name: r.name,
            singular_name: r.singular_name,
            short_names: r.short_names,
            group: r
                .group
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| gv.group.clone()),
            version: r
                .version
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| gv.version.clone()),
            kind: r.kind,
            namespaced: r.namespaced,
            verbs: r.verbs,
            categories: r.categories,
            subresources: Vec::new(),
        });
    }
    for (parent, sub) in subresources {
        if let Some(resource) = resources.iter_mut().find(|r| r.name == parent) {
            resource.subresources.push(sub);
        }
    }
    resources
}

#[cfg(test)]
mod tests;
