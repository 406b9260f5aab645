//! Error cases: each is one `error: ` line on stderr and a non-zero exit.

use crate::common::{assert_ok, assert_one_line_error, shop, stderr, stdout, Cluster, MANIFEST};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_resource_is_a_one_line_error() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster.run(&["get", "flunders"]).await;
    assert_one_line_error(&output, "doesn't have a resource type \"flunders\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_selector_is_a_one_line_error() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster.run(&["get", "pods", "-l", "app in (web"]).await;
    assert_one_line_error(&output, "invalid label selector \"app in (web\"");
    let output = cluster
        .run(&["watch", "pods", "-l", "=x", "--duration", "1"])
        .await;
    assert_one_line_error(&output, "invalid label selector");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_one_line_error() {
    // Bind then drop a listener: the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cluster = Cluster::start(Vec::new()).await;
    let output = cluster
        .command(&[
            "get",
            "pods",
            "--server",
            &format!("http://127.0.0.1:{port}"),
        ])
        .output()
        .await
        .unwrap();
    assert_one_line_error(&output, &format!("127.0.0.1:{port}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_errors_add_their_causes() {
    let cluster = Cluster::start(Vec::new()).await;
    let output = cluster
        .command(&["get", "pods", "-v", "--kubeconfig", "/nonexistent/config"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.starts_with("error: loading the client configuration failed"),
        "{text}"
    );
    assert!(text.contains("caused by:"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_yaml_is_a_one_line_error_and_nothing_is_applied() {
    let cluster = Cluster::start(shop()).await;
    let good = cluster.dir.path().join("a-good.yaml");
    std::fs::write(&good, MANIFEST).unwrap();
    let bad = cluster.dir.path().join("b-bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n",
    )
    .unwrap();
    let output = cluster
        .run(&[
            "apply",
            "-f",
            good.to_str().unwrap(),
            "-f",
            bad.to_str().unwrap(),
        ])
        .await;
    assert_one_line_error(&output, "b-bad.yaml is not a valid manifest");
    assert!(cluster
        .handle()
        .get("v1", "ConfigMap", Some("default"), "settings")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_of_a_kind_the_server_lacks_is_a_one_line_error() {
    let cluster = Cluster::start(shop()).await;
    let path = cluster.dir.path().join("flunder.yaml");
    std::fs::write(
        &path,
        "apiVersion: wardle.example.com/v1alpha1\nkind: Flunder\nmetadata: {name: f}\n",
    )
    .unwrap();
    let output = cluster.run(&["apply", "-f", path.to_str().unwrap()]).await;
    assert_one_line_error(&output, "Flunder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_missing_object_names_it_in_the_error() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&["delete", "pods", "ghost", "-n", "shop"])
        .await;
    assert_one_line_error(&output, "deleting pods \"ghost\" in namespace shop failed");
    let output = cluster
        .run(&[
            "delete",
            "pods",
            "ghost",
            "-n",
            "shop",
            "--ignore-not-found",
        ])
        .await;
    assert_ok(&output);
    assert_eq!(stdout(&output), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_across_all_namespaces_is_refused_like_kubectl() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster.run(&["get", "pods", "web-1", "-A"]).await;
    assert_one_line_error(&output, "cannot be retrieved by name across all namespaces");
}
