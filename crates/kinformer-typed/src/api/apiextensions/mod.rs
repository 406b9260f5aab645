//! The `apiextensions.k8s.io` API group: custom resource definitions.

pub mod v1;
