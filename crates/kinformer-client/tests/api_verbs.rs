//! Every REST verb and patch type of `Api<K>` and the typed clientset against the fake API
//! server, with 4xx answers mapped to typed errors and pagination (including the
//! expired-continue fallback).

use kinformer_client::api::list_all_pages;
use kinformer_client::{
    Api, Client, Clientset, Config, DeleteParams, DeleteResponse, Error, GetParams, Patch,
    PatchParams, PostParams, Preconditions,
};
use kinformer_meta::{ListOptions, Object};
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use kinformer_typed::{ConfigMap, Deployment, Namespace, Pod};
use serde_json::{json, Value};

async fn start() -> (RunningServer, Client) {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    let config = Config::new(server.url().parse().unwrap());
    let client = Client::try_from(config).unwrap();
    (server, client)
}

fn config_map(name: &str, data: Value) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "demo"}},
        "data": data,
    }))
    .unwrap()
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[tokio::test]
async fn create_get_list_replace_and_delete_a_config_map() {
    let (_server, client) = start().await;
    let config_maps = Clientset::new(client).core_v1().config_maps("default");

    let created = config_maps
        .create(
            &config_map("cm1", json!({"a": "1"})),
            &PostParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata().name(), "cm1");
    assert!(created.metadata().uid.is_some());
    let first_version = created.metadata().resource_version().unwrap().to_owned();

    let fetched = config_maps.get("cm1").await.unwrap();
    assert_eq!(to_json(&fetched)["data"], json!({"a": "1"}));
    assert_eq!(fetched.kind(), "ConfigMap");

    let list = config_maps.list(&ListOptions::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(
        list.items[0].api_version(),
        "v1",
        "list items know their type"
    );
    assert!(list.resource_version().is_some());

    let mut changed = fetched.clone();
    let mut body = to_json(&changed);
    body["data"]["b"] = json!("2");
    changed = serde_json::from_value(body).unwrap();
    let replaced = config_maps
        .replace("cm1", &changed, &PostParams::default())
        .await
        .unwrap();
    assert_eq!(to_json(&replaced)["data"], json!({"a": "1", "b": "2"}));
    assert_ne!(
        replaced.metadata().resource_version().unwrap(),
        first_version
    );

    // Replacing with the stale resourceVersion is a typed 409 Conflict.
    let stale = config_maps
        .replace("cm1", &changed, &PostParams::default())
        .await
        .unwrap_err();
    assert!(stale.is_conflict(), "{stale}");

    match config_maps
        .delete("cm1", &DeleteParams::default())
        .await
        .unwrap()
    {
        DeleteResponse::Deleted(status) => {
            assert_eq!(status.details.unwrap().name.as_deref(), Some("cm1"))
        }
        DeleteResponse::Pending(object) => panic!("expected a Status, got {object:?}"),
    }
    assert!(config_maps.get_opt("cm1").await.unwrap().is_none());
}

#[tokio::test]
async fn four_hundreds_become_typed_errors() {
    let (_server, client) = start().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let missing = config_maps.get("nope").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert_eq!(missing.status().unwrap().code, 404);

    config_maps
        .create(&config_map("dup", json!({})), &PostParams::default())
        .await
        .unwrap();
    let duplicate = config_maps
        .create(&config_map("dup", json!({})), &PostParams::default())
        .await
        .unwrap_err();
    assert!(duplicate.is_already_exists(), "{duplicate}");

    let bad_selector = config_maps
        .list(&ListOptions::default().labels("app===b!!"))
        .await
        .unwrap_err();
    assert_eq!(
        bad_selector.status().map(|s| s.code),
        Some(400),
        "{bad_selector}"
    );

    let unnamed: ConfigMap = serde_json::from_value(json!({"metadata": {}})).unwrap();
    let invalid = config_maps
        .create(&unnamed, &PostParams::default())
        .await
        .unwrap_err();
    assert!(
        invalid.status().is_some_and(|s| s.is_invalid()),
        "{invalid}"
    );

    let precondition = config_maps
        .delete(
            "dup",
            &DeleteParams::default().preconditions(Preconditions {
                uid: Some("00000000-0000-0000-0000-000000000000".into()),
                resource_version: None,
            }),
        )
        .await
        .unwrap_err();
    assert!(precondition.is_conflict(), "{precondition}");
}

#[tokio::test]
async fn every_patch_type_changes_the_object() {
    let (_server, client) = start().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client, "default");
    config_maps
        .create(&config_map("p", json!({"a": "1"})), &PostParams::default())
        .await
        .unwrap();

    let merged = config_maps
        .patch(
            "p",
            &Patch::Merge(json!({"data": {"b": "2"}})),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(to_json(&merged)["data"], json!({"a": "1", "b": "2"}));

    let json_patched = config_maps
        .patch(
            "p",
            &Patch::Json(json!([{"op": "remove", "path": "/data/a"}])),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(to_json(&json_patched)["data"], json!({"b": "2"}));

    let strategic = config_maps
        .patch(
            "p",
            &Patch::Strategic(json!({"metadata": {"labels": {"tier": "web"}}})),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(strategic.metadata().labels.get("tier"), Some("web"));
    assert_eq!(strategic.metadata().labels.get("app"), Some("demo"));

    let applied = config_maps
        .patch(
            "p",
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "p"}, "data": {"c": "3"}
            })),
            &PatchParams::apply("kinformer-test").force(),
        )
        .await
        .unwrap();
    assert_eq!(to_json(&applied)["data"]["c"], "3");

    // Server-side apply of an object that does not exist creates it.
    let created = config_maps
        .patch(
            "fresh",
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fresh"}, "data": {"x": "1"}})),
            &PatchParams::apply("kinformer-test"),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata().name(), "fresh");
}

#[tokio::test]
async fn status_subresource_replace_and_patch_leave_the_spec_alone() {
    let (_server, client) = start().await;
    let deployments = Clientset::new(client).apps_v1().deployments("default");
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}
    }))
    .unwrap();
    let created = deployments
        .create(&deployment, &PostParams::default())
        .await
        .unwrap();

    let mut body = to_json(&created);
    body["status"] = json!({"replicas": 2, "readyReplicas": 1});
    body["spec"]["replicas"] = json!(9);
    let with_status: Deployment = serde_json::from_value(body).unwrap();
    let replaced = deployments
        .replace_status("web", &with_status, &PostParams::default())
        .await
        .unwrap();
    let replaced = to_json(&replaced);
    assert_eq!(replaced["status"]["readyReplicas"], 1);
    assert_eq!(
        replaced["spec"]["replicas"], 2,
        "status writes ignore the spec"
    );

    let patched = deployments
        .patch_status(
            "web",
            &Patch::Merge(json!({"status": {"readyReplicas": 2}})),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(to_json(&patched)["status"]["readyReplicas"], 2);
}

#[tokio::test]
async fn delete_collection_removes_only_what_the_selector_matches() {
    let (_server, client) = start().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client, "default");
    for (name, app) in [("a", "x"), ("b", "x"), ("c", "y")] {
        let mut object = config_map(name, json!({}));
        object.metadata_mut().labels.insert("app", app);
        config_maps
            .create(&object, &PostParams::default())
            .await
            .unwrap();
    }
    let answer = config_maps
        .delete_collection(
            &DeleteParams::background(),
            &ListOptions::default().labels("app=x"),
        )
        .await
        .unwrap();
    if let DeleteResponse::Pending(list) = &answer {
        let mut names: Vec<&str> = list.items.iter().map(|i| i.metadata().name()).collect();
        names.sort();
        assert_eq!(names, ["a", "b"]);
    }
    let left = config_maps.list(&ListOptions::default()).await.unwrap();
    let names: Vec<&str> = left.items.iter().map(|i| i.metadata().name()).collect();
    assert_eq!(names, ["c"]);
}

#[tokio::test]
async fn cluster_scoped_kinds_and_all_namespace_lists_use_the_right_paths() {
    let (server, client) = start().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let created = namespaces
        .create(
            &serde_json::from_value(json!({"metadata": {"name": "team-a"}})).unwrap(),
            &PostParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata().namespace(), None);
    server
        .create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "namespace": "team-a"}}))
        .unwrap();
    server
        .create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p2", "namespace": "default"}}))
        .unwrap();
    let all: Api<Pod> = Api::all(client.clone());
    assert_eq!(
        all.list(&ListOptions::default()).await.unwrap().items.len(),
        2
    );
    let single = all.get("p1").await.unwrap_err();
    assert!(matches!(single, Error::InvalidRequest(_)), "{single}");
    let by_field = all
        .list(&ListOptions::default().fields("metadata.namespace=team-a"))
        .await
        .unwrap();
    assert_eq!(by_field.items[0].metadata().name(), "p1");
    let cached = Api::<Pod>::namespaced(client, "team-a")
        .get_with(
            "p1",
            &GetParams {
                resource_version: Some("0".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(cached.metadata().name(), "p1");
}

async fn seed_config_maps(server: &RunningServer, count: usize) {
    for i in 0..count {
        server
            .create(json!({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": format!("cm{i:02}"), "namespace": "default"}}))
            .unwrap();
    }
}

#[tokio::test]
async fn list_all_walks_every_page() {
    let (server, client) = start().await;
    seed_config_maps(&server, 7).await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let first = config_maps
        .list(&ListOptions::default().limit(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(first.continue_token().is_some());
    let all = config_maps
        .list_all(&ListOptions::default().limit(2))
        .await
        .unwrap();
    let names: Vec<&str> = all.items.iter().map(|i| i.metadata().name()).collect();
    assert_eq!(
        names,
        ["cm00", "cm01", "cm02", "cm03", "cm04", "cm05", "cm06"]
    );
    assert_eq!(all.resource_version(), first.resource_version());
    assert_eq!(all.continue_token(), None);
}

#[tokio::test]
async fn pager_falls_back_to_a_full_list_after_compaction_expires_the_continue_token() {
    let (server, client) = start().await;
    seed_config_maps(&server, 5).await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut pages = 0;
    let mut limits = Vec::new();
    let list = list_all_pages(&ListOptions::default().limit(2), |options| {
        pages += 1;
        limits.push((options.limit, options.continue_token.is_some()));
        let config_maps = config_maps.clone();
        let server = &server;
        let compact = pages == 1;
        async move {
            let page = config_maps.list(&options).await;
            if compact {
                // A write and a compaction while the client pages: the token's snapshot is gone.
                server
                    .create(json!({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "late", "namespace": "default"}}))
                    .unwrap();
                server.compact();
            }
            page
        }
    })
    .await
    .unwrap();
    assert_eq!(limits, [(Some(2), false), (Some(2), true), (None, false)]);
    assert_eq!(
        list.items.len(),
        6,
        "the fallback list sees the current state"
    );
    assert!(list.items.iter().any(|i| i.metadata().name() == "late"));

    // Without the fallback the 410 is a typed error carrying the fresh continue token.
    let first = config_maps
        .list(&ListOptions::default().limit(2))
        .await
        .unwrap();
    server
        .create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "later", "namespace": "default"}}))
        .unwrap();
    server.compact();
    let expired = config_maps
        .list(
            &ListOptions::default()
                .limit(2)
                .continue_token(first.continue_token().unwrap()),
        )
        .await
        .unwrap_err();
    assert!(expired.is_gone(), "{expired}");
    assert!(expired.status().unwrap().metadata.continue_token.is_some());
}
