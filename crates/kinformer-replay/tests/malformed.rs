//! Malformed input never crashes or hangs the server: raw garbage, broken bodies, odd paths.

mod common;

use std::time::Duration;

use common::{pod, Client};
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw(server: &RunningServer, bytes: &[u8]) -> String {
    let mut tcp = TcpStream::connect(server.address()).await.unwrap();
    tcp.write_all(bytes).await.unwrap();
    let _ = tcp.shutdown().await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn still_serves(server: &RunningServer) {
    let client = Client::new(server.url());
    assert_eq!(client.get("/api/v1/pods").await.status, 200);
}

#[tokio::test]
async fn garbage_bytes_get_a_400_or_a_closed_connection() {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    let answer = raw(&server, b"\x00\x01\x02 not http at all\r\n\r\n").await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
    still_serves(&server).await;
}

#[tokio::test]
async fn a_truncated_body_does_not_wedge_the_server() {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    let answer = raw(
        &server,
        b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nhost: x\r\ncontent-length: 500\r\n\r\n{\"metadata\":",
    )
    .await;
    assert!(!answer.contains("201"), "{answer}");
    still_serves(&server).await;
}

#[tokio::test]
async fn deeply_nested_or_non_utf8_json_is_a_bad_request() {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    let client = Client::new(server.url());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let reply = client
        .call("POST", "/api/v1/namespaces/default/configmaps", &[], &deep)
        .await;
    assert_eq!(reply.status, 400);
    let response = client
        .send(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            &[],
            "\u{fffd}\u{0}",
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let reply = client
        .patch(
            "/api/v1/namespaces/default/configmaps/x",
            "application/json-patch+json",
            "[{\"op\":",
        )
        .await;
    assert!(
        reply.status == 400 || reply.status == 404,
        "{}",
        reply.status
    );
    still_serves(&server).await;
}

#[tokio::test]
async fn odd_paths_and_queries_are_answered() {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    server.create(pod("default", "a", json!({}))).unwrap();
    let client = Client::new(server.url());
    for path in [
        "/api/v1/namespaces/%00/pods",
        "/api/v1/pods?labelSelector=%ZZ",
        "/api/v1/pods?timeoutSeconds=-1&watch=1",
        "/api/v1/pods?limit=-5",
        "/api/v1/pods?continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6OTk5OTk5LCJzdGFydCI6Ii9hXHUwMDAwIn0",
        "/apis/apps/v1/namespaces/default/deployments/x/scale",
        "//api//v1//pods",
        "/api/v1/namespaces/default/pods/a/status/extra",
    ] {
        let reply = client.get(path).await;
        assert!(reply.status < 500, "{path}: {}", reply.status);
    }
    still_serves(&server).await;
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    let client = Client::new(server.url());
    let huge = format!("{{\"data\":\"{}\"}}", "x".repeat(9 * 1024 * 1024));
    let reply = client
        .call("POST", "/api/v1/namespaces/default/configmaps", &[], &huge)
        .await;
    assert_eq!(reply.status, 413);
    still_serves(&server).await;
}
