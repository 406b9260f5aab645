//! The test-side handle to a running server's state: create, update and delete objects
//! directly (watches see the changes), read the resourceVersion, compact, and arm faults.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::faults::FaultRule;
use crate::registry::ResourceInfo;
use crate::server::Shared;
use crate::store::object_key;
use crate::write::{self, Deleted, Preconditions, Writer};

/// A cheap, cloneable handle to the server's state.
#[derive(Clone, Debug)]
pub struct Handle {
    shared: Arc<Shared>,
}

fn rejected(status: kinformer_meta::Status) -> Error {
    Error::Rejected {
        status: Box::new(status),
    }
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Handle { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn resource_of(&self, object: &Value) -> Result<Arc<ResourceInfo>> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        self.resource(api_version, kind)
    }

    fn resource(&self, api_version: &str, kind: &str) -> Result<Arc<ResourceInfo>> {
        self.shared
            .store()
            .registry
            .find_kind(api_version, kind)
            .ok_or_else(|| Error::UnknownKind {
                api_version: api_version.into(),
                kind: kind.into(),
            })
    }

    /// Creates an object (needs `apiVersion`, `kind`, a name or generateName; a namespaced
    /// object without a namespace goes to `default`). Returns the stored object.
    pub fn create(&self, object: Value) -> Result<Value> {
        let info = self.resource_of(&object)?;
        write::create(&self.shared, &info, None, object, Writer::HANDLE).map_err(rejected)
    }

    /// Replaces an object, status included. A `metadata.resourceVersion` in it must be current
    /// (409 Conflict otherwise); leave it out for an unconditional update.
    pub fn update(&self, object: Value) -> Result<Value> {
        let info = self.resource_of(&object)?;
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(String::from);
        let namespace = namespace.or_else(|| info.namespaced.then(|| "default".to_string()));
        let mut store_info = (*info).clone();
        // The handle writes the whole object, status included, like a controller plus kubelet.
        store_info.status_subresource = false;
        write::update(
            &self.shared,
            &store_info,
            namespace.as_deref(),
            &name,
            object,
            Writer::HANDLE,
        )
        .map_err(rejected)
    }

    /// Deletes an object. Returns its last state when it is gone, or the object with its
    /// deletionTimestamp when finalizers keep it; `Ok(None)` when it did not exist.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>> {
        let info = self.resource(api_version, kind)?;
        let namespace = namespace.or(info.namespaced.then_some("default"));
        match write::delete(
            &self.shared,
            &info,
            namespace,
            name,
            &Preconditions::default(),
        ) {
            Ok(Deleted::Gone(last)) | Ok(Deleted::Pending(last)) => Ok(Some(last)),
            Err(status) if status.code == 404 => Ok(None),
            Err(status) => Err(rejected(status)),
        }
    }

    /// One object, if it exists.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let info = self.resource(api_version, kind).ok()?;
        let namespace = namespace.or(info.namespaced.then_some("default"));
        let key = object_key(namespace.filter(|_| info.namespaced), name);
        let object = self.shared.store().get(&info, &key)?;
        Some(object.value())
    }

    /// Every object of a kind (in one namespace, or all), in key order.
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        let Ok(info) = self.resource(api_version, kind) else {
            return Vec::new();
        };
        let store = self.shared.store();
        let prefix = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
        let Some(snapshot) = store.snapshot(&info, store.resource_version()) else {
            return Vec::new();
        };
        snapshot
            .range(&prefix, None)
            .map(|(_, v)| v.value())
            .collect()
    }

    /// The current resourceVersion (the last write's, like etcd's revision).
    pub fn resource_version(&self) -> u64 {
        self.shared.store().resource_version()
    }

    /// The oldest resourceVersion a watch can still start from.
    pub fn compacted_resource_version(&self) -> u64 {
        self.shared.store().compacted()
    }

    /// Compacts the whole history: watches from any older resourceVersion get 410 Expired,
    /// continue tokens from before expire.
    pub fn compact(&self) {
        let mut store = self.shared.store();
        let rv = store.resource_version();
        store.compact(rv);
    }

    /// Compacts the history up to `resource_version`.
    pub fn compact_to(&self, resource_version: u64) {
        self.shared.store().compact(resource_version);
    }

    /// Arms a fault.
    pub fn inject(&self, rule: FaultRule) {
        self.shared.faults().add(rule);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Serves an extra resource from now on.
    pub fn register(&self, info: ResourceInfo) {
        self.shared.store().registry.register(info);
    }
}
