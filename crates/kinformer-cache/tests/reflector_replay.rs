//! Convergence of Reflector -> DeltaFifo -> Indexer against the fake API server, through the
//! real client (`ApiListWatch<ConfigMap>`), around each scripted fault: the cache ends equal
//! to the server, deletions missed while disconnected arrive as tombstones, and no object is
//! added twice.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kinformer_cache::{
    ApiListWatch, BackoffConfig, DeltaFifo, DeltaFifoConfig, DeltaObject, DeltaType, Indexer,
    ProcessError, Reflector, ReflectorConfig, Store,
};
use kinformer_client::{Api, Client, Config};
use kinformer_meta::Object;
use kinformer_replay::{FakeApiServer, Fault, FaultRule, RunningServer, ServerConfig};
use kinformer_typed::ConfigMap;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What the consumer saw: (key, delta type, tombstone?).
type Seen = Arc<Mutex<Vec<(String, DeltaType, bool)>>>;

struct Pipeline {
    reflector: Arc<Reflector<ConfigMap>>,
    indexer: Arc<Indexer<ConfigMap>>,
    fifo: Arc<DeltaFifo<ConfigMap>>,
    seen: Seen,
    double_adds: Arc<Mutex<usize>>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

fn config_map(name: &str, value: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"value": value},
    })
}

async fn server_with(names: &[&str]) -> RunningServer {
    let objects = names.iter().map(|name| config_map(name, "0"));
    FakeApiServer::start(ServerConfig::default().objects(objects))
        .await
        .unwrap()
}

fn fast_config() -> ReflectorConfig<ConfigMap> {
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

fn start(server: &RunningServer, config: ReflectorConfig<ConfigMap>) -> Pipeline {
    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
    let list_watch = Arc::new(ApiListWatch::new(Api::<ConfigMap>::namespaced(
        client, "default",
    )));
    let indexer = Arc::new(Indexer::default());
    let fifo = Arc::new(DeltaFifo::new(
        DeltaFifoConfig::default().known_objects(indexer.clone()),
    ));
    let reflector = Arc::new(Reflector::new(list_watch, fifo.clone(), config));
    let cancel = CancellationToken::new();
    let seen: Seen = Arc::default();
    let double_adds = Arc::new(Mutex::new(0));
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
                                *double_adds.lock().unwrap() += 1;
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
    fn cache(&self) -> BTreeMap<String, String> {
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

    /// Waits (up to 20 s) until the cache equals the server's ConfigMaps in `default`.
    async fn converge(&self, server: &RunningServer) {
        let mut last = (BTreeMap::new(), BTreeMap::new());
        for _ in 0..400 {
            let expected = server_state(server);
            let cache = self.cache();
            if cache == expected && self.fifo.is_empty() {
                return;
            }
            last = (cache, expected);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("cache {:?} never matched server {:?}", last.0, last.1);
    }

    fn tombstoned(&self, name: &str) -> bool {
        let key = format!("default/{name}");
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|(k, kind, tombstone)| *k == key && *kind == DeltaType::Deleted && *tombstone)
    }

    fn deleted(&self, name: &str) -> bool {
        let key = format!("default/{name}");
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|(k, kind, _)| *k == key && *kind == DeltaType::Deleted)
    }

    async fn stop(self) {
        assert_eq!(
            *self.double_adds.lock().unwrap(),
            0,
            "an object was added twice"
        );
        self.cancel.cancel();
        self.fifo.close();
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

fn server_state(server: &RunningServer) -> BTreeMap<String, String> {
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

/// Creates, updates and deletes a few objects.
fn churn(server: &RunningServer, round: usize) {
    for i in 0..3 {
        server
            .create(config_map(&format!("r{round}-{i}"), "1"))
            .unwrap();
    }
    server
        .update(config_map(&format!("r{round}-0"), "2"))
        .unwrap();
    server
        .delete("v1", "ConfigMap", Some("default"), &format!("r{round}-1"))
        .unwrap();
}

/// Arms `fault` before the reflector starts (so its first requests meet it), changes objects
/// around it, and checks convergence and that the fault really cost a reconnect.
async fn converges_around(fault: FaultRule) {
    let server = server_with(&["a", "b", "c"]).await;
    server.inject(fault);
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    churn(&server, 1);
    server
        .delete("v1", "ConfigMap", Some("default"), "a")
        .unwrap();
    pipeline.converge(&server).await;
    churn(&server, 2);
    pipeline.converge(&server).await;
    assert!(pipeline.deleted("a"));
    let metrics = pipeline.reflector.metrics().snapshot();
    assert!(
        metrics.lists + metrics.watches >= 3,
        "the fault was never hit: {metrics:?}"
    );
    server.clear_faults();
    pipeline.stop().await;
}

#[tokio::test]
async fn converges_without_faults() {
    let server = server_with(&["a", "b"]).await;
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    churn(&server, 1);
    pipeline.converge(&server).await;
    pipeline.stop().await;
}

#[tokio::test]
async fn converges_when_watches_close_after_some_events() {
    converges_around(FaultRule::new(Fault::CloseAfterEvents(1)).times(3)).await;
}

#[tokio::test]
async fn converges_when_watches_close_mid_event() {
    converges_around(
        FaultRule::new(Fault::CloseAfterBytes(150))
            .verb("watch")
            .times(3),
    )
    .await;
}

#[tokio::test]
async fn converges_after_410_in_the_middle_of_a_watch() {
    converges_around(FaultRule::new(Fault::GoneAfterEvents(1)).times(2)).await;
}

#[tokio::test]
async fn converges_after_429_and_500_answers() {
    converges_around(
        FaultRule::new(Fault::too_many_requests(0))
            .verb("watch")
            .times(2),
    )
    .await;
    converges_around(FaultRule::new(Fault::internal_error()).times(3)).await;
}

#[tokio::test]
async fn converges_after_a_stalled_watch() {
    converges_around(FaultRule::new(Fault::Stall).times(1)).await;
}

#[tokio::test]
async fn deletions_lost_with_the_server_state_arrive_as_tombstones() {
    let mut server = server_with(&["a", "b"]).await;
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    server.restart(false).await.unwrap();
    server.create(config_map("after", "1")).unwrap();
    pipeline.converge(&server).await;
    assert!(pipeline.tombstoned("a") && pipeline.tombstoned("b"));
    pipeline.stop().await;
}

#[tokio::test]
async fn a_restart_with_state_kept_and_a_compaction_loses_nothing() {
    let mut server = server_with(&["a", "b"]).await;
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    server.restart(true).await.unwrap();
    server
        .delete("v1", "ConfigMap", Some("default"), "a")
        .unwrap();
    server.update(config_map("b", "2")).unwrap();
    server.compact();
    pipeline.converge(&server).await;
    assert!(pipeline.deleted("a"));
    pipeline.stop().await;
}

#[tokio::test]
async fn a_streaming_list_converges_and_keeps_its_stream() {
    let server = server_with(&["a", "b"]).await;
    let pipeline = start(&server, fast_config().use_watch_list(true));
    pipeline.converge(&server).await;
    churn(&server, 1);
    pipeline.converge(&server).await;
    pipeline.stop().await;
}

#[tokio::test]
async fn a_streaming_list_without_its_end_bookmark_falls_back_to_list_and_watch() {
    let server = server_with(&["a", "b"]).await;
    server.inject(FaultRule::new(Fault::DropInitialEventsEnd).times(1));
    let pipeline = start(&server, fast_config().use_watch_list(true));
    pipeline.converge(&server).await;
    churn(&server, 1);
    pipeline.converge(&server).await;
    pipeline.stop().await;
}
