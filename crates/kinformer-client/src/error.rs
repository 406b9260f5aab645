//! The client's error type: each variant names the step that failed.

use std::path::PathBuf;
use std::time::Duration;

use kinformer_meta::Status;

/// A boxed error from a lower layer (hyper, rustls, io).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong talking to the API server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with a failure Status (404, 409, 410, 422, ...).
    #[error("api error: {0}")]
    Api(Box<Status>),

    /// The server answered with a non-2xx code and a body that is not a Status.
    #[error("http {code} from the server: {body}")]
    Http {
        /// The HTTP status code.
        code: u16,
        /// The start of the response body (at most 1 KiB, lossy UTF-8).
        body: String,
    },

    /// Opening a TCP connection (directly or through a proxy) failed.
    #[error("connecting to {server} failed: {reason}")]
    Connect {
        /// The server (or proxy) that was dialled.
        server: String,
        /// The lowest-level cause in words.
        reason: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },

    /// The TLS handshake failed (unknown CA, wrong name, client certificate refused, ...).
    #[error("tls handshake with {server} failed: {reason}")]
    Tls {
        /// The server that was dialled.
        server: String,
        /// rustls' description of the failure.
        reason: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },

    /// Building the TLS settings from the configuration failed.
    #[error("tls configuration is invalid: {problem}")]
    TlsConfig {
        /// What was wrong.
        problem: String,
    },

    /// Sending the request or receiving the response head failed after connecting.
    #[error("request to {server} failed: {reason}")]
    Request {
        /// The server the request went to.
        server: String,
        /// The lowest-level cause in words.
        reason: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },

    /// The request did not complete within the configured request timeout.
    #[error("request timed out after {0:?}")]
    RequestTimeout(Duration),

    /// A watch stream received nothing for longer than the idle timeout.
    #[error("watch stream idle for {0:?}")]
    WatchIdleTimeout(Duration),

    /// Reading the response body failed.
    #[error("reading the response body failed: {0}")]
    ReadBody(#[source] BoxError),

    /// The gzip-encoded response body could not be decoded.
    #[error("decompressing the response body failed: {0}")]
    Decompress(#[source] std::io::Error),

    /// The request could not be built (bad path, bad header).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A kubeconfig entry is invalid; names the file, the entry and the field.
    #[error("kubeconfig {file}: {entry}: field {field}: {problem}")]
    Kubeconfig {
        /// The kubeconfig file the entry came from (`<inline>` for YAML given as a string).
        file: String,
        /// The entry, such as `cluster "prod"` or `user "admin"`.
        entry: String,
        /// The field, as spelled in the kubeconfig (`server`, `client-key-data`, ...).
        field: String,
        /// What is wrong with it.
        problem: String,
    },

    /// A kubeconfig file could not be read.
    #[error("cannot read kubeconfig {path}: {source}")]
    KubeconfigRead {
        /// The file.
        path: PathBuf,
        /// The io error.
        #[source]
        source: std::io::Error,
    },

    /// A kubeconfig file is not valid YAML or has the wrong shape.
    #[error("kubeconfig {file} is invalid at line {line} column {column}: {message}")]
    KubeconfigSyntax {
        /// The file (`<inline>` for YAML given as a string).
        file: String,
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// 1-based column of the error (0 when unknown).
        column: usize,
        /// The parser's message.
        message: String,
    },

    /// Neither a kubeconfig nor an in-cluster environment was found.
    #[error("no configuration found: {0}")]
    ConfigNotFound(String),

    /// The in-cluster configuration (service account) could not be loaded.
    #[error("in-cluster configuration failed: {0}")]
    InCluster(String),

    /// A token file could not be read.
    #[error("cannot read token file {path}: {source}")]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// The io error.
        #[source]
        source: std::io::Error,
    },

    /// An exec credential plugin failed or printed an unusable credential.
    #[error("exec plugin {command:?} failed: {problem}; stderr: {stderr:?}{}", hint.as_deref().map(|h| format!("; install hint: {h}")).unwrap_or_default())]
    ExecPlugin {
        /// The plugin command.
        command: String,
        /// What went wrong (exit status, bad output); never the credential itself.
        problem: String,
        /// The plugin's standard error (truncated).
        stderr: String,
        /// The kubeconfig's `installHint`, if any.
        hint: Option<String>,
    },

    /// An exec credential plugin did not finish within the configured timeout and was killed.
    #[error("exec plugin {command:?} did not finish within {timeout:?} and was killed")]
    ExecPluginTimedOut {
        /// The plugin command (never its arguments' values or environment).
        command: String,
        /// The limit it exceeded.
        timeout: Duration,
    },

    // Part 2 (request, watch, api, dynamic, discovery, mapper) variants follow.
    /// A request body could not be encoded as JSON.
    #[error("could not encode the {what} as JSON")]
    RequestBodyEncodeFailed {
        /// What was being encoded.
        what: &'static str,
        /// serde_json's description.
        #[source]
        source: serde_json::Error,
    },

    /// A response body did not decode into the expected type.
    #[error("response did not decode as {type_name}: {source} (body starts {excerpt:?})")]
    ResponseDecodeFailed {
        /// The Rust type the body was decoded into.
        type_name: &'static str,
        /// The start of the body.
        excerpt: String,
        /// serde_json's description, with line and column.
        #[source]
        source: serde_json::Error,
    },

    /// A watch body held something other than a JSON object where an event should start.
    #[error("malformed watch stream at byte {offset}: {problem} (found {excerpt:?})")]
    WatchFrameMalformed {
        /// Offset of the bad byte in the watch body.
        offset: u64,
        /// The bytes found there.
        excerpt: String,
        /// What was expected.
        problem: &'static str,
    },

    /// One watch event was longer than the configured bound.
    #[error("watch event at byte {offset} exceeds the {limit}-byte bound (starts {excerpt:?})")]
    WatchFrameTooLarge {
        /// Offset of the event in the watch body.
        offset: u64,
        /// The bound in bytes.
        limit: usize,
        /// The start of the event.
        excerpt: String,
    },

    /// The watch body ended in the middle of an event.
    #[error("watch body ended inside an event at byte {offset} ({buffered} bytes: {excerpt:?})")]
    WatchFrameTruncated {
        /// Offset of the unfinished event.
        offset: u64,
        /// How many bytes of it arrived.
        buffered: usize,
        /// The start of the unfinished event.
        excerpt: String,
    },

    /// A complete watch frame did not decode as a watch event of the watched type.
    #[error("watch event at byte {offset} did not decode: {source} (event starts {excerpt:?})")]
    WatchEventDecodeFailed {
        /// Offset of the event in the watch body.
        offset: u64,
        /// The start of the event.
        excerpt: String,
        /// serde_json's description, with line and column inside the event.
        #[source]
        source: serde_json::Error,
    },

    /// A metadata-only request was answered with another `meta.k8s.io` kind (or a Status)
    /// than the one asked for, such as a `PartialObjectMetadataList` to a get.
    #[error("expected a {expected} in the response, found {found}")]
    UnexpectedKind {
        /// The kind asked for (`PartialObjectMetadata`, `PartialObjectMetadataList`).
        expected: &'static str,
        /// The kind and apiVersion found (`Table (meta.k8s.io/v1)`).
        found: String,
    },

    /// A whole object sent in place of metadata (the metadata client's fallback for servers
    /// that ignore `as=PartialObjectMetadata`) has no name, generateName, uid or
    /// creationTimestamp, so it is not an object's metadata at all.
    #[error("a {found} arrived in place of object metadata but has no name, generateName, uid or creationTimestamp")]
    NotObjectMetadata {
        /// The kind and apiVersion of what arrived (`Pod (v1)`; empty parts when absent).
        found: String,
    },

    /// Discovery of one group/version (or of the group list) failed.
    #[error("discovery of {group_version} failed: {source}")]
    DiscoveryFailed {
        /// The group/version (`v1`, `apps/v1`) or document (`/apis`) that failed.
        group_version: String,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },

    /// The REST mapper knows no resource or kind by this name.
    #[error("the server doesn't have a resource type {name:?}")]
    UnknownResource {
        /// The name as given (`deploy`, `Widget`, `foos.example.com`).
        name: String,
    },
}

impl Error {
    /// The server's Status, when the server answered with one.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Error::Api(status) => Some(status),
            Error::DiscoveryFailed { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The HTTP status code of a server answer (Status or plain body).
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api(status) => Some(status.code),
            Error::Http { code, .. } => Some(*code),
            Error::DiscoveryFailed { source, .. } => source.code(),
            _ => None,
        }
    }

    /// True for a 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.status().is_some_and(Status::is_not_found)
    }

    /// True for a 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.status().is_some_and(Status::is_conflict)
    }

    /// True for a 409 AlreadyExists.
    pub fn is_already_exists(&self) -> bool {
        self.status().is_some_and(Status::is_already_exists)
    }

    /// True for a 410 Gone / Expired.
    pub fn is_gone(&self) -> bool {
        self.status().is_some_and(Status::is_gone)
    }

    /// True for a 429 TooManyRequests.
    pub fn is_too_many_requests(&self) -> bool {
        self.status().is_some_and(Status::is_too_many_requests)
    }

    /// True when the server said the requested resourceVersion is ahead of it.
    pub fn is_resource_version_too_large(&self) -> bool {
        self.status()
            .is_some_and(Status::is_resource_version_too_large)
    }

    /// True for a 401 Unauthorized (Status or plain body).
    pub fn is_unauthorized(&self) -> bool {
        self.code() == Some(401)
    }

    /// True for a 403 Forbidden (Status or plain body).
    pub fn is_forbidden(&self) -> bool {
        self.code() == Some(403)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
