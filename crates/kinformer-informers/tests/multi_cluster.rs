//! The multi-cluster factory against several fake API servers: handlers said once reach every
//! cluster with its name, clusters join while running, a removed cluster frees its caches while
//! the others keep delivering, each server sees one list and one watch per resource however
//! many handlers, and an unreachable cluster does not hold back the others.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kinformer_cache::ResourceEventHandlerFuncs;
use kinformer_client::clientset::Clientset;
use kinformer_client::{Client, Config};
use kinformer_informers::{Error, FactoryOptions, MultiClusterInformerFactory};
use kinformer_meta::labels::Selector;
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use kinformer_typed::Pod;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

type Log = Arc<Mutex<Vec<String>>>;

fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    })
}

async fn server(pods: &[&str]) -> RunningServer {
    FakeApiServer::start(ServerConfig::default().objects(pods.iter().map(|name| pod(name))))
        .await
        .unwrap()
}

fn clientset(url: &str) -> Clientset {
    Clientset::new(Client::try_from(Config::new(url.parse().unwrap())).unwrap())
}

/// Registers, on every cluster, a handler that logs `cluster:verb:name`.
fn log_pods(fleet: &MultiClusterInformerFactory) -> Log {
    let log = Log::default();
    let sink = log.clone();
    fleet
        .add_event_handler_for::<Pod, _>(move |cluster| {
            let (adds, deletes) = (sink.clone(), sink.clone());
            let (add_cluster, delete_cluster) = (cluster.to_owned(), cluster.to_owned());
            ResourceEventHandlerFuncs::default()
                .add_func(move |pod: Arc<Pod>, _| {
                    let line = format!("{add_cluster}:add:{}", pod.metadata.name());
                    adds.lock().unwrap().push(line);
                })
                .delete_func(move |pod| {
                    let name = pod.object().map(|pod| pod.metadata.name().to_owned());
                    let line = format!("{delete_cluster}:delete:{}", name.unwrap_or_default());
                    deletes.lock().unwrap().push(line);
                })
        })
        .unwrap();
    log
}

async fn wait_for_line(log: &Log, line: &str) {
    for _ in 0..500 {
        if log.lock().unwrap().iter().any(|logged| logged == line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never logged {line:?}; log: {:?}", log.lock().unwrap());
}

fn assert_synced(results: &kinformer_informers::FleetSyncResults, cluster: &str) {
    let resources = &results[cluster];
    assert!(!resources.is_empty(), "{cluster} started no informer");
    for (resource, result) in resources {
        assert!(result.is_ok(), "{cluster} {resource}: {result:?}");
    }
}

#[tokio::test]
async fn a_handler_said_once_reaches_every_cluster_with_its_name() {
    let (east, west) = (server(&["east-web"]).await, server(&["west-web"]).await);
    let fleet = MultiClusterInformerFactory::new(FactoryOptions::default());
    fleet.add_cluster("east", clientset(&east.url())).unwrap();
    let log = log_pods(&fleet);
    let cancel = CancellationToken::new();
    fleet.start(&cancel);
    // West joins a running fleet and still gets the handler.
    fleet.add_cluster("west", clientset(&west.url())).unwrap();
    let results = fleet
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert_synced(&results, "east");
    assert_synced(&results, "west");
    wait_for_line(&log, "east:add:east-web").await;
    wait_for_line(&log, "west:add:west-web").await;

    west.handle().create(pod("west-new")).unwrap();
    wait_for_line(&log, "west:add:west-new").await;
    let lines = log.lock().unwrap().clone();
    assert!(
        !lines
            .iter()
            .any(|line| line.starts_with("east:") && line.contains("west")),
        "an event was tagged with the wrong cluster: {lines:?}"
    );

    let listers = fleet.listers_for::<Pod>().unwrap();
    let names = |cluster: &str| {
        let mut names: Vec<String> = listers[cluster]
            .list(&Selector::everything())
            .iter()
            .map(|pod| pod.metadata.name().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("east"), ["east-web"]);
    assert_eq!(names("west"), ["west-new", "west-web"]);
    fleet.shutdown().await;
}

#[tokio::test]
async fn removing_a_cluster_frees_its_cache_while_the_others_keep_delivering() {
    let (east, west) = (server(&["east-web"]).await, server(&["west-web"]).await);
    let fleet = MultiClusterInformerFactory::new(FactoryOptions::default());
    fleet.add_cluster("east", clientset(&east.url())).unwrap();
    fleet.add_cluster("west", clientset(&west.url())).unwrap();
    let log = log_pods(&fleet);
    let cancel = CancellationToken::new();
    fleet.start(&cancel);
    fleet
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    let east_cache = {
        let informer = fleet
            .cluster("east")
            .unwrap()
            .informer_for::<Pod>()
            .unwrap();
        assert_eq!(informer.indexer().len(), 1);
        Arc::downgrade(informer.indexer())
    };

    assert!(fleet.remove_cluster("east").await);
    assert!(!fleet.remove_cluster("east").await, "removed twice");
    assert!(
        east_cache.upgrade().is_none(),
        "east's cache outlived its removal"
    );
    assert_eq!(fleet.clusters(), ["west"]);

    east.handle().create(pod("east-late")).unwrap();
    west.handle().create(pod("west-late")).unwrap();
    wait_for_line(&log, "west:add:west-late").await;
    west.handle()
        .delete("v1", "Pod", Some("default"), "west-web")
        .unwrap();
    wait_for_line(&log, "west:delete:west-web").await;
    assert!(
        !log.lock()
            .unwrap()
            .iter()
            .any(|line| line == "east:add:east-late"),
        "a removed cluster still delivered"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn names_are_unique_and_a_shut_down_fleet_takes_no_clusters() {
    let east = server(&[]).await;
    let fleet = MultiClusterInformerFactory::new(FactoryOptions::default());
    fleet.add_cluster("east", clientset(&east.url())).unwrap();
    let again = fleet.add_cluster("east", clientset(&east.url()));
    assert!(
        matches!(&again, Err(Error::ClusterExists { cluster }) if cluster == "east"),
        "{:?}",
        again.err()
    );
    fleet.shutdown().await;
    assert_eq!(
        fleet.add_cluster("west", clientset(&east.url())).err(),
        Some(Error::ShutDown)
    );
    assert!(fleet.clusters().is_empty());
}

#[tokio::test]
async fn each_api_server_sees_one_list_and_one_watch_however_many_handlers() {
    let (east, west) = (server(&["east-web"]).await, server(&["west-web"]).await);
    let (east_proxy, west_proxy) = (
        CountingProxy::start(&east.url()).await,
        CountingProxy::start(&west.url()).await,
    );
    let fleet = MultiClusterInformerFactory::new(FactoryOptions::default());
    fleet
        .add_cluster("east", clientset(&east_proxy.url))
        .unwrap();
    fleet
        .add_cluster("west", clientset(&west_proxy.url))
        .unwrap();
    let logs: Vec<Log> = (0..3).map(|_| log_pods(&fleet)).collect();
    let cancel = CancellationToken::new();
    fleet.start(&cancel);
    let results = fleet
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert_synced(&results, "east");
    assert_synced(&results, "west");
    east.handle().create(pod("east-new")).unwrap();
    for log in &logs {
        wait_for_line(log, "east:add:east-new").await;
        wait_for_line(log, "west:add:west-web").await;
    }

    for proxy in [&east_proxy, &west_proxy] {
        assert_eq!(proxy.lists.load(Ordering::SeqCst), 1, "{}", proxy.url);
        assert_eq!(proxy.watches.load(Ordering::SeqCst), 1, "{}", proxy.url);
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_cluster_does_not_hold_back_the_others() {
    let west = server(&["west-web"]).await;
    // A port nothing listens on: bind, read the port, close.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let fleet = MultiClusterInformerFactory::new(FactoryOptions::default())
        .max_concurrent_syncs(1)
        .admission_timeout(Duration::from_millis(300));
    fleet.add_cluster("a-down", clientset(&closed)).unwrap();
    fleet.add_cluster("b-west", clientset(&west.url())).unwrap();
    let log = log_pods(&fleet);
    let cancel = CancellationToken::new();
    fleet.start(&cancel);

    let results = fleet
        .wait_for_cache_sync(Some(Duration::from_secs(2)))
        .await;
    assert_synced(&results, "b-west");
    let down = &results["a-down"];
    assert!(
        !down.is_empty() && down.values().all(Result::is_err),
        "the unreachable cluster reported {down:?}"
    );
    wait_for_line(&log, "b-west:add:west-web").await;
    fleet.shutdown().await;
}

/// A TCP proxy that counts the pod list and watch requests passing through it.
struct CountingProxy {
    url: String,
    lists: Arc<AtomicUsize>,
    watches: Arc<AtomicUsize>,
}

impl CountingProxy {
    async fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (lists, watches) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (list_count, watch_count) = (lists.clone(), watches.clone());
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let outbound = TcpStream::connect(&upstream).await.unwrap();
                let counts = (list_count.clone(), watch_count.clone());
                tokio::spawn(relay(inbound, outbound, counts));
            }
        });
        CountingProxy {
            url,
            lists,
            watches,
        }
    }
}

async fn relay(
    inbound: TcpStream,
    outbound: TcpStream,
    (lists, watches): (Arc<AtomicUsize>, Arc<AtomicUsize>),
) {
    let (mut client_read, mut client_write) = inbound.into_split();
    let (mut server_read, mut server_write) = outbound.into_split();
    let upstream = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let read = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            // Requests carry no body here, so each request line starts a read's worth of
            // headers; count the pod requests by their request line.
            let text = String::from_utf8_lossy(&buffer[..read]);
            for line in text
                .lines()
                .filter(|line| line.starts_with("GET /api/v1/pods"))
            {
                if line.contains("watch=true") || line.contains("watch=1") {
                    watches.fetch_add(1, Ordering::SeqCst);
                } else {
                    lists.fetch_add(1, Ordering::SeqCst);
                }
            }
            if server_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    };
    tokio::join!(upstream, downstream);
}
