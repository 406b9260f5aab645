//! [`Client`]: one API server, with authentication, rate limiting, retries, timeouts and
//! error decoding applied to every request.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::Full;
use kinformer_meta::Status;
use tokio::time::Instant;

use crate::auth::{Authenticator, ClientCertSlot};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::transport::rate_limit::TokenBucket;
use crate::transport::warning::Warnings;
use crate::transport::{self, Body, HttpClient};

/// How much of a non-Status error body is kept in `Error::Http`.
const ERROR_BODY_LIMIT: usize = 1024;
/// The longest `Retry-After` honoured; longer waits are cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A handle to one API server; cheap to clone (clones share connections and credentials).
///
/// ```no_run
/// # async fn example() -> kinformer_client::Result<()> {
/// use kinformer_client::{Client, Config};
/// let client = Client::try_from(Config::infer().await?)?;
/// let request = http::Request::get("/api/v1/namespaces/default/pods?limit=5").body(bytes::Bytes::new()).unwrap();
/// let body = client.send(request).await?.into_body().bytes().await?;
/// # let _ = body; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// The pooled connections and the client-certificate generation they were made with.
    http: RwLock<(u64, HttpClient)>,
    /// Kept to rebuild the connection pool when an exec plugin rotates the certificate.
    config: Config,
    certs: Arc<ClientCertSlot>,
    cluster_url: Uri,
    /// The URL's path without a trailing slash, prefixed to every request path.
    base_path: String,
    server: String,
    default_namespace: String,
    auth: Authenticator,
    extra_headers: http::HeaderMap,
    user_agent: HeaderValue,
    disable_compression: bool,
    rate_limiter: Option<TokenBucket>,
    request_timeout: Option<Duration>,
    watch_idle_timeout: Option<Duration>,
    max_retries: u32,
    warnings: Warnings,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("cluster_url", &self.inner.cluster_url)
            .field("default_namespace", &self.inner.default_namespace)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

impl TryFrom<Config> for Client {
    type Error = Error;

    fn try_from(config: Config) -> Result<Client> {
        let certs = Arc::new(ClientCertSlot::default());
        if let Some(identity) = &config.client_certificate {
            certs.set(crate::auth::certified_key(
                &identity.certificate_pem,
                identity.key_pem.expose(),
            )?);
        }
        let http = transport::http_client(&config, certs.clone())?;
        let auth = Authenticator::new(&config.auth, certs.clone(), config.exec_timeout)?;
        let extra_headers = match &config.impersonate {
            Some(imp) => imp.headers()?,
            None => Default::default(),
        };
        let user_agent = HeaderValue::from_str(&config.user_agent).map_err(|_| {
            Error::InvalidRequest(format!(
                "user agent {:?} is not a valid header",
                config.user_agent
            ))
        })?;
        let base_path = config.cluster_url.path().trim_end_matches('/').to_string();
        let server = format!(
            "{}://{}",
            config.cluster_url.scheme_str().unwrap_or("https"),
            config.cluster_url.authority().map_or("", |a| a.as_str())
        );
        Ok(Client {
            inner: Arc::new(Inner {
                http: RwLock::new((certs.generation(), http)),
                certs,
                cluster_url: config.cluster_url.clone(),
                base_path,
                server,
                default_namespace: config.default_namespace.clone(),
                auth,
                extra_headers,
                user_agent,
                disable_compression: config.disable_compression,
                rate_limiter: config.rate_limit.map(TokenBucket::new),
                request_timeout: config.request_timeout,
                watch_idle_timeout: config.watch_idle_timeout,
                max_retries: config.max_retries,
                warnings: Warnings::default(),
                config,
            }),
        })
    }
}

impl Client {
    /// The namespace used when a call names none.
    pub fn default_namespace(&self) -> &str {
        &self.inner.default_namespace
    }

    /// The API server URL.
    pub fn cluster_url(&self) -> &Uri {
        &self.inner.cluster_url
    }

    /// The most recent `Warning` headers the server sent (at most 64, oldest first).
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings.snapshot()
    }

    /// Sends an ordinary request. `request.uri()` holds the path and query relative to the
    /// server URL (`/api/v1/pods?limit=5`).
    ///
    /// Applies credentials, the user agent, the rate limit, the request timeout (body
    /// included) and retries (429/5xx with `Retry-After`, and connection resets for GETs, up
    /// to `max_retries`); decodes gzip. A non-2xx answer is `Error::Api` when the body is a
    /// Status, else `Error::Http`.
    pub async fn send(&self, request: Request<Bytes>) -> Result<Response<Body>> {
        self.execute(request, false).await
    }

    /// Sends a watch (or other long-running) request: like [`send`](Self::send) but with no
    /// request timeout (the body fails with `WatchIdleTimeout` after the idle timeout
    /// instead), no retries and no rate limit.
    pub async fn send_watch(&self, request: Request<Bytes>) -> Result<Response<Body>> {
        self.execute(request, true).await
    }

    async fn execute(&self, request: Request<Bytes>, watch: bool) -> Result<Response<Body>> {
        let inner = &*self.inner;
        let (parts, body) = request.into_parts();
        let uri = self.full_uri(&parts.uri)?;
        let mut attempt = 0u32;
        let mut reauthenticated = false;
        loop {
            if !watch {
                if let Some(limiter) = &inner.rate_limiter {
                    limiter.acquire().await;
                }
            }
            let started = Instant::now();
            let mut builder = Request::builder()
                .method(parts.method.clone())
                .uri(uri.clone());
            if let Some(headers) = builder.headers_mut() {
                headers.extend(parts.headers.clone());
                for (name, value) in &inner.extra_headers {
                    headers.append(name, value.clone());
                }
                headers
                    .entry(header::USER_AGENT)
                    .or_insert_with(|| inner.user_agent.clone());
                if !inner.disable_compression {
                    headers
                        .entry(header::ACCEPT_ENCODING)
                        .or_insert_with(|| HeaderValue::from_static("gzip"));
                }
                if !headers.contains_key(header::AUTHORIZATION) {
                    if let Some(value) = inner.auth.authorization().await? {
                        headers.insert(header::AUTHORIZATION, value);
                    }
                }
            }
            let hyper_request = builder
                .body(Full::new(body.clone()))
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;

            let sent = self.http()?.request(hyper_request);
            // The wait for the response head is bounded for watches too: a server that accepts
            // a watch and never answers would otherwise hold the caller for ever, since a
            // watch's idle timeout only starts once there is a body.
            let result = match inner.request_timeout {
                Some(limit) => match tokio::time::timeout(limit, sent).await {
                    Ok(result) => result,
                    Err(_) => return Err(Error::RequestTimeout(limit)),
                },
                None => sent.await,
            };
            let response = match result {
                Ok(response) => response,
                Err(error) => {
                    let error = self.classify(error);
                    let retryable =
                        !watch && parts.method == Method::GET && is_connection_reset(&error);
                    if retryable && attempt < inner.max_retries {
                        attempt += 1;
                        let backoff = Duration::from_millis(100 << attempt.min(6));
                        tracing::debug!(%error, attempt, "connection reset on GET; retrying");
                        tokio::time::sleep(backoff).await;
                        continue;
                    }
                    return Err(error);
                }
            };
            inner.warnings.record(response.headers());
            let status = response.status();

            if status == StatusCode::UNAUTHORIZED
                && !reauthenticated
                && inner.auth.refresh_after_unauthorized().await
            {
                reauthenticated = true;
                tracing::debug!("401 from the server; retrying once with refreshed credentials");
                continue;
            }
            if !watch && attempt < inner.max_retries && is_retryable_status(status) {
                if let Some(wait) = retry_after(response.headers()) {
                    attempt += 1;
                    tracing::debug!(%status, ?wait, attempt, "server asked to retry later");
                    tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
                    continue;
                }
            }

            let (mut head, incoming) = response.into_parts();
            let gzip = head
                .headers
                .get(header::CONTENT_ENCODING)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
            let mut body = Body::incoming(incoming);
            if gzip {
                head.headers.remove(header::CONTENT_ENCODING);
                head.headers.remove(header::CONTENT_LENGTH);
                body = body.gunzip();
            }
            body = match (watch, inner.request_timeout, inner.watch_idle_timeout) {
                (false, Some(limit), _) => body.with_deadline(started + limit, limit),
                (true, _, Some(idle)) => body.with_idle_timeout(idle),
                _ => body,
            };
            if status.is_success() {
                return Ok(Response::from_parts(head, body));
            }
            return Err(error_from_body(status, body).await);
        }
    }

    /// The connection pool; rebuilt (dropping old connections once idle) when the client
    /// certificate changed since it was built, so new handshakes present the new one.
    fn http(&self) -> Result<HttpClient> {
        let inner = &*self.inner;
        let generation = inner.certs.generation();
        {
            let current = inner.http.read().unwrap_or_else(|p| p.into_inner());
            if current.0 == generation {
                return Ok(current.1.clone());
            }
        }
        let fresh = transport::http_client(&inner.config, inner.certs.clone())?;
        let mut current = inner.http.write().unwrap_or_else(|p| p.into_inner());
        *current = (generation, fresh.clone());
        tracing::debug!("client certificate changed; new connections will present it");
        Ok(fresh)
    }

    /// The absolute URL for a request URI that holds a path and query.
    fn full_uri(&self, relative: &Uri) -> Result<Uri> {
        let path_and_query = relative.path_and_query().map_or("/", |p| p.as_str());
        let path_and_query = if path_and_query.starts_with('/') {
            path_and_query.to_string()
        } else {
            format!("/{path_and_query}")
        };
        let mut parts = self.inner.cluster_url.clone().into_parts();
        parts.path_and_query = Some(
            format!("{}{}", self.inner.base_path, path_and_query)
                .parse()
                .map_err(|e| {
                    Error::InvalidRequest(format!("bad request path {path_and_query:?}: {e}"))
                })?,
        );
        Uri::from_parts(parts).map_err(|e| Error::InvalidRequest(e.to_string()))
    }

    /// Turns a hyper-util error into `Connect`, `Tls` or `Request`.
    fn classify(&self, error: hyper_util::client::legacy::Error) -> Error {
        let server = self.inner.server.clone();
        if let Some(tls) = find_in_chain::<rustls::Error>(&error) {
            let reason = tls.to_string();
            return Error::Tls {
                server,
                reason,
                source: Box::new(error),
            };
        }
        if let Some(failure) = find_in_chain::<transport::ConnectFailure>(&error) {
            let (target, reason) = (failure.target.clone(), failure.message.clone());
            return Error::Connect {
                server: target,
                reason,
                source: Box::new(error),
            };
        }
        let reason = deepest_message(&error);
        if error.is_connect() {
            return Error::Connect {
                server,
                reason,
                source: Box::new(error),
            };
        }
        Error::Request {
            server,
            reason,
            source: Box::new(error),
        }
    }
}

/// Reads a failure body: a Status becomes `Error::Api`, anything else `Error::Http`.
async fn error_from_body(status: StatusCode, body: Body) -> Error {
    let bytes = match body.bytes().await {
        Ok(bytes) => bytes,
        Err(error) => return error,
    };
    if let Ok(mut decoded) = serde_json::from_slice::<Status>(&bytes) {
        if decoded.kind == "Status" {
            if decoded.code == 0 {
                decoded.code = status.as_u16();
            }
            return Error::Api(Box::new(decoded));
        }
    }
    let mut end = bytes.len().min(ERROR_BODY_LIMIT);
    let text = loop {
        match std::str::from_utf8(&bytes[..end]) {
            Ok(text) => break text.to_string(),
            Err(e) if e.valid_up_to() > 0 && end - e.valid_up_to() < 4 => end = e.valid_up_to(),
            Err(_) => break String::from_utf8_lossy(&bytes[..end]).into_owned(),
        }
    };
    Error::Http {
        code: status.as_u16(),
        body: text,
    }
}

fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// `Retry-After` in seconds (HTTP dates are not used by the API server).
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn is_connection_reset(error: &Error) -> bool {
    let Error::Request { source, .. } = error else {
        return false;
    };
    if let Some(hyper_error) = find_in_chain::<hyper::Error>(source.as_ref()) {
        if hyper_error.is_incomplete_message() || hyper_error.is_canceled() {
            return true;
        }
    }
    find_in_chain::<std::io::Error>(source.as_ref()).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        )
    })
}

/// The first error of type `T` in `error`'s source chain, looking inside `io::Error`s too
/// (their `source()` skips the wrapped error).
fn find_in_chain<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = find_in_chain::<T>(inner) {
                    return Some(found);
                }
            }
        }
        current = e.source();
    }
    None
}

fn deepest_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        message = e.to_string();
        current = e.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_status_body_becomes_an_api_error_and_other_bodies_an_http_error() {
        let status = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"pods \"x\" not found"}"#;
        let err = error_from_body(StatusCode::NOT_FOUND, Body::from(status)).await;
        assert!(err.is_not_found(), "{err}");
        let err = error_from_body(StatusCode::BAD_GATEWAY, Body::from("x".repeat(5000))).await;
        match err {
            Error::Http { code, body } => {
                assert_eq!(code, 502);
                assert_eq!(body.len(), ERROR_BODY_LIMIT);
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
    }

    #[test]
    fn request_paths_are_joined_to_the_server_path() {
        let config = Config::new("https://h:6443/k8s/clusters/c1/".parse().unwrap());
        let client = Client::try_from(config).unwrap();
        let uri = client
            .full_uri(&"/api/v1/pods?limit=5".parse().unwrap())
            .unwrap();
        assert_eq!(uri, "https://h:6443/k8s/clusters/c1/api/v1/pods?limit=5");
    }
}
