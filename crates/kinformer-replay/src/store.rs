//! The object store: every object encoded once as compact JSON bytes (`Stored`), one global
//! resourceVersion counter (like etcd's revision), and a bounded event history with a
//! compaction point that watches replay from.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use serde_json::Value;

use crate::registry::{resources_from_crd, Registry, ResourceInfo};
use crate::stored::Stored;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

/// One change in the history.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    /// The resourceVersion this change produced.
    pub resource_version: u64,
    /// The storage key of the resource (`group/plural`).
    pub resource: String,
    /// The object key (`namespace/name` or `name`).
    pub key: String,
    /// The change.
    pub event_type: EventType,
    /// The new state (for a delete: the last state, stamped with the delete's RV).
    pub object: Arc<Stored>,
    /// The state before the change, if the object existed.
    pub previous: Option<Arc<Stored>>,
}

/// The object key of `namespace/name`, or `name` at cluster scope.
pub(crate) fn object_key(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

/// All state the server serves.
#[derive(Debug)]
pub(crate) struct Store {
    /// Served resources.
    pub registry: Registry,
    resource_version: u64,
    objects: HashMap<String, BTreeMap<String, Arc<Stored>>>,
    history: VecDeque<Arc<Event>>,
    history_limit: usize,
    compacted: u64,
}

impl Store {
    /// An empty store at resourceVersion 1 (a fresh etcd's revision).
    pub fn new(registry: Registry, history_limit: usize) -> Self {
        Store {
            registry,
            resource_version: 1,
            objects: HashMap::new(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            compacted: 1,
        }
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// The oldest resourceVersion a watch may start from.
    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    /// Drops history up to and including `resource_version` (capped at the current RV).
    pub fn compact(&mut self, resource_version: u64) {
        let target = resource_version.min(self.resource_version);
        while self
            .history
            .front()
            .is_some_and(|event| event.resource_version <= target)
        {
            self.history.pop_front();
        }
        self.compacted = self.compacted.max(target);
    }

    /// One object.
    pub fn get(&self, info: &ResourceInfo, key: &str) -> Option<Arc<Stored>> {
        self.objects.get(&info.storage_key())?.get(key).cloned()
    }

    /// One object, decoded (for writes and the handle).
    pub fn get_value(&self, info: &ResourceInfo, key: &str) -> Option<Value> {
        self.get(info, key).map(|stored| stored.value())
    }

    /// Stores a new state, stamping the next resourceVersion into it, encodes it once and
    /// records the event. Returns the stamped object.
    pub fn commit(
        &mut self,
        info: &ResourceInfo,
        key: &str,
        event_type: EventType,
        mut object: Value,
    ) -> Value {
        self.resource_version += 1;
        let rv = self.resource_version;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let stored = Arc::new(Stored::encode_selectable(
            &object,
            crate::selector::extra_fields(info),
        ));
        let bucket = self.objects.entry(info.storage_key()).or_default();
        let previous = if event_type == EventType::Deleted {
            bucket.remove(key)
        } else {
            bucket.insert(key.to_string(), stored.clone())
        };
        if info.group == "apiextensions.k8s.io" && info.plural == "customresourcedefinitions" {
            self.sync_crd(&object, event_type);
        }
        self.history.push_back(Arc::new(Event {
            resource_version: rv,
            resource: info.storage_key(),
            key: key.to_string(),
            event_type,
            object: stored,
            previous,
        }));
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = self.compacted.max(old.resource_version);
            }
        }
        object
    }

    /// Drops every object and the history (a restart that lost state). The RV counter moves on
    /// by one and everything before it counts as compacted: a watch resumed from any version a
    /// client saw before the loss is answered 410, so the client relists and learns what is gone.
    /// (A watch from exactly the compaction point is accepted, as by a real server, which is why
    /// the counter must move.)
    pub fn clear(&mut self) {
        self.objects.clear();
        self.history.clear();
        self.resource_version += 1;
        self.compacted = self.resource_version;
    }

    /// Events for `resource` after `resource_version`, or `None` when that RV is compacted.
    pub fn events_since(&self, resource: &str, resource_version: u64) -> Option<Vec<Arc<Event>>> {
        if resource_version < self.compacted {
            return None;
        }
        let start = self
            .history
            .partition_point(|event| event.resource_version <= resource_version);
        Some(
            self.history
                .range(start..)
                .filter(|event| event.resource == resource)
                .cloned()
                .collect(),
        )
    }

    /// A view of a resource's objects as they were at `resource_version`, or `None` when the
    /// history no longer reaches back that far.
    pub fn snapshot(&self, info: &ResourceInfo, resource_version: u64) -> Option<Snapshot<'_>> {
        let resource = info.storage_key();
        let current = self.objects.get(&resource);
        let mut overlay: BTreeMap<String, Option<Arc<Stored>>> = BTreeMap::new();
        if resource_version < self.resource_version {
            // Undo every later change: the first change after the RV knows the state before it.
            for event in self.events_since(&resource, resource_version)? {
                overlay
                    .entry(event.key.clone())
                    .or_insert_with(|| event.previous.clone());
            }
        }
        Some(Snapshot { current, overlay })
    }

    fn sync_crd(&mut self, crd: &Value, event_type: EventType) {
        let Some(infos) = resources_from_crd(crd) else {
            return;
        };
        if let Some(first) = infos.first() {
            self.registry.unregister(&first.group, &first.plural);
        }
        if event_type != EventType::Deleted {
            for info in infos {
                self.registry.register(info);
            }
        }
    }
}

/// A resource's objects at some resourceVersion: the current map corrected by an overlay.
pub(crate) struct Snapshot<'a> {
    current: Option<&'a BTreeMap<String, Arc<Stored>>>,
    overlay: BTreeMap<String, Option<Arc<Stored>>>,
}

impl Snapshot<'_> {
    /// How many objects [`Snapshot::range`] would yield; without an overlay this walks only
    /// the tree (a page's `remainingItemCount` counts the rest of a 50k-object list).
    pub fn count(&self, prefix: &str, after: Option<&str>) -> usize {
        if !self.overlay.is_empty() || (!prefix.is_empty() && !prefix.ends_with('/')) {
            return self.range(prefix, after).count();
        }
        let Some(map) = self.current else {
            return 0;
        };
        let lower = match after {
            Some(key) if key >= prefix => Bound::Excluded(key),
            _ => Bound::Included(prefix),
        };
        let upper_key = prefix.strip_suffix('/').map(|ns| format!("{ns}0"));
        let upper = match &upper_key {
            Some(key) => Bound::Excluded(key.as_str()),
            None => Bound::Unbounded,
        };
        map.range::<str, _>((lower, upper)).count()
    }

    /// Objects with keys after `after` (exclusive) starting with `prefix`, in key order.
    /// `prefix` is empty or a namespace followed by `/`: its range ends before the key with
    /// the `/` raised to `0`, so no key is compared while iterating (counting a page's
    /// remainder walks tree nodes only).
    pub fn range<'s>(
        &'s self,
        prefix: &'s str,
        after: Option<&'s str>,
    ) -> impl Iterator<Item = (&'s str, &'s Arc<Stored>)> + 's {
        let lower = match after {
            Some(key) if key >= prefix => Bound::Excluded(key.to_string()),
            _ => Bound::Included(prefix.to_string()),
        };
        let upper = match prefix.strip_suffix('/') {
            Some(namespace) => Bound::Excluded(format!("{namespace}0")),
            None => Bound::Unbounded,
        };
        let bounds = (lower, upper);
        let overlay_bounds = bounds.clone();
        let current = self
            .current
            .into_iter()
            .flat_map(move |map| map.range::<String, _>(bounds.clone()))
            .filter(|(key, _)| self.overlay.is_empty() || !self.overlay.contains_key(*key))
            .map(|(key, value)| (key.as_str(), Some(value)));
        let overlay = self
            .overlay
            .range::<String, _>(overlay_bounds)
            .map(|(key, value)| (key.as_str(), value.as_ref()));
        let unbounded_other_prefix = !prefix.is_empty() && !prefix.ends_with('/');
        MergeByKey {
            left: current.peekable(),
            right: overlay.peekable(),
        }
        .take_while(move |(key, _)| !unbounded_other_prefix || key.starts_with(prefix))
        .filter_map(|(key, value)| value.map(|v| (key, v)))
    }
}

struct MergeByKey<L: Iterator, R: Iterator> {
    left: std::iter::Peekable<L>,
    right: std::iter::Peekable<R>,
}

impl<'a, L, R> Iterator for MergeByKey<L, R>
where
    L: Iterator<Item = (&'a str, Option<&'a Arc<Stored>>)>,
    R: Iterator<Item = (&'a str, Option<&'a Arc<Stored>>)>,
{
    type Item = (&'a str, Option<&'a Arc<Stored>>);

    fn next(&mut self) -> Option<Self::Item> {
        match (self.left.peek(), self.right.peek()) {
            (Some(l), Some(r)) if l.0 <= r.0 => self.left.next(),
            (Some(_), Some(_)) => self.right.next(),
            (Some(_), None) => self.left.next(),
            (None, _) => self.right.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pods(store: &Store) -> Arc<ResourceInfo> {
        store.registry.find("", "v1", "pods").unwrap()
    }

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ns"}})
    }

    #[test]
    fn every_commit_takes_the_next_resource_version() {
        let mut store = Store::new(Registry::builtin(), 10);
        let info = pods(&store);
        let first = store.commit(&info, "ns/a", EventType::Added, pod("a"));
        let second = store.commit(&info, "ns/b", EventType::Added, pod("b"));
        assert_eq!(first["metadata"]["resourceVersion"], "2");
        assert_eq!(second["metadata"]["resourceVersion"], "3");
        assert_eq!(store.resource_version(), 3);
    }

    #[test]
    fn bounded_history_moves_the_compaction_point() {
        let mut store = Store::new(Registry::builtin(), 2);
        let info = pods(&store);
        for name in ["a", "b", "c"] {
            store.commit(&info, &format!("ns/{name}"), EventType::Added, pod(name));
        }
        assert_eq!(store.compacted(), 2);
        assert!(store.events_since("/pods", 1).is_none());
        assert_eq!(store.events_since("/pods", 2).unwrap().len(), 2);
    }

    #[test]
    fn snapshot_shows_objects_as_they_were() {
        let mut store = Store::new(Registry::builtin(), 100);
        let info = pods(&store);
        store.commit(&info, "ns/a", EventType::Added, pod("a"));
        store.commit(&info, "ns/b", EventType::Added, pod("b"));
        store.commit(&info, "ns/a", EventType::Deleted, pod("a"));
        store.commit(&info, "ns/c", EventType::Added, pod("c"));
        let snapshot = store.snapshot(&info, 3).unwrap();
        let keys: Vec<&str> = snapshot.range("", None).map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["ns/a", "ns/b"]);
        let now = store.snapshot(&info, 5).unwrap();
        let keys: Vec<&str> = now.range("ns/", Some("ns/b")).map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["ns/c"]);
        store.commit(&info, "ns-a/x", EventType::Added, pod("x"));
        store.commit(&info, "ns0/y", EventType::Added, pod("y"));
        store.commit(&info, "ns/d", EventType::Added, pod("d"));
        let now = store.snapshot(&info, store.resource_version()).unwrap();
        let keys: Vec<&str> = now.range("ns/", None).map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            vec!["ns/b", "ns/c", "ns/d"],
            "neighbouring namespaces stay out"
        );
        let then = store.snapshot(&info, 6).unwrap();
        let keys: Vec<&str> = then.range("ns/", None).map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            vec!["ns/b", "ns/c"],
            "the overlay hides later objects"
        );
    }

    #[test]
    fn creating_a_crd_registers_its_resource() {
        let mut store = Store::new(Registry::builtin(), 10);
        let info = store
            .registry
            .find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .unwrap();
        let crd = json!({"metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": true}]}});
        store.commit(&info, "widgets.example.com", EventType::Added, crd.clone());
        assert!(store
            .registry
            .find("example.com", "v1", "widgets")
            .is_some());
        store.commit(&info, "widgets.example.com", EventType::Deleted, crd);
        assert!(store
            .registry
            .find("example.com", "v1", "widgets")
            .is_none());
    }
}
