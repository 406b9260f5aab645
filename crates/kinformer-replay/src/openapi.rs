//! A minimal OpenAPI v3 index: per group-version documents whose PATCH operations declare the
//! `fieldValidation` query parameter, which is what kubectl checks before it trusts the server
//! to validate (`create -f`, `apply`) instead of downloading full schemas. `/openapi/v2` is 404.

use http::{Response, StatusCode};
use serde_json::{json, Map, Value};

use crate::response::{self, errors, Body};
use crate::router::Ctx;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: the index of group-version documents.
fn root(ctx: &Ctx) -> Response<Body> {
    let mut paths = Map::new();
    for (group, versions) in ctx.shared.store().registry.groups() {
        for version in versions {
            let path = gv_path(&group, &version);
            let hash = format!("{:016X}", fnv(path.as_bytes()));
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            );
        }
    }
    response::json(StatusCode::OK, &json!({"paths": paths}), ctx.pretty)
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn query_parameter(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

/// `/openapi/v3/{api/v1 | apis/group/version}`.
fn group_version(ctx: &Ctx, group: &str, version: &str) -> Response<Body> {
    let infos = ctx.shared.store().registry.in_group_version(group, version);
    if infos.is_empty() {
        return ctx.status(&errors::unknown_resource());
    }
    let mut paths = Map::new();
    for info in infos {
        let base = format!("/{}", gv_path(group, version));
        let collection = if info.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", info.plural)
        } else {
            format!("{base}/{}", info.plural)
        };
        let gvk = json!({"group": info.group, "version": info.version, "kind": info.kind});
        let operation = |action: &str| {
            json!({
                "operationId": format!("{action}{}", info.kind),
                "parameters": [query_parameter("dryRun"), query_parameter("fieldManager"), query_parameter("fieldValidation")],
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
            })
        };
        paths.insert(collection.clone(), json!({"post": operation("post")}));
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({"put": operation("put"), "patch": operation("patch")}),
        );
    }
    let doc = json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.36.0"},
        "paths": paths,
        "components": {"schemas": {}},
    });
    response::json(StatusCode::OK, &doc, ctx.pretty)
}

/// Answers `/openapi/...`.
pub(crate) fn serve(ctx: &Ctx, segments: &[&str]) -> Response<Body> {
    match segments {
        ["openapi", "v3"] => root(ctx),
        ["openapi", "v3", "api", version] => group_version(ctx, "", version),
        ["openapi", "v3", "apis", group, version] => group_version(ctx, group, version),
        _ => ctx.status(&errors::unknown_resource()),
    }
}
