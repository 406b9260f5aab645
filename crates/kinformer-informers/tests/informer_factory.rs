//! The factories against the fake API server: listers, handlers, late registration, selectors,
//! transform, kind/apiVersion on listed objects, sync failures (403, 404, TLS), relists without
//! no-op updates, and removing one informer while another keeps delivering. The metadata factory's
//! own tests (what crosses the wire, cache size) are in `informer_factory/metadata.rs`.

#[path = "informer_factory/metadata.rs"]
mod metadata;

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use kinformer_cache::{CacheSyncError, DeltaObject, ResourceEventHandlerFuncs};
use kinformer_client::clientset::Clientset;
use kinformer_client::dynamic::DynamicClient;
use kinformer_client::{Client, Config};
use kinformer_dynamic::DynamicObject;
use kinformer_informers::{
    DynamicSharedInformerFactory, Error, FactoryOptions, SharedInformerFactory,
};
use kinformer_meta::labels::Selector;
use kinformer_meta::{ApiResource, GroupVersionResource, Object, Scope};
use kinformer_replay::{FakeApiServer, Fault, FaultRule, RunningServer, ServerConfig};
use kinformer_typed::{ConfigMap, Pod};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

type Log = Arc<Mutex<Vec<String>>>;

fn config_map(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {"team": "a"},
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "v1"}]},
        "data": {"k": "v"},
    })
}

fn pod(namespace: &str, name: &str, app: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    })
}

async fn server() -> RunningServer {
    FakeApiServer::start(ServerConfig::default().objects([
        config_map("default", "kube-root-ca.crt"),
        config_map("default", "my-config"),
        config_map("other", "elsewhere"),
        pod("default", "busy-box-1", "busy-box"),
        pod("default", "web-1", "web"),
        pod("other", "db-1", "db"),
    ]))
    .await
    .unwrap()
}

fn client(server: &RunningServer) -> Client {
    Client::try_from(Config::new(server.url().parse().unwrap())).unwrap()
}

fn gvr(resource: &str) -> GroupVersionResource {
    GroupVersionResource::new("", "v1", resource)
}

fn recorder<K: Object>(log: &Log) -> ResourceEventHandlerFuncs<K> {
    let (a, u, d) = (log.clone(), log.clone(), log.clone());
    ResourceEventHandlerFuncs::default()
        .add_func(move |o: Arc<K>, initial| {
            let line = format!("add {} initial={initial}", o.metadata().name());
            a.lock().unwrap().push(line)
        })
        .update_func(move |_old: Arc<K>, new: Arc<K>| {
            let line = format!("update {}", new.metadata().name());
            u.lock().unwrap().push(line)
        })
        .delete_func(move |o: DeltaObject<K>| {
            let name = o.object().map(|o| o.metadata().name().to_owned());
            d.lock()
                .unwrap()
                .push(format!("delete {}", name.unwrap_or_default()))
        })
}

fn lines(log: &Log) -> Vec<String> {
    let mut lines = log.lock().unwrap().clone();
    lines.sort();
    lines
}

/// Waits until `condition` holds, polling; false after many tries.
async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

fn names<K: Object>(objects: &[Arc<K>]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o.metadata().namespace().unwrap_or(""),
                o.metadata().name()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factory_lists_configmaps_and_pods_of_its_namespace_with_kind_and_api_version() {
    let server = server().await;
    let factory = SharedInformerFactory::with_options(
        Clientset::new(client(&server)),
        FactoryOptions::default().namespace("default"),
    );
    let log = Log::default();
    let config_maps = factory.for_resource(&gvr("configmaps")).unwrap();
    config_maps
        .informer::<ConfigMap>()
        .unwrap()
        .add_event_handler(recorder::<ConfigMap>(&log))
        .unwrap();
    factory.for_resource(&gvr("pods")).unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert_eq!(synced.len(), 2);
    assert!(synced.values().all(Result::is_ok), "{synced:?}");

    let everything = Selector::everything();
    let cms = factory
        .core_v1()
        .config_maps()
        .lister()
        .unwrap()
        .list(&everything);
    assert_eq!(
        names(&cms),
        ["default/kube-root-ca.crt", "default/my-config"]
    );
    let pods = factory.core_v1().pods().lister().unwrap().list(&everything);
    assert_eq!(names(&pods), ["default/busy-box-1", "default/web-1"]);
    // Objects that came from a list response still say what they are.
    assert!(cms
        .iter()
        .all(|o| o.api_version() == "v1" && o.kind() == "ConfigMap"));
    assert!(pods
        .iter()
        .all(|o| o.api_version() == "v1" && o.kind() == "Pod"));
    assert!(eventually(|| log.lock().unwrap().len() == 2).await);
    assert_eq!(
        lines(&log),
        [
            "add kube-root-ca.crt initial=true",
            "add my-config initial=true"
        ]
    );

    // Same informer through every accessor; one informer per resource.
    assert_eq!(factory.resources().len(), 2);
    let lister = config_maps.lister::<ConfigMap>().unwrap();
    assert_eq!(
        lister
            .namespace("default")
            .get("my-config")
            .unwrap()
            .metadata()
            .name(),
        "my-config"
    );
    let missing = lister.namespace("default").get("nope").unwrap_err();
    assert_eq!(missing.to_string(), "configmaps \"nope\" not found");
    assert!(matches!(
        config_maps.informer::<Pod>(),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        factory.for_resource(&GroupVersionResource::new("example.com", "v1", "widgets")),
        Err(Error::UnknownResource { .. })
    ));
    factory.shutdown().await;
    assert!(matches!(
        factory.core_v1().pods().informer(),
        Err(Error::ShutDown)
    ));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_see_live_changes_and_a_late_handler_gets_the_cache_first() {
    let server = server().await;
    let factory = SharedInformerFactory::new(Clientset::new(client(&server)), None);
    let informer = factory.core_v1().config_maps().informer().unwrap();
    let (first, second) = (Log::default(), Log::default());
    informer
        .add_event_handler(recorder::<ConfigMap>(&first))
        .unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    informer
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await
        .unwrap();

    let handle = server.handle();
    handle.create(config_map("default", "new")).unwrap();
    assert!(eventually(|| informer.indexer().len() == 4).await);
    let late = informer
        .add_event_handler(recorder::<ConfigMap>(&second))
        .unwrap();
    handle
        .delete("v1", "ConfigMap", Some("default"), "my-config")
        .unwrap();
    assert!(
        eventually(|| first.lock().unwrap().len() == 5).await,
        "{:?}",
        lines(&first)
    );
    assert!(
        eventually(|| second.lock().unwrap().len() == 5).await,
        "{:?}",
        lines(&second)
    );
    assert!(late.has_synced());
    assert_eq!(
        lines(&first),
        [
            "add elsewhere initial=true",
            "add kube-root-ca.crt initial=true",
            "add my-config initial=true",
            "add new initial=false",
            "delete my-config"
        ]
    );
    assert_eq!(
        lines(&second),
        [
            "add elsewhere initial=true",
            "add kube-root-ca.crt initial=true",
            "add my-config initial=true",
            "add new initial=true",
            "delete my-config"
        ]
    );
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_and_the_transform_shape_what_is_cached() {
    let server = server().await;
    let factory = SharedInformerFactory::with_options(
        Clientset::new(client(&server)),
        FactoryOptions::default()
            .tweak_list_options(|options| options.label_selector = Some("app=busy-box".into()))
            .transform(|meta| {
                meta.managed_fields = None;
                meta.labels.remove("team");
            }),
    );
    let pods = factory.core_v1().pods();
    pods.informer().unwrap();
    let config_maps = factory.core_v1().config_maps();
    config_maps.informer().unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(synced.values().all(Result::is_ok), "{synced:?}");
    let everything = Selector::everything();
    assert_eq!(
        names(&pods.lister().unwrap().list(&everything)),
        ["default/busy-box-1"]
    );
    // Config maps have no app label: the tweak applies to every informer of the factory.
    assert!(config_maps.lister().unwrap().list(&everything).is_empty());
    server
        .handle()
        .create(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "tagged", "namespace": "default",
                "labels": {"app": "busy-box", "team": "a"},
                "managedFields": [{"manager": "kubectl", "operation": "Apply"}]}}))
        .unwrap();
    let lister = config_maps.lister().unwrap();
    assert!(eventually(|| lister.list(&everything).len() == 1).await);
    let cached = lister.namespace("default").get("tagged").unwrap();
    assert_eq!(cached.metadata().managed_fields, None);
    assert_eq!(cached.metadata().labels.get("team"), None);
    assert_eq!(cached.metadata().labels.get("app"), Some("busy-box"));
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_cache_sync_reports_a_forbidden_resource_and_syncs_the_others() {
    let server = server().await;
    server.handle().inject(
        FaultRule::new(Fault::Status {
            code: 403,
            retry_after_seconds: None,
        })
        .verb("list")
        .path("/pods")
        .always(),
    );
    let factory = SharedInformerFactory::new(Clientset::new(client(&server)), None);
    factory.core_v1().pods().informer().unwrap();
    factory.core_v1().config_maps().informer().unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(synced[&gvr("configmaps")].is_ok());
    match &synced[&gvr("pods")] {
        Err(CacheSyncError::Forbidden {
            code: 403,
            resource,
            ..
        }) => {
            assert_eq!(resource.resource, "pods")
        }
        other => panic!("unexpected {other:?}"),
    }
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_cache_sync_reports_an_unknown_resource() {
    let server = server().await;
    let factory = DynamicSharedInformerFactory::new(
        DynamicClient::new(client(&server)),
        FactoryOptions::default(),
    );
    let widgets = ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        scope: Scope::Namespaced,
    };
    factory.for_resource(&widgets).unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(
        matches!(
            synced[&widgets.gvr()],
            Err(CacheSyncError::UnknownResource { .. })
        ),
        "{synced:?}"
    );
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_cache_sync_reports_a_tls_failure() {
    let server = FakeApiServer::start(ServerConfig::default().generated_tls())
        .await
        .unwrap();
    // No CA configured: the server's certificate cannot be verified.
    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
    let factory = SharedInformerFactory::new(Clientset::new(client), None);
    factory.core_v1().pods().informer().unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(
        matches!(synced[&gvr("pods")], Err(CacheSyncError::Tls { .. })),
        "{synced:?}"
    );
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relist_sends_no_updates_for_unchanged_objects_but_still_delivers_changes() {
    let server = server().await;
    let factory = SharedInformerFactory::new(Clientset::new(client(&server)), None);
    let informer = factory.core_v1().pods().informer().unwrap();
    let log = Log::default();
    informer.add_event_handler(recorder::<Pod>(&log)).unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    informer
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(eventually(|| log.lock().unwrap().len() == 3).await);

    // The server restarts (cutting the watch) and the next watch ends at once with 410 Gone:
    // the reflector relists and finds every pod unchanged but the new one.
    let mut server = server;
    let handle = server.handle();
    handle.create(pod("default", "trigger", "x")).unwrap();
    assert!(eventually(|| log.lock().unwrap().len() == 4).await);
    handle.inject(FaultRule::new(Fault::GoneAfterEvents(0)).verb("watch"));
    server.restart(true).await.unwrap();
    let handle = server.handle();
    // Wait until the relist happened, then change one pod.
    assert!(eventually(|| log.lock().unwrap().len() == 4).await);
    assert!(
        eventually(|| informer
            .reflector_metrics()
            .is_some_and(|m| m.relists >= 1 && m.watches >= 2))
        .await,
        "{:?}",
        informer.reflector_metrics()
    );
    let mut web = handle.get("v1", "Pod", Some("default"), "web-1").unwrap();
    web["metadata"]["labels"]["tier"] = json!("front");
    handle.update(web).unwrap();
    assert!(
        eventually(|| log.lock().unwrap().len() == 5).await,
        "{:?}",
        lines(&log)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let updates: Vec<_> = lines(&log)
        .into_iter()
        .filter(|l| l.starts_with("update"))
        .collect();
    assert_eq!(updates, ["update web-1"]);
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_one_informer_frees_its_cache_while_another_keeps_delivering() {
    let server = server().await;
    let factory = SharedInformerFactory::new(Clientset::new(client(&server)), None);
    let pods = factory.core_v1().pods().informer().unwrap();
    let config_maps = factory.core_v1().config_maps().informer().unwrap();
    let log = Log::default();
    config_maps
        .add_event_handler(recorder::<ConfigMap>(&log))
        .unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(synced.values().all(Result::is_ok));
    let pod_lister = pods.lister();
    let cached: Vec<Weak<Pod>> = pod_lister
        .list(&Selector::everything())
        .iter()
        .map(Arc::downgrade)
        .collect();
    assert_eq!(cached.len(), 3);

    assert!(factory.remove(&gvr("pods")).await);
    assert!(!factory.remove(&gvr("pods")).await);
    assert!(pods.is_stopped());
    assert_eq!(pods.indexer().len(), 0);
    assert!(
        cached.iter().all(|w| w.upgrade().is_none()),
        "pods still allocated"
    );
    assert_eq!(factory.resources(), [gvr("configmaps")]);

    server
        .handle()
        .create(config_map("default", "after-removal"))
        .unwrap();
    assert!(
        eventually(|| lines(&log).contains(&"add after-removal initial=false".to_owned())).await
    );
    assert!(config_maps.has_synced());
    factory.shutdown().await;
    assert!(config_maps.is_stopped());
    assert_eq!(config_maps.indexer().len(), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamic_factory_caches_objects_with_their_types() {
    let server = server().await;
    let factory = DynamicSharedInformerFactory::new(
        DynamicClient::new(client(&server)),
        FactoryOptions::default().namespace("default"),
    );
    let resource = ApiResource {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
        plural: "configmaps".into(),
        scope: Scope::Namespaced,
    };
    let informer = factory.for_resource(&resource).unwrap();
    let log = Log::default();
    informer
        .add_event_handler(recorder::<DynamicObject>(&log))
        .unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(synced.values().all(Result::is_ok), "{synced:?}");
    let objects = factory
        .lister(&resource)
        .unwrap()
        .list(&Selector::everything());
    assert_eq!(
        names(&objects),
        ["default/kube-root-ca.crt", "default/my-config"]
    );
    assert!(objects
        .iter()
        .all(|o| o.api_version() == "v1" && o.kind() == "ConfigMap"));
    assert!(eventually(|| log.lock().unwrap().len() == 2).await);
    assert!(factory.remove(&resource.gvr()).await);
    assert_eq!(informer.indexer().len(), 0);
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_factory_caches_only_type_and_metadata() {
    let server = server().await;
    let factory = kinformer_informers::MetadataSharedInformerFactory::new(
        DynamicClient::new(client(&server)),
        FactoryOptions::default().namespace("default"),
    );
    let pods = ApiResource::of::<Pod>();
    let informer = factory.for_resource(&pods).unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(synced.values().all(Result::is_ok), "{synced:?}");
    let lister = factory.lister(&pods).unwrap();
    let busy_box = lister.namespace("default").get("busy-box-1").unwrap();
    assert_eq!(busy_box.types.api_version, "v1");
    assert_eq!(busy_box.types.kind, "Pod");
    assert_eq!(busy_box.metadata.labels.get("app"), Some("busy-box"));
    assert_eq!(lister.list(&Selector::everything()).len(), 2);

    server.handle().create(pod("default", "late", "x")).unwrap();
    assert!(eventually(|| informer.indexer().len() == 3).await);
    assert!(factory.remove(&pods.gvr()).await);
    assert_eq!(informer.indexer().len(), 0);
    factory.shutdown().await;
    server.shutdown().await;
}

#[test]
fn per_resource_resync_overrides_the_default() {
    let client = Client::try_from(Config::new("http://127.0.0.1:1".parse().unwrap())).unwrap();
    let factory = SharedInformerFactory::with_options(
        Clientset::new(client),
        FactoryOptions::default()
            .default_resync(Some(Duration::from_secs(600)))
            .custom_resync(gvr("pods"), Duration::from_secs(30)),
    );
    let pods = factory.core_v1().pods().informer().unwrap();
    let config_maps = factory.core_v1().config_maps().informer().unwrap();
    assert_eq!(pods.default_resync(), Some(Duration::from_secs(30)));
    assert_eq!(config_maps.default_resync(), Some(Duration::from_secs(600)));
    // One informer per resource: asking again gives the same cache.
    let again = factory
        .for_resource(&gvr("pods"))
        .unwrap()
        .informer::<Pod>()
        .unwrap();
    assert!(Arc::ptr_eq(pods.indexer(), again.indexer()));
}

/// Mirrors what a handler hears into a map of key -> resourceVersion.
fn mirror<K: Object>(
    state: &Arc<Mutex<std::collections::BTreeMap<String, String>>>,
) -> ResourceEventHandlerFuncs<K> {
    let (a, u, d) = (state.clone(), state.clone(), state.clone());
    let key = |o: &K| {
        format!(
            "{}/{}",
            o.metadata().namespace().unwrap_or(""),
            o.metadata().name()
        )
    };
    let version = |o: &K| o.metadata().resource_version().unwrap_or("").to_owned();
    ResourceEventHandlerFuncs::default()
        .add_func(move |o: Arc<K>, _| {
            a.lock().unwrap().insert(key(&o), version(&o));
        })
        .update_func(move |_: Arc<K>, new: Arc<K>| {
            u.lock().unwrap().insert(key(&new), version(&new));
        })
        .delete_func(move |o: DeltaObject<K>| {
            let gone = match &o {
                DeltaObject::Object(object) => key(object),
                DeltaObject::DeletedFinalStateUnknown(tombstone) => tombstone.key.to_string(),
            };
            d.lock().unwrap().remove(&gone);
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_timeline_leaves_caches_and_handlers_equal_to_the_server() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/demo/cluster.yaml"
    );
    let fixture = kinformer_replay::fixture::Fixture::load(std::path::Path::new(path)).unwrap();
    let server = FakeApiServer::start(fixture.configure(ServerConfig::default()))
        .await
        .unwrap();
    let factory = SharedInformerFactory::new(Clientset::new(client(&server)), None);
    let pods = factory.core_v1().pods().informer().unwrap();
    let replica_sets = factory.apps_v1().replica_sets().informer().unwrap();
    let deployments = factory.apps_v1().deployments().informer().unwrap();
    let heard = Arc::new(Mutex::new(std::collections::BTreeMap::new()));
    pods.add_event_handler(mirror::<Pod>(&heard)).unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(synced.values().all(Result::is_ok), "{synced:?}");

    let handle = server.handle();
    fixture.play(&handle).await.unwrap();

    let server_state = |api_version: &str, kind: &str| {
        let mut state: Vec<(String, String)> = handle
            .list(api_version, kind, None)
            .iter()
            .map(|o| {
                let meta = &o["metadata"];
                (
                    format!(
                        "{}/{}",
                        meta["namespace"].as_str().unwrap_or(""),
                        meta["name"].as_str().unwrap_or("")
                    ),
                    meta["resourceVersion"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        state.sort();
        state
    };
    fn cached<K: Object>(
        informer: &kinformer_cache::SharedIndexInformer<K>,
    ) -> Vec<(String, String)> {
        let mut state: Vec<(String, String)> = informer
            .lister()
            .list(&Selector::everything())
            .iter()
            .map(|o| {
                (
                    format!(
                        "{}/{}",
                        o.metadata().namespace().unwrap_or(""),
                        o.metadata().name()
                    ),
                    o.metadata().resource_version().unwrap_or("").to_owned(),
                )
            })
            .collect();
        state.sort();
        state
    }
    let expected_pods = server_state("v1", "Pod");
    assert!(!expected_pods.is_empty());
    assert!(
        eventually(|| cached(&pods) == expected_pods).await,
        "pods differ: {:?} vs {:?}",
        cached(&pods),
        expected_pods
    );
    assert!(eventually(|| cached(&replica_sets) == server_state("apps/v1", "ReplicaSet")).await);
    assert!(eventually(|| cached(&deployments) == server_state("apps/v1", "Deployment")).await);
    let heard_pods = |heard: &Mutex<std::collections::BTreeMap<String, String>>| {
        heard
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(|| heard_pods(&heard) == expected_pods).await,
        "the handler's view differs: {:?}",
        heard_pods(&heard)
    );
    assert!(pods
        .lister()
        .list(&Selector::everything())
        .iter()
        .all(|p| p.api_version() == "v1" && p.kind() == "Pod"));
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_blocked_handler_lags_alone_and_a_removed_handler_hears_nothing_more() {
    let server = server().await;
    let factory = SharedInformerFactory::new(Clientset::new(client(&server)), None);
    let informer = factory.core_v1().config_maps().informer().unwrap();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let gate = Mutex::new(gate);
    let blocked = informer
        .add_event_handler(ResourceEventHandlerFuncs::<ConfigMap>::default().add_func(
            move |_, _| {
                let _ = gate.lock().unwrap().recv();
            },
        ))
        .unwrap();
    let (kept, removed) = (Log::default(), Log::default());
    let kept_registration = informer
        .add_event_handler(recorder::<ConfigMap>(&kept))
        .unwrap();
    let removed_registration = informer
        .add_event_handler(recorder::<ConfigMap>(&removed))
        .unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    kept_registration
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await
        .unwrap();
    // The handler about to be removed must have heard the initial list first; its listener
    // runs on its own task, so the kept handler's sync says nothing about it.
    removed_registration
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await
        .unwrap();
    // The blocked handler is stuck in its first initial add: not synced, the rest waits.
    assert!(!blocked.has_synced());
    assert!(eventually(|| blocked.stats().pending == 2).await);

    assert!(informer.remove_event_handler(&removed_registration));
    let handle = server.handle();
    handle.create(config_map("default", "one")).unwrap();
    handle.create(config_map("default", "two")).unwrap();
    assert!(eventually(|| kept.lock().unwrap().len() == 5).await);
    assert_eq!(removed.lock().unwrap().len(), 3);
    assert!(eventually(|| blocked.stats().pending == 4).await);
    for _ in 0..5 {
        release.send(()).unwrap();
    }
    assert!(eventually(|| blocked.stats().delivered == 5).await);
    assert!(blocked.has_synced());
    factory.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_handler_with_a_resync_period_gets_periodic_no_op_updates() {
    let server = server().await;
    let factory = SharedInformerFactory::with_options(
        Clientset::new(client(&server)),
        FactoryOptions::default().namespace("default"),
    );
    let informer = factory.core_v1().config_maps().informer().unwrap();
    let (resyncing, quiet) = (Log::default(), Log::default());
    informer
        .add_event_handler_with_resync(
            recorder::<ConfigMap>(&resyncing),
            Some(Duration::from_secs(1)),
        )
        .unwrap();
    informer
        .add_event_handler(recorder::<ConfigMap>(&quiet))
        .unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    informer
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await
        .unwrap();
    let updates = |log: &Log| {
        lines(log)
            .iter()
            .filter(|l| l.starts_with("update"))
            .count()
    };
    // Two objects resynced at least once each.
    assert!(eventually(|| updates(&resyncing) >= 2).await);
    assert_eq!(updates(&quiet), 0);
    assert_eq!(quiet.lock().unwrap().len(), 2);
    factory.shutdown().await;
    server.shutdown().await;
}
