//! The informers of one factory, by group/version/resource, whatever their object type:
//! creation on first request, start, per-resource sync results, removal and shutdown. Also what
//! every factory is built from: [`FactoryInner`] (client, options, informers) and the
//! `informer_set_methods!` macro that gives each factory its `start`, `wait_for_cache_sync`,
//! `remove`, `shutdown` and `resources`.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use kinformer_cache::{CacheSyncError, SharedIndexInformer};
use kinformer_meta::{GroupVersionResource, Object};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::options::FactoryOptions;

/// A shared informer with its object type erased.
pub(crate) trait ErasedInformer: Send + Sync + 'static {
    fn run(&self, cancel: CancellationToken) -> BoxFuture<'static, ()>;
    fn has_synced(&self) -> bool;
    fn wait_for_cache_sync(
        &self,
        timeout: Option<Duration>,
    ) -> BoxFuture<'static, Result<(), CacheSyncError>>;
    fn as_any(&self) -> &dyn Any;
}

impl<K: Object> ErasedInformer for SharedIndexInformer<K> {
    fn run(&self, cancel: CancellationToken) -> BoxFuture<'static, ()> {
        SharedIndexInformer::run(self, cancel).boxed()
    }
    fn has_synced(&self) -> bool {
        SharedIndexInformer::has_synced(self)
    }
    fn wait_for_cache_sync(
        &self,
        timeout: Option<Duration>,
    ) -> BoxFuture<'static, Result<(), CacheSyncError>> {
        let informer = self.clone();
        async move { informer.wait_for_cache_sync(timeout).await }.boxed()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct Entry {
    informer: Arc<dyn ErasedInformer>,
    running: Option<(CancellationToken, JoinHandle<()>)>,
}

#[derive(Default)]
struct State {
    entries: BTreeMap<GroupVersionResource, Entry>,
    shut_down: bool,
}

/// The informers of a factory.
#[derive(Default)]
pub(crate) struct InformerSet {
    state: Mutex<State>,
}

impl InformerSet {
    /// The informer of `gvr`, made by `make` when there is none yet.
    pub(crate) fn get_or_insert<K: Object>(
        &self,
        gvr: &GroupVersionResource,
        make: impl FnOnce() -> SharedIndexInformer<K>,
    ) -> Result<SharedIndexInformer<K>> {
        let mut state = self.lock();
        if state.shut_down {
            return Err(Error::ShutDown);
        }
        let entry = state.entries.entry(gvr.clone()).or_insert_with(|| Entry {
            informer: Arc::new(make()),
            running: None,
        });
        downcast(entry.informer.as_ref(), gvr)
    }

    /// The resources with an informer.
    pub(crate) fn resources(&self) -> Vec<GroupVersionResource> {
        self.lock().entries.keys().cloned().collect()
    }

    /// Spawns every informer not started yet; each stops when `cancel` fires (or on removal).
    pub(crate) fn start(&self, cancel: &CancellationToken) {
        let mut state = self.lock();
        for entry in state.entries.values_mut() {
            if entry.running.is_none() {
                let token = cancel.child_token();
                let handle = tokio::spawn(entry.informer.run(token.clone()));
                entry.running = Some((token, handle));
            }
        }
    }

    /// Waits for every started informer's cache; one result per resource.
    pub(crate) async fn wait_for_cache_sync(
        &self,
        timeout: Option<Duration>,
    ) -> BTreeMap<GroupVersionResource, Result<(), CacheSyncError>> {
        let waits: Vec<_> = self
            .lock()
            .entries
            .iter()
            .filter(|(_, entry)| entry.running.is_some())
            .map(|(gvr, entry)| (gvr.clone(), entry.informer.wait_for_cache_sync(timeout)))
            .collect();
        let (resources, waits): (Vec<_>, Vec<_>) = waits.into_iter().unzip();
        let results = futures::future::join_all(waits).await;
        resources.into_iter().zip(results).collect()
    }

    /// Stops and forgets the informer of `gvr`, waiting until it has let go of its cache.
    /// False when there was none.
    pub(crate) async fn remove(&self, gvr: &GroupVersionResource) -> bool {
        let Some(entry) = self.lock().entries.remove(gvr) else {
            return false;
        };
        stop(entry).await;
        true
    }

    /// Stops every informer and waits for them; the set makes no more informers.
    pub(crate) async fn shutdown(&self) {
        let entries = {
            let mut state = self.lock();
            state.shut_down = true;
            std::mem::take(&mut state.entries)
        };
        for entry in entries.into_values() {
            stop(entry).await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the clones of a factory share: the client its list-watches are built from, its options
/// and its informers.
pub(crate) struct FactoryInner<C> {
    pub(crate) client: C,
    pub(crate) options: FactoryOptions,
    pub(crate) informers: InformerSet,
}

impl<C> FactoryInner<C> {
    /// A factory state with no informers yet.
    pub(crate) fn new(client: C, options: FactoryOptions) -> Arc<Self> {
        Arc::new(FactoryInner {
            client,
            options,
            informers: InformerSet::default(),
        })
    }
}

/// Generates the methods every factory has, which act on all its informers at once and so do
/// not depend on the object type: `start`, `wait_for_cache_sync`, `remove`, `shutdown` and
/// `resources`. The factory must keep its [`FactoryInner`] in a field named `inner`.
macro_rules! informer_set_methods {
    () => {
        /// Starts every informer requested and not started yet; each stops when `cancel` fires.
        /// Informers requested later need another `start`.
        pub fn start(&self, cancel: &::tokio_util::sync::CancellationToken) {
            self.inner.informers.start(cancel)
        }

        /// Waits for every started informer's cache; one result per resource (a failure names
        /// its reason, see
        /// [`SharedIndexInformer::wait_for_cache_sync`](kinformer_cache::SharedIndexInformer::wait_for_cache_sync)).
        pub async fn wait_for_cache_sync(
            &self,
            timeout: Option<::std::time::Duration>,
        ) -> ::std::collections::BTreeMap<
            ::kinformer_meta::GroupVersionResource,
            ::std::result::Result<(), ::kinformer_cache::CacheSyncError>,
        > {
            self.inner.informers.wait_for_cache_sync(timeout).await
        }

        /// Stops the informer of `gvr`, waits until it has freed its cache, and forgets it; the
        /// others keep running. False when there was none.
        pub async fn remove(&self, gvr: &::kinformer_meta::GroupVersionResource) -> bool {
            self.inner.informers.remove(gvr).await
        }

        /// Stops every informer and waits until each has freed its cache; the factory makes no
        /// more informers ([`Error::ShutDown`](crate::Error::ShutDown)).
        pub async fn shutdown(&self) {
            self.inner.informers.shutdown().await
        }

        /// The resources that have an informer.
        pub fn resources(&self) -> Vec<::kinformer_meta::GroupVersionResource> {
            self.inner.informers.resources()
        }
    };
}
pub(crate) use informer_set_methods;

/// `informer` as a shared informer of `K` objects; [`Error::TypeMismatch`] naming `gvr` for
/// another object type.
pub(crate) fn downcast<K: Object>(
    informer: &dyn ErasedInformer,
    gvr: &GroupVersionResource,
) -> Result<SharedIndexInformer<K>> {
    informer
        .as_any()
        .downcast_ref::<SharedIndexInformer<K>>()
        .cloned()
        .ok_or_else(|| Error::TypeMismatch { gvr: gvr.clone() })
}

async fn stop(entry: Entry) {
    if let Some((token, handle)) = entry.running {
        token.cancel();
        if let Err(error) = handle.await {
            tracing::warn!(%error, "informer task ended abnormally");
        }
    }
}
