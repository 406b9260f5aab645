//! `Pod`: the smallest deployable unit, with its spec, status and the pod template that
//! workload controllers stamp pods from.

use kinformer_meta::{ObjectMeta, StringMap, Time};

use super::container::{Container, ContainerStatus, LocalObjectReference, ResourceList};
use super::volume::Volume;

typed_object! {
    /// A Pod: containers scheduled together on one node.
    ///
    /// ```
    /// use kinformer_typed::{Container, Pod};
    /// let mut pod = Pod::new("web").with_namespace("default");
    /// pod.spec_mut().unwrap().containers = Some(vec![Container::new("app", "nginx:1.27")]);
    /// let json = serde_json::to_string(&pod).unwrap();
    /// assert!(json.starts_with(r#"{"apiVersion":"v1","kind":"Pod","metadata""#));
    /// ```
    pub struct Pod {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "Pod", plural: "pods", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Desired state, decoded on first read.
            "spec" => spec: Box<PodSpec> as PodSpec, spec_mut, set_spec;
            /// Last observed state, decoded on first read.
            "status" => status: Box<PodStatus> as PodStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// What a pod should run and where.
    pub struct PodSpec {
        /// Volumes the containers can mount.
        volumes: Vec<Volume>,
        /// Containers run to completion, in order, before the others start.
        init_containers: Vec<Container>,
        /// The main containers.
        containers: Vec<Container>,
        /// Debugging containers added to a running pod (`targetContainerName` is in `other`).
        ephemeral_containers: Vec<Container>,
        /// `Always`, `OnFailure` or `Never`.
        restart_policy: String,
        /// Seconds granted to stop gracefully.
        termination_grace_period_seconds: i64,
        /// Seconds the pod may run before it is failed.
        active_deadline_seconds: i64,
        /// `ClusterFirst`, `Default`, `None`, ...
        dns_policy: String,
        /// Labels a node must have.
        node_selector: StringMap,
        /// Service account the pod runs as.
        service_account_name: String,
        /// Deprecated alias of `serviceAccountName`.
        service_account: String,
        /// Whether the service account token is mounted.
        automount_service_account_token: bool,
        /// The node the pod is bound to.
        node_name: String,
        /// Use the node's network namespace.
        host_network: bool,
        /// Use the node's PID namespace.
        #[serde(rename = "hostPID")]
        host_pid: bool,
        /// Use the node's IPC namespace.
        #[serde(rename = "hostIPC")]
        host_ipc: bool,
        /// Share one PID namespace between the containers.
        share_process_namespace: bool,
        /// Pod-level security options, kept as JSON.
        security_context: serde_json::Value,
        /// Secrets used to pull images.
        image_pull_secrets: Vec<LocalObjectReference>,
        /// Hostname inside the pod.
        hostname: String,
        /// Subdomain for the pod's DNS name.
        subdomain: String,
        /// Node and pod (anti-)affinity rules, kept as JSON.
        affinity: serde_json::Value,
        /// Scheduler that places the pod.
        scheduler_name: String,
        /// Taints the pod tolerates.
        tolerations: Vec<Toleration>,
        /// Priority class name.
        priority_class_name: String,
        /// Resolved priority.
        priority: i32,
        /// Extra readiness conditions.
        readiness_gates: Vec<PodReadinessGate>,
        /// Runtime class.
        runtime_class_name: String,
        /// Whether service environment variables are injected.
        enable_service_links: bool,
        /// `PreemptLowerPriority` or `Never`.
        preemption_policy: String,
        /// Resources the runtime class adds on top of the containers'.
        overhead: ResourceList,
        /// Extra `/etc/hosts` entries.
        host_aliases: Vec<HostAlias>,
        /// DNS resolver settings, kept as JSON.
        dns_config: serde_json::Value,
        /// Use a user namespace (`false`) or the host's (`true`).
        host_users: bool,
        /// Use the FQDN as the hostname.
        #[serde(rename = "setHostnameAsFQDN")]
        set_hostname_as_fqdn: bool,
        /// Gates that hold the pod back from scheduling.
        scheduling_gates: Vec<PodSchedulingGate>,
        /// How pods spread over topology domains, kept as JSON.
        topology_spread_constraints: Vec<serde_json::Value>,
    }
}

api_struct! {
    /// A toleration of node taints.
    pub struct Toleration {
        /// Taint key; empty matches all keys.
        key: String,
        /// `Exists` or `Equal`.
        operator: String,
        /// Taint value for `Equal`.
        value: String,
        /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
        effect: String,
        /// How long a `NoExecute` taint is tolerated.
        toleration_seconds: i64,
    }
}

api_struct! {
    /// An `/etc/hosts` entry of a pod.
    pub struct HostAlias {
        /// The IP address.
        ip: String,
        /// Hostnames for the address.
        hostnames: Vec<String>,
    }
}

api_struct! {
    /// A gate that holds a pod back from scheduling until removed.
    pub struct PodSchedulingGate {
        /// Gate name.
        name: String,
    }
}

api_struct! {
    /// An extra condition a pod needs before it counts as ready.
    pub struct PodReadinessGate {
        /// The condition type.
        condition_type: String,
    }
}

api_struct! {
    /// What a pod is doing, as the kubelet last reported it.
    pub struct PodStatus {
        /// Generation of the spec this status describes.
        observed_generation: i64,
        /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
        phase: String,
        /// Conditions (`PodScheduled`, `Initialized`, `ContainersReady`, `Ready`).
        conditions: Vec<PodCondition>,
        /// Human-readable detail.
        message: String,
        /// Short reason (`Evicted`).
        reason: String,
        /// Node chosen by preemption.
        nominated_node_name: String,
        /// IP of the node.
        #[serde(rename = "hostIP")]
        host_ip: String,
        /// IPs of the node.
        #[serde(rename = "hostIPs")]
        host_ips: Vec<HostIp>,
        /// IP of the pod.
        #[serde(rename = "podIP")]
        pod_ip: String,
        /// IPs of the pod (dual stack).
        #[serde(rename = "podIPs")]
        pod_ips: Vec<PodIp>,
        /// When the kubelet accepted the pod.
        start_time: Time,
        /// States of the init containers.
        init_container_statuses: Vec<ContainerStatus>,
        /// States of the containers.
        container_statuses: Vec<ContainerStatus>,
        /// `Guaranteed`, `Burstable` or `BestEffort`.
        qos_class: String,
        /// States of the ephemeral containers.
        ephemeral_container_statuses: Vec<ContainerStatus>,
    }
}

api_struct! {
    /// One condition of a pod.
    pub struct PodCondition {
        /// Condition type (`Ready`).
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
    /// One IP of a pod.
    pub struct PodIp {
        /// The address.
        ip: String,
    }
}

api_struct! {
    /// One IP of a node hosting a pod.
    pub struct HostIp {
        /// The address.
        ip: String,
    }
}

api_struct! {
    /// The pod template of a workload: metadata and spec of the pods it creates.
    pub struct PodTemplateSpec {
        /// Labels and annotations of the pods.
        #[serde(deserialize_with = "crate::object::via_value")]
        metadata: ObjectMeta,
        /// Spec of the pods.
        spec: PodSpec,
    }
}

impl PodSpec {
    /// The container named `name`.
    pub fn container(&self, name: &str) -> Option<&Container> {
        self.containers
            .as_deref()?
            .iter()
            .find(|container| container.name.as_deref() == Some(name))
    }
}

impl PodStatus {
    /// The condition of type `type_`.
    pub fn condition(&self, type_: &str) -> Option<&PodCondition> {
        self.conditions
            .as_deref()?
            .iter()
            .find(|condition| condition.type_.as_deref() == Some(type_))
    }
}

impl Pod {
    /// True when the pod's `Ready` condition is `True`; false when unknown or undecodable.
    pub fn is_ready(&self) -> bool {
        matches!(self.status(), Ok(Some(status))
            if status.condition("Ready").and_then(|c| c.status.as_deref()) == Some("True"))
    }
}
