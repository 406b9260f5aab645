//! The metadata client against the fake API server: what crosses the wire is metadata only
//! (seen by a byte-counting proxy between client and server), paged lists, watches that follow
//! creates, updates and deletes, a streamed initial list, get and delete, and the kind and
//! apiVersion every object carries; and a server that ignores `as=` (played by a proxy that
//! rewrites the Accept header), whose whole objects are reduced to metadata.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kinformer_client::metadata::{MetadataClient, MetadataResource};
use kinformer_client::{Client, Config, DeleteParams, DeleteResponse, Patch, PatchParams};
use kinformer_meta::{
    ApiResource, GroupVersionKind, GroupVersionResource, ListOptions, PartialObjectMetadata,
    ResourceVersionMatch, Scope, WatchEvent,
};
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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

/// A loopback proxy that plays a server from before `as=PartialObjectMetadata`: it rewrites
/// every request's Accept header to plain JSON, so whole objects come back. Request heads are
/// buffered until complete, so any TCP split works; bodies are forwarded by Content-Length.
async fn old_server(upstream: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(upstream).await else {
                continue;
            };
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let up = async move {
                    let mut pending: Vec<u8> = Vec::new();
                    let mut body_left = 0usize;
                    let mut buffer = vec![0u8; 16 * 1024];
                    while let Ok(n) = client_read.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        pending.extend_from_slice(&buffer[..n]);
                        loop {
                            if body_left > 0 {
                                let take = body_left.min(pending.len());
                                let body: Vec<u8> = pending.drain(..take).collect();
                                body_left -= take;
                                if server_write.write_all(&body).await.is_err() {
                                    return;
                                }
                                if body_left > 0 {
                                    break;
                                }
                            }
                            let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n")
                            else {
                                break;
                            };
                            let head: Vec<u8> = pending.drain(..end + 4).collect();
                            let head = String::from_utf8_lossy(&head).into_owned();
                            let mut rewritten = String::new();
                            for line in head.split_inclusive("\r\n") {
                                let lower = line.to_ascii_lowercase();
                                if lower.starts_with("accept:") {
                                    rewritten.push_str("accept: application/json\r\n");
                                    continue;
                                }
                                if let Some(length) = lower.strip_prefix("content-length:") {
                                    body_left = length.trim().parse().unwrap_or(0);
                                }
                                rewritten.push_str(line);
                            }
                            if server_write.write_all(rewritten.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                    let _ = server_write.shutdown().await;
                };
                let down = async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                };
                tokio::join!(up, down);
            });
        }
    });
    address
}

fn pod(namespace: &str, name: &str, app: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "registry.example.com/only-in-spec:1"}]},
    })
}

fn pods() -> ApiResource {
    ApiResource::from_gvk(
        &GroupVersionKind::new("", "v1", "Pod"),
        "pods",
        Scope::Namespaced,
    )
}

async fn server() -> RunningServer {
    let objects = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|name| pod("default", name, if *name < "c" { "web" } else { "db" }));
    FakeApiServer::start(ServerConfig::default().objects(objects.chain([pod("other", "z", "web")])))
        .await
        .unwrap()
}

fn metadata_client(url: &str) -> MetadataClient {
    let mut config = Config::new(url.parse().unwrap());
    // Plain bytes on the wire, so the tap can read them.
    config.disable_compression = true;
    MetadataClient::new(Client::try_from(config).unwrap())
}

fn names(items: &[PartialObjectMetadata]) -> Vec<&str> {
    items
        .iter()
        .map(|item| item.metadata.name.as_deref().unwrap_or(""))
        .collect()
}

fn with_pod_types(items: &[PartialObjectMetadata]) -> bool {
    items
        .iter()
        .all(|item| item.types.api_version == "v1" && item.types.kind == "Pod")
}

#[tokio::test]
async fn list_get_and_watch_receive_only_metadata_over_the_wire() {
    let server = server().await;
    let tap = Tap::start(server.address()).await;
    let default_pods = metadata_client(&tap.url)
        .resource(&pods())
        .namespace("default");

    let list = default_pods.list(&ListOptions::default()).await.unwrap();
    assert_eq!(names(&list.items), ["a", "b", "c", "d", "e"]);
    assert!(with_pod_types(&list.items));
    assert_eq!(list.items[0].metadata.labels.get("app"), Some("web"));
    assert!(list.items[0].metadata.uid.is_some());

    let one = default_pods.get("c").await.unwrap();
    assert_eq!(one.metadata.labels.get("app"), Some("db"));
    assert_eq!(
        (one.types.api_version.as_str(), one.types.kind.as_str()),
        ("v1", "Pod")
    );

    let options = ListOptions::default()
        .resource_version(list.resource_version().unwrap())
        .timeout_seconds(1);
    let mut watch = default_pods.watch(&options).await.unwrap();
    server.handle().create(pod("default", "f", "web")).unwrap();
    let Some(Ok(WatchEvent::Added(added))) = watch.next().await else {
        panic!("no ADDED event");
    };
    assert_eq!(added.metadata.name.as_deref(), Some("f"));
    assert_eq!(added.types.kind, "Pod");
    drop(watch);

    let wire = tap.text();
    let lower = wire.to_ascii_lowercase();
    for content_type in [
        "content-type: application/json;as=partialobjectmetadatalist;g=meta.k8s.io;v=v1\r\n",
        "content-type: application/json;as=partialobjectmetadata;g=meta.k8s.io;v=v1\r\n",
    ] {
        assert!(lower.contains(content_type), "{content_type} not in {wire}");
    }
    assert!(
        !lower.contains("content-type: application/json\r\n"),
        "{wire}"
    );
    // The image is only in the pods' spec: it never arrived.
    assert!(wire.contains("\"app\":\"web\""), "{wire}");
    assert!(!wire.contains("only-in-spec"), "{wire}");
    assert!(!wire.contains("\"spec\""), "{wire}");
    server.shutdown().await;
}

#[tokio::test]
async fn list_all_walks_metadata_pages_and_selectors_apply() {
    let server = server().await;
    let default_pods = metadata_client(&server.url())
        .resource(&pods())
        .namespace("default");
    let page = default_pods
        .list(&ListOptions::default().limit(2))
        .await
        .unwrap();
    assert_eq!(names(&page.items), ["a", "b"]);
    assert!(page.continue_token().is_some());
    let all = default_pods
        .list_all(&ListOptions::default().limit(2))
        .await
        .unwrap();
    assert_eq!(names(&all.items), ["a", "b", "c", "d", "e"]);
    assert!(with_pod_types(&all.items));
    assert_eq!(all.continue_token(), None);
    let web = metadata_client(&server.url())
        .resource(&pods())
        .list(&ListOptions::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(names(&web.items), ["a", "b", "z"]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_watch_follows_creates_updates_and_deletes_as_metadata() {
    let server = server().await;
    let default_pods = metadata_client(&server.url())
        .resource(&pods())
        .namespace("default");
    let version = default_pods
        .list(&ListOptions::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut watch = default_pods
        .watch(
            &ListOptions::default()
                .resource_version(version)
                .timeout_seconds(5),
        )
        .await
        .unwrap();
    let handle = server.handle();
    handle.create(pod("default", "new", "web")).unwrap();
    let mut changed = pod("default", "new", "web");
    changed["metadata"]["labels"]["tier"] = json!("front");
    handle.update(changed).unwrap();
    handle.delete("v1", "Pod", Some("default"), "new").unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .expect("an event in time")
            .expect("the watch goes on")
            .unwrap();
        let object = event.object().unwrap();
        assert_eq!(object.types.kind, "Pod");
        seen.push(format!(
            "{} {} tier={}",
            event.type_name(),
            object.metadata.name.as_deref().unwrap_or(""),
            object.metadata.labels.get("tier").unwrap_or("-")
        ));
    }
    assert_eq!(
        seen,
        [
            "ADDED new tier=-",
            "MODIFIED new tier=front",
            "DELETED new tier=front"
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_streamed_initial_list_of_metadata_ends_with_its_bookmark() {
    let server = server().await;
    let default_pods = metadata_client(&server.url())
        .resource(&pods())
        .namespace("default");
    let options = ListOptions::default()
        .send_initial_events(true)
        .resource_version_match(ResourceVersionMatch::NotOlderThan)
        .allow_watch_bookmarks(true)
        .timeout_seconds(5);
    let mut watch = default_pods.watch(&options).await.unwrap();
    let mut added = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .expect("an event in time")
            .expect("the watch goes on")
            .unwrap();
        match event {
            WatchEvent::Added(object) => added.push(object),
            WatchEvent::Bookmark(bookmark) if bookmark.is_initial_events_end() => {
                assert!(!bookmark.resource_version.is_empty());
                break;
            }
            WatchEvent::Bookmark(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(names(&added), ["a", "b", "c", "d", "e"]);
    assert!(with_pod_types(&added));
    server.shutdown().await;
}

#[tokio::test]
async fn get_patch_and_delete_answer_with_metadata_or_a_status() {
    let server = server().await;
    let default_pods = metadata_client(&server.url())
        .resource(&pods())
        .namespace("default");
    let missing = default_pods.get("nope").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");

    let patched = default_pods
        .patch(
            "a",
            &Patch::Merge(json!({"metadata": {"labels": {"patched": "yes"}}})),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.labels.get("patched"), Some("yes"));
    assert_eq!(patched.types.kind, "Pod");

    match default_pods
        .delete("a", &DeleteParams::default())
        .await
        .unwrap()
    {
        DeleteResponse::Pending(object) => {
            assert_eq!(object.metadata.name.as_deref(), Some("a"));
            assert_eq!(object.types.kind, "Pod");
        }
        DeleteResponse::Deleted(status) => {
            assert_eq!(status.details.and_then(|d| d.name).as_deref(), Some("a"))
        }
    }
    assert!(default_pods.get("a").await.unwrap_err().is_not_found());
    server.shutdown().await;
}

#[tokio::test]
async fn a_resource_known_only_by_gvr_hands_out_partial_object_metadata() {
    let server = server().await;
    let gvr = GroupVersionResource::new("", "v1", "pods");
    let by_gvr: MetadataResource = metadata_client(&server.url())
        .resource_for(&gvr, Scope::Namespaced)
        .namespace("other");
    let list = by_gvr.list(&ListOptions::default()).await.unwrap();
    assert_eq!(names(&list.items), ["z"]);
    assert_eq!(list.items[0].types.api_version, "meta.k8s.io/v1");
    assert_eq!(list.items[0].types.kind, "PartialObjectMetadata");
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_that_ignores_the_metadata_media_type_still_yields_metadata() {
    let server = server().await;
    // The tap sees what the old server sends back.
    let tap = Tap::start(old_server(server.address()).await).await;
    let default_pods = metadata_client(&tap.url)
        .resource(&pods())
        .namespace("default");

    let list = default_pods
        .list(&ListOptions::default().limit(2))
        .await
        .unwrap();
    assert_eq!(names(&list.items), ["a", "b"]);
    assert!(with_pod_types(&list.items));
    let all = default_pods
        .list_all(&ListOptions::default().limit(2))
        .await
        .unwrap();
    assert_eq!(names(&all.items), ["a", "b", "c", "d", "e"]);
    let one = default_pods.get("c").await.unwrap();
    assert_eq!(one.metadata.labels.get("app"), Some("db"));
    assert_eq!(one.types.kind, "Pod");

    let options = ListOptions::default()
        .resource_version(list.resource_version().unwrap())
        .timeout_seconds(5);
    let mut watch = default_pods.watch(&options).await.unwrap();
    server.handle().create(pod("default", "f", "web")).unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .expect("an event in time")
        .expect("the watch goes on")
        .unwrap();
    match event {
        WatchEvent::Added(added) => {
            assert_eq!(added.metadata.name.as_deref(), Some("f"));
            assert_eq!(added.types.kind, "Pod");
        }
        other => panic!("{other:?}"),
    }
    drop(watch);
    // Whole objects did arrive: this is the fallback, not the metadata-only path.
    let wire = tap.text();
    assert!(wire.contains("only-in-spec"), "{wire}");
    assert!(!wire.contains("PartialObjectMetadata"), "{wire}");
    server.shutdown().await;
}
