//! kinformer-informers: shared informer factories over the typed clientset, the dynamic client
//! and the metadata client.
//!
//! Start with [`SharedInformerFactory`] (typed kinds: `factory.core_v1().pods().informer()`,
//! `.lister()`, `for_resource(gvr)`) and its [`FactoryOptions`] (namespace, list-options tweak,
//! resync, transform); [`DynamicSharedInformerFactory`] does the same for any resource as
//! `DynamicObject`s, and [`MetadataSharedInformerFactory`] caches only metadata
//! (`PartialObjectMetadata`; only metadata crosses the wire). All start, wait for sync (one
//! result per resource), shut down, and `remove` one informer (freeing its cache) while the
//! others keep running.
//! [`MultiClusterInformerFactory`] holds one typed factory per cluster of a fleet: clusters join
//! and leave while the others run, and a setup said once applies to every cluster.
//!
//! Modules, in reading order: `options`, `factory`, `typed`, `dynamic`, `metadata`,
//! `multi_cluster`, `informer_set` (the type-erased set every factory keeps, and the methods it gives each
//! factory), `list_watch`, `error`.

pub mod dynamic;
pub mod error;
pub mod factory;
mod informer_set;
pub mod list_watch;
pub mod metadata;
pub mod multi_cluster;
pub mod options;
pub mod typed;

pub use dynamic::DynamicSharedInformerFactory;
pub use error::{Error, Result};
pub use factory::{GenericInformer, SharedInformerFactory, TypedInformer};
pub use list_watch::TweakListOptions;
pub use metadata::MetadataSharedInformerFactory;
pub use multi_cluster::{FleetSyncResults, MultiClusterInformerFactory};
pub use options::{FactoryOptions, MetadataTransform};
