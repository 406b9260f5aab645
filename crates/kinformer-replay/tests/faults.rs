//! Scripted faults: error answers, cut connections (after events or bytes, mid-JSON), 410 at
//! event N, stalled watches, a missing initial-events-end bookmark, compaction and restarts.

mod common;

use common::{pod, Client, Next};
use kinformer_replay::{FakeApiServer, Fault, FaultRule, RunningServer, ServerConfig};
use serde_json::json;

async fn start() -> (RunningServer, Client) {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    for name in ["a", "b", "c"] {
        server.create(pod("default", name, json!({}))).unwrap();
    }
    let client = Client::new(server.url());
    (server, client)
}

const WATCH_ALL: &str = "/api/v1/namespaces/default/pods?watch=1";

#[tokio::test]
async fn too_many_requests_carries_retry_after_then_the_next_request_succeeds() {
    let (server, client) = start().await;
    server.inject(
        FaultRule::new(Fault::too_many_requests(7))
            .verb("list")
            .path("/pods"),
    );
    let reply = client.get("/api/v1/configmaps").await;
    assert_eq!(reply.status, 200, "another path is not hit");
    let reply = client.get("/api/v1/pods").await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("7"));
    assert_eq!(reply.json()["reason"], "TooManyRequests");
    assert_eq!(reply.json()["details"]["retryAfterSeconds"], 7);
    assert_eq!(client.get("/api/v1/pods").await.status, 200);
}

#[tokio::test]
async fn server_errors_hit_the_next_k_matching_requests() {
    let (server, client) = start().await;
    server.inject(
        FaultRule::new(Fault::service_unavailable())
            .verb("get")
            .times(2),
    );
    server.inject(FaultRule::new(Fault::internal_error()).verb("create"));
    let first = client.get("/api/v1/namespaces/default/pods/a").await;
    assert_eq!(first.status, 503);
    assert_eq!(first.json()["reason"], "ServiceUnavailable");
    assert_eq!(
        client.get("/api/v1/namespaces/default/pods/a").await.status,
        503
    );
    assert_eq!(
        client.get("/api/v1/namespaces/default/pods/a").await.status,
        200
    );
    let created = client
        .post(
            "/api/v1/namespaces/default/pods",
            &pod("default", "d", json!({})),
        )
        .await;
    assert_eq!(created.status, 500);
    assert_eq!(created.json()["reason"], "InternalError");
    assert!(
        server.get("v1", "Pod", Some("default"), "d").is_none(),
        "a faulted request changes nothing"
    );
    server.inject(FaultRule::new(Fault::internal_error()).always());
    assert_eq!(client.get("/version").await.status, 500);
    assert_eq!(client.get("/version").await.status, 500);
    server.clear_faults();
    assert_eq!(client.get("/version").await.status, 200);
}

#[tokio::test]
async fn watch_connection_closes_after_n_events() {
    let (server, client) = start().await;
    server.inject(FaultRule::new(Fault::CloseAfterEvents(2)).verb("watch"));
    let mut watch = client.watch(WATCH_ALL).await;
    assert_eq!(watch.summary().await.1, "a");
    assert_eq!(watch.summary().await.1, "b");
    assert!(matches!(watch.next().await, Next::Broken(_)));
    let mut again = client.watch(WATCH_ALL).await;
    for name in ["a", "b", "c"] {
        assert_eq!(again.summary().await.1, name, "the fault hit only once");
    }
}

#[tokio::test]
async fn watch_connection_closes_in_the_middle_of_a_json_object() {
    let (server, client) = start().await;
    server.inject(FaultRule::new(Fault::CloseAfterBytes(100)).verb("watch"));
    let mut watch = client.watch(WATCH_ALL).await;
    match watch.next().await {
        Next::Broken(message) => {
            let partial = message.split("(partial: ").nth(1).unwrap_or("");
            assert!(
                partial.starts_with(r#"{"type":"ADDED","object":{"#),
                "{message}"
            );
            assert_eq!(partial.trim_end_matches(')').len(), 100);
        }
        other => panic!("expected a cut stream, got {other:?}"),
    }
}

/// A server with `count` pods of about 2.5 KB each, so their frames span several of the
/// server's large write chunks.
async fn start_with_big_pods(count: usize) -> (RunningServer, Client) {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    for i in 0..count {
        let mut object = pod("default", &format!("p{i:04}"), json!({"app": "big"}));
        object["metadata"]["annotations"] = json!({"note": "n".repeat(2000)});
        server.create(object).unwrap();
    }
    let client = Client::new(server.url());
    (server, client)
}

/// Reads a body until it ends or breaks: the bytes, and whether it broke.
async fn read_raw(response: http::Response<hyper::body::Incoming>) -> (Vec<u8>, bool) {
    use http_body_util::BodyExt;
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    loop {
        match body.frame().await {
            Some(Ok(frame)) => bytes.extend_from_slice(&frame.into_data().unwrap_or_default()),
            Some(Err(_)) => return (bytes, true),
            None => return (bytes, false),
        }
    }
}

#[tokio::test]
async fn a_byte_cut_deep_in_a_long_watch_delivers_exactly_n_bytes_of_whole_frames_first() {
    let (server, client) = start_with_big_pods(300).await;
    server.inject(FaultRule::new(Fault::CloseAfterBytes(500_000)).verb("watch"));
    let response = client.send("GET", WATCH_ALL, &[], "").await.unwrap();
    let (bytes, broken) = read_raw(response).await;
    assert!(broken, "the stream must end in an error");
    assert_eq!(bytes.len(), 500_000);
    let text = String::from_utf8(bytes).unwrap();
    let mut lines: Vec<&str> = text.split('\n').collect();
    let partial = lines.pop().unwrap();
    assert!(!partial.is_empty(), "the cut falls inside a frame");
    for (i, line) in lines.iter().enumerate() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["type"], "ADDED");
        assert_eq!(event["object"]["metadata"]["name"], format!("p{i:04}"));
    }
    assert!(lines.len() > 150, "{} whole frames", lines.len());
}

#[tokio::test]
async fn gone_at_event_n_of_a_long_replay_comes_after_exactly_n_events() {
    let (server, client) = start_with_big_pods(300).await;
    server.inject(FaultRule::new(Fault::GoneAfterEvents(250)).verb("watch"));
    let mut watch = client.watch(WATCH_ALL).await;
    for i in 0..250 {
        assert_eq!(watch.summary().await, ("ADDED".into(), format!("p{i:04}")));
    }
    let error = watch.event().await;
    assert_eq!(error["type"], "ERROR");
    assert_eq!(error["object"]["code"], 410);
    assert_eq!(watch.next().await, Next::Ended);
}

#[tokio::test]
async fn close_after_n_events_of_a_long_replay_sends_n_whole_frames() {
    let (server, client) = start_with_big_pods(300).await;
    server.inject(FaultRule::new(Fault::CloseAfterEvents(200)).verb("watch"));
    let response = client.send("GET", WATCH_ALL, &[], "").await.unwrap();
    let (bytes, broken) = read_raw(response).await;
    assert!(broken);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.ends_with('\n'), "no partial frame");
    assert_eq!(text.lines().count(), 200);
}

#[tokio::test]
async fn list_body_is_cut_after_n_bytes() {
    let (server, client) = start().await;
    server.inject(FaultRule::new(Fault::CloseAfterBytes(50)).verb("list"));
    let response = client.send("GET", "/api/v1/pods", &[], "").await.unwrap();
    assert_eq!(response.status(), 200);
    use http_body_util::BodyExt;
    assert!(
        response.into_body().collect().await.is_err(),
        "the body must end in an error"
    );
    assert_eq!(client.get("/api/v1/pods").await.status, 200);
}

#[tokio::test]
async fn watch_answers_410_at_event_n_then_ends() {
    let (server, client) = start().await;
    server.inject(FaultRule::new(Fault::GoneAfterEvents(1)).verb("watch"));
    let mut watch = client.watch(WATCH_ALL).await;
    assert_eq!(watch.summary().await.1, "a");
    let error = watch.event().await;
    assert_eq!(error["type"], "ERROR");
    assert_eq!(error["object"]["code"], 410);
    assert_eq!(error["object"]["reason"], "Expired");
    assert_eq!(watch.next().await, Next::Ended);
}

#[tokio::test(start_paused = true)]
async fn stalled_watch_sends_headers_and_then_nothing() {
    let (server, client) = start().await;
    server.inject(FaultRule::new(Fault::Stall).verb("watch"));
    let mut watch = client
        .watch(&format!(
            "{WATCH_ALL}&timeoutSeconds=5&allowWatchBookmarks=true"
        ))
        .await;
    assert_eq!(watch.status, 200);
    server.create(pod("default", "d", json!({}))).unwrap();
    // Paused time: a minute passes virtually, far beyond the watch's own timeout.
    let waited = tokio::time::timeout(std::time::Duration::from_secs(60), watch.next()).await;
    assert!(
        waited.is_err(),
        "a stalled watch neither sends nor closes: {waited:?}"
    );
}

#[tokio::test]
async fn initial_events_end_bookmark_can_be_dropped() {
    let (server, client) = start().await;
    server.inject(FaultRule::new(Fault::DropInitialEventsEnd));
    let mut watch = client
        .watch(&format!("{WATCH_ALL}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"))
        .await;
    for name in ["a", "b", "c"] {
        assert_eq!(watch.summary().await.1, name);
    }
    server.create(pod("default", "d", json!({}))).unwrap();
    assert_eq!(
        watch.summary().await,
        ("ADDED".into(), "d".into()),
        "no bookmark came before the live event"
    );
}

#[tokio::test]
async fn compaction_expires_an_open_watch_that_falls_behind_and_new_watches_from_old_versions() {
    let (server, client) = start().await;
    let old = server.resource_version();
    server.create(pod("default", "d", json!({}))).unwrap();
    server.compact();
    let mut watch = client
        .watch(&format!("{WATCH_ALL}&resourceVersion={old}"))
        .await;
    assert_eq!(watch.event().await["object"]["code"], 410);
}

#[tokio::test]
async fn restart_keeping_state_cuts_connections_and_serves_the_same_objects_on_the_same_port() {
    let (mut server, client) = start().await;
    let url = server.url();
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!("{WATCH_ALL}&resourceVersion={rv}"))
        .await;
    server.restart(true).await.unwrap();
    assert!(matches!(watch.next().await, Next::Ended | Next::Broken(_)));
    assert_eq!(server.url(), url);
    let list = client.get("/api/v1/pods").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert_eq!(list["metadata"]["resourceVersion"], rv.to_string());
}

#[tokio::test]
async fn restart_losing_state_starts_empty_and_old_versions_are_gone() {
    let (mut server, client) = start().await;
    let rv = server.resource_version();
    server.restart(false).await.unwrap();
    let list = client.get("/api/v1/pods").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let mut watch = client
        .watch(&format!("{WATCH_ALL}&resourceVersion={}", rv - 1))
        .await;
    assert_eq!(watch.event().await["object"]["code"], 410);
    server.create(pod("default", "x", json!({}))).unwrap();
    assert!(
        server.resource_version() > rv,
        "the resourceVersion keeps increasing"
    );
}
