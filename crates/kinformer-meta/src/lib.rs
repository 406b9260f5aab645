//! kinformer-meta: the API machinery every other kinformer crate builds on.
//!
//! Start with [`ObjectMeta`] and the [`Object`] / [`Resource`] traits: later layers (the
//! cache, informers, clients) are generic over them, so they work alike for typed kinds,
//! dynamic objects and metadata-only objects. [`WatchEvent`] is one frame of a watch,
//! [`Status`] the API's error object, [`key`] the cache key functions, and [`Lazy`] and [`Packed`]
//! the compact field representations that keep cached objects small.
//!
//! Modules, in reading order: `object_meta`, `resource`, `gvk`, `key`, `watch`, `status`,
//! `list_options`, `lazy`, `packed`, `string_map`, `labels` and `fields` (selectors), `label_selector`, `time`,
//! `quantity`, `int_or_string`, `error`.

pub mod error;
pub mod fields;
pub mod gvk;
pub mod int_or_string;
pub mod key;
pub mod label_selector;
pub mod labels;
pub mod lazy;
pub mod list_options;
pub mod object_meta;
pub mod packed;
pub mod quantity;
pub mod resource;
pub mod status;
pub mod string_map;
pub mod time;
pub mod watch;

pub use error::{Error, Result};
pub use gvk::{GroupResource, GroupVersion, GroupVersionKind, GroupVersionResource};
pub use int_or_string::IntOrString;
pub use key::{meta_namespace_key, split_meta_namespace_key};
pub use label_selector::{LabelSelector, LabelSelectorRequirement};
pub use lazy::Lazy;
pub use list_options::{ListOptions, ObjectList, ResourceVersionMatch};
pub use object_meta::{ListMeta, ManagedFieldsEntry, ObjectMeta, OwnerReference, TypeMeta};
pub use packed::Packed;
pub use quantity::{ParsedQuantity, Quantity, QuantityFormat};
pub use resource::{ApiResource, Object, PartialObjectMetadata, Resource, Scope};
pub use status::{Status, StatusCause, StatusDetails};
pub use string_map::StringMap;
pub use time::{MicroTime, Time};
pub use watch::{Bookmark, WatchEvent};
