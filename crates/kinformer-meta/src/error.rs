//! The error type of the metadata layer: each variant names what was malformed.

/// What went wrong while parsing or validating API machinery values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An object key (`namespace/name` or `name`) was malformed.
    #[error("invalid object key {key:?}: {problem}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A group/version string such as `apps/v1` was malformed.
    #[error("invalid group/version {value:?}: {problem}")]
    InvalidGroupVersion {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A label or field selector could not be parsed.
    #[error("invalid selector {selector:?} at position {position}: {problem}")]
    InvalidSelector {
        /// The selector as given.
        selector: String,
        /// Byte offset of the problem in the selector.
        position: usize,
        /// What is wrong at that position.
        problem: String,
    },
    /// A resource quantity such as `500m` or `1Gi` was malformed.
    #[error("invalid quantity {value:?}: {problem}")]
    InvalidQuantity {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A timestamp was not RFC 3339.
    #[error("invalid timestamp {value:?}: {problem}")]
    InvalidTime {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A lazily kept JSON field could not be decoded into its type.
    #[error("field of type {type_name} could not be decoded: {message}")]
    LazyDecodeFailed {
        /// The Rust type the JSON was decoded into.
        type_name: &'static str,
        /// serde_json's description, with line and column.
        message: String,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
