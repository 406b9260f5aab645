//! The processing side of an informer: applying popped deltas to the cache before anyone is
//! told (client-go's `processDeltas`), and [`Controller`], the handle `new_informer` returns.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use kinformer_meta::{GroupResource, Object};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::delta_fifo::{DeltaFifo, DeltaType, Deltas, FifoReplace};
use crate::error::{Error, Result};
use crate::processor::{distribute, Audience, Listener, Notification};
use crate::shared_informer::{
    CacheSyncError, ResourceEventHandlerRegistration, SharedIndexInformer,
};
use crate::store::{Indexer, Replacing, Store};

/// Runs an informer made by `new_informer` / `new_indexer_informer` (client-go's
/// `Controller`).
///
/// Unlike client-go's, the handler runs on its own task; [`Self::has_synced`] and
/// [`Self::wait_for_cache_sync`] therefore also wait until the handler has handled the initial
/// list, so "synced" means the same as there.
pub struct Controller<K> {
    informer: SharedIndexInformer<K>,
    registration: Option<ResourceEventHandlerRegistration<K>>,
}

impl<K> Clone for Controller<K> {
    fn clone(&self) -> Self {
        Controller {
            informer: self.informer.clone(),
            registration: self.registration.clone(),
        }
    }
}

impl<K: Object> Controller<K> {
    pub(crate) fn new(
        informer: SharedIndexInformer<K>,
        registration: Option<ResourceEventHandlerRegistration<K>>,
    ) -> Self {
        Controller {
            informer,
            registration,
        }
    }

    /// Lists, watches and calls the handler until `cancel` fires; then empties the cache.
    pub async fn run(&self, cancel: CancellationToken) {
        self.informer.run(cancel).await
    }

    /// Spawns [`Self::run`] on the current runtime.
    pub fn start(&self, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
        self.informer.start(cancel)
    }

    /// True once the first list is in the store and the handler has handled it.
    pub fn has_synced(&self) -> bool {
        match &self.registration {
            Some(registration) => registration.has_synced(),
            None => self.informer.has_synced(),
        }
    }

    /// Waits until [`Self::has_synced`]; fails with the reason as
    /// [`SharedIndexInformer::wait_for_cache_sync`] does.
    pub async fn wait_for_cache_sync(
        &self,
        timeout: Option<Duration>,
    ) -> Result<(), CacheSyncError> {
        match &self.registration {
            Some(registration) => registration.wait_for_cache_sync(timeout).await,
            None => self.informer.wait_for_cache_sync(timeout).await,
        }
    }

    /// The resourceVersion the store was last synchronised to.
    pub fn last_sync_resource_version(&self) -> String {
        self.informer.last_sync_resource_version()
    }

    /// The shared informer underneath (for listers and more handlers).
    pub fn informer(&self) -> &SharedIndexInformer<K> {
        &self.informer
    }
}

/// Applies one key's deltas to the cache, oldest first, and distributes a notification for
/// each after the cache holds it. Add or update is decided by the cache's content; a `Sync`
/// reaches only listeners due for resync, and an update that keeps the resourceVersion (what a
/// relist finds for unchanged objects) only listeners that asked for resyncs.
pub(crate) fn process_deltas<K: Object>(
    indexer: &Indexer<K>,
    listeners: &[Arc<Listener<K>>],
    deltas: &Deltas<K>,
    in_initial_list: bool,
) -> Result<()> {
    // The queue's key is the cache's key (one key function serves both), so it is computed
    // once, at enqueue, and the cache shares it.
    let key = deltas.key();
    let store = indexer.thread_safe_store();
    for delta in deltas {
        if delta.kind == DeltaType::Deleted {
            store.delete(key);
            distribute(
                listeners,
                Notification::Delete(crate::processor::clone_delta_object(&delta.object)),
                Audience::All,
            );
            continue;
        }
        let Some(object) = delta.object.object() else {
            continue;
        };
        match store.get(key) {
            Some(old) => {
                store.update(key.clone(), object.clone())?;
                let audience = if delta.kind == DeltaType::Sync {
                    Audience::Syncing
                } else if same_resource_version(&*old, &**object) {
                    Audience::Resyncing
                } else {
                    Audience::All
                };
                distribute(
                    listeners,
                    Notification::Update {
                        old,
                        new: object.clone(),
                    },
                    audience,
                );
            }
            None => {
                store.add(key.clone(), object.clone())?;
                distribute(
                    listeners,
                    Notification::Add {
                        object: object.clone(),
                        is_in_initial_list: in_initial_list,
                    },
                    Audience::All,
                );
            }
        }
    }
    Ok(())
}

fn same_resource_version<K: Object>(old: &K, new: &K) -> bool {
    match (
        old.metadata().resource_version(),
        new.metadata().resource_version(),
    ) {
        (Some(a), Some(b)) => !a.is_empty() && a == b,
        _ => false,
    }
}

/// Turns a list/watch error into the reason a cache sync cannot happen, when it is one that
/// retrying will not fix by itself (401/403, 404, TLS).
pub(crate) fn classify_failure(resource: &GroupResource, error: &Error) -> Option<CacheSyncError> {
    let client = match error {
        Error::ListFailed(client) | Error::WatchStartFailed(client) => client,
        _ => return None,
    };
    let resource = resource.clone();
    if let kinformer_client::Error::Tls { .. } | kinformer_client::Error::TlsConfig { .. } = client
    {
        return Some(CacheSyncError::Tls {
            resource,
            message: client.to_string(),
        });
    }
    let message = client
        .status()
        .and_then(|status| status.message.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| client.to_string());
    match client.code() {
        Some(code @ (401 | 403)) => Some(CacheSyncError::Forbidden {
            resource,
            code,
            message,
        }),
        Some(404) => Some(CacheSyncError::UnknownResource { resource, message }),
        _ => None,
    }
}

/// How many keys an informer's queue holds before a streaming relist waits for the
/// processing loop: enough to keep both sides busy, small against any cache worth streaming.
pub(crate) const REPLACE_QUEUE_BOUND: usize = 512;

/// The informer's streaming replace: the queue's, plus the wake-up when it finishes.
struct NotifyingReplace<'a, K> {
    inner: FifoReplace<'a, K>,
    replaced: &'a Notify,
}

impl<K: Object> Replacing<K> for NotifyingReplace<'_, K> {
    fn push(&mut self, object: Arc<K>) -> Result<()> {
        self.inner.push(object)
    }
    fn ready(&mut self) -> Option<BoxFuture<'_, ()>> {
        Replacing::ready(&mut self.inner)
    }
    fn finish(self: Box<Self>, resource_version: &str) -> Result<()> {
        let NotifyingReplace { inner, replaced } = *self;
        let result = inner.finish(resource_version);
        replaced.notify_one();
        result
    }
}

/// The reflector's store: the informer's queue, plus a wake-up after each replace so the
/// processing loop notices a sync that needs no pop (an empty first list).
pub(crate) struct NotifyingStore<K> {
    fifo: Arc<DeltaFifo<K>>,
    replaced: Arc<Notify>,
}

impl<K> NotifyingStore<K> {
    pub(crate) fn new(fifo: Arc<DeltaFifo<K>>, replaced: Arc<Notify>) -> Self {
        NotifyingStore { fifo, replaced }
    }
}

impl<K: Object> Store<K> for NotifyingStore<K> {
    fn add(&self, object: Arc<K>) -> Result<()> {
        self.fifo.add(object)
    }
    fn update(&self, object: Arc<K>) -> Result<()> {
        self.fifo.update(object)
    }
    fn delete(&self, object: Arc<K>) -> Result<()> {
        self.fifo.delete(object)
    }
    fn replace(&self, objects: Vec<Arc<K>>, resource_version: &str) -> Result<()> {
        let result = self.fifo.replace(objects, resource_version);
        self.replaced.notify_one();
        result
    }
    /// Queues each listed object at once, waiting while more than
    /// [`REPLACE_QUEUE_BOUND`] keys are queued: the processing loop applies them (freeing the
    /// objects they replace) while the list downloads.
    fn begin_replace(&self) -> Box<dyn Replacing<K> + '_> {
        Box::new(NotifyingReplace {
            inner: self.fifo.begin_replace(Some(REPLACE_QUEUE_BOUND)),
            replaced: &self.replaced,
        })
    }
    fn resync(&self) -> Result<()> {
        self.fifo.resync()
    }
    fn begin_batch(&self) {
        self.fifo.begin_batch()
    }
    fn end_batch(&self) {
        self.fifo.end_batch()
    }
    fn update_resource_version(&self, resource_version: &str) {
        Store::update_resource_version(&*self.fifo, resource_version)
    }
    fn list(&self) -> Vec<Arc<K>> {
        Store::list(&*self.fifo)
    }
    fn list_keys(&self) -> Vec<Arc<str>> {
        Store::list_keys(&*self.fifo)
    }
    fn get(&self, object: &K) -> Result<Option<Arc<K>>> {
        Store::get(&*self.fifo, object)
    }
    fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        Store::get_by_key(&*self.fifo, key)
    }
}
