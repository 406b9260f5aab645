//! TLS for the fake server: a generated CA and a server certificate for 127.0.0.1/localhost
//! (rcgen, ring), PEM files for `--tls-dir`, and client certificates minted for mTLS tests.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::CertificateDer;

use crate::error::{Error, Result};

struct CaSigner {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

/// A client certificate and its key, PEM encoded.
#[derive(Clone)]
pub struct ClientIdentity {
    /// The certificate (signed by the server's CA).
    pub cert_pem: String,
    /// The private key.
    pub key_pem: String,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The server's certificates: the CA clients trust, the server certificate and key, and (when
/// generated here) the CA key that mints client certificates.
#[derive(Clone)]
pub struct TlsMaterial {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
    signer: Option<Arc<CaSigner>>,
}

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca_pem", &self.ca_pem)
            .field("server_key_pem", &"<redacted>")
            .field("can_mint_client_certs", &self.signer.is_some())
            .finish()
    }
}

fn tls_error(step: &str, error: impl fmt::Display) -> Error {
    Error::TlsFailed {
        message: format!("{step}: {error}"),
    }
}

fn name(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    dn
}

impl TlsMaterial {
    /// A fresh CA and a server certificate valid for `127.0.0.1`, `::1` and `localhost`.
    pub fn generate() -> Result<Self> {
        let ca_key = KeyPair::generate().map_err(|e| tls_error("generating the CA key", e))?;
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = name("kinformer-fake-apiserver-ca", None);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = ca_params
            .self_signed(&ca_key)
            .map_err(|e| tls_error("signing the CA", e))?;

        let server_key =
            KeyPair::generate().map_err(|e| tls_error("generating the server key", e))?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])
            .map_err(|e| tls_error("server certificate names", e))?;
        params.distinguished_name = name("kinformer-fake-apiserver", None);
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params.subject_alt_names.push(SanType::IpAddress(IpAddr::V6(
            std::net::Ipv6Addr::LOCALHOST,
        )));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = params
            .signed_by(&server_key, &ca, &ca_key)
            .map_err(|e| tls_error("signing the server certificate", e))?;
        Ok(TlsMaterial {
            ca_pem: ca.pem(),
            server_cert_pem: server.pem(),
            server_key_pem: server_key.serialize_pem(),
            signer: Some(Arc::new(CaSigner {
                certificate: ca,
                key: ca_key,
            })),
        })
    }

    /// Material from existing PEM text (client certificates cannot be minted then).
    pub fn from_pem(ca_pem: String, server_cert_pem: String, server_key_pem: String) -> Self {
        TlsMaterial {
            ca_pem,
            server_cert_pem,
            server_key_pem,
            signer: None,
        }
    }

    /// Loads `ca.crt`, `server.crt` and `server.key` from `dir`, generating and writing them
    /// first when any is missing.
    pub fn load_or_generate(dir: &Path) -> Result<Self> {
        let files = ["ca.crt", "server.crt", "server.key"].map(|f| dir.join(f));
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| Error::FileFailed {
                path: path.to_path_buf(),
                source,
            })
        };
        if files.iter().all(|path| path.exists()) {
            return Ok(TlsMaterial::from_pem(
                read(&files[0])?,
                read(&files[1])?,
                read(&files[2])?,
            ));
        }
        let material = TlsMaterial::generate()?;
        std::fs::create_dir_all(dir).map_err(|source| Error::FileFailed {
            path: dir.to_path_buf(),
            source,
        })?;
        for (path, text) in files.iter().zip([
            &material.ca_pem,
            &material.server_cert_pem,
            &material.server_key_pem,
        ]) {
            std::fs::write(path, text).map_err(|source| Error::FileFailed {
                path: path.clone(),
                source,
            })?;
        }
        Ok(material)
    }

    /// The CA certificate clients should trust, PEM encoded.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server certificate, PEM encoded.
    pub fn server_cert_pem(&self) -> &str {
        &self.server_cert_pem
    }

    /// A client certificate for user `common_name` in `groups` (the first group becomes the
    /// organization), signed by the CA. Fails when the CA key is not known.
    pub fn mint_client_cert(&self, common_name: &str, groups: &[&str]) -> Result<ClientIdentity> {
        let signer = self.signer.as_ref().ok_or_else(|| Error::TlsFailed {
            message: "the CA key is not known, so no client certificate can be minted".into(),
        })?;
        let key = KeyPair::generate().map_err(|e| tls_error("generating the client key", e))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(common_name, groups.first().copied());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params
            .signed_by(&key, &signer.certificate, &signer.key)
            .map_err(|e| tls_error("signing the client certificate", e))?;
        Ok(ClientIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A rustls server configuration (ALPN h2 and http/1.1), verifying client certificates
    /// against the CA when `client_auth`, while still accepting clients without one.
    pub(crate) fn server_config(&self, client_auth: bool) -> Result<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = parse_certs(&self.server_cert_pem)?;
        let key = rustls_pemfile::private_key(&mut self.server_key_pem.as_bytes())
            .map_err(|e| tls_error("reading the server key", e))?
            .ok_or_else(|| tls_error("reading the server key", "no key in PEM"))?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("protocol versions", e))?;
        let builder = if client_auth {
            let mut roots = rustls::RootCertStore::empty();
            for cert in parse_certs(&self.ca_pem)? {
                roots.add(cert).map_err(|e| tls_error("adding the CA", e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| tls_error("client verifier", e))?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| tls_error("server certificate", e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

fn parse_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| tls_error("reading certificates", e))?;
    if certs.is_empty() {
        return Err(tls_error("reading certificates", "no certificate in PEM"));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_builds_a_server_config_with_and_without_client_auth() {
        let material = TlsMaterial::generate().unwrap();
        assert!(material.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(material.server_config(false).is_ok());
        assert!(material.server_config(true).is_ok());
    }

    #[test]
    fn client_certs_need_the_ca_key() {
        let material = TlsMaterial::generate().unwrap();
        let identity = material
            .mint_client_cert("alice", &["system:masters"])
            .unwrap();
        assert!(identity.key_pem.contains("PRIVATE KEY"));
        assert!(!format!("{identity:?}").contains("PRIVATE KEY"));
        let loaded = TlsMaterial::from_pem(
            material.ca_pem().into(),
            material.server_cert_pem().into(),
            material.server_key_pem.clone(),
        );
        assert!(matches!(
            loaded.mint_client_cert("bob", &[]),
            Err(Error::TlsFailed { .. })
        ));
    }

    #[test]
    fn garbage_pem_is_a_tls_error_not_a_panic() {
        let material = TlsMaterial::from_pem("nope".into(), "nope".into(), "nope".into());
        assert!(matches!(
            material.server_config(true),
            Err(Error::TlsFailed { .. })
        ));
    }
}
