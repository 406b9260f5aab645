//! Throughput of the fake API server: a paginated LIST of 50 000 realistic pods in pages of
//! 500 and a watch replaying 100 000 events of about 6 KB (pod-sized), over loopback HTTP/1.1, to a client that only
//! reads the bytes. Run with `cargo bench -p kinformer-replay --bench server`
//! (`KINFORMER_BENCH=list|watch` for one half); prints one line per figure.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use kinformer_replay::{demo, FakeApiServer, ServerConfig};
use serde_json::json;
use tokio::net::TcpStream;

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
    // The previous response must be fully read and the connection idle again.
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), 200, "{path}");
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
}

/// Newlines in `data`, eight bytes at a time (a byte-by-byte count made the reader, not the
/// server, the bottleneck of the watch figure).
fn count_newlines(data: &[u8]) -> usize {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut chunks = data.chunks_exact(8);
    let mut count = 0usize;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // A byte of `x` is zero exactly where the input byte is a newline.
        let x = u64::from_ne_bytes(word) ^ NEWLINES;
        let nonzero = ((x & LOW) + LOW) | x;
        count += (!nonzero & !LOW).count_ones() as usize;
    }
    count + chunks.remainder().iter().filter(|b| **b == b'\n').count()
}

/// A list page, checked for well-formed JSON and counted without building the items.
#[derive(serde::Deserialize)]
struct Page {
    items: Vec<serde::de::IgnoredAny>,
}

/// The continue token of a list page, read from the list metadata at the head of the body
/// (the items are not parsed: the client only reads bytes).
fn continue_of(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(4096)];
    let end = head
        .windows(9)
        .position(|w| w == b"\"items\":[")
        .unwrap_or(head.len());
    let text = std::str::from_utf8(&head[..end]).ok()?;
    let start = text.find("\"continue\":\"")? + "\"continue\":\"".len();
    let rest = &text[start..];
    Some(rest[..rest.find('"')?].to_string())
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
    let rounds: usize = std::env::var("KINFORMER_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    for round in 0..rounds {
        // Round 0 parses every page to check the item count; the others only read bytes.
        let parse = round == 0;
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
            if parse {
                let page: Page = serde_json::from_slice(&body).expect("json");
                items += page.items.len();
            }
            continue_token = continue_of(&body);
            if continue_token.is_none() {
                break;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        if parse {
            assert_eq!(items, pods);
        }
        println!(
            "list round {round}: {pods} pods in {pages} pages of 500, {:.1} MB in {elapsed:.3} s = {:.0} pods/s, {:.0} MB/s ({})",
            bytes as f64 / 1e6,
            pods as f64 / elapsed,
            bytes as f64 / 1e6 / elapsed,
            if parse {
                "client checks the JSON"
            } else {
                "client reads bytes"
            }
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
        // "initial" differs from every update's value: an update that changes nothing is no
        // event, and the watch below counts on one event per update (the old "stall": the
        // first update wrote "0" over "0", so the reader waited for one event too many).
        server
            .create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}"), "namespace": "bench"}, "data": {"n": "initial"}}))
            .expect("create");
    }
    let rv = server.resource_version();
    let handle = server.handle();
    let started = Instant::now();
    for n in 0..events {
        let i = n % configmaps;
        handle
            .update(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}"), "namespace": "bench"}, "data": {"n": n.to_string(), "payload": "x".repeat(5600)}}))
            .expect("update");
    }
    let produce = started.elapsed().as_secs_f64();
    let expected = (server.resource_version() - rv) as usize;
    assert_eq!(expected, events, "every update is one event");
    println!(
        "watch: {events} updates written through the handle in {produce:.2} s ({:.0} writes/s)",
        events as f64 / produce
    );
    let mut sender = connect(server.address()).await;
    let started = Instant::now();
    let request = http::Request::get(format!(
        "/api/v1/namespaces/bench/configmaps?watch=1&resourceVersion={rv}"
    ))
    .header("host", "127.0.0.1")
    .body(Empty::new())
    .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let (mut frames, mut bytes) = (0usize, 0usize);
    while frames < expected {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    bytes += data.len();
                    frames += count_newlines(&data);
                }
            }
            other => panic!("watch stopped after {frames} frames: {other:?}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(frames, expected);
    println!(
        "watch: {frames} events of {:.1} KB replayed from history to one watcher in {elapsed:.3} s = {:.0} events/s, {:.0} MB/s (client reads bytes)",
        bytes as f64 / frames as f64 / 1e3,
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
        // KINFORMER_BENCH=list or =watch runs one half; unset runs both.
        let only = std::env::var("KINFORMER_BENCH").unwrap_or_default();
        if only != "watch" {
            list_benchmark(50_000).await;
        }
        if only != "list" {
            let events = std::env::var("KINFORMER_BENCH_EVENTS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(100_000);
            watch_benchmark(events, 1_000).await;
        }
    });
}
