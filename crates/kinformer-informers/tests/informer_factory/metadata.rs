//! The metadata factory against the fake API server: only metadata crosses the wire (a
//! byte-keeping proxy sits between informer and server), the informer syncs and follows
//! creates, updates and deletes, and its cache is a fraction of a typed cache of the same pods.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kinformer_cache::{SharedIndexInformer, Store};
use kinformer_client::clientset::Clientset;
use kinformer_client::metadata::MetadataClient;
use kinformer_client::{Client, Config};
use kinformer_informers::{FactoryOptions, MetadataSharedInformerFactory, SharedInformerFactory};
use kinformer_meta::labels::Selector;
use kinformer_meta::{ApiResource, Object, PartialObjectMetadata};
use kinformer_replay::{demo, FakeApiServer, RunningServer, ServerConfig};
use kinformer_typed::Pod;
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::{eventually, lines, pod, recorder, server, Log};

/// A loopback TCP proxy that keeps a copy of every byte the server sends back.
struct Tap {
    url: String,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Tap {
    async fn start(upstream: SocketAddr) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                tokio::spawn(relay(client, server, sink.clone()));
            }
        });
        Tap { url, received }
    }

    fn len(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

async fn relay(client: TcpStream, server: TcpStream, sink: Arc<Mutex<Vec<u8>>>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    };
    let down = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        while let Ok(n) = server_read.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            if client_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(up, down);
}

/// A client through `url` whose responses are not compressed, so the tap can read them.
fn plain_client(url: &str) -> Client {
    let mut config = Config::new(url.parse().unwrap());
    config.disable_compression = true;
    Client::try_from(config).unwrap()
}

/// Bytes of the cache's contents, each object as JSON.
fn cached_json_bytes<K: Object + Serialize>(informer: &SharedIndexInformer<K>) -> usize {
    informer
        .indexer()
        .list()
        .iter()
        .map(|object| serde_json::to_vec(&**object).unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_informer_receives_only_metadata_and_follows_every_change() {
    let server = server().await;
    let tap = Tap::start(server.address()).await;
    let factory = MetadataSharedInformerFactory::new(
        MetadataClient::new(plain_client(&tap.url)),
        FactoryOptions::default().namespace("default"),
    );
    let pods = ApiResource::of::<Pod>();
    let informer = factory.for_resource(&pods).unwrap();
    let log = Log::default();
    informer
        .add_event_handler(recorder::<PartialObjectMetadata>(&log))
        .unwrap();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let synced = factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await;
    assert!(synced.values().all(Result::is_ok), "{synced:?}");
    assert!(eventually(|| log.lock().unwrap().len() == 2).await);

    let handle = server.handle();
    handle.create(pod("default", "late", "x")).unwrap();
    let mut changed = pod("default", "late", "x");
    changed["metadata"]["labels"]["tier"] = json!("front");
    handle.update(changed).unwrap();
    handle
        .delete("v1", "Pod", Some("default"), "web-1")
        .unwrap();
    let expected = [
        "add busy-box-1 initial=true",
        "add late initial=false",
        "add web-1 initial=true",
        "delete web-1",
        "update late",
    ];
    assert!(
        eventually(|| lines(&log) == expected).await,
        "{:?}",
        lines(&log)
    );
    let lister = factory.lister(&pods).unwrap();
    let late = lister.namespace("default").get("late").unwrap();
    assert_eq!(late.metadata.labels.get("tier"), Some("front"));
    assert_eq!(
        (late.types.api_version.as_str(), late.types.kind.as_str()),
        ("v1", "Pod")
    );
    assert!(lister
        .list(&Selector::everything())
        .iter()
        .all(|o| o.api_version() == "v1" && o.kind() == "Pod"));
    assert!(lister.namespace("default").get("web-1").is_err());

    let wire = tap.text();
    let lower = wire.to_ascii_lowercase();
    assert!(
        lower.contains(
            "content-type: application/json;as=partialobjectmetadatalist;g=meta.k8s.io;v=v1\r\n"
        ),
        "{wire}"
    );
    assert!(
        lower.contains(
            "content-type: application/json;as=partialobjectmetadata;g=meta.k8s.io;v=v1\r\n"
        ),
        "{wire}"
    );
    assert!(wire.contains("\"tier\":\"front\""), "{wire}");
    // `busybox` is the pods' image: it is only in their spec, which never arrived.
    assert!(!wire.contains("busybox"), "{wire}");
    assert!(!wire.contains("\"spec\""), "{wire}");
    factory.shutdown().await;
    server.shutdown().await;
}

async fn realistic_server(count: usize) -> RunningServer {
    FakeApiServer::start(ServerConfig::default().objects(demo::preload(count, 4)))
        .await
        .unwrap()
}

/// A typed and a metadata pod informer over one server, both with `options`, synced.
struct Pair {
    typed: SharedInformerFactory,
    typed_pods: SharedIndexInformer<Pod>,
    typed_tap: Tap,
    metadata: MetadataSharedInformerFactory,
    metadata_pods: SharedIndexInformer<PartialObjectMetadata>,
    metadata_tap: Tap,
}

impl Pair {
    async fn start(
        server: &RunningServer,
        options: FactoryOptions,
        cancel: &CancellationToken,
    ) -> Pair {
        let typed_tap = Tap::start(server.address()).await;
        let metadata_tap = Tap::start(server.address()).await;
        let typed = SharedInformerFactory::with_options(
            Clientset::new(plain_client(&typed_tap.url)),
            options.clone(),
        );
        let metadata = MetadataSharedInformerFactory::new(
            MetadataClient::new(plain_client(&metadata_tap.url)),
            options,
        );
        let typed_pods = typed.core_v1().pods().informer().unwrap();
        let metadata_pods = metadata.for_resource(&ApiResource::of::<Pod>()).unwrap();
        typed.start(cancel);
        metadata.start(cancel);
        for synced in [
            typed
                .wait_for_cache_sync(Some(Duration::from_secs(20)))
                .await,
            metadata
                .wait_for_cache_sync(Some(Duration::from_secs(20)))
                .await,
        ] {
            assert!(synced.values().all(Result::is_ok), "{synced:?}");
        }
        Pair {
            typed,
            typed_pods,
            typed_tap,
            metadata,
            metadata_pods,
            metadata_tap,
        }
    }

    /// Cached bytes of the typed and the metadata informer.
    fn cached(&self, what: &str) -> (usize, usize) {
        let typed = cached_json_bytes(&self.typed_pods);
        let metadata = cached_json_bytes(&self.metadata_pods);
        eprintln!(
            "{what}: typed cache {typed} B, metadata cache {metadata} B (x{:.1}); received typed {} B, metadata {} B",
            typed as f64 / metadata.max(1) as f64,
            self.typed_tap.len(),
            self.metadata_tap.len(),
        );
        (typed, metadata)
    }

    async fn shutdown(self) {
        self.typed.shutdown().await;
        self.metadata.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metadata_cache_is_a_fraction_of_a_typed_cache_of_the_same_pods() {
    const PODS: usize = 200;
    let server = realistic_server(PODS).await;
    let cancel = CancellationToken::new();

    let plain = Pair::start(&server, FactoryOptions::default(), &cancel).await;
    assert_eq!(plain.typed_pods.indexer().len(), PODS);
    assert_eq!(plain.metadata_pods.indexer().len(), PODS);
    // Same objects, same versions: only the bodies are missing.
    for object in plain.metadata_pods.indexer().list() {
        let key = format!(
            "{}/{}",
            object.metadata.namespace.as_deref().unwrap_or(""),
            object.metadata.name.as_deref().unwrap_or("")
        );
        let whole = plain.typed_pods.indexer().get_by_key(&key).unwrap();
        assert_eq!(
            whole.metadata().resource_version,
            object.metadata.resource_version
        );
    }
    // A realistic pod's metadata is mostly managedFields, which both caches keep by default.
    let (typed, metadata) = plain.cached("as served");
    assert!(
        metadata * 2 < typed,
        "metadata cache {metadata} B, typed {typed} B"
    );
    assert!(plain.metadata_tap.len() * 2 < plain.typed_tap.len());
    plain.shutdown().await;

    // Dropping managedFields (the usual transform) leaves the metadata cache a small fraction.
    let without_managed_fields =
        FactoryOptions::default().transform(|meta| meta.managed_fields = None);
    let trimmed = Pair::start(&server, without_managed_fields, &cancel).await;
    let (typed, metadata) = trimmed.cached("without managedFields");
    assert!(
        metadata * 4 < typed,
        "metadata cache {metadata} B, typed {typed} B"
    );
    trimmed.shutdown().await;
    server.shutdown().await;
}
