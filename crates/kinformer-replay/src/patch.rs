//! PATCH: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch with the
//! list merge keys of the built-in kinds, and server-side apply (create when absent, merge
//! and record the field manager otherwise).

use http::{Response, StatusCode};
use kinformer_meta::Status;
use serde_json::{Map, Value};

use crate::apply;
use crate::handlers::{self, decode_body};
use crate::registry::ResourceInfo;
use crate::response::{errors, Body};
use crate::router::Ctx;
use crate::store::object_key;
use crate::write::{self, Writer};

/// RFC 7386: maps merge recursively, `null` deletes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(target_map) = target.as_object_mut() {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn parent_and_key<'v>(root: &'v mut Value, path: &str) -> Result<(&'v mut Value, String), String> {
    if path.is_empty() {
        return Err("cannot operate on the whole document".into());
    }
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("invalid path {path:?}"))?;
    let parent_value = root
        .pointer_mut(parent)
        .ok_or_else(|| format!("doc is missing path: \"{parent}\""))?;
    Ok((parent_value, unescape(last)))
}

fn remove_at(root: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) = parent_and_key(root, path)?;
    match parent {
        Value::Object(map) => map
            .remove(&key)
            .ok_or_else(|| format!("doc is missing key: {path}")),
        Value::Array(items) => {
            let index: usize = key.parse().map_err(|_| format!("invalid index {key:?}"))?;
            if index < items.len() {
                Ok(items.remove(index))
            } else {
                Err(format!("index out of range: {path}"))
            }
        }
        _ => Err(format!("doc is missing path: {path}")),
    }
}

fn add_at(root: &mut Value, path: &str, value: Value, replace: bool) -> Result<(), String> {
    if path.is_empty() {
        *root = value;
        return Ok(());
    }
    let (parent, key) = parent_and_key(root, path)?;
    match parent {
        Value::Object(map) => {
            if replace && !map.contains_key(&key) {
                return Err(format!("doc is missing key: {path}"));
            }
            map.insert(key, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if key == "-" {
                items.len()
            } else {
                key.parse::<usize>()
                    .map_err(|_| format!("invalid index {key:?}"))?
            };
            if replace {
                let slot = items
                    .get_mut(index)
                    .ok_or_else(|| format!("index out of range: {path}"))?;
                *slot = value;
            } else if index <= items.len() {
                items.insert(index, value);
            } else {
                return Err(format!("index out of range: {path}"));
            }
            Ok(())
        }
        _ => Err(format!("doc is missing path: {path}")),
    }
}

/// RFC 6902 operations: add, remove, replace, move, copy, test.
pub(crate) fn json_patch(target: &Value, operations: &Value) -> Result<Value, String> {
    let ops = operations
        .as_array()
        .ok_or("a JSON patch must be an array of operations")?;
    let mut doc = target.clone();
    for op in ops {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("operation without \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("operation without \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{name} operation without \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{name} operation without \"from\""))
        };
        match name {
            "add" => add_at(&mut doc, path, value()?, false)?,
            "remove" => {
                remove_at(&mut doc, path)?;
            }
            "replace" => add_at(&mut doc, path, value()?, true)?,
            "move" => {
                let moved = remove_at(&mut doc, from()?)?;
                add_at(&mut doc, path, moved, false)?;
            }
            "copy" => {
                let copied = doc
                    .pointer(from()?)
                    .cloned()
                    .ok_or("copy from a missing path")?;
                add_at(&mut doc, path, copied, false)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("unexpected kind of operation: {other:?}")),
        }
    }
    Ok(doc)
}

/// The merge key of a list field, as the built-in types declare it.
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "hostAliases" => Some(if field == "hostAliases" { "ip" } else { "name" }),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "ports" => Some(if items.iter().any(|i| i.get("containerPort").is_some()) {
            "containerPort"
        } else {
            "port"
        }),
        _ => None,
    }
}

/// Lists of strings merged as sets.
fn is_merged_primitive_list(field: &str) -> bool {
    field == "finalizers"
}

/// Strategic merge patch: like a merge patch, but lists with a merge key merge item by item,
/// and `$patch` / `$deleteFromPrimitiveList` / `$setElementOrder` directives are honoured.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    match patch_map.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replacement = patch_map.clone();
            replacement.remove("$patch");
            *target = Value::Object(replacement);
            return;
        }
        Some("delete") => {
            *target = Value::Object(Map::new());
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(target_map) = target.as_object_mut() else {
        return;
    };
    for (key, value) in patch_map {
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Some(remove)) =
                (target_map.get_mut(field), value.as_array())
            {
                items.retain(|item| !remove.contains(item));
            }
            continue;
        }
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            target_map.remove(key);
            continue;
        }
        match (target_map.get_mut(key), value) {
            (Some(Value::Array(existing)), Value::Array(patch_items)) => {
                merge_list(key, existing, patch_items)
            }
            (Some(existing), Value::Object(_)) if existing.is_object() => {
                strategic_merge(existing, value)
            }
            _ => {
                target_map.insert(key.clone(), strip_directives(value));
            }
        }
    }
}

fn strip_directives(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|i| i.get("$patch").and_then(Value::as_str) != Some("delete"))
                .map(strip_directives)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_list(field: &str, existing: &mut Vec<Value>, patch_items: &[Value]) {
    if is_merged_primitive_list(field) {
        for item in patch_items {
            if !existing.contains(item) {
                existing.push(item.clone());
            }
        }
        return;
    }
    let Some(key) = merge_key(field, existing).or_else(|| merge_key(field, patch_items)) else {
        *existing = patch_items.iter().map(strip_directives).collect();
        return;
    };
    for item in patch_items {
        let id = item.get(key);
        let position = id.and_then(|id| existing.iter().position(|e| e.get(key) == Some(id)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(index), true) => {
                existing.remove(index);
            }
            (Some(index), false) => strategic_merge(&mut existing[index], item),
            (None, true) => {}
            (None, false) => existing.push(strip_directives(item)),
        }
    }
}

/// Answers a PATCH on an object or its status.
pub(crate) fn serve(
    ctx: &Ctx,
    info: &ResourceInfo,
    namespace: Option<&str>,
    name: &str,
    subresource: Option<&str>,
) -> Response<Body> {
    match patch(ctx, info, namespace, name, subresource) {
        Ok((code, object)) => handlers::object_response(ctx, info, code, &object),
        Err(status) => ctx.status(&status),
    }
}

fn patch(
    ctx: &Ctx,
    info: &ResourceInfo,
    namespace: Option<&str>,
    name: &str,
    subresource: Option<&str>,
) -> Result<(StatusCode, Value), Status> {
    let media = ctx
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let apply = media == "application/apply-patch+yaml";
    let body = if media == "application/json-patch+json" {
        serde_json::from_slice::<Value>(&ctx.body)
            .map_err(|e| errors::bad_request(format!("error decoding patch: {e}")))?
    } else if apply
        || media == "application/merge-patch+json"
        || media == "application/strategic-merge-patch+json"
    {
        decode_body(ctx, info)?
    } else {
        return Err(Status::failure(
            415,
            kinformer_meta::status::reason::UNSUPPORTED_MEDIA_TYPE,
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {media:?})"),
        ));
    };
    let manager = ctx.manager();
    if apply && ctx.query.get("fieldManager").is_none_or(|m| m.is_empty()) {
        return Err(errors::invalid(
            info,
            name,
            "fieldManager",
            "FieldValueRequired",
            "Required value: is required for apply patch",
        ));
    }
    let applied_fields = apply.then(|| write::fields_v1(&body, true, subresource));
    let writer = Writer {
        manager: &manager,
        operation: if apply { "Apply" } else { "Update" },
        subresource,
        dry_run: ctx.dry_run(),
        fields: applied_fields.as_ref(),
    };
    let existing = ctx
        .shared
        .store()
        .get_value(info, &object_key(namespace, name));
    let Some(existing) = existing else {
        if apply && subresource.is_none() {
            let mut object = body;
            if let Some(meta) = write::metadata_mut(&mut object) {
                meta.entry("name")
                    .or_insert_with(|| Value::String(name.to_string()));
            }
            let created = write::create(&ctx.shared, info, namespace, object, writer)?;
            return Ok((StatusCode::CREATED, created));
        }
        return Err(errors::not_found(info, name));
    };
    let mut patched = existing;
    if let Some(applied) = &applied_fields {
        let applier = (manager.as_str(), "Apply", subresource.unwrap_or(""));
        let found = apply::conflicts(applier, applied, &body, &patched);
        if !found.is_empty() {
            if ctx.query.get("force").is_none_or(|f| f != "true") {
                return Err(apply::conflict_status(&found));
            }
            apply::take_ownership(&mut patched, &found);
        }
    }
    match media.as_str() {
        "application/json-patch+json" => {
            patched = json_patch(&patched, &body).map_err(|e| {
                errors::invalid(
                    info,
                    name,
                    "patch",
                    "FieldValueInvalid",
                    &format!("Invalid value: {e}"),
                )
            })?;
        }
        "application/merge-patch+json" => merge_patch(&mut patched, &body),
        _ => strategic_merge(&mut patched, &body),
    }
    let updated = write::update(&ctx.shared, info, namespace, name, patched, writer)?;
    Ok((StatusCode::OK, updated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_deletes_nulls_and_merges_maps() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "d": [1, 2]});
        merge_patch(&mut doc, &json!({"a": {"b": null, "e": 3}, "d": [3]}));
        assert_eq!(doc, json!({"a": {"c": 2, "e": 3}, "d": [3]}));
    }

    #[test]
    fn json_patch_applies_every_operation_in_order() {
        let doc = json!({"metadata": {"labels": {"a": "1"}}, "list": [1, 2]});
        let ops = json!([
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "remove", "path": "/metadata/labels/a"},
            {"op": "replace", "path": "/list/0", "value": 9},
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "copy", "from": "/list/0", "path": "/copied"},
            {"op": "move", "from": "/copied", "path": "/moved"},
            {"op": "test", "path": "/moved", "value": 9}
        ]);
        assert_eq!(
            json_patch(&doc, &ops).unwrap(),
            json!({"metadata": {"labels": {"b": "2"}}, "list": [9, 2, 3], "moved": 9})
        );
    }

    #[test]
    fn failing_json_patch_test_is_an_error() {
        let err = json_patch(
            &json!({"a": 1}),
            &json!([{"op": "test", "path": "/a", "value": 2}]),
        )
        .unwrap_err();
        assert!(err.contains("testing value /a failed"));
        assert!(json_patch(&json!({}), &json!([{"op": "remove", "path": "/nope"}])).is_err());
        assert!(json_patch(&json!({}), &json!({"op": "add"})).is_err());
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let mut pod = json!({"spec": {"containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "sc:1"}]}});
        strategic_merge(
            &mut pod,
            &json!({"spec": {"containers": [
            {"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]},
            {"name": "sidecar", "$patch": "delete"},
            {"name": "new", "image": "n:1"}]}}),
        );
        assert_eq!(
            pod,
            json!({"spec": {"containers": [
            {"name": "app", "image": "app:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "new", "image": "n:1"}]}})
        );
    }

    #[test]
    fn strategic_merge_keys_conditions_by_type_and_unions_finalizers() {
        let mut object = json!({"metadata": {"finalizers": ["a"]},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        strategic_merge(
            &mut object,
            &json!({"metadata": {"finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Scheduled", "status": "True"}]}}),
        );
        assert_eq!(object["metadata"]["finalizers"], json!(["b"]));
        assert_eq!(object["status"]["conditions"][0]["status"], "True");
        assert_eq!(object["status"]["conditions"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn strategic_merge_replaces_lists_without_a_merge_key() {
        let mut object = json!({"spec": {"args": ["a", "b"]}});
        strategic_merge(&mut object, &json!({"spec": {"args": ["c"]}}));
        assert_eq!(object["spec"]["args"], json!(["c"]));
    }
}
