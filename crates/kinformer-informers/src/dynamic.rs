//! `DynamicSharedInformerFactory`: shared informers for any resource, custom resources
//! included, keyed by group/version/resource, caching [`DynamicObject`]s whose `apiVersion`
//! and `kind` are always filled.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kinformer_cache::{CacheSyncError, Lister, SharedIndexInformer, TransformFunc};
use kinformer_client::dynamic::DynamicClient;
use kinformer_dynamic::DynamicObject;
use kinformer_meta::{ApiResource, GroupVersionResource};
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::informer_set::InformerSet;
use crate::list_watch::DynamicListWatch;
use crate::options::FactoryOptions;

/// Shared informers of [`DynamicObject`]s, one per resource (client-go's
/// `DynamicSharedInformerFactory`). Clones share the factory.
#[derive(Clone)]
pub struct DynamicSharedInformerFactory {
    inner: Arc<Inner>,
}

struct Inner {
    client: DynamicClient,
    options: FactoryOptions,
    informers: InformerSet,
}

impl DynamicSharedInformerFactory {
    /// A factory over `client` with options.
    pub fn new(client: DynamicClient, options: FactoryOptions) -> Self {
        DynamicSharedInformerFactory {
            inner: Arc::new(Inner {
                client,
                options,
                informers: InformerSet::default(),
            }),
        }
    }

    /// The shared informer of `resource` (from discovery or the REST mapper), created (not
    /// started) on first request. Every cached object has `apiVersion` and `kind`, taken from
    /// `resource` when the server left them out.
    pub fn for_resource(
        &self,
        resource: &ApiResource,
    ) -> Result<SharedIndexInformer<DynamicObject>> {
        let gvr = resource.gvr();
        let inner = &self.inner;
        inner.informers.get_or_insert(&gvr, || {
            let mut target = inner.client.resource(resource);
            if let (Some(namespace), true) = (&inner.options.namespace, resource.is_namespaced()) {
                target = target.namespace(namespace);
            }
            let list_watch = DynamicListWatch {
                resource: target,
                tweak: inner.options.tweak.clone(),
            };
            let types = resource.clone();
            let fill_types: TransformFunc<DynamicObject> =
                Arc::new(move |object: Arc<DynamicObject>| {
                    let complete = object.types.as_ref().is_some_and(|t| !t.is_incomplete());
                    if complete {
                        return Ok(object);
                    }
                    let mut object = Arc::unwrap_or_clone(object);
                    object.fill_types(&types);
                    Ok(Arc::new(object))
                });
            // No expected type: objects are checked after their types are filled.
            let config = inner
                .options
                .informer_config::<DynamicObject>(&gvr, Some(fill_types));
            SharedIndexInformer::new(Arc::new(list_watch), config)
        })
    }

    /// A lister over `resource`'s informer (created on first request).
    pub fn lister(&self, resource: &ApiResource) -> Result<Lister<DynamicObject>> {
        Ok(self.for_resource(resource)?.lister())
    }

    /// Starts every informer requested and not started yet; each stops when `cancel` fires.
    pub fn start(&self, cancel: &CancellationToken) {
        self.inner.informers.start(cancel)
    }

    /// Waits for every started informer's cache; one result per resource.
    pub async fn wait_for_cache_sync(
        &self,
        timeout: Option<Duration>,
    ) -> BTreeMap<GroupVersionResource, Result<(), CacheSyncError>> {
        self.inner.informers.wait_for_cache_sync(timeout).await
    }

    /// Stops the informer of `gvr`, waits until it has freed its cache, and forgets it.
    pub async fn remove(&self, gvr: &GroupVersionResource) -> bool {
        self.inner.informers.remove(gvr).await
    }

    /// Stops every informer; the factory makes no more.
    pub async fn shutdown(&self) {
        self.inner.informers.shutdown().await
    }

    /// The resources that have an informer.
    pub fn resources(&self) -> Vec<GroupVersionResource> {
        self.inner.informers.resources()
    }
}
