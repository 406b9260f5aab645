//! The built-in kinds, one module per API group and version, named as the group's first
//! label (`coordination.k8s.io` is `coordination`).

pub mod apiextensions;
pub mod apps;
pub mod batch;
pub mod coordination;
pub mod core;
pub mod events;
