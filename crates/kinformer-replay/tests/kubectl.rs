//! The real kubectl against the fake server over loopback, with a generated kubeconfig:
//! discovery, get (json, selectors, tables, watch), create, server-side apply, label, delete
//! and a paginated raw list.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::pod;
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use serde_json::{json, Value};

struct Kubectl {
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    dir: PathBuf,
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn kubectl_binary() -> String {
    let found = std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output();
    match found {
        Ok(output) if output.status.success() => "kubectl".into(),
        _ => panic!("kubectl is not on PATH: these tests run the real kubectl (install Debian's kubernetes-client)"),
    }
}

impl Kubectl {
    fn new(server: &RunningServer) -> Self {
        kubectl_binary();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
        Kubectl {
            kubeconfig,
            dir: dir.path().to_path_buf(),
            _dir: dir,
        }
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("kubectl");
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.join("cache"))
            .args(args)
            .env("HOME", &self.dir)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> Output {
        let output = tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("kubectl took over a minute")
            .expect("kubectl could not start");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert_eq!(
            output.code, 0,
            "kubectl {args:?} failed:\n{}\n{}",
            output.stdout, output.stderr
        );
        output.stdout
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }
}

async fn server() -> RunningServer {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    server
        .create(pod("default", "web-1", json!({"app": "x"})))
        .unwrap();
    server
        .create(pod("default", "web-2", json!({"app": "y"})))
        .unwrap();
    server
        .create(pod("kube-system", "dns-1", json!({"app": "x"})))
        .unwrap();
    server
}

fn names(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_resources_lists_the_builtin_kinds() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let out = kubectl.ok(&["api-resources"]).await;
    let pods = out.lines().find(|l| l.starts_with("pods ")).expect(&out);
    assert!(
        pods.contains(" po ")
            && pods.contains(" v1 ")
            && pods.contains("true")
            && pods.ends_with("Pod"),
        "{pods}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("deployments ") && l.contains("apps/v1")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("leases ") && l.contains("coordination.k8s.io/v1")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("nodes ") && l.contains("false")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_all_namespaces_as_json() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let out = kubectl.ok(&["get", "pods", "-A", "-o", "json"]).await;
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["kind"], "List");
    let mut got = names(&list);
    got.sort();
    assert_eq!(got, vec!["dns-1", "web-1", "web-2"]);
    assert_eq!(
        list["items"][0]["kind"], "Pod",
        "kubectl fills kind in from the list"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_with_a_label_selector_prints_a_table_of_the_matching_pods() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let out = kubectl.ok(&["get", "pods", "-l", "app=x"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("STATUS"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("web-1") && lines[1].contains("Running"),
        "{out}"
    );
    let missing = kubectl.run(&["get", "pod", "nope"]).await;
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("Error from server (NotFound): pods \"nope\" not found"),
        "{}",
        missing.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_watch_prints_changes_as_they_happen() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let mut child = kubectl
        .command(&[
            "get",
            "pods",
            "--watch",
            "-o",
            "json",
            "--output-watch-events",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut objects = ObjectReader::new(stdout);
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = objects.next().await;
        seen.push((
            event["type"].as_str().unwrap().to_string(),
            event["object"]["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_string(),
        ));
    }
    server
        .create(pod("default", "web-3", json!({"app": "x"})))
        .unwrap();
    server
        .delete("v1", "Pod", Some("default"), "web-1")
        .unwrap();
    for _ in 0..2 {
        let event = objects.next().await;
        seen.push((
            event["type"].as_str().unwrap().to_string(),
            event["object"]["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_string(),
        ));
    }
    child.kill().await.unwrap();
    let pairs: Vec<(&str, &str)> = seen.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        pairs,
        vec![
            ("ADDED", "web-1"),
            ("ADDED", "web-2"),
            ("ADDED", "web-3"),
            ("DELETED", "web-1")
        ]
    );
}

/// Reads the JSON objects kubectl prints, one per line.
struct ObjectReader {
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl ObjectReader {
    fn new(stdout: tokio::process::ChildStdout) -> Self {
        use tokio::io::AsyncBufReadExt;
        ObjectReader {
            lines: tokio::io::BufReader::new(stdout).lines(),
        }
    }

    async fn next(&mut self) -> Value {
        let mut text = String::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
                .await
                .expect("kubectl printed nothing for 30 s")
                .unwrap()
                .expect("kubectl stopped");
            text.push_str(&line);
            text.push('\n');
            // kubectl prints one compact object per line; accumulate in case it indents.
            if let Ok(value) = serde_json::from_str(&text) {
                return value;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_from_a_file_then_again_is_already_exists() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let file = kubectl.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    );
    let out = kubectl.ok(&["create", "-f", &file]).await;
    assert_eq!(out.trim(), "configmap/settings created");
    let stored = server
        .get("v1", "ConfigMap", Some("default"), "settings")
        .unwrap();
    assert_eq!(stored["data"]["mode"], "fast");
    assert_eq!(
        stored["metadata"]["managedFields"][0]["manager"],
        "kubectl-create"
    );
    let again = kubectl.run(&["create", "-f", &file]).await;
    assert_eq!(again.code, 1);
    assert!(
        again
            .stderr
            .contains("Error from server (AlreadyExists): error when creating")
            && again
                .stderr
                .contains("configmaps \"settings\" already exists"),
        "{}",
        again.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_creates_then_updates() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let deployment = |replicas: u32| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
        )
    };
    let file = kubectl.file("deploy.yaml", &deployment(2));
    let out = kubectl.ok(&["apply", "--server-side", "-f", &file]).await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let file = kubectl.file("deploy.yaml", &deployment(5));
    kubectl.ok(&["apply", "--server-side", "-f", &file]).await;
    let stored = server
        .get("apps/v1", "Deployment", Some("default"), "web")
        .unwrap();
    assert_eq!(stored["spec"]["replicas"], 5);
    assert_eq!(stored["metadata"]["generation"], 2);
    let managers: Vec<&str> = stored["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, vec!["kubectl"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_over_a_created_object_conflicts_until_forced() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let config = |mode: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tuning\ndata:\n  mode: {mode}\n"
        )
    };
    let file = kubectl.file("tuning.yaml", &config("fast"));
    kubectl.ok(&["create", "-f", &file]).await;
    let file = kubectl.file("tuning.yaml", &config("slow"));
    let refused = kubectl.run(&["apply", "--server-side", "-f", &file]).await;
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("Apply failed with 1 conflict: conflict with \"kubectl-create\" using v1")
            && refused.stderr.contains(".data.mode"),
        "{}",
        refused.stderr
    );
    let out = kubectl
        .ok(&["apply", "--server-side", "--force-conflicts", "-f", &file])
        .await;
    assert_eq!(out.trim(), "configmap/tuning serverside-applied");
    let stored = server
        .get("v1", "ConfigMap", Some("default"), "tuning")
        .unwrap();
    assert_eq!(stored["data"]["mode"], "slow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_adds_and_removes_labels() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let out = kubectl.ok(&["label", "pod", "web-1", "tier=front"]).await;
    assert_eq!(out.trim(), "pod/web-1 labeled");
    let stored = server.get("v1", "Pod", Some("default"), "web-1").unwrap();
    assert_eq!(
        stored["metadata"]["labels"],
        json!({"app": "x", "tier": "front"})
    );
    kubectl.ok(&["label", "pod", "web-1", "app-"]).await;
    let stored = server.get("v1", "Pod", Some("default"), "web-1").unwrap();
    assert_eq!(stored["metadata"]["labels"], json!({"tier": "front"}));
    let exists = kubectl.run(&["label", "pod", "web-1", "tier=back"]).await;
    assert_ne!(exists.code, 0, "overwriting needs --overwrite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_the_object_and_waits_for_it() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let out = kubectl.ok(&["delete", "pod", "web-2"]).await;
    assert_eq!(out.trim(), "pod \"web-2\" deleted");
    assert!(server.get("v1", "Pod", Some("default"), "web-2").is_none());
    let missing = kubectl.run(&["delete", "pod", "web-2"]).await;
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("NotFound"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_raw_follows_a_paginated_list() {
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let first: Value =
        serde_json::from_str(&kubectl.ok(&["get", "--raw", "/api/v1/pods?limit=2"]).await).unwrap();
    assert_eq!(first["metadata"]["remainingItemCount"], 1);
    let token = first["metadata"]["continue"].as_str().unwrap();
    let second: Value = serde_json::from_str(
        &kubectl
            .ok(&[
                "get",
                "--raw",
                &format!("/api/v1/pods?limit=2&continue={token}"),
            ])
            .await,
    )
    .unwrap();
    assert_eq!(
        names(&second),
        vec!["dns-1"],
        "key order: default/web-1, default/web-2, kube-system/dns-1"
    );
    assert!(second["metadata"].get("continue").is_none());
    assert_eq!(
        second["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );
    let chunked = kubectl
        .ok(&["get", "pods", "-A", "--chunk-size=1", "-o", "name"])
        .await;
    assert_eq!(chunked.lines().count(), 3, "{chunked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_speaks_https_with_the_generated_ca_and_token() {
    let server = FakeApiServer::start(
        ServerConfig::default()
            .generated_tls()
            .token("kubectl-token"),
    )
    .await
    .unwrap();
    server.create(pod("default", "secure", json!({}))).unwrap();
    let kubectl = Kubectl::new(&server);
    let out = kubectl.ok(&["get", "pods", "-o", "name"]).await;
    assert_eq!(out.trim(), "pod/secure");
    let denied = kubectl.run(&["--token", "wrong", "get", "pods"]).await;
    assert_eq!(denied.code, 1);
    assert!(
        denied.stderr.contains("Unauthorized") || denied.stderr.contains("unauthorized"),
        "{}",
        denied.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_watch_prints_table_rows_as_they_happen() {
    use tokio::io::AsyncBufReadExt;
    let server = server().await;
    let kubectl = Kubectl::new(&server);
    let mut child = kubectl
        .command(&["get", "pods", "--watch", "--output-watch-events"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let header = next_line(&mut lines).await;
    assert!(
        header.starts_with("EVENT") && header.contains("NAME") && header.contains("STATUS"),
        "{header}"
    );
    for name in ["web-1", "web-2"] {
        let line = next_line(&mut lines).await;
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[..2], ["ADDED", name], "{line}");
        assert!(
            words.contains(&"Running") && words.contains(&"0/1"),
            "{line}"
        );
    }
    server
        .create(pod("default", "web-3", json!({"app": "x"})))
        .unwrap();
    let added = next_line(&mut lines).await;
    assert!(
        added.starts_with("ADDED") && added.contains("web-3") && added.contains("Running"),
        "{added}"
    );
    server
        .delete("v1", "Pod", Some("default"), "web-3")
        .unwrap();
    let deleted = next_line(&mut lines).await;
    assert!(
        deleted.starts_with("DELETED") && deleted.contains("web-3"),
        "{deleted}"
    );
    child.kill().await.unwrap();
}

async fn next_line(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) -> String {
    tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("kubectl printed nothing for 30 s")
        .unwrap()
        .expect("kubectl stopped")
}
