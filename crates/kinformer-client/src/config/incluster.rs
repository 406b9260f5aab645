//! In-cluster configuration: the API server from `KUBERNETES_SERVICE_HOST`/`PORT`, and the
//! mounted service account's token (re-read as it rotates), `ca.crt` and namespace.

use std::path::Path;

use super::Config;
use crate::auth::{parse_certificates, Auth};
use crate::error::{Error, Result};

/// Where Kubernetes mounts the service account.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The in-cluster configuration from the process environment and the standard mount.
pub fn from_env() -> Result<Config> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .map_err(|_| Error::InCluster("KUBERNETES_SERVICE_HOST is not set".into()))?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT")
        .map_err(|_| Error::InCluster("KUBERNETES_SERVICE_PORT is not set".into()))?;
    from_parts(&host, &port, Path::new(SERVICE_ACCOUNT_DIR))
}

/// The in-cluster configuration for a service host, port and service-account folder.
pub fn from_parts(host: &str, port: &str, service_account_dir: &Path) -> Result<Config> {
    if host.is_empty() || port.is_empty() {
        return Err(Error::InCluster(
            "KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is empty".into(),
        ));
    }
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let url: http::Uri = format!("https://{host}:{port}")
        .parse()
        .map_err(|_| Error::InCluster(format!("{host}:{port} is not a valid server address")))?;

    let token_path = service_account_dir.join("token");
    std::fs::metadata(&token_path)
        .map_err(|e| Error::InCluster(format!("cannot read {}: {e}", token_path.display())))?;
    let ca_path = service_account_dir.join("ca.crt");
    let ca = std::fs::read(&ca_path)
        .map_err(|e| Error::InCluster(format!("cannot read {}: {e}", ca_path.display())))?;
    parse_certificates(&ca)
        .map_err(|problem| Error::InCluster(format!("{}: {problem}", ca_path.display())))?;
    let namespace = std::fs::read_to_string(service_account_dir.join("namespace"))
        .ok()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());

    let mut config = Config::new(url);
    config.root_certificates = Some(ca);
    config.auth = Auth::TokenFile(token_path);
    config.default_namespace = namespace;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    #[test]
    fn service_account_folder_gives_url_token_file_ca_and_namespace() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "tok").unwrap();
        std::fs::write(dir.path().join("ca.crt"), CA).unwrap();
        std::fs::write(dir.path().join("namespace"), "team-a\n").unwrap();
        let config = from_parts("fd00::1", "443", dir.path()).unwrap();
        assert_eq!(config.cluster_url, "https://[fd00::1]:443/");
        assert_eq!(config.default_namespace, "team-a");
        assert!(matches!(&config.auth, Auth::TokenFile(p) if p.ends_with("token")));
        assert_eq!(config.root_certificates.as_deref(), Some(CA.as_bytes()));
    }

    #[test]
    fn a_missing_token_file_is_an_in_cluster_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), CA).unwrap();
        let err = from_parts("10.0.0.1", "443", dir.path()).unwrap_err();
        assert!(
            matches!(&err, Error::InCluster(m) if m.contains("token")),
            "{err}"
        );
    }
}
