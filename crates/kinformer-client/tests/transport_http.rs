//! Plain-HTTP behaviour of `Client::send` / `send_watch` against a scripted server: headers,
//! gzip, error decoding, retries, warnings, timeouts and streaming.

mod transport_support;

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt as _, Full};
use kinformer_client::{Client, Config, Error};
use transport_support::{handler, ok_json, respond, serve};

fn get(path: &str) -> Request<Bytes> {
    Request::get(path).body(Bytes::new()).unwrap()
}

fn client(url: &str) -> Client {
    Client::try_from(Config::new(url.parse().unwrap())).unwrap()
}

#[tokio::test]
async fn send_puts_the_path_under_the_server_url_and_sets_user_agent_and_gzip() {
    let peer = serve(None, handler(|_, _| ok_json("{\"kind\":\"PodList\"}"))).await;
    let client = client(&peer.url);
    let response = client.send(get("/api/v1/pods?limit=5")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.into_body().bytes().await.unwrap(),
        "{\"kind\":\"PodList\"}"
    );
    let seen = &peer.seen()[0];
    assert_eq!(seen.uri, "/api/v1/pods?limit=5");
    assert!(seen.headers["user-agent"]
        .to_str()
        .unwrap()
        .starts_with("kinformer/"));
    assert_eq!(seen.headers["accept-encoding"], "gzip");
    assert!(!seen.headers.contains_key("authorization"));
    assert_eq!(client.default_namespace(), "default");
}

#[tokio::test]
async fn gzip_responses_are_decoded_and_the_encoding_header_removed() {
    let text = "{\"items\":[]}".repeat(500);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    let compressed = Bytes::from(encoder.finish().unwrap());
    let peer = serve(
        None,
        handler(move |_, _| {
            http::Response::builder()
                .header("content-encoding", "gzip")
                .body(Full::new(compressed.clone()))
                .unwrap()
        }),
    )
    .await;
    let response = client(&peer.url).send(get("/api/v1/pods")).await.unwrap();
    assert!(!response.headers().contains_key("content-encoding"));
    assert_eq!(response.into_body().bytes().await.unwrap(), text.as_bytes());
}

#[tokio::test]
async fn a_failure_status_becomes_a_typed_api_error() {
    let peer = serve(
        None,
        handler(|_, _| {
            respond(
                409,
                r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"conflict","reason":"Conflict","details":{"name":"x","kind":"pods"},"code":409}"#,
            )
        }),
    )
    .await;
    let err = client(&peer.url)
        .send(get("/api/v1/namespaces/a/pods/x"))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    let status = err.status().unwrap();
    assert_eq!(status.details.as_ref().unwrap().name.as_deref(), Some("x"));
    assert_eq!(err.code(), Some(409));
}

#[tokio::test]
async fn a_non_status_failure_keeps_code_and_truncated_body() {
    let peer = serve(
        None,
        handler(|_, _| respond(502, &"bad gateway ".repeat(200))),
    )
    .await;
    match client(&peer.url).send(get("/x")).await.unwrap_err() {
        Error::Http { code, body } => {
            assert_eq!(code, 502);
            assert!(body.starts_with("bad gateway"));
            assert_eq!(body.len(), 1024);
        }
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn too_many_requests_with_retry_after_is_retried_and_then_succeeds() {
    let peer = serve(
        None,
        handler(|n, _| {
            if n < 2 {
                let mut r = respond(
                    429,
                    r#"{"kind":"Status","code":429,"reason":"TooManyRequests"}"#,
                );
                r.headers_mut().insert("retry-after", "0".parse().unwrap());
                r
            } else {
                ok_json("{}")
            }
        }),
    )
    .await;
    let response = client(&peer.url)
        .send(
            Request::post("/api/v1/namespaces/a/configmaps")
                .body(Bytes::from_static(b"{\"a\":1}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = peer.seen();
    assert_eq!(seen.len(), 3);
    // The body was replayed on every attempt.
    assert!(seen.iter().all(|s| s.body == "{\"a\":1}"));
}

#[tokio::test]
async fn retries_stop_at_the_bound_and_503_without_retry_after_is_not_retried() {
    let peer = serve(
        None,
        handler(|_, _| {
            let mut r = respond(503, "busy");
            r.headers_mut().insert("retry-after", "0".parse().unwrap());
            r
        }),
    )
    .await;
    let config = Config::new(peer.url.parse().unwrap()).with_max_retries(2);
    let err = Client::try_from(config)
        .unwrap()
        .send(get("/x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(503));
    assert_eq!(peer.seen().len(), 3);

    let plain = serve(None, handler(|_, _| respond(503, "busy"))).await;
    assert!(client(&plain.url).send(get("/x")).await.is_err());
    assert_eq!(plain.seen().len(), 1);
}

#[tokio::test]
async fn watches_are_never_retried() {
    let peer = serve(
        None,
        handler(|_, _| {
            let mut r = respond(429, "slow down");
            r.headers_mut().insert("retry-after", "0".parse().unwrap());
            r
        }),
    )
    .await;
    let err = client(&peer.url)
        .send_watch(get("/api/v1/pods?watch=1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(429));
    assert_eq!(peer.seen().len(), 1);
}

#[tokio::test]
async fn warning_headers_are_kept_for_the_caller() {
    let peer = serve(
        None,
        handler(|_, _| {
            let mut r = ok_json("{}");
            r.headers_mut().insert(
                "warning",
                "299 - \"policy/v1beta1 PodSecurityPolicy is deprecated\""
                    .parse()
                    .unwrap(),
            );
            r
        }),
    )
    .await;
    let client = client(&peer.url);
    client.send(get("/x")).await.unwrap();
    assert_eq!(
        client.warnings(),
        ["policy/v1beta1 PodSecurityPolicy is deprecated"]
    );
}

#[tokio::test]
async fn a_request_that_outlives_the_request_timeout_fails_with_request_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and then never answers.
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let config =
        Config::new(url.parse().unwrap()).with_request_timeout(Some(Duration::from_millis(200)));
    let err = Client::try_from(config)
        .unwrap()
        .send(get("/x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RequestTimeout(d) if d == Duration::from_millis(200)),
        "{err}"
    );
}

#[tokio::test]
async fn a_watch_whose_response_headers_never_come_fails_with_request_timeout() {
    // A server that accepts a watch and never answers must not hang the caller: the idle
    // timeout only starts once a body exists, so the wait for headers has a limit of its own.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let config =
        Config::new(url.parse().unwrap()).with_request_timeout(Some(Duration::from_millis(200)));
    let client = Client::try_from(config).unwrap();
    let watch = client.send_watch(get("/api/v1/pods?watch=true"));
    let err = tokio::time::timeout(Duration::from_secs(10), watch)
        .await
        .expect("the watch waited for headers without a limit")
        .unwrap_err();
    assert!(
        matches!(err, Error::RequestTimeout(d) if d == Duration::from_millis(200)),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_naming_the_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = client(&url).send(get("/x")).await.unwrap_err();
    match &err {
        Error::Connect { server, .. } => assert!(url.ends_with(server.as_str()), "{err}"),
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn a_watch_body_streams_and_fails_after_the_idle_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
        s.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n8\r\n{\"a\":1}\n\r\n")
            .await
            .unwrap();
        // Then silence, with the connection held open.
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let config =
        Config::new(url.parse().unwrap()).with_watch_idle_timeout(Some(Duration::from_millis(300)));
    let response = Client::try_from(config)
        .unwrap()
        .send_watch(get("/api/v1/pods?watch=true"))
        .await
        .unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "{\"a\":1}\n");
    let err = body.frame().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::WatchIdleTimeout(_)), "{err}");
}

#[tokio::test]
async fn a_server_url_with_a_path_prefixes_every_request() {
    let peer = serve(None, handler(|_, _| ok_json("{}"))).await;
    let client = client(&format!("{}/k8s/clusters/c-1", peer.url));
    client.send(get("/api/v1/pods")).await.unwrap();
    assert_eq!(peer.seen()[0].uri, "/k8s/clusters/c-1/api/v1/pods");
}

/// A raw server: the first connection reads the request and hangs up without answering;
/// later ones answer 200.
async fn hang_up_once() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = s.read(&mut buf).await;
                if n > 0 {
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                        .await;
                }
                // Dropping the socket closes it; on the first connection, with no answer.
            });
        }
    });
    (url, connections)
}

#[tokio::test]
async fn a_get_is_retried_after_the_connection_is_reset_but_a_post_is_not() {
    use std::sync::atomic::Ordering;
    let (url, connections) = hang_up_once().await;
    let response = client(&url).send(get("/api/v1/pods")).await.unwrap();
    assert_eq!(response.into_body().bytes().await.unwrap(), "{}");
    assert_eq!(connections.load(Ordering::SeqCst), 2);

    let (url, connections) = hang_up_once().await;
    let post = Request::post("/api/v1/namespaces/a/pods")
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    let err = client(&url).send(post).await.unwrap_err();
    assert!(matches!(err, Error::Request { .. }), "{err}");
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn disable_compression_stops_asking_for_gzip() {
    let peer = serve(None, handler(|_, _| ok_json("{}"))).await;
    let mut config = Config::new(peer.url.parse().unwrap());
    config.disable_compression = true;
    Client::try_from(config)
        .unwrap()
        .send(get("/x"))
        .await
        .unwrap();
    assert!(!peer.seen()[0].headers.contains_key("accept-encoding"));
}

#[tokio::test]
async fn the_rate_limit_holds_back_requests_but_not_watches() {
    let peer = serve(None, handler(|_, _| ok_json("{}"))).await;
    let config = Config::new(peer.url.parse().unwrap()).with_rate_limit(Some(
        kinformer_client::config::RateLimit {
            qps: 0.001,
            burst: 1,
        },
    ));
    let client = Client::try_from(config).unwrap();
    client.send(get("/first")).await.unwrap();
    // The bucket is empty for the next 1000 s: an ordinary request waits ...
    let held = tokio::time::timeout(Duration::from_millis(300), client.send(get("/second"))).await;
    assert!(held.is_err(), "the second request was not rate limited");
    // ... while a watch goes straight through.
    let watch = tokio::time::timeout(
        Duration::from_secs(30),
        client.send_watch(get("/api/v1/pods?watch=true")),
    )
    .await;
    assert_eq!(
        watch.expect("the watch was rate limited").unwrap().status(),
        200
    );
    let uris: Vec<_> = peer.seen().iter().map(|s| s.uri.clone()).collect();
    assert_eq!(uris, ["/first", "/api/v1/pods?watch=true"]);
}

#[test]
fn body_is_a_send_unpin_static_http_body_of_bytes_and_client_errors() {
    fn assert_body<B>()
    where
        B: http_body::Body<Data = Bytes, Error = Error> + Send + Unpin + 'static,
    {
    }
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_body::<kinformer_client::Body>();
    assert_send_sync::<Client>();
}

#[tokio::test]
async fn a_proxy_that_never_answers_connect_hits_the_connect_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and holds every connection without a word.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let mut config = Config::new("https://kube.invalid:6443".parse().unwrap());
    config.proxy_url = Some(proxy.parse().unwrap());
    config.connect_timeout = Some(Duration::from_millis(200));
    let err = Client::try_from(config)
        .unwrap()
        .send(get("/"))
        .await
        .unwrap_err();
    match &err {
        Error::Connect { server, reason, .. } => {
            assert_eq!(server, "kube.invalid:6443");
            assert!(reason.contains("timed out"), "{err}");
        }
        other => panic!("unexpected {other}"),
    }
}
