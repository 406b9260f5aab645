//! The error type of the dynamic layer: each variant names the step that failed.

use kinformer_meta::GroupVersionKind;

/// What went wrong while reading, changing or converting a dynamic object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object has no `apiVersion` or no `kind`, so its type is unknown.
    #[error("object has no {missing}, so its group/version/kind is unknown")]
    MissingTypeMeta {
        /// `apiVersion`, `kind`, or `apiVersion and kind`.
        missing: &'static str,
    },
    /// The `apiVersion` is not `group/version` or `version`.
    #[error("object has an invalid apiVersion")]
    InvalidApiVersion {
        /// The parse error from the metadata layer.
        #[source]
        source: kinformer_meta::Error,
    },
    /// A typed conversion was asked for a kind other than the object's.
    #[error("object is {found}, not the requested {expected}")]
    KindMismatch {
        /// The kind the caller asked for.
        expected: Box<GroupVersionKind>,
        /// The kind the object says it is.
        found: Box<GroupVersionKind>,
    },
    /// A field path was malformed (empty, or with an empty segment).
    #[error("invalid field path {path:?}: {problem}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A path names `apiVersion`, `kind` or `metadata`, which live outside the body.
    #[error("field path {path:?} starts with {field:?}, which is not part of the body; use the object's types or metadata")]
    ReservedField {
        /// The path as given.
        path: String,
        /// The reserved top-level field.
        field: &'static str,
    },
    /// Setting a path would have to go through a value that is not an object.
    #[error("cannot set {path:?}: {at:?} is a {found}, not an object")]
    NotAnObject {
        /// The path being set.
        path: String,
        /// The prefix of the path that holds the non-object value.
        at: String,
        /// The JSON type found there.
        found: &'static str,
    },
    /// The object could not be encoded as JSON.
    #[error("object could not be encoded as JSON")]
    EncodeFailed {
        /// serde_json's description.
        #[source]
        source: serde_json::Error,
    },
    /// A JSON body could not be decoded into the requested type.
    #[error("object could not be decoded into {type_name}")]
    DecodeFailed {
        /// The Rust type decoded into.
        type_name: &'static str,
        /// serde_json's description, with the field that failed.
        #[source]
        source: serde_json::Error,
    },
    /// A YAML document is not valid YAML.
    #[error("document {index}: invalid YAML")]
    YamlParseFailed {
        /// The 1-based position of the document in the stream.
        index: usize,
        /// serde_yaml's description, with line and column.
        #[source]
        source: serde_yaml::Error,
    },
    /// A YAML document is valid YAML but not a Kubernetes object.
    #[error("document {index}: {problem}")]
    InvalidDocument {
        /// The 1-based position of the document in the stream.
        index: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// Objects could not be written as YAML.
    #[error("object {index} could not be written as YAML")]
    YamlEmitFailed {
        /// The 1-based position of the object in the slice.
        index: usize,
        /// serde_yaml's description.
        #[source]
        source: serde_yaml::Error,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
