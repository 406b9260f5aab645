//! kinformer-informers: shared informer factories over the typed clientset and the dynamic
//! client.
//!
//! Start with [`SharedInformerFactory`] (typed kinds: `factory.core_v1().pods().informer()`,
//! `.lister()`, `for_resource(gvr)`) and its [`FactoryOptions`] (namespace, list-options tweak,
//! resync, transform); [`DynamicSharedInformerFactory`] does the same for any resource as
//! `DynamicObject`s, and [`MetadataSharedInformerFactory`] caches only metadata
//! (`PartialObjectMetadata`). All start, wait for sync (one result per resource), shut down, and
//! `remove` one informer (freeing its cache) while the others keep running.
//!
//! Modules, in reading order: `options`, `factory`, `typed`, `dynamic`, `metadata`,
//! `informer_set` (the type-erased set every factory keeps, and the methods it gives each
//! factory), `list_watch`, `error`.

pub mod dynamic;
pub mod error;
pub mod factory;
mod informer_set;
pub mod list_watch;
pub mod metadata;
pub mod options;
pub mod typed;

pub use dynamic::DynamicSharedInformerFactory;
pub use error::{Error, Result};
pub use factory::{GenericInformer, SharedInformerFactory, TypedInformer};
pub use list_watch::TweakListOptions;
pub use metadata::MetadataSharedInformerFactory;
pub use options::{FactoryOptions, MetadataTransform};
