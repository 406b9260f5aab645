//! Starting and stopping the fake API server: configuration, the loopback listener (plain or
//! TLS), the accept loop, restarts on the same port, and a generated kubeconfig.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};
use crate::faults::FaultSet;
use crate::handle::Handle;
use crate::recording::Recording;
use crate::registry::{resources_from_crd, Registry, ResourceInfo};
use crate::store::Store;
use crate::tls::{ClientIdentity, TlsMaterial};

/// A bearer token that never shows in Debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Token(token.into())
    }

    /// The token text (for building an `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How the server is set up; `Default` is plain HTTP on a free loopback port with the built-in
/// kinds, no auth, a 10 000-event history and 60 s bookmarks.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub(crate) port: u16,
    pub(crate) history_limit: usize,
    pub(crate) bookmark_interval: Duration,
    pub(crate) default_watch_timeout: Duration,
    pub(crate) too_large_wait: Duration,
    pub(crate) token: Option<Token>,
    pub(crate) tls: Option<TlsMaterial>,
    pub(crate) generate_tls: bool,
    pub(crate) client_cert_auth: bool,
    pub(crate) registry: Registry,
    pub(crate) objects: Vec<Value>,
    pub(crate) recording: Option<Arc<Recording>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: 0,
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(60),
            default_watch_timeout: Duration::from_secs(1800),
            too_large_wait: Duration::from_secs(3),
            token: None,
            tls: None,
            generate_tls: false,
            client_cert_auth: false,
            registry: Registry::builtin(),
            objects: Vec::new(),
            recording: None,
        }
    }
}

impl ServerConfig {
    /// Listen on this loopback port (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How many events the history keeps before compacting the oldest.
    pub fn history_limit(mut self, events: usize) -> Self {
        self.history_limit = events;
        self
    }

    /// How often a watch with `allowWatchBookmarks` gets a BOOKMARK.
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = interval;
        self
    }

    /// How long a watch without `timeoutSeconds` stays open.
    pub fn default_watch_timeout(mut self, timeout: Duration) -> Self {
        self.default_watch_timeout = timeout;
        self
    }

    /// How long a list at a future resourceVersion waits before its 504 (3 s, as observed).
    pub fn too_large_resource_version_wait(mut self, wait: Duration) -> Self {
        self.too_large_wait = wait;
        self
    }

    /// Require `Authorization: Bearer <token>` (or a valid client certificate).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token::new(token));
        self
    }

    /// Serve HTTPS with this material.
    pub fn tls(mut self, material: TlsMaterial) -> Self {
        self.tls = Some(material);
        self
    }

    /// Serve HTTPS with a CA and server certificate generated at start.
    pub fn generated_tls(mut self) -> Self {
        self.generate_tls = true;
        self
    }

    /// Require a client certificate signed by the CA (or the bearer token, when one is set).
    pub fn client_cert_auth(mut self, required: bool) -> Self {
        self.client_cert_auth = required;
        self
    }

    /// Serve an extra resource.
    pub fn resource(mut self, info: ResourceInfo) -> Self {
        self.registry.register(info);
        self
    }

    /// Serve the resources a CustomResourceDefinition object declares (the CRD object itself is
    /// not stored; create it through the handle for that).
    pub fn crd(mut self, crd: &Value) -> Self {
        for info in resources_from_crd(crd).unwrap_or_default() {
            self.registry.register(info);
        }
        self
    }

    /// Answer requests that a recording covers with the recorded response, verbatim; all
    /// other requests reach the live fake server.
    pub fn recording(mut self, recording: Recording) -> Self {
        self.recording = Some(Arc::new(recording));
        self
    }

    /// Load these objects at start (each needs `apiVersion`, `kind` and `metadata.name`).
    pub fn objects(mut self, objects: impl IntoIterator<Item = Value>) -> Self {
        self.objects.extend(objects);
        self
    }
}

/// Timing settings the handlers read.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub bookmark_interval: Duration,
    pub default_watch_timeout: Duration,
    pub too_large_wait: Duration,
}

/// State shared by the accept loop, every connection and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    store: Mutex<Store>,
    faults: Mutex<FaultSet>,
    /// The current resourceVersion, published after every write so watches wake up.
    pub changes: watch::Sender<u64>,
    pub settings: Settings,
    pub token: Option<Token>,
    pub client_cert_auth: bool,
    /// `host:port`, for `/api`'s serverAddressByClientCIDRs.
    pub address: Mutex<String>,
    /// Exchanges replayed verbatim.
    pub recording: Option<Arc<Recording>>,
}

impl Shared {
    /// The store, even if a panicking thread poisoned the lock.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The armed faults.
    pub fn faults(&self) -> MutexGuard<'_, FaultSet> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes watches after a write.
    pub fn notify(&self, resource_version: u64) {
        self.changes.send_replace(resource_version);
    }
}

/// The running server: its URL and credentials, a [`Handle`] to its state (also reachable
/// through `Deref`), and shutdown / restart.
pub struct RunningServer {
    handle: Handle,
    address: SocketAddr,
    tls: Option<TlsMaterial>,
    acceptor: Option<TlsAcceptor>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("url", &self.url())
            .finish()
    }
}

/// The fake Kubernetes API server.
///
/// ```no_run
/// # async fn demo() -> kinformer_replay::Result<()> {
/// use kinformer_replay::{FakeApiServer, ServerConfig};
/// let server = FakeApiServer::start(ServerConfig::default()).await?;
/// server.create(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
///     "metadata": {"name": "c", "namespace": "default"}}))?;
/// println!("{}", server.url());
/// server.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FakeApiServer;

impl FakeApiServer {
    /// Binds 127.0.0.1 (port 0 by default), loads the configured objects and starts serving.
    pub async fn start(config: ServerConfig) -> Result<RunningServer> {
        let tls = match (&config.tls, config.generate_tls) {
            (Some(material), _) => Some(material.clone()),
            (None, true) => Some(TlsMaterial::generate()?),
            (None, false) => None,
        };
        let acceptor = match &tls {
            Some(material) => Some(TlsAcceptor::from(Arc::new(
                material.server_config(config.client_cert_auth)?,
            ))),
            None => None,
        };
        let (changes, _) = watch::channel(1);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(config.registry.clone(), config.history_limit)),
            faults: Mutex::new(FaultSet::default()),
            changes,
            settings: Settings {
                bookmark_interval: config.bookmark_interval,
                default_watch_timeout: config.default_watch_timeout,
                too_large_wait: config.too_large_wait,
            },
            token: config.token.clone(),
            client_cert_auth: config.client_cert_auth,
            address: Mutex::new(String::new()),
            recording: config.recording.clone(),
        });
        let handle = Handle::new(shared);
        for object in config.objects {
            handle.create(object)?;
        }
        let listener = bind(config.port).await?;
        let address = listener.local_addr().map_err(|source| Error::BindFailed {
            address: format!("127.0.0.1:{}", config.port),
            source,
        })?;
        let (stop, _) = watch::channel(false);
        let mut server = RunningServer {
            handle,
            address,
            tls,
            acceptor,
            stop,
            task: None,
        };
        server.spawn(listener);
        Ok(server)
    }
}

async fn bind(port: u16) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| Error::BindFailed {
            address: format!("127.0.0.1:{port}"),
            source,
        })
}

impl RunningServer {
    fn spawn(&mut self, listener: TcpListener) {
        let shared = self.handle.shared().clone();
        if let Ok(mut address) = shared.address.lock() {
            *address = self.address.to_string();
        }
        let stop = self.stop.subscribe();
        self.task = Some(tokio::spawn(accept_loop(
            listener,
            shared,
            self.acceptor.clone(),
            stop,
        )));
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.address)
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A handle to the server's state (cheap to clone, usable from any task).
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// The CA certificate (PEM) when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(TlsMaterial::ca_pem)
    }

    /// The TLS material when serving HTTPS.
    pub fn tls(&self) -> Option<&TlsMaterial> {
        self.tls.as_ref()
    }

    /// The bearer token the server requires, if any.
    pub fn token(&self) -> Option<&Token> {
        self.handle.shared().token.as_ref()
    }

    /// A client certificate signed by the server's CA, for mTLS tests.
    pub fn mint_client_cert(&self, common_name: &str, groups: &[&str]) -> Result<ClientIdentity> {
        match &self.tls {
            Some(material) => material.mint_client_cert(common_name, groups),
            None => Err(Error::TlsFailed {
                message: "the server does not serve TLS".into(),
            }),
        }
    }

    /// A kubeconfig (YAML) pointing at this server, trusting its CA and carrying its token.
    pub fn kubeconfig(&self) -> String {
        let engine = base64::engine::general_purpose::STANDARD;
        let ca = self
            .ca_pem()
            .map(|pem| format!("\n    certificate-authority-data: {}", engine.encode(pem)))
            .unwrap_or_default();
        let user = match self.token() {
            Some(token) => format!("\n    token: {}", token.expose()),
            None => " {}".to_string(),
        };
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}{ca}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\ncurrent-context: fake\nusers:\n- name: fake\n  user:{user}\n",
            self.url()
        )
    }

    /// Stops accepting, closes every connection (ending open watches) and waits for the loop.
    pub async fn shutdown(mut self) {
        self.stop_serving().await;
    }

    async fn stop_serving(&mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.stop.send_replace(false);
    }

    /// Restarts on the same port: every connection is cut; with `keep_state` false all objects
    /// and the history are lost (the resourceVersion counter keeps counting, like etcd's).
    pub async fn restart(&mut self, keep_state: bool) -> Result<()> {
        self.stop_serving().await;
        if !keep_state {
            self.handle.shared().store().clear();
        }
        let listener = bind(self.address.port()).await?;
        self.spawn(listener);
        Ok(())
    }
}

impl Deref for RunningServer {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    acceptor: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = async { stop.wait_for(|stopped| *stopped).await.is_ok() } => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, shared.clone(), acceptor.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, acceptor: Option<TlsAcceptor>) {
    let _ = stream.set_nodelay(true);
    match acceptor {
        Some(acceptor) => {
            let handshake =
                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await;
            let Ok(Ok(tls_stream)) = handshake else {
                return;
            };
            let has_client_cert = tls_stream.get_ref().1.peer_certificates().is_some();
            serve_io(TokioIo::new(tls_stream), shared, has_client_cert).await;
        }
        None => serve_io(TokioIo::new(stream), shared, false).await,
    }
}

async fn serve_io<I>(io: I, shared: Arc<Shared>, has_client_cert: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(crate::router::handle(shared, request, has_client_cert).await) }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if let Err(error) = builder.serve_connection(io, service).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}
