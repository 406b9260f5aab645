//! `MetadataSharedInformerFactory`: informers that cache only type and metadata
//! ([`PartialObjectMetadata`]) of any resource, for controllers that need names, labels and
//! owners but not bodies (client-go's `metadatainformer`).
//!
//! The cache keeps metadata only, so it is much smaller than a typed or dynamic one. The
//! objects are still fetched whole and reduced on arrival: asking the server for metadata only
//! (`Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`) needs support
//! in the client's request building and in the fake API server, which neither has yet.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kinformer_cache::{ListWatch, Lister, SharedIndexInformer, WatchEventStream};
use kinformer_client::dynamic::{DynamicClient, DynamicResource};
use kinformer_dynamic::DynamicObject;
use kinformer_meta::{
    ApiResource, ListOptions, ObjectList, PartialObjectMetadata, TypeMeta, WatchEvent,
};

use crate::error::Result;
use crate::informer_set::{informer_set_methods, FactoryInner};
use crate::list_watch::{tweaked, TweakListOptions};
use crate::options::FactoryOptions;

/// Shared metadata-only informers, one per resource. Clones share the factory.
#[derive(Clone)]
pub struct MetadataSharedInformerFactory {
    inner: Arc<FactoryInner<DynamicClient>>,
}

impl MetadataSharedInformerFactory {
    /// A factory over `client` with options.
    pub fn new(client: DynamicClient, options: FactoryOptions) -> Self {
        MetadataSharedInformerFactory {
            inner: FactoryInner::new(client, options),
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
                types: TypeMeta::new(resource.api_version(), &resource.kind),
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

/// Lists and watches a resource and keeps only type and metadata of each object.
struct MetadataListWatch {
    resource: DynamicResource,
    types: TypeMeta,
    tweak: Option<TweakListOptions>,
}

fn reduce(object: DynamicObject, types: &TypeMeta) -> PartialObjectMetadata {
    let types = match object.types {
        Some(own) if !own.is_incomplete() => own,
        _ => types.clone(),
    };
    PartialObjectMetadata {
        types,
        metadata: object.metadata,
    }
}

impl ListWatch<PartialObjectMetadata> for MetadataListWatch {
    fn list(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ObjectList<PartialObjectMetadata>, kinformer_client::Error>>
    {
        let resource = self.resource.clone();
        let types = self.types.clone();
        let options = tweaked(&self.tweak, options);
        async move {
            let list = resource.list(&options).await?;
            Ok(ObjectList {
                metadata: list.metadata,
                items: list
                    .items
                    .into_iter()
                    .map(|item| reduce(item, &types))
                    .collect(),
            })
        }
        .boxed()
    }

    fn watch(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<WatchEventStream<PartialObjectMetadata>, kinformer_client::Error>>
    {
        let resource = self.resource.clone();
        let types = self.types.clone();
        let options = tweaked(&self.tweak, options);
        async move {
            let stream = resource.watch(&options).await?;
            let reduced = stream.map(move |event| {
                event.map(|event| match event {
                    WatchEvent::Added(o) => WatchEvent::Added(reduce(o, &types)),
                    WatchEvent::Modified(o) => WatchEvent::Modified(reduce(o, &types)),
                    WatchEvent::Deleted(o) => WatchEvent::Deleted(reduce(o, &types)),
                    WatchEvent::Bookmark(bookmark) => WatchEvent::Bookmark(bookmark),
                    WatchEvent::Error(status) => WatchEvent::Error(status),
                })
            });
            Ok(reduced.boxed())
        }
        .boxed()
    }
}
