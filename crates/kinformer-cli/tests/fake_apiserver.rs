//! `kinformer fake-apiserver` as a process: first line, preloaded pods, TLS directory with a
//! kubeconfig kubectl accepts, token, clean stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kinformer"))
            .arg("fake-apiserver")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kinformer runs");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_string();
        Server { child, url }
    }

    fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn terminate(mut self) -> i32 {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        status.code().unwrap_or(-1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nhost: x\r\n{auth}connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn prints_the_real_port_and_serves_preloaded_pods() {
    let server = Server::start(&["--port", "0", "--pods", "120"]);
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    assert_ne!(server.port(), 0);
    let (status, body) = http_get(server.port(), "/api/v1/pods?limit=500", None);
    assert_eq!(status, 200);
    assert_eq!(
        body.matches("\"pod-template-hash\"").count(),
        120,
        "every preloaded pod is listed"
    );
    let (_, namespaces) = http_get(server.port(), "/api/v1/namespaces", None);
    assert_eq!(
        namespaces
            .matches("\"kubernetes.io/metadata.name\"")
            .count(),
        50
    );
    assert_eq!(server.terminate(), 0, "SIGTERM stops it cleanly");
}

#[test]
fn token_is_enforced() {
    let server = Server::start(&["--token", "t0ken"]);
    assert_eq!(http_get(server.port(), "/version", None).0, 401);
    assert_eq!(http_get(server.port(), "/version", Some("t0ken")).0, 200);
}

#[test]
fn tls_dir_gets_certificates_and_a_kubeconfig_that_kubectl_uses() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap().to_string();
    let server = Server::start(&["--tls-dir", &dir_arg, "--token", "abc", "--pods", "3"]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    for file in ["ca.crt", "server.crt", "server.key", "kubeconfig"] {
        assert!(dir.path().join(file).exists(), "{file} written");
    }
    let kubectl = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.path().join("kubeconfig"))
        .args(["get", "pods", "-A", "-o", "name"])
        .env("HOME", dir.path())
        .output()
        .expect("kubectl is on PATH (install Debian's kubernetes-client)");
    assert!(
        kubectl.status.success(),
        "{}",
        String::from_utf8_lossy(&kubectl.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&kubectl.stdout).lines().count(), 3);
    let ca_before = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
    assert_eq!(server.terminate(), 0);
    let again = Server::start(&["--tls-dir", &dir_arg]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ca.crt")).unwrap(),
        ca_before,
        "existing certificates are reused"
    );
    drop(again);
}

#[test]
fn a_missing_fixture_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_kinformer"))
        .args(["fake-apiserver", "--fixture", "/nonexistent/fixture.yaml"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/fixture.yaml"));
}

#[test]
fn record_proxies_and_writes_a_replayable_recording() {
    let upstream = Server::start(&["--pods", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinformer"))
        .args([
            "record",
            "--server",
            &upstream.url,
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port: u16 = first.trim().rsplit(':').next().unwrap().parse().unwrap();
    let (status, body) = http_get(port, "/api/v1/namespaces/team-00/pods", None);
    assert_eq!(status, 200);
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("===== GET /api/v1/namespaces/team-00/pods =====\nHTTP/1.1 200 OK\n"),
        "{text}"
    );
    let recorded_body = text.split("\n\n").nth(1).unwrap().trim_end();
    assert_eq!(
        recorded_body,
        body.trim_end(),
        "the body is recorded as served"
    );
}
