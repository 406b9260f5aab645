//! The cache crate's error type: each variant names the step that failed.

use std::time::Duration;

use crate::delta_fifo::TransformError;
use crate::index::IndexError;
use crate::store::KeyError;

/// What went wrong in a store, a queue or a reflector.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key function failed on an object.
    #[error("key function failed: {source}")]
    KeyFailed {
        /// The key function's description.
        #[source]
        source: KeyError,
    },
    /// An index function failed on an object; the store was left unchanged.
    #[error("index {index:?} failed on object {key:?}: {source}")]
    IndexFailed {
        /// The index whose function failed.
        index: String,
        /// The key of the object (empty when the object was not stored under a key).
        key: String,
        /// The index function's description.
        #[source]
        source: IndexError,
    },
    /// An index of that name already exists.
    #[error("index {name:?} already exists")]
    IndexerExists {
        /// The name given twice.
        name: String,
    },
    /// No index of that name exists.
    #[error("index {name:?} does not exist")]
    IndexNotFound {
        /// The name asked for.
        name: String,
    },
    /// The DeltaFIFO's transform function failed on an object; nothing was queued.
    #[error("transform failed on object {key:?}: {source}")]
    TransformFailed {
        /// The key of the object.
        key: String,
        /// The transform's description.
        #[source]
        source: TransformError,
    },
    /// The list of a list-and-watch cycle failed.
    #[error("list failed: {0}")]
    ListFailed(#[source] kinformer_client::Error),
    /// A watch could not be started.
    #[error("watch could not start: {0}")]
    WatchStartFailed(#[source] kinformer_client::Error),
    /// A watch ended with an error (an ERROR event or a broken stream).
    #[error("watch failed: {0}")]
    WatchFailed(#[source] kinformer_client::Error),
    /// A watch closed in under a second without delivering an event.
    #[error("very short watch: closed after {duration:?} without events")]
    VeryShortWatch {
        /// How long the watch lasted.
        duration: Duration,
    },
    /// A watch delivered nothing for longer than the configured idle timeout.
    #[error("watch idle for {idle:?}; reopening")]
    WatchIdle {
        /// How long nothing arrived.
        idle: Duration,
    },
    /// A streaming list did not end with the initial-events-end bookmark in time.
    #[error("initial events did not end within {waited:?}")]
    InitialEventsTimeout {
        /// How long the reflector waited.
        waited: Duration,
    },
    /// The stream of a streaming list ended, or sent an ordinary bookmark, before its
    /// initial-events-end bookmark.
    #[error("streaming list ended or moved on before its initial-events-end bookmark")]
    InitialEventsIncomplete,
    /// A list page's stream ended before the page's metadata (its end).
    #[error("list page ended before its metadata")]
    ListIncomplete,
    /// Writing into the store failed.
    #[error("store update failed: {0}")]
    StoreFailed(#[source] Box<Error>),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
