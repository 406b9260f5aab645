//! The harness's error type: which step of a run failed and why.

use thiserror::Error;

/// A run that could not complete.
#[derive(Debug, Error)]
pub enum Error {
    /// Building a request failed (a bad path or query).
    #[error("building the request for {path} failed")]
    Request {
        /// The path that was asked for.
        path: String,
        /// Why.
        source: http::Error,
    },
    /// The client failed at a step.
    #[error("{step} failed")]
    Client {
        /// The step: "raw list", "list", "watch", ...
        step: &'static str,
        /// The client's error.
        source: kinformer_client::Error,
    },
    /// The fake API server failed to start, restart or accept an object.
    #[error("fake API server: {step} failed")]
    Server {
        /// The step.
        step: &'static str,
        /// The server's error.
        source: kinformer_replay::Error,
    },
    /// The informer refused a handler.
    #[error("registering the handler failed")]
    Informer {
        /// The informer's error.
        source: kinformer_cache::InformerError,
    },
    /// Bytes the server sent did not decode.
    #[error("decoding a {what} failed")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// serde_json's error.
        source: serde_json::Error,
    },
    /// A stream ended before the expected count arrived.
    #[error("{step} ended after {got} of {expected}")]
    Incomplete {
        /// The step.
        step: &'static str,
        /// How many were expected.
        expected: u64,
        /// How many arrived.
        got: u64,
    },
    /// A phase did not finish in time (the pipeline is stuck or far too slow).
    #[error("{phase} did not finish within {seconds} s ({detail})")]
    TimedOut {
        /// The phase.
        phase: &'static str,
        /// The limit.
        seconds: u64,
        /// Progress when it gave up.
        detail: String,
    },
    /// Talking to the server process failed.
    #[error("server process: {step} failed")]
    ChildIo {
        /// The step.
        step: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The server process answered something unexpected.
    #[error("server process answered {reply:?}")]
    Protocol {
        /// The answer.
        reply: String,
    },
    /// The tokio runtime could not be built.
    #[error("building the {which} runtime failed")]
    Runtime {
        /// Which runtime.
        which: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
