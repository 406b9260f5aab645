//! Opens TCP connections, directly or through an `http://` proxy's CONNECT tunnel, within the
//! connect timeout. TLS is layered on top by hyper-rustls.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::proxy::Proxy;

/// A failure to open a connection; found in the error chain to classify `Error::Connect`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ConnectFailure {
    /// What was dialled (`host:port`, or the proxy).
    pub(crate) target: String,
    /// What went wrong.
    pub(crate) message: String,
}

/// The TCP part of the connector.
#[derive(Clone, Debug)]
pub(crate) struct Connector {
    proxy: Option<Proxy>,
    timeout: Option<Duration>,
}

impl Connector {
    pub(crate) fn new(proxy: Option<Proxy>, timeout: Option<Duration>) -> Self {
        Connector { proxy, timeout }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = ConnectFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let proxy = self.proxy.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let (host, port) = host_port(&uri).ok_or_else(|| ConnectFailure {
                target: uri.to_string(),
                message: "the URL has no host".into(),
            })?;
            let target = format!("{host}:{port}");
            let work = async {
                match &proxy {
                    None => dial(&host, port, &target).await,
                    Some(proxy) => tunnel(proxy, &host, port).await,
                }
            };
            match timeout {
                Some(limit) => {
                    tokio::time::timeout(limit, work)
                        .await
                        .map_err(|_| ConnectFailure {
                            target: target.clone(),
                            message: format!("timed out after {limit:?}"),
                        })?
                }
                None => work.await,
            }
            .map(TokioIo::new)
        })
    }
}

/// The host (without IPv6 brackets) and port of a URL, with the scheme's default port.
pub(crate) fn host_port(uri: &Uri) -> Option<(String, u16)> {
    let host = uri
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    Some((host, port))
}

async fn dial(host: &str, port: u16, target: &str) -> Result<TcpStream, ConnectFailure> {
    let stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| ConnectFailure {
            target: target.to_string(),
            message: e.to_string(),
        })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Opens a CONNECT tunnel to `host:port` through `proxy`.
async fn tunnel(proxy: &Proxy, host: &str, port: u16) -> Result<TcpStream, ConnectFailure> {
    let proxy_target = format!("{}:{}", proxy.host, proxy.port);
    let fail = |message: String| ConnectFailure {
        target: format!("proxy {proxy_target}"),
        message,
    };
    let mut stream = dial(&proxy.host, proxy.port, &proxy_target)
        .await
        .map_err(|e| fail(e.message))?;
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some((user, password)) = &proxy.credentials {
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{user}:{}", password.expose()));
        request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| fail(format!("sending CONNECT failed: {e}")))?;

    // Read the proxy's answer head byte by byte so no tunnelled bytes are consumed.
    let mut head = Vec::with_capacity(128);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(fail("the CONNECT answer is too long".into()));
        }
        let byte = stream
            .read_u8()
            .await
            .map_err(|e| fail(format!("reading the CONNECT answer failed: {e}")))?;
        head.push(byte);
    }
    let status_line = String::from_utf8_lossy(&head);
    let status_line = status_line.lines().next().unwrap_or_default();
    let code = status_line.split_whitespace().nth(1).unwrap_or_default();
    if !code.starts_with('2') {
        return Err(fail(format!(
            "the proxy refused CONNECT {authority}: {status_line}"
        )));
    }
    Ok(stream)
}
