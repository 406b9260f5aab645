//! Metadata-only output (what client-go's metadata client and kubectl's `--show-kind` paths
//! ask for): objects reduced to `PartialObjectMetadata`, lists to `PartialObjectMetadataList`
//! whose items carry their own kind and apiVersion, unlike ordinary list items.

use serde_json::{json, Value};

/// An object reduced to its metadata, as `meta.k8s.io/{version}` PartialObjectMetadata.
pub(crate) fn partial(version: &str, object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A PartialObjectMetadataList of `objects`, with list metadata.
pub(crate) fn list<'a>(
    version: &str,
    objects: impl Iterator<Item = &'a Value>,
    resource_version: String,
    continue_token: Option<String>,
    remaining: Option<i64>,
) -> Value {
    let mut metadata = json!({"resourceVersion": resource_version});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    if let Some(count) = remaining {
        metadata["remainingItemCount"] = json!(count);
    }
    let items: Vec<Value> = objects.map(|object| partial(version, object)).collect();
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": metadata,
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_keeps_only_the_metadata() {
        let pod = json!({"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "a", "labels": {"x": "y"}}, "spec": {"containers": []}});
        assert_eq!(
            partial("v1", &pod),
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"name": "a", "labels": {"x": "y"}}})
        );
    }

    #[test]
    fn list_items_carry_kind_and_api_version() {
        let pod = json!({"metadata": {"name": "a"}, "spec": {}});
        let list = list(
            "v1",
            [&pod].into_iter(),
            "7".into(),
            Some("t".into()),
            Some(3),
        );
        assert_eq!(list["kind"], "PartialObjectMetadataList");
        assert_eq!(list["metadata"]["continue"], "t");
        assert_eq!(list["metadata"]["remainingItemCount"], 3);
        assert_eq!(list["items"][0]["kind"], "PartialObjectMetadata");
        assert_eq!(list["items"][0]["apiVersion"], "meta.k8s.io/v1");
        assert!(list["items"][0].get("spec").is_none());
    }
}
