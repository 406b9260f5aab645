//! Write verbs over HTTP: POST, PUT, PATCH (all four types), DELETE with finalizers and
//! preconditions, deletecollection, the status subresource, CRDs, and every 4xx path.

mod common;

use common::{pod, Client};
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use serde_json::{json, Value};

async fn start() -> (RunningServer, Client) {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    let client = Client::new(server.url());
    (server, client)
}

const PODS: &str = "/api/v1/namespaces/default/pods";

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

#[tokio::test]
async fn post_creates_with_uid_timestamp_resource_version_and_managed_fields() {
    let (server, client) = start().await;
    let reply = client
        .call(
            "POST",
            "/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create",
            &[("content-type", "application/json")],
            &configmap("c1").to_string(),
        )
        .await;
    assert_eq!(reply.status, 201);
    let object = reply.json();
    assert_eq!(object["kind"], "ConfigMap");
    assert_eq!(object["metadata"]["namespace"], "default");
    assert_eq!(object["metadata"]["uid"].as_str().unwrap().len(), 36);
    assert!(object["metadata"]["creationTimestamp"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(
        object["metadata"]["resourceVersion"],
        server.resource_version().to_string()
    );
    let entry = &object["metadata"]["managedFields"][0];
    assert_eq!(entry["manager"], "kubectl-create");
    assert_eq!(entry["operation"], "Update");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert_eq!(entry["fieldsV1"]["f:data"]["f:k"], json!({}));
}

#[tokio::test]
async fn generate_name_gets_a_five_character_suffix() {
    let (_server, client) = start().await;
    let reply = client
        .post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"generateName": "gen-"}}),
        )
        .await;
    assert_eq!(reply.status, 201);
    let name = reply.json()["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
}

#[tokio::test]
async fn post_errors_match_the_apiserver() {
    let (_server, client) = start().await;
    let mismatch = client.post(PODS, &pod("other", "p", json!({}))).await;
    assert_eq!(mismatch.status, 400);
    assert_eq!(
        mismatch.body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the namespace of the provided object does not match the namespace sent on the request","reason":"BadRequest","code":400}"#
    );
    let nameless = client
        .post(
            PODS,
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}}),
        )
        .await;
    assert_eq!(nameless.status, 422);
    assert_eq!(
        nameless.body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Pod \"\" is invalid: metadata.name: Required value: name or generateName is required","reason":"Invalid","details":{"group":"","kind":"Pod","causes":[{"reason":"FieldValueRequired","message":"Required value: name or generateName is required","field":"metadata.name"}]},"code":422}"#
    );
    assert_eq!(
        client
            .post(PODS, &pod("default", "p", json!({})))
            .await
            .status,
        201
    );
    let duplicate = client.post(PODS, &pod("default", "p", json!({}))).await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(
        duplicate.body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"p\" already exists","reason":"AlreadyExists","details":{"name":"p","group":"","kind":"pods"},"code":409}"#
    );
    let bad_json = client
        .call(
            "POST",
            PODS,
            &[("content-type", "application/json")],
            r#"{"apiVersion":"#,
        )
        .await;
    assert_eq!(bad_json.status, 400);
    let message = bad_json.json()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: unexpected end of JSON input"), "{message}");
    let not_object = client
        .call("POST", PODS, &[("content-type", "application/json")], "[1]")
        .await;
    assert_eq!(not_object.status, 400);
    let all_namespaces = client
        .post("/api/v1/pods", &pod("default", "q", json!({})))
        .await;
    assert_eq!(all_namespaces.status, 405);
}

#[tokio::test]
async fn get_of_a_missing_object_and_of_an_unknown_resource_are_404() {
    let (_server, client) = start().await;
    let missing = client
        .get("/apis/apps/v1/namespaces/default/deployments/nope")
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"nope\" not found","reason":"NotFound","details":{"name":"nope","group":"apps","kind":"deployments"},"code":404}"#
    );
    for path in [
        "/api/v1/namespaces/default/widgets",
        "/apis/nope.io/v1/things",
        "/api/v1/pods/x/y/z",
        "/random",
    ] {
        let unknown = client.get(path).await;
        assert_eq!(unknown.status, 404, "{path}");
        assert_eq!(
            unknown.json()["message"],
            "the server could not find the requested resource"
        );
        assert_eq!(unknown.json()["details"], json!({}));
    }
}

#[tokio::test]
async fn wrong_methods_are_405() {
    let (server, client) = start().await;
    server.create(configmap("c")).unwrap();
    let reply = client
        .call("POST", "/api/v1/namespaces/default/configmaps/c", &[], "{}")
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.json()["reason"], "MethodNotAllowed");
    assert_eq!(
        client
            .call("PUT", "/api/v1/namespaces/default/configmaps", &[], "{}")
            .await
            .status,
        405
    );
}

#[tokio::test]
async fn put_replaces_and_a_stale_resource_version_is_409_conflict() {
    let (server, client) = start().await;
    let created = server.create(configmap("c")).unwrap();
    let mut next = created.clone();
    next["data"]["k"] = json!("w");
    let reply = client
        .put("/api/v1/namespaces/default/configmaps/c", &next)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["data"]["k"], "w");
    assert_eq!(reply.json()["metadata"]["uid"], created["metadata"]["uid"]);
    let stale = client
        .put("/api/v1/namespaces/default/configmaps/c", &next)
        .await;
    assert_eq!(stale.status, 409);
    assert_eq!(
        stale.json()["message"],
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(stale.json()["reason"], "Conflict");
    let missing = client
        .put("/api/v1/namespaces/default/configmaps/zz", &configmap("zz"))
        .await;
    assert_eq!(missing.status, 404);
    let renamed = client
        .put(
            "/api/v1/namespaces/default/configmaps/c",
            &configmap("other"),
        )
        .await;
    assert_eq!(renamed.status, 400);
}

#[tokio::test]
async fn an_unchanged_put_keeps_the_resource_version() {
    let (server, client) = start().await;
    let created = server.create(configmap("c")).unwrap();
    let reply = client
        .put("/api/v1/namespaces/default/configmaps/c", &created)
        .await;
    assert_eq!(
        reply.json()["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn status_subresource_changes_only_status_and_the_main_resource_only_the_rest() {
    let (server, client) = start().await;
    let created = server.create(pod("default", "p", json!({}))).unwrap();
    let mut next = created.clone();
    next["status"]["phase"] = json!("Succeeded");
    next["metadata"]["labels"] = json!({"x": "1"});
    let reply = client.put(&format!("{PODS}/p/status"), &next).await;
    assert_eq!(reply.status, 200);
    let after = reply.json();
    assert_eq!(after["status"]["phase"], "Succeeded");
    assert!(
        after["metadata"].get("labels").is_none() || after["metadata"]["labels"].get("x").is_none()
    );
    let mut main = after.clone();
    main["status"]["phase"] = json!("Failed");
    main["spec"]["nodeName"] = json!("n1");
    let reply = client.put(&format!("{PODS}/p"), &main).await.json();
    assert_eq!(
        reply["status"]["phase"], "Succeeded",
        "status is ignored on the main resource"
    );
    assert_eq!(reply["spec"]["nodeName"], "n1");
    let reply = client
        .patch(
            &format!("{PODS}/p/status"),
            "application/merge-patch+json",
            r#"{"status":{"phase":"Failed"}}"#,
        )
        .await;
    assert_eq!(reply.json()["status"]["phase"], "Failed");
    assert_eq!(client.get(&format!("{PODS}/p/status")).await.status, 200);
    assert_eq!(
        client
            .get("/api/v1/namespaces/default/configmaps/c/status")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn merge_json_and_strategic_patches_apply() {
    let (server, client) = start().await;
    let mut p = pod("default", "p", json!({"app": "a"}));
    p["spec"]["containers"] = json!([{"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}]}, {"name": "side", "image": "s:1"}]);
    server.create(p).unwrap();
    let merged = client
        .patch(
            &format!("{PODS}/p"),
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"app":null,"new":"y"}}}"#,
        )
        .await;
    assert_eq!(merged.status, 200);
    assert_eq!(merged.json()["metadata"]["labels"], json!({"new": "y"}));
    let jsonpatch = client
        .patch(
            &format!("{PODS}/p"),
            "application/json-patch+json",
            r#"[{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]"#,
        )
        .await;
    assert_eq!(jsonpatch.json()["metadata"]["annotations"]["a"], "b");
    let strategic = client
        .patch(
            &format!("{PODS}/p"),
            "application/strategic-merge-patch+json",
            r#"{"spec":{"containers":[{"name":"app","image":"a:2","env":[{"name":"B","value":"2"}]}]}}"#,
        )
        .await
        .json();
    assert_eq!(
        strategic["spec"]["containers"].as_array().unwrap().len(),
        2,
        "containers merge by name"
    );
    assert_eq!(strategic["spec"]["containers"][0]["image"], "a:2");
    assert_eq!(
        strategic["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let failed_test = client
        .patch(
            &format!("{PODS}/p"),
            "application/json-patch+json",
            r#"[{"op":"test","path":"/metadata/name","value":"q"}]"#,
        )
        .await;
    assert_eq!(failed_test.status, 422);
    let unsupported = client.patch(&format!("{PODS}/p"), "text/plain", "x").await;
    assert_eq!(unsupported.status, 415);
    let bad = client
        .patch(
            &format!("{PODS}/p"),
            "application/merge-patch+json",
            "{nope",
        )
        .await;
    assert_eq!(bad.status, 400);
    let missing = client
        .patch(&format!("{PODS}/zz"), "application/merge-patch+json", "{}")
        .await;
    assert_eq!(missing.status, 404);
    let stale = client
        .patch(
            &format!("{PODS}/p"),
            "application/merge-patch+json",
            r#"{"metadata":{"resourceVersion":"1"}}"#,
        )
        .await;
    assert_eq!(
        stale.status, 409,
        "a patch carrying a stale resourceVersion conflicts"
    );
}

#[tokio::test]
async fn server_side_apply_creates_then_merges_and_records_the_manager() {
    let (_server, client) = start().await;
    let path = "/api/v1/namespaces/default/configmaps/applied?fieldManager=kubectl&force=true";
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: \"1\"\n";
    let created = client
        .patch(path, "application/apply-patch+yaml", yaml)
        .await;
    assert_eq!(created.status, 201);
    let object = created.json();
    assert_eq!(object["metadata"]["managedFields"][0]["operation"], "Apply");
    assert_eq!(object["metadata"]["managedFields"][0]["manager"], "kubectl");
    let updated = client
        .patch(path, "application/apply-patch+yaml", r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"b":"2"}}"#)
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["data"], json!({"a": "1", "b": "2"}));
    let no_manager = client
        .patch(
            "/api/v1/namespaces/default/configmaps/applied",
            "application/apply-patch+yaml",
            yaml,
        )
        .await;
    assert_eq!(no_manager.status, 422);
}

#[tokio::test]
async fn server_side_apply_conflicts_with_another_managers_field_unless_forced() {
    let (server, client) = start().await;
    // Created through the handle: manager "kinformer-replay" (Update) owns data.a.
    server
        .create(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1", "keep": "k"}}))
        .unwrap();
    let apply = |value: &str, force: bool| {
        let path = format!(
            "/api/v1/namespaces/default/configmaps/c?fieldManager=ops{}",
            if force { "&force=true" } else { "" }
        );
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"c"}},"data":{{"a":"{value}"}}}}"#
        );
        let client = client.clone();
        async move {
            client
                .patch(&path, "application/apply-patch+yaml", &body)
                .await
        }
    };
    let conflict = apply("2", false).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    let status = conflict.json();
    assert_eq!(status["reason"], "Conflict");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Apply failed with 1 conflict: conflict with \"kinformer-replay\" using v1 at "
        ) && message.ends_with(": .data.a"),
        "{message}"
    );
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldManagerConflict"
    );
    assert_eq!(status["details"]["causes"][0]["field"], ".data.a");
    let unchanged = server.get("v1", "ConfigMap", Some("default"), "c").unwrap();
    assert_eq!(
        unchanged["data"]["a"], "1",
        "a conflicting apply writes nothing"
    );

    // The same value is shared ownership, not a conflict.
    assert_eq!(apply("1", false).await.status, 200);

    let forced = apply("2", true).await;
    assert_eq!(forced.status, 200, "{}", forced.body);
    let object = forced.json();
    assert_eq!(object["data"], json!({"a": "2", "keep": "k"}));
    let entries = object["metadata"]["managedFields"].as_array().unwrap();
    let fields_of = |manager: &str| {
        entries
            .iter()
            .find(|e| e["manager"] == manager)
            .map(|e| e["fieldsV1"].clone())
            .unwrap()
    };
    assert_eq!(fields_of("ops"), json!({"f:data": {".": {}, "f:a": {}}}));
    assert!(
        fields_of("kinformer-replay")["f:data"].get("f:a").is_none(),
        "the forced field moved to the applier"
    );
    assert!(fields_of("kinformer-replay")["f:data"]
        .get("f:keep")
        .is_some());

    // Now ops owns data.a: its own applies never conflict, another manager's do.
    assert_eq!(apply("3", false).await.status, 200);
    let other = client
        .patch(
            "/api/v1/namespaces/default/configmaps/c?fieldManager=other",
            "application/apply-patch+yaml",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"9"}}"#,
        )
        .await;
    assert_eq!(other.status, 409);
    assert_eq!(
        other.json()["message"],
        "Apply failed with 1 conflict: conflict with \"ops\": .data.a"
    );
}

#[tokio::test]
async fn delete_answers_a_success_status() {
    let (server, client) = start().await;
    let created = server.create(configmap("c")).unwrap();
    let reply = client
        .delete("/api/v1/namespaces/default/configmaps/c", "")
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": "c", "group": "", "kind": "configmaps", "uid": created["metadata"]["uid"]}, "code": 0})
    );
    assert!(server
        .get("v1", "ConfigMap", Some("default"), "c")
        .is_none());
    assert_eq!(
        client
            .delete("/api/v1/namespaces/default/configmaps/c", "")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn delete_preconditions_are_checked() {
    let (server, client) = start().await;
    server.create(configmap("c")).unwrap();
    let reply = client
        .delete(
            "/api/v1/namespaces/default/configmaps/c",
            r#"{"preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}"#,
        )
        .await;
    assert_eq!(reply.status, 409);
    let message = reply.json()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("Operation cannot be fulfilled on ConfigMap \"c\": the UID in the precondition (00000000-0000-0000-0000-000000000000) does not match the UID in record"), "{message}");
    assert_eq!(reply.json()["details"]["kind"], "ConfigMap");
    let reply = client
        .delete(
            "/api/v1/namespaces/default/configmaps/c",
            r#"{"preconditions":{"resourceVersion":"1"}}"#,
        )
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        client
            .delete("/api/v1/namespaces/default/configmaps/c", "{bad")
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn finalizers_hold_a_deleted_object_until_the_last_one_is_removed() {
    let (server, client) = start().await;
    let mut object = configmap("c");
    object["metadata"]["finalizers"] = json!(["example.com/a", "example.com/b"]);
    server.create(object).unwrap();
    let reply = client
        .delete("/api/v1/namespaces/default/configmaps/c", "")
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.json()["metadata"]["deletionTimestamp"].is_string());
    let path = "/api/v1/namespaces/default/configmaps/c";
    let one_left = client
        .patch(
            path,
            "application/merge-patch+json",
            r#"{"metadata":{"finalizers":["example.com/b"]}}"#,
        )
        .await;
    assert_eq!(one_left.status, 200);
    assert!(server
        .get("v1", "ConfigMap", Some("default"), "c")
        .is_some());
    let none_left = client
        .patch(
            path,
            "application/merge-patch+json",
            r#"{"metadata":{"finalizers":null}}"#,
        )
        .await;
    assert_eq!(none_left.status, 200);
    assert!(
        server
            .get("v1", "ConfigMap", Some("default"), "c")
            .is_none(),
        "gone with the last finalizer"
    );
}

#[tokio::test]
async fn deletecollection_deletes_the_selected_objects() {
    let (server, client) = start().await;
    server
        .create(pod("default", "a", json!({"app": "x"})))
        .unwrap();
    server
        .create(pod("default", "b", json!({"app": "y"})))
        .unwrap();
    server
        .create(pod("other", "c", json!({"app": "x"})))
        .unwrap();
    let reply = client
        .delete("/api/v1/namespaces/default/pods?labelSelector=app%3Dx", "")
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["kind"], "PodList");
    assert_eq!(reply.json()["items"].as_array().unwrap().len(), 1);
    let left: Vec<String> = server
        .list("v1", "Pod", None)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, vec!["b", "c"]);
    assert_eq!(
        client
            .delete("/api/v1/pods?labelSelector=%3D%3D", "")
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn cluster_scoped_resources_live_outside_namespaces() {
    let (_server, client) = start().await;
    let reply = client
        .post(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert!(reply.json()["metadata"].get("namespace").is_none());
    assert_eq!(client.get("/api/v1/namespaces/team-a").await.status, 200);
    assert_eq!(
        client.get("/api/v1/namespaces/team-a/nodes").await.status,
        404,
        "nodes are not namespaced"
    );
}

#[tokio::test]
async fn creating_a_crd_serves_its_resource() {
    let (_server, client) = start().await;
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                 "versions": [{"name": "v1", "served": true, "storage": true}]}});
    let reply = client
        .post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd,
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.json()["status"]["conditions"][1]["type"],
        "Established"
    );
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}});
    assert_eq!(
        client
            .post("/apis/example.com/v1/namespaces/default/widgets", &widget)
            .await
            .status,
        201
    );
    let list = client.get("/apis/example.com/v1/widgets").await.json();
    assert_eq!(list["kind"], "WidgetList");
    assert_eq!(list["items"][0]["spec"]["size"], 3);
    let resources = client.get("/apis/example.com/v1").await.json();
    assert_eq!(resources["resources"][0]["name"], "widgets");
    let gone = client
        .delete(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
            "",
        )
        .await;
    assert_eq!(gone.status, 200);
    assert_eq!(client.get("/apis/example.com/v1/widgets").await.status, 404);
}

#[tokio::test]
async fn crds_registered_at_start_are_served() {
    let crd = json!({"spec": {"group": "example.com", "scope": "Cluster",
        "names": {"plural": "gadgets", "kind": "Gadget"}, "versions": [{"name": "v1", "served": true}]}});
    let server = FakeApiServer::start(ServerConfig::default().crd(&crd))
        .await
        .unwrap();
    server
        .create(
            json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}),
        )
        .unwrap();
    let client = Client::new(server.url());
    assert_eq!(
        client.get("/apis/example.com/v1/gadgets/g").await.json()["kind"],
        "Gadget"
    );
}

#[tokio::test]
async fn handle_rejections_carry_the_status() {
    let (server, _client) = start().await;
    server.create(configmap("c")).unwrap();
    match server.create(configmap("c")) {
        Err(kinformer_replay::Error::Rejected { status }) => assert_eq!(status.code, 409),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        server.create(json!({"apiVersion": "nope/v1", "kind": "X", "metadata": {"name": "x"}})),
        Err(kinformer_replay::Error::UnknownKind { .. })
    ));
    assert_eq!(
        server
            .delete("v1", "ConfigMap", Some("default"), "zz")
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn dry_run_writes_answer_as_usual_but_store_nothing() {
    let (server, client) = start().await;
    let rv = server.resource_version();
    let created = client
        .post(
            "/api/v1/namespaces/default/configmaps?dryRun=All",
            &configmap("dry"),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["metadata"]["name"], "dry");
    assert!(server
        .get("v1", "ConfigMap", Some("default"), "dry")
        .is_none());
    server.create(configmap("real")).unwrap();
    let patched = client
        .patch(
            "/api/v1/namespaces/default/configmaps/real?dryRun=All",
            "application/merge-patch+json",
            r#"{"data":{"k":"changed"}}"#,
        )
        .await;
    assert_eq!(patched.json()["data"]["k"], "changed");
    assert_eq!(
        server
            .get("v1", "ConfigMap", Some("default"), "real")
            .unwrap()["data"]["k"],
        "v"
    );
    let deleted = client
        .delete("/api/v1/namespaces/default/configmaps/real?dryRun=All", "")
        .await;
    assert_eq!(deleted.status, 200);
    assert!(server
        .get("v1", "ConfigMap", Some("default"), "real")
        .is_some());
    assert_eq!(
        server.resource_version(),
        rv + 1,
        "only the real create moved the resourceVersion"
    );
}
