//! Informer behaviour on the in-memory `FakeListWatch`: handlers, late registration, resync,
//! relists, removal, panics, back-pressure, transform, sync errors and freeing the cache.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::time::Duration;

use kinformer_cache::list_watch::fake::expired;
use kinformer_cache::{
    new_indexer_informer, new_informer, CacheSyncError, DeltaObject, FakeListWatch, InformerError,
    ListWatch, ResourceEventHandlerFuncs, SharedIndexInformer, SharedInformerConfig, Store,
};
use kinformer_meta::labels::Selector;
use kinformer_meta::status::reason;
use kinformer_meta::{
    GroupResource, ObjectMeta, PartialObjectMetadata, Status, StringMap, TypeMeta,
};
use tokio_util::sync::CancellationToken;

type Pod = PartialObjectMetadata;
type Log = Arc<Mutex<Vec<String>>>;

fn pod(namespace: &str, name: &str, labels: &[(&str, &str)]) -> Pod {
    PartialObjectMetadata {
        types: TypeMeta::new("v1", "Pod"),
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            labels: labels.iter().copied().collect::<StringMap>(),
            ..ObjectMeta::default()
        },
    }
}

fn source(pods: &[Pod]) -> FakeListWatch<Pod> {
    let fake = FakeListWatch::new();
    for pod in pods {
        fake.create(pod.clone());
    }
    fake
}

fn informer(fake: &FakeListWatch<Pod>) -> SharedIndexInformer<Pod> {
    informer_with(fake, SharedInformerConfig::default())
}

fn informer_with(
    fake: &FakeListWatch<Pod>,
    config: SharedInformerConfig<Pod>,
) -> SharedIndexInformer<Pod> {
    let list_watch: Arc<dyn ListWatch<Pod>> = Arc::new(fake.clone());
    SharedIndexInformer::new(list_watch, config.resource(GroupResource::new("", "pods")))
}

/// A handler that writes one line per notification.
fn recorder(log: &Log) -> ResourceEventHandlerFuncs<Pod> {
    let (a, u, d) = (log.clone(), log.clone(), log.clone());
    ResourceEventHandlerFuncs::default()
        .add_func(move |o: Arc<Pod>, initial| {
            let line = format!("add {} initial={initial}", o.metadata.name());
            a.lock().unwrap().push(line)
        })
        .update_func(move |old: Arc<Pod>, new: Arc<Pod>| {
            let line = format!(
                "update {} {}->{}",
                new.metadata.name(),
                old.metadata.resource_version().unwrap_or(""),
                new.metadata.resource_version().unwrap_or("")
            );
            u.lock().unwrap().push(line)
        })
        .delete_func(move |o: DeltaObject<Pod>| {
            let name = o.object().map(|o| o.metadata.name().to_owned());
            let line = format!(
                "delete {} tombstone={}",
                name.unwrap_or_default(),
                o.is_tombstone()
            );
            d.lock().unwrap().push(line)
        })
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// Waits (on tokio's clock, paused or not) until `condition` holds; false after many tries.
async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..2000 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    condition()
}

#[tokio::test(start_paused = true)]
async fn two_handlers_get_the_initial_list_and_live_changes_after_the_cache() {
    let fake = source(&[pod("default", "a", &[]), pod("default", "b", &[])]);
    let informer = informer(&fake);
    let (first, second) = (Log::default(), Log::default());
    informer.add_event_handler(recorder(&first)).unwrap();
    let lister = informer.lister();
    let seen_in_cache = Arc::new(AtomicUsize::new(0));
    let seen = seen_in_cache.clone();
    informer
        .add_event_handler(recorder(&second).add_func(move |o, _| {
            // The cache holds the object before any handler hears of it.
            if lister.namespace("default").get(o.metadata.name()).is_ok() {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        }))
        .unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();

    fake.create(pod("default", "c", &[]));
    let mut changed = fake.objects()["default/a"].clone();
    changed.metadata.labels.insert("x", "y");
    fake.update(changed);
    fake.delete("default/b");
    assert!(
        eventually(|| lines(&first).len() == 5).await,
        "{:?}",
        lines(&first)
    );
    assert_eq!(
        lines(&first),
        [
            "add a initial=true",
            "add b initial=true",
            "add c initial=false",
            "update a 2->5",
            "delete b tombstone=false"
        ]
    );
    assert!(eventually(|| seen_in_cache.load(Ordering::SeqCst) == 3).await);
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_late_handler_gets_the_cache_as_initial_adds_then_live_changes() {
    let fake = source(&[pod("default", "a", &[]), pod("default", "b", &[])]);
    let informer = informer(&fake);
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    fake.create(pod("default", "c", &[]));
    assert!(eventually(|| informer.indexer().len() == 3).await);

    let log = Log::default();
    let registration = informer.add_event_handler(recorder(&log)).unwrap();
    assert!(eventually(|| registration.has_synced()).await);
    fake.delete("default/a");
    assert!(eventually(|| lines(&log).len() == 4).await);
    assert_eq!(
        lines(&log),
        [
            "add a initial=true",
            "add b initial=true",
            "add c initial=true",
            "delete a tombstone=false"
        ]
    );
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_removed_handler_receives_nothing_more() {
    let fake = source(&[pod("default", "a", &[])]);
    let informer = informer(&fake);
    let (kept, removed) = (Log::default(), Log::default());
    informer.add_event_handler(recorder(&kept)).unwrap();
    let registration = informer.add_event_handler(recorder(&removed)).unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    assert!(eventually(|| lines(&removed).len() == 1).await);

    assert!(informer.remove_event_handler(&registration));
    assert!(!registration.is_active());
    assert!(!informer.remove_event_handler(&registration));
    fake.create(pod("default", "b", &[]));
    assert!(eventually(|| lines(&kept).len() == 2).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(lines(&removed), ["add a initial=true"]);
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn resync_reaches_only_the_handler_that_asked_for_it_at_its_period() {
    let fake = source(&[pod("default", "a", &[]), pod("default", "b", &[])]);
    let informer = informer(&fake);
    let (resyncing, quiet) = (Log::default(), Log::default());
    informer
        .add_event_handler_with_resync(recorder(&resyncing), Some(Duration::from_secs(10)))
        .unwrap();
    informer.add_event_handler(recorder(&quiet)).unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(35)).await;
    let updates = |log: &Log| {
        lines(log)
            .iter()
            .filter(|l| l.starts_with("update"))
            .count()
    };
    // Resyncs at 10, 20 and 30 seconds, each a no-op update of both objects.
    assert_eq!(updates(&resyncing), 6, "{:?}", lines(&resyncing));
    assert!(lines(&resyncing)
        .iter()
        .filter(|l| l.starts_with("update"))
        .all(|l| l.ends_with("2->2") || l.ends_with("3->3")));
    assert_eq!(updates(&quiet), 0);
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_relist_of_unchanged_objects_sends_no_updates_to_handlers_without_resync() {
    let fake = source(&[pod("default", "a", &[]), pod("default", "b", &[])]);
    let informer = informer(&fake);
    let (resyncing, quiet) = (Log::default(), Log::default());
    informer
        .add_event_handler_with_resync(recorder(&resyncing), Some(Duration::from_secs(3600)))
        .unwrap();
    informer.add_event_handler(recorder(&quiet)).unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();

    // An ERROR 410 ends the watch; the reflector relists and finds both objects unchanged,
    // while one more changed during the outage.
    fake.send_error(expired());
    let mut changed = fake.objects()["default/b"].clone();
    changed.metadata.labels.insert("x", "y");
    fake.update(changed);
    assert!(
        eventually(|| lines(&quiet).len() == 3).await,
        "{:?}",
        lines(&quiet)
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(informer.reflector_metrics().unwrap().relists >= 1);
    assert_eq!(
        lines(&quiet),
        ["add a initial=true", "add b initial=true", "update b 3->4"]
    );
    assert!(
        lines(&resyncing).contains(&"update a 2->2".to_owned()),
        "{:?}",
        lines(&resyncing)
    );
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_panicking_handler_is_reported_and_the_others_keep_going() {
    let fake = source(&[pod("default", "boom", &[]), pod("default", "ok", &[])]);
    let informer = informer(&fake);
    let log = Log::default();
    let panicking = informer
        .add_event_handler(
            ResourceEventHandlerFuncs::<Pod>::default().add_func(|o, _| {
                assert_ne!(o.metadata.name(), "boom", "handler refuses boom");
            }),
        )
        .unwrap();
    informer.add_event_handler(recorder(&log)).unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    fake.create(pod("default", "later", &[]));
    assert!(eventually(|| lines(&log).len() == 3).await);
    assert!(eventually(|| panicking.stats().delivered == 3).await);
    assert_eq!(panicking.stats().panics, 1);
    assert!(informer.has_synced());
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_blocked_handler_does_not_hold_up_the_others_and_shows_its_backlog() {
    let fake = source(&[pod("default", "a", &[])]);
    let informer = informer(&fake);
    let (release, gate) = mpsc::channel::<()>();
    let gate = Mutex::new(gate);
    let blocked = informer
        .add_event_handler(
            ResourceEventHandlerFuncs::<Pod>::default().add_func(move |_, _| {
                let _ = gate.lock().unwrap().recv();
            }),
        )
        .unwrap();
    let log = Log::default();
    let fast = informer.add_event_handler(recorder(&log)).unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    for i in 0..20 {
        fake.create(pod("default", &format!("p{i}"), &[]));
    }
    assert!(eventually(|| lines(&log).len() == 21).await);
    assert!(fast.has_synced());
    // The blocked handler is still in its first (initial) add: not synced, 20 waiting.
    assert!(!blocked.has_synced());
    assert!(eventually(|| blocked.stats().pending == 20).await);
    for _ in 0..21 {
        release.send(()).unwrap();
    }
    assert!(eventually(|| blocked.stats().delivered == 21).await);
    assert!(blocked.has_synced());
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_full_buffer_holds_the_queue_back_without_dropping_anything() {
    let fake = source(&[]);
    let informer = informer_with(&fake, SharedInformerConfig::default().listener_capacity(2));
    let (release, gate) = mpsc::channel::<()>();
    let gate = Mutex::new(gate);
    let blocked = informer
        .add_event_handler(
            ResourceEventHandlerFuncs::<Pod>::default().add_func(move |_, _| {
                let _ = gate.lock().unwrap().recv();
            }),
        )
        .unwrap();
    let log = Log::default();
    informer.add_event_handler(recorder(&log)).unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    for i in 0..10 {
        fake.create(pod("default", &format!("p{i}"), &[]));
    }
    // One add is in the blocked handler, two wait in its buffer; the loop waits for room.
    assert!(
        eventually(|| blocked.stats().pending == 2).await,
        "{:?} {:?} cached={} fake={}",
        blocked.stats(),
        lines(&log),
        informer.indexer().len(),
        fake.objects().len()
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(blocked.stats().pending, 2);
    assert!(lines(&log).len() <= 4, "{:?}", lines(&log));
    for _ in 0..10 {
        release.send(()).unwrap();
    }
    assert!(eventually(|| lines(&log).len() == 10).await);
    assert!(eventually(|| blocked.stats().delivered == 10).await);
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_registration_is_synced_only_after_its_handler_processed_the_initial_adds() {
    let fake = source(&[pod("default", "a", &[]), pod("default", "b", &[])]);
    let informer = informer(&fake);
    let (release, gate) = mpsc::channel::<()>();
    let gate = Mutex::new(gate);
    let slow = informer
        .add_event_handler(
            ResourceEventHandlerFuncs::<Pod>::default().add_func(move |_, _| {
                let _ = gate.lock().unwrap().recv();
            }),
        )
        .unwrap();
    let quick = informer
        .add_event_handler(ResourceEventHandlerFuncs::<Pod>::default())
        .unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    assert!(informer.has_synced());
    assert!(eventually(|| quick.has_synced()).await);
    assert!(!slow.has_synced());
    release.send(()).unwrap();
    assert!(eventually(|| slow.stats().delivered == 1).await);
    assert!(!slow.has_synced());
    release.send(()).unwrap();
    assert!(eventually(|| slow.has_synced()).await);
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_transform_runs_before_caching_and_only_before_start() {
    let fake = source(&[pod("default", "a", &[("app", "web"), ("big", "x")])]);
    let informer = informer(&fake);
    informer
        .set_transform(Arc::new(|object: Arc<Pod>| {
            let mut object = (*object).clone();
            object.metadata.labels.remove("big");
            object.metadata.managed_fields = None;
            Ok(Arc::new(object))
        }))
        .unwrap();
    let log = Log::default();
    informer.add_event_handler(recorder(&log)).unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    let cached = informer.lister().namespace("default").get("a").unwrap();
    assert_eq!(cached.metadata.labels.get("big"), None);
    assert_eq!(cached.metadata.labels.get("app"), Some("web"));
    assert_eq!(
        informer.set_transform(Arc::new(Ok)),
        Err(InformerError::AlreadyStarted)
    );
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn wait_for_cache_sync_names_a_forbidden_list() {
    let fake = source(&[pod("default", "a", &[])]);
    fake.fail_next_list(Status::failure(
        403,
        reason::FORBIDDEN,
        "pods is forbidden: User \"x\" cannot list resource \"pods\"",
    ));
    let informer = informer(&fake);
    let errors = Arc::new(AtomicUsize::new(0));
    let counted = errors.clone();
    informer
        .set_watch_error_handler(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    let error = informer.wait_for_cache_sync(None).await.unwrap_err();
    match &error {
        CacheSyncError::Forbidden {
            code,
            message,
            resource,
        } => {
            assert_eq!(*code, 403);
            assert!(message.contains("forbidden"));
            assert_eq!(resource, &GroupResource::new("", "pods"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(errors.load(Ordering::SeqCst), 1);
    // The informer keeps retrying and syncs once the server allows the list.
    assert!(eventually(|| informer.has_synced()).await);
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn wait_for_cache_sync_names_an_unknown_resource() {
    let fake = source(&[]);
    fake.fail_next_list(Status::failure(
        404,
        reason::NOT_FOUND,
        "the server could not find the requested resource",
    ));
    let informer = informer(&fake);
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    assert!(matches!(
        informer.wait_for_cache_sync(None).await,
        Err(CacheSyncError::UnknownResource { .. })
    ));
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn wait_for_cache_sync_times_out_with_the_last_error_on_retryable_failures() {
    let fake = source(&[]);
    for _ in 0..50 {
        fake.fail_next_list(Status::failure(
            500,
            reason::INTERNAL_ERROR,
            "etcd unavailable",
        ));
    }
    let informer = informer(&fake);
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    match informer
        .wait_for_cache_sync(Some(Duration::from_secs(5)))
        .await
    {
        Err(CacheSyncError::TimedOut {
            last_error, waited, ..
        }) => {
            assert_eq!(waited, Duration::from_secs(5));
            assert!(last_error.unwrap().contains("etcd unavailable"));
        }
        other => panic!("unexpected {other:?}"),
    }
    cancel.cancel();
    run.await.unwrap();
    assert!(matches!(
        informer.wait_for_cache_sync(None).await,
        Err(CacheSyncError::Stopped { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn stopping_the_informer_frees_every_cached_object_and_handler() {
    let fake = source(&[pod("default", "a", &[]), pod("default", "b", &[])]);
    let informer = informer(&fake);
    let captured = Arc::new(());
    let held = captured.clone();
    informer
        .add_event_handler(
            ResourceEventHandlerFuncs::<Pod>::default().add_func(move |_, _| {
                let _keep = Arc::clone(&held);
            }),
        )
        .unwrap();
    let lister = informer.lister();
    let cancel = CancellationToken::new();
    let run = informer.start(cancel.clone());
    informer.wait_for_cache_sync(None).await.unwrap();
    let weak: Vec<Weak<Pod>> = lister
        .list(&Selector::everything())
        .iter()
        .map(Arc::downgrade)
        .collect();
    assert_eq!(weak.len(), 2);
    assert_eq!(Arc::strong_count(&captured), 2);

    cancel.cancel();
    run.await.unwrap();
    assert!(informer.is_stopped());
    assert!(!informer.has_synced());
    assert_eq!(informer.indexer().len(), 0);
    assert!(lister.list(&Selector::everything()).is_empty());
    assert!(weak.iter().all(|w| w.upgrade().is_none()));
    assert_eq!(Arc::strong_count(&captured), 1, "the handler was dropped");
    assert_eq!(
        informer
            .add_event_handler(ResourceEventHandlerFuncs::default())
            .err(),
        Some(InformerError::Stopped)
    );
}

#[tokio::test(start_paused = true)]
async fn new_informer_updates_the_store_before_calling_the_handler() {
    let fake = source(&[pod("default", "a", &[])]);
    let list_watch: Arc<dyn ListWatch<Pod>> = Arc::new(fake.clone());
    let log = Log::default();
    let store_slot: Arc<Mutex<Option<Arc<kinformer_cache::Indexer<Pod>>>>> = Arc::default();
    let slot = store_slot.clone();
    let record = log.clone();
    let handler = ResourceEventHandlerFuncs::<Pod>::default()
        .add_func(move |o, _| {
            let store = slot.lock().unwrap().clone().unwrap();
            let cached = store.get(&o).unwrap().is_some();
            record
                .lock()
                .unwrap()
                .push(format!("add {} cached={cached}", o.metadata.name()));
        })
        .delete_func(|o: DeltaObject<Pod>| assert!(o.object().is_some()));
    let (store, controller) =
        new_informer(list_watch, GroupResource::new("", "pods"), None, handler);
    *store_slot.lock().unwrap() = Some(store.clone());
    let cancel = CancellationToken::new();
    let run = controller.start(cancel.clone());
    controller.wait_for_cache_sync(None).await.unwrap();
    // Synced means the handler has handled the initial list, as with client-go's controller.
    assert!(controller.has_synced());
    assert_eq!(lines(&log), ["add a cached=true"]);
    assert_eq!(store.list().len(), 1);
    cancel.cancel();
    run.await.unwrap();
    *store_slot.lock().unwrap() = None;
}

#[tokio::test(start_paused = true)]
async fn new_indexer_informer_answers_by_index() {
    let fake = source(&[
        pod("default", "busy-box-1", &[("app", "busy-box")]),
        pod("default", "web-1", &[("app", "web")]),
    ]);
    let list_watch: Arc<dyn ListWatch<Pod>> = Arc::new(fake.clone());
    let mut indexers = kinformer_cache::namespace_indexers::<Pod>();
    indexers.insert(
        "app".into(),
        kinformer_cache::index_func(|o: &Pod| {
            Ok(o.metadata
                .labels
                .get("app")
                .map(|v| vec![v.to_owned()])
                .unwrap_or_default())
        }),
    );
    let (indexer, controller) = new_indexer_informer(
        list_watch,
        GroupResource::new("", "pods"),
        None,
        ResourceEventHandlerFuncs::default(),
        indexers,
    );
    let cancel = CancellationToken::new();
    let run = controller.start(cancel.clone());
    controller.wait_for_cache_sync(None).await.unwrap();
    let found = indexer.by_index("app", "busy-box").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].metadata.name(), "busy-box-1");
    cancel.cancel();
    run.await.unwrap();
}
