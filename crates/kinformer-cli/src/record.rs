//! `kinformer record`: a loopback proxy in front of the cluster the connection flags name
//! (kubeconfig and context, or `--server`), writing every exchange to a recording (format 2 of
//! docs/fixtures.md). Upstream it authenticates as the kubeconfig user: CA,
//! `tls-server-name`, `insecure-skip-tls-verify`, client certificate, impersonation headers,
//! and a token, token file or exec plugin (its token or client certificate) through
//! kinformer-client's [`Credentials`]. Not supported: a kubeconfig `proxy-url` (refused).

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use http::HeaderValue;
use kinformer::client::{Auth, Config, Credentials};
use kinformer_replay::recorder::{self, TokenError, TokenSource};
use kinformer_replay::RecorderConfig;

use crate::error::{Error, Result};
use crate::global::ConnectionArgs;

/// The environment variable read for a token when `--token` is not given.
const TOKEN_VARIABLE: &str = "KINFORMER_RECORD_TOKEN";

/// `kinformer record` flags.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The recording to write (truncated first).
    #[arg(long)]
    pub out: PathBuf,
    /// The cluster to forward to.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// CA certificate (PEM) to trust for an https server, instead of the kubeconfig's.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Port to listen on (0 picks a free one; the first output line names it).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// Runs the recorder until SIGINT or SIGTERM; returns the exit code after reporting an error
/// as one line, like the client subcommands.
pub async fn run(args: RecordArgs) -> i32 {
    match record(args).await {
        Ok(()) => 0,
        Err(error) => {
            crate::commands::report(&error, 0);
            1
        }
    }
}

async fn record(args: RecordArgs) -> Result<()> {
    let config = recorder_config(&args)?;
    let proxy = recorder::start(config)
        .await
        .map_err(|e| Error::RecordFailed(Box::new(e)))?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", proxy.url())?;
    stdout.flush()?;
    let waited = crate::wait_for_signal().await;
    proxy.shutdown().await;
    waited.map_err(Error::SignalFailed)
}

/// The recorder settings the flags describe.
pub fn recorder_config(args: &RecordArgs) -> Result<RecorderConfig> {
    let mut connection = args.connection.clone();
    if connection.token.is_none() {
        connection.token = std::env::var(TOKEN_VARIABLE).ok().filter(|t| !t.is_empty());
    }
    let mut config = connection.config(None)?;
    if let Some(path) = &args.ca_file {
        let pem = std::fs::read(path).map_err(|source| Error::ReadFailed {
            path: path.clone(),
            source,
        })?;
        config.root_certificates = Some(pem);
    }
    Ok(from_client_config(&config, &args.out)?.port(args.port))
}

/// Recorder settings that reach the server `config` describes, as `config`'s user.
pub fn from_client_config(config: &Config, out: &Path) -> Result<RecorderConfig> {
    if config.proxy_url.is_some() {
        return Err(Error::RecordUnsupported(
            "the kubeconfig cluster has a proxy-url",
        ));
    }
    let mut recorder = RecorderConfig::new(&config.cluster_url.to_string(), out)
        .map_err(|e| Error::RecordFailed(Box::new(e)))?
        .insecure_skip_tls_verify(config.accept_invalid_certs);
    if let Some(pem) = &config.root_certificates {
        recorder = recorder.ca_pem(String::from_utf8_lossy(pem).into_owned());
    }
    if let Some(name) = &config.tls_server_name {
        recorder = recorder.tls_server_name(name.clone());
    }
    if let Some(identity) = &config.client_certificate {
        recorder = recorder.client_identity(
            String::from_utf8_lossy(&identity.certificate_pem).into_owned(),
            String::from_utf8_lossy(identity.key_pem.expose()).into_owned(),
        );
    }
    if let Some(impersonate) = &config.impersonate {
        let headers = impersonate
            .headers()
            .map_err(|e| Error::ConfigFailed(Box::new(e)))?;
        for (name, value) in &headers {
            recorder = recorder.upstream_header(name.clone(), value.clone());
        }
    }
    if !matches!(config.auth, Auth::None) {
        let credentials =
            Credentials::from_config(config).map_err(|e| Error::ConfigFailed(Box::new(e)))?;
        if config.client_certificate.is_none() {
            // An exec plugin may answer with a certificate instead of (or beside) a token.
            recorder =
                recorder.client_certificate_resolver(credentials.client_certificate_resolver());
        }
        recorder = recorder.token_source(Arc::new(ClientCredentials(credentials)));
    }
    Ok(recorder)
}

/// kinformer-client's credentials (token, token file, basic auth, exec plugin) as the
/// recorder's token source.
struct ClientCredentials(Credentials);

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl TokenSource for ClientCredentials {
    fn authorization(&self) -> Boxed<'_, Result<Option<HeaderValue>, TokenError>> {
        Box::pin(async move {
            self.0
                .authorization()
                .await
                .map_err(|e| Box::new(e) as TokenError)
        })
    }

    fn refresh_after_unauthorized(&self) -> Boxed<'_, bool> {
        Box::pin(self.0.refresh_after_unauthorized())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(dir: &Path, user: &str) -> PathBuf {
        let path = dir.join("config");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9/prefix\n    tls-server-name: api.internal\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\nusers:\n- name: u\n  user:\n{user}"
            ),
        )
        .unwrap();
        path
    }

    fn args(path: PathBuf) -> RecordArgs {
        RecordArgs {
            out: "/tmp/unused.txt".into(),
            connection: ConnectionArgs {
                kubeconfig: Some(path),
                ..ConnectionArgs::default()
            },
            ca_file: None,
            port: 0,
        }
    }

    #[test]
    fn the_kubeconfig_cluster_and_token_become_the_recorder_settings_without_leaking() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "    token: very-secret-token\n");
        let config = recorder_config(&args(path)).unwrap();
        let debug = format!("{config:?}");
        assert!(debug.contains("https://127.0.0.1:9/prefix"), "{debug}");
        assert!(debug.contains("api.internal"), "{debug}");
        assert!(debug.contains("token: Some(\"<redacted>\")"), "{debug}");
        assert!(!debug.contains("very-secret-token"), "{debug}");
    }

    #[test]
    fn impersonation_becomes_upstream_headers() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "    as: jane\n    as-groups: [dev]\n");
        let debug = format!("{:?}", recorder_config(&args(path)).unwrap());
        assert!(
            debug.contains("headers: [\"impersonate-user\", \"impersonate-group\"]"),
            "{debug}"
        );
    }

    #[test]
    fn a_kubeconfig_proxy_url_is_refused_rather_than_bypassed() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "    {}\n");
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "    tls-server-name: api.internal\n",
            "    proxy-url: http://127.0.0.1:3128\n",
        );
        std::fs::write(&path, text).unwrap();
        let error = recorder_config(&args(path)).unwrap_err();
        assert!(error.to_string().contains("proxy-url"), "{error}");
    }

    #[test]
    fn an_unreadable_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut args = args(kubeconfig(dir.path(), "    {}\n"));
        args.ca_file = Some("/nonexistent/ca.crt".into());
        let error = recorder_config(&args).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/ca.crt"), "{error}");
    }
}
