//! A small HTTP/1.1 client for the integration tests: plain or TLS, whole bodies or watch
//! streams read line by line.
#![allow(dead_code)] // Each test binary uses a different part of this helper.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::Value;
use tokio::net::TcpStream;

/// A whole response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Connection options.
#[derive(Clone, Default)]
pub struct Client {
    pub base: String,
    pub token: Option<String>,
    pub ca_pem: Option<String>,
    pub identity: Option<(String, String)>,
    pub user_agent: Option<String>,
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

impl Client {
    pub fn new(base: impl Into<String>) -> Self {
        Client {
            base: base.into(),
            ..Client::default()
        }
    }

    async fn connect(&self) -> std::io::Result<Box<dyn Io>> {
        let url: http::Uri = self.base.parse().expect("base url");
        let host = url.host().unwrap_or("127.0.0.1").to_string();
        let port = url.port_u16().unwrap_or(80);
        let tcp = TcpStream::connect((host.as_str(), port)).await?;
        if url.scheme_str() != Some("https") {
            return Ok(Box::new(tcp));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        if let Some(ca) = &self.ca_pem {
            for cert in rustls_pemfile::certs(&mut ca.as_bytes()) {
                roots.add(cert?).map_err(std::io::Error::other)?;
            }
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_root_certificates(roots);
        let config = match &self.identity {
            Some((cert, key)) => {
                let certs =
                    rustls_pemfile::certs(&mut cert.as_bytes()).collect::<Result<Vec<_>, _>>()?;
                let key = rustls_pemfile::private_key(&mut key.as_bytes())?.expect("key");
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(std::io::Error::other)?
            }
            None => builder.with_no_client_auth(),
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = rustls::pki_types::ServerName::try_from(host).map_err(std::io::Error::other)?;
        Ok(Box::new(connector.connect(name, tcp).await?))
    }

    /// Sends a request and returns the response head and its streaming body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<http::Response<Incoming>> {
        let io = self.connect().await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
                .await
                .map_err(std::io::Error::other)?;
        tokio::spawn(connection);
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1");
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(agent) = &self.user_agent {
            request = request.header("user-agent", agent.as_str());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request");
        sender
            .send_request(request)
            .await
            .map_err(std::io::Error::other)
    }

    /// Sends a request and reads the whole response.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let response = self
            .send(method, path, headers, body)
            .await
            .expect("request failed");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, &[], "").await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.call(
            "POST",
            path,
            &[("content-type", "application/json")],
            &body.to_string(),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.call(
            "PUT",
            path,
            &[("content-type", "application/json")],
            &body.to_string(),
        )
        .await
    }

    pub async fn patch(&self, path: &str, content_type: &str, body: &str) -> Reply {
        self.call("PATCH", path, &[("content-type", content_type)], body)
            .await
    }

    pub async fn delete(&self, path: &str, body: &str) -> Reply {
        self.call(
            "DELETE",
            path,
            &[("content-type", "application/json")],
            body,
        )
        .await
    }

    /// Starts a watch.
    pub async fn watch(&self, path: &str) -> Watch {
        self.watch_with(path, &[]).await
    }

    /// Starts a watch with extra request headers.
    pub async fn watch_with(&self, path: &str, headers: &[(&str, &str)]) -> Watch {
        let response = self
            .send("GET", path, headers, "")
            .await
            .expect("watch request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Watch {
            status,
            headers,
            body: response.into_body(),
            buffer: Vec::new(),
            closed: false,
        }
    }
}

/// A watch response read line by line.
pub struct Watch {
    pub status: u16,
    pub headers: http::HeaderMap,
    body: Incoming,
    buffer: Vec<u8>,
    pub closed: bool,
}

/// How a watch stream ended or what it delivered next.
#[derive(Debug, PartialEq)]
pub enum Next {
    Line(String),
    Ended,
    Broken(String),
}

impl Watch {
    /// The next line, or how the stream ended (waits at most 30 s of real time).
    pub async fn next(&mut self) -> Next {
        loop {
            if let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=pos).collect();
                return Next::Line(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
            }
            if self.closed {
                return Next::Ended;
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Some(Err(error)) => {
                    self.closed = true;
                    return Next::Broken(format!(
                        "{error} (partial: {})",
                        String::from_utf8_lossy(&self.buffer)
                    ));
                }
                None => {
                    self.closed = true;
                    if !self.buffer.is_empty() {
                        return Next::Broken(format!(
                            "unterminated: {}",
                            String::from_utf8_lossy(&self.buffer)
                        ));
                    }
                }
            }
        }
    }

    /// The next frame as JSON, panicking when the stream ends instead.
    pub async fn event(&mut self) -> Value {
        match self.next().await {
            Next::Line(line) => {
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad frame {line}: {e}"))
            }
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// The next frame's type and object name (or resourceVersion for bookmarks).
    pub async fn summary(&mut self) -> (String, String) {
        let event = self.event().await;
        let kind = event["type"].as_str().unwrap_or("").to_string();
        let name = event["object"]["metadata"]["name"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| {
                format!(
                    "rv={}",
                    event["object"]["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or("")
                )
            });
        (kind, name)
    }

    /// Asserts nothing arrives for a while (real time; used only where nothing must come).
    pub async fn assert_quiet(&mut self, millis: u64) {
        let waited = tokio::time::timeout(Duration::from_millis(millis), self.next()).await;
        assert!(waited.is_err(), "expected no frame, got {waited:?}");
    }
}

pub fn pod(namespace: &str, name: &str, labels: Value) -> Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
        "status": {"phase": "Running"}
    })
}
