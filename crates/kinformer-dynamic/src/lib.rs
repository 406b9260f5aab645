//! kinformer-dynamic: objects of any kind, known only at run time (client-go's
//! `unstructured`).
//!
//! Start with [`DynamicObject`]: `apiVersion`/`kind`, [`ObjectMeta`](kinformer_meta::ObjectMeta)
//! and the rest of the body as JSON. It implements [`kinformer_meta::Object`], so caches and
//! informers hold it like any typed kind. Read nested fields by dotted path
//! ([`DynamicObject::get_i64`]`("spec.replicas")`), change them with
//! [`DynamicObject::set`] and [`DynamicObject::remove`], convert to and from typed kinds with
//! [`DynamicObject::from_typed`] and [`DynamicObject::try_into_typed`], and read or write YAML
//! manifests with [`from_yaml_documents`] and [`to_yaml`].
//!
//! Modules, in reading order: `dynamic_object`, `path`, `yaml`, `error`.

pub mod dynamic_object;
pub mod error;
mod path;
pub mod yaml;

pub use dynamic_object::DynamicObject;
pub use error::{Error, Result};
pub use yaml::{from_yaml_documents, to_yaml};
