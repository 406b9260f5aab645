//! apps/v1: `Deployment`, `ReplicaSet`, `StatefulSet` and `DaemonSet`.

use kinformer_meta::{IntOrString, LabelSelector, ObjectMeta, Time};

use crate::api::core::v1::{
    PersistentVolumeClaimSpec, PersistentVolumeClaimStatus, PodTemplateSpec,
};

typed_object! {
    /// A Deployment: declarative rollouts of ReplicaSets.
    pub struct Deployment {
        resource: {
            group: "apps", version: "v1", api_version: "apps/v1",
            kind: "Deployment", plural: "deployments", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Desired state.
            "spec" => spec: Box<DeploymentSpec> as DeploymentSpec, spec_mut, set_spec;
            /// Observed state.
            "status" => status: Box<DeploymentStatus> as DeploymentStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// Desired state of a deployment.
    pub struct DeploymentSpec {
        /// Desired number of pods.
        replicas: i32,
        /// Which pods belong to the deployment.
        selector: LabelSelector,
        /// Template of the pods.
        template: PodTemplateSpec,
        /// How old pods are replaced.
        strategy: DeploymentStrategy,
        /// Seconds a new pod must be ready to count as available.
        min_ready_seconds: i32,
        /// Old ReplicaSets kept for rollback.
        revision_history_limit: i32,
        /// Whether the rollout is paused.
        paused: bool,
        /// Seconds before a stalled rollout is reported.
        progress_deadline_seconds: i32,
    }
}

api_struct! {
    /// How a deployment replaces pods.
    pub struct DeploymentStrategy {
        /// `RollingUpdate` or `Recreate`.
        #[serde(rename = "type")]
        type_: String,
        /// Parameters of a rolling update.
        rolling_update: RollingUpdate,
    }
}

api_struct! {
    /// Parameters of a rolling update (deployments and daemon sets).
    pub struct RollingUpdate {
        /// Pods that may be unavailable during the update (`25%` or a count).
        max_unavailable: IntOrString,
        /// Pods that may exist above the desired count (`25%` or a count).
        max_surge: IntOrString,
    }
}

api_struct! {
    /// Observed state of a deployment.
    pub struct DeploymentStatus {
        /// Generation the status describes.
        observed_generation: i64,
        /// Pods targeted.
        replicas: i32,
        /// Pods of the current template.
        updated_replicas: i32,
        /// Ready pods.
        ready_replicas: i32,
        /// Available pods.
        available_replicas: i32,
        /// Pods still missing.
        unavailable_replicas: i32,
        /// Pods being deleted.
        terminating_replicas: i32,
        /// Conditions (`Available`, `Progressing`).
        conditions: Vec<WorkloadCondition>,
        /// Hash collisions when naming ReplicaSets.
        collision_count: i32,
    }
}

api_struct! {
    /// One condition of a workload (deployment, replica set, stateful set, daemon set).
    pub struct WorkloadCondition {
        /// Condition type.
        #[serde(rename = "type")]
        type_: String,
        /// `True`, `False` or `Unknown`.
        status: String,
        /// When the condition was last updated.
        last_update_time: Time,
        /// When the status last changed.
        last_transition_time: Time,
        /// Machine-readable reason.
        reason: String,
        /// Human-readable message.
        message: String,
    }
}

typed_object! {
    /// A ReplicaSet: keeps a number of identical pods running.
    pub struct ReplicaSet {
        resource: {
            group: "apps", version: "v1", api_version: "apps/v1",
            kind: "ReplicaSet", plural: "replicasets", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Desired state.
            "spec" => spec: Box<ReplicaSetSpec> as ReplicaSetSpec, spec_mut, set_spec;
            /// Observed state.
            "status" => status: Box<ReplicaSetStatus> as ReplicaSetStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// Desired state of a replica set.
    pub struct ReplicaSetSpec {
        /// Desired number of pods.
        replicas: i32,
        /// Seconds a new pod must be ready to count as available.
        min_ready_seconds: i32,
        /// Which pods belong to the replica set.
        selector: LabelSelector,
        /// Template of the pods.
        template: PodTemplateSpec,
    }
}

api_struct! {
    /// Observed state of a replica set.
    pub struct ReplicaSetStatus {
        /// Pods existing.
        replicas: i32,
        /// Pods whose labels match the template.
        fully_labeled_replicas: i32,
        /// Ready pods.
        ready_replicas: i32,
        /// Available pods.
        available_replicas: i32,
        /// Pods being deleted.
        terminating_replicas: i32,
        /// Generation the status describes.
        observed_generation: i64,
        /// Conditions.
        conditions: Vec<WorkloadCondition>,
    }
}

typed_object! {
    /// A StatefulSet: pods with stable identities and storage.
    pub struct StatefulSet {
        resource: {
            group: "apps", version: "v1", api_version: "apps/v1",
            kind: "StatefulSet", plural: "statefulsets", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Desired state.
            "spec" => spec: Box<StatefulSetSpec> as StatefulSetSpec, spec_mut, set_spec;
            /// Observed state.
            "status" => status: Box<StatefulSetStatus> as StatefulSetStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// Desired state of a stateful set.
    pub struct StatefulSetSpec {
        /// Desired number of pods.
        replicas: i32,
        /// Which pods belong to the set.
        selector: LabelSelector,
        /// Template of the pods.
        template: PodTemplateSpec,
        /// Claims stamped out per pod.
        volume_claim_templates: Vec<PersistentVolumeClaimTemplate>,
        /// Governing headless service.
        service_name: String,
        /// `OrderedReady` or `Parallel`.
        pod_management_policy: String,
        /// How pods are updated, kept as JSON.
        update_strategy: serde_json::Value,
        /// Old revisions kept.
        revision_history_limit: i32,
        /// Seconds a new pod must be ready to count as available.
        min_ready_seconds: i32,
    }
}

api_struct! {
    /// A claim template of a stateful set (a PersistentVolumeClaim without its type fields).
    pub struct PersistentVolumeClaimTemplate {
        /// Metadata of the claims.
        #[serde(deserialize_with = "crate::object::via_value")]
        metadata: ObjectMeta,
        /// Spec of the claims.
        spec: PersistentVolumeClaimSpec,
        /// Status as embedded in the template (normally empty).
        status: PersistentVolumeClaimStatus,
    }
}

api_struct! {
    /// Observed state of a stateful set.
    pub struct StatefulSetStatus {
        /// Generation the status describes.
        observed_generation: i64,
        /// Pods existing.
        replicas: i32,
        /// Ready pods.
        ready_replicas: i32,
        /// Pods of the current revision.
        current_replicas: i32,
        /// Pods of the update revision.
        updated_replicas: i32,
        /// Current revision.
        current_revision: String,
        /// Revision being rolled out.
        update_revision: String,
        /// Hash collisions when naming revisions.
        collision_count: i32,
        /// Conditions.
        conditions: Vec<WorkloadCondition>,
        /// Available pods.
        available_replicas: i32,
    }
}

typed_object! {
    /// A DaemonSet: one pod on each (selected) node.
    pub struct DaemonSet {
        resource: {
            group: "apps", version: "v1", api_version: "apps/v1",
            kind: "DaemonSet", plural: "daemonsets", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Desired state.
            "spec" => spec: Box<DaemonSetSpec> as DaemonSetSpec, spec_mut, set_spec;
            /// Observed state.
            "status" => status: Box<DaemonSetStatus> as DaemonSetStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// Desired state of a daemon set.
    pub struct DaemonSetSpec {
        /// Which pods belong to the set.
        selector: LabelSelector,
        /// Template of the pods.
        template: PodTemplateSpec,
        /// How pods are replaced.
        update_strategy: DaemonSetUpdateStrategy,
        /// Seconds a new pod must be ready to count as available.
        min_ready_seconds: i32,
        /// Old revisions kept.
        revision_history_limit: i32,
    }
}

api_struct! {
    /// How a daemon set replaces pods.
    pub struct DaemonSetUpdateStrategy {
        /// `RollingUpdate` or `OnDelete`.
        #[serde(rename = "type")]
        type_: String,
        /// Parameters of a rolling update.
        rolling_update: RollingUpdate,
    }
}

api_struct! {
    /// Observed state of a daemon set.
    pub struct DaemonSetStatus {
        /// Nodes running a daemon pod that should.
        current_number_scheduled: i32,
        /// Nodes running a daemon pod that should not.
        number_misscheduled: i32,
        /// Nodes that should run a daemon pod.
        desired_number_scheduled: i32,
        /// Nodes with a ready daemon pod.
        number_ready: i32,
        /// Generation the status describes.
        observed_generation: i64,
        /// Nodes running the current template.
        updated_number_scheduled: i32,
        /// Nodes with an available daemon pod.
        number_available: i32,
        /// Nodes without an available daemon pod.
        number_unavailable: i32,
        /// Hash collisions when naming revisions.
        collision_count: i32,
        /// Conditions.
        conditions: Vec<WorkloadCondition>,
    }
}
