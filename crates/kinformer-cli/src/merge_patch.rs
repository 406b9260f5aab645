//! Client-side apply's patch, as kubectl computes it for resources without a strategic merge
//! schema: a three-way JSON merge patch (RFC 7386) from the last-applied configuration
//! (`original`), the manifest being applied (`modified`) and the live object (`current`).
//!
//! Fields the manifest sets that differ from the live object are set; fields the last apply
//! set that the manifest no longer has are deleted (`null`); fields set by anyone else (the
//! server, a controller, `kubectl edit`) are left alone. Lists are replaced whole, and only
//! when the manifest changed them since the last apply or the live list no longer holds what
//! the manifest says (a live list with server defaults added, such as a container's
//! `imagePullPolicy`, is not a change), so re-applying an unchanged manifest sends nothing.

use serde_json::{Map, Value};

/// The annotation holding the configuration of the last client-side apply.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The three-way merge patch turning `current` into `modified` while deleting what
/// `original` (the last applied configuration, when known) set and `modified` dropped.
/// An empty object means nothing to change.
pub fn three_way(original: Option<&Value>, modified: &Value, current: &Value) -> Value {
    let changes = changes(current, modified, original);
    let deletions = match original {
        Some(original) => deletions(original, modified),
        None => Map::new(),
    };
    Value::Object(merge(deletions, changes))
}

/// The manifest to send and record: `manifest` with the last-applied annotation set to
/// `manifest` itself (without that annotation), as `kubectl apply` stores it: compact JSON
/// with sorted keys, an `annotations` map even when empty, and a final newline, so kubectl
/// and kinformer recognise each other's last apply.
pub fn with_last_applied(manifest: &Value) -> Value {
    let mut out = manifest.clone();
    let Some(metadata) = out.get_mut("metadata").and_then(Value::as_object_mut) else {
        return out;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.remove(LAST_APPLIED);
    }
    let text = format!("{out}\n");
    if let Some(annotations) = out
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.insert(LAST_APPLIED.to_owned(), Value::String(text));
    }
    out
}

/// The last-applied configuration stored on a live object; `None` when absent or not JSON
/// (kubectl then applies as if nothing had been applied before).
pub fn last_applied(live: &Value) -> Option<Value> {
    let text = live
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()?;
    serde_json::from_str(text).ok().filter(Value::is_object)
}

/// What `modified` sets differently from `current`; never a deletion of a field `modified`
/// does not mention. `original` (the same place in the last applied configuration) tells
/// whether the manifest changed a list.
fn changes(current: &Value, modified: &Value, original: Option<&Value>) -> Map<String, Value> {
    let mut patch = Map::new();
    let (Some(current), Some(modified)) = (current.as_object(), modified.as_object()) else {
        return patch;
    };
    for (key, wanted) in modified {
        let before = original.and_then(|o| o.get(key));
        match current.get(key) {
            Some(live) if live == wanted => {}
            Some(live) if live.is_object() && wanted.is_object() => {
                let nested = changes(live, wanted, before);
                if !nested.is_empty() {
                    patch.insert(key.clone(), Value::Object(nested));
                }
            }
            // A list the manifest did not change, which the live list still holds (perhaps
            // with defaults added), needs nothing.
            Some(live) if wanted.is_array() && before == Some(wanted) && holds(live, wanted) => {}
            // Setting null to delete a field that is not there changes nothing.
            None if wanted.is_null() => {}
            _ => {
                patch.insert(key.clone(), wanted.clone());
            }
        }
    }
    patch
}

/// True when `live` says everything `wanted` says: equal scalars, objects with every wanted
/// field held, lists of the same length holding each wanted element in order.
fn holds(live: &Value, wanted: &Value) -> bool {
    match (live, wanted) {
        (Value::Object(live), Value::Object(wanted)) => wanted
            .iter()
            .all(|(key, value)| live.get(key).is_some_and(|l| holds(l, value))),
        (Value::Array(live), Value::Array(wanted)) => {
            live.len() == wanted.len() && live.iter().zip(wanted).all(|(l, w)| holds(l, w))
        }
        (live, wanted) => live == wanted,
    }
}

/// `null` for every field `original` had and `modified` dropped, at any depth of objects.
fn deletions(original: &Value, modified: &Value) -> Map<String, Value> {
    let mut patch = Map::new();
    let (Some(original), Some(modified)) = (original.as_object(), modified.as_object()) else {
        return patch;
    };
    for (key, before) in original {
        match modified.get(key) {
            None => {
                patch.insert(key.clone(), Value::Null);
            }
            Some(now) if before.is_object() && now.is_object() => {
                let nested = deletions(before, now);
                if !nested.is_empty() {
                    patch.insert(key.clone(), Value::Object(nested));
                }
            }
            Some(_) => {}
        }
    }
    patch
}

/// Both patches in one; `later` wins where both set a field, nested objects merge.
fn merge(mut earlier: Map<String, Value>, later: Map<String, Value>) -> Map<String, Value> {
    for (key, value) in later {
        match (earlier.remove(&key), value) {
            (Some(Value::Object(a)), Value::Object(b)) => {
                earlier.insert(key, Value::Object(merge(a, b)));
            }
            (_, value) => {
                earlier.insert(key, value);
            }
        }
    }
    earlier
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_dropped_from_the_manifest_is_deleted_but_fields_set_by_others_stay() {
        let original = json!({"data": {"a": "1", "b": "2"}});
        let modified = json!({"data": {"a": "1"}});
        let current = json!({"data": {"a": "1", "b": "2", "c": "from-edit"},
                             "metadata": {"uid": "u", "resourceVersion": "7"}});
        assert_eq!(
            three_way(Some(&original), &modified, &current),
            json!({"data": {"b": null}})
        );
    }

    #[test]
    fn changed_and_added_fields_are_set_and_lists_replaced_whole() {
        let original = json!({"spec": {"replicas": 1, "ports": [80]}});
        let modified = json!({"spec": {"replicas": 3, "ports": [80, 443], "paused": false}});
        let current = json!({"spec": {"replicas": 1, "ports": [80], "strategy": "Rolling"}});
        assert_eq!(
            three_way(Some(&original), &modified, &current),
            json!({"spec": {"replicas": 3, "ports": [80, 443], "paused": false}})
        );
    }

    #[test]
    fn a_live_change_to_a_field_the_manifest_sets_is_reverted() {
        let original = json!({"spec": {"replicas": 2}});
        let modified = json!({"spec": {"replicas": 2}});
        let current = json!({"spec": {"replicas": 5}});
        assert_eq!(
            three_way(Some(&original), &modified, &current),
            json!({"spec": {"replicas": 2}})
        );
    }

    fn containers(image: &str, extra: Value) -> Value {
        let mut container = json!({"name": "app", "image": image});
        if let (Some(c), Some(e)) = (container.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        json!({"spec": {"containers": [container]}})
    }

    #[test]
    fn server_defaults_inside_an_unchanged_list_are_not_a_change() {
        let applied = containers("api:1", json!({}));
        let live = containers(
            "api:1",
            json!({"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"}),
        );
        assert_eq!(three_way(Some(&applied), &applied, &live), json!({}));
    }

    #[test]
    fn a_live_edit_inside_a_list_the_manifest_sets_is_reverted_with_the_whole_list() {
        let applied = containers("api:1", json!({}));
        let live = containers("api:hacked", json!({"imagePullPolicy": "Always"}));
        assert_eq!(three_way(Some(&applied), &applied, &live), applied);
    }

    #[test]
    fn a_field_dropped_inside_a_list_element_replaces_the_list() {
        let before = containers("api:1", json!({"resources": {"limits": {"cpu": "1"}}}));
        let now = containers("api:1", json!({}));
        let live = containers(
            "api:1",
            json!({"resources": {"limits": {"cpu": "1"}}, "imagePullPolicy": "IfNotPresent"}),
        );
        assert_eq!(three_way(Some(&before), &now, &live), now);
    }

    #[test]
    fn without_a_last_applied_configuration_nothing_is_deleted() {
        let modified = json!({"data": {"a": "1"}});
        let current = json!({"data": {"a": "1", "b": "2"}});
        assert_eq!(three_way(None, &modified, &current), json!({}));
    }

    #[test]
    fn the_last_applied_annotation_holds_the_manifest_without_itself() {
        let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "annotations": {"team": "a", LAST_APPLIED: "old"}},
            "data": {"k": "v"}});
        let sent = with_last_applied(&manifest);
        let stored = last_applied(&sent).unwrap();
        assert_eq!(stored["metadata"]["annotations"], json!({"team": "a"}));
        assert_eq!(stored["data"], json!({"k": "v"}));
        assert_eq!(sent["metadata"]["annotations"]["team"], "a");
        let again = with_last_applied(&sent);
        assert_eq!(again, sent, "applying twice stores the same text");
    }

    #[test]
    fn the_stored_text_is_byte_for_byte_what_kubectl_stores() {
        // `kubectl apply` (v1.32) of this manifest stored exactly `kubectl` below.
        let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "other", "namespace": "default"},
            "data": {"Z": "1", "A": "9"}});
        let kubectl = "{\"apiVersion\":\"v1\",\"data\":{\"A\":\"9\",\"Z\":\"1\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"other\",\"namespace\":\"default\"}}\n";
        let sent = with_last_applied(&manifest);
        assert_eq!(sent["metadata"]["annotations"][LAST_APPLIED], kubectl);
    }

    #[test]
    fn an_unreadable_last_applied_annotation_counts_as_none() {
        let live = json!({"metadata": {"annotations": {LAST_APPLIED: "{not json"}}});
        assert_eq!(last_applied(&live), None);
        assert_eq!(last_applied(&json!({"metadata": {}})), None);
    }
}
