//! The recorder proxies the fake server, and replaying its recording gives a client the same
//! answers.

mod common;

use common::{pod, Client};
use kinformer_replay::{recorder, FakeApiServer, RecorderConfig, Recording, ServerConfig};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

#[tokio::test]
async fn recording_the_fake_server_and_replaying_it_gives_the_same_answers() {
    let live = FakeApiServer::start(ServerConfig::default().generated_tls().token("rec"))
        .await
        .unwrap();
    for name in ["a", "b", "c"] {
        live.create(pod("default", name, json!({"app": "x"})))
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recording.txt");
    let config = RecorderConfig::new(&live.url(), &out)
        .unwrap()
        .ca_pem(live.ca_pem().unwrap())
        .token("rec");
    let proxy = recorder::start(config).await.unwrap();
    let through = Client::new(proxy.url());
    let requests = [
        "/api/v1/namespaces/default/pods?limit=2",
        "/api/v1/namespaces/default/pods/a",
        "/api/v1/namespaces/default/pods/nope",
    ];
    let mut answers = Vec::new();
    for path in requests {
        answers.push(through.get(path).await);
    }
    assert_eq!(answers[0].status, 200);
    assert_eq!(answers[2].status, 404);
    let mut watch = through
        .watch("/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1")
        .await;
    for name in ["a", "b", "c"] {
        assert_eq!(watch.summary().await.1, name);
    }
    assert_eq!(watch.next().await, common::Next::Ended);
    drop(watch);
    proxy.shutdown().await;

    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("Bearer"), "credentials are never recorded");
    let recording = Recording::load(&out).unwrap();
    assert_eq!(recording.exchanges.len(), 4, "{text}");
    assert_eq!(
        recording.exchanges[3].frames.len(),
        3,
        "watch frames keep their arrival times"
    );
    let replay = FakeApiServer::start(ServerConfig::default().recording(recording))
        .await
        .unwrap();
    let client = Client::new(replay.url());
    for (path, answer) in requests.iter().zip(&answers) {
        let replayed = client.get(path).await;
        assert_eq!(replayed.status, answer.status, "{path}");
        assert_eq!(replayed.body, answer.body, "{path}");
        assert_eq!(
            replayed.header("audit-id"),
            answer.header("audit-id"),
            "{path}"
        );
    }
    let mut watch = client
        .watch("/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1")
        .await;
    for name in ["a", "b", "c"] {
        assert_eq!(watch.summary().await.1, name);
    }
    assert_eq!(watch.next().await, common::Next::Ended);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502() {
    let dir = tempfile::tempdir().unwrap();
    let config = RecorderConfig::new("http://127.0.0.1:1", &dir.path().join("r.txt")).unwrap();
    let proxy = recorder::start(config).await.unwrap();
    let reply = Client::new(proxy.url()).get("/version").await;
    assert_eq!(reply.status, 502);
    assert!(RecorderConfig::new("not a url", &dir.path().join("r.txt")).is_err());
}

/// Records `requests` through `config`'s proxy, then replays the recording and checks a client
/// sees the same statuses and bodies; returns the recording's text.
async fn record_and_replay(config: RecorderConfig, out: &Path, requests: &[&str]) -> String {
    let proxy = recorder::start(config).await.unwrap();
    let through = Client::new(proxy.url());
    let mut answers = Vec::new();
    for path in requests {
        answers.push(through.get(path).await);
    }
    proxy.shutdown().await;
    let text = std::fs::read_to_string(out).unwrap();
    let recording = Recording::load(out).unwrap();
    assert_eq!(recording.exchanges.len(), requests.len(), "{text}");
    let replay = FakeApiServer::start(ServerConfig::default().recording(recording))
        .await
        .unwrap();
    let client = Client::new(replay.url());
    for (path, answer) in requests.iter().zip(&answers) {
        let replayed = client.get(path).await;
        assert_eq!(replayed.status, answer.status, "{path}");
        assert_eq!(replayed.body, answer.body, "{path}");
    }
    assert!(answers.iter().all(|a| a.status == 200), "{text}");
    text
}

async fn live_with_pods(config: ServerConfig) -> kinformer_replay::RunningServer {
    let live = FakeApiServer::start(config).await.unwrap();
    for name in ["a", "b"] {
        live.create(pod("default", name, json!({"app": "x"})))
            .unwrap();
    }
    live
}

#[tokio::test]
async fn the_recorder_authenticates_upstream_with_a_client_certificate() {
    let live = live_with_pods(
        ServerConfig::default()
            .generated_tls()
            .client_cert_auth(true),
    )
    .await;
    let identity = live
        .mint_client_cert("recorder", &["system:masters"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mtls.txt");

    let without = RecorderConfig::new(&live.url(), &out)
        .unwrap()
        .ca_pem(live.ca_pem().unwrap());
    let proxy = recorder::start(without).await.unwrap();
    let refused = Client::new(proxy.url())
        .get("/api/v1/namespaces/default/pods")
        .await;
    assert_eq!(refused.status, 401, "no certificate, no access");
    proxy.shutdown().await;

    let config = RecorderConfig::new(&live.url(), &out)
        .unwrap()
        .ca_pem(live.ca_pem().unwrap())
        .client_identity(identity.cert_pem.clone(), identity.key_pem.clone());
    assert!(!format!("{config:?}").contains(&identity.key_pem[40..80]));
    let text = record_and_replay(
        config,
        &out,
        &[
            "/api/v1/namespaces/default/pods",
            "/api/v1/namespaces/default/pods/b",
        ],
    )
    .await;
    assert!(!text.contains("PRIVATE KEY"), "{text}");
}

/// A token source that hands out a stale token until told of a 401.
struct Rotating {
    refreshed: std::sync::atomic::AtomicBool,
    asked: std::sync::atomic::AtomicUsize,
}

impl recorder::TokenSource for Rotating {
    fn authorization(
        &self,
    ) -> futures::future::BoxFuture<'_, Result<Option<http::HeaderValue>, recorder::TokenError>>
    {
        Box::pin(async move {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let token = if self.refreshed.load(std::sync::atomic::Ordering::SeqCst) {
                "fresh-secret-token"
            } else {
                "stale-secret-token"
            };
            Ok(Some(format!("Bearer {token}").parse().unwrap()))
        })
    }

    fn refresh_after_unauthorized(&self) -> futures::future::BoxFuture<'_, bool> {
        Box::pin(async move {
            !self
                .refreshed
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        })
    }
}

#[tokio::test]
async fn a_token_source_is_asked_per_request_and_refreshed_after_a_401() {
    let live = live_with_pods(
        ServerConfig::default()
            .generated_tls()
            .token("fresh-secret-token"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(Rotating {
        refreshed: false.into(),
        asked: 0.into(),
    });
    let out = dir.path().join("token.txt");
    let config = RecorderConfig::new(&live.url(), &out)
        .unwrap()
        .ca_pem(live.ca_pem().unwrap())
        .token_source(source.clone());
    assert!(format!("{config:?}").contains("token: Some(\"<redacted>\")"));
    let text = record_and_replay(
        config,
        &out,
        &[
            "/api/v1/namespaces/default/pods/a",
            "/api/v1/namespaces/default/pods?limit=1",
        ],
    )
    .await;
    // The first request: stale (401), refreshed, retried; the second: fresh at once.
    assert_eq!(source.asked.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert!(
        !text.contains("401"),
        "only the retried answer is recorded: {text}"
    );
    assert!(!text.contains("secret-token"), "{text}");
    assert!(!text.contains("Bearer"), "{text}");
}

#[tokio::test]
async fn tls_server_name_and_insecure_skip_verify_decide_what_upstream_certificate_passes() {
    let live = live_with_pods(ServerConfig::default().generated_tls()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tls.txt");
    let ca = live.ca_pem().unwrap().to_string();
    let status_through = |config: RecorderConfig| async move {
        let proxy = recorder::start(config).await.unwrap();
        let status = Client::new(proxy.url()).get("/version").await.status;
        proxy.shutdown().await;
        status
    };
    let named = |name: &str| {
        RecorderConfig::new(&live.url(), &out)
            .unwrap()
            .ca_pem(ca.clone())
            .tls_server_name(name)
    };
    assert_eq!(status_through(named("localhost")).await, 200);
    assert_eq!(status_through(named("wrong.example")).await, 502);
    let no_ca = RecorderConfig::new(&live.url(), &out).unwrap();
    assert_eq!(status_through(no_ca.clone()).await, 502, "unknown CA");
    assert_eq!(
        status_through(no_ca.insecure_skip_tls_verify(true)).await,
        200
    );
}

#[tokio::test]
async fn malformed_tls_material_is_a_typed_error_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.txt");
    let bad_ca = RecorderConfig::new("https://127.0.0.1:1", &out)
        .unwrap()
        .ca_pem("not a pem");
    assert!(matches!(
        recorder::start(bad_ca).await,
        Err(kinformer_replay::Error::TlsFailed { .. })
    ));
    let live = FakeApiServer::start(ServerConfig::default().generated_tls())
        .await
        .unwrap();
    let identity = live.mint_client_cert("x", &[]).unwrap();
    let bad_key = RecorderConfig::new("https://127.0.0.1:1", &out)
        .unwrap()
        .client_identity(
            identity.cert_pem,
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n",
        );
    let error = recorder::start(bad_key).await.unwrap_err();
    assert!(matches!(error, kinformer_replay::Error::TlsFailed { .. }));
    assert!(!error.to_string().contains("c2VjcmV0"), "{error}");
}

#[tokio::test]
async fn a_server_url_with_a_path_prefixes_every_forwarded_request() {
    let live = live_with_pods(ServerConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("prefix.txt");
    let config = RecorderConfig::new(&format!("{}/prefix/", live.url()), &out).unwrap();
    let proxy = recorder::start(config).await.unwrap();
    let reply = Client::new(proxy.url())
        .get("/api/v1/namespaces/default/pods/a")
        .await;
    proxy.shutdown().await;
    // Pod a exists, so only a prefixed path explains the 404.
    assert_eq!(reply.status, 404, "the fake server serves no /prefix");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("===== GET /api/v1/namespaces/default/pods/a ====="),
        "recorded as the client asked: {text}"
    );
}

#[tokio::test]
async fn configured_upstream_headers_replace_the_clients_and_are_not_recorded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // An upstream that keeps the request head it received and answers 200.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let (sender, received) = tokio::sync::oneshot::channel::<String>();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buffer = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buffer).await.unwrap();
            assert!(n > 0);
            head.extend_from_slice(&buffer[..n]);
        }
        let body = "{}";
        socket
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let _ = sender.send(String::from_utf8_lossy(&head).to_ascii_lowercase());
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("headers.txt");
    let config = RecorderConfig::new(&upstream, &out)
        .unwrap()
        .token("hdr-secret")
        .upstream_header(
            http::HeaderName::from_static("impersonate-user"),
            http::HeaderValue::from_static("jane"),
        )
        .upstream_header(
            http::HeaderName::from_static("impersonate-group"),
            http::HeaderValue::from_static("dev"),
        )
        .upstream_header(
            http::HeaderName::from_static("impersonate-group"),
            http::HeaderValue::from_static("ops"),
        );
    let proxy = recorder::start(config).await.unwrap();
    let reply = Client::new(proxy.url())
        .call(
            "GET",
            "/api/v1/namespaces",
            &[("impersonate-user", "mallory")],
            "",
        )
        .await;
    assert_eq!(reply.status, 200);
    let head = received.await.unwrap();
    proxy.shutdown().await;
    assert!(head.contains("impersonate-user: jane\r\n"), "{head}");
    assert!(!head.contains("mallory"), "{head}");
    assert_eq!(head.matches("impersonate-group: ").count(), 2, "{head}");
    assert!(
        head.contains("authorization: bearer hdr-secret\r\n"),
        "{head}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("===== GET /api/v1/namespaces ====="),
        "{text}"
    );
    assert!(!text.to_ascii_lowercase().contains("impersonate"), "{text}");
    assert!(!text.contains("hdr-secret"), "{text}");
}
