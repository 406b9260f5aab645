//! `PersistentVolumeClaim`: a pod's request for storage.

use kinformer_meta::{LabelSelector, Time};

use super::container::ResourceList;

typed_object! {
    /// A PersistentVolumeClaim: a request for a volume of some size and access mode.
    pub struct PersistentVolumeClaim {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// What is requested.
            "spec" => spec: Box<PersistentVolumeClaimSpec> as PersistentVolumeClaimSpec,
                spec_mut, set_spec;
            /// What was bound.
            "status" => status: Box<PersistentVolumeClaimStatus> as PersistentVolumeClaimStatus,
                status_mut, set_status;
        }
    }
}

api_struct! {
    /// What a claim requests.
    pub struct PersistentVolumeClaimSpec {
        /// `ReadWriteOnce`, `ReadOnlyMany`, `ReadWriteMany`, `ReadWriteOncePod`.
        access_modes: Vec<String>,
        /// Labels a volume must have to be bound.
        selector: LabelSelector,
        /// Requested size.
        resources: VolumeResourceRequirements,
        /// Name of the bound volume.
        volume_name: String,
        /// Storage class.
        storage_class_name: String,
        /// `Filesystem` or `Block`.
        volume_mode: String,
        /// Object to populate the volume from (snapshot, claim).
        data_source: TypedLocalObjectReference,
        /// Object to populate the volume from, any namespace-local kind.
        data_source_ref: TypedObjectReference,
        /// Volume attributes class.
        volume_attributes_class_name: String,
    }
}

api_struct! {
    /// Storage requested and limited by a claim.
    pub struct VolumeResourceRequirements {
        /// Upper bounds.
        limits: ResourceList,
        /// Requested amounts (`storage`).
        requests: ResourceList,
    }
}

api_struct! {
    /// What a claim got.
    pub struct PersistentVolumeClaimStatus {
        /// `Pending`, `Bound` or `Lost`.
        phase: String,
        /// Access modes of the bound volume.
        access_modes: Vec<String>,
        /// Size of the bound volume.
        capacity: ResourceList,
        /// Conditions (resizing).
        conditions: Vec<PersistentVolumeClaimCondition>,
        /// Resources allocated to the claim (after a resize).
        allocated_resources: ResourceList,
    }
}

api_struct! {
    /// One condition of a claim.
    pub struct PersistentVolumeClaimCondition {
        /// Condition type.
        #[serde(rename = "type")]
        type_: String,
        /// `True`, `False` or `Unknown`.
        status: String,
        /// When it was last probed.
        last_probe_time: Time,
        /// When the status last changed.
        last_transition_time: Time,
        /// Machine-readable reason.
        reason: String,
        /// Human-readable message.
        message: String,
    }
}

api_struct! {
    /// A reference to an object of any kind in the same namespace.
    pub struct TypedLocalObjectReference {
        /// API group, empty for core.
        api_group: String,
        /// Kind of the object.
        kind: String,
        /// Name of the object.
        name: String,
    }
}

api_struct! {
    /// A reference to an object of any kind, possibly in another namespace.
    pub struct TypedObjectReference {
        /// API group, empty for core.
        api_group: String,
        /// Kind of the object.
        kind: String,
        /// Name of the object.
        name: String,
        /// Namespace of the object.
        namespace: String,
    }
}
