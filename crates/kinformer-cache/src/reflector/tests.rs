//! Reflector tests on the in-memory ListWatch, one rule at a time, on paused tokio time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kinformer_meta::{
    Bookmark, ListOptions, PartialObjectMetadata, ResourceVersionMatch, TypeMeta,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinHandle;
use tokio::time::sleep;

use super::*;
use crate::delta_fifo::{DeltaFifo, DeltaFifoConfig, DeltaObject, DeltaType, ProcessError};
use crate::list_watch::fake::{
    bad_request, expired, internal_error, too_large_resource_version, too_many_requests,
};
use crate::list_watch::{FakeListWatch, FakeRequest, FakeVerb};
use crate::store::Indexer;
use crate::testing::{pod, version};

type Pod = PartialObjectMetadata;

fn object(name: &str) -> Pod {
    Arc::unwrap_or_clone(pod("ns", name, "", &[]))
}

/// A store that records every call, over an indexer that holds the content.
#[derive(Default)]
struct Recorder {
    indexer: Indexer<Pod>,
    calls: Mutex<Vec<String>>,
}

impl Recorder {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    /// The content as key -> resourceVersion.
    fn content(&self) -> BTreeMap<String, String> {
        self.indexer
            .list()
            .iter()
            .map(|o| (format!("ns/{}", o.metadata.name()), version(o).to_owned()))
            .collect()
    }
}

impl Store<Pod> for Recorder {
    fn add(&self, object: Arc<Pod>) -> Result<()> {
        self.record(format!("add {}", object.metadata.name()));
        self.indexer.add(object)
    }
    fn update(&self, object: Arc<Pod>) -> Result<()> {
        self.record(format!("update {}", object.metadata.name()));
        self.indexer.update(object)
    }
    fn delete(&self, object: Arc<Pod>) -> Result<()> {
        self.record(format!("delete {}", object.metadata.name()));
        self.indexer.delete(object)
    }
    fn replace(&self, objects: Vec<Arc<Pod>>, resource_version: &str) -> Result<()> {
        self.record(format!("replace {} @{resource_version}", objects.len()));
        self.indexer.replace(objects, resource_version)
    }
    fn resync(&self) -> Result<()> {
        self.record("resync".into());
        Ok(())
    }
    fn update_resource_version(&self, resource_version: &str) {
        self.record(format!("version {resource_version}"));
    }
    fn list(&self) -> Vec<Arc<Pod>> {
        self.indexer.list()
    }
    fn list_keys(&self) -> Vec<Arc<str>> {
        self.indexer.list_keys()
    }
    fn get(&self, object: &Pod) -> Result<Option<Arc<Pod>>> {
        self.indexer.get(object)
    }
    fn get_by_key(&self, key: &str) -> Option<Arc<Pod>> {
        self.indexer.get_by_key(key)
    }
}

struct Harness {
    fake: FakeListWatch<Pod>,
    store: Arc<Recorder>,
    reflector: Arc<Reflector<Pod>>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

fn start(fake: &FakeListWatch<Pod>, config: ReflectorConfig<Pod>) -> Harness {
    let store = Arc::new(Recorder::default());
    let reflector = Arc::new(Reflector::new(
        Arc::new(fake.clone()),
        store.clone(),
        config,
    ));
    let cancel = CancellationToken::new();
    let task = {
        let (reflector, cancel) = (reflector.clone(), cancel.clone());
        tokio::spawn(async move { reflector.run(cancel).await })
    };
    Harness {
        fake: fake.clone(),
        store,
        reflector,
        cancel,
        task,
    }
}

impl Harness {
    async fn stop(self) {
        self.cancel.cancel();
        self.task.await.unwrap();
    }

    fn lists(&self) -> Vec<FakeRequest> {
        self.fake.requests_of(FakeVerb::List)
    }

    fn watches(&self) -> Vec<FakeRequest> {
        self.fake.requests_of(FakeVerb::Watch)
    }

    fn server_content(&self) -> BTreeMap<String, String> {
        self.fake
            .objects()
            .iter()
            .map(|(k, o)| (k.clone(), version(o).to_owned()))
            .collect()
    }
}

/// Lets every ready task run (paused time does not move unless everything waits).
async fn settle() {
    sleep(Duration::from_millis(1)).await;
}

fn fake_with(names: &[&str]) -> FakeListWatch<Pod> {
    let fake = FakeListWatch::new();
    for name in names {
        fake.create(object(name));
    }
    fake
}

fn options(resource_version: &str) -> ListOptions {
    ListOptions::default().resource_version(resource_version)
}

#[tokio::test(start_paused = true)]
async fn first_list_asks_version_0_in_pages_of_500_and_the_watch_starts_at_the_list_version() {
    let fake = fake_with(&["a", "b", "c"]);
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    assert_eq!(h.lists().len(), 1);
    assert_eq!(h.lists()[0].options, options("0").limit(500));
    let watches = h.watches();
    assert_eq!(watches.len(), 1);
    let watch = &watches[0].options;
    assert_eq!(watch.resource_version.as_deref(), Some("4"));
    assert!(watch.allow_watch_bookmarks);
    let timeout = watch.timeout_seconds.unwrap();
    assert!((300..600).contains(&timeout), "{timeout}");
    assert_eq!(h.store.calls(), ["replace 3 @4"]);
    assert_eq!(h.reflector.last_sync_resource_version(), "4");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_paginated_first_list_follows_continue_tokens_without_a_version() {
    let fake = fake_with(&["a", "b", "c", "d", "e"]);
    let h = start(&fake, ReflectorConfig::default().page_size(2));
    settle().await;
    let lists = h.lists();
    assert_eq!(lists.len(), 3);
    assert_eq!(lists[0].options, options("0").limit(2));
    for page in &lists[1..] {
        assert!(page.options.continue_token.is_some());
        assert_eq!(page.options.resource_version, None);
    }
    assert_eq!(h.store.content(), h.server_content());
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn watch_events_reach_the_store_and_move_the_version() {
    let fake = fake_with(&["a"]);
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    fake.create(object("b"));
    fake.update(object("a"));
    fake.delete("ns/b");
    settle().await;
    assert_eq!(
        h.store.calls(),
        [
            "replace 1 @2",
            "add b",
            "version 3",
            "update a",
            "version 4",
            "delete b",
            "version 5"
        ]
    );
    assert_eq!(h.store.content(), h.server_content());
    assert_eq!(h.reflector.last_sync_resource_version(), "5");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_normal_close_rewatches_from_the_last_version_without_relisting() {
    let fake = fake_with(&["a"]);
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    fake.create(object("b"));
    settle().await;
    let closed_at = tokio::time::Instant::now();
    fake.close_watches();
    settle().await;
    assert_eq!(h.lists().len(), 1);
    let watches = h.watches();
    assert_eq!(watches.len(), 2);
    assert_eq!(watches[1].options.resource_version.as_deref(), Some("3"));
    // The re-watch is immediate: no backoff after a healthy watch.
    assert_eq!(watches[1].at, closed_at);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_closing_within_a_second_without_events_is_an_error_and_relists_unpaginated() {
    let fake = fake_with(&["a"]);
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    let h = start(
        &fake,
        ReflectorConfig::default().watch_error_handler(Arc::new(move |e: &Error| {
            seen.lock().unwrap().push(e.to_string())
        })),
    );
    settle().await;
    fake.close_watches();
    sleep(Duration::from_secs(3)).await;
    let lists = h.lists();
    assert_eq!(lists.len(), 2);
    // The relist asks for the last seen version, unpaginated, after a backoff.
    assert_eq!(lists[1].options, options("2"));
    let waited = lists[1].at - lists[0].at;
    assert!(waited >= Duration::from_millis(800), "{waited:?}");
    assert!(errors.lock().unwrap()[0].starts_with("very short watch"));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_error_410_event_ends_the_watch_and_relists_at_the_last_version() {
    let fake = fake_with(&["a"]);
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    fake.create(object("b"));
    settle().await;
    fake.send_error(expired());
    sleep(Duration::from_secs(3)).await;
    let lists = h.lists();
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[1].options, options("3"));
    assert_eq!(h.watches().len(), 2);
    assert_eq!(h.reflector.metrics().snapshot().relists, 1);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_list_answered_410_retries_at_once_with_an_empty_version() {
    let fake = fake_with(&["a"]);
    fake.fail_next_list(expired());
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    let lists = h.lists();
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0].options, options("0").limit(500));
    assert_eq!(lists[1].options, options("").limit(500));
    assert_eq!(lists[1].at, lists[0].at);
    assert_eq!(h.store.content(), h.server_content());
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_too_large_version_on_list_retries_at_once_with_an_empty_version() {
    let fake = fake_with(&["a"]);
    fake.fail_next_list(too_large_resource_version());
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    let lists = h.lists();
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[1].options.resource_version.as_deref(), Some(""));
    assert_eq!(h.watches().len(), 1);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_later_page_410_falls_back_to_one_unpaginated_list() {
    let fake = fake_with(&["a", "b", "c", "d", "e"]);
    fake.fail_next_continue(expired());
    let h = start(&fake, ReflectorConfig::default().page_size(2));
    settle().await;
    let lists = h.lists();
    assert_eq!(lists.len(), 3);
    assert!(lists[1].options.continue_token.is_some());
    assert_eq!(lists[2].options, options("0"));
    assert_eq!(h.store.content(), h.server_content());
    assert_eq!(h.store.calls(), ["replace 5 @6"]);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_429_on_watch_start_backs_off_and_rewatches_without_relisting() {
    let fake = fake_with(&["a"]);
    fake.fail_next_watch(too_many_requests());
    let h = start(&fake, ReflectorConfig::default());
    sleep(Duration::from_secs(3)).await;
    assert_eq!(h.lists().len(), 1);
    let watches = h.watches();
    assert_eq!(watches.len(), 2);
    assert!(watches[1].at - watches[0].at >= Duration::from_millis(800));
    assert_eq!(watches[1].options.resource_version.as_deref(), Some("2"));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_refused_watch_connection_backs_off_and_rewatches_without_relisting() {
    let fake = fake_with(&["a"]);
    fake.refuse_next_watch();
    let h = start(&fake, ReflectorConfig::default());
    sleep(Duration::from_secs(3)).await;
    assert_eq!(h.lists().len(), 1);
    let watches = h.watches();
    assert_eq!(watches.len(), 2);
    assert!(watches[1].at - watches[0].at >= Duration::from_millis(800));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_waits_at_least_that_long() {
    let fake = fake_with(&["a"]);
    let mut status = too_many_requests();
    status.details = Some(kinformer_meta::StatusDetails {
        retry_after_seconds: Some(7),
        ..Default::default()
    });
    fake.fail_next_watch(status);
    let h = start(&fake, ReflectorConfig::default());
    sleep(Duration::from_secs(10)).await;
    let watches = h.watches();
    assert_eq!(watches.len(), 2);
    assert!(watches[1].at - watches[0].at >= Duration::from_secs(7));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_429_error_event_backs_off_and_rewatches_without_relisting() {
    let fake = fake_with(&["a"]);
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    fake.send_error(too_many_requests());
    sleep(Duration::from_secs(3)).await;
    assert_eq!(h.lists().len(), 1);
    assert_eq!(h.watches().len(), 2);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn other_watch_errors_relist() {
    let fake = fake_with(&["a"]);
    fake.fail_next_watch(internal_error());
    let h = start(&fake, ReflectorConfig::default());
    sleep(Duration::from_secs(3)).await;
    assert_eq!(h.lists().len(), 2);
    fake.break_watches(internal_error());
    sleep(Duration::from_secs(5)).await;
    assert_eq!(h.lists().len(), 3);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_bookmark_moves_the_version_and_nothing_else() {
    let fake = fake_with(&["a"]);
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    fake.send_event(WatchEvent::Bookmark(Bookmark {
        resource_version: "99".into(),
        ..Bookmark::default()
    }));
    settle().await;
    assert_eq!(h.store.calls(), ["replace 1 @2", "version 99"]);
    assert_eq!(h.reflector.last_sync_resource_version(), "99");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn objects_of_the_wrong_kind_are_dropped() {
    let fake = fake_with(&["a"]);
    let h = start(
        &fake,
        ReflectorConfig::default().expected_type(TypeMeta::new("v1", "Pod")),
    );
    settle().await;
    let mut config_map = object("cm");
    config_map.types = TypeMeta::new("v1", "ConfigMap");
    config_map.metadata.resource_version = Some("50".into());
    fake.send_event(WatchEvent::Added(config_map));
    settle().await;
    assert_eq!(h.store.calls(), ["replace 1 @2"]);
    assert_eq!(h.reflector.last_sync_resource_version(), "2");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn backoff_between_failing_cycles_doubles() {
    let fake = fake_with(&["a"]);
    for _ in 0..4 {
        fake.fail_next_list(internal_error());
    }
    let h = start(&fake, ReflectorConfig::default());
    sleep(Duration::from_secs(60)).await;
    let times: Vec<_> = h.lists().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 5);
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, base) in gaps.iter().zip([800u64, 1600, 3200, 6400]) {
        let base = Duration::from_millis(base);
        assert!(
            *gap >= base && *gap <= base * 2,
            "{gap:?} for base {base:?}"
        );
    }
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_resync_timer_resyncs_the_store_while_watching() {
    let fake = fake_with(&["a"]);
    let h = start(
        &fake,
        ReflectorConfig::default().resync_period(Duration::from_secs(30)),
    );
    sleep(Duration::from_secs(65)).await;
    let resyncs = h.store.calls().iter().filter(|c| *c == "resync").count();
    assert_eq!(resyncs, 2);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn should_resync_false_skips_the_resync() {
    let fake = fake_with(&["a"]);
    let h = start(
        &fake,
        ReflectorConfig::default()
            .resync_period(Duration::from_secs(30))
            .should_resync(Arc::new(|| false)),
    );
    sleep(Duration::from_secs(65)).await;
    assert!(!h.store.calls().contains(&"resync".to_owned()));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_stalled_watch_is_reopened_at_the_last_version() {
    let fake = fake_with(&["a"]);
    fake.stall_next_watches(1);
    let h = start(
        &fake,
        ReflectorConfig::default().idle_timeout(Duration::from_secs(30)),
    );
    sleep(Duration::from_secs(29)).await;
    assert_eq!(h.watches().len(), 1);
    sleep(Duration::from_secs(5)).await;
    let watches = h.watches();
    assert_eq!(watches.len(), 2);
    assert_eq!(watches[1].options.resource_version.as_deref(), Some("2"));
    assert_eq!(h.lists().len(), 1);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn metrics_count_lists_watches_events_and_errors() {
    let fake = fake_with(&["a"]);
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    fake.create(object("b"));
    fake.bookmark();
    settle().await;
    fake.send_error(expired());
    sleep(Duration::from_secs(3)).await;
    let metrics = h.reflector.metrics().snapshot();
    assert_eq!(metrics.lists, 2);
    assert_eq!(metrics.relists, 1);
    assert_eq!(metrics.watches, 2);
    assert_eq!(metrics.events, 2);
    assert_eq!(metrics.errors, 1);
    assert_eq!(metrics.last_resource_version, "3");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn cancelling_stops_the_reflector_and_closes_its_watch() {
    let fake = fake_with(&["a"]);
    let h = start(&fake, ReflectorConfig::default());
    settle().await;
    assert_eq!(fake.open_watches(), 1);
    h.stop().await;
    assert_eq!(fake.open_watches(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_streaming_list_replaces_at_the_end_bookmark_and_keeps_the_stream() {
    let fake = fake_with(&["a", "b"]);
    let h = start(&fake, ReflectorConfig::default().use_watch_list(true));
    settle().await;
    assert!(h.lists().is_empty());
    let watches = h.watches();
    assert_eq!(watches.len(), 1);
    let watch = &watches[0].options;
    assert_eq!(watch.send_initial_events, Some(true));
    assert_eq!(
        watch.resource_version_match,
        Some(ResourceVersionMatch::NotOlderThan)
    );
    assert!(watch.allow_watch_bookmarks);
    assert_eq!(h.store.calls(), ["replace 2 @3"]);
    fake.create(object("c"));
    settle().await;
    assert_eq!(h.watches().len(), 1);
    assert_eq!(h.store.content(), h.server_content());
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_rejected_streaming_list_falls_back_to_list_and_watch_for_good() {
    let fake = fake_with(&["a"]);
    fake.support_watch_list(false);
    let h = start(&fake, ReflectorConfig::default().use_watch_list(true));
    settle().await;
    assert_eq!(h.lists().len(), 1);
    assert_eq!(h.store.content(), h.server_content());
    fake.send_error(expired());
    sleep(Duration::from_secs(3)).await;
    // The relist is a plain list: the streaming list is not tried again.
    let streaming = h
        .watches()
        .iter()
        .filter(|w| w.options.send_initial_events == Some(true))
        .count();
    assert_eq!(streaming, 1);
    assert_eq!(h.lists().len(), 2);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_streaming_list_without_its_end_bookmark_falls_back_after_a_bounded_wait() {
    let fake = fake_with(&["a"]);
    fake.drop_initial_events_end(true);
    let h = start(
        &fake,
        ReflectorConfig::default()
            .use_watch_list(true)
            .initial_events_timeout(Duration::from_secs(10)),
    );
    sleep(Duration::from_secs(5)).await;
    assert!(h.lists().is_empty());
    sleep(Duration::from_secs(6)).await;
    assert_eq!(h.lists().len(), 1);
    assert_eq!(h.store.content(), h.server_content());
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_ordinary_bookmark_before_the_end_bookmark_falls_back_at_once() {
    let fake = fake_with(&["a"]);
    fake.drop_initial_events_end(true);
    let h = start(
        &fake,
        ReflectorConfig::default()
            .use_watch_list(true)
            .initial_events_timeout(Duration::from_secs(60)),
    );
    settle().await;
    fake.bookmark();
    // The fallback list waits only for the backoff, not for the 60 s timeout.
    sleep(Duration::from_secs(2)).await;
    assert_eq!(h.lists().len(), 1);
    assert_eq!(h.store.content(), h.server_content());
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_busy_stream_without_the_end_bookmark_is_still_cut_off() {
    let fake = fake_with(&["a"]);
    fake.drop_initial_events_end(true);
    let h = start(
        &fake,
        ReflectorConfig::default()
            .use_watch_list(true)
            .initial_events_timeout(Duration::from_secs(10)),
    );
    // Changes every 5 s keep the stream from going quiet; the cap (10 x 10 s) still applies.
    for _ in 0..19 {
        fake.update(object("a"));
        sleep(Duration::from_secs(5)).await;
    }
    assert!(h.lists().is_empty());
    sleep(Duration::from_secs(10)).await;
    assert_eq!(h.lists().len(), 1);
    h.stop().await;
}

/// Reflector -> DeltaFifo -> Indexer, with a consumer that records every delta.
struct Pipeline {
    fake: FakeListWatch<Pod>,
    reflector: Arc<Reflector<Pod>>,
    indexer: Arc<Indexer<Pod>>,
    deltas: Arc<Mutex<Vec<(String, DeltaType, bool)>>>,
    /// Added deltas for keys the cache already held.
    double_adds: Arc<Mutex<usize>>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    fifo: Arc<DeltaFifo<Pod>>,
}

fn pipeline(fake: &FakeListWatch<Pod>, config: ReflectorConfig<Pod>) -> Pipeline {
    let indexer = Arc::new(Indexer::default());
    let fifo = Arc::new(DeltaFifo::new(
        DeltaFifoConfig::default().known_objects(indexer.clone()),
    ));
    let reflector = Arc::new(Reflector::new(Arc::new(fake.clone()), fifo.clone(), config));
    let cancel = CancellationToken::new();
    let deltas = Arc::new(Mutex::new(Vec::new()));
    let double_adds = Arc::new(Mutex::new(0));
    let producer = {
        let (reflector, cancel) = (reflector.clone(), cancel.clone());
        tokio::spawn(async move { reflector.run(cancel).await })
    };
    let consumer = {
        let (fifo, indexer, deltas) = (fifo.clone(), indexer.clone(), deltas.clone());
        let double_adds = double_adds.clone();
        tokio::spawn(async move {
            loop {
                let result = fifo
                    .pop(|popped, _| -> Result<(), ProcessError<()>> {
                        for delta in popped {
                            deltas.lock().unwrap().push((
                                popped.key().to_string(),
                                delta.kind,
                                delta.object.is_tombstone(),
                            ));
                            if delta.kind == DeltaType::Added
                                && indexer.get_by_key(popped.key()).is_some()
                            {
                                *double_adds.lock().unwrap() += 1;
                            }
                            match (&delta.kind, &delta.object) {
                                (DeltaType::Deleted, _) => {
                                    indexer.thread_safe_store().delete(popped.key());
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
                if result.is_err() {
                    return;
                }
            }
        })
    };
    Pipeline {
        fake: fake.clone(),
        reflector,
        indexer,
        deltas,
        double_adds,
        cancel,
        tasks: vec![producer, consumer],
        fifo,
    }
}

impl Pipeline {
    fn cache(&self) -> BTreeMap<String, String> {
        self.indexer
            .list()
            .iter()
            .map(|o| (format!("ns/{}", o.metadata.name()), version(o).to_owned()))
            .collect()
    }

    fn server(&self) -> BTreeMap<String, String> {
        self.fake
            .objects()
            .iter()
            .map(|(k, o)| (k.clone(), version(o).to_owned()))
            .collect()
    }

    async fn stop(self) {
        self.cancel.cancel();
        self.fifo.close();
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_deletion_while_disconnected_arrives_as_a_tombstone_after_the_relist() {
    let fake = fake_with(&["a", "b"]);
    let p = pipeline(&fake, ReflectorConfig::default());
    settle().await;
    fake.send_error(expired());
    // While the reflector backs off, b is deleted and the history compacted.
    fake.delete("ns/b");
    fake.compact();
    sleep(Duration::from_secs(3)).await;
    assert_eq!(p.cache(), p.server());
    let deltas = p.deltas.lock().unwrap().clone();
    assert!(deltas.contains(&("ns/b".into(), DeltaType::Deleted, true)));
    p.stop().await;
}

#[tokio::test(start_paused = true)]
async fn random_changes_and_faults_converge_to_the_server_state() {
    // KINFORMER_CHAOS_SEEDS=n runs seeds 0..n (default 8); a failure names its seed, and
    // KINFORMER_CHAOS_SEED=s replays that one seed alone.
    let env = |name: &str| std::env::var(name).ok().and_then(|n| n.parse::<u64>().ok());
    let seeds = match env("KINFORMER_CHAOS_SEED") {
        Some(seed) => seed..seed + 1,
        None => 0..env("KINFORMER_CHAOS_SEEDS").unwrap_or(8),
    };
    for seed in seeds {
        let mut rng = StdRng::seed_from_u64(seed);
        let fake = FakeListWatch::new();
        let p = pipeline(
            &fake,
            ReflectorConfig::default()
                .page_size(3)
                .idle_timeout(Duration::from_secs(90)),
        );
        for _ in 0..300 {
            let name = format!("p{}", rng.gen_range(0..15));
            match rng.gen_range(0..100) {
                0..=29 => {
                    fake.create(object(&name));
                }
                30..=54 => {
                    fake.update(object(&name));
                }
                55..=69 => {
                    fake.delete(&format!("ns/{name}"));
                }
                70..=74 => fake.close_watches(),
                75..=78 => fake.send_error(expired()),
                79..=80 => fake.send_error(too_many_requests()),
                81..=82 => fake.break_watches(internal_error()),
                83..=84 => fake.compact(),
                85..=86 => fake.fail_next_list(expired()),
                87 => fake.fail_next_continue(expired()),
                88 => fake.fail_next_watch(too_many_requests()),
                89 => fake.stall_next_watches(1),
                90 => fake.fail_next_list(bad_request()),
                91 => fake.refuse_next_watch(),
                _ => fake.bookmark(),
            }
            sleep(Duration::from_millis(rng.gen_range(0..2_000))).await;
        }
        // Quiet period: long enough for any backoff and a stalled watch to be replaced.
        fake.clear_faults();
        sleep(Duration::from_secs(300)).await;
        if p.cache() != p.server() {
            for request in fake.requests().iter().rev().take(8) {
                eprintln!("{request:?}");
            }
            eprintln!(
                "fifo len {} open watches {}",
                p.fifo.len(),
                fake.open_watches()
            );
        }
        assert_eq!(p.cache(), p.server(), "seed {seed}");
        assert_eq!(
            *p.double_adds.lock().unwrap(),
            0,
            "seed {seed}: object added twice"
        );
        // The faults were real: the reflector relisted and re-watched along the way.
        let metrics = p.reflector.metrics().snapshot();
        assert!(
            metrics.relists > 0 && metrics.watches > 5,
            "seed {seed}: {metrics:?}"
        );
        p.stop().await;
    }
}

/// The tombstones the pipeline's consumer received, by key.
fn tombstoned(p: &Pipeline) -> Vec<String> {
    let mut keys: Vec<String> = p
        .deltas
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, kind, tombstone)| *kind == DeltaType::Deleted && *tombstone)
        .map(|(key, _, _)| key.clone())
        .collect();
    keys.sort();
    keys
}

#[tokio::test(start_paused = true)]
async fn a_paged_relist_streams_every_page_and_deletes_exactly_the_missing_keys() {
    let fake = fake_with(&["a", "b", "c", "d", "e", "f", "g"]);
    let p = pipeline(&fake, ReflectorConfig::default().page_size(3));
    settle().await;
    assert_eq!(p.cache(), p.server());
    // While the watch is down, c and f go away and the history is compacted.
    fake.send_error(expired());
    fake.delete("ns/c");
    fake.delete("ns/f");
    fake.compact();
    sleep(Duration::from_secs(3)).await;
    assert_eq!(p.cache(), p.server());
    assert_eq!(tombstoned(&p), ["ns/c", "ns/f"]);
    // The relist (its version compacted away, so from "") read the five survivors in two
    // pages of up to three.
    let lists = fake.requests_of(FakeVerb::List);
    let pages: Vec<_> = lists.iter().skip(4).collect();
    assert_eq!(pages.len(), 2, "{lists:?}");
    assert_eq!(pages[0].options.resource_version.as_deref(), Some(""));
    assert!(pages[1].options.continue_token.is_some());
    p.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_relist_failing_half_way_deletes_nothing_and_the_next_relist_converges() {
    let fake = fake_with(&["a", "b", "c", "d", "e", "f", "g"]);
    let p = pipeline(&fake, ReflectorConfig::default().page_size(3));
    settle().await;
    fake.send_error(expired());
    fake.delete("ns/c");
    fake.compact();
    // The relist's second page fails: e, f and g were not seen, yet they still exist.
    fake.fail_next_continue(internal_error());
    sleep(Duration::from_secs(30)).await;
    assert_eq!(p.cache(), p.server());
    // Only c, gone on the server, was ever tombstoned, and only once.
    assert_eq!(tombstoned(&p), ["ns/c"]);
    let failed_then_relisted = fake
        .requests_of(FakeVerb::List)
        .iter()
        .filter(|r| r.options.continue_token.is_none())
        .count();
    assert!(
        failed_then_relisted >= 3,
        "initial list, failed relist, relist"
    );
    assert_eq!(*p.double_adds.lock().unwrap(), 0);
    p.stop().await;
}
