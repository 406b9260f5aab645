//! `apply -f` (files, directories, stdin, server-side) and `delete`.

use std::process::Stdio;

use crate::common::{assert_ok, shop, stdout, Cluster, MANIFEST};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_then_updates_every_document() {
    let cluster = Cluster::start(shop()).await;
    let path = cluster.dir.path().join("app.yaml");
    std::fs::write(&path, MANIFEST).unwrap();
    let file = path.to_str().unwrap();

    let output = cluster.run(&["apply", "-f", file, "-n", "shop"]).await;
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "configmap/settings created\ndeployment.apps/api created\n"
    );
    let handle = cluster.handle();
    let settings = handle
        .get("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    assert_eq!(settings["data"]["LOG_LEVEL"], "info");
    assert!(handle
        .get("apps/v1", "Deployment", Some("payments"), "api")
        .is_some());

    std::fs::write(
        &path,
        MANIFEST.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"),
    )
    .unwrap();
    let output = cluster.run(&["apply", "-f", file, "-n", "shop"]).await;
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "configmap/settings configured\ndeployment.apps/api unchanged\n",
        "only the ConfigMap's manifest changed"
    );
    let settings = handle
        .get("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    assert_eq!(settings["data"]["LOG_LEVEL"], "debug");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_server_side_sends_apply_patches() {
    let cluster = Cluster::start(shop()).await;
    let path = cluster.dir.path().join("app.yaml");
    std::fs::write(&path, MANIFEST).unwrap();
    let output = cluster
        .run(&["apply", "--server-side", "-f", path.to_str().unwrap()])
        .await;
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "configmap/settings serverside-applied\ndeployment.apps/api serverside-applied\n"
    );
    let settings = cluster
        .handle()
        .get("v1", "ConfigMap", Some("default"), "settings")
        .unwrap();
    assert_eq!(settings["data"]["LOG_LEVEL"], "info");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_reads_stdin_and_directories() {
    use tokio::io::AsyncWriteExt;

    let cluster = Cluster::start(shop()).await;
    let kubeconfig = cluster.kubeconfig();
    let mut child = cluster
        .command(&["apply", "-f", "-", "-n", "payments", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-stdin}\ndata: {a: '1'}\n",
        )
        .await
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert_ok(&output);
    assert_eq!(stdout(&output), "configmap/from-stdin created\n");
    let handle = cluster.handle();
    assert!(handle
        .get("v1", "ConfigMap", Some("payments"), "from-stdin")
        .is_some());

    let dir = cluster.dir.path().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("1.yaml"), MANIFEST).unwrap();
    std::fs::write(
        dir.join("2.json"),
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"from-json"}}"#,
    )
    .unwrap();
    let output = cluster.run(&["apply", "-f", dir.to_str().unwrap()]).await;
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "configmap/settings created\ndeployment.apps/api created\nconfigmap/from-json created\n"
    );
    assert!(handle
        .get("v1", "ConfigMap", Some("default"), "from-json")
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_the_named_object() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster.run(&["delete", "pod", "web-2", "-n", "shop"]).await;
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod \"web-2\" deleted\n");
    assert!(cluster
        .handle()
        .get("v1", "Pod", Some("shop"), "web-2")
        .is_none());
}

/// A Deployment manifest with `replicas`, labels and an `env` list; `extra` lines join the
/// ConfigMap's data.
fn three_way_manifest(replicas: u32, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  LOG_LEVEL: info\n{extra}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  labels: {{tier: backend}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec: {{containers: [{{name: app, image: 'api:1'}}]}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_apply_merges_three_ways_like_kubectl() {
    let cluster = Cluster::start(shop()).await;
    let path = cluster.dir.path().join("app.yaml");
    let file = path.to_str().unwrap();
    let handle = cluster.handle();
    std::fs::write(&path, three_way_manifest(1, "  RETRIES: '3'\n")).unwrap();
    let output = cluster.run(&["apply", "-f", file, "-n", "shop"]).await;
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "configmap/settings created\ndeployment.apps/api created\n"
    );
    let settings = handle
        .get("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    let stored: serde_json::Value = serde_json::from_str(
        settings["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .expect("the last-applied annotation is set on create"),
    )
    .unwrap();
    assert_eq!(stored["data"]["RETRIES"], "3");
    assert_eq!(stored["metadata"]["annotations"], serde_json::json!({}));

    // The same manifest again changes nothing.
    let output = cluster.run(&["apply", "-f", file, "-n", "shop"]).await;
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "configmap/settings unchanged\ndeployment.apps/api unchanged\n"
    );
    let unchanged = handle
        .get("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    assert_eq!(
        unchanged["metadata"]["resourceVersion"],
        settings["metadata"]["resourceVersion"]
    );

    // Someone else adds a data key and a label, and scales the Deployment.
    let mut edited = unchanged.clone();
    edited["data"]["FROM_EDIT"] = "kept".into();
    edited["metadata"]["labels"] = serde_json::json!({"owner": "ops"});
    handle.update(edited).unwrap();
    let mut deployment = handle
        .get("apps/v1", "Deployment", Some("shop"), "api")
        .unwrap();
    deployment["spec"]["replicas"] = 7.into();
    deployment["metadata"]["labels"]["edited"] = "yes".into();
    handle.update(deployment).unwrap();

    // The manifest drops RETRIES and sets replicas 2.
    std::fs::write(&path, three_way_manifest(2, "")).unwrap();
    let output = cluster.run(&["apply", "-f", file, "-n", "shop"]).await;
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "configmap/settings configured\ndeployment.apps/api configured\n"
    );
    let settings = handle
        .get("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    assert_eq!(
        settings["data"],
        serde_json::json!({"LOG_LEVEL": "info", "FROM_EDIT": "kept"}),
        "RETRIES, dropped from the manifest, is deleted; the edit is kept"
    );
    assert_eq!(settings["metadata"]["labels"]["owner"], "ops");
    let deployment = handle
        .get("apps/v1", "Deployment", Some("shop"), "api")
        .unwrap();
    assert_eq!(deployment["spec"]["replicas"], 2, "the manifest wins");
    assert_eq!(deployment["metadata"]["labels"]["edited"], "yes");
    assert_eq!(deployment["metadata"]["labels"]["tier"], "backend");
    assert!(deployment["metadata"].get("creationTimestamp").is_some());
}

/// `kubectl apply -f` against the cluster, its stdout.
async fn kubectl_apply(cluster: &Cluster, file: &str) -> String {
    let output = tokio::process::Command::new("kubectl")
        .args(["apply", "-f", file, "--server", &cluster.server.url()])
        .env("HOME", cluster.dir.path())
        .env_remove("KUBECONFIG")
        .output()
        .await
        .expect("kubectl is on PATH (install Debian's kubernetes-client)");
    assert_ok(&output);
    stdout(&output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_and_kinformer_recognise_each_others_last_apply() {
    let cluster = Cluster::start(shop()).await;
    let path = cluster.dir.path().join("app.yaml");
    let file = path.to_str().unwrap();
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web2, namespace: default}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web2}}\n  template:\n    metadata: {labels: {app: web2}}\n    spec: {containers: [{name: app, image: nginx}]}\n";
    std::fs::write(
        &path,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: interop, namespace: default}}\ndata: {{A: '1', B: '2'}}\n---\n{deployment}"),
    )
    .unwrap();
    assert_ok(&cluster.run(&["apply", "-f", file]).await);
    assert_eq!(
        kubectl_apply(&cluster, file).await,
        "configmap/interop unchanged\ndeployment.apps/web2 unchanged\n"
    );
    // kubectl drops B; kinformer then sees kubectl's apply as its own.
    std::fs::write(
        &path,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: interop, namespace: default}}\ndata: {{A: '1'}}\n---\n{deployment}"),
    )
    .unwrap();
    assert_eq!(
        kubectl_apply(&cluster, file).await,
        "configmap/interop configured\ndeployment.apps/web2 unchanged\n"
    );
    let output = cluster.run(&["apply", "-f", file]).await;
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "configmap/interop unchanged\ndeployment.apps/web2 unchanged\n"
    );
}
