//! Authentication: the credentials a [`Config`](crate::Config) carries ([`Auth`], client
//! certificates, impersonation) and the runtime that turns them into request headers.
//!
//! Start at [`Auth`]. Secrets live in [`Redacted`], whose `Debug` prints `<redacted>`. A token
//! file is re-read at most once a minute ([`token_file`]); an exec plugin's credential is cached
//! until it expires ([`exec`]); both refresh after a 401.

pub mod exec;
pub mod token_file;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Deserializer};

pub use exec::{ExecConfig, ExecEnvVar};

use crate::error::{Error, Result};

/// A secret value: `Debug` prints `<redacted>`, and it has no `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The secret itself; call only where it is sent or used.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Redacted(value)
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Redacted<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Redacted)
    }
}

/// How requests prove who they come from (besides a client certificate).
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// A fixed bearer token.
    Bearer(Redacted<String>),
    /// A bearer token read from a file, re-read at most once a minute and after a 401.
    TokenFile(PathBuf),
    /// HTTP basic auth.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Redacted<String>,
    },
    /// An exec credential plugin.
    Exec(Box<ExecConfig>),
}

/// A client certificate and its private key, both PEM, for mutual TLS.
#[derive(Clone, Debug)]
pub struct ClientCertificate {
    /// The certificate chain, PEM.
    pub certificate_pem: Vec<u8>,
    /// The private key (RSA, ECDSA or PKCS#8), PEM.
    pub key_pem: Redacted<Vec<u8>>,
}

/// Impersonation: act as another user (`Impersonate-*` headers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impersonate {
    /// The user to act as (`as`).
    pub user: String,
    /// The user's UID (`as-uid`).
    pub uid: Option<String>,
    /// The groups to act as (`as-groups`).
    pub groups: Vec<String>,
    /// Extra attributes (`as-user-extra`).
    pub extra: BTreeMap<String, Vec<String>>,
}

impl Impersonate {
    /// The `Impersonate-*` headers for these settings.
    pub fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        let value = |v: &str| {
            HeaderValue::from_str(v).map_err(|_| {
                Error::InvalidRequest(format!(
                    "impersonation value {v:?} is not a valid header value"
                ))
            })
        };
        if !self.user.is_empty() {
            headers.insert("impersonate-user", value(&self.user)?);
        }
        if let Some(uid) = &self.uid {
            headers.insert("impersonate-uid", value(uid)?);
        }
        for group in &self.groups {
            headers.append("impersonate-group", value(group)?);
        }
        for (key, values) in &self.extra {
            let name = format!("impersonate-extra-{}", percent_encode_header_key(key));
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::InvalidRequest(format!("impersonation extra key {key:?} is not valid"))
            })?;
            for v in values {
                headers.append(name.clone(), value(v)?);
            }
        }
        Ok(headers)
    }
}

/// Percent-encodes everything but unreserved characters, as the API server expects in
/// `Impersonate-Extra-` header names.
fn percent_encode_header_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.to_ascii_lowercase().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses a PEM certificate chain and key into a rustls `CertifiedKey`.
pub(crate) fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<CertifiedKey>> {
    let certs = parse_certificates(cert_pem).map_err(|problem| Error::TlsConfig { problem })?;
    let key = parse_private_key(key_pem).map_err(|problem| Error::TlsConfig { problem })?;
    let provider = rustls::crypto::ring::default_provider();
    let signing_key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| Error::TlsConfig {
                problem: format!("client key cannot be used: {e}"),
            })?;
    Ok(Arc::new(CertifiedKey::new(certs, signing_key)))
}

/// Every certificate in a PEM bundle; an error when there is none.
pub(crate) fn parse_certificates(
    pem: &[u8],
) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    let mut reader = pem;
    let mut certs = Vec::new();
    for item in rustls_pemfile::certs(&mut reader) {
        certs.push(item.map_err(|e| format!("PEM is malformed: {e}"))?);
    }
    if certs.is_empty() {
        return Err("contains no PEM certificate".into());
    }
    Ok(certs)
}

/// The first private key (PKCS#1 RSA, SEC1 EC or PKCS#8) in a PEM bundle; an error when there
/// is none. Messages never include key material.
pub(crate) fn parse_private_key(pem: &[u8]) -> std::result::Result<PrivateKeyDer<'static>, String> {
    let mut reader = pem;
    match rustls_pemfile::private_key(&mut reader) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err("contains no PEM private key".into()),
        Err(_) => Err("PEM private key is malformed".into()),
    }
}

/// The client certificate currently offered in TLS handshakes; an exec plugin may replace it.
#[derive(Debug, Default)]
pub(crate) struct ClientCertSlot {
    current: RwLock<Option<Arc<CertifiedKey>>>,
    /// Bumped on every change, so the client can drop connections made with an old one.
    generation: std::sync::atomic::AtomicU64,
}

impl ClientCertSlot {
    pub(crate) fn set(&self, key: Arc<CertifiedKey>) {
        if let Ok(mut current) = self.current.write() {
            *current = Some(key);
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many times the certificate was set.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl rustls::client::ResolvesClientCert for ClientCertSlot {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    fn has_certs(&self) -> bool {
        self.current.read().map(|c| c.is_some()).unwrap_or(false)
    }
}

/// The runtime side of [`Auth`]: produces the `Authorization` header for each request.
pub(crate) struct Authenticator {
    kind: Kind,
}

enum Kind {
    None,
    Static(HeaderValue),
    TokenFile(token_file::TokenFile),
    Exec(Box<exec::ExecAuthenticator>),
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("kind", &self.kind_name())
            .finish()
    }
}

impl Authenticator {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::None => "none",
            Kind::Static(_) => "static",
            Kind::TokenFile(_) => "token-file",
            Kind::Exec(_) => "exec",
        }
    }

    /// Prepares the runtime for `auth`; exec plugins that return certificates fill `certs` and
    /// are killed after `exec_timeout`.
    pub(crate) fn new(
        auth: &Auth,
        certs: Arc<ClientCertSlot>,
        exec_timeout: Option<Duration>,
    ) -> Result<Self> {
        let kind = match auth {
            Auth::None => Kind::None,
            Auth::Bearer(token) => Kind::Static(bearer_header(token.expose())?),
            Auth::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
                let mut value =
                    HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| {
                        Error::InvalidRequest(
                            "basic auth credentials are not a valid header".into(),
                        )
                    })?;
                value.set_sensitive(true);
                Kind::Static(value)
            }
            Auth::TokenFile(path) => Kind::TokenFile(token_file::TokenFile::new(path.clone())),
            Auth::Exec(config) => Kind::Exec(Box::new(exec::ExecAuthenticator::new(
                (**config).clone(),
                certs,
                exec_timeout,
            ))),
        };
        Ok(Authenticator { kind })
    }

    /// The `Authorization` header for the next request, if any.
    pub(crate) async fn authorization(&self) -> Result<Option<HeaderValue>> {
        match &self.kind {
            Kind::None => Ok(None),
            Kind::Static(value) => Ok(Some(value.clone())),
            Kind::TokenFile(file) => Ok(Some(bearer_header(file.token()?.expose())?)),
            Kind::Exec(exec) => match exec.token().await? {
                Some(token) => Ok(Some(bearer_header(token.expose())?)),
                None => Ok(None),
            },
        }
    }

    /// Called after a 401: drops cached credentials. True when a retry may now succeed.
    pub(crate) async fn refresh_after_unauthorized(&self) -> bool {
        match &self.kind {
            Kind::None | Kind::Static(_) => false,
            Kind::TokenFile(file) => file.reload_changed(),
            Kind::Exec(exec) => {
                exec.invalidate().await;
                true
            }
        }
    }
}

/// Request credentials for code that sends its own requests (a proxy, a recorder): the
/// `Authorization` header a [`Client`](crate::Client) with the same [`Auth`] would send,
/// token files re-read and exec plugins run and cached the same way. `Debug` shows only the
/// kind. A client certificate an exec plugin returns is offered through
/// [`Credentials::client_certificate_resolver`].
pub struct Credentials {
    inner: Authenticator,
    certs: Arc<ClientCertSlot>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("kind", &self.inner.kind_name())
            .finish()
    }
}

impl Credentials {
    /// Credentials for `auth`, exec plugins killed after `exec_timeout`.
    pub fn new(auth: &Auth, exec_timeout: Option<Duration>) -> Result<Self> {
        let certs = Arc::<ClientCertSlot>::default();
        Ok(Credentials {
            inner: Authenticator::new(auth, certs.clone(), exec_timeout)?,
            certs,
        })
    }

    /// The client certificate an exec plugin returned, for TLS handshakes: it offers none
    /// until [`Credentials::authorization`] has run a plugin that returned one, and the
    /// newest one after a refresh.
    pub fn client_certificate_resolver(&self) -> Arc<dyn rustls::client::ResolvesClientCert> {
        self.certs.clone()
    }

    /// The credentials a [`Config`](crate::Config) describes (its `auth` and `exec_timeout`).
    pub fn from_config(config: &crate::Config) -> Result<Self> {
        Credentials::new(&config.auth, config.exec_timeout)
    }

    /// The `Authorization` header value for the next request (marked sensitive), if any.
    pub async fn authorization(&self) -> Result<Option<HeaderValue>> {
        self.inner.authorization().await
    }

    /// Call after a 401: drops cached credentials; true when a retry may now succeed.
    pub async fn refresh_after_unauthorized(&self) -> bool {
        self.inner.refresh_after_unauthorized().await
    }
}

fn bearer_header(token: &str) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
        Error::InvalidRequest("bearer token contains characters not allowed in a header".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_debug_hides_the_secret() {
        let secret = Redacted::new("hunter2".to_string());
        assert_eq!(format!("{secret:?}"), "<redacted>");
        let auth = Auth::Basic {
            username: "me".into(),
            password: secret,
        };
        assert!(!format!("{auth:?}").contains("hunter2"));
    }

    #[test]
    fn impersonation_sets_user_group_and_encoded_extra_headers() {
        let imp = Impersonate {
            user: "jane".into(),
            uid: Some("42".into()),
            groups: vec!["dev".into(), "ops".into()],
            extra: BTreeMap::from([("Scopes/x".to_string(), vec!["a".to_string()])]),
        };
        let headers = imp.headers().unwrap();
        assert_eq!(headers["impersonate-user"], "jane");
        assert_eq!(headers["impersonate-uid"], "42");
        assert_eq!(headers.get_all("impersonate-group").iter().count(), 2);
        assert_eq!(headers["impersonate-extra-scopes%2Fx"], "a");
    }

    #[tokio::test]
    async fn basic_auth_header_is_base64_of_user_and_password() {
        let auth = Auth::Basic {
            username: "u".into(),
            password: Redacted::new("p".into()),
        };
        let a = Authenticator::new(&auth, Default::default(), None).unwrap();
        let header = a.authorization().await.unwrap().unwrap();
        assert_eq!(header, "Basic dTpw");
        assert!(header.is_sensitive());
        assert!(!a.refresh_after_unauthorized().await);
    }

    #[tokio::test]
    async fn credentials_give_the_bearer_header_and_hide_it_from_debug() {
        let auth = Auth::Bearer(Redacted::new("tok-123".into()));
        let credentials = Credentials::new(&auth, None).unwrap();
        let header = credentials.authorization().await.unwrap().unwrap();
        assert_eq!(header, "Bearer tok-123");
        assert!(header.is_sensitive());
        assert!(!format!("{credentials:?}").contains("tok-123"));
        assert!(!credentials.refresh_after_unauthorized().await);
    }

    #[test]
    fn a_pem_without_a_key_is_refused_without_quoting_it() {
        let problem =
            parse_private_key(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert_eq!(problem, "contains no PEM private key");
    }
}
