//! core/v1: the kinds of the legacy core group (`/api/v1`).
//!
//! Start with `pod` (and `container`, `volume` for its parts); the other files hold one or two
//! kinds each.

pub mod config;
pub mod container;
pub mod event;
pub mod node;
pub mod pod;
pub mod pvc;
pub mod service;
pub mod volume;

pub use config::{BinaryMap, ConfigMap, Secret, ServiceAccount};
pub use container::*;
pub use event::{Event, EventSeries, EventSource, ObjectReference};
pub use node::*;
pub use pod::*;
pub use pvc::*;
pub use service::*;
pub use volume::*;
