//! Index functions: named functions that map an object to zero or more index values, and the
//! built-in namespace index.

use std::collections::BTreeMap;
use std::sync::Arc;

use kinformer_meta::Object;

/// The name of the built-in index that maps a namespace to the objects in it.
pub const NAMESPACE_INDEX: &str = "namespace";

/// A failure reported by an index function (the store returns it to the caller).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IndexError {
    message: String,
}

impl IndexError {
    /// An index failure with a description of what was wrong with the object.
    pub fn new(message: impl Into<String>) -> Self {
        IndexError {
            message: message.into(),
        }
    }

    /// The description given by the index function.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An index function: the values under which an object is found in one index.
///
/// It must be deterministic and must not call back into the store that runs it.
pub type IndexFunc<K> = Arc<dyn Fn(&K) -> Result<Vec<String>, IndexError> + Send + Sync>;

/// Index functions by index name.
pub type Indexers<K> = BTreeMap<String, IndexFunc<K>>;

/// Wraps a closure as an [`IndexFunc`].
pub fn index_func<K, F>(f: F) -> IndexFunc<K>
where
    F: Fn(&K) -> Result<Vec<String>, IndexError> + Send + Sync + 'static,
{
    Arc::new(f)
}

/// client-go's `MetaNamespaceIndexFunc`: the object's namespace, or nothing when it has none.
pub fn meta_namespace_index_func<K: Object>(object: &K) -> Result<Vec<String>, IndexError> {
    Ok(object
        .metadata()
        .namespace()
        .map(|namespace| vec![namespace.to_owned()])
        .unwrap_or_default())
}

/// The indexers an informer starts with: only the namespace index.
pub fn namespace_indexers<K: Object>() -> Indexers<K> {
    let mut indexers = Indexers::new();
    indexers.insert(
        NAMESPACE_INDEX.to_owned(),
        index_func(meta_namespace_index_func::<K>),
    );
    indexers
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinformer_meta::{ObjectMeta, PartialObjectMetadata};

    fn object(namespace: Option<&str>) -> PartialObjectMetadata {
        PartialObjectMetadata {
            metadata: ObjectMeta {
                name: Some("a".into()),
                namespace: namespace.map(Into::into),
                ..ObjectMeta::default()
            },
            ..PartialObjectMetadata::default()
        }
    }

    #[test]
    fn namespace_index_gives_the_namespace_or_nothing() {
        assert_eq!(
            meta_namespace_index_func(&object(Some("ns1"))).unwrap(),
            ["ns1"]
        );
        assert!(meta_namespace_index_func(&object(None)).unwrap().is_empty());
        assert!(meta_namespace_index_func(&object(Some("")))
            .unwrap()
            .is_empty());
    }
}
