//! The `events.k8s.io` API group: the structured successor of core/v1 Event.

pub mod v1;
