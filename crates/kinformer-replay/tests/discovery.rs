//! Discovery over HTTP: /version, legacy and aggregated discovery, OpenAPI index, health.

mod common;

use common::Client;
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::Value;

async fn client() -> (kinformer_replay::RunningServer, Client) {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    let client = Client::new(server.url());
    (server, client)
}

#[tokio::test]
async fn version_reports_a_kubernetes_version() {
    let (_s, client) = client().await;
    let version = client.get("/version").await.json();
    assert_eq!(version["major"], "1");
    assert!(version["gitVersion"].as_str().unwrap().starts_with("v1."));
}

#[tokio::test]
async fn legacy_discovery_lists_versions_groups_and_resources() {
    let (server, client) = client().await;
    let api = client.get("/api").await.json();
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"][0], "v1");
    assert_eq!(
        api["serverAddressByClientCIDRs"][0]["serverAddress"],
        server.address().to_string()
    );
    let apis = client.get("/apis").await.json();
    assert_eq!(apis["kind"], "APIGroupList");
    let apps = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "apps")
        .unwrap();
    assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
    let group = client.get("/apis/batch").await.json();
    assert_eq!(group["kind"], "APIGroup");
    let core = client.get("/api/v1").await.json();
    assert_eq!(core["kind"], "APIResourceList");
    let resources = core["resources"].as_array().unwrap();
    let pods = resources.iter().find(|r| r["name"] == "pods").unwrap();
    assert_eq!(pods["kind"], "Pod");
    assert_eq!(pods["namespaced"], true);
    assert_eq!(pods["shortNames"][0], "po");
    assert_eq!(pods["verbs"].as_array().unwrap().len(), 8);
    assert!(resources.iter().any(|r| r["name"] == "pods/status"));
    let nodes = resources.iter().find(|r| r["name"] == "nodes").unwrap();
    assert_eq!(nodes["namespaced"], false);
    assert_eq!(client.get("/apis/nope").await.status, 404);
    assert_eq!(client.get("/apis/apps/v9").await.status, 404);
}

#[tokio::test]
async fn aggregated_discovery_answers_v2_and_v2beta1_with_the_matching_content_type() {
    let (_s, client) = client().await;
    for version in ["v2", "v2beta1"] {
        let accept = format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList,application/json");
        let reply = client
            .call("GET", "/apis", &[("accept", &accept)], "")
            .await;
        assert_eq!(
            reply.header("content-type"),
            Some(
                format!(
                    "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
                )
                .as_str()
            )
        );
        let list = reply.json();
        assert_eq!(list["kind"], "APIGroupDiscoveryList");
        assert_eq!(list["apiVersion"], format!("apidiscovery.k8s.io/{version}"));
        let apps = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == "apps")
            .unwrap();
        let deployments: &Value = apps["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "deployments")
            .unwrap();
        assert_eq!(deployments["responseKind"]["kind"], "Deployment");
        assert_eq!(deployments["scope"], "Namespaced");
        assert_eq!(deployments["subresources"][0]["subresource"], "status");
        let core = client
            .call("GET", "/api", &[("accept", &accept)], "")
            .await
            .json();
        assert_eq!(core["items"].as_array().unwrap().len(), 1);
        assert_eq!(core["items"][0]["versions"][0]["version"], "v1");
    }
    let plain = client
        .call("GET", "/apis", &[("accept", "application/json")], "")
        .await;
    assert_eq!(plain.json()["kind"], "APIGroupList");
}

#[tokio::test]
async fn openapi_v2_is_404_and_v3_indexes_patch_operations_with_field_validation() {
    let (_s, client) = client().await;
    assert_eq!(client.get("/openapi/v2").await.status, 404);
    let root = client.get("/openapi/v3").await.json();
    let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = client.get(&url).await.json();
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"]["kind"],
        "Deployment"
    );
    assert!(patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
    assert_eq!(client.get("/openapi/v3/apis/nope/v1").await.status, 404);
}

#[tokio::test]
async fn health_endpoints_answer_plain_ok() {
    let (_s, client) = client().await;
    let reply = client.get("/readyz").await;
    assert_eq!(reply.body, "ok");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}
