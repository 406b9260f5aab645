//! Listers: read-only views of an informer's cache, by label selector and namespace, with
//! client-go's `Lister` / `NamespaceLister` shapes. Every read is served from the cache; no
//! lister ever makes a network call.

use std::fmt;
use std::sync::Arc;

use kinformer_meta::labels::Selector;
use kinformer_meta::{GroupResource, Object};

use crate::index::NAMESPACE_INDEX;
use crate::store::{Indexer, Store};

/// A lookup found no object of that name in the cache.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{resource} {name:?} not found")]
pub struct NotFoundError {
    /// The group/resource looked in (`configmaps`, `deployments.apps`).
    pub resource: GroupResource,
    /// The name asked for (without namespace).
    pub name: String,
}

/// Lists and gets the objects of one informer's cache, typed or dynamic alike.
pub struct Lister<K> {
    indexer: Arc<Indexer<K>>,
    resource: GroupResource,
}

impl<K> Clone for Lister<K> {
    fn clone(&self) -> Self {
        Lister {
            indexer: self.indexer.clone(),
            resource: self.resource.clone(),
        }
    }
}

impl<K> fmt::Debug for Lister<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lister")
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

impl<K: Object> Lister<K> {
    /// A lister over `indexer`; `resource` names the cache in not-found errors.
    pub fn new(indexer: Arc<Indexer<K>>, resource: GroupResource) -> Self {
        Lister { indexer, resource }
    }

    /// The group/resource this lister serves.
    pub fn resource(&self) -> &GroupResource {
        &self.resource
    }

    /// The cache under the lister.
    pub fn indexer(&self) -> &Arc<Indexer<K>> {
        &self.indexer
    }

    /// Every cached object whose labels match `selector`, sorted by key.
    pub fn list(&self, selector: &Selector) -> Vec<Arc<K>> {
        sorted(filter(self.indexer.list(), selector))
    }

    /// A cluster-scoped object by name.
    pub fn get(&self, name: &str) -> Result<Arc<K>, NotFoundError> {
        self.indexer
            .get_by_key(name)
            .ok_or_else(|| self.not_found(name))
    }

    /// A view of one namespace.
    pub fn namespace(&self, namespace: &str) -> NamespaceLister<K> {
        NamespaceLister {
            lister: self.clone(),
            namespace: namespace.to_owned(),
        }
    }

    fn not_found(&self, name: &str) -> NotFoundError {
        NotFoundError {
            resource: self.resource.clone(),
            name: name.to_owned(),
        }
    }
}

/// The objects of one namespace in an informer's cache.
pub struct NamespaceLister<K> {
    lister: Lister<K>,
    namespace: String,
}

impl<K> fmt::Debug for NamespaceLister<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamespaceLister")
            .field("resource", &self.lister.resource)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl<K: Object> NamespaceLister<K> {
    /// The namespace viewed.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The namespace's objects whose labels match `selector`, sorted by key; found through the
    /// namespace index (a scan when the cache has no such index).
    pub fn list(&self, selector: &Selector) -> Vec<Arc<K>> {
        let indexer = &self.lister.indexer;
        let objects = match indexer.by_index(NAMESPACE_INDEX, &self.namespace) {
            Ok(objects) => objects,
            Err(_) => indexer
                .list()
                .into_iter()
                .filter(|o| o.metadata().namespace().unwrap_or("") == self.namespace)
                .collect(),
        };
        sorted(filter(objects, selector))
    }

    /// The object `name` of this namespace.
    pub fn get(&self, name: &str) -> Result<Arc<K>, NotFoundError> {
        let key = format!("{}/{}", self.namespace, name);
        self.lister
            .indexer
            .get_by_key(&key)
            .ok_or_else(|| self.lister.not_found(name))
    }
}

fn filter<K: Object>(objects: Vec<Arc<K>>, selector: &Selector) -> Vec<Arc<K>> {
    if selector.is_everything() {
        return objects;
    }
    objects
        .into_iter()
        .filter(|o| selector.matches(&o.metadata().labels))
        .collect()
}

fn sorted<K: Object>(mut objects: Vec<Arc<K>>) -> Vec<Arc<K>> {
    objects.sort_by(|a, b| {
        let (a, b) = (a.metadata(), b.metadata());
        (a.namespace(), a.name()).cmp(&(b.namespace(), b.name()))
    });
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pod;
    use kinformer_meta::PartialObjectMetadata;

    fn lister() -> Lister<PartialObjectMetadata> {
        let indexer = Arc::new(Indexer::default());
        for object in [
            pod("ns1", "a", "1", &[("app", "web")]),
            pod("ns1", "b", "2", &[("app", "db")]),
            pod("ns2", "c", "3", &[("app", "web")]),
            pod("", "node-1", "4", &[]),
        ] {
            indexer.add(object).unwrap();
        }
        Lister::new(indexer, GroupResource::new("", "pods"))
    }

    fn names(objects: &[Arc<PartialObjectMetadata>]) -> Vec<&str> {
        objects.iter().map(|o| o.metadata.name()).collect()
    }

    #[test]
    fn list_filters_by_label_selector_across_namespaces() {
        let lister = lister();
        let web = Selector::parse("app=web").unwrap();
        assert_eq!(names(&lister.list(&web)), ["a", "c"]);
        assert_eq!(lister.list(&Selector::everything()).len(), 4);
    }

    #[test]
    fn namespace_list_uses_only_that_namespace() {
        let lister = lister();
        let ns1 = lister.namespace("ns1");
        assert_eq!(names(&ns1.list(&Selector::everything())), ["a", "b"]);
        assert_eq!(
            names(&ns1.list(&Selector::parse("app!=web").unwrap())),
            ["b"]
        );
        assert!(lister
            .namespace("empty")
            .list(&Selector::everything())
            .is_empty());
    }

    #[test]
    fn get_finds_by_name_or_names_the_resource_in_the_error() {
        let lister = lister();
        assert_eq!(
            lister.namespace("ns2").get("c").unwrap().metadata.name(),
            "c"
        );
        assert_eq!(lister.get("node-1").unwrap().metadata.name(), "node-1");
        let error = lister.namespace("ns2").get("a").unwrap_err();
        assert_eq!(error.resource, GroupResource::new("", "pods"));
        assert_eq!(error.to_string(), "pods \"a\" not found");
        let apps = Lister::<PartialObjectMetadata>::new(
            Arc::new(Indexer::default()),
            GroupResource::new("apps", "deployments"),
        );
        assert_eq!(
            apps.namespace("ns").get("web").unwrap_err().to_string(),
            "deployments.apps \"web\" not found"
        );
    }

    #[test]
    fn namespace_list_scans_when_the_cache_has_no_namespace_index() {
        let indexer = Arc::new(Indexer::new(
            crate::store::meta_namespace_key_func(),
            Default::default(),
        ));
        indexer.add(pod("ns1", "a", "1", &[])).unwrap();
        indexer.add(pod("ns2", "b", "1", &[])).unwrap();
        let lister = Lister::new(indexer, GroupResource::new("", "pods"));
        assert_eq!(
            names(&lister.namespace("ns2").list(&Selector::everything())),
            ["b"]
        );
    }
}
