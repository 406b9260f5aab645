//! kinformer-cache: the informer pipeline's core, without HTTP.
//!
//! A [`Reflector`] lists and watches through a [`ListWatch`] and writes what it sees into a
//! [`DeltaFifo`]; an informer pops the deltas and applies them to an [`Indexer`], the cache
//! listers read from. Start reading at `store` (the [`Store`] trait and [`Indexer`]), then
//! `thread_safe_store` (the sharded map under it) and `index` (index functions), then
//! `delta_fifo`, `list_watch` and `reflector`.

pub mod delta_fifo;
pub mod error;
pub mod index;
pub mod list_watch;
pub mod reflector;
pub mod store;
pub mod thread_safe_store;

#[cfg(test)]
mod testing;

pub use delta_fifo::{
    DeletedFinalStateUnknown, Delta, DeltaFifo, DeltaFifoConfig, DeltaObject, DeltaType, Deltas,
    PopError, ProcessError, TransformError, TransformFunc,
};
pub use error::{Error, Result};
pub use index::{
    index_func, meta_namespace_index_func, namespace_indexers, IndexError, IndexFunc, Indexers,
    NAMESPACE_INDEX,
};
pub use list_watch::{ApiListWatch, DynamicListWatch, FakeListWatch, ListWatch, WatchEventStream};
pub use reflector::{
    BackoffConfig, MetricsSnapshot, Reflector, ReflectorConfig, ReflectorMetrics, WatchErrorHandler,
};
pub use store::{meta_namespace_key_func, Indexer, KeyError, KeyFunc, Store};
pub use thread_safe_store::ThreadSafeStore;

