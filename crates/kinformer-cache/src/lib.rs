//! kinformer-cache: the informer pipeline's core, without HTTP.
//!
//! A [`Reflector`] lists and watches through a [`ListWatch`] and writes what it sees into a
//! [`DeltaFifo`]; an informer pops the deltas and applies them to an [`Indexer`], the cache
//! listers read from. Start reading at `store` (the [`Store`] trait and [`Indexer`]), then
//! `thread_safe_store` (the sharded map under it) and `index` (index functions), then
//! `delta_fifo`, `list_watch` and `reflector`.
//!
//! The pipeline by hand, on the in-memory [`FakeListWatch`] (informers wrap exactly this):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::sync::Arc;
//! use kinformer_cache::{
//!     DeltaFifo, DeltaFifoConfig, DeltaType, FakeListWatch, Indexer, ProcessError, Reflector,
//!     ReflectorConfig, Store,
//! };
//! use kinformer_meta::{ObjectMeta, PartialObjectMetadata};
//! use tokio_util::sync::CancellationToken;
//!
//! let server = FakeListWatch::<PartialObjectMetadata>::new();
//! server.create(PartialObjectMetadata {
//!     metadata: ObjectMeta {
//!         name: Some("web".into()),
//!         namespace: Some("default".into()),
//!         ..ObjectMeta::default()
//!     },
//!     ..PartialObjectMetadata::default()
//! });
//!
//! // The cache, and the queue that decides deletions against it.
//! let cache = Arc::new(Indexer::default());
//! let fifo = Arc::new(DeltaFifo::new(DeltaFifoConfig::default().known_objects(cache.clone())));
//! let reflector = Arc::new(Reflector::new(
//!     Arc::new(server.clone()),
//!     fifo.clone(),
//!     ReflectorConfig::default(),
//! ));
//! let cancel = CancellationToken::new();
//! let running = tokio::spawn({
//!     let (reflector, cancel) = (reflector.clone(), cancel.clone());
//!     async move { reflector.run(cancel).await }
//! });
//!
//! // One turn of an informer's loop: pop a key's deltas and apply them to the cache.
//! fifo.pop(|deltas, _in_initial_list| -> Result<(), ProcessError<()>> {
//!     for delta in deltas {
//!         match (delta.kind, delta.object.object()) {
//!             (DeltaType::Deleted, _) => {
//!                 cache.thread_safe_store().delete(deltas.key());
//!             }
//!             (_, Some(object)) => cache.update(object.clone()).expect("indexable"),
//!             (_, None) => {}
//!         }
//!     }
//!     Ok(())
//! })
//! .await
//! .unwrap();
//! assert!(cache.get_by_key("default/web").is_some());
//! assert!(fifo.has_synced());
//!
//! cancel.cancel();
//! running.await.unwrap();
//! # }
//! ```

pub mod delta_fifo;
pub mod error;
pub mod index;
pub mod list_watch;
pub mod reflector;
pub mod store;
pub mod thread_safe_store;

pub mod controller;
pub mod handler;
pub mod informer;
pub mod lister;
mod processor;
pub mod shared_informer;

#[cfg(test)]
mod testing;

pub use delta_fifo::{
    DeletedFinalStateUnknown, Delta, DeltaFifo, DeltaFifoConfig, DeltaObject, DeltaType, Deltas,
    FifoReplace, PopError, ProcessError, TransformError, TransformFunc,
};
pub use error::{Error, Result};
pub use index::{
    index_func, meta_namespace_index_func, namespace_indexers, IndexError, IndexFunc, Indexers,
    NAMESPACE_INDEX,
};
pub use list_watch::{
    ApiListWatch, DynamicListWatch, FakeListWatch, ListEventStream, ListWatch, WatchEventStream,
};
pub use reflector::{
    BackoffConfig, MetricsSnapshot, Reflector, ReflectorConfig, ReflectorMetrics, WatchErrorHandler,
};
pub use store::{meta_namespace_key_func, Indexer, KeyError, KeyFunc, Replacing, Store};
pub use thread_safe_store::ThreadSafeStore;

pub use controller::Controller;
pub use handler::{
    FilterFunc, FilteringResourceEventHandler, ResourceEventHandler, ResourceEventHandlerFuncs,
};
pub use informer::{new_indexer_informer, new_informer};
pub use lister::{Lister, NamespaceLister, NotFoundError};
pub use processor::{ListenerStats, DEFAULT_LISTENER_CAPACITY};
pub use shared_informer::{
    CacheSyncError, InformerError, ResourceEventHandlerRegistration, SharedIndexInformer,
    SharedInformerConfig,
};
