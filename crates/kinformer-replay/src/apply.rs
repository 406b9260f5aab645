//! Server-side apply ownership: which fields an apply sets that another field manager owns
//! with a different value (a 409 Conflict naming the manager and the field, as the apiserver
//! answers, unless `force=true`), and, when forced, moving those fields to the applier.
//!
//! Field sets are the `fieldsV1` maps of `metadata.managedFields` (`{"f:spec":{"f:replicas":{}}}`,
//! lists owned as a whole, as this server records them). A manager is identified by name,
//! operation and subresource, so an applier conflicts even with its own `Update` entry.

use kinformer_meta::status::reason;
use kinformer_meta::{Status, StatusCause, StatusDetails};
use serde_json::{Map, Value};

/// One field another manager owns with a value the apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// The index of the owning entry in `metadata.managedFields`.
    pub entry: usize,
    /// How the apiserver prints the manager (`"kubectl-create" using v1`).
    pub manager: String,
    /// The field path, as `.spec.replicas`.
    pub path: String,
    /// The `fieldsV1` keys leading to the field (`["f:spec", "f:replicas"]`).
    keys: Vec<String>,
}

/// How the apiserver names a manager in a conflict: quoted, with its subresource, and for an
/// `Update` the apiVersion (and time) it wrote with.
fn print_manager(entry: &Value) -> String {
    let text = |field: &str| entry.get(field).and_then(Value::as_str).unwrap_or("");
    let mut printed = format!("{:?}", text("manager"));
    if !text("subresource").is_empty() {
        printed = format!("{printed} with subresource {:?}", text("subresource"));
    }
    if text("operation") == "Update" {
        printed = format!("{printed} using {}", text("apiVersion"));
        if !text("time").is_empty() {
            printed = format!("{printed} at {}", text("time"));
        }
    }
    printed
}

fn identity(entry: &Value) -> (&str, &str, &str) {
    let text = |field: &str| entry.get(field).and_then(Value::as_str).unwrap_or("");
    (text("manager"), text("operation"), text("subresource"))
}

/// Whether a fieldsV1 node owns nothing below itself (a leaf, or a list owned whole).
fn is_leaf(node: &Value) -> bool {
    node.as_object()
        .is_none_or(|map| map.keys().all(|key| key == "."))
}

/// The value at a fieldsV1 path (`f:` keys) in an object.
fn value_at<'a>(object: &'a Value, keys: &[String]) -> Option<&'a Value> {
    keys.iter().try_fold(object, |current, key| {
        current.get(key.strip_prefix("f:").unwrap_or(key))
    })
}

fn print_path(keys: &[String]) -> String {
    keys.iter()
        .map(|key| format!(".{}", key.strip_prefix("f:").unwrap_or(key)))
        .collect()
}

/// Walks the applied set against an owner's set, collecting fields both own whose applied
/// value differs from the current one.
fn walk(
    applied: &Map<String, Value>,
    owned: &Map<String, Value>,
    body: &Value,
    current: &Value,
    keys: &mut Vec<String>,
    found: &mut Vec<Vec<String>>,
) {
    for (key, applied_node) in applied {
        if key == "." {
            continue;
        }
        let Some(owned_node) = owned.get(key) else {
            continue;
        };
        keys.push(key.clone());
        if is_leaf(applied_node) || is_leaf(owned_node) {
            if value_at(body, keys) != value_at(current, keys) {
                found.push(keys.clone());
            }
        } else if let (Some(a), Some(o)) = (applied_node.as_object(), owned_node.as_object()) {
            walk(a, o, body, current, keys, found);
        }
        keys.pop();
    }
}

/// The conflicts of applying `body` (whose field set is `applied`) as `applier` to `current`.
pub(crate) fn conflicts(
    applier: (&str, &str, &str),
    applied: &Value,
    body: &Value,
    current: &Value,
) -> Vec<Conflict> {
    let Some(applied) = applied.as_object() else {
        return Vec::new();
    };
    let entries = current
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array);
    let mut out = Vec::new();
    for (index, entry) in entries.into_iter().flatten().enumerate() {
        if identity(entry) == applier {
            continue;
        }
        let Some(owned) = entry.get("fieldsV1").and_then(Value::as_object) else {
            continue;
        };
        let mut found = Vec::new();
        walk(applied, owned, body, current, &mut Vec::new(), &mut found);
        let manager = print_manager(entry);
        out.extend(found.into_iter().map(|keys| Conflict {
            entry: index,
            manager: manager.clone(),
            path: print_path(&keys),
            keys,
        }));
    }
    out
}

/// The 409 the apiserver answers for conflicts: one cause per field, the message grouping
/// fields by manager.
pub(crate) fn conflict_status(conflicts: &[Conflict]) -> Status {
    let message = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager, one.path
        ),
        _ => {
            let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
            managers.sort_unstable();
            managers.dedup();
            let mut lines = Vec::new();
            for manager in managers {
                lines.push(format!("conflicts with {manager}:"));
                for conflict in conflicts.iter().filter(|c| c.manager == manager) {
                    lines.push(format!("- {}", conflict.path));
                }
            }
            format!(
                "Apply failed with {} conflicts: {}",
                conflicts.len(),
                lines.join("\n")
            )
        }
    };
    Status::failure(409, reason::CONFLICT, message).with_details(StatusDetails {
        causes: conflicts
            .iter()
            .map(|c| StatusCause {
                reason: Some("FieldManagerConflict".into()),
                message: Some(format!("conflict with {}", c.manager)),
                field: Some(c.path.clone()),
            })
            .collect(),
        ..StatusDetails::default()
    })
}

/// Takes the conflicting fields away from their owners (a forced apply); an owner left with
/// no fields loses its entry.
pub(crate) fn take_ownership(object: &mut Value, conflicts: &[Conflict]) {
    let Some(entries) = object
        .pointer_mut("/metadata/managedFields")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for conflict in conflicts {
        let Some(fields) = entries
            .get_mut(conflict.entry)
            .and_then(|e| e.get_mut("fieldsV1"))
        else {
            continue;
        };
        remove_path(fields, &conflict.keys);
    }
    entries.retain(|entry| {
        entry
            .get("fieldsV1")
            .and_then(Value::as_object)
            .is_none_or(|fields| !fields.is_empty())
    });
}

/// Removes a path from a field set, and the parents it leaves owning nothing.
fn remove_path(fields: &mut Value, keys: &[String]) {
    let Some((first, rest)) = keys.split_first() else {
        return;
    };
    let Some(map) = fields.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        map.remove(first);
        return;
    }
    if let Some(child) = map.get_mut(first) {
        remove_path(child, rest);
        if is_leaf(child) {
            map.remove(first);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: i64, managers: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}, "managedFields": managers},
            "spec": {"replicas": replicas, "paused": false}})
    }

    fn entry(manager: &str, operation: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": operation, "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    fn spec_owner() -> Value {
        entry(
            "kubectl-create",
            "Update",
            json!({"f:spec": {".": {}, "f:replicas": {}, "f:paused": {}}}),
        )
    }

    #[test]
    fn a_changed_field_owned_by_another_manager_conflicts() {
        let current = deployment(2, json!([spec_owner()]));
        let body = json!({"spec": {"replicas": 5, "paused": false}});
        let applied = json!({"f:spec": {".": {}, "f:replicas": {}, "f:paused": {}}});
        let found = conflicts(("kubectl", "Apply", ""), &applied, &body, &current);
        assert_eq!(
            found.len(),
            1,
            "paused keeps its value, so only replicas conflicts"
        );
        assert_eq!(found[0].path, ".spec.replicas");
        assert_eq!(found[0].manager, "\"kubectl-create\" using apps/v1");
        let status = conflict_status(&found);
        assert_eq!(status.code, 409);
        assert_eq!(
            status.message.as_deref(),
            Some("Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas")
        );
        let cause = &status.details.unwrap().causes[0];
        assert_eq!(cause.reason.as_deref(), Some("FieldManagerConflict"));
        assert_eq!(cause.field.as_deref(), Some(".spec.replicas"));
    }

    #[test]
    fn the_appliers_own_fields_and_equal_values_never_conflict() {
        let mine = entry("kubectl", "Apply", json!({"f:spec": {"f:replicas": {}}}));
        let current = deployment(2, json!([mine]));
        let body = json!({"spec": {"replicas": 5}});
        let applied = json!({"f:spec": {"f:replicas": {}}});
        assert!(conflicts(("kubectl", "Apply", ""), &applied, &body, &current).is_empty());
        let current = deployment(5, json!([spec_owner()]));
        assert!(conflicts(("kubectl", "Apply", ""), &applied, &body, &current).is_empty());
    }

    #[test]
    fn several_conflicts_are_grouped_by_manager() {
        let labels = entry(
            "labeller",
            "Apply",
            json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}),
        );
        let current = deployment(2, json!([spec_owner(), labels]));
        let body = json!({"metadata": {"labels": {"app": "api"}}, "spec": {"replicas": 3, "paused": true}});
        let applied = json!({"f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:replicas": {}, "f:paused": {}}});
        let found = conflicts(("kubectl", "Apply", ""), &applied, &body, &current);
        assert_eq!(found.len(), 3);
        let message = conflict_status(&found).message.unwrap();
        assert_eq!(
            message,
            "Apply failed with 3 conflicts: conflicts with \"kubectl-create\" using apps/v1:\n- .spec.paused\n- .spec.replicas\nconflicts with \"labeller\":\n- .metadata.labels.app"
        );
    }

    #[test]
    fn forcing_moves_the_fields_and_drops_emptied_owners() {
        let labels = entry(
            "labeller",
            "Apply",
            json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}),
        );
        let mut current = deployment(2, json!([spec_owner(), labels]));
        let body = json!({"metadata": {"labels": {"app": "api"}}, "spec": {"replicas": 3}});
        let applied =
            json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}}});
        let found = conflicts(("kubectl", "Apply", ""), &applied, &body, &current);
        take_ownership(&mut current, &found);
        let entries = current["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(
            entries.len(),
            1,
            "the labeller owned only app: its entry goes"
        );
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:spec": {".": {}, "f:paused": {}}})
        );
    }
}
