//! Cluster-scoped kinds of core/v1: `Node` and `Namespace`.

use kinformer_meta::Time;

use super::container::ResourceList;

typed_object! {
    /// A Node: a machine pods run on.
    pub struct Node {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "Node", plural: "nodes", scope: Cluster,
        },
        debug: derive,
        body: {
            /// Desired configuration of the node.
            "spec" => spec: Box<NodeSpec> as NodeSpec, spec_mut, set_spec;
            /// Observed state of the node.
            "status" => status: Box<NodeStatus> as NodeStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// Desired configuration of a node.
    pub struct NodeSpec {
        /// Pod IP range of the node.
        #[serde(rename = "podCIDR")]
        pod_cidr: String,
        /// Pod IP ranges, one per family.
        #[serde(rename = "podCIDRs")]
        pod_cidrs: Vec<String>,
        /// Cloud provider's ID of the machine.
        #[serde(rename = "providerID")]
        provider_id: String,
        /// Whether new pods may be scheduled here.
        unschedulable: bool,
        /// Taints repelling pods.
        taints: Vec<Taint>,
    }
}

api_struct! {
    /// A taint of a node.
    pub struct Taint {
        /// Taint key.
        key: String,
        /// Taint value.
        value: String,
        /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
        effect: String,
        /// When a `NoExecute` taint was added.
        time_added: Time,
    }
}

api_struct! {
    /// Observed state of a node.
    pub struct NodeStatus {
        /// Total resources.
        capacity: ResourceList,
        /// Resources available to pods.
        allocatable: ResourceList,
        /// Deprecated lifecycle phase.
        phase: String,
        /// Conditions (`Ready`, `MemoryPressure`, ...).
        conditions: Vec<NodeCondition>,
        /// Addresses (`InternalIP`, `Hostname`).
        addresses: Vec<NodeAddress>,
        /// Versions and identifiers of the machine.
        node_info: NodeSystemInfo,
        /// Images present on the node.
        images: Vec<ContainerImage>,
        /// Volumes in use (mounted) on the node.
        volumes_in_use: Vec<String>,
    }
}

api_struct! {
    /// One condition of a node.
    pub struct NodeCondition {
        /// Condition type.
        #[serde(rename = "type")]
        type_: String,
        /// `True`, `False` or `Unknown`.
        status: String,
        /// When the kubelet last reported it.
        last_heartbeat_time: Time,
        /// When the status last changed.
        last_transition_time: Time,
        /// Machine-readable reason.
        reason: String,
        /// Human-readable message.
        message: String,
    }
}

api_struct! {
    /// One address of a node.
    pub struct NodeAddress {
        /// `Hostname`, `InternalIP`, `ExternalIP`, ...
        #[serde(rename = "type")]
        type_: String,
        /// The address.
        address: String,
    }
}

api_struct! {
    /// An image present on a node.
    pub struct ContainerImage {
        /// Names and digests of the image.
        names: Vec<String>,
        /// Size in bytes.
        size_bytes: i64,
    }
}

api_struct! {
    /// Versions and identifiers of a node's machine and software.
    pub struct NodeSystemInfo {
        /// Machine ID.
        #[serde(rename = "machineID")]
        machine_id: String,
        /// System UUID.
        #[serde(rename = "systemUUID")]
        system_uuid: String,
        /// Boot ID.
        #[serde(rename = "bootID")]
        boot_id: String,
        /// Kernel version.
        kernel_version: String,
        /// OS image.
        os_image: String,
        /// Container runtime and version.
        container_runtime_version: String,
        /// Kubelet version.
        kubelet_version: String,
        /// Kube-proxy version.
        kube_proxy_version: String,
        /// `linux` or `windows`.
        operating_system: String,
        /// CPU architecture.
        architecture: String,
    }
}

typed_object! {
    /// A Namespace: a scope for names and policies.
    pub struct Namespace {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "Namespace", plural: "namespaces", scope: Cluster,
        },
        debug: derive,
        body: {
            /// Finalizers that must run before deletion.
            "spec" => spec: NamespaceSpec as NamespaceSpec, spec_mut, set_spec;
            /// Phase and conditions.
            "status" => status: Box<NamespaceStatus> as NamespaceStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// Desired state of a namespace.
    pub struct NamespaceSpec {
        /// Finalizers that must run before deletion.
        finalizers: Vec<String>,
    }
}

api_struct! {
    /// Observed state of a namespace.
    pub struct NamespaceStatus {
        /// `Active` or `Terminating`.
        phase: String,
        /// Conditions of the namespace.
        conditions: Vec<NamespaceCondition>,
    }
}

api_struct! {
    /// One condition of a namespace.
    pub struct NamespaceCondition {
        /// Condition type.
        #[serde(rename = "type")]
        type_: String,
        /// `True`, `False` or `Unknown`.
        status: String,
        /// When the status last changed.
        last_transition_time: Time,
        /// Machine-readable reason.
        reason: String,
        /// Human-readable message.
        message: String,
    }
}
