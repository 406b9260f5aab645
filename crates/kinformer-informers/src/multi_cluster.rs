//! `MultiClusterInformerFactory`: one [`SharedInformerFactory`] per cluster behind one handle,
//! for controllers that watch a fleet.
//!
//! Clusters join ([`add_cluster`](MultiClusterInformerFactory::add_cluster)) and leave
//! ([`remove_cluster`](MultiClusterInformerFactory::remove_cluster)) while the others keep
//! running; a cluster that leaves stops its informers and frees their caches before the call
//! returns (client-go leaves them in the process). What a controller needs on every cluster
//! (informers, handlers) is said once with
//! [`on_each_cluster`](MultiClusterInformerFactory::on_each_cluster) and applied to the clusters
//! present and to those that join later, with the cluster's name so handlers can tell events
//! apart.
//!
//! What each API server sees is what one factory costs it, whatever the number of handlers or
//! clusters: one list per resource, answered from its watch cache (`resourceVersion=0`), then
//! one watch with bookmarks that resumes from the last resourceVersion instead of relisting.
//! On the client side, initial syncs are admitted a few clusters at a time
//! ([`max_concurrent_syncs`](MultiClusterInformerFactory::max_concurrent_syncs)): a fleet
//! starting at once does not decode every cluster's full list at the same moment.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::future::join_all;
use kinformer_cache::{CacheSyncError, Lister, ResourceEventHandler};
use kinformer_client::clientset::Clientset;
use kinformer_meta::{GroupVersionResource, Resource};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::factory::SharedInformerFactory;
use crate::options::FactoryOptions;

/// How many clusters sync their initial lists at the same time unless told otherwise.
pub const DEFAULT_MAX_CONCURRENT_SYNCS: usize = 4;

/// How long an admitted cluster may hold its admission while its informers have not synced,
/// unless told otherwise
/// (a cluster that cannot be reached must not keep the others waiting).
pub const ADMISSION_TIMEOUT: Duration = Duration::from_secs(30);

/// What [`MultiClusterInformerFactory::on_each_cluster`] applies to each cluster's factory.
type Setup = Arc<dyn Fn(&str, &SharedInformerFactory) -> Result<()> + Send + Sync>;

/// The sync results of every cluster, by cluster name, then by resource.
pub type FleetSyncResults =
    BTreeMap<String, BTreeMap<GroupVersionResource, Result<(), CacheSyncError>>>;

/// Shared informers for many clusters: one [`SharedInformerFactory`] per named cluster, with
/// the same options. Clones share the fleet.
///
/// ```no_run
/// # async fn demo(east: kinformer_client::clientset::Clientset, west: kinformer_client::clientset::Clientset) -> Result<(), Box<dyn std::error::Error>> {
/// use kinformer_cache::ResourceEventHandlerFuncs;
/// use kinformer_informers::{FactoryOptions, MultiClusterInformerFactory};
/// use kinformer_typed::Pod;
/// use tokio_util::sync::CancellationToken;
///
/// let fleet = MultiClusterInformerFactory::new(FactoryOptions::default());
/// fleet.add_cluster("east", east)?;
/// fleet.add_event_handler_for::<Pod, _>(|cluster| {
///     let cluster = cluster.to_owned();
///     ResourceEventHandlerFuncs::default().add_func(move |pod: std::sync::Arc<Pod>, _| {
///         println!("{cluster}: {}", pod.metadata.name());
///     })
/// })?;
/// let cancel = CancellationToken::new();
/// fleet.start(&cancel);
/// fleet.add_cluster("west", west)?; // joins while running, gets the same handler
/// fleet.wait_for_cache_sync(None).await;
/// fleet.remove_cluster("east").await; // east's caches are freed; west keeps running
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MultiClusterInformerFactory {
    inner: Arc<Inner>,
}

struct Inner {
    options: FactoryOptions,
    sync_permits: Arc<Semaphore>,
    admission_timeout: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    clusters: BTreeMap<String, Member>,
    setups: Vec<Setup>,
    running: Option<CancellationToken>,
    shut_down: bool,
}

/// One cluster of the fleet.
struct Member {
    factory: SharedInformerFactory,
    cancel: Option<CancellationToken>,
    starter: Option<JoinHandle<()>>,
    /// True once the cluster has been admitted and its informers started.
    started: watch::Receiver<bool>,
    started_tx: Arc<watch::Sender<bool>>,
}

impl MultiClusterInformerFactory {
    /// An empty fleet whose clusters' factories all get `options`.
    pub fn new(options: FactoryOptions) -> Self {
        MultiClusterInformerFactory {
            inner: Arc::new(Inner {
                options,
                sync_permits: Arc::new(Semaphore::new(DEFAULT_MAX_CONCURRENT_SYNCS)),
                admission_timeout: ADMISSION_TIMEOUT,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Admits at most `clusters` (at least one) initial syncs at a time; the others start
    /// when one of those has synced or failed. Set it before adding clusters.
    pub fn max_concurrent_syncs(self, clusters: usize) -> Self {
        self.rebuild(|inner| inner.sync_permits = Arc::new(Semaphore::new(clusters.max(1))))
    }

    /// How long an admitted cluster may hold its admission before its informers have synced
    /// ([`ADMISSION_TIMEOUT`] unless set). Set it before adding clusters.
    pub fn admission_timeout(self, timeout: Duration) -> Self {
        self.rebuild(|inner| inner.admission_timeout = timeout)
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            options: self.inner.options.clone(),
            sync_permits: self.inner.sync_permits.clone(),
            admission_timeout: self.inner.admission_timeout,
            state: Mutex::new(std::mem::take(&mut *self.inner.lock())),
        };
        change(&mut inner);
        MultiClusterInformerFactory {
            inner: Arc::new(inner),
        }
    }

    /// The options every cluster's factory gets.
    pub fn options(&self) -> &FactoryOptions {
        &self.inner.options
    }

    /// Adds cluster `name`, served by `clientset`, applies every
    /// [`on_each_cluster`](Self::on_each_cluster) setup to its factory, and starts it when the
    /// fleet is running. [`Error::ClusterExists`] when the name is taken, the setup's error
    /// (and no cluster added) when a setup fails.
    pub fn add_cluster(
        &self,
        name: impl Into<String>,
        clientset: Clientset,
    ) -> Result<SharedInformerFactory> {
        let name = name.into();
        let mut state = self.inner.lock();
        if state.shut_down {
            return Err(Error::ShutDown);
        }
        if state.clusters.contains_key(&name) {
            return Err(Error::ClusterExists { cluster: name });
        }
        let factory = SharedInformerFactory::with_options(clientset, self.inner.options.clone());
        for setup in &state.setups {
            setup(&name, &factory)?;
        }
        let (started_tx, started) = watch::channel(false);
        let mut member = Member {
            factory: factory.clone(),
            cancel: None,
            starter: None,
            started,
            started_tx: Arc::new(started_tx),
        };
        if let Some(fleet_cancel) = state.running.clone() {
            self.inner.start_member(&mut member, &fleet_cancel);
        }
        state.clusters.insert(name, member);
        Ok(factory)
    }

    /// Stops cluster `name`'s informers, waits until they have freed their caches, and forgets
    /// the cluster; the other clusters keep running. False when there was no such cluster.
    pub async fn remove_cluster(&self, name: &str) -> bool {
        let member = self.inner.lock().clusters.remove(name);
        match member {
            Some(member) => {
                stop(member).await;
                true
            }
            None => false,
        }
    }

    /// The factory of cluster `name`.
    pub fn cluster(&self, name: &str) -> Option<SharedInformerFactory> {
        let state = self.inner.lock();
        state
            .clusters
            .get(name)
            .map(|member| member.factory.clone())
    }

    /// The names of the clusters, in order.
    pub fn clusters(&self) -> Vec<String> {
        self.inner.lock().clusters.keys().cloned().collect()
    }

    /// Applies `setup` to every cluster's factory now and to every cluster added later, with
    /// the cluster's name: the place to request informers and register handlers once for the
    /// fleet. Informers a setup requests on a running fleet start at once. The first failing
    /// cluster's error is returned; the setup stays registered for later clusters only when it
    /// succeeded everywhere.
    pub fn on_each_cluster(
        &self,
        setup: impl Fn(&str, &SharedInformerFactory) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let setup: Setup = Arc::new(setup);
        let mut state = self.inner.lock();
        if state.shut_down {
            return Err(Error::ShutDown);
        }
        for (name, member) in &state.clusters {
            setup(name, &member.factory)?;
            // A cluster still waiting for admission starts its informers when admitted.
            if let (Some(cancel), true) = (&member.cancel, *member.started.borrow()) {
                member.factory.start(cancel);
            }
        }
        state.setups.push(setup);
        Ok(())
    }

    /// Registers, on every cluster present and future, the handler `make(cluster)` builds for
    /// the shared informer of kind `K` (requesting that informer).
    pub fn add_event_handler_for<K, H>(
        &self,
        make: impl Fn(&str) -> H + Send + Sync + 'static,
    ) -> Result<()>
    where
        K: Resource,
        H: ResourceEventHandler<K>,
    {
        self.on_each_cluster(move |cluster, factory| {
            factory
                .informer_for::<K>()?
                .add_event_handler(make(cluster))
                .map(drop)
                .map_err(|_| Error::ShutDown)
        })
    }

    /// The lister of kind `K` on each cluster, by cluster name (requesting the informers):
    /// cache reads across the fleet without network calls.
    pub fn listers_for<K: Resource>(&self) -> Result<BTreeMap<String, Lister<K>>> {
        let state = self.inner.lock();
        state
            .clusters
            .iter()
            .map(|(name, member)| Ok((name.clone(), member.factory.lister_for::<K>()?)))
            .collect()
    }

    /// Starts every cluster (those added later start as they join); each stops when `cancel`
    /// fires. Clusters are admitted [`max_concurrent_syncs`](Self::max_concurrent_syncs) at a
    /// time: a cluster holds its admission until its informers have synced or failed to, for at
    /// most the [`admission_timeout`](Self::admission_timeout).
    pub fn start(&self, cancel: &CancellationToken) {
        let mut state = self.inner.lock();
        if state.shut_down {
            return;
        }
        state.running = Some(cancel.clone());
        for member in state.clusters.values_mut() {
            if member.cancel.is_none() {
                self.inner.start_member(member, cancel);
            }
        }
    }

    /// Waits until every cluster has been admitted and its started informers have synced (or
    /// failed to, or `timeout` passed); one result per resource per cluster. A cluster not yet
    /// admitted when `timeout` passes reports no resources.
    pub async fn wait_for_cache_sync(&self, timeout: Option<Duration>) -> FleetSyncResults {
        let members: Vec<(String, SharedInformerFactory, watch::Receiver<bool>)> = {
            let state = self.inner.lock();
            state
                .clusters
                .iter()
                .map(|(name, member)| {
                    (name.clone(), member.factory.clone(), member.started.clone())
                })
                .collect()
        };
        let waits = members
            .into_iter()
            .map(|(name, factory, mut started)| async move {
                let admitted = async {
                    // An error means the member was removed: nothing to wait for.
                    started.wait_for(|started| *started).await.is_ok()
                };
                let admitted = match timeout {
                    Some(timeout) => tokio::time::timeout(timeout, admitted)
                        .await
                        .unwrap_or(false),
                    None => admitted.await,
                };
                let results = if admitted {
                    factory.wait_for_cache_sync(timeout).await
                } else {
                    BTreeMap::new()
                };
                (name, results)
            });
        join_all(waits).await.into_iter().collect()
    }

    /// Stops every cluster and waits until each has freed its caches; the fleet takes no more
    /// clusters ([`Error::ShutDown`]).
    pub async fn shutdown(&self) {
        let members = {
            let mut state = self.inner.lock();
            state.shut_down = true;
            state.running = None;
            std::mem::take(&mut state.clusters)
        };
        join_all(members.into_values().map(stop)).await;
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Spawns the task that waits for the member's admission, starts its factory, and holds
    /// the admission until the factory's informers have synced or failed.
    fn start_member(&self, member: &mut Member, fleet_cancel: &CancellationToken) {
        let cancel = fleet_cancel.child_token();
        let factory = member.factory.clone();
        let permits = self.sync_permits.clone();
        let started = member.started_tx.clone();
        let task_cancel = cancel.clone();
        let admission_timeout = self.admission_timeout;
        member.starter = Some(tokio::spawn(async move {
            let permit = tokio::select! {
                permit = permits.acquire_owned() => permit,
                _ = task_cancel.cancelled() => return,
            };
            factory.start(&task_cancel);
            started.send_replace(true);
            tokio::select! {
                _ = factory.wait_for_cache_sync(Some(admission_timeout)) => {}
                _ = task_cancel.cancelled() => {}
            }
            drop(permit);
        }));
        member.cancel = Some(cancel);
    }
}

async fn stop(member: Member) {
    if let Some(cancel) = &member.cancel {
        cancel.cancel();
    }
    if let Some(starter) = member.starter {
        if let Err(error) = starter.await {
            tracing::warn!(%error, "cluster starter task ended abnormally");
        }
    }
    member.factory.shutdown().await;
}
