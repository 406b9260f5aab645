//! kinformer-replay: a fake Kubernetes API server that real clients (kubectl, client-go, ours)
//! accept, for tests and demos.
//!
//! Start with [`FakeApiServer::start`] and [`ServerConfig`]; the returned [`RunningServer`]
//! gives the URL, the CA and token, and (through [`Handle`]) direct access to the state and
//! the scripted [`Fault`]s. Behaviour follows the recordings of a real apiserver in
//! `fixtures/recordings/`.
//!
//! Modules, in reading order: `server` (start, stop, restart), `handle` (state from tests),
//! `registry` (served kinds), `store` (objects, resourceVersion, history), `stored` (one object encoded once), `router`,
//! `request`, `list`, `watch`, `handlers` and `write` (the verbs), `patch`, `apply` (server-side apply conflicts), `selector`,
//! `discovery`, `openapi`, `negotiate` (Accept headers), `table`, `metadata`, `response`, `faults`, `tls`, `demo` (realistic objects), `fixture` and `recording` (the two fixture formats), `recorder`, `error`.

// Handlers pass the apiserver's Status by value: it is the response body, built once per failed request.
#![allow(clippy::result_large_err)]

mod apply;
pub mod demo;
mod discovery;
pub mod error;
pub mod faults;
pub mod fixture;
mod handle;
mod handlers;
mod list;
mod metadata;
mod negotiate;
mod openapi;
mod patch;
pub mod recorder;
pub mod recording;
pub mod registry;
mod request;
mod response;
mod router;
mod selector;
mod server;
mod store;
mod stored;
mod table;
pub mod tls;
mod watch;
mod write;

pub use error::{Error, Result};
pub use faults::{Fault, FaultRule};
pub use fixture::Fixture;
pub use handle::Handle;
pub use recorder::{RecorderConfig, RunningRecorder};
pub use recording::Recording;
pub use registry::{Registry, ResourceInfo};
pub use server::{FakeApiServer, RunningServer, ServerConfig, Token};
pub use tls::{ClientIdentity, TlsMaterial};
