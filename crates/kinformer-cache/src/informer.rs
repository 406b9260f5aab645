//! The seed's `NewInformer` and `NewIndexerInformer`: an informer with one handler, returning
//! the cache and the [`Controller`] that runs it.

use std::sync::Arc;
use std::time::Duration;

use kinformer_meta::{GroupResource, Object};

use crate::controller::Controller;
use crate::handler::ResourceEventHandler;
use crate::index::{namespace_indexers, Indexers};
use crate::list_watch::ListWatch;
use crate::shared_informer::{SharedIndexInformer, SharedInformerConfig};
use crate::store::Indexer;

/// client-go's `NewInformer`: a cache of `list_watch`'s resource and a controller that keeps it
/// current and calls `handler` for every change (after the cache holds it). With
/// `resync_period`, the handler also gets a no-op update per object that often.
///
/// The cache is an [`Indexer`] with the namespace index; read it with `Store::list` or a
/// [`crate::Lister`].
pub fn new_informer<K: Object>(
    list_watch: Arc<dyn ListWatch<K>>,
    resource: GroupResource,
    resync_period: Option<Duration>,
    handler: impl ResourceEventHandler<K>,
) -> (Arc<Indexer<K>>, Controller<K>) {
    new_indexer_informer(
        list_watch,
        resource,
        resync_period,
        handler,
        namespace_indexers(),
    )
}

/// client-go's `NewIndexerInformer`: [`new_informer`] with the given index functions.
pub fn new_indexer_informer<K: Object>(
    list_watch: Arc<dyn ListWatch<K>>,
    resource: GroupResource,
    resync_period: Option<Duration>,
    handler: impl ResourceEventHandler<K>,
    indexers: Indexers<K>,
) -> (Arc<Indexer<K>>, Controller<K>) {
    let informer = SharedIndexInformer::new(
        list_watch,
        SharedInformerConfig::default()
            .resource(resource)
            .indexers(indexers),
    );
    // A fresh informer takes handlers; this cannot fail.
    let registration = informer
        .add_event_handler_with_resync(handler, resync_period)
        .ok();
    let indexer = informer.indexer().clone();
    (indexer, Controller::new(informer, registration))
}
