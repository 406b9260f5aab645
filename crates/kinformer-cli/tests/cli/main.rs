//! The `kinformer` binary against an in-process fake API server (one test binary, one module
//! per area): `get` in every output mode and `api-resources`, the connection flags, `watch`
//! and `demo`, `apply` and `delete`, `record` through a kubeconfig, and the error cases.

mod common;

mod apply;
mod errors;
mod flags;
mod get;
mod record;
mod watch;
