//! Networking kinds of core/v1: `Service` and `Endpoints`.

use kinformer_meta::{IntOrString, StringMap, Time};

use super::event::ObjectReference;

typed_object! {
    /// A Service: a stable address in front of a set of pods.
    pub struct Service {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "Service", plural: "services", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Desired behaviour.
            "spec" => spec: Box<ServiceSpec> as ServiceSpec, spec_mut, set_spec;
            /// Observed state (load balancer).
            "status" => status: Box<ServiceStatus> as ServiceStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// What a service exposes and how.
    pub struct ServiceSpec {
        /// The exposed ports.
        ports: Vec<ServicePort>,
        /// Labels of the pods behind the service.
        selector: StringMap,
        /// Virtual IP (`None` for headless).
        #[serde(rename = "clusterIP")]
        cluster_ip: String,
        /// Virtual IPs, one per family.
        #[serde(rename = "clusterIPs")]
        cluster_ips: Vec<String>,
        /// `ClusterIP`, `NodePort`, `LoadBalancer` or `ExternalName`.
        #[serde(rename = "type")]
        type_: String,
        /// Extra IPs routed to the service.
        #[serde(rename = "externalIPs")]
        external_ips: Vec<String>,
        /// Requested load balancer IP (deprecated).
        #[serde(rename = "loadBalancerIP")]
        load_balancer_ip: String,
        /// Client ranges allowed through the load balancer.
        load_balancer_source_ranges: Vec<String>,
        /// Node port for health checks with `Local` traffic policy.
        health_check_node_port: i32,
        /// Whether node ports are allocated for a load balancer.
        allocate_load_balancer_node_ports: bool,
        /// Load balancer implementation.
        load_balancer_class: String,
        /// `None` or `ClientIP`.
        session_affinity: String,
        /// DNS name for `ExternalName` services.
        external_name: String,
        /// `Cluster` or `Local`.
        external_traffic_policy: String,
        /// Whether not-ready pods get DNS records.
        publish_not_ready_addresses: bool,
        /// `IPv4`, `IPv6`.
        ip_families: Vec<String>,
        /// `SingleStack`, `PreferDualStack` or `RequireDualStack`.
        ip_family_policy: String,
        /// `Cluster` or `Local`.
        internal_traffic_policy: String,
    }
}

api_struct! {
    /// One port of a service.
    pub struct ServicePort {
        /// Port name, unique in the service.
        name: String,
        /// `TCP`, `UDP` or `SCTP`.
        protocol: String,
        /// Application protocol hint.
        app_protocol: String,
        /// Port of the service.
        port: i32,
        /// Port number or name on the pods.
        target_port: IntOrString,
        /// Port on every node.
        node_port: i32,
    }
}

api_struct! {
    /// Observed state of a service.
    pub struct ServiceStatus {
        /// Load balancer state.
        load_balancer: LoadBalancerStatus,
        /// Conditions of the service.
        conditions: Vec<Condition>,
    }
}

api_struct! {
    /// Ingress points of a load balancer.
    pub struct LoadBalancerStatus {
        /// The ingress points.
        ingress: Vec<LoadBalancerIngress>,
    }
}

api_struct! {
    /// One ingress point of a load balancer.
    pub struct LoadBalancerIngress {
        /// IP address.
        ip: String,
        /// DNS name.
        hostname: String,
    }
}

api_struct! {
    /// The standard condition shape (`metav1.Condition`).
    pub struct Condition {
        /// Condition type.
        #[serde(rename = "type")]
        type_: String,
        /// `True`, `False` or `Unknown`.
        status: String,
        /// Generation the condition was set for.
        observed_generation: i64,
        /// When the status last changed.
        last_transition_time: Time,
        /// Machine-readable reason.
        reason: String,
        /// Human-readable message.
        message: String,
    }
}

typed_object! {
    /// Endpoints: the addresses behind a service (legacy; EndpointSlices replace it).
    pub struct Endpoints {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "Endpoints", plural: "endpoints", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Sets of addresses sharing the same ports.
            "subsets" => subsets: Vec<EndpointSubset> as Vec<EndpointSubset>, subsets_mut, set_subsets;
        }
    }
}

api_struct! {
    /// Addresses sharing a set of ports.
    pub struct EndpointSubset {
        /// Ready addresses.
        addresses: Vec<EndpointAddress>,
        /// Addresses not ready yet.
        not_ready_addresses: Vec<EndpointAddress>,
        /// The ports.
        ports: Vec<EndpointPort>,
    }
}

api_struct! {
    /// One endpoint address.
    pub struct EndpointAddress {
        /// IP address.
        ip: String,
        /// Hostname.
        hostname: String,
        /// Node hosting it.
        node_name: String,
        /// The pod behind it.
        target_ref: ObjectReference,
    }
}

api_struct! {
    /// One endpoint port.
    pub struct EndpointPort {
        /// Port name.
        name: String,
        /// Port number.
        port: i32,
        /// `TCP`, `UDP` or `SCTP`.
        protocol: String,
        /// Application protocol hint.
        app_protocol: String,
    }
}
