//! Exec credential plugins (`client.authentication.k8s.io/v1` and `v1beta1`): run a command,
//! read an `ExecCredential` from its stdout, cache it until `expirationTimestamp`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::{ClientCertSlot, Redacted};
use crate::error::{Error, Result};

/// The plugin API versions this client speaks.
pub const EXEC_API_VERSIONS: [&str; 2] = [
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];

/// How long a plugin may run before it is killed, unless the [`Config`](crate::Config) says
/// otherwise. client-go waits forever; a hung plugin would then block every request.
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// How to run an exec credential plugin (a kubeconfig user's `exec` section).
#[derive(Clone, Debug, Default)]
pub struct ExecConfig {
    /// `client.authentication.k8s.io/v1` or `.../v1beta1`.
    pub api_version: String,
    /// The command to run (resolved against the kubeconfig's directory when it has a `/`).
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<ExecEnvVar>,
    /// Shown to the user when the command fails or is missing.
    pub install_hint: Option<String>,
    /// Whether to pass the cluster's details in `KUBERNETES_EXEC_INFO`.
    pub provide_cluster_info: bool,
    /// `Never`, `IfAvailable` or `Always`; this client never runs plugins interactively.
    pub interactive_mode: Option<String>,
    /// The cluster details passed when `provide_cluster_info` is set.
    pub cluster: Option<ExecCluster>,
    /// The working directory for the command.
    pub working_dir: Option<PathBuf>,
}

/// One `env` entry of an exec plugin; the value may be a secret.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ExecEnvVar {
    /// The variable name.
    pub name: String,
    /// Its value.
    #[serde(default)]
    pub value: Redacted<String>,
}

/// The cluster described to a plugin when `provideClusterInfo` is true.
#[derive(Clone, Debug, Default)]
pub struct ExecCluster {
    /// The API server URL.
    pub server: String,
    /// `tls-server-name`.
    pub tls_server_name: Option<String>,
    /// `insecure-skip-tls-verify`.
    pub insecure_skip_tls_verify: bool,
    /// The CA bundle, PEM.
    pub certificate_authority_data: Option<Vec<u8>>,
    /// `proxy-url`.
    pub proxy_url: Option<String>,
    /// `disable-compression`.
    pub disable_compression: bool,
}

/// A credential read from a plugin.
#[derive(Clone, Debug)]
pub struct ExecCredential {
    /// A bearer token.
    pub token: Option<Redacted<String>>,
    /// A client certificate chain, PEM.
    pub client_certificate_data: Option<String>,
    /// Its private key, PEM.
    pub client_key_data: Option<Redacted<String>>,
    /// When the credential stops being valid; `None` means until a 401.
    pub expiration: Option<SystemTime>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCredential {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    status: Option<RawStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    token: Option<Redacted<String>>,
    client_certificate_data: Option<String>,
    client_key_data: Option<Redacted<String>>,
    expiration_timestamp: Option<String>,
}

impl ExecConfig {
    fn error(&self, problem: impl Into<String>, stderr: &[u8]) -> Error {
        let mut stderr = String::from_utf8_lossy(stderr).trim().to_string();
        if stderr.len() > 2048 {
            let mut cut = 2048;
            while !stderr.is_char_boundary(cut) {
                cut -= 1;
            }
            stderr.truncate(cut);
        }
        Error::ExecPlugin {
            command: self.command.clone(),
            problem: problem.into(),
            stderr,
            hint: self.install_hint.clone(),
        }
    }

    /// The `KUBERNETES_EXEC_INFO` value for this plugin.
    pub fn exec_info(&self) -> String {
        let mut spec = json!({ "interactive": false });
        if self.provide_cluster_info {
            if let Some(cluster) = &self.cluster {
                use base64::Engine as _;
                let mut c = json!({ "server": cluster.server });
                if let Some(name) = &cluster.tls_server_name {
                    c["tls-server-name"] = json!(name);
                }
                if cluster.insecure_skip_tls_verify {
                    c["insecure-skip-tls-verify"] = json!(true);
                }
                if let Some(ca) = &cluster.certificate_authority_data {
                    c["certificate-authority-data"] =
                        json!(base64::engine::general_purpose::STANDARD.encode(ca));
                }
                if let Some(proxy) = &cluster.proxy_url {
                    c["proxy-url"] = json!(proxy);
                }
                if cluster.disable_compression {
                    c["disable-compression"] = json!(true);
                }
                spec["cluster"] = c;
            }
        }
        json!({ "apiVersion": self.api_version, "kind": "ExecCredential", "spec": spec })
            .to_string()
    }

    /// Runs the plugin once, killed after [`DEFAULT_EXEC_TIMEOUT`], and parses its credential.
    pub async fn run(&self) -> Result<ExecCredential> {
        self.run_with_timeout(Some(DEFAULT_EXEC_TIMEOUT)).await
    }

    /// Runs the plugin once and parses its credential; a plugin still running after `timeout`
    /// is killed and gives [`Error::ExecPluginTimedOut`] (`None` waits as long as it takes).
    pub async fn run_with_timeout(&self, timeout: Option<Duration>) -> Result<ExecCredential> {
        if self.interactive_mode.as_deref() == Some("Always") {
            return Err(self.error(
                "the plugin requires interactive mode, which this client does not support",
                b"",
            ));
        }
        let mut command = tokio::process::Command::new(&self.command);
        command
            .args(&self.args)
            .env("KUBERNETES_EXEC_INFO", self.exec_info())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        for var in &self.env {
            command.env(&var.name, var.value.expose());
        }
        if let Some(dir) = &self.working_dir {
            command.current_dir(dir);
        }
        let child = command
            .spawn()
            .map_err(|e| self.error(format!("could not start the command: {e}"), b""))?;
        // Dropping the wait on timeout drops the child, and `kill_on_drop` kills it.
        let waited = match timeout {
            Some(limit) => tokio::time::timeout(limit, child.wait_with_output())
                .await
                .map_err(|_| Error::ExecPluginTimedOut {
                    command: self.command.clone(),
                    timeout: limit,
                })?,
            None => child.wait_with_output().await,
        };
        let output = waited
            .map_err(|e| self.error(format!("could not read the command's output: {e}"), b""))?;
        if !output.status.success() {
            return Err(self.error(format!("exited with {}", output.status), &output.stderr));
        }
        let raw: RawCredential = serde_json::from_slice(&output.stdout).map_err(|e| {
            // serde_json messages can quote values, and values here are secrets: position only.
            self.error(
                format!(
                    "output is not an ExecCredential (line {} column {})",
                    e.line(),
                    e.column()
                ),
                &output.stderr,
            )
        })?;
        if raw.kind != "ExecCredential" {
            return Err(self.error(
                format!("output has kind {:?}, want ExecCredential", raw.kind),
                &output.stderr,
            ));
        }
        if raw.api_version != self.api_version {
            return Err(self.error(
                format!(
                    "output has apiVersion {:?}, want {:?}",
                    raw.api_version, self.api_version
                ),
                &output.stderr,
            ));
        }
        let Some(status) = raw.status else {
            return Err(self.error("output has no status", &output.stderr));
        };
        let expiration = match &status.expiration_timestamp {
            Some(text) => {
                let time = kinformer_meta::Time::parse(text).map_err(|_| {
                    self.error(
                        format!("expirationTimestamp {text:?} is not RFC 3339"),
                        &output.stderr,
                    )
                })?;
                let secs = time.unix_seconds();
                Some(if secs >= 0 {
                    UNIX_EPOCH + Duration::new(secs as u64, time.subsec_nanos())
                } else {
                    UNIX_EPOCH
                })
            }
            None => None,
        };
        let has_token = status
            .token
            .as_ref()
            .is_some_and(|t| !t.expose().is_empty());
        let has_cert = status.client_certificate_data.is_some() && status.client_key_data.is_some();
        if !has_token && !has_cert {
            return Err(self.error(
                "output has neither a token nor a client certificate and key",
                &output.stderr,
            ));
        }
        if status.client_certificate_data.is_some() != status.client_key_data.is_some() {
            return Err(self.error(
                "output has a client certificate without a key or a key without a certificate",
                &output.stderr,
            ));
        }
        Ok(ExecCredential {
            token: status.token.filter(|t| !t.expose().is_empty()),
            client_certificate_data: status.client_certificate_data,
            client_key_data: status.client_key_data,
            expiration,
        })
    }
}

/// Runs a plugin when needed and caches its credential until it expires or a 401 arrives.
pub(crate) struct ExecAuthenticator {
    config: ExecConfig,
    certs: Arc<ClientCertSlot>,
    timeout: Option<Duration>,
    cached: Mutex<Option<ExecCredential>>,
}

impl ExecAuthenticator {
    pub(crate) fn new(
        config: ExecConfig,
        certs: Arc<ClientCertSlot>,
        timeout: Option<Duration>,
    ) -> Self {
        ExecAuthenticator {
            config,
            certs,
            timeout,
            cached: Mutex::new(None),
        }
    }

    /// The token to send (running the plugin when nothing valid is cached).
    pub(crate) async fn token(&self) -> Result<Option<Redacted<String>>> {
        // Holding the lock while the plugin runs makes concurrent requests share one run.
        let mut cached = self.cached.lock().await;
        let fresh = cached
            .as_ref()
            .is_some_and(|c| c.expiration.is_none_or(|at| SystemTime::now() < at));
        if !fresh {
            let credential = self.config.run_with_timeout(self.timeout).await?;
            if let (Some(cert), Some(key)) = (
                &credential.client_certificate_data,
                &credential.client_key_data,
            ) {
                let key = super::certified_key(cert.as_bytes(), key.expose().as_bytes()).map_err(
                    |e| {
                        self.config.error(
                            format!("client certificate from the plugin is unusable: {e}"),
                            b"",
                        )
                    },
                )?;
                self.certs.set(key);
            }
            *cached = Some(credential);
        }
        Ok(cached.as_ref().and_then(|c| c.token.clone()))
    }

    /// Forgets the cached credential so the next request runs the plugin again.
    pub(crate) async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(script: &str) -> ExecConfig {
        ExecConfig {
            api_version: EXEC_API_VERSIONS[0].into(),
            command: "sh".into(),
            args: vec!["-c".into(), script.into()],
            install_hint: Some("install the thing".into()),
            ..ExecConfig::default()
        }
    }

    #[tokio::test]
    async fn a_failing_plugin_reports_stderr_and_install_hint() {
        let err = config("echo 'no login' >&2; exit 3")
            .run()
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no login"), "{text}");
        assert!(text.contains("install the thing"), "{text}");
        assert!(matches!(err, Error::ExecPlugin { .. }));
    }

    #[tokio::test]
    async fn a_missing_command_is_an_error_with_the_hint() {
        let mut cfg = config("");
        cfg.command = "/nonexistent/kinformer-plugin".into();
        let err = cfg.run().await.unwrap_err();
        assert!(err.to_string().contains("install the thing"));
    }

    #[tokio::test]
    async fn output_that_is_not_json_does_not_echo_the_output() {
        let err = config("echo 'sekrit-token-value'").run().await.unwrap_err();
        assert!(!err.to_string().contains("sekrit"), "{err}");
    }

    #[tokio::test]
    async fn token_and_expiry_are_parsed_and_info_is_passed() {
        let mut cfg = config(
            r#"case "$KUBERNETES_EXEC_INFO" in *'"server":"https://k:6443"'*) ;; *) exit 9;; esac
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t1","expirationTimestamp":"2099-01-01T00:00:00Z"}}'"#,
        );
        cfg.provide_cluster_info = true;
        cfg.cluster = Some(ExecCluster {
            server: "https://k:6443".into(),
            ..Default::default()
        });
        let cred = cfg.run().await.unwrap();
        assert_eq!(cred.token.unwrap().expose(), "t1");
        assert!(cred.expiration.unwrap() > SystemTime::now());
    }

    #[tokio::test]
    async fn a_wrong_api_version_in_the_output_is_refused() {
        let cfg = config(
            r#"printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'"#,
        );
        assert!(cfg
            .run()
            .await
            .unwrap_err()
            .to_string()
            .contains("apiVersion"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_plugin_is_killed_after_the_default_timeout_with_an_error_naming_it() {
        let mut cfg = config("echo started >&2; exec sleep 100000");
        cfg.env = vec![ExecEnvVar {
            name: "PLUGIN_SECRET".into(),
            value: Redacted::new("env-sekrit".into()),
        }];
        let started = tokio::time::Instant::now();
        let err = cfg.run().await.unwrap_err();
        assert!(
            matches!(&err, Error::ExecPluginTimedOut { command, timeout }
                if command == "sh" && *timeout == DEFAULT_EXEC_TIMEOUT),
            "{err:?}"
        );
        assert_eq!(started.elapsed(), DEFAULT_EXEC_TIMEOUT, "virtual time");
        let text = format!("{err} {err:?}");
        assert!(text.contains("\"sh\"") && text.contains("60s"), "{text}");
        assert!(
            !text.contains("env-sekrit") && !text.contains("started"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_timed_out_plugin_process_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let cfg = config(&format!(
            "echo $$ > {}; exec sleep 100000",
            pid_file.display()
        ));
        let err = cfg
            .run_with_timeout(Some(Duration::from_secs(2)))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ExecPluginTimedOut { .. }), "{err:?}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let proc_dir = std::path::Path::new("/proc").join(pid.trim());
        // The kill is asynchronous: wait (bounded) for the process to be reaped.
        let mut gone = false;
        for _ in 0..200 {
            let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
            // Gone, or a zombie waiting for tokio's reaper.
            if state.is_empty() || state.contains(") Z ") {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(gone, "the plugin process {} still runs", pid.trim());
    }

    #[tokio::test(start_paused = true)]
    async fn the_authenticator_uses_the_configured_timeout() {
        let auth = ExecAuthenticator::new(
            config("exec sleep 100000"),
            Arc::default(),
            Some(Duration::from_secs(5)),
        );
        let err = auth.token().await.unwrap_err();
        assert!(
            matches!(err, Error::ExecPluginTimedOut { timeout, .. } if timeout == Duration::from_secs(5)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn interactive_always_is_refused_before_running() {
        let mut cfg = config("exit 0");
        cfg.interactive_mode = Some("Always".into());
        assert!(cfg
            .run()
            .await
            .unwrap_err()
            .to_string()
            .contains("interactive"));
    }
}
