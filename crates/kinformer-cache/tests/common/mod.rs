//! Shared harness of the fake-server reflector tests: a Reflector -> DeltaFifo -> Indexer
//! pipeline over the real client, a consumer that records every delta it pops, a bounded
//! convergence poll, and a `ListWatch` spy that records list requests and can act on the
//! server between two pages.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use kinformer_cache::{
    ApiListWatch, BackoffConfig, DeltaFifo, DeltaFifoConfig, DeltaObject, DeltaType, Indexer,
    ListWatch, ProcessError, Reflector, ReflectorConfig, Store, WatchEventStream,
};
use kinformer_client::{Api, Client, Config};
use kinformer_meta::{ListOptions, Object, ObjectList};
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use kinformer_typed::ConfigMap;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What the consumer saw: (key, delta type, tombstone?).
pub type Seen = Arc<Mutex<Vec<(String, DeltaType, bool)>>>;

/// A running reflector, its queue and the indexer its consumer fills.
pub struct Pipeline {
    pub reflector: Arc<Reflector<ConfigMap>>,
    pub indexer: Arc<Indexer<ConfigMap>>,
    pub fifo: Arc<DeltaFifo<ConfigMap>>,
    pub seen: Seen,
    /// Keys popped as `Added` while the indexer already held them.
    pub double_adds: Arc<Mutex<Vec<String>>>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

/// A ConfigMap in `default`.
pub fn config_map(name: &str, value: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"value": value},
    })
}

/// A fake server holding these ConfigMaps in `default`.
pub async fn server_with(names: &[&str]) -> RunningServer {
    start_server(ServerConfig::default(), names).await
}

/// A fake server from `config`, holding these ConfigMaps in `default`.
pub async fn start_server(config: ServerConfig, names: &[&str]) -> RunningServer {
    let objects = names.iter().map(|name| config_map(name, "0"));
    FakeApiServer::start(config.objects(objects)).await.unwrap()
}

/// Short backoffs and timeouts, so faults cost milliseconds.
pub fn fast_config() -> ReflectorConfig<ConfigMap> {
    ReflectorConfig::default()
        .backoff(BackoffConfig {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            reset_after: Duration::from_secs(120),
            jitter: 0.5,
        })
        .idle_timeout(Duration::from_secs(2))
        .initial_events_timeout(Duration::from_secs(2))
}

/// The real client's list-watch of ConfigMaps in `default`.
pub fn api_list_watch(server: &RunningServer) -> Arc<ApiListWatch<ConfigMap>> {
    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
    Arc::new(ApiListWatch::new(Api::<ConfigMap>::namespaced(
        client, "default",
    )))
}

/// Starts a pipeline over the real client.
pub fn start(server: &RunningServer, config: ReflectorConfig<ConfigMap>) -> Pipeline {
    start_with(api_list_watch(server), config)
}

/// Starts a pipeline over any list-watch.
pub fn start_with(
    list_watch: Arc<dyn ListWatch<ConfigMap>>,
    config: ReflectorConfig<ConfigMap>,
) -> Pipeline {
    let indexer = Arc::new(Indexer::default());
    let fifo = Arc::new(DeltaFifo::new(
        DeltaFifoConfig::default().known_objects(indexer.clone()),
    ));
    let reflector = Arc::new(Reflector::new(list_watch, fifo.clone(), config));
    let cancel = CancellationToken::new();
    let seen: Seen = Arc::default();
    let double_adds: Arc<Mutex<Vec<String>>> = Arc::default();
    let producer = {
        let (reflector, cancel) = (reflector.clone(), cancel.clone());
        tokio::spawn(async move { reflector.run(cancel).await })
    };
    let consumer = {
        let (fifo, indexer, seen) = (fifo.clone(), indexer.clone(), seen.clone());
        let double_adds = double_adds.clone();
        tokio::spawn(async move {
            loop {
                let popped = fifo
                    .pop(|deltas, _| -> Result<(), ProcessError<()>> {
                        for delta in deltas {
                            let key = deltas.key().to_string();
                            seen.lock().unwrap().push((
                                key.clone(),
                                delta.kind,
                                delta.object.is_tombstone(),
                            ));
                            if delta.kind == DeltaType::Added && indexer.get_by_key(&key).is_some()
                            {
                                double_adds.lock().unwrap().push(key.clone());
                            }
                            match (&delta.kind, &delta.object) {
                                (DeltaType::Deleted, _) => {
                                    indexer.thread_safe_store().delete(&key);
                                }
                                (_, DeltaObject::Object(object)) => {
                                    indexer.update(object.clone()).unwrap();
                                }
                                _ => {}
                            }
                        }
                        Ok(())
                    })
                    .await;
                if popped.is_err() {
                    return;
                }
            }
        })
    };
    Pipeline {
        reflector,
        indexer,
        fifo,
        seen,
        double_adds,
        cancel,
        tasks: vec![producer, consumer],
    }
}

impl Pipeline {
    /// The indexer's content: name -> resourceVersion.
    pub fn cache(&self) -> BTreeMap<String, String> {
        self.indexer
            .list()
            .iter()
            .map(|o| {
                (
                    o.metadata().name().to_owned(),
                    o.metadata().resource_version().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// Polls (every 20 ms, for at most `limit`) until the cache equals the server's
    /// ConfigMaps in `default` and the queue is drained; the last difference otherwise.
    pub async fn try_converge(
        &self,
        server: &RunningServer,
        limit: Duration,
    ) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let expected = server_state(server);
            let cache = self.cache();
            if cache == expected && self.fifo.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "cache {cache:?} never matched server {expected:?} within {limit:?}; metrics {:?}",
                    self.reflector.metrics().snapshot()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 20 s) until the cache equals the server's ConfigMaps in `default`.
    pub async fn converge(&self, server: &RunningServer) {
        if let Err(message) = self.try_converge(server, Duration::from_secs(20)).await {
            panic!("{message}");
        }
    }

    /// Whether `name` was delivered as a Deleted delta carrying a tombstone.
    pub fn tombstoned(&self, name: &str) -> bool {
        let key = format!("default/{name}");
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|(k, kind, tombstone)| *k == key && *kind == DeltaType::Deleted && *tombstone)
    }

    /// Whether `name` was delivered as a Deleted delta.
    pub fn deleted(&self, name: &str) -> bool {
        let key = format!("default/{name}");
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|(k, kind, _)| *k == key && *kind == DeltaType::Deleted)
    }

    /// Stops the reflector and the consumer; fails if an object was added twice.
    pub async fn stop(self) {
        let double_adds = self.double_adds.lock().unwrap().clone();
        assert!(
            double_adds.is_empty(),
            "objects added twice: {double_adds:?}"
        );
        self.stop_unchecked().await;
    }

    /// Stops the reflector and the consumer.
    pub async fn stop_unchecked(self) {
        self.cancel.cancel();
        self.fifo.close();
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

/// The server's ConfigMaps in `default`: name -> resourceVersion.
pub fn server_state(server: &RunningServer) -> BTreeMap<String, String> {
    server
        .list("v1", "ConfigMap", Some("default"))
        .iter()
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap_or("").to_owned(),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

/// Runs once, between a paged list's first page and the request for the next.
pub type BetweenPages = Box<dyn FnOnce() + Send>;

/// A list-watch that forwards to another, records every list request (and whether it
/// failed), and can run a hook once a page with a continue token has arrived.
pub struct Spy {
    inner: Arc<dyn ListWatch<ConfigMap>>,
    /// Every list request, with `true` when it failed.
    pub lists: Arc<Mutex<Vec<(ListOptions, bool)>>>,
    between_pages: Arc<Mutex<Option<BetweenPages>>>,
}

impl Spy {
    /// Forwards to `inner`.
    pub fn new(inner: Arc<dyn ListWatch<ConfigMap>>) -> Self {
        Spy {
            inner,
            lists: Arc::default(),
            between_pages: Arc::default(),
        }
    }

    /// Runs `hook` once, after the first page that carries a continue token.
    pub fn between_pages(self, hook: impl FnOnce() + Send + 'static) -> Self {
        *self.between_pages.lock().unwrap() = Some(Box::new(hook));
        self
    }

    /// The recorded list requests.
    pub fn requests(&self) -> Vec<(ListOptions, bool)> {
        self.lists.lock().unwrap().clone()
    }
}

impl ListWatch<ConfigMap> for Spy {
    fn list(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ObjectList<ConfigMap>, kinformer_client::Error>> {
        let lists = self.lists.clone();
        let hook = self.between_pages.clone();
        let page = self.inner.list(options.clone());
        async move {
            let page = page.await;
            lists.lock().unwrap().push((options, page.is_err()));
            if page.as_ref().is_ok_and(|p| p.continue_token().is_some()) {
                let hook = hook.lock().unwrap().take();
                if let Some(hook) = hook {
                    hook();
                }
            }
            page
        }
        .boxed()
    }

    fn watch(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<WatchEventStream<ConfigMap>, kinformer_client::Error>> {
        self.inner.watch(options)
    }
}
