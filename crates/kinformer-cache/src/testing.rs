//! Helpers shared by the unit tests: small metadata-only objects.

use std::sync::Arc;

use kinformer_meta::{ObjectMeta, PartialObjectMetadata, StringMap, TypeMeta};

/// A metadata-only pod with a namespace, name, resourceVersion and labels.
pub(crate) fn pod(
    namespace: &str,
    name: &str,
    resource_version: &str,
    labels: &[(&str, &str)],
) -> Arc<PartialObjectMetadata> {
    Arc::new(PartialObjectMetadata {
        types: TypeMeta::new("v1", "Pod"),
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()).filter(|ns: &String| !ns.is_empty()),
            resource_version: Some(resource_version.into()),
            labels: labels.iter().copied().collect::<StringMap>(),
            ..ObjectMeta::default()
        },
    })
}

/// The resourceVersion of an object.
pub(crate) fn version(object: &PartialObjectMetadata) -> &str {
    object.metadata.resource_version().unwrap_or("")
}
