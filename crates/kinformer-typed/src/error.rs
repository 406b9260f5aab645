//! The error type of the typed layer: what failed while converting objects to and from text.

/// What went wrong while converting a typed object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text was not valid YAML.
    #[error("invalid YAML: {source}")]
    YamlParseFailed {
        /// serde_yaml's description, with the position.
        #[source]
        source: serde_yaml::Error,
    },
    /// The document parsed but does not describe the requested kind.
    #[error("document is not a valid {kind}: {source}")]
    DecodeFailed {
        /// The kind that was requested.
        kind: &'static str,
        /// serde_json's description of the mismatch.
        #[source]
        source: serde_json::Error,
    },
    /// The object could not be encoded.
    #[error("could not encode {kind}: {message}")]
    EncodeFailed {
        /// The kind being encoded.
        kind: &'static str,
        /// What the encoder reported.
        message: String,
    },
    /// A lazily kept body field did not match its type.
    #[error(transparent)]
    Meta(#[from] kinformer_meta::Error),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
