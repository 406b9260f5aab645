//! LIST semantics over HTTP: pagination, resourceVersion rules, selectors, errors, headers.

mod common;

use std::time::Duration;

use base64::Engine;
use common::{pod, Client};
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use serde_json::{json, Value};

async fn server_with_pods() -> (RunningServer, Client) {
    let config = ServerConfig::default().too_large_resource_version_wait(Duration::ZERO);
    let server = FakeApiServer::start(config).await.unwrap();
    for (ns, name, app) in [
        ("default", "f1", "a"),
        ("default", "f2", "a"),
        ("default", "f3", "b"),
        ("default", "f4", "a"),
        ("default", "f5", "b"),
        ("other", "o1", "a"),
    ] {
        server.create(pod(ns, name, json!({"app": app}))).unwrap();
    }
    let client = Client::new(server.url());
    (server, client)
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn decode_token(token: &str) -> Value {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn pages_keep_the_list_resource_version_and_count_down_remaining_items() {
    let (server, client) = server_with_pods().await;
    let rv = server.resource_version().to_string();
    let first = client.get("/api/v1/namespaces/default/pods?limit=2").await;
    assert_eq!(first.status, 200);
    let page = first.json();
    assert_eq!(page["kind"], "PodList");
    assert_eq!(page["apiVersion"], "v1");
    assert_eq!(page["metadata"]["resourceVersion"], rv.as_str());
    assert_eq!(page["metadata"]["remainingItemCount"], 3);
    assert_eq!(names(&page), vec!["f1", "f2"]);
    assert!(
        page["items"][0].get("kind").is_none(),
        "list items carry no kind"
    );
    assert!(
        page["items"][0].get("apiVersion").is_none(),
        "list items carry no apiVersion"
    );
    let token = page["metadata"]["continue"].as_str().unwrap().to_string();
    assert_eq!(
        decode_token(&token),
        json!({"v": "meta.k8s.io/v1", "rv": rv.parse::<i64>().unwrap(), "start": "/f2\u{0}"})
    );

    server
        .create(pod("default", "f0", json!({"app": "a"})))
        .unwrap();
    let second = client
        .get(&format!(
            "/api/v1/namespaces/default/pods?continue={token}&limit=2"
        ))
        .await
        .json();
    assert_eq!(
        second["metadata"]["resourceVersion"],
        rv.as_str(),
        "later pages stay at the first page's RV"
    );
    assert_eq!(names(&second), vec!["f3", "f4"]);
    assert_eq!(second["metadata"]["remainingItemCount"], 1);
    let token = second["metadata"]["continue"].as_str().unwrap();
    let last = client
        .get(&format!(
            "/api/v1/namespaces/default/pods?continue={token}&limit=2"
        ))
        .await
        .json();
    assert_eq!(names(&last), vec!["f5"]);
    assert_eq!(
        last["metadata"],
        json!({"resourceVersion": rv}),
        "the last page has no continue and no count"
    );
}

#[tokio::test]
async fn all_namespaces_tokens_start_with_the_namespace() {
    let (_server, client) = server_with_pods().await;
    let page = client.get("/api/v1/pods?limit=1").await.json();
    assert_eq!(names(&page), vec!["f1"]);
    let token = decode_token(page["metadata"]["continue"].as_str().unwrap());
    assert_eq!(token["start"], "/default/f1\u{0}");
    let all = client.get("/api/v1/pods").await.json();
    assert_eq!(
        names(&all),
        vec!["f1", "f2", "f3", "f4", "f5", "o1"],
        "key order: namespace then name"
    );
}

#[tokio::test]
async fn resource_version_zero_ignores_the_limit() {
    let (_server, client) = server_with_pods().await;
    let page = client
        .get("/api/v1/namespaces/default/pods?resourceVersion=0&limit=2")
        .await
        .json();
    assert_eq!(names(&page).len(), 5);
    assert!(page["metadata"].get("continue").is_none());
}

#[tokio::test]
async fn exact_resource_version_shows_the_past_and_not_older_than_shows_the_present() {
    let (server, client) = server_with_pods().await;
    let then = server.resource_version();
    server.delete("v1", "Pod", Some("default"), "f1").unwrap();
    server.create(pod("default", "f9", json!({}))).unwrap();
    let past = client
        .get(&format!(
            "/api/v1/namespaces/default/pods?resourceVersion={then}&resourceVersionMatch=Exact"
        ))
        .await
        .json();
    assert_eq!(past["metadata"]["resourceVersion"], then.to_string());
    assert_eq!(names(&past), vec!["f1", "f2", "f3", "f4", "f5"]);
    let present = client
        .get(&format!("/api/v1/namespaces/default/pods?resourceVersion={then}&resourceVersionMatch=NotOlderThan"))
        .await
        .json();
    assert_eq!(
        present["metadata"]["resourceVersion"],
        server.resource_version().to_string()
    );
    assert_eq!(names(&present), vec!["f2", "f3", "f4", "f5", "f9"]);
    let limited = client
        .get(&format!(
            "/api/v1/namespaces/default/pods?resourceVersion={then}&limit=10"
        ))
        .await
        .json();
    assert_eq!(
        names(&limited)[0],
        "f1",
        "a non-zero RV with a limit is read exactly"
    );
}

#[tokio::test]
async fn resource_version_match_without_resource_version_is_422() {
    let (_server, client) = server_with_pods().await;
    let reply = client
        .get("/api/v1/namespaces/default/pods?resourceVersionMatch=Exact")
        .await;
    assert_eq!(reply.status, 422);
    let status = reply.json();
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldValueForbidden"
    );
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "resourceVersionMatch"
    );
}

#[tokio::test]
async fn send_initial_events_on_a_list_is_422() {
    let (_server, client) = server_with_pods().await;
    let reply = client
        .get("/api/v1/pods?sendInitialEvents=true&resourceVersionMatch=NotOlderThan")
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json()["details"]["causes"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn future_resource_version_is_504_with_retry_after() {
    let (_server, client) = server_with_pods().await;
    let reply = client
        .get("/api/v1/namespaces/default/pods?resourceVersion=99999999")
        .await;
    assert_eq!(reply.status, 504);
    assert_eq!(reply.header("retry-after"), Some("1"));
    let status = reply.json();
    assert_eq!(status["reason"], "Timeout");
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    assert_eq!(status["details"]["retryAfterSeconds"], 1);
}

#[tokio::test]
async fn malformed_resource_version_and_continue_are_400() {
    let (_server, client) = server_with_pods().await;
    let reply = client
        .get("/api/v1/namespaces/default/pods?resourceVersion=abc")
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["message"],
        "invalid resource version: resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax"
    );
    let reply = client
        .get("/api/v1/namespaces/default/pods?continue=garbage")
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["reason"], "BadRequest");
    let reply = client.get("/api/v1/namespaces/default/pods?limit=x").await;
    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn continue_after_compaction_is_410_with_an_inconsistent_token() {
    let (server, client) = server_with_pods().await;
    let page = client
        .get("/api/v1/namespaces/default/pods?limit=2")
        .await
        .json();
    let token = page["metadata"]["continue"].as_str().unwrap().to_string();
    server.create(pod("default", "f6", json!({}))).unwrap();
    server.compact();
    let reply = client
        .get(&format!(
            "/api/v1/namespaces/default/pods?continue={token}&limit=2"
        ))
        .await;
    assert_eq!(reply.status, 410);
    let status = reply.json();
    assert_eq!(status["reason"], "Expired");
    assert!(status["message"]
        .as_str()
        .unwrap()
        .starts_with("The provided continue parameter is too old"));
    let fresh = status["metadata"]["continue"].as_str().unwrap();
    assert_eq!(
        decode_token(fresh),
        json!({"v": "meta.k8s.io/v1", "rv": -1, "start": "f2\u{0}"})
    );
    let rest = client
        .get(&format!("/api/v1/namespaces/default/pods?continue={fresh}"))
        .await
        .json();
    assert_eq!(
        names(&rest),
        vec!["f3", "f4", "f5", "f6"],
        "the inconsistent token lists the current state"
    );
    assert_eq!(
        rest["metadata"]["resourceVersion"],
        server.resource_version().to_string()
    );
}

#[tokio::test]
async fn exact_list_at_a_compacted_version_is_410() {
    let (server, client) = server_with_pods().await;
    let old = server.resource_version() - 1;
    server.compact();
    let reply = client
        .get(&format!(
            "/api/v1/namespaces/default/pods?resourceVersion={old}&resourceVersionMatch=Exact"
        ))
        .await;
    assert_eq!(reply.status, 410);
    assert_eq!(
        reply.json()["message"],
        "The resourceVersion for the provided list is too old."
    );
}

#[tokio::test]
async fn label_selectors_filter_and_pages_with_selectors_have_no_remaining_count() {
    let (_server, client) = server_with_pods().await;
    let list = client
        .get("/api/v1/namespaces/default/pods?labelSelector=app%3Db")
        .await
        .json();
    assert_eq!(names(&list), vec!["f3", "f5"]);
    let page = client
        .get("/api/v1/namespaces/default/pods?labelSelector=app+in+(a),app!=x&limit=1")
        .await
        .json();
    assert_eq!(names(&page), vec!["f1"]);
    assert!(page["metadata"]["continue"].is_string());
    assert!(page["metadata"].get("remainingItemCount").is_none());
    let notin = client
        .get("/api/v1/pods?labelSelector=app+notin+(a)")
        .await
        .json();
    assert_eq!(names(&notin), vec!["f3", "f5"]);
}

#[tokio::test]
async fn malformed_label_selector_is_400() {
    let (_server, client) = server_with_pods().await;
    let reply = client
        .get("/api/v1/namespaces/default/pods?labelSelector=app%3D%3D%3Db!!")
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["reason"], "BadRequest");
}

#[tokio::test]
async fn field_selectors_on_name_namespace_and_pod_phase_work_and_unknown_fields_are_400() {
    let (server, client) = server_with_pods().await;
    let list = client
        .get("/api/v1/pods?fieldSelector=metadata.name%3Df2")
        .await
        .json();
    assert_eq!(names(&list), vec!["f2"]);
    let list = client
        .get("/api/v1/pods?fieldSelector=metadata.namespace!%3Ddefault")
        .await
        .json();
    assert_eq!(names(&list), vec!["o1"]);
    let mut pending = pod("default", "p1", json!({}));
    pending["status"]["phase"] = json!("Pending");
    server.create(pending).unwrap();
    let list = client
        .get("/api/v1/pods?fieldSelector=status.phase%3DPending")
        .await
        .json();
    assert_eq!(names(&list), vec!["p1"]);
    let reply = client
        .get("/api/v1/configmaps?fieldSelector=spec.reference%3Df1")
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["message"],
        "\"spec.reference\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
}

#[tokio::test]
async fn empty_lists_have_an_empty_items_array() {
    let (server, client) = server_with_pods().await;
    let reply = client.get("/api/v1/namespaces/nothing/configmaps").await;
    assert_eq!(
        reply.body,
        format!(
            r#"{{"kind":"ConfigMapList","apiVersion":"v1","metadata":{{"resourceVersion":"{}"}},"items":[]}}"#,
            server.resource_version()
        )
    );
}

#[tokio::test]
async fn responses_carry_audit_id_cache_control_and_json_content_type() {
    let (_server, client) = server_with_pods().await;
    let reply = client.get("/api/v1/pods").await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-cache, private"));
    assert_eq!(reply.header("audit-id").map(str::len), Some(36));
    assert!(reply.header("date").is_some());
}

#[tokio::test]
async fn curl_and_pretty_get_indented_json_and_others_compact() {
    let (_server, mut client) = server_with_pods().await;
    assert!(!client.get("/api/v1/pods").await.body.contains('\n'));
    assert!(client
        .get("/api/v1/pods?pretty=true")
        .await
        .body
        .contains("\n  \"kind\""));
    client.user_agent = Some("curl/7.88.1".into());
    assert!(client
        .get("/api/v1/pods")
        .await
        .body
        .contains("\n  \"kind\""));
}

#[tokio::test]
async fn tables_are_served_when_asked_for() {
    let (server, client) = server_with_pods().await;
    let accept = [(
        "accept",
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )];
    let table = client
        .call(
            "GET",
            "/api/v1/namespaces/default/pods?limit=2",
            &accept,
            "",
        )
        .await
        .json();
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(table["metadata"]["remainingItemCount"], 3);
    assert_eq!(table["columnDefinitions"][0]["name"], "Name");
    assert_eq!(table["rows"][0]["cells"][0], "f1");
    assert_eq!(table["rows"][0]["cells"][2], "Running");
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    server.create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}})).unwrap();
    let table = client
        .call(
            "GET",
            "/api/v1/namespaces/default/configmaps/c",
            &accept,
            "",
        )
        .await
        .json();
    assert_eq!(table["columnDefinitions"][1]["name"], "Created At");
    assert_eq!(table["rows"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn continue_with_a_resource_version_is_a_bad_request() {
    let (_server, client) = server_with_pods().await;
    let page = client.get("/api/v1/pods?limit=1").await.json();
    let token = page["metadata"]["continue"].as_str().unwrap();
    let reply = client
        .get(&format!(
            "/api/v1/pods?limit=1&continue={token}&resourceVersion=3"
        ))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["message"],
        "specifying resource version is not allowed when using continue"
    );
}

#[tokio::test]
async fn a_list_larger_than_a_write_chunk_arrives_whole_with_its_content_length() {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    for i in 0..400 {
        let mut object = pod("default", &format!("p{i:04}"), json!({"app": "big"}));
        object["metadata"]["annotations"] = json!({"note": "n".repeat(2500)});
        server.create(object).unwrap();
    }
    let client = Client::new(server.url());
    let reply = client.get("/api/v1/namespaces/default/pods").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.len() > 1_000_000, "{} bytes", reply.body.len());
    assert_eq!(
        reply.header("content-length"),
        Some(reply.body.len().to_string().as_str())
    );
    assert!(reply
        .body
        .starts_with(r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":""#));
    let list = reply.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 400);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["metadata"]["name"], format!("p{i:04}"));
        assert!(item.get("kind").is_none() && item.get("apiVersion").is_none());
        assert_eq!(item["spec"]["containers"][0]["name"], "app");
    }
    let one = client.get("/api/v1/namespaces/default/pods/p0007").await;
    assert!(one
        .body
        .starts_with(r#"{"kind":"Pod","apiVersion":"v1","metadata":{"#));
    assert_eq!(one.json()["metadata"], items[7]["metadata"]);
}
