//! Discovery for kubectl and client-go: `/version`, `/api`, `/apis`, the legacy group and
//! resource lists, and aggregated discovery (`apidiscovery.k8s.io` v2 and v2beta1).

use http::{Response, StatusCode};
use serde_json::{json, Value};

use crate::registry::ResourceInfo;
use crate::response::{self, errors, Body};
use crate::router::Ctx;

/// `/version`.
pub(crate) fn version(ctx: &Ctx) -> Response<Body> {
    let info = json!({
        "major": "1",
        "minor": "36",
        "gitVersion": "v1.36.0-kinformer",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-26T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    });
    response::json(StatusCode::OK, &info, ctx.pretty)
}

/// The aggregated discovery version the client asked for, if any.
fn aggregated_version(ctx: &Ctx) -> Option<&'static str> {
    for media in ctx.accept.split(',') {
        if !media.contains("as=APIGroupDiscoveryList") || !media.contains("g=apidiscovery.k8s.io") {
            continue;
        }
        if media.contains("v=v2beta1") {
            return Some("v2beta1");
        }
        if media.contains("v=v2") {
            return Some("v2");
        }
    }
    None
}

fn verbs(info: &ResourceInfo) -> Value {
    json!(info.verbs)
}

fn aggregated_resource(info: &ResourceInfo) -> Value {
    let kind = json!({"group": info.group, "version": info.version, "kind": info.kind});
    let mut resource = json!({
        "resource": info.plural,
        "responseKind": kind,
        "scope": if info.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": info.singular,
        "verbs": verbs(info),
    });
    if !info.short_names.is_empty() {
        resource["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        resource["categories"] = json!(info.categories);
    }
    if info.status_subresource {
        resource["subresources"] = json!([{"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}]);
    }
    resource
}

fn aggregated(ctx: &Ctx, version: &str, core: bool) -> Response<Body> {
    let store = ctx.shared.store();
    let mut items = Vec::new();
    for (group, versions) in store.registry.groups() {
        if group.is_empty() != core {
            continue;
        }
        let versions: Vec<Value> = versions
            .iter()
            .map(|v| {
                let resources: Vec<Value> = store
                    .registry
                    .in_group_version(&group, v)
                    .iter()
                    .map(|info| aggregated_resource(info))
                    .collect();
                json!({"version": v, "resources": resources, "freshness": "Current"})
            })
            .collect();
        let metadata = if group.is_empty() {
            json!({"creationTimestamp": null})
        } else {
            json!({"name": group, "creationTimestamp": null})
        };
        items.push(json!({"metadata": metadata, "versions": versions}));
    }
    drop(store);
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    });
    let content_type =
        format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
    let mut response = response::with_headers(
        StatusCode::OK,
        &content_type,
        response::full(response::encode(&body, ctx.pretty)),
    );
    response
        .headers_mut()
        .insert(http::header::VARY, http::HeaderValue::from_static("Accept"));
    response
}

/// `/api`.
pub(crate) fn api(ctx: &Ctx) -> Response<Body> {
    if let Some(version) = aggregated_version(ctx) {
        return aggregated(ctx, version, true);
    }
    let address = ctx
        .shared
        .address
        .lock()
        .map(|a| a.clone())
        .unwrap_or_default();
    let body = json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    });
    response::json(StatusCode::OK, &body, ctx.pretty)
}

fn group_object(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({"name": group, "versions": versions, "preferredVersion": versions.first().cloned().unwrap_or(json!({}))})
}

/// `/apis`.
pub(crate) fn apis(ctx: &Ctx) -> Response<Body> {
    if let Some(version) = aggregated_version(ctx) {
        return aggregated(ctx, version, false);
    }
    let groups: Vec<Value> = ctx
        .shared
        .store()
        .registry
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, versions)| group_object(g, versions))
        .collect();
    let body = json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups});
    response::json(StatusCode::OK, &body, ctx.pretty)
}

/// `/apis/{group}`.
pub(crate) fn group(ctx: &Ctx, group: &str) -> Response<Body> {
    let found = ctx
        .shared
        .store()
        .registry
        .groups()
        .into_iter()
        .find(|(g, _)| g == group && !g.is_empty());
    match found {
        Some((g, versions)) => {
            let mut body = group_object(&g, &versions);
            body["kind"] = json!("APIGroup");
            body["apiVersion"] = json!("v1");
            response::json(StatusCode::OK, &body, ctx.pretty)
        }
        None => ctx.status(&errors::unknown_resource()),
    }
}

/// `/api/v1` and `/apis/{group}/{version}`.
pub(crate) fn resource_list(ctx: &Ctx, group: &str, version: &str) -> Response<Body> {
    let infos = ctx.shared.store().registry.in_group_version(group, version);
    let mut resources = Vec::new();
    for info in &infos {
        let mut entry = json!({
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": verbs(info),
        });
        if !info.short_names.is_empty() {
            entry["shortNames"] = json!(info.short_names);
        }
        if !info.categories.is_empty() {
            entry["categories"] = json!(info.categories);
        }
        resources.push(entry);
        if info.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", info.plural),
                "singularName": "",
                "namespaced": info.namespaced,
                "kind": info.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let body = json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources});
    response::json(StatusCode::OK, &body, ctx.pretty)
}
