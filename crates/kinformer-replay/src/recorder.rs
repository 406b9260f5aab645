//! The recorder: a loopback proxy in front of a real (or fake) API server that forwards every
//! request and writes what passes through as a recording (format 2 of `docs/fixtures.md`),
//! which `ServerConfig::recording` replays.
//!
//! Upstream it authenticates as a kubeconfig user would: a CA (or, when told, no verification),
//! `tls-server-name`, a client certificate, and an `Authorization` header from a
//! [`TokenSource`] (a fixed token, or anything that can produce one, such as an exec plugin).
//! Credentials are sent upstream only: the recording holds request lines and responses, never
//! request headers.

use std::convert::Infallible;
use std::fmt;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, BodyStream, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::response::{self, errors, Body};
use crate::server::Token;

/// A boxed error from a [`TokenSource`]; its message must not contain the credential.
pub type TokenError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where the recorder gets the `Authorization` header it sends upstream: a fixed token, a
/// token file, an exec plugin, or anything else. The header never reaches the recording.
pub trait TokenSource: Send + Sync + 'static {
    /// The `Authorization` header value (`Bearer ...`) for the next upstream request; `None`
    /// sends none.
    fn authorization(&self) -> BoxFuture<'_, std::result::Result<Option<HeaderValue>, TokenError>>;

    /// Upstream answered 401: drop anything cached. True when asking again may give a
    /// different credential (the request is then retried once).
    fn refresh_after_unauthorized(&self) -> BoxFuture<'_, bool> {
        Box::pin(async { false })
    }
}

/// A fixed bearer token.
struct StaticToken(Token);

impl TokenSource for StaticToken {
    fn authorization(&self) -> BoxFuture<'_, std::result::Result<Option<HeaderValue>, TokenError>> {
        Box::pin(async move {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0.expose().trim()))
                .map_err(|_| -> TokenError {
                    "the bearer token contains characters not allowed in a header".into()
                })?;
            value.set_sensitive(true);
            Ok(Some(value))
        })
    }
}

/// A client certificate and key (PEM) offered to the upstream for mutual TLS.
#[derive(Clone)]
struct Identity {
    cert_pem: String,
    key_pem: Token,
}

/// Where the recorder forwards to, how it authenticates there, and where it writes.
#[derive(Clone)]
pub struct RecorderConfig {
    upstream: http::Uri,
    ca_pem: Option<String>,
    tls_server_name: Option<String>,
    insecure_skip_tls_verify: bool,
    identity: Option<Identity>,
    certificate_resolver: Option<Arc<dyn rustls::client::ResolvesClientCert>>,
    token: Option<Arc<dyn TokenSource>>,
    headers: http::HeaderMap,
    out: PathBuf,
    port: u16,
}

impl fmt::Debug for RecorderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecorderConfig")
            .field("upstream", &self.upstream)
            .field("ca_pem", &self.ca_pem.as_ref().map(|pem| pem.len()))
            .field("tls_server_name", &self.tls_server_name)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field(
                "client_certificate",
                &self.identity.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "client_certificate_resolver",
                &self.certificate_resolver.is_some(),
            )
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("out", &self.out)
            .field("port", &self.port)
            .finish()
    }
}

impl RecorderConfig {
    /// Forward to `upstream` (`http://` or `https://host:port`, optionally with a path prefix),
    /// writing to `out`.
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
            tls_server_name: None,
            insecure_skip_tls_verify: false,
            identity: None,
            certificate_resolver: None,
            token: None,
            headers: http::HeaderMap::new(),
            out: out.to_path_buf(),
            port: 0,
        })
    }

    /// Trust this CA (PEM) for an `https://` upstream.
    pub fn ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Verify the upstream certificate against this name (and send it as SNI) instead of the
    /// URL's host, like a kubeconfig's `tls-server-name`.
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls_server_name = Some(name.into());
        self
    }

    /// Do not verify the upstream certificate (a kubeconfig's `insecure-skip-tls-verify`).
    pub fn insecure_skip_tls_verify(mut self, insecure: bool) -> Self {
        self.insecure_skip_tls_verify = insecure;
        self
    }

    /// Offer this client certificate chain and private key (both PEM) to the upstream.
    pub fn client_identity(
        mut self,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.identity = Some(Identity {
            cert_pem: cert_pem.into(),
            key_pem: Token::new(key_pem),
        });
        self
    }

    /// Ask `resolver` for the client certificate of each upstream handshake (one an exec
    /// plugin returns, say); a [`RecorderConfig::client_identity`] takes precedence.
    pub fn client_certificate_resolver(
        mut self,
        resolver: Arc<dyn rustls::client::ResolvesClientCert>,
    ) -> Self {
        self.certificate_resolver = Some(resolver);
        self
    }

    /// Send `Authorization: Bearer <token>` upstream (never written to the recording).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Arc::new(StaticToken(Token::new(token))));
        self
    }

    /// Ask `source` for the `Authorization` header of every upstream request (never written
    /// to the recording). Without a token or a source, a client's own header is forwarded.
    pub fn token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.token = Some(source);
        self
    }

    /// Send this header on every upstream request, replacing a client's header of that name
    /// (impersonation's `Impersonate-User`, `Impersonate-Group`, ...); like every request
    /// header, it is never recorded. Repeat a name to send several values.
    pub fn upstream_header(mut self, name: http::HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
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

fn tls_failed(message: impl Into<String>) -> Error {
    Error::TlsFailed {
        message: message.into(),
    }
}

/// The rustls settings for an `https://` upstream.
fn tls_connector(config: &RecorderConfig) -> Result<tokio_rustls::TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_failed(e.to_string()))?;
    let builder = if config.insecure_skip_tls_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(pem) = &config.ca_pem {
            for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
                let cert = cert.map_err(|e| tls_failed(format!("the CA PEM is malformed: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| tls_failed(format!("the CA certificate was refused: {e}")))?;
            }
            if roots.is_empty() {
                return Err(tls_failed("the CA PEM holds no certificate"));
            }
        }
        builder.with_root_certificates(roots)
    };
    let client = match &config.identity {
        Some(identity) => {
            let certs = rustls_pemfile::certs(&mut identity.cert_pem.as_bytes())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| tls_failed(format!("the client certificate PEM is malformed: {e}")))?;
            if certs.is_empty() {
                return Err(tls_failed(
                    "the client certificate PEM holds no certificate",
                ));
            }
            // The key's parse error could echo key bytes: say only that it is unusable.
            let key = rustls_pemfile::private_key(&mut identity.key_pem.expose().as_bytes())
                .ok()
                .flatten()
                .ok_or_else(|| tls_failed("the client key PEM holds no usable private key"))?;
            builder.with_client_auth_cert(certs, key).map_err(|e| {
                tls_failed(format!("the client certificate and key do not fit: {e}"))
            })?
        }
        None => match &config.certificate_resolver {
            Some(resolver) => builder.with_client_cert_resolver(resolver.clone()),
            None => builder.with_no_client_auth(),
        },
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(client)))
}

/// Accepts any upstream certificate (only with `insecure_skip_tls_verify`); handshake
/// signatures are still checked.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Starts the recorder: truncates `out` and begins proxying.
pub async fn start(config: RecorderConfig) -> Result<RunningRecorder> {
    let tls = if config.upstream.scheme_str() == Some("https") {
        Some(tls_connector(&config)?)
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
            let name = shared.config.tls_server_name.clone().unwrap_or(host);
            let name = name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let name = ServerName::try_from(name).map_err(std::io::Error::other)?;
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

/// Sends one request upstream on a new connection.
async fn forward(
    shared: &Shared,
    parts: &http::request::Parts,
    target: &str,
    body: Bytes,
    authorization: Option<HeaderValue>,
) -> std::result::Result<Response<Incoming>, String> {
    let io = connect(shared)
        .await
        .map_err(|error| format!("upstream connection failed: {error}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|_| "upstream handshake failed".to_string())?;
    tokio::spawn(connection);
    let mut upstream = Request::builder().method(parts.method.clone()).uri(target);
    let configured = &shared.config.headers;
    for (name, value) in &parts.headers {
        if name != http::header::HOST
            && name != http::header::AUTHORIZATION
            && !configured.contains_key(name)
        {
            upstream = upstream.header(name, value);
        }
    }
    for (name, value) in configured {
        upstream = upstream.header(name, value);
    }
    upstream = upstream.header(
        http::header::HOST,
        shared
            .config
            .upstream
            .authority()
            .map_or("127.0.0.1", |a| a.as_str()),
    );
    if let Some(value) = authorization {
        upstream = upstream.header(http::header::AUTHORIZATION, value);
    }
    let upstream = upstream
        .body(Full::new(body))
        .map_err(|_| "the request could not be forwarded".to_string())?;
    sender
        .send_request(upstream)
        .await
        .map_err(|error| format!("upstream request failed: {error}"))
}

/// The `Authorization` header to send upstream: the configured source's, else the client's.
async fn authorization(
    shared: &Shared,
    parts: &http::request::Parts,
) -> std::result::Result<Option<HeaderValue>, String> {
    match &shared.config.token {
        Some(source) => source
            .authorization()
            .await
            .map_err(|error| format!("upstream credentials failed: {error}")),
        None => Ok(parts.headers.get(http::header::AUTHORIZATION).cloned()),
    }
}

async fn proxy(shared: Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    // A server URL with a path (`https://host/k8s/clusters/c1`) prefixes every request.
    let prefix = shared.config.upstream.path().trim_end_matches('/');
    let upstream_target = format!("{prefix}{target}");
    let Ok(body) = body.collect().await.map(|c| c.to_bytes()) else {
        return response::status(
            &errors::bad_request("the request body could not be read"),
            false,
        );
    };
    let mut retried = false;
    let response = loop {
        let authorization = match authorization(&shared, &parts).await {
            Ok(value) => value,
            Err(message) => return bad_gateway(message),
        };
        let response = match forward(
            &shared,
            &parts,
            &upstream_target,
            body.clone(),
            authorization,
        )
        .await
        {
            Ok(response) => response,
            Err(message) => return bad_gateway(message),
        };
        // Like a client: after a 401, refreshed credentials get one more try.
        if response.status() == StatusCode::UNAUTHORIZED && !retried {
            if let Some(source) = &shared.config.token {
                if source.refresh_after_unauthorized().await {
                    retried = true;
                    continue;
                }
            }
        }
        break response;
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
