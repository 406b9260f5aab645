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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kinformer_cache::{SharedInformerConfig, Store};
    use kinformer_client::{Client, Config};
    use kinformer_meta::Scope;
    use kinformer_replay::{FakeApiServer, ServerConfig};
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use super::*;

    fn config_map(name: &str) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, "data": {"k": "v"}})
    }

    fn config_maps() -> ApiResource {
        ApiResource {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            plural: "configmaps".into(),
            scope: Scope::Namespaced,
        }
    }

    /// A fake server with five ConfigMaps, and an informer over the metadata list-watch whose
    /// reflector lists pages of two (or streams the initial list, with `use_watch_list`).
    async fn synced_informer(
        use_watch_list: bool,
    ) -> (
        kinformer_replay::RunningServer,
        SharedIndexInformer<PartialObjectMetadata>,
    ) {
        let objects = (0..5).map(|i| config_map(&format!("cm-{i}")));
        let server = FakeApiServer::start(ServerConfig::default().objects(objects))
            .await
            .unwrap();
        let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
        let list_watch = MetadataListWatch {
            resource: MetadataClient::new(client)
                .resource(&config_maps())
                .namespace("default"),
            tweak: None,
        };
        let config = SharedInformerConfig::default()
            .reflector(move |r| r.page_size(2).use_watch_list(use_watch_list));
        let informer = SharedIndexInformer::new(Arc::new(list_watch), config);
        (server, informer)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn paged_lists_and_streamed_initial_lists_sync_a_metadata_cache() {
        for use_watch_list in [false, true] {
            let (server, informer) = synced_informer(use_watch_list).await;
            let cancel = CancellationToken::new();
            let running = tokio::spawn({
                let informer = informer.clone();
                let cancel = cancel.clone();
                async move { informer.run(cancel).await }
            });
            informer
                .wait_for_cache_sync(Some(Duration::from_secs(10)))
                .await
                .unwrap();
            let mut names: Vec<String> = informer
                .indexer()
                .list()
                .iter()
                .map(|o| o.metadata.name.clone().unwrap_or_default())
                .collect();
            names.sort();
            assert_eq!(
                names,
                ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"],
                "{use_watch_list}"
            );
            assert!(informer
                .indexer()
                .list()
                .iter()
                .all(|o| o.types.api_version == "v1" && o.types.kind == "ConfigMap"));
            server.handle().create(config_map("cm-5")).unwrap();
            let mut grew = false;
            for _ in 0..500 {
                if informer.indexer().len() == 6 {
                    grew = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(
                grew,
                "the watch after the {use_watch_list} list delivered nothing"
            );
            cancel.cancel();
            running.await.unwrap();
            server.shutdown().await;
        }
    }
}
