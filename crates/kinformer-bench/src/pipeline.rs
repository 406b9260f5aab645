//! The pipeline under test, built from the real parts that exist today: the client's
//! `Api<Pod>` (paged list of 500, watch over loopback HTTP), the cache's `DeltaFifo` and
//! `Indexer` (namespace index plus an `app` label index), and one handler that counts events.
//!
//! The list-then-watch loop here is a small stand-in for the cache crate's Reflector and
//! SharedIndexInformer, which had not landed when this harness was written: it lists every
//! page, `replace`s the queue, watches from the list's resourceVersion, and relists on a 410.
//! The JSON line says so (`"pipeline":"api+delta_fifo+indexer"`); switching to the informer is
//! a change to this file only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kinformer_cache::{
    index_func, namespace_indexers, DeltaFifo, DeltaFifoConfig, DeltaObject, DeltaType, Indexer,
    ProcessError, Store, TransformError,
};
use kinformer_client::api::Api;
use kinformer_client::Client;
use kinformer_meta::{ListOptions, Object, WatchEvent};
use kinformer_typed::Pod;
use tokio::task::JoinHandle;

/// The name the JSON line gives this pipeline.
pub const PIPELINE: &str = "api+delta_fifo+indexer";

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

/// A running pipeline: its cache, queue and counters; dropped tasks are aborted on
/// [`Pipeline::stop`].
pub struct Pipeline {
    /// The cache.
    pub indexer: Arc<Indexer<Pod>>,
    /// The queue between the list/watch loop and the indexer.
    pub fifo: Arc<DeltaFifo<Pod>>,
    /// Progress.
    pub stats: Arc<Stats>,
    tasks: Vec<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the list/watch loop and the processing loop on the current tokio runtime.
    pub fn start(client: Client, page_size: u32, drop_managed_fields: bool) -> Pipeline {
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
        let indexer = Arc::new(Indexer::new(
            kinformer_cache::meta_namespace_key_func(),
            indexers,
        ));
        let mut config = DeltaFifoConfig::default().known_objects(indexer.clone());
        if drop_managed_fields {
            config = config.transform(Arc::new(|pod: Arc<Pod>| {
                let mut pod = Arc::try_unwrap(pod).unwrap_or_else(|shared| (*shared).clone());
                pod.metadata_mut().managed_fields = None;
                Ok::<_, TransformError>(Arc::new(pod))
            }));
        }
        let fifo = Arc::new(DeltaFifo::new(config));
        let stats = Arc::new(Stats::default());
        let reflector = tokio::spawn(list_and_watch(
            Api::<Pod>::all(client),
            fifo.clone(),
            stats.clone(),
            page_size,
        ));
        let processor = tokio::spawn(process(fifo.clone(), indexer.clone(), stats.clone()));
        Pipeline {
            indexer,
            fifo,
            stats,
            tasks: vec![reflector, processor],
        }
    }

    /// True once the first list has been applied to the indexer.
    pub fn has_synced(&self) -> bool {
        self.fifo.has_synced()
    }

    /// Stops both loops and waits for them.
    pub async fn stop(mut self) {
        self.fifo.close();
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}

/// Lists every page, then watches; relists after a 410 or when a watch cannot start.
async fn list_and_watch(api: Api<Pod>, fifo: Arc<DeltaFifo<Pod>>, stats: Arc<Stats>, page: u32) {
    loop {
        let options = ListOptions::default().limit(page);
        let list = match api.list_all(&options).await {
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
        stats.lists.fetch_add(1, Ordering::SeqCst);
        loop {
            let options = ListOptions::default()
                .resource_version(resource_version.clone())
                .allow_watch_bookmarks(true)
                .timeout_seconds(3600);
            let mut stream = match api.watch(&options).await {
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
                stats.received.fetch_add(1, Ordering::Relaxed);
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
