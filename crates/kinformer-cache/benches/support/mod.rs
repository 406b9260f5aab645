//! The object the store benches cache: a small realistic pod (100 namespaces, an `app` label
//! with 1000 values, a `tier` label), shared so the speed and memory figures describe the same
//! objects.

use std::sync::Arc;

use kinformer_meta::{ObjectMeta, PartialObjectMetadata, TypeMeta};

/// The cached object type of the store benches.
pub type Pod = PartialObjectMetadata;

/// Pod number `i` at resourceVersion `version`.
pub fn pod(i: usize, version: usize) -> Arc<Pod> {
    Arc::new(PartialObjectMetadata {
        types: TypeMeta::new("v1", "Pod"),
        metadata: ObjectMeta {
            name: Some(format!("pod-{i:06}-abcde")),
            namespace: Some(format!("namespace-{:03}", i % 100)),
            uid: Some(format!("6c5e1f4a-0000-4000-8000-{i:012}")),
            resource_version: Some(version.to_string()),
            labels: [
                ("app", format!("app-{}", i % 1000)),
                ("tier", ["web", "db", "cache"][i % 3].to_owned()),
            ]
            .into_iter()
            .collect(),
            ..ObjectMeta::default()
        },
    })
}
