//! The `Store` trait (what a reflector writes into and a lister reads from), key functions,
//! and `Indexer`, the indexed cache an informer keeps: a [`ThreadSafeStore`] plus a key
//! function.

use std::sync::Arc;

use futures::future::BoxFuture;

use kinformer_meta::{Object, ObjectMeta};

use crate::error::{Error, Result};
use crate::index::{namespace_indexers, IndexFunc, Indexers};
use crate::thread_safe_store::ThreadSafeStore;

/// A failure reported by a key function.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KeyError {
    message: String,
}

impl KeyError {
    /// A key failure with a description of what was wrong with the object.
    pub fn new(message: impl Into<String>) -> Self {
        KeyError {
            message: message.into(),
        }
    }
}

/// A key function: the cache key of an object.
pub type KeyFunc<K> = Arc<dyn Fn(&K) -> Result<String, KeyError> + Send + Sync>;

/// client-go's `MetaNamespaceKeyFunc` as a [`KeyFunc`]: `namespace/name`, or `name`.
///
/// The same keys as [`kinformer_meta::meta_namespace_key`], built without the formatting
/// machinery: every queued delta and every store write computes one.
pub fn meta_namespace_key_func<K: Object>() -> KeyFunc<K> {
    Arc::new(|object: &K| Ok(namespace_key(object.metadata())))
}

fn namespace_key(meta: &ObjectMeta) -> String {
    let name = meta.name();
    match meta.namespace() {
        Some(namespace) => {
            let mut key = String::with_capacity(namespace.len() + 1 + name.len());
            key.push_str(namespace);
            key.push('/');
            key.push_str(name);
            key
        }
        None => name.to_owned(),
    }
}

/// Applies a key function, turning its failure into the crate's error.
pub(crate) fn key_of<K>(key_func: &KeyFunc<K>, object: &K) -> Result<Arc<str>> {
    key_func(object)
        .map(Arc::from)
        .map_err(|source| Error::KeyFailed { source })
}

/// A keyed collection of objects: what a reflector writes into (a `DeltaFifo` or an
/// `Indexer`) and what listers read from.
pub trait Store<K>: Send + Sync {
    /// Adds an object.
    fn add(&self, object: Arc<K>) -> Result<()>;
    /// Updates an object.
    fn update(&self, object: Arc<K>) -> Result<()>;
    /// Deletes an object (its last known state).
    fn delete(&self, object: Arc<K>) -> Result<()>;
    /// Replaces the whole content with `objects`, listed at `resource_version`.
    fn replace(&self, objects: Vec<Arc<K>>, resource_version: &str) -> Result<()>;
    /// Starts a replace whose objects arrive one at a time (a list read as it downloads).
    ///
    /// Ending it with [`Replacing::finish`] has the effect of [`Self::replace`] with every
    /// pushed object; dropping it unfinished (the list failed) deletes nothing. The default
    /// gathers the objects and calls `replace` at the end; a `DeltaFifo` queues each object at
    /// once, so the cache can take it while the rest of the list downloads.
    fn begin_replace(&self) -> Box<dyn Replacing<K> + '_>
    where
        K: Send + Sync + 'static,
    {
        Box::new(GatheringReplace {
            objects: Vec::new(),
            replace: Box::new(move |objects, version| self.replace(objects, version)),
        })
    }
    /// Resynchronises (a `DeltaFifo` queues a Sync for every known object).
    fn resync(&self) -> Result<()>;
    /// Starts a batch of writes the producer has at hand: a queue may hold back waking its
    /// consumer until [`Self::end_batch`] (default: nothing).
    fn begin_batch(&self) {}
    /// Ends a batch started by [`Self::begin_batch`] (default: nothing).
    fn end_batch(&self) {}
    /// Records that the content is current up to `resource_version` (bookmarks, events).
    fn update_resource_version(&self, _resource_version: &str) {}
    /// Every object.
    fn list(&self) -> Vec<Arc<K>>;
    /// Every key.
    fn list_keys(&self) -> Vec<Arc<str>>;
    /// The object stored under the key of `object`.
    fn get(&self, object: &K) -> Result<Option<Arc<K>>>;
    /// The object stored under `key`.
    fn get_by_key(&self, key: &str) -> Option<Arc<K>>;
}

/// A replace in progress, made by [`Store::begin_replace`]: the listed objects go in one at a
/// time, then [`Replacing::finish`] deletes what was not listed.
pub trait Replacing<K>: Send {
    /// Adds one listed object.
    fn push(&mut self, object: Arc<K>) -> Result<()>;
    /// When the store wants the producer to wait before pushing more (its queue is full), a
    /// future that resolves once there is room; `None` when there is room now.
    fn ready(&mut self) -> Option<BoxFuture<'_, ()>> {
        None
    }
    /// Ends the list, read at `resource_version`: whatever was not pushed is deleted.
    fn finish(self: Box<Self>, resource_version: &str) -> Result<()>;
}

/// A replace function taking the whole list, as [`Store::replace`].
type ReplaceFn<'a, K> = Box<dyn FnOnce(Vec<Arc<K>>, &str) -> Result<()> + Send + 'a>;

/// The default [`Replacing`]: gathers the objects, then calls [`Store::replace`].
struct GatheringReplace<'a, K> {
    objects: Vec<Arc<K>>,
    replace: ReplaceFn<'a, K>,
}

impl<K: Send + Sync> Replacing<K> for GatheringReplace<'_, K> {
    fn push(&mut self, object: Arc<K>) -> Result<()> {
        self.objects.push(object);
        Ok(())
    }

    fn finish(self: Box<Self>, resource_version: &str) -> Result<()> {
        let GatheringReplace { objects, replace } = *self;
        replace(objects, resource_version)
    }
}

/// The indexed cache of an informer: objects by key, plus named indices.
///
/// `Indexer::default()` keys objects by `namespace/name` and has the namespace index.
pub struct Indexer<K> {
    key_func: KeyFunc<K>,
    store: ThreadSafeStore<K>,
}

impl<K: Object> Default for Indexer<K> {
    fn default() -> Self {
        Indexer::new(meta_namespace_key_func(), namespace_indexers())
    }
}

impl<K: Object> Indexer<K> {
    /// An empty indexer with a key function and index functions.
    pub fn new(key_func: KeyFunc<K>, indexers: Indexers<K>) -> Self {
        Indexer {
            key_func,
            store: ThreadSafeStore::new(indexers),
        }
    }

    /// The key function.
    pub fn key_func(&self) -> &KeyFunc<K> {
        &self.key_func
    }

    /// The key of `object`.
    pub fn key_of(&self, object: &K) -> Result<Arc<str>> {
        key_of(&self.key_func, object)
    }

    /// Number of objects held.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when no object is held.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// The resourceVersion of the last replace (or bookmark); empty before the first.
    pub fn last_sync_resource_version(&self) -> String {
        self.store.last_sync_resource_version()
    }

    /// The objects that share at least one value of index `name` with `object`.
    pub fn index(&self, name: &str, object: &K) -> Result<Vec<Arc<K>>> {
        self.store.index(name, object)
    }

    /// The keys of the objects whose index `name` contains `value`.
    pub fn index_keys(&self, name: &str, value: &str) -> Result<Vec<Arc<str>>> {
        self.store.index_keys(name, value)
    }

    /// The objects whose index `name` contains `value`.
    pub fn by_index(&self, name: &str, value: &str) -> Result<Vec<Arc<K>>> {
        self.store.by_index(name, value)
    }

    /// Every value index `name` holds objects under.
    pub fn list_index_func_values(&self, name: &str) -> Result<Vec<Arc<str>>> {
        self.store.list_index_func_values(name)
    }

    /// The index functions by name.
    pub fn get_indexers(&self) -> Indexers<K> {
        self.store.get_indexers()
    }

    /// Adds index functions; objects already held are indexed at once. A name already in use
    /// is [`Error::IndexerExists`].
    pub fn add_indexers(&self, indexers: Indexers<K>) -> Result<()> {
        self.store.add_indexers(indexers)
    }

    /// Adds one index function (see [`Self::add_indexers`]).
    pub fn add_index(&self, name: impl Into<String>, func: IndexFunc<K>) -> Result<()> {
        self.add_indexers(Indexers::from([(name.into(), func)]))
    }

    /// Removes the object under `key` (how a tombstone without an object is applied); returns
    /// it when it was present.
    pub fn delete_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.store.delete(key)
    }

    /// The underlying thread-safe store, for key-based access.
    pub fn thread_safe_store(&self) -> &ThreadSafeStore<K> {
        &self.store
    }
}

impl<K: Object> Store<K> for Indexer<K> {
    fn add(&self, object: Arc<K>) -> Result<()> {
        let key = self.key_of(&object)?;
        self.store.add(key, object)
    }

    fn update(&self, object: Arc<K>) -> Result<()> {
        let key = self.key_of(&object)?;
        self.store.update(key, object)
    }

    fn delete(&self, object: Arc<K>) -> Result<()> {
        let key = self.key_of(&object)?;
        self.store.delete(&key);
        Ok(())
    }

    fn replace(&self, objects: Vec<Arc<K>>, resource_version: &str) -> Result<()> {
        let items = objects
            .into_iter()
            .map(|object| Ok((self.key_of(&object)?, object)))
            .collect::<Result<Vec<_>>>()?;
        self.store.replace(items, resource_version)
    }

    fn resync(&self) -> Result<()> {
        self.store.resync();
        Ok(())
    }

    fn update_resource_version(&self, resource_version: &str) {
        self.store.set_resource_version(resource_version);
    }

    fn list(&self) -> Vec<Arc<K>> {
        self.store.list()
    }

    fn list_keys(&self) -> Vec<Arc<str>> {
        self.store.list_keys()
    }

    fn get(&self, object: &K) -> Result<Option<Arc<K>>> {
        Ok(self.store.get(&self.key_of(object)?))
    }

    fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.store.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinformer_meta::meta_namespace_key;

    #[test]
    fn the_fast_key_function_makes_the_same_keys_as_meta() {
        for (namespace, name) in [
            (Some("ns1"), "pod1"),
            (None, "node1"),
            (Some(""), "node1"),
            (Some("ns"), ""),
        ] {
            let meta = ObjectMeta {
                name: Some(name.into()),
                namespace: namespace.map(Into::into),
                ..ObjectMeta::default()
            };
            assert_eq!(namespace_key(&meta), meta_namespace_key(&meta));
        }
    }
}
