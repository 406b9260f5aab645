//! Turns a [`Kubeconfig`] plus overrides into a [`Config`], validating as it goes; every error
//! names the file, the entry and the field.

use std::path::PathBuf;

use base64::Engine as _;

use super::kubeconfig::{display_origin, AuthInfo, Cluster, Kubeconfig};
use super::{Config, KubeconfigOptions};
use crate::auth::exec::{ExecCluster, ExecConfig, EXEC_API_VERSIONS};
use crate::auth::{
    parse_certificates, parse_private_key, Auth, ClientCertificate, Impersonate, Redacted,
};
use crate::error::{Error, Result};

/// Builds errors for one entry.
struct Entry {
    file: String,
    entry: String,
}

impl Entry {
    fn new(origin: &Option<PathBuf>, kind: &str, name: &str) -> Self {
        Entry {
            file: display_origin(origin),
            entry: format!("{kind} {name:?}"),
        }
    }

    fn error(&self, field: &str, problem: impl Into<String>) -> Error {
        Error::Kubeconfig {
            file: self.file.clone(),
            entry: self.entry.clone(),
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The bytes of a `*-data` field (base64) or of the file a path field names.
    fn bytes(
        &self,
        data_field: &str,
        data: Option<&str>,
        file_field: &str,
        file: Option<&str>,
    ) -> Result<Option<Vec<u8>>> {
        if let Some(data) = data.filter(|d| !d.is_empty()) {
            let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
            // The decoder's message could quote secret bytes: say only that it is malformed.
            return base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map(Some)
                .map_err(|_| self.error(data_field, "malformed base64"));
        }
        if let Some(path) = file.filter(|f| !f.is_empty()) {
            return std::fs::read(path)
                .map(Some)
                .map_err(|e| self.error(file_field, format!("cannot read {path}: {e}")));
        }
        Ok(None)
    }
}

pub(super) fn config_from_kubeconfig(
    kubeconfig: &Kubeconfig,
    options: &KubeconfigOptions,
) -> Result<Config> {
    let context_name = options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .filter(|c| !c.is_empty());
    let (context, context_entry) = match &context_name {
        Some(name) => match kubeconfig.contexts.iter().find(|c| &c.name == name) {
            Some(named) => (
                named.context.clone().unwrap_or_default(),
                Entry::new(&named.origin, "context", name),
            ),
            None => {
                let field = if options.context.is_some() {
                    "--context"
                } else {
                    "current-context"
                };
                return Err(Error::Kubeconfig {
                    file: kubeconfig
                        .contexts
                        .first()
                        .map_or_else(|| "<merged>".into(), |c| display_origin(&c.origin)),
                    entry: "kubeconfig".into(),
                    field: field.into(),
                    problem: format!("context {name:?} is not defined"),
                });
            }
        },
        None => (Default::default(), Entry::new(&None, "context", "")),
    };

    let cluster_name = options.cluster.clone().unwrap_or(context.cluster.clone());
    if cluster_name.is_empty() {
        return Err(match &context_name {
            Some(_) => context_entry.error("cluster", "no cluster is named"),
            None => Error::ConfigNotFound(
                "kubeconfig has no current-context and no cluster was chosen".into(),
            ),
        });
    }
    let Some(named_cluster) = kubeconfig.clusters.iter().find(|c| c.name == cluster_name) else {
        return Err(context_entry.error(
            "cluster",
            format!("names cluster {cluster_name:?} which is not defined"),
        ));
    };
    let cluster_entry = Entry::new(&named_cluster.origin, "cluster", &cluster_name);
    let cluster = named_cluster.cluster.clone().unwrap_or_default();
    let mut config = cluster_config(&cluster_entry, &cluster)?;

    let user_name = options.user.clone().unwrap_or(context.user.clone());
    let user = if user_name.is_empty() {
        None
    } else {
        let Some(named_user) = kubeconfig.auth_infos.iter().find(|u| u.name == user_name) else {
            return Err(context_entry.error(
                "user",
                format!("names user {user_name:?} which is not defined"),
            ));
        };
        Some((
            Entry::new(&named_user.origin, "user", &user_name),
            named_user.user.clone().unwrap_or_default(),
        ))
    };

    if let Some((entry, user)) = user {
        apply_user(&mut config, &entry, &user, &cluster)?;
    }
    config.default_namespace = options
        .namespace
        .clone()
        .or(context.namespace.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    Ok(config)
}

fn cluster_config(entry: &Entry, cluster: &Cluster) -> Result<Config> {
    let server = cluster
        .server
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| entry.error("server", "missing"))?;
    let url: http::Uri = server
        .parse()
        .map_err(|e| entry.error("server", format!("{server:?} is not a URL: {e}")))?;
    match url.scheme_str() {
        Some("https") | Some("http") if url.host().is_some() => {}
        _ => {
            return Err(entry.error(
                "server",
                format!("{server:?} must be an http:// or https:// URL with a host"),
            ))
        }
    }
    let mut config = Config::new(url);

    let ca = entry.bytes(
        "certificate-authority-data",
        cluster.certificate_authority_data.as_deref(),
        "certificate-authority",
        cluster.certificate_authority.as_deref(),
    )?;
    if let Some(ca) = &ca {
        let field = if cluster
            .certificate_authority_data
            .as_deref()
            .is_some_and(|d| !d.is_empty())
        {
            "certificate-authority-data"
        } else {
            "certificate-authority"
        };
        parse_certificates(ca).map_err(|problem| entry.error(field, problem))?;
        if cluster.insecure_skip_tls_verify {
            return Err(entry.error(
                "insecure-skip-tls-verify",
                format!("cannot be combined with {field}: either verify against the CA or skip verification"),
            ));
        }
    }
    config.root_certificates = ca;
    config.accept_invalid_certs = cluster.insecure_skip_tls_verify;
    config.tls_server_name = cluster.tls_server_name.clone().filter(|n| !n.is_empty());
    config.disable_compression = cluster.disable_compression;
    if let Some(proxy) = cluster.proxy_url.as_deref().filter(|p| !p.is_empty()) {
        let uri: http::Uri = proxy
            .parse()
            .map_err(|_| entry.error("proxy-url", "is not a URL"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(entry.error("proxy-url", "only http:// proxies (CONNECT) are supported"));
        }
        config.proxy_url = Some(uri);
    }
    Ok(config)
}

fn apply_user(
    config: &mut Config,
    entry: &Entry,
    user: &AuthInfo,
    cluster: &Cluster,
) -> Result<()> {
    let has_token = user.token.as_ref().is_some_and(|t| !t.expose().is_empty())
        || user.token_file.as_deref().is_some_and(|f| !f.is_empty());
    let has_basic = user.username.as_deref().is_some_and(|u| !u.is_empty())
        || user
            .password
            .as_ref()
            .is_some_and(|p| !p.expose().is_empty());
    if has_token && has_basic {
        return Err(entry.error(
            "token",
            "both a token and basic auth (username/password) are set; only one is allowed",
        ));
    }
    if user.exec.is_some() && (has_token || has_basic) {
        return Err(entry.error(
            "exec",
            "an exec plugin cannot be combined with a token or basic auth",
        ));
    }

    config.auth = if let Some(token) = user.token.as_ref().filter(|t| !t.expose().is_empty()) {
        Auth::Bearer(token.clone())
    } else if let Some(file) = user.token_file.as_deref().filter(|f| !f.is_empty()) {
        std::fs::metadata(file)
            .map_err(|e| entry.error("tokenFile", format!("cannot read {file}: {e}")))?;
        Auth::TokenFile(PathBuf::from(file))
    } else if has_basic {
        Auth::Basic {
            username: user.username.clone().unwrap_or_default(),
            password: user.password.clone().unwrap_or_default(),
        }
    } else if let Some(exec) = &user.exec {
        let command = exec
            .command
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| entry.error("exec.command", "missing"))?;
        let api_version = exec.api_version.clone().unwrap_or_default();
        if !EXEC_API_VERSIONS.contains(&api_version.as_str()) {
            return Err(entry.error(
                "exec.apiVersion",
                format!("{api_version:?} is not supported; use one of {EXEC_API_VERSIONS:?}"),
            ));
        }
        if let Some(mode) = exec.interactive_mode.as_deref() {
            if !["Never", "IfAvailable", "Always"].contains(&mode) {
                return Err(entry.error(
                    "exec.interactiveMode",
                    format!("{mode:?} is not Never, IfAvailable or Always"),
                ));
            }
        }
        Auth::Exec(Box::new(ExecConfig {
            api_version,
            command,
            args: exec.args.clone(),
            env: exec.env.clone(),
            install_hint: exec.install_hint.clone(),
            provide_cluster_info: exec.provide_cluster_info,
            interactive_mode: exec.interactive_mode.clone(),
            cluster: exec.provide_cluster_info.then(|| ExecCluster {
                server: cluster.server.clone().unwrap_or_default(),
                tls_server_name: cluster.tls_server_name.clone(),
                insecure_skip_tls_verify: cluster.insecure_skip_tls_verify,
                certificate_authority_data: config.root_certificates.clone(),
                proxy_url: cluster.proxy_url.clone(),
                disable_compression: cluster.disable_compression,
            }),
            working_dir: None,
        }))
    } else {
        Auth::None
    };

    let certificate = entry.bytes(
        "client-certificate-data",
        user.client_certificate_data.as_deref(),
        "client-certificate",
        user.client_certificate.as_deref(),
    )?;
    let key = entry.bytes(
        "client-key-data",
        user.client_key_data.as_ref().map(|k| k.expose().as_str()),
        "client-key",
        user.client_key.as_deref(),
    )?;
    let cert_field = if user
        .client_certificate_data
        .as_deref()
        .is_some_and(|d| !d.is_empty())
    {
        "client-certificate-data"
    } else {
        "client-certificate"
    };
    let key_field = if user
        .client_key_data
        .as_ref()
        .is_some_and(|d| !d.expose().is_empty())
    {
        "client-key-data"
    } else {
        "client-key"
    };
    match (certificate, key) {
        (Some(certificate), Some(key)) => {
            parse_certificates(&certificate).map_err(|problem| entry.error(cert_field, problem))?;
            parse_private_key(&key).map_err(|problem| entry.error(key_field, problem))?;
            crate::auth::certified_key(&certificate, &key)
                .map_err(|e| entry.error(key_field, e.to_string()))?;
            config.client_certificate = Some(ClientCertificate {
                certificate_pem: certificate,
                key_pem: Redacted::new(key),
            });
        }
        (Some(_), None) => {
            return Err(entry.error(
                "client-key",
                "a client certificate is set but no client key",
            ))
        }
        (None, Some(_)) => {
            return Err(entry.error(
                "client-certificate",
                "a client key is set but no client certificate",
            ))
        }
        (None, None) => {}
    }

    if let Some(user_name) = user.impersonate.as_deref().filter(|u| !u.is_empty()) {
        config.impersonate = Some(Impersonate {
            user: user_name.to_string(),
            uid: user.impersonate_uid.clone().filter(|u| !u.is_empty()),
            groups: user.impersonate_groups.clone(),
            extra: user.impersonate_user_extra.clone(),
        });
    } else if !user.impersonate_groups.is_empty()
        || !user.impersonate_user_extra.is_empty()
        || user.impersonate_uid.is_some()
    {
        return Err(entry.error(
            "as",
            "as-groups, as-uid and as-user-extra need a user to impersonate (as)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Config> {
        Config::from_kubeconfig(&Kubeconfig::from_yaml(yaml)?, &KubeconfigOptions::default())
    }

    const BASE: &str = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u, namespace: ns}\nclusters:\n- name: k\n  cluster: {server: 'https://10.0.0.1:6443'}\n- name: other\n  cluster: {server: 'https://other:6443'}\n";

    #[test]
    fn context_chooses_cluster_user_and_namespace() {
        let config = load(&format!(
            "{BASE}users:\n- name: u\n  user: {{token: abc}}\n"
        ))
        .unwrap();
        assert_eq!(config.cluster_url, "https://10.0.0.1:6443/");
        assert_eq!(config.default_namespace, "ns");
        assert!(matches!(&config.auth, Auth::Bearer(t) if t.expose() == "abc"));
    }

    #[test]
    fn overrides_replace_context_cluster_and_namespace() {
        let kc =
            Kubeconfig::from_yaml(&format!("{BASE}users:\n- name: u\n  user: {{}}\n")).unwrap();
        let options = KubeconfigOptions {
            cluster: Some("other".into()),
            namespace: Some("kube-system".into()),
            ..Default::default()
        };
        let config = Config::from_kubeconfig(&kc, &options).unwrap();
        assert_eq!(config.cluster_url.host(), Some("other"));
        assert_eq!(config.default_namespace, "kube-system");
        let missing = KubeconfigOptions {
            context: Some("nope".into()),
            ..Default::default()
        };
        let err = Config::from_kubeconfig(&kc, &missing).unwrap_err();
        assert!(
            matches!(&err, Error::Kubeconfig { field, problem, .. } if field == "--context" && problem.contains("nope")),
            "{err}"
        );
    }

    fn field_of(err: Error) -> (String, String, String) {
        match err {
            Error::Kubeconfig {
                entry,
                field,
                problem,
                ..
            } => (entry, field, problem),
            other => panic!("expected a kubeconfig error, got {other}"),
        }
    }

    #[test]
    fn missing_server_names_the_cluster_and_field() {
        let (entry, field, problem) = field_of(
            load("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {}\n").unwrap_err(),
        );
        assert_eq!(
            (entry.as_str(), field.as_str(), problem.as_str()),
            ("cluster \"k\"", "server", "missing")
        );
    }

    #[test]
    fn context_pointing_at_missing_cluster_or_user_is_named() {
        let (entry, field, problem) = field_of(
            load("current-context: c\ncontexts:\n- name: c\n  context: {cluster: gone}\n")
                .unwrap_err(),
        );
        assert_eq!(
            (entry.as_str(), field.as_str()),
            ("context \"c\"", "cluster")
        );
        assert!(problem.contains("gone"));
        let (entry, field, _) = field_of(load(BASE).unwrap_err());
        assert_eq!((entry.as_str(), field.as_str()), ("context \"c\"", "user"));
    }

    #[test]
    fn token_and_basic_auth_together_are_refused() {
        let (entry, field, _) = field_of(
            load(&format!(
                "{BASE}users:\n- name: u\n  user: {{token: t, username: a, password: b}}\n"
            ))
            .unwrap_err(),
        );
        assert_eq!((entry.as_str(), field.as_str()), ("user \"u\"", "token"));
    }

    #[test]
    fn malformed_base64_is_named_without_quoting_it() {
        let err = load(&format!("{BASE}users:\n- name: u\n  user: {{client-certificate-data: 'x', client-key-data: '!!secret!!'}}\n")).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        let (_, field, problem) = field_of(err);
        assert_eq!(field, "client-certificate-data");
        assert_eq!(problem, "malformed base64");
    }

    #[test]
    fn unreadable_certificate_file_is_named() {
        let (entry, field, problem) = field_of(
            load("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'https://a', certificate-authority: /nonexistent/ca.crt}\n")
                .unwrap_err(),
        );
        assert_eq!(
            (entry.as_str(), field.as_str()),
            ("cluster \"k\"", "certificate-authority")
        );
        assert!(problem.contains("/nonexistent/ca.crt"));
    }

    #[test]
    fn a_certificate_without_a_key_is_refused() {
        let cert = base64::engine::general_purpose::STANDARD
            .encode("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        let (_, field, problem) =
            field_of(load(&format!("{BASE}users:\n- name: u\n  user: {{client-certificate-data: '{cert}', client-key-data: '{cert}'}}\n")).unwrap_err());
        assert_eq!(field, "client-key-data");
        assert_eq!(problem, "contains no PEM private key");
        let (_, field, _) = field_of(
            load(&format!(
                "{BASE}users:\n- name: u\n  user: {{client-certificate-data: '{cert}'}}\n"
            ))
            .unwrap_err(),
        );
        assert_eq!(field, "client-key");
    }

    #[test]
    fn exec_needs_a_known_api_version() {
        let (_, field, _) =
            field_of(load(&format!("{BASE}users:\n- name: u\n  user:\n    exec: {{command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}\n")).unwrap_err());
        assert_eq!(field, "exec.apiVersion");
    }

    #[test]
    fn insecure_with_a_ca_is_refused_and_a_non_http_proxy_too() {
        let ca = base64::engine::general_purpose::STANDARD
            .encode("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        let (_, field, _) = field_of(
            load(&format!("current-context: c\ncontexts:\n- name: c\n  context: {{cluster: k}}\nclusters:\n- name: k\n  cluster: {{server: 'https://a', certificate-authority-data: '{ca}', insecure-skip-tls-verify: true}}\n"))
                .unwrap_err(),
        );
        assert_eq!(field, "insecure-skip-tls-verify");
        let (_, field, _) = field_of(
            load("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'https://a', proxy-url: 'socks5://p:1080'}\n").unwrap_err(),
        );
        assert_eq!(field, "proxy-url");
    }
}
