//! The recorder: a loopback proxy in front of a real (or fake) API server that forwards every
//! request and writes what passes through as a recording (format 2 of `docs/fixtures.md`),
//! which `ServerConfig::recording` replays.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, BodyStream, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::response::{self, errors, Body};
use crate::server::Token;

/// Where the recorder forwards to and where it writes.
#[derive(Clone, Debug)]
pub struct RecorderConfig {
    upstream: http::Uri,
    ca_pem: Option<String>,
    token: Option<Token>,
    out: PathBuf,
    port: u16,
}

impl RecorderConfig {
    /// Forward to `upstream` (`http://` or `https://host:port`), writing to `out`.
    pub fn new(upstream: &str, out: &Path) -> Result<Self> {
        let upstream: http::Uri = upstream.parse().map_err(|e| Error::FixtureInvalid {
            path: out.to_path_buf(),
            message: format!("invalid upstream URL {upstream:?}: {e}"),
        })?;
        if upstream.host().is_none() {
            return Err(Error::FixtureInvalid {
                path: out.to_path_buf(),
                message: "the upstream URL needs a host".into(),
            });
        }
        Ok(RecorderConfig {
            upstream,
            ca_pem: None,
            token: None,
            out: out.to_path_buf(),
            port: 0,
        })
    }

    /// Trust this CA (PEM) for an `https://` upstream.
    pub fn ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Send `Authorization: Bearer <token>` upstream (never written to the recording).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token::new(token));
        self
    }

    /// Listen on this loopback port (0 picks one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// A running recorder.
#[derive(Debug)]
pub struct RunningRecorder {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningRecorder {
    /// `http://127.0.0.1:PORT`: point clients here.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops the proxy; exchanges still streaming are written as far as they got.
    pub async fn shutdown(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

struct Shared {
    config: RecorderConfig,
    tls: Option<tokio_rustls::TlsConnector>,
    file: Mutex<std::fs::File>,
}

/// Starts the recorder: truncates `out` and begins proxying.
pub async fn start(config: RecorderConfig) -> Result<RunningRecorder> {
    let tls = if config.upstream.scheme_str() == Some("https") {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in
            rustls_pemfile::certs(&mut config.ca_pem.as_deref().unwrap_or("").as_bytes()).flatten()
        {
            let _ = roots.add(cert);
        }
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::TlsFailed {
                message: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Some(tokio_rustls::TlsConnector::from(Arc::new(client)))
    } else {
        None
    };
    let file = std::fs::File::create(&config.out).map_err(|source| Error::FileFailed {
        path: config.out.clone(),
        source,
    })?;
    let listener = TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(|source| Error::BindFailed {
            address: format!("127.0.0.1:{}", config.port),
            source,
        })?;
    let address = listener.local_addr().map_err(|source| Error::BindFailed {
        address: "127.0.0.1".into(),
        source,
    })?;
    let shared = Arc::new(Shared {
        config,
        tls,
        file: Mutex::new(file),
    });
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let shared = shared.clone();
            connections.spawn(async move {
                let service = service_fn(move |request| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(proxy(shared, request).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    Ok(RunningRecorder { address, task })
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One exchange being recorded; written to the file when dropped (the stream ended or the
/// client went away).
struct Transcript {
    shared: Arc<Shared>,
    text: String,
    timestamps: bool,
    partial_line: Vec<u8>,
}

impl Transcript {
    fn line(&mut self, line: &str) {
        if self.timestamps {
            let _ = write!(self.text, "{:.3} ", now());
        }
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn body(&mut self, data: &[u8]) {
        if !self.timestamps {
            self.text.push_str(&String::from_utf8_lossy(data));
            return;
        }
        self.partial_line.extend_from_slice(data);
        while let Some(end) = self.partial_line.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial_line.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            self.line(&text);
        }
    }
}

impl Drop for Transcript {
    fn drop(&mut self) {
        if !self.partial_line.is_empty() {
            let rest =
                String::from_utf8_lossy(&std::mem::take(&mut self.partial_line)).into_owned();
            self.line(&rest);
        }
        if !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        if let Ok(mut file) = self.shared.file.lock() {
            let _ = file.write_all(self.text.as_bytes());
            let _ = file.flush();
        }
    }
}

async fn connect(shared: &Shared) -> std::io::Result<Box<dyn Io>> {
    let host = shared
        .config
        .upstream
        .host()
        .unwrap_or("127.0.0.1")
        .to_string();
    let https = shared.tls.is_some();
    let port = shared
        .config
        .upstream
        .port_u16()
        .unwrap_or(if https { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    match &shared.tls {
        Some(connector) => {
            let name =
                rustls::pki_types::ServerName::try_from(host).map_err(std::io::Error::other)?;
            Ok(Box::new(connector.connect(name, tcp).await?))
        }
        None => Ok(Box::new(tcp)),
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

fn bad_gateway(message: String) -> Response<Body> {
    let status = kinformer_meta::Status::failure(502, "BadGateway", message);
    let mut response = response::status(&status, false);
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

async fn proxy(shared: Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    let Ok(body) = body.collect().await.map(|c| c.to_bytes()) else {
        return response::status(
            &errors::bad_request("the request body could not be read"),
            false,
        );
    };
    let io = match connect(&shared).await {
        Ok(io) => io,
        Err(error) => return bad_gateway(format!("upstream connection failed: {error}")),
    };
    let Ok((mut sender, connection)) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await
    else {
        return bad_gateway("upstream handshake failed".into());
    };
    tokio::spawn(connection);
    let mut upstream = Request::builder().method(parts.method.clone()).uri(&target);
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name != http::header::AUTHORIZATION {
            upstream = upstream.header(name, value);
        }
    }
    upstream = upstream.header(
        http::header::HOST,
        shared
            .config
            .upstream
            .authority()
            .map_or("127.0.0.1", |a| a.as_str()),
    );
    if let Some(token) = &shared.config.token {
        upstream = upstream.header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", token.expose()),
        );
    } else if let Some(auth) = parts.headers.get(http::header::AUTHORIZATION) {
        upstream = upstream.header(http::header::AUTHORIZATION, auth);
    }
    let Ok(upstream) = upstream.body(Full::new(body)) else {
        return bad_gateway("the request could not be forwarded".into());
    };
    let response = match sender.send_request(upstream).await {
        Ok(response) => response,
        Err(error) => return bad_gateway(format!("upstream request failed: {error}")),
    };
    let watch = parts
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=1" || p == "watch=true"));
    let mut transcript = Transcript {
        shared: shared.clone(),
        text: format!("===== {} {} =====\n", parts.method, target),
        timestamps: watch,
        partial_line: Vec::new(),
    };
    let (head, body) = response.into_parts();
    transcript.line(&format!(
        "HTTP/1.1 {} {}",
        head.status.as_u16(),
        head.status.canonical_reason().unwrap_or("")
    ));
    for (name, value) in &head.headers {
        transcript.line(&format!("{}: {}", name, value.to_str().unwrap_or("")));
    }
    transcript.line("");
    let stream = BodyStream::new(body).map(move |frame| {
        let frame = frame.map_err(std::io::Error::other)?;
        let data = frame.into_data().unwrap_or_default();
        transcript.body(&data);
        Ok::<_, std::io::Error>(Frame::data(data))
    });
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    *response.status_mut() = head.status;
    for (name, value) in &head.headers {
        if name != http::header::TRANSFER_ENCODING {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}
