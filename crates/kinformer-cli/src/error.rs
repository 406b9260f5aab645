//! The CLI's error type: each variant names what failed, on which object or file, and why, so
//! `main` can print it as one line.

use std::path::PathBuf;

use kinformer::cache::CacheSyncError;
use kinformer::client::Error as ClientError;

/// What went wrong running a subcommand.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client configuration (kubeconfig, flags) could not be loaded.
    #[error("loading the client configuration failed: {0}")]
    ConfigFailed(#[source] Box<ClientError>),

    /// `--server` is not a URL.
    #[error("invalid --server {url:?}: {reason}")]
    InvalidServer {
        /// The value given.
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// Discovery (what the server serves) failed.
    #[error("discovering the server's resources failed: {0}")]
    DiscoveryFailed(#[source] Box<ClientError>),

    /// The arguments contradict each other.
    #[error("{0}")]
    UsageInvalid(String),

    /// The resource argument names nothing the server serves.
    #[error("the server doesn't have a resource type {name:?} (see `kinformer api-resources`)")]
    UnknownResource {
        /// The argument as typed.
        name: String,
    },

    /// A `-l` selector does not parse.
    #[error("invalid label selector {selector:?}: {source}")]
    InvalidSelector {
        /// The selector as typed.
        selector: String,
        /// The parser's complaint.
        #[source]
        source: Box<kinformer::meta::Error>,
    },

    /// A request to the server failed.
    #[error("{action} failed: {source}")]
    RequestFailed {
        /// What was being done (`listing pods in namespace shop`).
        action: String,
        /// The client's error.
        #[source]
        source: Box<ClientError>,
    },

    /// An informer could not sync its cache.
    #[error("syncing the {resource} cache failed: {source}")]
    SyncFailed {
        /// The resource watched.
        resource: String,
        /// Why.
        #[source]
        source: Box<CacheSyncError>,
    },

    /// An informer could not be built or a handler registered.
    #[error("starting the {resource} informer failed: {message}")]
    InformerFailed {
        /// The resource watched.
        resource: String,
        /// Why.
        message: String,
    },

    /// A manifest file could not be read.
    #[error("reading {path} failed: {source}")]
    ReadFailed {
        /// The file (`-` for stdin).
        path: PathBuf,
        /// The io error.
        #[source]
        source: std::io::Error,
    },

    /// A manifest file is not valid YAML (or JSON) of Kubernetes objects.
    #[error("{path} is not a valid manifest: {detail}")]
    ManifestInvalid {
        /// The file.
        path: PathBuf,
        /// The parser's complaint with its causes (line and column), on one line.
        detail: String,
        /// The parser's complaint.
        #[source]
        source: Box<kinformer::dynamic::Error>,
    },

    /// A manifest document lacks something every object needs.
    #[error("{path}: document {document}: {problem}")]
    ManifestIncomplete {
        /// The file.
        path: PathBuf,
        /// 1-based document number in the file.
        document: usize,
        /// What is missing.
        problem: String,
    },

    /// The in-process demo server failed.
    #[error("the demo cluster failed: {0}")]
    DemoFailed(#[source] Box<kinformer_replay::Error>),

    /// `record` cannot reach the cluster the way its kubeconfig asks.
    #[error("kinformer record cannot proxy this cluster: {0}")]
    RecordUnsupported(&'static str),

    /// The recorder could not be set up or started.
    #[error("the recorder failed: {0}")]
    RecordFailed(#[source] Box<kinformer_replay::Error>),

    /// Waiting for SIGINT/SIGTERM failed (the handler could not be installed).
    #[error("waiting for a stop signal failed: {0}")]
    SignalFailed(#[source] std::io::Error),

    /// Writing to stdout failed (a closed pipe, a full disk).
    #[error("writing the output failed: {0}")]
    OutputFailed(#[source] std::io::Error),

    /// An object could not be encoded for output.
    #[error("encoding {what} as {format} failed: {message}")]
    EncodeFailed {
        /// The object.
        what: String,
        /// `json` or `yaml`.
        format: &'static str,
        /// The encoder's message.
        message: String,
    },
}

/// The CLI's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::OutputFailed(error)
    }
}

/// The error as one line: newlines in server messages become spaces.
pub fn one_line(error: &dyn std::error::Error) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The chain of causes under `error`, one line each (what `-v` adds).
pub fn causes(error: &dyn std::error::Error) -> Vec<String> {
    let mut lines = Vec::new();
    let mut next = error.source();
    while let Some(cause) = next {
        lines.push(one_line(cause));
        next = cause.source();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_folds_newlines_of_server_messages() {
        let error = Error::InformerFailed {
            resource: "pods".into(),
            message: "first\nsecond".into(),
        };
        assert_eq!(
            one_line(&error),
            "starting the pods informer failed: first second"
        );
    }

    #[test]
    fn causes_lists_the_sources_below_the_error() {
        let error = Error::ReadFailed {
            path: "x.yaml".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(causes(&error), vec!["gone".to_string()]);
    }
}
