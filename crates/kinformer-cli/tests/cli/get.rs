//! `get` in every output mode and `api-resources`.

use serde_json::Value;

use crate::common::{assert_ok, shop, stderr, stdout, Cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_prints_a_kubectl_table_in_the_chosen_namespace() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster.run(&["get", "pods", "-n", "shop"]).await;
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let names: Vec<_> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["cart-1", "web-1", "web-2"]);
    assert!(lines
        .iter()
        .any(|l| l.starts_with("web-2") && l.contains("Pending")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_across_namespaces_adds_the_namespace_column() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster.run(&["get", "po", "-A"]).await;
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<_> = text.lines().collect();
    assert!(lines[0].starts_with("NAMESPACE   NAME"), "{text}");
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines.iter().any(|l| l.starts_with("payments    api-1")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_wide_adds_ip_and_node_columns() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&["get", "pods", "-n", "shop", "-o", "wide"])
        .await;
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.lines().next().unwrap().ends_with("IP         NODE"),
        "{text}"
    );
    assert!(text.contains("10.1.0.9   worker-1"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_name_output_selects_by_label() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&["get", "Pod", "-n", "shop", "-l", "app=web", "-o", "name"])
        .await;
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod/web-1\npod/web-2\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_json_prints_a_list_or_the_named_object() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&["get", "pods", "-n", "shop", "-o", "json"])
        .await;
    assert_ok(&output);
    let list: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(list["kind"], "List");
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["cart-1", "web-1", "web-2"]);
    assert_eq!(list["items"][0]["kind"], "Pod");

    let output = cluster
        .run(&["get", "deployments.apps", "web", "-n", "shop", "-o", "json"])
        .await;
    assert_ok(&output);
    let object: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(object["kind"], "Deployment");
    assert_eq!(object["apiVersion"], "apps/v1");
    assert_eq!(object["spec"]["replicas"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_yaml_prints_the_object_as_yaml() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&["get", "pod", "web-1", "-n", "shop", "-o", "yaml"])
        .await;
    assert_ok(&output);
    let object: Value = serde_yaml::from_str(&stdout(&output)).unwrap();
    assert_eq!(object["metadata"]["name"], "web-1");
    assert_eq!(object["status"]["phase"], "Running");
    let server = cluster
        .handle()
        .get("v1", "Pod", Some("shop"), "web-1")
        .unwrap();
    assert_eq!(
        object["metadata"]["resourceVersion"],
        server["metadata"]["resourceVersion"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_deployments_by_short_name_shows_replica_columns() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster.run(&["get", "deploy", "-n", "shop"]).await;
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    assert_eq!(
        lines[1].split_whitespace().take(4).collect::<Vec<_>>(),
        ["web", "2/2", "2", "2"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_reads_every_page_of_a_large_list_and_keeps_stderr_clean_when_piped() {
    let cluster = Cluster::start(kinformer_replay::demo::preload(1203, 3)).await;
    let output = cluster.run(&["get", "pods", "-A", "-o", "name"]).await;
    assert_ok(&output);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1203);
    let unique: std::collections::BTreeSet<_> = text.lines().collect();
    assert_eq!(unique.len(), 1203, "no page read twice");
    // The progress indicator is for terminals only.
    assert_eq!(stderr(&output), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_resources_lists_kubectl_columns() {
    let cluster = Cluster::start(Vec::new()).await;
    let output = cluster.run(&["api-resources"]).await;
    assert_ok(&output);
    let text = stdout(&output);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    assert!(
        rows.contains(&vec!["pods", "po", "v1", "true", "Pod"]),
        "{text}"
    );
    assert!(
        rows.contains(&vec![
            "deployments",
            "deploy",
            "apps/v1",
            "true",
            "Deployment"
        ]),
        "{text}"
    );
    assert!(
        rows.iter()
            .any(|r| r[0] == "namespaces" && r.contains(&"false")),
        "{text}"
    );
}
