//! kinformer-client: how a program reaches a Kubernetes API server.
//!
//! Start with [`Config`] (from a kubeconfig, in-cluster, or a URL) and [`Client`]; then the
//! generic [`Api`] for any typed kind, the typed `clientset`, the `dynamic` client for any
//! group/version/resource, the `metadata` client for names, labels and owners only, and
//! `discovery` plus the REST `mapper`.
//!
//! Modules, in reading order. Part 1, transport: `config` (kubeconfig loading, merging,
//! in-cluster), `auth` (tokens, basic auth, exec plugins), `transport` (TLS, proxy, retries,
//! rate limiting), `client`. Part 2, the API: `request` (verbs and query building), `watch`
//! (the chunked watch decoder), `api`, `clientset`, `dynamic`, `metadata` (type and metadata
//! only, over the wire), `discovery`, `mapper`.

pub mod auth;
pub mod config;
pub mod error;
pub mod transport;

mod client;

pub mod api;
pub mod clientset;
pub mod discovery;
pub mod dynamic;
pub mod mapper;
pub mod metadata;
pub mod request;
pub mod watch;

pub use auth::{Auth, Credentials, Redacted};
pub use client::Client;
pub use config::{Config, Kubeconfig, KubeconfigOptions};
pub use error::{Error, Result};
pub use transport::Body;

// Part 2: the API.
pub use api::{Api, DeleteResponse};
pub use clientset::Clientset;
pub use discovery::DiscoveryClient;
pub use dynamic::{DynamicClient, DynamicResource};
pub use mapper::RestMapper;
pub use metadata::{MetadataClient, MetadataResource, MetadataWatchStream};
pub use request::{
    DeleteParams, GetParams, Patch, PatchParams, PostParams, Preconditions, PropagationPolicy,
};
pub use watch::{WatchConfig, WatchStream};
