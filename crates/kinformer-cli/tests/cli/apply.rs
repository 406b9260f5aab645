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
        "configmap/settings configured\ndeployment.apps/api configured\n"
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
