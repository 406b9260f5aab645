//! Connection settings: [`Config`] from a URL, a kubeconfig ([`Kubeconfig`]), the in-cluster
//! service account, or [`Config::infer`] (kubeconfig first, then in-cluster, like client-go's
//! deferred loader).
//!
//! Reading order: `kubeconfig` (file format, loading, merging), `resolve` (kubeconfig to
//! `Config`, with validation), `incluster`.
//!
//! ```no_run
//! # async fn example() -> kinformer_client::Result<()> {
//! use kinformer_client::{Client, Config, Kubeconfig, KubeconfigOptions};
//!
//! // Like `kubectl --kubeconfig admin.conf --context prod -n kube-system`.
//! let kubeconfig = Kubeconfig::read_from("/etc/kubernetes/admin.conf")?;
//! let options = KubeconfigOptions {
//!     context: Some("prod".into()),
//!     namespace: Some("kube-system".into()),
//!     ..Default::default()
//! };
//! let client = Client::try_from(Config::from_kubeconfig(&kubeconfig, &options)?)?;
//!
//! // Or the default loader: $KUBECONFIG / ~/.kube/config, else the in-cluster account.
//! let client = Client::try_from(Config::infer().await?)?;
//! # let _ = client; Ok(()) }
//! ```

pub mod incluster;
pub mod kubeconfig;
mod resolve;

use std::fmt;
use std::time::Duration;

use crate::auth::{Auth, ClientCertificate, Impersonate};
use crate::error::{Error, Result};

pub use kubeconfig::{
    AuthInfo, Cluster, Context, ExecSection, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

/// The user agent sent by default.
pub const USER_AGENT: &str = concat!("kinformer/", env!("CARGO_PKG_VERSION"));

/// Overrides applied when turning a kubeconfig into a [`Config`], like kubectl's `--context`,
/// `--cluster`, `--user` and `--namespace`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeconfigOptions {
    /// Use this context instead of `current-context`.
    pub context: Option<String>,
    /// Use this cluster instead of the context's.
    pub cluster: Option<String>,
    /// Use this user instead of the context's.
    pub user: Option<String>,
    /// Use this namespace instead of the context's.
    pub namespace: Option<String>,
}

/// Client-side rate limit: a token bucket of `burst` tokens refilled at `qps` per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub qps: f64,
    /// Requests allowed at once before waiting.
    pub burst: u32,
}

/// Everything needed to talk to one API server.
#[derive(Clone)]
pub struct Config {
    /// The API server URL (a path, if any, prefixes every request path).
    pub cluster_url: http::Uri,
    /// The namespace used when a call names none.
    pub default_namespace: String,
    /// PEM CA bundle to trust; `None` trusts the built-in (webpki) roots.
    pub root_certificates: Option<Vec<u8>>,
    /// Skip server certificate verification (only when the kubeconfig says so).
    pub accept_invalid_certs: bool,
    /// Verify the server certificate against this name instead of the URL's host.
    pub tls_server_name: Option<String>,
    /// A client certificate for mutual TLS.
    pub client_certificate: Option<ClientCertificate>,
    /// Request credentials.
    pub auth: Auth,
    /// Impersonation settings.
    pub impersonate: Option<Impersonate>,
    /// An `http://` proxy to tunnel through; `None` consults `HTTPS_PROXY`/`NO_PROXY` when
    /// `use_env_proxy` is set.
    pub proxy_url: Option<http::Uri>,
    /// Whether `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` apply when `proxy_url` is `None`.
    pub use_env_proxy: bool,
    /// Do not ask for gzip-compressed responses.
    pub disable_compression: bool,
    /// Limit on opening a TCP connection (and proxy tunnel).
    pub connect_timeout: Option<Duration>,
    /// Limit on a whole ordinary request, body included. Watches have none.
    pub request_timeout: Option<Duration>,
    /// A watch stream that receives nothing for this long fails with `WatchIdleTimeout`.
    pub watch_idle_timeout: Option<Duration>,
    /// Client-side rate limit for ordinary requests (watches are exempt); `None` is off.
    pub rate_limit: Option<RateLimit>,
    /// How many times a request is retried after 429/5xx with `Retry-After` (or, for GETs, a
    /// connection reset).
    pub max_retries: u32,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How long an exec credential plugin may run before it is killed; `None` waits forever
    /// (client-go's behaviour). Default [`DEFAULT_EXEC_TIMEOUT`](crate::auth::exec::DEFAULT_EXEC_TIMEOUT).
    pub exec_timeout: Option<Duration>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("cluster_url", &self.cluster_url)
            .field("default_namespace", &self.default_namespace)
            .field(
                "root_certificates",
                &self.root_certificates.as_ref().map(|c| c.len()),
            )
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("tls_server_name", &self.tls_server_name)
            .field("client_certificate", &self.client_certificate.is_some())
            .field("auth", &self.auth)
            .field("impersonate", &self.impersonate)
            .field("proxy_url", &self.proxy_url.as_ref().map(strip_userinfo))
            .field("use_env_proxy", &self.use_env_proxy)
            .field("disable_compression", &self.disable_compression)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("watch_idle_timeout", &self.watch_idle_timeout)
            .field("rate_limit", &self.rate_limit)
            .field("max_retries", &self.max_retries)
            .field("user_agent", &self.user_agent)
            .field("exec_timeout", &self.exec_timeout)
            .finish()
    }
}

/// A proxy URL for display, without any `user:password@`.
pub(crate) fn strip_userinfo(uri: &http::Uri) -> String {
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{}://{}", uri.scheme_str().unwrap_or("http"), host)
}

impl Config {
    /// A configuration for a plain URL: no credentials, TLS verified against the built-in
    /// roots for `https`, namespace `default`.
    pub fn new(cluster_url: http::Uri) -> Config {
        Config {
            cluster_url,
            default_namespace: "default".into(),
            root_certificates: None,
            accept_invalid_certs: false,
            tls_server_name: None,
            client_certificate: None,
            auth: Auth::None,
            impersonate: None,
            proxy_url: None,
            use_env_proxy: true,
            disable_compression: false,
            connect_timeout: Some(Duration::from_secs(30)),
            request_timeout: Some(Duration::from_secs(295)),
            watch_idle_timeout: Some(Duration::from_secs(15 * 60)),
            rate_limit: None,
            max_retries: 5,
            user_agent: USER_AGENT.into(),
            exec_timeout: Some(crate::auth::exec::DEFAULT_EXEC_TIMEOUT),
        }
    }

    /// The default loader: the kubeconfig (`$KUBECONFIG` or `~/.kube/config`) when one exists,
    /// else the in-cluster service account.
    pub async fn infer() -> Result<Config> {
        match Kubeconfig::read()? {
            Some(kubeconfig) if !kubeconfig.is_empty() => {
                Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default())
            }
            // Like client-go: in-cluster only when the service environment says so; then
            // its errors (a missing mount) are reported as they are.
            _ if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => Config::incluster(),
            _ => Err(Error::ConfigNotFound(
                "no kubeconfig ($KUBECONFIG or ~/.kube/config) and not in a cluster \
                 (KUBERNETES_SERVICE_HOST is not set)"
                    .into(),
            )),
        }
    }

    /// A configuration from a loaded kubeconfig, with kubectl-style overrides. Errors name the
    /// file, entry and field that are wrong.
    pub fn from_kubeconfig(kubeconfig: &Kubeconfig, options: &KubeconfigOptions) -> Result<Config> {
        resolve::config_from_kubeconfig(kubeconfig, options)
    }

    /// Loads the kubeconfig with the default rules and applies `options`.
    pub async fn from_default_kubeconfig(options: &KubeconfigOptions) -> Result<Config> {
        match Kubeconfig::read()? {
            Some(kubeconfig) => Config::from_kubeconfig(&kubeconfig, options),
            None => Err(Error::ConfigNotFound(
                "no kubeconfig ($KUBECONFIG or ~/.kube/config)".into(),
            )),
        }
    }

    /// The in-cluster configuration from `KUBERNETES_SERVICE_HOST`/`PORT` and the mounted
    /// service account.
    pub fn incluster() -> Result<Config> {
        incluster::from_env()
    }

    /// Sets the default namespace.
    pub fn with_default_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.default_namespace = namespace.into();
        self
    }

    /// Sets the credentials.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the PEM CA bundle to trust.
    pub fn with_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates = Some(pem.into());
        self
    }

    /// Sets the client-side rate limit for ordinary requests.
    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Sets the request timeout.
    pub fn with_request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the watch idle timeout.
    pub fn with_watch_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.watch_idle_timeout = timeout;
        self
    }

    /// Sets how long an exec credential plugin may run (`None`: no limit).
    pub fn with_exec_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.exec_timeout = timeout;
        self
    }

    /// Sets the maximum number of retries.
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }
}
