//! WATCH semantics over HTTP: history replay, initial events and their bookmark, selectors
//! entering and leaving, 410 after compaction, bookmarks and timeoutSeconds.

mod common;

use std::time::Duration;

use common::{pod, Client, Next};
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use serde_json::json;

async fn start(config: ServerConfig) -> (RunningServer, Client) {
    let server = FakeApiServer::start(config).await.unwrap();
    let client = Client::new(server.url());
    (server, client)
}

async fn with_two_pods() -> (RunningServer, Client) {
    let (server, client) = start(ServerConfig::default()).await;
    server
        .create(pod("default", "a", json!({"app": "a"})))
        .unwrap();
    server
        .create(pod("default", "b", json!({"app": "b"})))
        .unwrap();
    (server, client)
}

fn added(name: &str) -> (String, String) {
    ("ADDED".into(), name.into())
}

#[tokio::test]
async fn watch_streams_chunked_json_one_compact_event_per_line() {
    let (server, client) = with_two_pods().await;
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}"
        ))
        .await;
    assert_eq!(watch.status, 200);
    assert_eq!(
        watch.headers.get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(watch.headers.get("transfer-encoding").unwrap(), "chunked");
    assert!(watch.headers.get("content-length").is_none());
    server
        .create(pod("default", "w1", json!({"app": "a"})))
        .unwrap();
    let line = match watch.next().await {
        Next::Line(line) => line,
        other => panic!("{other:?}"),
    };
    assert!(line.starts_with(r#"{"type":"ADDED","object":{"#), "{line}");
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["object"]["kind"], "Pod", "watch objects carry kind");
    assert_eq!(event["object"]["apiVersion"], "v1");
    assert_eq!(
        event["object"]["metadata"]["resourceVersion"],
        (rv + 1).to_string()
    );
}

#[tokio::test]
async fn watch_from_a_resource_version_replays_history_then_follows_live_changes() {
    let (server, client) = with_two_pods().await;
    let start_rv = server.resource_version();
    let mut changed = pod("default", "a", json!({"app": "a", "x": "1"}));
    server.update(changed.clone()).unwrap();
    server.delete("v1", "Pod", Some("default"), "a").unwrap();
    let delete_rv = server.resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/namespaces/default/pods?watch=true&resourceVersion={start_rv}"
        ))
        .await;
    assert_eq!(watch.summary().await, ("MODIFIED".into(), "a".into()));
    let deleted = watch.event().await;
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(
        deleted["object"]["metadata"]["resourceVersion"],
        delete_rv.to_string(),
        "a delete carries its own RV"
    );
    assert_eq!(
        deleted["object"]["metadata"]["labels"]["x"], "1",
        "a delete carries the last state"
    );
    changed["metadata"]["name"] = json!("c");
    server.create(changed).unwrap();
    assert_eq!(watch.summary().await, added("c"));
}

#[tokio::test]
async fn watch_without_resource_version_starts_with_synthetic_adds_and_no_bookmark() {
    let (server, client) = with_two_pods().await;
    let mut watch = client
        .watch("/api/v1/namespaces/default/pods?watch=1")
        .await;
    assert_eq!(watch.summary().await, added("a"));
    assert_eq!(watch.summary().await, added("b"));
    server.create(pod("default", "c", json!({}))).unwrap();
    assert_eq!(
        watch.summary().await,
        added("c"),
        "no bookmark was asked for, so the next frame is live"
    );
}

#[tokio::test]
async fn watch_from_zero_with_bookmarks_ends_the_initial_adds_with_an_annotated_bookmark() {
    let (server, client) = with_two_pods().await;
    let mut watch = client
        .watch("/api/v1/namespaces/default/pods?watch=1&resourceVersion=0&allowWatchBookmarks=true")
        .await;
    assert_eq!(watch.summary().await, added("a"));
    assert_eq!(watch.summary().await, added("b"));
    let bookmark = watch.event().await;
    assert_eq!(
        bookmark,
        json!({"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"resourceVersion": server.resource_version().to_string(),
                         "annotations": {"k8s.io/initial-events-end": "true"}},
            "spec": {}, "status": {}}})
    );
}

#[tokio::test]
async fn send_initial_events_sends_current_state_then_the_end_bookmark_then_live_events() {
    let (server, client) = with_two_pods().await;
    let old = server.resource_version();
    server
        .update(pod("default", "a", json!({"app": "a", "v": "2"})))
        .unwrap();
    let path = format!("/api/v1/namespaces/default/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={}", old - 1);
    let mut watch = client.watch(&path).await;
    let first = watch.event().await;
    assert_eq!(first["type"], "ADDED");
    assert_eq!(
        first["object"]["metadata"]["labels"]["v"], "2",
        "current state, not history"
    );
    assert_eq!(watch.summary().await, added("b"));
    let end = watch.event().await;
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(
        end["object"]["metadata"]["resourceVersion"],
        server.resource_version().to_string()
    );
    server.delete("v1", "Pod", Some("default"), "b").unwrap();
    assert_eq!(watch.summary().await, ("DELETED".into(), "b".into()));
}

#[tokio::test]
async fn send_initial_events_with_a_label_selector_sends_only_matching_objects() {
    let (_server, client) = with_two_pods().await;
    let mut watch = client
        .watch("/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=app%3Db")
        .await;
    assert_eq!(watch.summary().await, added("b"));
    assert_eq!(watch.event().await["type"], "BOOKMARK");
}

#[tokio::test]
async fn send_initial_events_without_bookmarks_sends_no_bookmark() {
    let (server, client) = with_two_pods().await;
    let mut watch = client
        .watch("/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan")
        .await;
    assert_eq!(watch.summary().await, added("a"));
    assert_eq!(watch.summary().await, added("b"));
    server.create(pod("default", "c", json!({}))).unwrap();
    assert_eq!(watch.summary().await, added("c"));
}

#[tokio::test]
async fn send_initial_events_without_not_older_than_is_a_plain_422() {
    let (_server, client) = with_two_pods().await;
    let reply = client
        .get("/api/v1/pods?watch=1&sendInitialEvents=true&allowWatchBookmarks=true")
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json()["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
    );
}

#[tokio::test]
async fn send_initial_events_false_replays_history_without_an_end_bookmark() {
    let (server, client) = with_two_pods().await;
    let rv = server.resource_version();
    server.create(pod("default", "c", json!({}))).unwrap();
    let path = format!("/api/v1/pods?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={rv}");
    let mut watch = client.watch(&path).await;
    assert_eq!(watch.summary().await, added("c"));
    server.create(pod("default", "d", json!({}))).unwrap();
    assert_eq!(watch.summary().await, added("d"));
}

#[tokio::test]
async fn objects_leaving_a_selector_are_deleted_with_old_state_and_entering_ones_added() {
    let (server, client) = with_two_pods().await;
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}&labelSelector=app%3Da"
        ))
        .await;
    server
        .update(pod("default", "a", json!({"app": "b"})))
        .unwrap();
    let left = watch.event().await;
    assert_eq!(left["type"], "DELETED");
    assert_eq!(
        left["object"]["metadata"]["labels"]["app"], "a",
        "the old state"
    );
    assert_eq!(
        left["object"]["metadata"]["resourceVersion"],
        (rv + 1).to_string(),
        "the new RV"
    );
    server
        .update(pod("default", "b", json!({"app": "c"})))
        .unwrap();
    server
        .update(pod("default", "a", json!({"app": "a"})))
        .unwrap();
    let back = watch.event().await;
    assert_eq!(
        back["type"], "ADDED",
        "b never matched, so a's return is the next frame"
    );
    assert_eq!(
        back["object"]["metadata"]["resourceVersion"],
        (rv + 3).to_string()
    );
}

#[tokio::test]
async fn field_selector_watch_on_all_namespaces_sees_only_the_named_object() {
    let (server, client) = with_two_pods().await;
    server.create(pod("other", "b", json!({}))).unwrap();
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/pods?watch=1&resourceVersion={rv}&fieldSelector=metadata.name%3Db"
        ))
        .await;
    server
        .update(pod("default", "a", json!({"app": "z"})))
        .unwrap();
    server
        .update(pod("other", "b", json!({"app": "z"})))
        .unwrap();
    let event = watch.event().await;
    assert_eq!(event["type"], "MODIFIED");
    assert_eq!(event["object"]["metadata"]["namespace"], "other");
}

#[tokio::test]
async fn status_phase_selector_watch_sees_pods_enter_and_leave_the_phase() {
    let (server, client) = with_two_pods().await;
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/pods?watch=1&resourceVersion={rv}&fieldSelector=status.phase%3DPending"
        ))
        .await;
    let phase = |name: &str, phase: &str| {
        let mut object = pod("default", name, json!({}));
        object["status"]["phase"] = json!(phase);
        object
    };
    server.update(phase("a", "Pending")).unwrap();
    let entered = watch.event().await;
    assert_eq!(entered["type"], "ADDED");
    assert_eq!(entered["object"]["metadata"]["name"], "a");
    server.update(phase("b", "Succeeded")).unwrap();
    server.update(phase("a", "Running")).unwrap();
    let left = watch.event().await;
    assert_eq!(left["type"], "DELETED", "b never matched; a left the phase");
    assert_eq!(left["object"]["metadata"]["name"], "a");
    assert_eq!(
        left["object"]["status"]["phase"], "Pending",
        "the last matching state"
    );
}

#[tokio::test]
async fn namespaced_watch_ignores_other_namespaces() {
    let (server, client) = with_two_pods().await;
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}"
        ))
        .await;
    server.create(pod("other", "x", json!({}))).unwrap();
    server.create(pod("default", "y", json!({}))).unwrap();
    assert_eq!(watch.summary().await, added("y"));
}

#[tokio::test]
async fn watch_from_a_compacted_version_gets_200_then_an_error_410_frame_then_the_end() {
    let (server, client) = with_two_pods().await;
    let old = server.resource_version() - 1;
    server.compact();
    let compacted = server.compacted_resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/pods?watch=1&resourceVersion={old}&allowWatchBookmarks=true"
        ))
        .await;
    assert_eq!(watch.status, 200);
    assert_eq!(
        watch.event().await,
        json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("too old resource version: {old} ({compacted})"), "reason": "Expired", "code": 410}})
    );
    assert_eq!(watch.next().await, Next::Ended);
}

#[tokio::test]
async fn watch_from_exactly_the_compaction_point_is_accepted() {
    let (server, client) = with_two_pods().await;
    server.compact();
    let rv = server.compacted_resource_version();
    let mut watch = client
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={rv}"))
        .await;
    server.create(pod("default", "c", json!({}))).unwrap();
    assert_eq!(watch.summary().await, added("c"));
}

#[tokio::test]
async fn bounded_history_expires_old_resource_versions() {
    let (server, client) = start(ServerConfig::default().history_limit(3)).await;
    for i in 0..5 {
        server
            .create(pod("default", &format!("p{i}"), json!({})))
            .unwrap();
    }
    let mut watch = client.watch("/api/v1/pods?watch=1&resourceVersion=2").await;
    assert_eq!(watch.event().await["object"]["code"], 410);
    let ok = server.compacted_resource_version();
    let mut watch = client
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={ok}"))
        .await;
    assert_eq!(watch.summary().await, added("p2"));
}

#[tokio::test(start_paused = true)]
async fn bookmarks_arrive_periodically_and_once_before_the_timeout_closes_the_stream() {
    let (server, client) =
        start(ServerConfig::default().bookmark_interval(Duration::from_secs(4))).await;
    server.create(pod("default", "a", json!({}))).unwrap();
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=12"
        ))
        .await;
    let mut bookmarks = 0;
    loop {
        match watch.next().await {
            Next::Line(line) => {
                let event: serde_json::Value = serde_json::from_str(&line).unwrap();
                assert_eq!(event["type"], "BOOKMARK");
                assert_eq!(
                    event["object"]["metadata"]["resourceVersion"],
                    rv.to_string()
                );
                assert!(event["object"]["metadata"].get("annotations").is_none());
                bookmarks += 1;
            }
            Next::Ended => break,
            Next::Broken(error) => panic!("{error}"),
        }
    }
    // Periodic at 4 s and 8 s, the last one at 10 s (2 s before the 12 s deadline).
    assert_eq!(bookmarks, 3);
}

#[tokio::test(start_paused = true)]
async fn watch_without_bookmarks_ends_quietly_at_the_timeout() {
    let (_server, client) = start(ServerConfig::default()).await;
    let mut watch = client
        .watch("/api/v1/pods?watch=1&resourceVersion=1&timeoutSeconds=5")
        .await;
    assert_eq!(watch.next().await, Next::Ended);
}

#[tokio::test(start_paused = true)]
async fn watch_from_a_future_version_sends_nothing_until_the_timeout() {
    let (_server, client) = with_two_pods().await;
    let mut watch = client
        .watch("/api/v1/pods?watch=1&resourceVersion=99999999&timeoutSeconds=5")
        .await;
    assert_eq!(watch.status, 200);
    assert_eq!(watch.next().await, Next::Ended);
}

#[tokio::test]
async fn shutdown_ends_open_watches() {
    let (server, client) = with_two_pods().await;
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={rv}"))
        .await;
    server.shutdown().await;
    assert!(matches!(watch.next().await, Next::Ended | Next::Broken(_)));
}
