//! `kinformer record` reaches the cluster its kubeconfig names (HTTPS with a token, or with a
//! client certificate), and `kinformer get` on the replayed recording prints what it printed
//! through the proxy; no credential is written.

use std::path::Path;
use std::process::Stdio;

use kinformer_replay::{FakeApiServer, Recording, RunningServer, ServerConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{assert_ok, shop, stdout};

/// The recorder process and the URL it printed.
struct Recorder {
    child: Child,
    url: String,
}

impl Recorder {
    async fn start(home: &Path, args: &[&str], env: &[(&str, &Path)]) -> Recorder {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kinformer"));
        command
            .arg("record")
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KINFORMER_RECORD_TOKEN")
            .env("HOME", home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .await
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_string();
        Recorder { child, url }
    }

    async fn stop(mut self) {
        let pid = self.child.id().unwrap().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(killed.success());
        assert!(self.child.wait().await.unwrap().success());
    }
}

/// `kinformer get pods -n shop -o json` against `server`.
async fn get_pods(home: &Path, server: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kinformer"))
        .args([
            "get", "pods", "-n", "shop", "-o", "json", "--server", server,
        ])
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", home)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    stdout(&output)
}

/// Records `kinformer get` through the proxy, replays the recording on an empty fake server
/// and checks `kinformer get` prints the same; returns the recording's text.
async fn through_and_replayed(recorder: Recorder, home: &Path, out: &Path) -> String {
    let live_answer = get_pods(home, &recorder.url).await;
    assert!(live_answer.contains("web-1") && live_answer.contains("cart-1"));
    recorder.stop().await;
    let text = std::fs::read_to_string(out).unwrap();
    let replay =
        FakeApiServer::start(ServerConfig::default().recording(Recording::load(out).unwrap()))
            .await
            .unwrap();
    assert_eq!(get_pods(home, &replay.url()).await, live_answer);
    text
}

async fn live(config: ServerConfig) -> RunningServer {
    FakeApiServer::start(config.objects(shop())).await.unwrap()
}

#[tokio::test]
async fn record_reaches_an_https_cluster_with_the_kubeconfig_token_from_the_environment() {
    let server = live(
        ServerConfig::default()
            .generated_tls()
            .token("rec-s3cret-token"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let out = dir.path().join("recording.txt");
    let recorder = Recorder::start(
        dir.path(),
        &["--out", out.to_str().unwrap()],
        &[("KUBECONFIG", &kubeconfig)],
    )
    .await;
    let text = through_and_replayed(recorder, dir.path(), &out).await;
    assert!(
        text.contains("===== GET /api/v1/namespaces/shop/pods"),
        "{text}"
    );
    assert!(
        !text.contains("rec-s3cret-token"),
        "the token is never recorded"
    );
    assert!(
        !text.to_ascii_lowercase().contains("authorization"),
        "{text}"
    );
}

#[tokio::test]
async fn record_reaches_an_mtls_cluster_with_the_kubeconfig_client_certificate_and_context() {
    let server = live(
        ServerConfig::default()
            .generated_tls()
            .client_cert_auth(true),
    )
    .await;
    let identity = server
        .mint_client_cert("recorder", &["system:masters"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crt"), server.ca_pem().unwrap()).unwrap();
    std::fs::write(dir.path().join("client.crt"), &identity.cert_pem).unwrap();
    std::fs::write(dir.path().join("client.key"), &identity.key_pem).unwrap();
    let kubeconfig = dir.path().join("config");
    // Relative paths resolve against the kubeconfig's directory; `other` is the current
    // context and points nowhere, so only `--context mtls` can work.
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority: ca.crt\n- name: nowhere\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: mtls\n  context:\n    cluster: fake\n    user: cert\n- name: other\n  context:\n    cluster: nowhere\n    user: cert\ncurrent-context: other\nusers:\n- name: cert\n  user:\n    client-certificate: client.crt\n    client-key: client.key\n",
            server.url()
        ),
    )
    .unwrap();
    let out = dir.path().join("recording.txt");
    let recorder = Recorder::start(
        dir.path(),
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--context",
            "mtls",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    let text = through_and_replayed(recorder, dir.path(), &out).await;
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(
        !text.contains(" 401 "),
        "every request was authenticated: {text}"
    );
}

#[tokio::test]
async fn record_without_any_cluster_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kinformer"))
        .args(["record", "--out"])
        .arg(dir.path().join("r.txt"))
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", dir.path())
        .output()
        .await
        .unwrap();
    crate::common::assert_one_line_error(&output, "no kubeconfig");
}

#[tokio::test]
async fn record_gets_its_upstream_token_from_an_exec_plugin() {
    let server = live(
        ServerConfig::default()
            .generated_tls()
            .token("exec-s3cret-token"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("plugin.sh");
    std::fs::write(
        &plugin,
        "#!/bin/sh\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-s3cret-token\"}}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("ca.crt"), server.ca_pem().unwrap()).unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority: ca.crt\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: exec\ncurrent-context: fake\nusers:\n- name: exec\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./plugin.sh\n      interactiveMode: Never\n",
            server.url()
        ),
    )
    .unwrap();
    let out = dir.path().join("recording.txt");
    let recorder = Recorder::start(
        dir.path(),
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    let text = through_and_replayed(recorder, dir.path(), &out).await;
    assert!(!text.contains("exec-s3cret-token"), "{text}");
}

#[tokio::test]
async fn record_presents_the_client_certificate_an_exec_plugin_returns() {
    let server = live(
        ServerConfig::default()
            .generated_tls()
            .client_cert_auth(true),
    )
    .await;
    let identity = server
        .mint_client_cert("exec-user", &["system:masters"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"clientCertificateData": identity.cert_pem, "clientKeyData": identity.key_pem}
    });
    std::fs::write(dir.path().join("credential.json"), credential.to_string()).unwrap();
    std::fs::write(dir.path().join("ca.crt"), server.ca_pem().unwrap()).unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority: ca.crt\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: exec\ncurrent-context: fake\nusers:\n- name: exec\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: ['-c', 'cat {}']\n      interactiveMode: Never\n",
            server.url(),
            dir.path().join("credential.json").display()
        ),
    )
    .unwrap();
    let out = dir.path().join("recording.txt");
    let recorder = Recorder::start(
        dir.path(),
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    let text = through_and_replayed(recorder, dir.path(), &out).await;
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(!text.contains(" 401 "), "{text}");
}
