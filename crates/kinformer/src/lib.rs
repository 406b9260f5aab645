//! kinformer: a Kubernetes client and informer runtime, the Rust answer to client-go.
//!
//! This facade re-exports the layered crates under short names, lowest layer first.
//! Start reading at `docs/ARCHITECTURE.md` in the repository.

pub use kinformer_cache as cache;
pub use kinformer_client as client;
pub use kinformer_dynamic as dynamic;
pub use kinformer_informers as informers;
pub use kinformer_meta as meta;
pub use kinformer_typed as typed;
pub use kinformer_workqueue as workqueue;
