//! The flags every client subcommand takes, as kubectl spells them, and how they become a
//! [`Client`]: the connection flags ([`ConnectionArgs`], also taken by `record`):
//! `--kubeconfig` (else `$KUBECONFIG`, else `~/.kube/config`), `--context`, `--server`,
//! `--token`, `--insecure-skip-tls-verify`; and `-n/--namespace`, `-A/--all-namespaces`, `-v`.

use std::path::PathBuf;

use kinformer::client::discovery::DiscoveredResource;
use kinformer::client::{
    Auth, Client, Config, DiscoveryClient, Kubeconfig, KubeconfigOptions, Redacted, RestMapper,
};

use crate::error::{Error, Result};

/// How to reach the API server: the kubeconfig (and context) or `--server`, with overrides.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ConnectionArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of its current-context.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The API server URL (overrides the kubeconfig's; no kubeconfig is needed with it).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// A bearer token for the API server.
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Do not verify the server's certificate (insecure).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

/// Connection and scope flags shared by `get`, `watch`, `apply`, `delete` and `api-resources`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct GlobalArgs {
    /// How to reach the server.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The namespace to work in (default: the context's, else `default`).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Work across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Verbosity: `-v` (or `-v=N`) prints the causes of errors and the client's logs.
    #[arg(
        short = 'v',
        long = "v",
        value_name = "LEVEL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "1"
    )]
    pub verbosity: Option<u8>,
}

/// A connected client, with what discovery found.
pub struct Session {
    /// The client.
    pub client: Client,
    /// The namespace commands use when they work in one.
    pub namespace: String,
    /// True with `-A`.
    pub all_namespaces: bool,
}

impl ConnectionArgs {
    /// The client configuration the flags describe, with `namespace` overriding the
    /// context's.
    pub fn config(&self, namespace: Option<&str>) -> Result<Config> {
        let options = KubeconfigOptions {
            context: self.context.clone(),
            namespace: namespace.map(str::to_owned),
            ..KubeconfigOptions::default()
        };
        let server = match &self.server {
            Some(url) => Some(parse_server(url)?),
            None => None,
        };
        let kubeconfig = match &self.kubeconfig {
            Some(path) => {
                Some(Kubeconfig::read_from(path).map_err(|e| Error::ConfigFailed(Box::new(e)))?)
            }
            // With --server alone no kubeconfig is read: the flags say everything.
            None if server.is_some() && self.context.is_none() => None,
            None => Kubeconfig::read()
                .map_err(|e| Error::ConfigFailed(Box::new(e)))?
                .filter(|k| !k.is_empty()),
        };
        let mut config = match (kubeconfig, &server) {
            (Some(kubeconfig), _) => Config::from_kubeconfig(&kubeconfig, &options)
                .map_err(|e| Error::ConfigFailed(Box::new(e)))?,
            (None, Some(url)) => Config::new(url.clone()),
            (None, None) => {
                if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
                    Config::incluster().map_err(|e| Error::ConfigFailed(Box::new(e)))?
                } else {
                    return Err(Error::ConfigFailed(Box::new(
                        kinformer::client::Error::ConfigNotFound(
                            "no --server, no kubeconfig ($KUBECONFIG or ~/.kube/config) and \
                             not in a cluster"
                                .into(),
                        ),
                    )));
                }
            }
        };
        if let Some(url) = server {
            config.cluster_url = url;
        }
        if let Some(token) = &self.token {
            config.auth = Auth::Bearer(Redacted::new(token.clone()));
        }
        if self.insecure_skip_tls_verify {
            config.accept_invalid_certs = true;
        }
        if let Some(namespace) = namespace {
            config.default_namespace = namespace.to_owned();
        }
        Ok(config)
    }
}

impl GlobalArgs {
    /// The client configuration the flags describe.
    pub fn config(&self) -> Result<Config> {
        self.connection.config(self.namespace.as_deref())
    }

    /// A client for the configured server.
    pub fn connect(&self) -> Result<Session> {
        let config = self.config()?;
        let namespace = config.default_namespace.clone();
        let client = Client::try_from(config).map_err(|e| Error::ConfigFailed(Box::new(e)))?;
        Ok(Session {
            client,
            namespace,
            all_namespaces: self.all_namespaces,
        })
    }
}

impl Session {
    /// The REST mapper from the server's discovery documents.
    pub async fn mapper(&self) -> Result<RestMapper> {
        RestMapper::from_discovery(&DiscoveryClient::new(self.client.clone()))
            .await
            .map_err(|e| Error::DiscoveryFailed(Box::new(e)))
    }

    /// Resolves a resource argument (`po`, `pods`, `Pod`, `deployments.apps`).
    pub async fn resolve(&self, argument: &str) -> Result<DiscoveredResource> {
        let mapper = self.mapper().await?;
        mapper
            .discovered_for(argument)
            .cloned()
            .map_err(|_| Error::UnknownResource {
                name: argument.to_owned(),
            })
    }

    /// The namespace a namespaced resource is addressed in; `None` across all namespaces.
    pub fn scope(&self, resource: &DiscoveredResource) -> Option<&str> {
        (resource.namespaced && !self.all_namespaces).then_some(self.namespace.as_str())
    }
}

/// `--server` as a URI with a scheme and host.
fn parse_server(url: &str) -> Result<http::Uri> {
    let invalid = |reason: &str| Error::InvalidServer {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: http::Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err(invalid("the URL must start with http:// or https://")),
    }
    if uri.host().is_none() {
        return Err(invalid("the URL has no host"));
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_flag_alone_needs_no_kubeconfig() {
        let args = GlobalArgs {
            connection: ConnectionArgs {
                server: Some("http://127.0.0.1:1".into()),
                token: Some("secret".into()),
                ..ConnectionArgs::default()
            },
            namespace: Some("shop".into()),
            ..GlobalArgs::default()
        };
        let config = args.config().unwrap();
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:1/");
        assert_eq!(config.default_namespace, "shop");
        assert!(matches!(config.auth, Auth::Bearer(_)));
    }

    #[test]
    fn server_flag_without_a_scheme_is_refused() {
        let args = GlobalArgs {
            connection: ConnectionArgs {
                server: Some("127.0.0.1:6443".into()),
                ..ConnectionArgs::default()
            },
            ..GlobalArgs::default()
        };
        assert!(matches!(args.config(), Err(Error::InvalidServer { .. })));
    }

    #[test]
    fn kubeconfig_flag_is_read_and_its_namespace_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:9\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n    namespace: payments\ncurrent-context: x\nusers:\n- name: u\n  user: {}\n",
        )
        .unwrap();
        let args = GlobalArgs {
            connection: ConnectionArgs {
                kubeconfig: Some(path),
                ..ConnectionArgs::default()
            },
            ..GlobalArgs::default()
        };
        let config = args.config().unwrap();
        assert_eq!(config.default_namespace, "payments");
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:9/");
    }

    #[test]
    fn a_missing_kubeconfig_file_is_a_config_error() {
        let args = GlobalArgs {
            connection: ConnectionArgs {
                kubeconfig: Some("/nonexistent/kubeconfig".into()),
                ..ConnectionArgs::default()
            },
            ..GlobalArgs::default()
        };
        assert!(matches!(args.config(), Err(Error::ConfigFailed(_))));
    }
}
