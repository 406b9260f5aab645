//! Watches through `Api<K>::watch` against the fake API server: live events, bookmarks with
//! their annotations, ERROR frames (410 Expired), cut connections and stalled streams.

use std::time::Duration;

use futures::StreamExt;
use kinformer_client::{Api, Client, Config, Error, PostParams, WatchConfig, WatchStream};
use kinformer_meta::{ListOptions, Object, ResourceVersionMatch, WatchEvent};
use kinformer_replay::{FakeApiServer, Fault, FaultRule, RunningServer, ServerConfig};
use kinformer_typed::ConfigMap;
use serde_json::json;

async fn start() -> (RunningServer, Api<ConfigMap>) {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
    (server, Api::namespaced(client, "default"))
}

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}})).unwrap()
}

async fn next(stream: &mut WatchStream<ConfigMap>) -> WatchEvent<ConfigMap> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
        .expect("a decodable event")
}

fn describe(event: &WatchEvent<ConfigMap>) -> String {
    match event {
        WatchEvent::Bookmark(bookmark) => format!("BOOKMARK {}", bookmark.resource_version),
        WatchEvent::Error(status) => format!("ERROR {}", status.code),
        other => format!(
            "{} {}",
            other.type_name(),
            other.object().unwrap().metadata().name()
        ),
    }
}

#[tokio::test]
async fn live_events_arrive_decoded_in_order() {
    let (_server, config_maps) = start().await;
    let list = config_maps.list(&ListOptions::default()).await.unwrap();
    let mut stream = config_maps
        .watch(
            &ListOptions::default()
                .resource_version(list.resource_version().unwrap())
                .timeout_seconds(30),
        )
        .await
        .unwrap();
    let created = config_maps
        .create(&config_map("w1"), &PostParams::default())
        .await
        .unwrap();
    let mut changed = created.clone();
    changed.metadata_mut().labels.insert("x", "1");
    config_maps
        .replace("w1", &changed, &PostParams::default())
        .await
        .unwrap();
    config_maps.delete("w1", &Default::default()).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next(&mut stream).await);
    }
    assert_eq!(
        seen.iter().map(describe).collect::<Vec<_>>(),
        ["ADDED w1", "MODIFIED w1", "DELETED w1"]
    );
    let modified = seen[1].object().unwrap();
    assert_eq!(modified.metadata().labels.get("x"), Some("1"));
    assert_eq!(modified.kind(), "ConfigMap");
}

#[tokio::test]
async fn streaming_list_ends_with_an_initial_events_end_bookmark() {
    let (_server, config_maps) = start().await;
    for name in ["a", "b"] {
        config_maps
            .create(&config_map(name), &PostParams::default())
            .await
            .unwrap();
    }
    let options = ListOptions::default()
        .send_initial_events(true)
        .resource_version_match(ResourceVersionMatch::NotOlderThan)
        .allow_watch_bookmarks(true)
        .timeout_seconds(30);
    let mut stream = config_maps.watch(&options).await.unwrap();
    assert_eq!(describe(&next(&mut stream).await), "ADDED a");
    assert_eq!(describe(&next(&mut stream).await), "ADDED b");
    match next(&mut stream).await {
        WatchEvent::Bookmark(bookmark) => {
            assert!(bookmark.is_initial_events_end(), "{bookmark:?}");
            assert!(!bookmark.resource_version.is_empty());
        }
        other => panic!("expected the initial-events-end bookmark, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_from_a_compacted_version_yields_a_410_error_event_and_ends() {
    let (server, config_maps) = start().await;
    let first = config_maps
        .create(&config_map("old"), &PostParams::default())
        .await
        .unwrap();
    let old_version = first.metadata().resource_version().unwrap().to_owned();
    config_maps
        .create(&config_map("newer"), &PostParams::default())
        .await
        .unwrap();
    server.compact();
    let mut stream = config_maps
        .watch(&ListOptions::default().resource_version(old_version))
        .await
        .unwrap();
    match next(&mut stream).await {
        WatchEvent::Error(status) => {
            assert!(status.is_gone(), "{status:?}");
            assert_eq!(status.reason(), "Expired");
        }
        other => panic!("expected ERROR, got {other:?}"),
    }
    assert!(stream.next().await.is_none(), "the stream ends after ERROR");
}

#[tokio::test]
async fn error_event_as_typed_error_when_configured() {
    let (server, config_maps) = start().await;
    config_maps
        .create(&config_map("a"), &PostParams::default())
        .await
        .unwrap();
    server.inject(FaultRule::new(Fault::GoneAfterEvents(1)).verb("watch"));
    let mut stream = config_maps
        .watch_with(
            &ListOptions::default(),
            WatchConfig::default().error_events_as_errors(true),
        )
        .await
        .unwrap();
    assert_eq!(describe(&next(&mut stream).await), "ADDED a");
    // The fault answers the next event after the first with the ERROR frame.
    config_maps
        .create(&config_map("b"), &PostParams::default())
        .await
        .unwrap();
    let error = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(error.is_gone(), "{error}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn a_connection_cut_mid_event_ends_with_a_truncation_error() {
    let (server, config_maps) = start().await;
    config_maps
        .create(&config_map("a"), &PostParams::default())
        .await
        .unwrap();
    server.inject(FaultRule::new(Fault::CloseAfterBytes(40)).verb("watch"));
    let mut stream = config_maps.watch(&ListOptions::default()).await.unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap();
    // Either our decoder saw the body end inside the event, or the transport reported the
    // cut; both are errors, and nothing half-decoded comes out.
    assert!(matches!(outcome, Some(Err(_))), "{outcome:?}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn a_stalled_watch_ends_with_an_idle_timeout() {
    let (server, config_maps) = start().await;
    server.inject(FaultRule::new(Fault::Stall).verb("watch"));
    let idle = Duration::from_millis(300);
    let mut stream = config_maps
        .watch_with(
            &ListOptions::default(),
            WatchConfig::default().idle_timeout(Some(idle)),
        )
        .await
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the idle timeout fires before the test's own timeout");
    assert!(
        matches!(outcome, Some(Err(Error::WatchIdleTimeout(d))) if d == idle),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_rejected_watch_request_is_a_typed_error_before_any_stream() {
    let (_server, config_maps) = start().await;
    let options = ListOptions::default()
        .send_initial_events(true)
        .allow_watch_bookmarks(true);
    let error = config_maps.watch(&options).await.unwrap_err();
    let status = error.status().expect("the server's Status");
    assert_eq!(status.code, 422, "{error}");
    assert!(status.is_invalid(), "{error}");
}
