//! The dynamic client against the fake API server: a Deployment created from a YAML manifest
//! (as the seed article does), list items that know their type, update, patch, delete, watch,
//! and a custom resource addressed by group/version/resource alone.

use std::time::Duration;

use futures::StreamExt;
use kinformer_client::{
    Client, Config, DeleteParams, DeleteResponse, DynamicClient, Patch, PatchParams, PostParams,
};
use kinformer_meta::{
    ApiResource, GroupVersionKind, GroupVersionResource, ListOptions, Object, Scope, WatchEvent,
};
use kinformer_replay::{FakeApiServer, ResourceInfo, RunningServer, ServerConfig};
use serde_json::json;

const DEPLOYMENT_YAML: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo-deployment
spec:
  replicas: 2
  selector:
    matchLabels:
      app: demo
  template:
    metadata:
      labels:
        app: demo
    spec:
      containers:
        - name: web
          image: nginx:1.12
          ports:
            - name: http
              protocol: TCP
              containerPort: 80
"#;

async fn start(config: ServerConfig) -> (RunningServer, DynamicClient) {
    let server = FakeApiServer::start(config).await.unwrap();
    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
    (server, DynamicClient::new(client))
}

fn deployments() -> ApiResource {
    ApiResource::from_gvk(
        &GroupVersionKind::new("apps", "v1", "Deployment"),
        "deployments",
        Scope::Namespaced,
    )
}

#[tokio::test]
async fn a_deployment_from_a_yaml_manifest_is_created_listed_updated_and_deleted() {
    let (server, dynamic) = start(ServerConfig::default()).await;
    let deployments = dynamic.resource(&deployments()).namespace("default");
    let manifest = kinformer_dynamic::from_yaml_documents(DEPLOYMENT_YAML).unwrap();
    assert_eq!(manifest.len(), 1);

    let created = deployments
        .create(&manifest[0], &PostParams::default())
        .await
        .unwrap();
    assert_eq!(created.metadata.name(), "demo-deployment");
    assert_eq!(created.get_i64("spec.replicas"), Some(2));
    let stored = server
        .get("apps/v1", "Deployment", Some("default"), "demo-deployment")
        .expect("the server stored it");
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.12"
    );

    let list = deployments.list(&ListOptions::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(
        list.items[0].kind(),
        "Deployment",
        "list items get their kind"
    );
    assert_eq!(list.items[0].api_version(), "apps/v1");

    let mut changed = list.items[0].clone();
    changed.set("spec.replicas", json!(3)).unwrap();
    let updated = deployments
        .update(&changed, &PostParams::default())
        .await
        .unwrap();
    assert_eq!(updated.get_i64("spec.replicas"), Some(3));

    let patched = deployments
        .patch(
            "demo-deployment",
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(patched.get_i64("spec.replicas"), Some(1));

    let status = deployments
        .update_status(
            &patched.clone().with_types(&self::deployments()),
            &PostParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(status.metadata.name(), "demo-deployment");

    match deployments
        .delete("demo-deployment", &DeleteParams::foreground())
        .await
        .unwrap()
    {
        DeleteResponse::Deleted(_) | DeleteResponse::Pending(_) => {}
    }
    let gone = deployments.get("demo-deployment").await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn watch_events_and_all_namespace_lists_carry_types() {
    let (_server, dynamic) = start(ServerConfig::default()).await;
    let all = dynamic.resource(&deployments());
    let mut stream = all
        .watch(&ListOptions::default().timeout_seconds(30))
        .await
        .unwrap();
    let manifest = kinformer_dynamic::from_yaml_documents(DEPLOYMENT_YAML).unwrap();
    for namespace in ["a", "b"] {
        all.namespace(namespace)
            .create(&manifest[0], &PostParams::default())
            .await
            .unwrap();
    }
    for namespace in ["a", "b"] {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event {
            WatchEvent::Added(object) => {
                assert_eq!(object.metadata.namespace(), Some(namespace));
                assert_eq!(object.kind(), "Deployment");
            }
            other => panic!("{other:?}"),
        }
    }
    let list = all
        .list_all(&ListOptions::default().limit(1))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 2);
    assert!(list
        .items
        .iter()
        .all(|item| item.api_version() == "apps/v1"));
}

#[tokio::test]
async fn a_custom_resource_known_only_by_group_version_resource_is_listed_with_its_kind() {
    let flunders = ResourceInfo::new("wardle.example.com", "v1alpha1", "Flunder", "flunders");
    let (server, dynamic) = start(ServerConfig::default().resource(flunders)).await;
    server
        .create(
            json!({"apiVersion": "wardle.example.com/v1alpha1", "kind": "Flunder",
                       "metadata": {"name": "f1", "namespace": "default"},
                       "spec": {"reference": "f1"}}),
        )
        .unwrap();
    let gvr = GroupVersionResource::new("wardle.example.com", "v1alpha1", "flunders");
    let resource = dynamic
        .resource_for(&gvr, Scope::Namespaced)
        .namespace("default");
    let list = resource.list(&ListOptions::default()).await.unwrap();
    assert_eq!(list.items[0].kind(), "Flunder");
    assert_eq!(list.items[0].api_version(), "wardle.example.com/v1alpha1");
    assert_eq!(list.items[0].get_str("spec.reference"), Some("f1"));
}

/// The seed article's `tpls/deployment.yaml`, created the way its Go program does:
/// `dynamicCli.Resource(deployGVR).Namespace("default").Create(ctx, deployObj, ...)`.
const SEED_DEPLOYMENT_YAML: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: myngx
  namespace: default
spec:
  selector:
    matchLabels:
      app: myngx
  replicas: 1
  template:
    metadata:
      labels:
        app: myngx
    spec:
      containers:
        - name: myngx-container
          image: nginx:1.18-alpine
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 80
"#;

#[tokio::test]
async fn the_seed_articles_deployment_is_created_through_a_bare_group_version_resource() {
    let (server, dynamic) = start(ServerConfig::default()).await;
    let deploy_gvr = GroupVersionResource::new("apps", "v1", "deployments");
    let deploy_object = kinformer_dynamic::from_yaml_documents(SEED_DEPLOYMENT_YAML)
        .unwrap()
        .remove(0);
    let created = dynamic
        .resource_for(&deploy_gvr, Scope::Namespaced)
        .namespace("default")
        .create(&deploy_object, &PostParams::default())
        .await
        .unwrap();
    assert_eq!(created.metadata.name(), "myngx");
    assert_eq!(created.kind(), "Deployment");
    let stored = server
        .get("apps/v1", "Deployment", Some("default"), "myngx")
        .unwrap();
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.18-alpine"
    );
}
