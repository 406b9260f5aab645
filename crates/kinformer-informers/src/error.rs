//! The informers crate's error type: each variant names the step that failed.

use kinformer_meta::GroupVersionResource;

/// What went wrong asking a factory for an informer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `for_resource` was asked for a group/version/resource the typed factory has no kind for.
    #[error("no typed informer for resource {gvr}")]
    UnknownResource {
        /// The resource asked for.
        gvr: GroupVersionResource,
    },
    /// An informer exists for the resource, but of another object type.
    #[error("the informer for {gvr} holds another object type")]
    TypeMismatch {
        /// The resource asked for.
        gvr: GroupVersionResource,
    },
    /// A multi-cluster factory already has a cluster of that name.
    #[error("cluster {cluster} is already in the fleet")]
    ClusterExists {
        /// The name asked for.
        cluster: String,
    },
    /// The factory was shut down; it makes no more informers.
    #[error("informer factory shut down")]
    ShutDown,
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
