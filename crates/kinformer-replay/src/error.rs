//! The crate's error type: what can fail when starting, driving or loading the fake server.

use std::path::PathBuf;

/// Everything that can go wrong in kinformer-replay.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Binding the listening socket failed.
    #[error("binding {address} failed")]
    BindFailed {
        /// The address asked for.
        address: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// Generating or loading TLS material failed.
    #[error("tls setup failed: {message}")]
    TlsFailed {
        /// What went wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("file {path} could not be accessed")]
    FileFailed {
        /// The file concerned.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A fixture file could not be parsed.
    #[error("fixture {path} is invalid: {message}")]
    FixtureInvalid {
        /// The fixture file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// An object given to the handle has no registered kind.
    #[error("no resource is registered for apiVersion {api_version:?} kind {kind:?}")]
    UnknownKind {
        /// The object's apiVersion.
        api_version: String,
        /// The object's kind.
        kind: String,
    },
    /// A direct state change through the handle was refused, with the Status the API would send.
    #[error("the server refused the change: {}", .status.message.as_deref().unwrap_or(""))]
    Rejected {
        /// The Status the API would have answered.
        status: Box<kinformer_meta::Status>,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
