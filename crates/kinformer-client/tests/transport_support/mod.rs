//! Test peers for the transport tests: an rcgen PKI, a scripted HTTP(S) server that records
//! what it receives, and a tiny CONNECT proxy. All listen on 127.0.0.1 only.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A certificate authority that issues server and client certificates.
pub struct Pki {
    pub ca_pem: String,
    ca_cert: rcgen::Certificate,
    ca_key: KeyPair,
}

/// A leaf certificate and its key, PEM.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Leaf {
    /// The certificate's DER.
    pub fn der(&self) -> Vec<u8> {
        let cert = rustls_pemfile::certs(&mut self.cert_pem.as_bytes()).next();
        cert.unwrap().unwrap().to_vec()
    }
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = params.self_signed(&ca_key).unwrap();
        Pki {
            ca_pem: ca_cert.pem(),
            ca_cert,
            ca_key,
        }
    }

    /// A server certificate for `names` (DNS names or IPs).
    pub fn server(&self, names: &[&str]) -> Leaf {
        self.leaf(
            names,
            ExtendedKeyUsagePurpose::ServerAuth,
            KeyPair::generate().unwrap(),
            "server",
        )
    }

    /// A client certificate for user `user` with a fresh ECDSA PKCS#8 key.
    pub fn client(&self, user: &str) -> Leaf {
        self.leaf(
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
            KeyPair::generate().unwrap(),
            user,
        )
    }

    /// A client certificate for the public key of `key_pem` (PKCS#8), returned with `key_pem`.
    pub fn client_for_key(&self, user: &str, pkcs8_pem: &str) -> String {
        let key = KeyPair::from_pem(pkcs8_pem).unwrap();
        self.leaf(&[], ExtendedKeyUsagePurpose::ClientAuth, key, user)
            .cert_pem
    }

    fn leaf(&self, names: &[&str], usage: ExtendedKeyUsagePurpose, key: KeyPair, cn: &str) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![usage];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.ca_cert, &self.ca_key).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// rustls server settings for `leaf`, requiring client certificates from `client_ca` if given.
pub fn server_tls(leaf: &Leaf, client_ca: Option<&Pki>) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = rustls_pemfile::certs(&mut leaf.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut leaf.key_pem.as_bytes())
        .unwrap()
        .unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(pki) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut pki.ca_pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub version: Version,
    /// The common name of the client certificate's subject, when one was presented.
    pub client_cert: bool,
    /// The DER of the client certificate, when one was presented.
    pub client_cert_der: Option<Vec<u8>>,
    /// The index of the connection it arrived on.
    pub connection: usize,
}

/// Answers request number `n` (0-based) given what was seen.
pub type Handler = Arc<dyn Fn(usize, &Seen) -> Response<Full<Bytes>> + Send + Sync>;

/// A running scripted server.
pub struct Peer {
    pub addr: SocketAddr,
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub connections: Arc<AtomicUsize>,
}

impl Peer {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

pub fn handler(
    f: impl Fn(usize, &Seen) -> Response<Full<Bytes>> + Send + Sync + 'static,
) -> Handler {
    Arc::new(f)
}

pub fn respond(code: u16, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

pub fn ok_json(body: &str) -> Response<Full<Bytes>> {
    respond(200, body)
}

/// Starts a server on 127.0.0.1; TLS when `tls` is given.
pub async fn serve(tls: Option<Arc<rustls::ServerConfig>>, handler: Handler) -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let seen: Arc<Mutex<Vec<Seen>>> = Default::default();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::new(AtomicUsize::new(0));
    let (seen2, connections2) = (seen.clone(), connections.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let connection = connections2.fetch_add(1, Ordering::SeqCst);
            let (tls, handler, seen, counter) =
                (tls.clone(), handler.clone(), seen2.clone(), counter.clone());
            tokio::spawn(async move {
                match tls {
                    Some(tls) => {
                        let Ok(stream) = tokio_rustls::TlsAcceptor::from(tls).accept(stream).await
                        else {
                            return;
                        };
                        let client_cert = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .map(|c| c.to_vec());
                        serve_connection(
                            TokioIo::new(stream),
                            handler,
                            seen,
                            counter,
                            client_cert,
                            connection,
                        )
                        .await;
                    }
                    None => {
                        serve_connection(
                            TokioIo::new(stream),
                            handler,
                            seen,
                            counter,
                            None,
                            connection,
                        )
                        .await
                    }
                }
            });
        }
    });
    Peer {
        addr,
        url: format!("{scheme}://127.0.0.1:{}", addr.port()),
        seen,
        connections,
    }
}

async fn serve_connection<I>(
    io: I,
    handler: Handler,
    seen: Arc<Mutex<Vec<Seen>>>,
    counter: Arc<AtomicUsize>,
    client_cert: Option<Vec<u8>>,
    connection: usize,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let (handler, seen, counter) = (handler.clone(), seen.clone(), counter.clone());
        let client_cert = client_cert.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let record = Seen {
                method: parts.method,
                uri: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                headers: parts.headers,
                body,
                version: parts.version,
                client_cert: client_cert.is_some(),
                client_cert_der: client_cert,
                connection,
            };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            seen.lock().unwrap().push(record.clone());
            Ok::<_, Infallible>(handler(n, &record))
        }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(io, service)
        .await;
}

/// A CONNECT proxy on 127.0.0.1 that records the targets it tunnelled to.
pub struct Proxy {
    pub url: String,
    pub targets: Arc<Mutex<Vec<String>>>,
}

pub async fn connect_proxy() -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let targets: Arc<Mutex<Vec<String>>> = Default::default();
    let targets2 = targets.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let targets = targets2.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let Ok(b) = client.read_u8().await else {
                        return;
                    };
                    head.push(b);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                targets
                    .lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or_default().to_string());
                // Only tunnels to loopback: this proxy never reaches anything else. The name
                // "kube.test" stands for 127.0.0.1, so clients must not resolve it themselves.
                let target = match target.strip_prefix("kube.test:") {
                    Some(port) => format!("127.0.0.1:{port}"),
                    None => target,
                };
                if !target.starts_with("127.0.0.1:") {
                    let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
                    return;
                }
                let Ok(mut upstream) = TcpStream::connect(&target).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    Proxy { url, targets }
}

/// The fixtures/kubeconfig folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kubeconfig")
}

/// Base64 of a string.
pub fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
