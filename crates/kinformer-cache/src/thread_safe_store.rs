//! `ThreadSafeStore`: the sharded, indexed map from keys to `Arc` objects that backs every
//! informer cache.
//!
//! The items are split over a fixed number of shards by a hash of their key. Each shard owns its
//! items *and* the part of every index that refers to them, under one `RwLock`, so a write to a
//! key updates items and indices together and a reader of one shard never sees them disagree.
//! Writers of keys in different shards run in parallel. An outer `RwLock` is taken shared by
//! every operation and exclusively only by [`ThreadSafeStore::replace`] and
//! [`ThreadSafeStore::add_indexers`], which is what makes a replace atomic for readers.
//!
//! Keys are `Arc<str>`: the key stored with an item is the same allocation every index set
//! points to, so a key costs its bytes once, however many indices mention it.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Error, Result};
use crate::index::{IndexFunc, Indexers};

/// How many shards the items are split into.
const SHARDS: usize = 32;

/// A thread-safe map from keys to objects with named secondary indices.
///
/// Reads are synchronous, take two uncontended read locks and return `Arc<K>`. Index
/// functions run while the store holds its locks: they must not call back into the store.
pub struct ThreadSafeStore<K> {
    inner: RwLock<Inner<K>>,
    hasher: RandomState,
}

/// One index: index value -> the keys of the objects that have it.
type Index = HashMap<Arc<str>, KeySet>;

/// The keys under one index value. Many values (an owner's UID, a unique label) hold a single
/// key, so that case is kept inline instead of in a hash set of its own; a set always holds at
/// least two keys, so equal contents have equal shapes.
#[derive(Debug, PartialEq, Eq)]
enum KeySet {
    One(Arc<str>),
    /// Boxed, so an index entry costs a pointer pair rather than a whole hash set inline.
    // The box is the point: it keeps every `One` entry small (measured in benches/store_memory).
    #[allow(clippy::box_collection)]
    Many(Box<HashSet<Arc<str>>>),
}

struct Inner<K> {
    shards: Box<[RwLock<Shard<K>>]>,
    /// The index functions, sorted by name; `Shard::indices` is parallel to this.
    indexers: Vec<(Arc<str>, IndexFunc<K>)>,
    resource_version: Mutex<String>,
}

struct Shard<K> {
    items: HashMap<Arc<str>, Arc<K>>,
    indices: Vec<Index>,
}

impl<K> Default for ThreadSafeStore<K> {
    fn default() -> Self {
        ThreadSafeStore::new(Indexers::new())
    }
}

impl<K> ThreadSafeStore<K> {
    /// An empty store with the given indexers.
    pub fn new(indexers: Indexers<K>) -> Self {
        let indexers: Vec<_> = indexers
            .into_iter()
            .map(|(name, func)| (Arc::from(name), func))
            .collect();
        ThreadSafeStore {
            inner: RwLock::new(Inner {
                shards: empty_shards(indexers.len()),
                indexers,
                resource_version: Mutex::new(String::new()),
            }),
            hasher: RandomState::new(),
        }
    }

    /// Adds or replaces the object under `key` (client-go's `Add`; same as [`Self::update`]).
    pub fn add(&self, key: Arc<str>, object: Arc<K>) -> Result<()> {
        self.update(key, object)
    }

    /// Stores `object` under `key`, updating every index.
    ///
    /// When an index function fails on the new object, nothing is changed and the error names
    /// the index and the key.
    pub fn update(&self, key: Arc<str>, object: Arc<K>) -> Result<()> {
        let inner = self.read_inner();
        let values = index_values(&inner.indexers, &key, &object)?;
        let mut shard = write(&inner.shards[self.shard_of(&key)]);
        shard.put(key, object, values, &inner.indexers);
        Ok(())
    }

    /// Removes the object under `key`, returning it when it was present.
    pub fn delete(&self, key: &str) -> Option<Arc<K>> {
        let inner = self.read_inner();
        let mut shard = write(&inner.shards[self.shard_of(key)]);
        shard.remove(key, &inner.indexers)
    }

    /// The object under `key`.
    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        let inner = self.read_inner();
        let shard = read(&inner.shards[self.shard_of(key)]);
        shard.items.get(key).cloned()
    }

    /// Every object, in no particular order.
    pub fn list(&self) -> Vec<Arc<K>> {
        let inner = self.read_inner();
        let mut out = Vec::new();
        for shard in inner.shards.iter() {
            out.extend(read(shard).items.values().cloned());
        }
        out
    }

    /// Every key, in no particular order.
    pub fn list_keys(&self) -> Vec<Arc<str>> {
        let inner = self.read_inner();
        let mut out = Vec::new();
        for shard in inner.shards.iter() {
            out.extend(read(shard).items.keys().cloned());
        }
        out
    }

    /// Number of objects held.
    pub fn len(&self) -> usize {
        let inner = self.read_inner();
        inner
            .shards
            .iter()
            .map(|shard| read(shard).items.len())
            .sum()
    }

    /// True when the store holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Swaps the whole content for `items` and records `resource_version`, atomically for
    /// readers: a reader sees either the old content or the new one, never a mix.
    ///
    /// The new content and its indices are built before the swap, without blocking readers;
    /// when an index function fails the store is left unchanged. With duplicate keys the last
    /// object wins.
    pub fn replace(&self, items: Vec<(Arc<str>, Arc<K>)>, resource_version: &str) -> Result<()> {
        let indexers = self.read_inner().indexers.clone();
        let mut shards = self.build_shards(&items, &indexers)?;
        let old = {
            let mut inner = self.write_inner();
            if !same_indexers(&indexers, &inner.indexers) {
                // Indexers were added while we built; rebuild with the current set.
                shards = self.build_shards(&items, &inner.indexers)?;
            }
            *lock(&inner.resource_version) = resource_version.to_owned();
            std::mem::replace(&mut inner.shards, shards)
        };
        // The old maps are freed after the lock is released.
        drop(old);
        Ok(())
    }

    /// Nothing to do for a local store: client-go's `Resync` on a thread-safe store is a no-op.
    pub fn resync(&self) {}

    /// The resourceVersion recorded by the last [`Self::replace`] or
    /// [`Self::set_resource_version`]; empty before either.
    pub fn last_sync_resource_version(&self) -> String {
        lock(&self.read_inner().resource_version).clone()
    }

    /// Records the resourceVersion the content corresponds to (bookmarks, watch events).
    pub fn set_resource_version(&self, resource_version: &str) {
        *lock(&self.read_inner().resource_version) = resource_version.to_owned();
    }

    /// The objects that share at least one value of index `name` with `object`.
    pub fn index(&self, name: &str, object: &K) -> Result<Vec<Arc<K>>> {
        let inner = self.read_inner();
        let position = index_position(&inner.indexers, name)?;
        let values = (inner.indexers[position].1)(object).map_err(|source| Error::IndexFailed {
            index: name.to_owned(),
            key: String::new(),
            source,
        })?;
        let mut out = Vec::new();
        for shard in inner.shards.iter() {
            let shard = read(shard);
            let index = &shard.indices[position];
            let mut seen: HashSet<&Arc<str>> = HashSet::new();
            for value in &values {
                if let Some(keys) = index.get(value.as_str()) {
                    seen.extend(keys.iter());
                }
            }
            out.extend(
                seen.into_iter()
                    .filter_map(|key| shard.items.get(key).cloned()),
            );
        }
        Ok(out)
    }

    /// The keys of the objects whose index `name` contains `value`.
    pub fn index_keys(&self, name: &str, value: &str) -> Result<Vec<Arc<str>>> {
        let inner = self.read_inner();
        let position = index_position(&inner.indexers, name)?;
        let mut out = Vec::new();
        for shard in inner.shards.iter() {
            if let Some(keys) = read(shard).indices[position].get(value) {
                out.extend(keys.iter().cloned());
            }
        }
        Ok(out)
    }

    /// The objects whose index `name` contains `value`.
    pub fn by_index(&self, name: &str, value: &str) -> Result<Vec<Arc<K>>> {
        let inner = self.read_inner();
        let position = index_position(&inner.indexers, name)?;
        let mut out = Vec::new();
        for shard in inner.shards.iter() {
            let shard = read(shard);
            if let Some(keys) = shard.indices[position].get(value) {
                out.extend(keys.iter().filter_map(|key| shard.items.get(key).cloned()));
            }
        }
        Ok(out)
    }

    /// Every value index `name` currently holds at least one object under.
    pub fn list_index_func_values(&self, name: &str) -> Result<Vec<Arc<str>>> {
        let inner = self.read_inner();
        let position = index_position(&inner.indexers, name)?;
        let mut values: HashSet<Arc<str>> = HashSet::new();
        for shard in inner.shards.iter() {
            values.extend(read(shard).indices[position].keys().cloned());
        }
        Ok(values.into_iter().collect())
    }

    /// The index functions by name.
    pub fn get_indexers(&self) -> Indexers<K> {
        self.read_inner()
            .indexers
            .iter()
            .map(|(name, func)| (name.to_string(), func.clone()))
            .collect()
    }

    /// Adds index functions and indexes every object already held at once.
    ///
    /// A name that is already in use (or given twice) is an error and nothing changes; so is an
    /// index function that fails on an object held.
    pub fn add_indexers(&self, new_indexers: Indexers<K>) -> Result<()> {
        let mut inner = self.write_inner();
        if let Some(name) = new_indexers
            .keys()
            .find(|name| index_position(&inner.indexers, name).is_ok())
        {
            return Err(Error::IndexerExists { name: name.clone() });
        }
        let mut merged = inner.indexers.clone();
        merged.extend(
            new_indexers
                .into_iter()
                .map(|(name, func)| (Arc::from(name), func)),
        );
        merged.sort_by(|a, b| a.0.cmp(&b.0));
        let mut items = Vec::new();
        for shard in inner.shards.iter() {
            let shard = read(shard);
            items.extend(shard.items.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let shards = self.build_shards(&items, &merged)?;
        inner.indexers = merged;
        let old = std::mem::replace(&mut inner.shards, shards);
        drop(inner);
        drop(old);
        Ok(())
    }

    fn build_shards(
        &self,
        items: &[(Arc<str>, Arc<K>)],
        indexers: &[(Arc<str>, IndexFunc<K>)],
    ) -> Result<Box<[RwLock<Shard<K>>]>> {
        let per_shard = items.len() / SHARDS + items.len() / (SHARDS * 8) + 1;
        let mut shards: Vec<Shard<K>> = (0..SHARDS)
            .map(|_| {
                let mut shard = Shard::empty(indexers.len());
                shard.items.reserve(per_shard);
                shard
            })
            .collect();
        for (key, object) in items {
            let values = index_values(indexers, key, object)?;
            shards[self.shard_of(key)].put(key.clone(), object.clone(), values, indexers);
        }
        Ok(shards.into_iter().map(RwLock::new).collect())
    }

    fn shard_of(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    fn read_inner(&self) -> RwLockReadGuard<'_, Inner<K>> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_inner(&self) -> RwLockWriteGuard<'_, Inner<K>> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rebuilds every index from the items and compares with the live indices; returns the
    /// first disagreement. Used by the concurrency tests.
    #[cfg(test)]
    pub(crate) fn check_indices(&self) -> std::result::Result<(), String> {
        let inner = self.read_inner();
        for (number, shard) in inner.shards.iter().enumerate() {
            let shard = read(shard);
            let mut rebuilt = Shard::empty(inner.indexers.len());
            for (key, object) in &shard.items {
                let values =
                    index_values(&inner.indexers, key, object).map_err(|e| e.to_string())?;
                rebuilt.put(key.clone(), object.clone(), values, &inner.indexers);
            }
            if rebuilt.indices != shard.indices {
                return Err(format!(
                    "shard {number}: live indices differ from a rebuild"
                ));
            }
        }
        Ok(())
    }
}

impl<K> Shard<K> {
    fn empty(index_count: usize) -> Self {
        Shard {
            items: HashMap::new(),
            indices: (0..index_count).map(|_| Index::new()).collect(),
        }
    }

    /// Stores an object whose new index values are already computed.
    fn put(
        &mut self,
        key: Arc<str>,
        object: Arc<K>,
        new_values: Vec<Vec<String>>,
        indexers: &[(Arc<str>, IndexFunc<K>)],
    ) -> Option<Arc<K>> {
        // Keep the key allocation already shared with the indices when the key exists.
        let (key, old) = match self.items.entry(key) {
            Entry::Occupied(mut entry) => {
                let old = std::mem::replace(entry.get_mut(), object);
                (entry.key().clone(), Some(old))
            }
            Entry::Vacant(entry) => {
                let key = entry.key().clone();
                entry.insert(object);
                (key, None)
            }
        };
        for (position, (_, func)) in indexers.iter().enumerate() {
            let new = &new_values[position];
            let index = &mut self.indices[position];
            let Some(old_object) = &old else {
                for value in new {
                    add_to_index(index, value, &key);
                }
                continue;
            };
            match func(old_object) {
                Ok(old_values) if old_values == *new => {}
                Ok(old_values) => {
                    for value in old_values.iter().filter(|v| !new.contains(v)) {
                        remove_from_index(index, value, &key);
                    }
                    for value in new.iter().filter(|v| !old_values.contains(v)) {
                        add_to_index(index, value, &key);
                    }
                }
                Err(_) => {
                    // The function failed on an object it indexed before: forget the key
                    // everywhere in this index, then index the new object.
                    remove_everywhere(index, &key);
                    for value in new {
                        add_to_index(index, value, &key);
                    }
                }
            }
        }
        old
    }

    fn remove(&mut self, key: &str, indexers: &[(Arc<str>, IndexFunc<K>)]) -> Option<Arc<K>> {
        let (key, old) = self.items.remove_entry(key)?;
        for (position, (_, func)) in indexers.iter().enumerate() {
            let index = &mut self.indices[position];
            match func(&old) {
                Ok(values) => {
                    for value in &values {
                        remove_from_index(index, value, &key);
                    }
                }
                Err(_) => remove_everywhere(index, &key),
            }
        }
        Some(old)
    }
}

fn empty_shards<K>(index_count: usize) -> Box<[RwLock<Shard<K>>]> {
    (0..SHARDS)
        .map(|_| RwLock::new(Shard::empty(index_count)))
        .collect()
}

/// Runs every index function on an object; the first failure becomes the error.
fn index_values<K>(
    indexers: &[(Arc<str>, IndexFunc<K>)],
    key: &str,
    object: &K,
) -> Result<Vec<Vec<String>>> {
    indexers
        .iter()
        .map(|(name, func)| {
            func(object).map_err(|source| Error::IndexFailed {
                index: name.to_string(),
                key: key.to_owned(),
                source,
            })
        })
        .collect()
}

fn index_position<K>(indexers: &[(Arc<str>, IndexFunc<K>)], name: &str) -> Result<usize> {
    indexers
        .binary_search_by(|(existing, _)| (**existing).cmp(name))
        .map_err(|_| Error::IndexNotFound {
            name: name.to_owned(),
        })
}

fn same_indexers<K>(a: &[(Arc<str>, IndexFunc<K>)], b: &[(Arc<str>, IndexFunc<K>)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && Arc::ptr_eq(&x.1, &y.1))
}

impl KeySet {
    fn insert(&mut self, key: &Arc<str>) {
        match self {
            KeySet::One(existing) if existing == key => {}
            KeySet::One(existing) => {
                let first = existing.clone();
                *self = KeySet::Many(Box::new(HashSet::from([first, key.clone()])));
            }
            KeySet::Many(keys) => {
                keys.insert(key.clone());
            }
        }
    }

    /// Removes `key`; returns true when no key is left.
    fn remove(&mut self, key: &str) -> bool {
        match self {
            KeySet::One(existing) => **existing == *key,
            KeySet::Many(keys) => {
                keys.remove(key);
                if keys.len() == 1 {
                    if let Some(last) = keys.iter().next().cloned() {
                        *self = KeySet::One(last);
                    }
                    return false;
                }
                keys.is_empty()
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Arc<str>> {
        let (one, many) = match self {
            KeySet::One(key) => (Some(key), None),
            KeySet::Many(keys) => (None, Some(keys.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

fn add_to_index(index: &mut Index, value: &str, key: &Arc<str>) {
    match index.get_mut(value) {
        Some(keys) => keys.insert(key),
        None => {
            index.insert(Arc::from(value), KeySet::One(key.clone()));
        }
    }
}

fn remove_from_index(index: &mut Index, value: &str, key: &str) {
    if index.get_mut(value).is_some_and(|keys| keys.remove(key)) {
        index.remove(value);
    }
}

fn remove_everywhere(index: &mut Index, key: &str) {
    index.retain(|_, keys| !keys.remove(key));
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
