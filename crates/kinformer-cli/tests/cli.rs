//! The `kinformer` binary against an in-process fake API server: `get` in every output mode,
//! `watch -o jsonl --duration` while the server changes, `api-resources`, `apply -f`,
//! `delete`, `demo`, and the error cases (one line on stderr, non-zero exit).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use kinformer_replay::{FakeApiServer, Handle, RunningServer, ServerConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// A fake cluster with a kubeconfig pointing at it.
struct Cluster {
    server: RunningServer,
    dir: tempfile::TempDir,
}

impl Cluster {
    async fn start(objects: Vec<Value>) -> Cluster {
        let server = FakeApiServer::start(ServerConfig::default().objects(objects))
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kubeconfig"), server.kubeconfig()).unwrap();
        Cluster { server, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn handle(&self) -> Handle {
        self.server.handle()
    }

    /// The binary with a clean environment: no ambient kubeconfig, HOME in the temp dir.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kinformer"));
        command
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Runs `args` followed by `--kubeconfig FILE`.
    async fn run(&self, args: &[&str]) -> Output {
        let kubeconfig = self.kubeconfig();
        let mut command = self.command(args);
        command.arg("--kubeconfig").arg(&kubeconfig);
        command.output().await.unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

/// A failure reported as kubectl users expect: non-zero exit, exactly one `error: ` line.
fn assert_one_line_error(output: &Output, needle: &str) {
    assert!(!output.status.success(), "succeeded: {}", stdout(output));
    let text = stderr(output);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {text:?}");
    assert!(lines[0].starts_with("error: "), "stderr: {text:?}");
    assert!(lines[0].contains(needle), "{needle:?} not in {text:?}");
}

fn pod(namespace: &str, name: &str, app: &str, phase: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"nodeName": "worker-1", "containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": phase, "podIP": "10.1.0.9",
                   "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0}]}
    })
}

fn deployment(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
    })
}

fn shop() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments"}}),
        pod("shop", "web-1", "web", "Running"),
        pod("shop", "web-2", "web", "Pending"),
        pod("shop", "cart-1", "cart", "Running"),
        pod("payments", "api-1", "api", "Running"),
        deployment("shop", "web"),
    ]
}

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
async fn server_flag_works_without_a_kubeconfig() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .command(&["get", "pods", "-n", "payments", "-o", "name", "--server"])
        .arg(cluster.server.url())
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod/api-1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_environment_variable_is_honoured() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .command(&["get", "pods", "-n", "payments", "-o", "name"])
        .env("KUBECONFIG", cluster.kubeconfig())
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod/api-1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_jsonl_reports_live_changes_and_ends_with_the_servers_state() {
    let cluster = Cluster::start(shop()).await;
    let handle = cluster.handle();
    let kubeconfig = cluster.kubeconfig();
    let mut child = cluster
        .command(&["watch", "pods", "-A", "-o", "jsonl", "--duration", "6"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    // The four initial adds first.
    while seen.len() < 4 {
        let line = lines.next_line().await.unwrap().expect("initial adds");
        seen.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    assert!(seen
        .iter()
        .all(|e| e["event"] == "add" && e["initial"] == true));

    // Changes while it runs: a new pod, an update, a deletion.
    handle
        .create(pod("shop", "web-3", "web", "Pending"))
        .unwrap();
    let mut web_1 = handle.get("v1", "Pod", Some("shop"), "web-1").unwrap();
    web_1["status"]["phase"] = json!("Succeeded");
    handle.update(web_1).unwrap();
    handle
        .delete("v1", "Pod", Some("payments"), "api-1")
        .unwrap();

    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let status = child.wait().await.unwrap();
    assert!(status.success());

    let events: Vec<(String, String, bool)> = seen[4..seen.len() - 1]
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["key"].as_str().unwrap().to_owned(),
                e["initial"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("add".into(), "shop/web-3".into(), false),
            ("update".into(), "shop/web-1".into(), false),
            ("delete".into(), "payments/api-1".into(), false),
        ]
    );

    let last = seen.last().unwrap();
    assert_eq!(last["synced"], true);
    let cache: BTreeMap<String, String> = serde_json::from_value(last["cache"].clone()).unwrap();
    let server: BTreeMap<String, String> = handle
        .list("v1", "Pod", None)
        .iter()
        .map(|p| {
            (
                format!(
                    "{}/{}",
                    p["metadata"]["namespace"].as_str().unwrap(),
                    p["metadata"]["name"].as_str().unwrap()
                ),
                p["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(cache, server);
    assert_eq!(cache.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_with_a_selector_caches_only_matching_objects() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&[
            "watch",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=web",
            "-o",
            "jsonl",
            "--duration",
            "1",
        ])
        .await;
    assert_ok(&output);
    let text = stdout(&output);
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let keys: Vec<_> = last["cache"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["shop/web-1", "shop/web-2"]);
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

const MANIFEST: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  LOG_LEVEL: info
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: payments
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: app, image: 'api:1'}]}
";

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_added_modified_and_deleted_lines_then_lister_queries() {
    let cluster = Cluster::start(Vec::new()).await;
    let output = cluster
        .command(&["demo", "--speed", "4"])
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.contains("ADDED : shop/web - deployment 3/3 ready"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("ADDED : shop/web-") && l.ends_with(" - Pending")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("MODIFIED : shop/web-") && l.ends_with(" - Running")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("DELETED : shop/web-")),
        "{text}"
    );
    assert!(
        text.contains("--- index \"app\": pods with app=web ---"),
        "{text}"
    );
    assert!(text.contains("web: 3\n"), "{text}");
}

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
async fn context_flag_picks_another_kubeconfig_context() {
    let cluster = Cluster::start(shop()).await;
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: http://127.0.0.1:1\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: dead\n  context: {{cluster: dead, user: u}}\n- name: good\n  context: {{cluster: fake, user: u, namespace: payments}}\ncurrent-context: dead\nusers:\n- name: u\n  user: {{}}\n",
        cluster.server.url()
    );
    let path = cluster.dir.path().join("two-contexts");
    std::fs::write(&path, kubeconfig).unwrap();
    let output = cluster
        .command(&[
            "get",
            "pods",
            "-o",
            "name",
            "--context",
            "good",
            "--kubeconfig",
        ])
        .arg(&path)
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "pod/api-1\n",
        "the context's namespace is used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_stops_on_ctrl_c_with_the_final_cache_line() {
    let cluster = Cluster::start(shop()).await;
    let kubeconfig = cluster.kubeconfig();
    let mut child = cluster
        .command(&["watch", "pods", "-n", "payments", "-o", "jsonl"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    assert!(first.contains("\"key\":\"payments/api-1\""), "{first}");
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let last = lines.next_line().await.unwrap().unwrap();
    let last: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["synced"], true);
    assert_eq!(last["cache"].as_object().unwrap().len(), 1);
    assert!(child.wait().await.unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_text_output_prints_seed_style_lines() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&["watch", "pods", "-n", "payments", "--duration", "1"])
        .await;
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("ADDED : payments/api-1 - resourceVersion "),
        "{text}"
    );
    assert_eq!(lines[1], "END : synced=true, 1 object(s) in the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_across_all_namespaces_is_refused_like_kubectl() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster.run(&["get", "pods", "web-1", "-A"]).await;
    assert_one_line_error(&output, "cannot be retrieved by name across all namespaces");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_subcommand_documents_the_kubectl_flags() {
    let cluster = Cluster::start(Vec::new()).await;
    for subcommand in ["get", "watch", "api-resources", "apply", "delete"] {
        let output = cluster
            .command(&[subcommand, "--help"])
            .output()
            .await
            .unwrap();
        assert_ok(&output);
        let text = stdout(&output);
        for flag in [
            "--kubeconfig",
            "--context",
            "-n, --namespace",
            "-A, --all-namespaces",
            "--server",
            "--token",
            "--insecure-skip-tls-verify",
            "-v",
        ] {
            assert!(
                text.contains(flag),
                "{subcommand} --help lacks {flag}:\n{text}"
            );
        }
    }
    let output = cluster.command(&["--help"]).output().await.unwrap();
    assert_ok(&output);
    let text = stdout(&output);
    for subcommand in [
        "demo",
        "get",
        "watch",
        "api-resources",
        "apply",
        "delete",
        "fake-apiserver",
    ] {
        assert!(
            text.contains(subcommand),
            "--help lacks {subcommand}:\n{text}"
        );
    }
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
async fn token_and_insecure_flags_reach_a_tls_server_that_wants_a_token() {
    let server = FakeApiServer::start(
        ServerConfig::default()
            .generated_tls()
            .token("s3cret-token")
            .objects(shop()),
    )
    .await
    .unwrap();
    let cluster = Cluster::start(Vec::new()).await;
    let url = server.url();
    assert!(url.starts_with("https://"));

    let output = cluster
        .command(&[
            "get", "pods", "-n", "payments", "-o", "name", "--server", &url,
        ])
        .args(["--token", "s3cret-token", "--insecure-skip-tls-verify"])
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod/api-1\n");

    // Without trusting the certificate: a TLS failure, in one line.
    let output = cluster
        .command(&["get", "pods", "--server", &url, "--token", "s3cret-token"])
        .output()
        .await
        .unwrap();
    assert_one_line_error(&output, "tls");

    // Without the token: refused, in one line, and the token is never printed.
    let output = cluster
        .command(&[
            "get",
            "pods",
            "--server",
            &url,
            "--insecure-skip-tls-verify",
        ])
        .args(["--token", "wrong-token"])
        .output()
        .await
        .unwrap();
    assert_one_line_error(&output, "");
    assert!(!stderr(&output).contains("wrong-token"));
    server.shutdown().await;
}
