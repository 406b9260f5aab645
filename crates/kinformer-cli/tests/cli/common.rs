//! Helpers: a fake cluster with a kubeconfig, the binary with a clean environment, objects.

use std::path::PathBuf;
use std::process::{Output, Stdio};

use kinformer_replay::{FakeApiServer, Handle, RunningServer, ServerConfig};
use serde_json::{json, Value};
use tokio::process::Command;

/// A fake cluster with a kubeconfig pointing at it.
pub struct Cluster {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    pub async fn start(objects: Vec<Value>) -> Cluster {
        let server = FakeApiServer::start(ServerConfig::default().objects(objects))
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kubeconfig"), server.kubeconfig()).unwrap();
        Cluster { server, dir }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn handle(&self) -> Handle {
        self.server.handle()
    }

    /// The binary with a clean environment: no ambient kubeconfig, HOME in the temp dir.
    pub fn command(&self, args: &[&str]) -> Command {
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
    pub async fn run(&self, args: &[&str]) -> Output {
        let kubeconfig = self.kubeconfig();
        let mut command = self.command(args);
        command.arg("--kubeconfig").arg(&kubeconfig);
        command.output().await.unwrap()
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

/// A failure reported as kubectl users expect: non-zero exit, exactly one `error: ` line.
pub fn assert_one_line_error(output: &Output, needle: &str) {
    assert!(!output.status.success(), "succeeded: {}", stdout(output));
    let text = stderr(output);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {text:?}");
    assert!(lines[0].starts_with("error: "), "stderr: {text:?}");
    assert!(lines[0].contains(needle), "{needle:?} not in {text:?}");
}

pub fn pod(namespace: &str, name: &str, app: &str, phase: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"nodeName": "worker-1", "containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": phase, "podIP": "10.1.0.9",
                   "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0}]}
    })
}

pub fn deployment(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
    })
}

pub fn shop() -> Vec<Value> {
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

/// A ConfigMap (namespace from the command line) and a Deployment in `payments`.
pub const MANIFEST: &str = "\
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
