//! Metadata-only responses, as client-go's metadata client asks for them: LIST as
//! PartialObjectMetadataList (paged, selected), GET and WATCH as PartialObjectMetadata
//! (bookmarks included), the `as=` Content-Type, and 406 for an Accept nobody can serve.

mod common;

use std::time::Duration;

use common::{pod, Client, Next};
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use serde_json::{json, Value};

const LIST: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const ONE: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

async fn server_with_pods() -> (RunningServer, Client) {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    for (name, app) in [("a", "x"), ("b", "y"), ("c", "x"), ("d", "x"), ("e", "y")] {
        server
            .create(pod("default", name, json!({"app": app})))
            .unwrap();
    }
    server
        .create(pod("other", "z", json!({"app": "x"})))
        .unwrap();
    let client = Client::new(server.url());
    (server, client)
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn assert_partial(object: &Value) {
    assert_eq!(object["kind"], "PartialObjectMetadata", "{object}");
    assert_eq!(object["apiVersion"], "meta.k8s.io/v1", "{object}");
    assert!(object.get("spec").is_none(), "{object}");
    assert!(object.get("status").is_none(), "{object}");
}

#[tokio::test]
async fn list_pages_are_partial_object_metadata_lists_with_typed_items() {
    let (server, client) = server_with_pods().await;
    let accept = [("accept", LIST)];
    let reply = client
        .call(
            "GET",
            "/api/v1/namespaces/default/pods?limit=2",
            &accept,
            "",
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
    );
    let page = reply.json();
    assert_eq!(page["kind"], "PartialObjectMetadataList");
    assert_eq!(page["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(page["metadata"]["remainingItemCount"], 3);
    assert_eq!(names(&page), ["a", "b"]);
    let first = &page["items"][0];
    assert_partial(first);
    assert_eq!(first["metadata"]["labels"]["app"], "x");
    assert_eq!(first["metadata"]["namespace"], "default");
    assert!(first["metadata"]["uid"].is_string());
    let rv = page["metadata"]["resourceVersion"].as_str().unwrap();
    assert_eq!(rv, server.resource_version().to_string());
    let token = page["metadata"]["continue"].as_str().unwrap();
    let rest = client
        .call(
            "GET",
            &format!("/api/v1/namespaces/default/pods?limit=10&continue={token}"),
            &accept,
            "",
        )
        .await
        .json();
    assert_eq!(names(&rest), ["c", "d", "e"]);
    assert!(rest["metadata"].get("continue").is_none());
    assert!(rest["metadata"].get("remainingItemCount").is_none());
}

#[tokio::test]
async fn list_selectors_apply_to_metadata_lists() {
    let (_server, client) = server_with_pods().await;
    let accept = [("accept", LIST)];
    let by_label = client
        .call("GET", "/api/v1/pods?labelSelector=app%3Dx", &accept, "")
        .await
        .json();
    assert_eq!(names(&by_label), ["a", "c", "d", "z"]);
    let by_field = client
        .call(
            "GET",
            "/api/v1/pods?fieldSelector=metadata.name%3Dz&limit=1",
            &accept,
            "",
        )
        .await
        .json();
    assert_eq!(names(&by_field), ["z"]);
    assert_partial(&by_field["items"][0]);
}

#[tokio::test]
async fn get_answers_partial_object_metadata() {
    let (_server, client) = server_with_pods().await;
    let reply = client
        .call(
            "GET",
            "/api/v1/namespaces/default/pods/c",
            &[("accept", ONE)],
            "",
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
    );
    let object = reply.json();
    assert_partial(&object);
    assert_eq!(object["metadata"]["name"], "c");
    let plain = client.get("/api/v1/namespaces/default/pods/c").await.json();
    assert_eq!(plain["kind"], "Pod");
    assert_eq!(object["metadata"], plain["metadata"]);
}

#[tokio::test]
async fn watch_sends_partial_objects_and_metadata_only_bookmarks() {
    let (server, client) = server_with_pods().await;
    let mut watch = client
        .watch_with(
            "/api/v1/namespaces/default/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=app%3Dy",
            &[("accept", ONE)],
        )
        .await;
    assert_eq!(watch.status, 200);
    assert_eq!(
        watch.headers.get("content-type").unwrap(),
        "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
    );
    for name in ["b", "e"] {
        let event = watch.event().await;
        assert_eq!(event["type"], "ADDED");
        assert_partial(&event["object"]);
        assert_eq!(event["object"]["metadata"]["name"], name);
    }
    let end = watch.event().await;
    assert_eq!(end["type"], "BOOKMARK");
    assert_partial(&end["object"]);
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(
        end["object"]["metadata"]["resourceVersion"],
        server.resource_version().to_string()
    );
    let mut changed = server.get("v1", "Pod", Some("default"), "b").unwrap();
    changed["metadata"]["labels"]["tier"] = json!("web");
    server.update(changed).unwrap();
    let event = watch.event().await;
    assert_eq!(event["type"], "MODIFIED");
    assert_partial(&event["object"]);
    assert_eq!(event["object"]["metadata"]["labels"]["tier"], "web");
    server.delete("v1", "Pod", Some("default"), "e").unwrap();
    let event = watch.event().await;
    assert_eq!(event["type"], "DELETED");
    assert_partial(&event["object"]);
    assert_eq!(event["object"]["metadata"]["name"], "e");
}

#[tokio::test(start_paused = true)]
async fn periodic_bookmarks_of_a_metadata_watch_are_partial_objects() {
    let server =
        FakeApiServer::start(ServerConfig::default().bookmark_interval(Duration::from_secs(4)))
            .await
            .unwrap();
    let client = Client::new(server.url());
    server.create(pod("default", "a", json!({}))).unwrap();
    let rv = server.resource_version();
    let mut watch = client
        .watch_with(
            &format!("/api/v1/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=6"),
            &[("accept", ONE)],
        )
        .await;
    let mut bookmarks = 0;
    loop {
        match watch.next().await {
            Next::Line(line) => {
                let event: Value = serde_json::from_str(&line).unwrap();
                assert_eq!(event["type"], "BOOKMARK");
                assert_partial(&event["object"]);
                assert_eq!(
                    event["object"]["metadata"]["resourceVersion"],
                    rv.to_string()
                );
                bookmarks += 1;
            }
            Next::Ended => break,
            Next::Broken(error) => panic!("{error}"),
        }
    }
    assert!(bookmarks >= 1);
}

#[tokio::test]
async fn an_accept_the_server_cannot_satisfy_is_406_not_acceptable() {
    let (_server, client) = server_with_pods().await;
    for (path, accept) in [
        ("/api/v1/pods", "application/vnd.kubernetes.protobuf"),
        ("/api/v1/namespaces/default/pods/a", "application/yaml"),
        ("/api/v1/pods?watch=1", "text/html"),
        // The single-object form on a list, and the list form on one object.
        (
            "/api/v1/pods",
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        ),
        (
            "/api/v1/namespaces/default/pods/a",
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        ),
    ] {
        let reply = client.call("GET", path, &[("accept", accept)], "").await;
        assert_eq!(reply.status, 406, "{path} {accept}: {}", reply.body);
        let status = reply.json();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["reason"], "NotAcceptable");
        assert_eq!(status["code"], 406);
    }
}

#[tokio::test]
async fn an_unsupported_as_falls_back_to_plain_json() {
    let (_server, client) = server_with_pods().await;
    let reply = client
        .call(
            "GET",
            "/api/v1/namespaces/default/pods/a",
            &[(
                "accept",
                "application/json;as=Widget;g=meta.k8s.io;v=v1, application/json",
            )],
            "",
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["kind"], "Pod");
    assert_eq!(reply.header("content-type"), Some("application/json"));
}
