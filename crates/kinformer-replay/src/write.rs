//! Write semantics shared by the HTTP verbs and the test handle: create (generateName, uid,
//! timestamps, managedFields), update (optimistic concurrency, status subresource), delete
//! (preconditions, finalizers and deletionTimestamp).

use kinformer_meta::{Status, Time};
use serde_json::{json, Map, Value};

use crate::registry::ResourceInfo;
use crate::response::{errors, uuid};
use crate::server::Shared;
use crate::store::{object_key, EventType};

/// Who writes and how, for managedFields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Writer<'a> {
    /// The field manager.
    pub manager: &'a str,
    /// `Update` or `Apply`.
    pub operation: &'a str,
    /// `status` when writing the status subresource.
    pub subresource: Option<&'a str>,
    /// `dryRun=All`: validate and answer, but store nothing.
    pub dry_run: bool,
    /// The field set an apply claims (its body's fields); `None` records every field of the
    /// written object, as an update owns what it wrote.
    pub fields: Option<&'a Value>,
}

impl Writer<'static> {
    /// The handle's writer.
    pub const HANDLE: Writer<'static> = Writer {
        manager: "kinformer-replay",
        operation: "Update",
        subresource: None,
        dry_run: false,
        fields: None,
    };
}

/// What a delete did.
#[derive(Debug)]
pub(crate) enum Deleted {
    /// The object is gone; this was its last state.
    Gone(Value),
    /// Finalizers remain: the object now carries a deletionTimestamp.
    Pending(Value),
}

/// Preconditions of a delete.
#[derive(Debug, Default)]
pub(crate) struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    /// `dryRun=All`: check, but delete nothing.
    pub dry_run: bool,
}

fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get("metadata")?.get(field)?.as_str()
}

/// `metadata` as a mutable map, creating it when absent.
pub(crate) fn metadata_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = object.as_object_mut()?;
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut()
}

const NAME_SUFFIX_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generated_suffix() -> String {
    (0..5)
        .map(|_| NAME_SUFFIX_CHARS[rand::random::<usize>() % NAME_SUFFIX_CHARS.len()] as char)
        .collect()
}

/// The managedFields `fieldsV1` set of an object's fields (lists are owned as a whole).
pub(crate) fn fields_v1(value: &Value, top: bool, subresource: Option<&str>) -> Value {
    let Some(map) = value.as_object() else {
        return json!({});
    };
    let mut out = Map::new();
    if !top {
        out.insert(".".into(), json!({}));
    }
    for (key, child) in map {
        if top {
            let keep = match (key.as_str(), subresource) {
                ("apiVersion" | "kind", _) => false,
                ("status", Some("status")) => true,
                (_, Some("status")) => false,
                ("status", None) => false,
                _ => true,
            };
            if !keep {
                continue;
            }
        }
        let child_set = if top && key == "metadata" {
            let mut meta = Map::new();
            for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
                if let Some(v) = child.get(field) {
                    meta.insert(format!("f:{field}"), fields_v1(v, false, None));
                }
            }
            if meta.is_empty() {
                continue;
            }
            Value::Object(meta)
        } else if child.is_object() {
            fields_v1(child, false, None)
        } else {
            json!({})
        };
        out.insert(format!("f:{key}"), child_set);
    }
    Value::Object(out)
}

/// Records `writer` in the object's managedFields, replacing its previous entry.
pub(crate) fn record_manager(object: &mut Value, info: &ResourceInfo, writer: Writer<'_>) {
    let fields = match writer.fields {
        Some(fields) => fields.clone(),
        None => fields_v1(object, true, writer.subresource),
    };
    let mut entry = json!({
        "manager": writer.manager,
        "operation": writer.operation,
        "apiVersion": info.api_version(),
        "time": Time::now().to_string(),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    });
    if let Some(sub) = writer.subresource {
        entry["subresource"] = json!(sub);
    }
    let Some(meta) = metadata_mut(object) else {
        return;
    };
    let entries = meta.entry("managedFields").or_insert_with(|| json!([]));
    if !entries.is_array() {
        *entries = json!([]);
    }
    if let Some(list) = entries.as_array_mut() {
        list.retain(|e| {
            !(e.get("manager").and_then(Value::as_str) == Some(writer.manager)
                && e.get("operation").and_then(Value::as_str) == Some(writer.operation)
                && e.get("subresource").and_then(Value::as_str) == writer.subresource)
        });
        list.push(entry);
    }
}

/// The namespace an object goes to: the path's, checked against the body's.
fn resolve_namespace(
    info: &ResourceInfo,
    path_ns: Option<&str>,
    object: &mut Value,
) -> Result<Option<String>, Status> {
    let body_ns = meta_str(object, "namespace")
        .filter(|ns| !ns.is_empty())
        .map(String::from);
    if !info.namespaced {
        if let Some(meta) = metadata_mut(object) {
            meta.remove("namespace");
        }
        return Ok(None);
    }
    let namespace = match (path_ns, body_ns) {
        (Some(path), Some(body)) if path != body => return Err(errors::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        (Some(path), _) => path.to_string(),
        (None, Some(body)) => body,
        (None, None) => "default".to_string(),
    };
    if let Some(meta) = metadata_mut(object) {
        meta.insert("namespace".into(), json!(namespace));
    }
    Ok(Some(namespace))
}

fn stamp_type(object: &mut Value, info: &ResourceInfo) {
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), json!(info.api_version()));
        map.insert("kind".into(), json!(info.kind));
    }
}

/// Creates an object (201 semantics).
pub(crate) fn create(
    shared: &Shared,
    info: &ResourceInfo,
    path_ns: Option<&str>,
    mut object: Value,
    writer: Writer<'_>,
) -> Result<Value, Status> {
    if !object.is_object() {
        return Err(errors::bad_request(format!(
            "the object provided is unrecognized (must be of type {})",
            info.kind
        )));
    }
    let namespace = resolve_namespace(info, path_ns, &mut object)?;
    let mut name = meta_str(&object, "name").unwrap_or("").to_string();
    if name.is_empty() {
        match meta_str(&object, "generateName").filter(|g| !g.is_empty()) {
            Some(prefix) => name = format!("{prefix}{}", generated_suffix()),
            None => {
                return Err(errors::invalid(
                    info,
                    "",
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required",
                ))
            }
        }
    }
    if name.contains('/') || name.contains('%') || name == "." || name == ".." {
        return Err(errors::invalid(
            info,
            &name,
            "metadata.name",
            "FieldValueInvalid",
            &format!("Invalid value: \"{name}\": may not contain '/' or '%'"),
        ));
    }
    stamp_type(&mut object, info);
    if let Some(meta) = metadata_mut(&mut object) {
        meta.insert("name".into(), json!(name));
        meta.insert("uid".into(), json!(uuid()));
        meta.insert("creationTimestamp".into(), json!(Time::now().to_string()));
        meta.remove("resourceVersion");
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        if object_has_spec(info) {
            meta.insert("generation".into(), json!(1));
        }
    }
    if info.group == "apiextensions.k8s.io" && info.kind == "CustomResourceDefinition" {
        object["status"] = json!({"conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}],
            "acceptedNames": object.pointer("/spec/names").cloned().unwrap_or(json!({}))});
    }
    record_manager(&mut object, info, writer);
    let key = object_key(namespace.as_deref(), &name);
    let mut store = shared.store();
    if store.get(info, &key).is_some() {
        return Err(errors::already_exists(info, &name));
    }
    if writer.dry_run {
        return Ok(object);
    }
    let stored = store.commit(info, &key, EventType::Added, object);
    let rv = store.resource_version();
    drop(store);
    shared.notify(rv);
    Ok(stored)
}

fn object_has_spec(info: &ResourceInfo) -> bool {
    info.status_subresource || !info.group.is_empty()
}

/// Fields a client may not change through an update.
const SERVER_OWNED: &[&str] = &[
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
];

/// Replaces an object (PUT semantics), or its status when `writer.subresource` is `status`.
pub(crate) fn update(
    shared: &Shared,
    info: &ResourceInfo,
    path_ns: Option<&str>,
    name: &str,
    mut object: Value,
    writer: Writer<'_>,
) -> Result<Value, Status> {
    if !object.is_object() {
        return Err(errors::bad_request(format!(
            "the object provided is unrecognized (must be of type {})",
            info.kind
        )));
    }
    let namespace = resolve_namespace(info, path_ns, &mut object)?;
    match meta_str(&object, "name") {
        Some(body) if !body.is_empty() && body != name => {
            return Err(errors::bad_request(format!(
                "the name of the object ({body}) does not match the name on the URL ({name})"
            )))
        }
        _ => {}
    }
    let key = object_key(namespace.as_deref(), name);
    let mut store = shared.store();
    let Some(existing) = store.get_value(info, &key) else {
        return Err(errors::not_found(info, name));
    };
    if let Some(rv) = meta_str(&object, "resourceVersion").filter(|rv| !rv.is_empty()) {
        if Some(rv) != meta_str(&existing, "resourceVersion") {
            return Err(errors::conflict(info, name));
        }
    }
    let mut next = if writer.subresource == Some("status") {
        let mut next = existing.clone();
        next["status"] = object.get("status").cloned().unwrap_or(json!({}));
        next
    } else {
        if info.status_subresource {
            match existing.get("status") {
                Some(status) => object["status"] = status.clone(),
                None => {
                    if let Some(map) = object.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
        }
        object
    };
    stamp_type(&mut next, info);
    if let (Some(meta), Some(old_meta)) = (metadata_mut(&mut next), existing.get("metadata")) {
        meta.insert("name".into(), json!(name));
        for field in SERVER_OWNED {
            match old_meta.get(*field) {
                Some(v) => meta.insert((*field).into(), v.clone()),
                None => meta.remove(*field),
            };
        }
        if !meta.contains_key("managedFields") {
            if let Some(v) = old_meta.get("managedFields") {
                meta.insert("managedFields".into(), v.clone());
            }
        }
        meta.insert(
            "resourceVersion".into(),
            old_meta
                .get("resourceVersion")
                .cloned()
                .unwrap_or(json!("")),
        );
    }
    if same_but_volatile(&next, &existing) {
        return Ok(existing);
    }
    if writer.subresource.is_none() && next.get("spec") != existing.get("spec") {
        let generation = existing
            .pointer("/metadata/generation")
            .and_then(Value::as_i64);
        if let (Some(g), Some(meta)) = (generation, metadata_mut(&mut next)) {
            meta.insert("generation".into(), json!(g + 1));
        }
    }
    record_manager(&mut next, info, writer);
    let finalizers_left = next
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    let deleting = next.pointer("/metadata/deletionTimestamp").is_some();
    let event = if deleting && !finalizers_left {
        EventType::Deleted
    } else {
        EventType::Modified
    };
    if writer.dry_run {
        return Ok(next);
    }
    let stored = store.commit(info, &key, event, next);
    let rv = store.resource_version();
    drop(store);
    shared.notify(rv);
    Ok(stored)
}

/// Whether two objects are equal apart from `metadata.managedFields` and
/// `metadata.resourceVersion` (an update that changes nothing else is no change), compared
/// in place rather than on stripped copies.
fn same_but_volatile(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let volatile = |key: &str| key == "managedFields" || key == "resourceVersion";
    let same_metadata = |x: Option<&Value>, y: Option<&Value>| match (
        x.and_then(Value::as_object),
        y.and_then(Value::as_object),
    ) {
        (Some(x), Some(y)) => {
            let kept =
                |m: &serde_json::Map<String, Value>| m.keys().filter(|k| !volatile(k)).count();
            kept(x) == kept(y)
                && x.iter()
                    .filter(|(k, _)| !volatile(k))
                    .all(|(k, v)| y.get(k) == Some(v))
        }
        _ => x == y,
    };
    a.len() == b.len()
        && a.iter().all(|(key, value)| {
            if key == "metadata" {
                same_metadata(Some(value), b.get(key))
            } else {
                b.get(key) == Some(value)
            }
        })
}

/// Deletes an object, honouring preconditions and finalizers.
pub(crate) fn delete(
    shared: &Shared,
    info: &ResourceInfo,
    namespace: Option<&str>,
    name: &str,
    preconditions: &Preconditions,
) -> Result<Deleted, Status> {
    let key = object_key(namespace.filter(|_| info.namespaced), name);
    let mut store = shared.store();
    let Some(existing) = store.get_value(info, &key) else {
        return Err(errors::not_found(info, name));
    };
    if let Some(uid) = &preconditions.uid {
        let actual = meta_str(&existing, "uid").unwrap_or("");
        if uid != actual {
            return Err(errors::precondition_failed(
                info,
                name,
                &format!("the UID in the precondition ({uid}) does not match the UID in record ({actual}). The object might have been deleted and then recreated"),
            ));
        }
    }
    if let Some(rv) = &preconditions.resource_version {
        let actual = meta_str(&existing, "resourceVersion").unwrap_or("");
        if rv != actual {
            return Err(errors::precondition_failed(
                info,
                name,
                &format!("the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({actual}). The object might have been modified"),
            ));
        }
    }
    let has_finalizers = existing
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if preconditions.dry_run {
        return Ok(if has_finalizers {
            Deleted::Pending(existing)
        } else {
            Deleted::Gone(existing)
        });
    }
    let outcome = if has_finalizers {
        if existing.pointer("/metadata/deletionTimestamp").is_some() {
            return Ok(Deleted::Pending(existing));
        }
        let mut next = existing.clone();
        if let Some(meta) = metadata_mut(&mut next) {
            meta.insert("deletionTimestamp".into(), json!(Time::now().to_string()));
            meta.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
        Deleted::Pending(store.commit(info, &key, EventType::Modified, next))
    } else {
        Deleted::Gone(store.commit(info, &key, EventType::Deleted, existing))
    };
    let rv = store.resource_version();
    drop(store);
    shared.notify(rv);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_managed_fields_and_resource_version_are_volatile() {
        let a = json!({"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "1",
            "managedFields": [{"manager": "x"}]}, "spec": {"n": 1}});
        let b = json!({"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "7"},
            "spec": {"n": 1}});
        assert!(same_but_volatile(&a, &b));
        let relabelled = json!({"kind": "Pod", "metadata": {"name": "a", "labels": {"x": "y"}},
            "spec": {"n": 1}});
        assert!(!same_but_volatile(&a, &relabelled));
        let respec = json!({"kind": "Pod", "metadata": {"name": "a"}, "spec": {"n": 2}});
        assert!(!same_but_volatile(&a, &respec));
        let extra =
            json!({"kind": "Pod", "metadata": {"name": "a"}, "spec": {"n": 1}, "status": {}});
        assert!(!same_but_volatile(&b, &extra));
    }

    #[test]
    fn fields_v1_lists_labels_and_spec_but_not_status() {
        let object = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "a", "labels": {"app": "x"}},
            "spec": {"nodeName": "n", "containers": [{"name": "c"}]}, "status": {"phase": "Running"}});
        let fields = fields_v1(&object, true, None);
        assert_eq!(
            fields["f:metadata"]["f:labels"],
            json!({".": {}, "f:app": {}})
        );
        assert_eq!(fields["f:spec"]["f:nodeName"], json!({}));
        assert!(fields.get("f:status").is_none());
        let status_fields = fields_v1(&object, true, Some("status"));
        assert!(status_fields.get("f:spec").is_none());
        assert_eq!(status_fields["f:status"]["f:phase"], json!({}));
    }

    #[test]
    fn generated_names_use_five_consonant_or_digit_characters() {
        let suffix = generated_suffix();
        assert_eq!(suffix.len(), 5);
        assert!(suffix.bytes().all(|b| NAME_SUFFIX_CHARS.contains(&b)));
    }
}
