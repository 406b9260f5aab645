//! Throughput of the fake API server: a paginated LIST of 50 000 realistic pods in pages of
//! 500 (and, opt-in, a watch of 100 000 events), over loopback HTTP/1.1. Run with
//! `cargo bench -p kinformer-replay --bench server`; prints one line per figure.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use kinformer_replay::{demo, FakeApiServer, ServerConfig};
use serde_json::{json, Value};
use tokio::net::TcpStream;

#[path = "../tests/common/mod.rs"]
mod common;

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(address: std::net::SocketAddr) -> Sender {
    let tcp = TcpStream::connect(address).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

async fn get(sender: &mut Sender, path: &str) -> Bytes {
    let request = http::Request::get(path)
        .header("host", "127.0.0.1")
        .body(Empty::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), 200, "{path}");
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
}

async fn list_benchmark(pods: usize) {
    let started = Instant::now();
    let server = FakeApiServer::start(
        ServerConfig::default()
            .history_limit(10_000)
            .objects(demo::preload(pods, 50)),
    )
    .await
    .expect("server");
    let load = started.elapsed();
    println!(
        "preload: {pods} pods created through the handle in {:.2} s ({:.0} creates/s)",
        load.as_secs_f64(),
        pods as f64 / load.as_secs_f64()
    );
    let mut sender = connect(server.address()).await;
    for round in 0..3 {
        let started = Instant::now();
        let mut continue_token: Option<String> = None;
        let (mut items, mut bytes, mut pages) = (0usize, 0usize, 0usize);
        loop {
            let path = match &continue_token {
                Some(token) => format!("/api/v1/pods?limit=500&continue={token}"),
                None => "/api/v1/pods?limit=500".to_string(),
            };
            let body = get(&mut sender, &path).await;
            bytes += body.len();
            pages += 1;
            let page: Value = serde_json::from_slice(&body).expect("json");
            items += page["items"].as_array().map_or(0, Vec::len);
            continue_token = page["metadata"]["continue"].as_str().map(String::from);
            if continue_token.is_none() {
                break;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        assert_eq!(items, pods);
        println!(
            "list round {round}: {items} pods in {pages} pages of 500, {:.1} MB in {elapsed:.2} s = {:.0} pods/s, {:.0} MB/s (client JSON parse included)",
            bytes as f64 / 1e6,
            items as f64 / elapsed,
            bytes as f64 / 1e6 / elapsed
        );
    }
    server.shutdown().await;
}

async fn watch_benchmark(events: usize, configmaps: usize) {
    let server =
        FakeApiServer::start(ServerConfig::default().history_limit(events + configmaps + 10))
            .await
            .expect("server");
    for i in 0..configmaps {
        server
            .create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}"), "namespace": "bench"}, "data": {"n": "0"}}))
            .expect("create");
    }
    let rv = server.resource_version();
    let handle = server.handle();
    let started = Instant::now();
    for n in 0..events {
        let i = n % configmaps;
        handle
            .update(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}"), "namespace": "bench"}, "data": {"n": n.to_string()}}))
            .expect("update");
    }
    let produce = started.elapsed().as_secs_f64();
    println!(
        "watch: {events} updates written through the handle in {produce:.2} s ({:.0} writes/s)",
        events as f64 / produce
    );
    let client = common::Client::new(server.url());
    let started = Instant::now();
    let mut watch = client
        .watch(&format!(
            "/api/v1/namespaces/bench/configmaps?watch=1&resourceVersion={rv}"
        ))
        .await;
    let (mut frames, mut bytes) = (0usize, 0usize);
    while frames < events {
        match watch.next().await {
            common::Next::Line(line) => {
                frames += 1;
                bytes += line.len() + 1;
            }
            other => panic!("watch stopped after {frames} frames: {other:?}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(frames, events);
    println!(
        "watch: {frames} events replayed from history to one watcher in {elapsed:.2} s = {:.0} events/s, {:.0} MB/s",
        frames as f64 / elapsed,
        bytes as f64 / 1e6 / elapsed
    );
    server.shutdown().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // The watch half is opt-in (KINFORMER_BENCH=watch): in this harness it stalls before
        // the first frame, while the same scenario as an integration test completes; not yet
        // understood, so it does not run by default.
        let only = std::env::var("KINFORMER_BENCH").unwrap_or_default();
        if only != "watch" {
            list_benchmark(50_000).await;
        }
        if only == "watch" {
            watch_benchmark(100_000, 1_000).await;
        }
    });
}
