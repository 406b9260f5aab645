//! `MetadataSharedInformerFactory`: informers that cache only type and metadata
//! ([`PartialObjectMetadata`]) of any resource, for controllers that need names, labels and
//! owners but not bodies (client-go's `metadatainformer`).
//!
//! Only metadata crosses the wire: every list (each page of a paged list) and every watch
//! (bookmarks and streamed initial lists included) goes through the metadata client
//! ([`MetadataClient`]), which asks for `PartialObjectMetadataList` / `PartialObjectMetadata`
//! of `meta.k8s.io/v1`. A server that ignores the request and sends whole objects still works:
//! the client keeps only their metadata (see `kinformer_client::metadata` for that fallback
//! and its errors). The cache holds metadata only, so it is much smaller than a typed or
//! dynamic one.
//!
//! kind and apiVersion: the server labels every object `PartialObjectMetadata` /
//! `meta.k8s.io/v1`; every object this factory caches, hands to handlers and returns from
//! listers carries instead the `apiVersion` and `kind` of the resource it describes (`v1` /
//! `Pod`), as typed and dynamic informers do.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kinformer_cache::{ListWatch, Lister, SharedIndexInformer, WatchEventStream};
use kinformer_client::metadata::{MetadataClient, MetadataResource};
use kinformer_meta::{ApiResource, ListOptions, ObjectList, PartialObjectMetadata};

use crate::error::Result;
use crate::informer_set::{informer_set_methods, FactoryInner};
use crate::list_watch::{tweaked, TweakListOptions};
use crate::options::FactoryOptions;

/// Shared metadata-only informers, one per resource. Clones share the factory.
#[derive(Clone)]
pub struct MetadataSharedInformerFactory {
    inner: Arc<FactoryInner<MetadataClient>>,
}

impl MetadataSharedInformerFactory {
    /// A factory over `client` (a [`MetadataClient`], or a `Client` or `DynamicClient` to make
    /// one from) with options.
    pub fn new(client: impl Into<MetadataClient>, options: FactoryOptions) -> Self {
        MetadataSharedInformerFactory {
            inner: FactoryInner::new(client.into(), options),
        }
    }

    /// The metadata informer of `resource`, created (not started) on first request. Every
    /// cached object carries `apiVersion` and `kind` of the resource it describes.
    pub fn for_resource(
        &self,
        resource: &ApiResource,
    ) -> Result<SharedIndexInformer<PartialObjectMetadata>> {
        let gvr = resource.gvr();
        let inner = &self.inner;
        inner.informers.get_or_insert(&gvr, || {
            let list_watch = MetadataListWatch {
                resource: inner.resource(resource),
                tweak: inner.options.tweak.clone(),
            };
            SharedIndexInformer::new(
                Arc::new(list_watch),
                inner.options.informer_config(&gvr, None),
            )
        })
    }

    /// A lister over `resource`'s metadata informer (created on first request).
    pub fn lister(&self, resource: &ApiResource) -> Result<Lister<PartialObjectMetadata>> {
        Ok(self.for_resource(resource)?.lister())
    }

    // `start`, `wait_for_cache_sync`, `remove`, `shutdown` and `resources`, the same in every
    // factory.
    informer_set_methods!();
}

impl FactoryInner<MetadataClient> {
    /// The metadata client of `resource`, limited to the factory's namespace when `resource`
    /// is namespaced.
    fn resource(&self, resource: &ApiResource) -> MetadataResource {
        let target = self.client.resource(resource);
        match (&self.options.namespace, resource.is_namespaced()) {
            (Some(namespace), true) => target.namespace(namespace),
            _ => target,
        }
    }
}

/// Lists and watches a resource's metadata through the metadata client.
struct MetadataListWatch {
    resource: MetadataResource,
    tweak: Option<TweakListOptions>,
}

impl ListWatch<PartialObjectMetadata> for MetadataListWatch {
    fn list(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ObjectList<PartialObjectMetadata>, kinformer_client::Error>>
    {
        let resource = self.resource.clone();
        let options = tweaked(&self.tweak, options);
        async move { resource.list(&options).await }.boxed()
    }

    fn watch(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<WatchEventStream<PartialObjectMetadata>, kinformer_client::Error>>
    {
        let resource = self.resource.clone();
        let options = tweaked(&self.tweak, options);
        async move { Ok(resource.watch(&options).await?.boxed()) }.boxed()
    }
}
