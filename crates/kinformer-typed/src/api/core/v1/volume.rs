//! Pod volumes: the common sources (ConfigMap, Secret, emptyDir, hostPath, PVC, projected,
//! downward API, CSI); rarer and deprecated ones round-trip through `Volume::other`.

use kinformer_meta::{Quantity, StringMap};

use super::container::{LocalObjectReference, ObjectFieldSelector, ResourceFieldSelector};

api_struct! {
    /// A named volume of a pod; one source field is set.
    pub struct Volume {
        /// Name, referenced by volume mounts.
        name: String,
        /// A directory on the node.
        host_path: HostPathVolumeSource,
        /// A scratch directory living as long as the pod.
        empty_dir: EmptyDirVolumeSource,
        /// The keys of a Secret as files.
        secret: SecretVolumeSource,
        /// A PersistentVolumeClaim.
        persistent_volume_claim: PersistentVolumeClaimVolumeSource,
        /// Pod fields as files.
        #[serde(rename = "downwardAPI")]
        downward_api: DownwardApiVolumeSource,
        /// The keys of a ConfigMap as files.
        config_map: ConfigMapVolumeSource,
        /// Several sources merged into one directory (service account tokens).
        projected: ProjectedVolumeSource,
        /// A CSI driver's ephemeral volume.
        csi: CsiVolumeSource,
    }
}

impl Volume {
    /// A volume with a name and no source yet.
    pub fn new(name: impl Into<String>) -> Self {
        Volume {
            name: Some(name.into()),
            ..Volume::default()
        }
    }
}

api_struct! {
    /// A directory of the node mounted into the pod.
    pub struct HostPathVolumeSource {
        /// Path on the node.
        path: String,
        /// Expected type (`Directory`, `FileOrCreate`, ...).
        #[serde(rename = "type")]
        type_: String,
    }
}

api_struct! {
    /// A scratch directory.
    pub struct EmptyDirVolumeSource {
        /// `""` (node disk) or `Memory`.
        medium: String,
        /// Maximum size.
        size_limit: Quantity,
    }
}

api_struct! {
    /// A file of a projected or ConfigMap/Secret volume.
    pub struct KeyToPath {
        /// Key in the object.
        key: String,
        /// Relative file path.
        path: String,
        /// File mode bits.
        mode: i32,
    }
}

api_struct! {
    /// A Secret as a volume.
    pub struct SecretVolumeSource {
        /// Name of the Secret.
        secret_name: String,
        /// Which keys become which files; all when absent.
        items: Vec<KeyToPath>,
        /// Mode bits of the files.
        default_mode: i32,
        /// Whether the Secret may be missing.
        optional: bool,
    }
}

api_struct! {
    /// A ConfigMap as a volume.
    pub struct ConfigMapVolumeSource {
        /// Name of the ConfigMap.
        name: String,
        /// Which keys become which files; all when absent.
        items: Vec<KeyToPath>,
        /// Mode bits of the files.
        default_mode: i32,
        /// Whether the ConfigMap may be missing.
        optional: bool,
    }
}

api_struct! {
    /// A PersistentVolumeClaim as a volume.
    pub struct PersistentVolumeClaimVolumeSource {
        /// Name of the claim in the pod's namespace.
        claim_name: String,
        /// Mount read-only.
        read_only: bool,
    }
}

api_struct! {
    /// Pod fields exposed as files.
    pub struct DownwardApiVolumeSource {
        /// The files.
        items: Vec<DownwardApiVolumeFile>,
        /// Mode bits of the files.
        default_mode: i32,
    }
}

api_struct! {
    /// One file of a downward API volume.
    pub struct DownwardApiVolumeFile {
        /// Relative file path.
        path: String,
        /// A pod field.
        field_ref: ObjectFieldSelector,
        /// A container resource.
        resource_field_ref: ResourceFieldSelector,
        /// File mode bits.
        mode: i32,
    }
}

api_struct! {
    /// Several sources projected into one directory.
    pub struct ProjectedVolumeSource {
        /// The sources.
        sources: Vec<VolumeProjection>,
        /// Mode bits of the files.
        default_mode: i32,
    }
}

api_struct! {
    /// One source of a projected volume; one field is set.
    pub struct VolumeProjection {
        /// Keys of a Secret.
        secret: ProjectedObjectSource,
        /// Pod fields.
        #[serde(rename = "downwardAPI")]
        downward_api: DownwardApiVolumeSource,
        /// Keys of a ConfigMap.
        config_map: ProjectedObjectSource,
        /// A bound service account token.
        service_account_token: ServiceAccountTokenProjection,
    }
}

api_struct! {
    /// A ConfigMap or Secret inside a projected volume.
    pub struct ProjectedObjectSource {
        /// Name of the object.
        name: String,
        /// Which keys become which files.
        items: Vec<KeyToPath>,
        /// Whether the object may be missing.
        optional: bool,
    }
}

api_struct! {
    /// A service account token projected into a file.
    pub struct ServiceAccountTokenProjection {
        /// Intended audience.
        audience: String,
        /// Requested validity.
        expiration_seconds: i64,
        /// Relative file path.
        path: String,
    }
}

api_struct! {
    /// A CSI driver's ephemeral volume.
    pub struct CsiVolumeSource {
        /// Driver name.
        driver: String,
        /// Mount read-only.
        read_only: bool,
        /// Filesystem type.
        fs_type: String,
        /// Driver-specific attributes.
        volume_attributes: StringMap,
        /// Secret passed to the driver.
        node_publish_secret_ref: LocalObjectReference,
    }
}
