//! `SharedIndexInformer`: one reflector, one indexer, many handlers.
//!
//! [`SharedIndexInformer::run`] starts a [`Reflector`] that writes into a [`DeltaFifo`], and a
//! processing loop that pops the deltas, applies them to the [`Indexer`] and only then hands
//! notifications to every registered handler's listener (see `processor` for the buffer
//! policy). A handler registered while the informer runs first receives the cache's content
//! as adds flagged `is_in_initial_list`, then live changes. Stopping the informer (cancelling
//! its token) stops the reflector and the listeners and empties the cache, so its memory comes
//! back even while listers are still held.
//!
//! Differences from client-go, on purpose:
//! - [`SharedIndexInformer::wait_for_cache_sync`] fails with the reason (403, 404, TLS) instead
//!   of waiting forever, and takes a timeout;
//! - an update that changes nothing (same resourceVersion, as a relist finds most objects)
//!   reaches only handlers that asked for resyncs (kubernetes issue 119646);
//! - listener buffers are bounded (back-pressure, never drops);
//! - a handler that panics is reported and skipped; the informer and the others go on.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use kinformer_meta::{GroupResource, Object, TypeMeta};
use tokio::runtime::Handle;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::controller::{classify_failure, process_deltas, NotifyingStore};
use crate::delta_fifo::{DeltaFifo, DeltaFifoConfig, PopError, ProcessError, TransformFunc};
use crate::error::Error;
use crate::handler::ResourceEventHandler;
use crate::index::{namespace_indexers, Indexers};
use crate::list_watch::ListWatch;
use crate::lister::Lister;
use crate::processor::{
    Listener, ListenerStats, Notification, SharedProcessor, DEFAULT_LISTENER_CAPACITY,
};
use crate::reflector::{MetricsSnapshot, Reflector, ReflectorConfig, WatchErrorHandler};
use crate::store::{meta_namespace_key_func, Indexer, KeyFunc, Store};

/// How many pops' notifications the processing loop may hold before it wakes the listeners.
const HELD_POPS: usize = 64;

/// Why an informer operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InformerError {
    /// The setting can only change before the informer starts.
    #[error("informer already started")]
    AlreadyStarted,
    /// The informer was stopped; it cannot run again nor take handlers.
    #[error("informer stopped")]
    Stopped,
}

/// Why [`SharedIndexInformer::wait_for_cache_sync`] returned without a synced cache.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CacheSyncError {
    /// The server refused the list (401 Unauthorized or 403 Forbidden).
    #[error("{resource}: access denied (http {code}): {message}")]
    Forbidden {
        /// The informer's resource.
        resource: GroupResource,
        /// 401 or 403.
        code: u16,
        /// The server's message.
        message: String,
    },
    /// The server does not serve this resource (404 on the list).
    #[error("{resource}: the server does not know this resource: {message}")]
    UnknownResource {
        /// The informer's resource.
        resource: GroupResource,
        /// The server's message.
        message: String,
    },
    /// The connection's TLS handshake or settings failed.
    #[error("{resource}: tls failure: {message}")]
    Tls {
        /// The informer's resource.
        resource: GroupResource,
        /// What failed.
        message: String,
    },
    /// The timeout passed first.
    #[error("{resource}: cache not synced after {waited:?} (last error: {})", last_error.as_deref().unwrap_or("none"))]
    TimedOut {
        /// The informer's resource.
        resource: GroupResource,
        /// How long the caller waited.
        waited: Duration,
        /// The last list or watch error seen, if any.
        last_error: Option<String>,
    },
    /// The informer stopped (or was never able to run) before its cache synced.
    #[error("{resource}: informer stopped before its cache synced")]
    Stopped {
        /// The informer's resource.
        resource: GroupResource,
    },
}

/// A change to the reflector's settings, applied when the informer starts.
type AdjustReflector<K> = Box<dyn FnOnce(ReflectorConfig<K>) -> ReflectorConfig<K> + Send>;

/// Settings of a [`SharedIndexInformer`], with chained setters.
pub struct SharedInformerConfig<K> {
    resource: GroupResource,
    default_resync: Option<Duration>,
    indexers: Indexers<K>,
    key_func: KeyFunc<K>,
    listener_capacity: usize,
    expected_type: Option<TypeMeta>,
    transform: Option<TransformFunc<K>>,
    reflector: Option<AdjustReflector<K>>,
}

impl<K: Object> Default for SharedInformerConfig<K> {
    fn default() -> Self {
        SharedInformerConfig {
            resource: GroupResource::default(),
            default_resync: None,
            indexers: namespace_indexers(),
            key_func: meta_namespace_key_func(),
            listener_capacity: DEFAULT_LISTENER_CAPACITY,
            expected_type: None,
            transform: None,
            reflector: None,
        }
    }
}

impl<K> SharedInformerConfig<K> {
    /// The group/resource served (names the informer in logs and errors).
    pub fn resource(mut self, resource: GroupResource) -> Self {
        self.resource = resource;
        self
    }

    /// The resync period of handlers added without one (default none).
    pub fn default_resync(mut self, period: Option<Duration>) -> Self {
        self.default_resync = period.filter(|p| !p.is_zero());
        self
    }

    /// The index functions (default: the namespace index).
    pub fn indexers(mut self, indexers: Indexers<K>) -> Self {
        self.indexers = indexers;
        self
    }

    /// The cache key function (default `namespace/name`).
    pub fn key_func(mut self, key_func: KeyFunc<K>) -> Self {
        self.key_func = key_func;
        self
    }

    /// How many live notifications each handler's buffer holds before back-pressure.
    pub fn listener_capacity(mut self, capacity: usize) -> Self {
        self.listener_capacity = capacity.max(1);
        self
    }

    /// Drops watched objects of another apiVersion/kind (the reflector logs them).
    pub fn expected_type(mut self, type_meta: TypeMeta) -> Self {
        self.expected_type = Some(type_meta);
        self
    }

    /// A transform applied to each object before it is cached.
    pub fn transform(mut self, transform: TransformFunc<K>) -> Self {
        self.transform = Some(transform);
        self
    }

    /// Adjusts the reflector's settings (backoff, page size, watch list) before it starts.
    pub fn reflector(
        mut self,
        adjust: impl FnOnce(ReflectorConfig<K>) -> ReflectorConfig<K> + Send + 'static,
    ) -> Self {
        self.reflector = Some(Box::new(adjust));
        self
    }
}

/// One reflector, one indexer, many handlers. Clones share the informer.
///
/// ```
/// use std::sync::Arc;
/// use kinformer_cache::{FakeListWatch, ListWatch, ResourceEventHandlerFuncs, SharedIndexInformer, SharedInformerConfig};
/// use kinformer_meta::{labels::Selector, ObjectMeta, PartialObjectMetadata};
/// use tokio_util::sync::CancellationToken;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let source = FakeListWatch::new();
/// source.create(PartialObjectMetadata {
///     metadata: ObjectMeta { name: Some("a".into()), namespace: Some("ns".into()), ..Default::default() },
///     ..Default::default()
/// });
/// let list_watch: Arc<dyn ListWatch<PartialObjectMetadata>> = Arc::new(source);
/// let informer = SharedIndexInformer::new(list_watch, SharedInformerConfig::default());
/// let registration = informer
///     .add_event_handler(ResourceEventHandlerFuncs::default().add_func(
///         |object: Arc<PartialObjectMetadata>, initial| println!("Add: {} {initial}", object.metadata.name()),
///     ))
///     .unwrap();
/// let cancel = CancellationToken::new();
/// let running = informer.start(cancel.clone());
/// registration.wait_for_cache_sync(None).await.unwrap();
/// assert_eq!(informer.lister().namespace("ns").list(&Selector::everything()).len(), 1);
/// cancel.cancel();
/// running.await.unwrap();
/// assert!(informer.indexer().is_empty()); // stopping frees the cache
/// # }
/// ```
pub struct SharedIndexInformer<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for SharedIndexInformer<K> {
    fn clone(&self) -> Self {
        SharedIndexInformer {
            shared: self.shared.clone(),
        }
    }
}

/// A handler's registration: its sync state and counters, and the handle to remove it.
pub struct ResourceEventHandlerRegistration<K> {
    listener: Arc<Listener<K>>,
    shared: Weak<Shared<K>>,
}

impl<K> Clone for ResourceEventHandlerRegistration<K> {
    fn clone(&self) -> Self {
        ResourceEventHandlerRegistration {
            listener: self.listener.clone(),
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Running,
    Stopped,
}

#[derive(Clone, Debug, Default)]
struct SyncStatus {
    synced: bool,
    failure: Option<CacheSyncError>,
    last_error: Option<String>,
    stopped: bool,
}

struct Pending<K> {
    transform: Option<TransformFunc<K>>,
    watch_error_handler: Option<WatchErrorHandler>,
    reflector: Option<AdjustReflector<K>>,
}

pub(crate) struct Shared<K> {
    list_watch: Arc<dyn ListWatch<K>>,
    indexer: Arc<Indexer<K>>,
    processor: SharedProcessor<K>,
    resource: GroupResource,
    default_resync: Option<Duration>,
    listener_capacity: usize,
    key_func: KeyFunc<K>,
    expected_type: Option<TypeMeta>,
    pending: Mutex<Pending<K>>,
    phase: Mutex<Phase>,
    runtime: Mutex<Option<Handle>>,
    status: watch::Sender<SyncStatus>,
    handlers_changed: Notify,
    /// The running reflector (for its resourceVersion and counters).
    reflector: Mutex<Option<Arc<Reflector<K>>>>,
}

impl<K: Object> SharedIndexInformer<K> {
    /// An informer over `list_watch`; nothing runs until [`Self::run`].
    pub fn new(list_watch: Arc<dyn ListWatch<K>>, config: SharedInformerConfig<K>) -> Self {
        let indexer = Arc::new(Indexer::new(config.key_func.clone(), config.indexers));
        SharedIndexInformer {
            shared: Arc::new(Shared {
                list_watch,
                indexer,
                processor: SharedProcessor::default(),
                resource: config.resource,
                default_resync: config.default_resync,
                listener_capacity: config.listener_capacity,
                key_func: config.key_func,
                expected_type: config.expected_type,
                pending: Mutex::new(Pending {
                    transform: config.transform,
                    watch_error_handler: None,
                    reflector: config.reflector,
                }),
                phase: Mutex::new(Phase::Idle),
                runtime: Mutex::new(None),
                status: watch::Sender::new(SyncStatus::default()),
                handlers_changed: Notify::new(),
                reflector: Mutex::new(None),
            }),
        }
    }

    /// The cache (read it through [`Self::lister`] or directly).
    pub fn indexer(&self) -> &Arc<Indexer<K>> {
        &self.shared.indexer
    }

    /// A lister over the cache.
    pub fn lister(&self) -> Lister<K> {
        Lister::new(self.shared.indexer.clone(), self.shared.resource.clone())
    }

    /// The group/resource served.
    pub fn resource(&self) -> &GroupResource {
        &self.shared.resource
    }

    /// The resync period handlers get from [`Self::add_event_handler`].
    pub fn default_resync(&self) -> Option<Duration> {
        self.shared.default_resync
    }

    /// Registers a handler with the informer's default resync period.
    pub fn add_event_handler(
        &self,
        handler: impl ResourceEventHandler<K>,
    ) -> Result<ResourceEventHandlerRegistration<K>, InformerError> {
        self.add_event_handler_with_resync(handler, self.shared.default_resync)
    }

    /// Registers a handler that also receives a no-op update for every cached object each
    /// `resync_period` (`None`: never, and no no-op updates from relists either).
    ///
    /// Registered while running, the handler first gets the cache's content as adds flagged
    /// `is_in_initial_list`, then live changes.
    pub fn add_event_handler_with_resync(
        &self,
        handler: impl ResourceEventHandler<K>,
        resync_period: Option<Duration>,
    ) -> Result<ResourceEventHandlerRegistration<K>, InformerError> {
        let shared = &self.shared;
        let mut listeners = shared.processor.lock();
        let phase = lock(&shared.phase).clone();
        if phase == Phase::Stopped {
            return Err(InformerError::Stopped);
        }
        let listener = Arc::new(Listener::new(
            shared.processor.next_id(),
            Arc::new(handler),
            shared.listener_capacity,
            resync_period,
        ));
        if phase == Phase::Running {
            let mut objects = shared.indexer.list();
            objects.sort_by(|a, b| {
                let (a, b) = (a.metadata(), b.metadata());
                (a.namespace(), a.name()).cmp(&(b.namespace(), b.name()))
            });
            for object in objects {
                listener.push(Notification::Add {
                    object,
                    is_in_initial_list: true,
                });
            }
            if let Some(runtime) = lock(&shared.runtime).as_ref() {
                if listener.mark_started() {
                    runtime.spawn(listener.clone().run());
                }
            }
        }
        listeners.push(listener.clone());
        drop(listeners);
        shared.handlers_changed.notify_one();
        Ok(ResourceEventHandlerRegistration {
            listener,
            shared: Arc::downgrade(shared),
        })
    }

    /// Unregisters a handler: it receives nothing more. False when it was not registered.
    pub fn remove_event_handler(&self, registration: &ResourceEventHandlerRegistration<K>) -> bool {
        let removed = self.shared.processor.remove(registration.listener.id);
        self.shared.handlers_changed.notify_one();
        removed
    }

    /// Sets the transform applied to each object before it is cached; only before start.
    pub fn set_transform(&self, transform: TransformFunc<K>) -> Result<(), InformerError> {
        self.before_start()?;
        lock(&self.shared.pending).transform = Some(transform);
        Ok(())
    }

    /// Sets the function told about every list and watch error; only before start.
    pub fn set_watch_error_handler(
        &self,
        handler: impl Fn(&Error) + Send + Sync + 'static,
    ) -> Result<(), InformerError> {
        self.before_start()?;
        lock(&self.shared.pending).watch_error_handler = Some(Arc::new(handler));
        Ok(())
    }

    /// True once the first list has been applied to the cache and handed to the listeners.
    pub fn has_synced(&self) -> bool {
        self.shared.status.borrow().synced
    }

    /// True once the informer has been stopped.
    pub fn is_stopped(&self) -> bool {
        *lock(&self.shared.phase) == Phase::Stopped
    }

    /// The resourceVersion the cache was last synchronised to (empty before the first list).
    pub fn last_sync_resource_version(&self) -> String {
        lock(&self.shared.reflector)
            .as_ref()
            .map(|reflector| reflector.last_sync_resource_version())
            .unwrap_or_default()
    }

    /// The reflector's counters (lists, relists, watches, events, errors) while running.
    pub fn reflector_metrics(&self) -> Option<MetricsSnapshot> {
        lock(&self.shared.reflector)
            .as_ref()
            .map(|reflector| reflector.metrics().snapshot())
    }

    /// Counters of every registered handler, in registration order.
    pub fn listener_stats(&self) -> Vec<ListenerStats> {
        self.shared
            .processor
            .snapshot()
            .iter()
            .map(|l| l.stats())
            .collect()
    }

    /// Waits until the cache has synced. Fails at once, with the reason, when the list is
    /// refused (401/403), the resource is unknown (404) or TLS fails; fails when `timeout`
    /// passes first (carrying the last error seen) or when the informer stops.
    pub async fn wait_for_cache_sync(
        &self,
        timeout: Option<Duration>,
    ) -> Result<(), CacheSyncError> {
        let shared = &self.shared;
        let mut status = shared.status.subscribe();
        let resource = shared.resource.clone();
        let wait = async {
            loop {
                {
                    let now = status.borrow_and_update();
                    if now.synced {
                        return Ok(());
                    }
                    if let Some(failure) = &now.failure {
                        return Err(failure.clone());
                    }
                    if now.stopped {
                        return Err(CacheSyncError::Stopped {
                            resource: resource.clone(),
                        });
                    }
                }
                if status.changed().await.is_err() {
                    return Err(CacheSyncError::Stopped {
                        resource: resource.clone(),
                    });
                }
            }
        };
        match timeout {
            None => wait.await,
            Some(waited) => match tokio::time::timeout(waited, wait).await {
                Ok(result) => result,
                Err(_) => Err(CacheSyncError::TimedOut {
                    resource: resource.clone(),
                    waited,
                    last_error: shared.status.borrow().last_error.clone(),
                }),
            },
        }
    }

    /// Runs the informer until `cancel` fires, then stops it and empties its cache. The
    /// returned future is `'static`: spawn it, or await it. An informer runs once.
    pub fn run(&self, cancel: CancellationToken) -> impl Future<Output = ()> + Send + 'static {
        let shared = self.shared.clone();
        async move { Shared::run(shared, cancel).await }
    }

    /// Spawns [`Self::run`] on the current runtime.
    pub fn start(&self, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run(cancel))
    }

    fn before_start(&self) -> Result<(), InformerError> {
        match *lock(&self.shared.phase) {
            Phase::Idle => Ok(()),
            Phase::Running => Err(InformerError::AlreadyStarted),
            Phase::Stopped => Err(InformerError::Stopped),
        }
    }
}

impl<K: Object> ResourceEventHandlerRegistration<K> {
    /// True once the informer has synced and this handler has handled every add of its
    /// initial list (or of the cache replay it got when registered late).
    pub fn has_synced(&self) -> bool {
        let informer_synced = self
            .shared
            .upgrade()
            .is_some_and(|shared| shared.status.borrow().synced);
        informer_synced && self.listener.initial_adds_handled() && !self.listener.is_stopped()
    }

    /// Waits until [`Self::has_synced`]: the informer's cache has synced and this handler has
    /// handled its initial adds. Fails as [`SharedIndexInformer::wait_for_cache_sync`] does.
    pub async fn wait_for_cache_sync(
        &self,
        timeout: Option<Duration>,
    ) -> Result<(), CacheSyncError> {
        let Some(shared) = self.shared.upgrade() else {
            return Err(CacheSyncError::Stopped {
                resource: GroupResource::default(),
            });
        };
        let informer = SharedIndexInformer { shared };
        let resource = informer.resource().clone();
        let wait = async {
            informer.wait_for_cache_sync(None).await?;
            loop {
                let progress = self.listener.progress().notified();
                tokio::pin!(progress);
                progress.as_mut().enable();
                if self.has_synced() {
                    return Ok(());
                }
                if self.listener.is_stopped() {
                    return Err(CacheSyncError::Stopped {
                        resource: resource.clone(),
                    });
                }
                progress.await;
            }
        };
        match timeout {
            None => wait.await,
            Some(waited) => tokio::time::timeout(waited, wait)
                .await
                .unwrap_or_else(|_| {
                    Err(CacheSyncError::TimedOut {
                        resource: resource.clone(),
                        waited,
                        last_error: informer.shared.status.borrow().last_error.clone(),
                    })
                }),
        }
    }

    /// This handler's counters (pending notifications, deliveries, caught panics).
    pub fn stats(&self) -> ListenerStats {
        self.listener.stats()
    }

    /// True while the handler is registered with a live informer.
    pub fn is_active(&self) -> bool {
        !self.listener.is_stopped()
    }
}

impl<K: Object> Shared<K> {
    async fn run(self: Arc<Self>, cancel: CancellationToken) {
        {
            let mut phase = lock(&self.phase);
            if *phase != Phase::Idle {
                tracing::warn!(resource = %self.resource, "informer already ran; run ignored");
                return;
            }
            *lock(&self.runtime) = Some(Handle::current());
            *phase = Phase::Running;
        }
        let pending = {
            let mut pending = lock(&self.pending);
            Pending {
                transform: pending.transform.take(),
                watch_error_handler: pending.watch_error_handler.take(),
                reflector: pending.reflector.take(),
            }
        };
        let mut fifo_config = DeltaFifoConfig::default()
            .key_func(self.key_func.clone())
            .known_objects(self.indexer.clone() as Arc<dyn Store<K>>);
        if let Some(transform) = pending.transform {
            fifo_config = fifo_config.transform(transform);
        }
        let fifo = Arc::new(DeltaFifo::new(fifo_config));
        let replaced = Arc::new(Notify::new());
        let store = Arc::new(NotifyingStore::new(fifo.clone(), replaced.clone()));

        let weak = Arc::downgrade(&self);
        let user_handler = pending.watch_error_handler;
        let on_error: WatchErrorHandler = Arc::new(move |error: &Error| {
            if let Some(shared) = weak.upgrade() {
                shared.record_error(error);
            }
            match &user_handler {
                Some(handler) => handler(error),
                None => tracing::warn!(%error, "informer list/watch failed"),
            }
        });
        let mut reflector_config = ReflectorConfig::default()
            .name(self.resource.to_string())
            .key_func(self.key_func.clone())
            .watch_error_handler(on_error);
        if let Some(expected) = &self.expected_type {
            reflector_config = reflector_config.expected_type(expected.clone());
        }
        if let Some(adjust) = pending.reflector {
            reflector_config = adjust(reflector_config);
        }
        let reflector = Arc::new(Reflector::new(
            self.list_watch.clone(),
            store,
            reflector_config,
        ));
        *lock(&self.reflector) = Some(reflector.clone());

        let inner = cancel.child_token();
        let reflector_task = tokio::spawn({
            let reflector = reflector.clone();
            let inner = inner.clone();
            async move { reflector.run(inner).await }
        });
        {
            let listeners = self.processor.lock();
            for listener in listeners.iter() {
                if listener.mark_started() {
                    tokio::spawn(listener.clone().run());
                }
            }
        }
        let resync_task = tokio::spawn(resync_loop(
            Arc::downgrade(&self),
            fifo.clone(),
            inner.clone(),
        ));

        self.process_loop(&fifo, &replaced, &cancel).await;

        // Stop everything and give the memory back.
        inner.cancel();
        fifo.close();
        let _ = reflector_task.await;
        let _ = resync_task.await;
        *lock(&self.phase) = Phase::Stopped;
        self.processor.stop_all();
        drop(fifo);
        let _ = Store::replace(&*self.indexer, Vec::new(), "");
        *lock(&self.runtime) = None;
        *lock(&self.reflector) = None;
        self.status.send_modify(|status| {
            status.synced = false;
            status.stopped = true;
        });
        tracing::debug!(resource = %self.resource, "informer stopped; cache emptied");
    }

    async fn process_loop(
        &self,
        fifo: &DeltaFifo<K>,
        replaced: &Notify,
        cancel: &CancellationToken,
    ) {
        // Notifications of consecutive pops are handed to the listeners in one wake-up (up to
        // `HELD_POPS`), flushed whenever the loop could wait: a queue that looks empty or a
        // full listener.
        let mut held = 0;
        loop {
            if held >= HELD_POPS || fifo.is_empty_now() || !self.processor.has_space() {
                self.processor.flush();
                held = 0;
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                _ = self.processor.wait_for_space() => {}
            }
            let popped = tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                _ = replaced.notified() => {
                    self.check_synced(fifo);
                    continue;
                }
                popped = fifo.pop(|deltas, in_initial_list| {
                    let listeners = self.processor.lock();
                    process_deltas(&self.indexer, &listeners, deltas, in_initial_list)
                        .map_err(ProcessError::Failed)
                }) => popped,
            };
            held += 1;
            match popped {
                Ok(()) => {}
                Err(PopError::Closed) => {
                    self.processor.flush();
                    return;
                }
                Err(PopError::Process { key, error, .. }) => {
                    tracing::warn!(resource = %self.resource, %key, %error, "could not apply deltas");
                }
            }
            self.check_synced(fifo);
        }
    }

    fn check_synced(&self, fifo: &DeltaFifo<K>) {
        if !self.status.borrow().synced && fifo.has_synced() {
            self.status.send_modify(|status| {
                status.synced = true;
                status.failure = None;
            });
        }
    }

    fn record_error(&self, error: &Error) {
        let failure = classify_failure(&self.resource, error);
        self.status.send_modify(|status| {
            status.last_error = Some(error.to_string());
            if !status.synced {
                if let Some(failure) = failure {
                    status.failure = Some(failure);
                }
            }
        });
    }
}

async fn resync_loop<K: Object>(
    shared: Weak<Shared<K>>,
    fifo: Arc<DeltaFifo<K>>,
    cancel: CancellationToken,
) {
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let period = strong.processor.min_resync_period();
        drop(strong);
        let tick = async {
            match period {
                Some(period) => tokio::time::sleep(period).await,
                None => std::future::pending().await,
            }
        };
        let changed = async {
            match shared.upgrade() {
                Some(strong) => strong.handlers_changed.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            _ = changed => continue,
            _ = tick => {}
        }
        let Some(strong) = shared.upgrade() else {
            return;
        };
        if strong.processor.should_resync(Instant::now()) {
            if let Err(error) = fifo.resync() {
                tracing::warn!(%error, "resync failed");
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
