//! The pipelines under test, built from the real parts: the client's `Api<Pod>` (paged list
//! of 500, watch over loopback HTTP) through the cache crate's `ApiListWatch`, and either
//!
//! - `informer` (the default): a `SharedIndexInformer` (Reflector, DeltaFifo, Indexer, shared
//!   processor) with the namespace index, an `app` label index and one counting handler; or
//! - `fifo-loop`: a small list-then-watch loop written here feeding the cache's `DeltaFifo`,
//!   popped into an `Indexer` with the same indices, the handler being a counter. It was the
//!   harness's pipeline before the informer landed and stays as a lower bound for the
//!   informer's own overhead (no reflector bookkeeping, no processor hop to the handler).
//!
//! The JSON line's `pipeline` field names which one ran.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::StreamExt;
use kinformer_cache::{
    index_func, namespace_indexers, ApiListWatch, DeltaFifo, DeltaFifoConfig, DeltaObject,
    DeltaType, Indexer, Indexers, ListEventStream, ListWatch, ProcessError,
    ResourceEventHandlerFuncs, ResourceEventHandlerRegistration, SharedIndexInformer,
    SharedInformerConfig, Store, TransformError, TransformFunc, WatchEventStream,
};
use kinformer_client::api::{list_all_pages, Api};
use kinformer_client::watch::ListEvent;
use kinformer_client::Client;
use kinformer_meta::{ListOptions, Object, ObjectList, WatchEvent};
use kinformer_typed::Pod;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// Which pipeline to measure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// `SharedIndexInformer` with indices and a counting handler.
    #[default]
    Informer,
    /// A hand-written list/watch loop over `DeltaFifo` and `Indexer`.
    FifoLoop,
}

impl Kind {
    /// The name the JSON line gives this pipeline.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Informer => "informer",
            Kind::FifoLoop => "fifo-loop (api+delta_fifo+indexer)",
        }
    }
}

/// The label index the harness maintains besides the namespace index.
pub const APP_INDEX: &str = "app";

/// Progress counters the harness polls.
#[derive(Debug, Default)]
pub struct Stats {
    /// Handler calls (one per delta applied to the indexer).
    pub handled: AtomicU64,
    /// Completed lists (the first sync counts as one).
    pub lists: AtomicU64,
    /// Watch events received from the stream.
    pub received: AtomicU64,
    /// The last error, for the timeout message.
    pub last_error: Mutex<Option<String>>,
}

impl Stats {
    fn note_error(&self, error: impl std::fmt::Display) {
        if let Ok(mut slot) = self.last_error.lock() {
            *slot = Some(error.to_string());
        }
    }
}

/// A running pipeline: its cache and counters.
pub struct Pipeline {
    /// The cache.
    pub indexer: Arc<Indexer<Pod>>,
    /// Progress.
    pub stats: Arc<Stats>,
    running: Running,
}

enum Running {
    Informer {
        cancel: CancellationToken,
        task: JoinHandle<()>,
        registration: ResourceEventHandlerRegistration<Pod>,
    },
    FifoLoop {
        fifo: Arc<DeltaFifo<Pod>>,
        tasks: Vec<JoinHandle<()>>,
    },
}

/// The namespace index plus the `app` label index.
fn indexers() -> Indexers<Pod> {
    let mut indexers = namespace_indexers::<Pod>();
    indexers.insert(
        APP_INDEX.to_owned(),
        index_func(|pod: &Pod| {
            Ok(pod
                .metadata()
                .labels
                .get("app")
                .map(|app| vec![app.to_owned()])
                .unwrap_or_default())
        }),
    );
    indexers
}

/// The transform that drops managedFields.
fn drop_managed_fields() -> TransformFunc<Pod> {
    Arc::new(|pod: Arc<Pod>| {
        let mut pod = Arc::try_unwrap(pod).unwrap_or_else(|shared| (*shared).clone());
        pod.metadata_mut().managed_fields = None;
        Ok::<_, TransformError>(Arc::new(pod))
    })
}

impl Pipeline {
    /// Starts the pipeline on the current tokio runtime.
    pub fn start(
        kind: Kind,
        client: Client,
        page_size: u32,
        drop_fields: bool,
    ) -> Result<Pipeline> {
        let stats = Arc::new(Stats::default());
        let list_watch = CountingListWatch {
            inner: ApiListWatch::new(Api::<Pod>::all(client)),
            stats: stats.clone(),
        };
        match kind {
            Kind::Informer => {
                let mut config = SharedInformerConfig::default()
                    .indexers(indexers())
                    .reflector(move |reflector| reflector.page_size(page_size));
                if drop_fields {
                    config = config.transform(drop_managed_fields());
                }
                let informer = SharedIndexInformer::new(Arc::new(list_watch), config);
                let counter = stats.clone();
                let on_update = stats.clone();
                let on_delete = stats.clone();
                let handler = ResourceEventHandlerFuncs::default()
                    .add_func(move |_, _| {
                        counter.handled.fetch_add(1, Ordering::Relaxed);
                    })
                    .update_func(move |_, _| {
                        on_update.handled.fetch_add(1, Ordering::Relaxed);
                    })
                    .delete_func(move |_| {
                        on_delete.handled.fetch_add(1, Ordering::Relaxed);
                    });
                let registration = informer
                    .add_event_handler(handler)
                    .map_err(|source| Error::Informer { source })?;
                let cancel = CancellationToken::new();
                let task = informer.start(cancel.clone());
                Ok(Pipeline {
                    indexer: informer.indexer().clone(),
                    stats,
                    running: Running::Informer {
                        cancel,
                        task,
                        registration,
                    },
                })
            }
            Kind::FifoLoop => {
                let indexer = Arc::new(Indexer::new(
                    kinformer_cache::meta_namespace_key_func(),
                    indexers(),
                ));
                let mut config = DeltaFifoConfig::default().known_objects(indexer.clone());
                if drop_fields {
                    config = config.transform(drop_managed_fields());
                }
                let fifo = Arc::new(DeltaFifo::new(config));
                let reflector = tokio::spawn(list_and_watch(
                    list_watch,
                    fifo.clone(),
                    stats.clone(),
                    page_size,
                ));
                let processor = tokio::spawn(process(fifo.clone(), indexer.clone(), stats.clone()));
                Ok(Pipeline {
                    indexer,
                    stats,
                    running: Running::FifoLoop {
                        fifo,
                        tasks: vec![reflector, processor],
                    },
                })
            }
        }
    }

    /// True once the first list is in the cache and, for the informer, the handler has
    /// handled every initial add.
    pub fn has_synced(&self) -> bool {
        match &self.running {
            Running::Informer { registration, .. } => registration.has_synced(),
            Running::FifoLoop { fifo, .. } => fifo.has_synced(),
        }
    }

    /// Stops the pipeline and waits for it.
    pub async fn stop(self) {
        match self.running {
            Running::Informer { cancel, task, .. } => {
                cancel.cancel();
                let _ = task.await;
            }
            Running::FifoLoop { fifo, tasks } => {
                fifo.close();
                for task in tasks {
                    task.abort();
                    let _ = task.await;
                }
            }
        }
    }
}

/// Lists and watches through the cache crate's `ApiListWatch`, counting lists and events.
struct CountingListWatch {
    inner: ApiListWatch<Pod>,
    stats: Arc<Stats>,
}

impl ListWatch<Pod> for CountingListWatch {
    fn list(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ObjectList<Pod>, kinformer_client::Error>> {
        let stats = self.stats.clone();
        let list = self.inner.list(options);
        Box::pin(async move {
            let page = list.await?;
            if page.continue_token().is_none() {
                stats.lists.fetch_add(1, Ordering::SeqCst);
            }
            Ok(page)
        })
    }

    /// The informer's reflector lists through this streaming form (items decoded and queued
    /// as the body arrives); it must reach the inner one, or the reflector would fall back to
    /// whole pages.
    fn list_stream(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ListEventStream<Pod>, kinformer_client::Error>> {
        let stats = self.stats.clone();
        let list = self.inner.list_stream(options);
        Box::pin(async move {
            let counted = list.await?.inspect(move |event| {
                if let Ok(ListEvent::End(meta)) = event {
                    if meta.continue_token.is_none() {
                        stats.lists.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            Ok(Box::pin(counted) as ListEventStream<Pod>)
        })
    }

    fn watch(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<WatchEventStream<Pod>, kinformer_client::Error>> {
        let stats = self.stats.clone();
        let watch = self.inner.watch(options);
        Box::pin(async move {
            let stream = watch.await?;
            let counted = stream.inspect(move |_| {
                stats.received.fetch_add(1, Ordering::Relaxed);
            });
            Ok(Box::pin(counted) as WatchEventStream<Pod>)
        })
    }
}

/// Lists every page, then watches; relists after a 410 or when a watch cannot start.
async fn list_and_watch(
    list_watch: CountingListWatch,
    fifo: Arc<DeltaFifo<Pod>>,
    stats: Arc<Stats>,
    page: u32,
) {
    loop {
        let options = ListOptions::default().limit(page);
        let list = match list_all_pages(&options, |options| list_watch.list(options)).await {
            Ok(list) => list,
            Err(error) => {
                stats.note_error(format!("list: {error}"));
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut resource_version = list.resource_version().unwrap_or_default().to_owned();
        let items = list.items.into_iter().map(Arc::new).collect();
        if let Err(error) = fifo.replace(items, &resource_version) {
            stats.note_error(format!("replace: {error}"));
        }
        loop {
            let options = ListOptions::default()
                .resource_version(resource_version.clone())
                .allow_watch_bookmarks(true)
                .timeout_seconds(3600);
            let mut stream = match list_watch.watch(options).await {
                Ok(stream) => stream,
                Err(error) if error.is_gone() => break,
                Err(error) => {
                    stats.note_error(format!("watch: {error}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let mut gone = false;
            while let Some(event) = stream.next().await {
                let event = match event {
                    Ok(event) => event,
                    Err(error) => {
                        gone = error.is_gone();
                        stats.note_error(format!("watch stream: {error}"));
                        break;
                    }
                };
                let outcome = match event {
                    WatchEvent::Added(pod) => queue(&mut resource_version, pod, |p| fifo.add(p)),
                    WatchEvent::Modified(pod) => {
                        queue(&mut resource_version, pod, |p| fifo.update(p))
                    }
                    WatchEvent::Deleted(pod) => {
                        queue(&mut resource_version, pod, |p| fifo.delete(p))
                    }
                    WatchEvent::Bookmark(bookmark) => {
                        resource_version = bookmark.resource_version;
                        Ok(())
                    }
                    WatchEvent::Error(status) => {
                        gone = status.code == 410;
                        stats.note_error(format!("watch error event: {}", status.code));
                        break;
                    }
                };
                if let Err(error) = outcome {
                    stats.note_error(format!("queue: {error}"));
                }
            }
            if gone {
                break;
            }
        }
    }
}

fn queue(
    resource_version: &mut String,
    pod: Pod,
    push: impl FnOnce(Arc<Pod>) -> kinformer_cache::Result<()>,
) -> kinformer_cache::Result<()> {
    if let Some(version) = pod.metadata().resource_version() {
        version.clone_into(resource_version);
    }
    push(Arc::new(pod))
}

/// Pops deltas and applies them to the indexer, calling the handler (a counter) once per
/// delta, as an informer's processor does.
async fn process(fifo: Arc<DeltaFifo<Pod>>, indexer: Arc<Indexer<Pod>>, stats: Arc<Stats>) {
    loop {
        let result = fifo
            .pop(|deltas, _initial| {
                for delta in deltas.iter() {
                    apply(&indexer, deltas.key(), &delta.kind, &delta.object)
                        .map_err(ProcessError::Failed)?;
                    stats.handled.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<(), ProcessError<kinformer_cache::Error>>(())
            })
            .await;
        match result {
            Ok(()) => {}
            Err(kinformer_cache::PopError::Closed) => return,
            Err(error) => stats.note_error(format!("process: {error}")),
        }
    }
}

fn apply(
    indexer: &Indexer<Pod>,
    key: &str,
    kind: &DeltaType,
    object: &DeltaObject<Pod>,
) -> kinformer_cache::Result<()> {
    match (kind, object) {
        (DeltaType::Deleted, _) => {
            indexer.thread_safe_store().delete(key);
            Ok(())
        }
        (_, DeltaObject::Object(pod)) => {
            if indexer.get_by_key(key).is_some() {
                indexer.update(pod.clone())
            } else {
                indexer.add(pod.clone())
            }
        }
        (_, DeltaObject::DeletedFinalStateUnknown(_)) => Ok(()),
    }
}
