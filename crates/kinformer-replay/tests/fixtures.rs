//! Fixtures: the demo cluster and its rollout timeline, replay of recorded exchanges, and the
//! fake server checked against the real apiserver's recordings.

mod common;

use std::path::{Path, PathBuf};

use common::Client;
use kinformer_replay::{FakeApiServer, Fixture, Recording, ResourceInfo, ServerConfig};
use serde_json::{json, Value};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn recorded_body(file: &str, title_prefix: &str) -> Value {
    let recording = Recording::load(&repo(&format!("fixtures/recordings/{file}"))).unwrap();
    let exchange = recording
        .exchanges
        .iter()
        .find(|e| e.title.starts_with(title_prefix))
        .unwrap_or_else(|| panic!("no section {title_prefix:?} in {file}"));
    serde_json::from_str(&exchange.body).unwrap()
}

#[tokio::test]
async fn the_demo_cluster_loads_with_realistic_objects() {
    let fixture = Fixture::load(&repo("fixtures/demo/cluster.yaml")).unwrap();
    let server = FakeApiServer::start(fixture.configure(ServerConfig::default()))
        .await
        .unwrap();
    assert_eq!(server.list("v1", "Namespace", None).len(), 3);
    assert_eq!(server.list("apps/v1", "Deployment", None).len(), 4);
    assert_eq!(server.list("apps/v1", "ReplicaSet", None).len(), 4);
    assert_eq!(server.list("v1", "Service", None).len(), 4);
    assert_eq!(server.list("v1", "ConfigMap", None).len(), 4);
    let pods = server.list("v1", "Pod", Some("shop"));
    assert_eq!(pods.len(), 5);
    for pod in &pods {
        assert_eq!(pod["status"]["phase"], "Running");
        assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
        assert!(pod["metadata"]["managedFields"].as_array().unwrap().len() >= 2);
        let size = serde_json::to_vec(pod).unwrap().len();
        assert!((4000..=7000).contains(&size), "{size}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_demo_timeline_rolls_web_out_pending_then_running_then_old_deleted() {
    let fixture = Fixture::load(&repo("fixtures/demo/cluster.yaml")).unwrap();
    let server = FakeApiServer::start(fixture.configure(ServerConfig::default()))
        .await
        .unwrap();
    let client = Client::new(server.url());
    let rv = server.resource_version();
    let mut watch = client
        .watch(&format!(
            "/api/v1/namespaces/shop/pods?watch=1&resourceVersion={rv}&labelSelector=app%3Dweb"
        ))
        .await;
    fixture.play(&server.handle()).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..9 {
        let event = watch.event().await;
        let name = event["object"]["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_string();
        let phase = event["object"]["status"]["phase"]
            .as_str()
            .unwrap_or("")
            .to_string();
        seen.push(format!(
            "{} {name} {phase}",
            event["type"].as_str().unwrap()
        ));
    }
    assert_eq!(
        seen,
        vec![
            "ADDED web-5f6c7d8e9-r2d4x Pending",
            "MODIFIED web-5f6c7d8e9-r2d4x Running",
            "DELETED web-7d9c6b8f5-x2k4p Running",
            "ADDED web-5f6c7d8e9-f6g8j Pending",
            "MODIFIED web-5f6c7d8e9-f6g8j Running",
            "DELETED web-7d9c6b8f5-m8q2z Running",
            "ADDED web-5f6c7d8e9-w9z5c Pending",
            "MODIFIED web-5f6c7d8e9-w9z5c Running",
            "DELETED web-7d9c6b8f5-t5v7w Running",
        ]
    );
    let deployment = server
        .get("apps/v1", "Deployment", Some("shop"), "web")
        .unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/shop/web:1.43.0"
    );
    assert_eq!(deployment["metadata"]["generation"], 2);
}

#[tokio::test(start_paused = true)]
async fn a_timeline_can_arm_faults_and_compact() {
    let text = "timeline:\n  - after: 1s\n    fault: {type: Status, count: 503, verb: list, times: 2}\n  - after: 1s\n    compact: true\n";
    let fixture = Fixture::parse(text, Path::new("inline")).unwrap();
    let server = FakeApiServer::start(fixture.configure(ServerConfig::default()))
        .await
        .unwrap();
    server
        .create(common::pod("default", "a", json!({})))
        .unwrap();
    let old = server.resource_version() - 1;
    fixture.play(&server.handle()).await.unwrap();
    let client = Client::new(server.url());
    assert_eq!(client.get("/api/v1/pods").await.status, 503);
    assert_eq!(client.get("/api/v1/pods").await.status, 503);
    assert_eq!(client.get("/api/v1/pods").await.status, 200);
    let mut watch = client
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={old}"))
        .await;
    assert_eq!(watch.event().await["object"]["code"], 410);
}

#[tokio::test]
async fn every_copied_http_recording_parses() {
    for file in [
        "http1.txt",
        "p1.txt",
        "p2.txt",
        "watch.txt",
        "watchA.txt",
        "watchF.txt",
        "compact.txt",
        "compact2.txt",
        "errors2.txt",
        "flunders-replay.txt",
    ] {
        let recording = Recording::load(&repo(&format!("fixtures/recordings/{file}")))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!recording.exchanges.is_empty(), "{file}");
    }
    assert!(
        Recording::load(&repo("fixtures/recordings/kubectl.txt")).is_err(),
        "kubectl output holds no HTTP"
    );
}

#[tokio::test(start_paused = true)]
async fn recorded_exchanges_are_replayed_verbatim_and_others_reach_the_live_server() {
    let path = repo("fixtures/recordings/flunders-replay.txt");
    let recording = Recording::load(&path).unwrap();
    let server = FakeApiServer::start(ServerConfig::default().recording(recording.clone()))
        .await
        .unwrap();
    let client = Client::new(server.url());
    let base = "/apis/wardle.example.com/v1alpha1/namespaces/default/flunders";
    let page = client.get(&format!("{base}?limit=2")).await;
    let expected = recording.find("GET", &format!("{base}?limit=2")).unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(page.body, expected.body);
    assert!(page
        .header("warning")
        .unwrap()
        .starts_with("299 - \"wardle.example.com/v1alpha1 Flunder is deprecated"));
    assert_eq!(
        page.header("audit-id"),
        Some("360158e1-baeb-4abf-af89-74026a780d2e")
    );
    let missing = client.get(&format!("{base}/nope")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["reason"], "NotFound");
    let mut watch = client
        .watch(&format!(
            "{base}?timeoutSeconds=12&allowWatchBookmarks=true&resourceVersion=13&watch=1"
        ))
        .await;
    let mut types = Vec::new();
    for _ in 0..4 {
        types.push(watch.event().await["type"].as_str().unwrap().to_string());
    }
    assert_eq!(types, vec!["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);
    assert_eq!(
        client.get("/api/v1/pods").await.status,
        200,
        "unrecorded requests reach the live server"
    );
}

fn flunders() -> ResourceInfo {
    ResourceInfo::new("wardle.example.com", "v1alpha1", "Flunder", "flunders").with_status()
}

fn flunder(name: &str, app: &str) -> Value {
    json!({"apiVersion": "wardle.example.com/v1alpha1", "kind": "Flunder",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": {"reference": name, "referenceType": "Flunder"}, "status": {}})
}

fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().take(1).map(shape).collect()),
        _ => Value::Null,
    }
}

#[tokio::test]
async fn a_list_page_has_the_recorded_shape() {
    let server = FakeApiServer::start(ServerConfig::default().resource(flunders()))
        .await
        .unwrap();
    for name in ["f1", "f2", "f3", "f4", "f5"] {
        server.create(flunder(name, "a")).unwrap();
    }
    let client = Client::new(server.url());
    let ours = client
        .get("/apis/wardle.example.com/v1alpha1/namespaces/default/flunders?limit=2")
        .await
        .json();
    let recorded = recorded_body("http1.txt", "GET list limit=2");
    let mut ours_item = shape(&ours["items"][0]);
    let mut recorded_item = shape(&recorded["items"][0]);
    // Our creates carry a generation and our manager entry; the rest of the shape must match.
    ours_item["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("generation");
    ours_item["metadata"]["managedFields"] = Value::Null;
    recorded_item["metadata"]["managedFields"] = Value::Null;
    assert_eq!(ours_item, recorded_item);
    assert_eq!(shape(&ours["metadata"]), shape(&recorded["metadata"]));
    assert_eq!(ours["kind"], recorded["kind"]);
    assert_eq!(
        ours["metadata"]["remainingItemCount"],
        recorded["metadata"]["remainingItemCount"]
    );
}

#[tokio::test]
async fn error_bodies_equal_the_recorded_ones() {
    let server = FakeApiServer::start(ServerConfig::default().resource(flunders()))
        .await
        .unwrap();
    let client = Client::new(server.url());
    let base = "/apis/wardle.example.com/v1alpha1/namespaces/default/flunders";
    assert_eq!(
        client.get(&format!("{base}/nope")).await.json(),
        recorded_body("http1.txt", "GET missing (404)")
    );
    assert_eq!(
        client
            .get(&format!("{base}?resourceVersion=abc"))
            .await
            .json(),
        recorded_body("http1.txt", "GET list resourceVersion=abc")
    );
    let nameless = client.post(base, &json!({"apiVersion": "wardle.example.com/v1alpha1", "kind": "Flunder", "metadata": {}})).await;
    assert_eq!(
        nameless.json(),
        recorded_body("errors2.txt", "POST without name")
    );
    assert_eq!(
        client
            .get(&format!("{base}?resourceVersionMatch=Exact"))
            .await
            .json()["message"],
        recorded_body("http1.txt", "GET list resourceVersionMatch=Exact without")["message"]
    );
}
