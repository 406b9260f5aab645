//! Containers and their parts: image, command, environment, ports, resources, probes,
//! volume mounts and the security context, plus their reported status.

use std::collections::BTreeMap;

use kinformer_meta::{IntOrString, Quantity, Time};

/// Resource amounts by name (`cpu`, `memory`, `nvidia.com/gpu`).
pub type ResourceList = BTreeMap<String, Quantity>;

api_struct! {
    /// One container of a pod.
    pub struct Container {
        /// Name, unique within the pod.
        name: String,
        /// Image reference.
        image: String,
        /// Entrypoint, replacing the image's.
        command: Vec<String>,
        /// Arguments to the entrypoint.
        args: Vec<String>,
        /// Working directory.
        working_dir: String,
        /// Ports the container exposes.
        ports: Vec<ContainerPort>,
        /// Sources of whole sets of environment variables.
        env_from: Vec<EnvFromSource>,
        /// Environment variables.
        env: Vec<EnvVar>,
        /// Requested and limited compute resources.
        resources: ResourceRequirements,
        /// Per-container restart policy (sidecar init containers use `Always`).
        restart_policy: String,
        /// Volumes mounted into the container.
        volume_mounts: Vec<VolumeMount>,
        /// Block devices the container uses.
        volume_devices: Vec<VolumeDevice>,
        /// Probe that restarts the container when failing.
        liveness_probe: Probe,
        /// Probe that removes the pod from service endpoints when failing.
        readiness_probe: Probe,
        /// Probe that holds back the other probes until it succeeds.
        startup_probe: Probe,
        /// Hooks run after start and before stop.
        lifecycle: Lifecycle,
        /// Path of the termination message file.
        termination_message_path: String,
        /// `File` or `FallbackToLogsOnError`.
        termination_message_policy: String,
        /// `Always`, `IfNotPresent` or `Never`.
        image_pull_policy: String,
        /// Security options of the container.
        security_context: SecurityContext,
        /// Whether stdin is kept open.
        stdin: bool,
        /// Whether stdin closes after the first attach.
        stdin_once: bool,
        /// Whether a TTY is allocated.
        tty: bool,
    }
}

impl Container {
    /// A container with a name and an image.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        Container {
            name: Some(name.into()),
            image: Some(image.into()),
            ..Container::default()
        }
    }
}

api_struct! {
    /// A network port of a container.
    pub struct ContainerPort {
        /// IANA name, referable from services.
        name: String,
        /// Port on the host.
        host_port: i32,
        /// Port in the container.
        container_port: i32,
        /// `TCP`, `UDP` or `SCTP`.
        protocol: String,
        /// Host IP to bind the host port to.
        #[serde(rename = "hostIP")]
        host_ip: String,
    }
}

impl ContainerPort {
    /// A TCP port by number.
    pub fn new(container_port: i32) -> Self {
        ContainerPort {
            container_port: Some(container_port),
            ..ContainerPort::default()
        }
    }
}

api_struct! {
    /// One environment variable.
    pub struct EnvVar {
        /// Variable name.
        name: String,
        /// Literal value.
        value: String,
        /// Where the value comes from, instead of `value`.
        value_from: EnvVarSource,
    }
}

impl EnvVar {
    /// A variable with a literal value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        EnvVar {
            name: Some(name.into()),
            value: Some(value.into()),
            ..EnvVar::default()
        }
    }
}

api_struct! {
    /// The source of an environment variable's value.
    pub struct EnvVarSource {
        /// A field of the pod (`metadata.name`, `status.podIP`).
        field_ref: ObjectFieldSelector,
        /// A resource of a container (`limits.cpu`).
        resource_field_ref: ResourceFieldSelector,
        /// A key of a ConfigMap.
        config_map_key_ref: KeySelector,
        /// A key of a Secret.
        secret_key_ref: KeySelector,
    }
}

api_struct! {
    /// Selects a field of the pod by path.
    pub struct ObjectFieldSelector {
        /// Version of the schema the path is written in.
        api_version: String,
        /// Path of the field.
        field_path: String,
    }
}

api_struct! {
    /// Selects a resource of a container.
    pub struct ResourceFieldSelector {
        /// Container name, required for volumes.
        container_name: String,
        /// Resource such as `limits.memory`.
        resource: String,
        /// Unit the value is divided by.
        divisor: Quantity,
    }
}

api_struct! {
    /// Selects a key of a ConfigMap or Secret.
    pub struct KeySelector {
        /// Name of the ConfigMap or Secret.
        name: String,
        /// The key.
        key: String,
        /// Whether the object or key may be missing.
        optional: bool,
    }
}

api_struct! {
    /// A whole ConfigMap or Secret imported as environment variables.
    pub struct EnvFromSource {
        /// Prefix prepended to each key.
        prefix: String,
        /// The ConfigMap.
        config_map_ref: LocalObjectReference,
        /// The Secret.
        secret_ref: LocalObjectReference,
    }
}

api_struct! {
    /// A reference by name to an object in the same namespace.
    pub struct LocalObjectReference {
        /// The name.
        name: String,
    }
}

api_struct! {
    /// Compute resources requested and limited.
    pub struct ResourceRequirements {
        /// Upper bounds.
        limits: ResourceList,
        /// Guaranteed amounts.
        requests: ResourceList,
    }
}

api_struct! {
    /// A volume mounted into a container.
    pub struct VolumeMount {
        /// Name of the pod volume.
        name: String,
        /// Whether the mount is read-only.
        read_only: bool,
        /// Path inside the container.
        mount_path: String,
        /// Sub-path of the volume to mount.
        sub_path: String,
        /// `None`, `HostToContainer` or `Bidirectional`.
        mount_propagation: String,
        /// Sub-path with environment variable expansion.
        sub_path_expr: String,
    }
}

api_struct! {
    /// A raw block device of a container.
    pub struct VolumeDevice {
        /// Name of the pod volume (a block-mode claim).
        name: String,
        /// Device path inside the container.
        device_path: String,
    }
}

api_struct! {
    /// A health check of a container.
    pub struct Probe {
        /// Run a command.
        exec: ExecAction,
        /// Issue an HTTP GET.
        http_get: HttpGetAction,
        /// Open a TCP connection.
        tcp_socket: TcpSocketAction,
        /// Call the gRPC health service.
        grpc: GrpcAction,
        /// Seconds before the first probe.
        initial_delay_seconds: i32,
        /// Seconds before a probe times out.
        timeout_seconds: i32,
        /// Seconds between probes.
        period_seconds: i32,
        /// Successes in a row that count as success.
        success_threshold: i32,
        /// Failures in a row that count as failure.
        failure_threshold: i32,
        /// Grace period when the probe kills the container.
        termination_grace_period_seconds: i64,
    }
}

api_struct! {
    /// A command run inside the container.
    pub struct ExecAction {
        /// Command line.
        command: Vec<String>,
    }
}

api_struct! {
    /// An HTTP GET against the container.
    pub struct HttpGetAction {
        /// Request path.
        path: String,
        /// Port number or name.
        port: IntOrString,
        /// Host, default the pod IP.
        host: String,
        /// `HTTP` or `HTTPS`.
        scheme: String,
        /// Extra request headers.
        http_headers: Vec<HttpHeader>,
    }
}

api_struct! {
    /// An HTTP header of a probe.
    pub struct HttpHeader {
        /// Header name.
        name: String,
        /// Header value.
        value: String,
    }
}

api_struct! {
    /// A TCP connection attempt.
    pub struct TcpSocketAction {
        /// Port number or name.
        port: IntOrString,
        /// Host, default the pod IP.
        host: String,
    }
}

api_struct! {
    /// A gRPC health check.
    pub struct GrpcAction {
        /// Port number.
        port: i32,
        /// Service name sent in the request.
        service: String,
    }
}

api_struct! {
    /// Lifecycle hooks of a container.
    pub struct Lifecycle {
        /// Run right after the container starts.
        post_start: LifecycleHandler,
        /// Run before the container is stopped.
        pre_stop: LifecycleHandler,
    }
}

api_struct! {
    /// One lifecycle hook.
    pub struct LifecycleHandler {
        /// Run a command.
        exec: ExecAction,
        /// Issue an HTTP GET.
        http_get: HttpGetAction,
        /// Open a TCP connection.
        tcp_socket: TcpSocketAction,
    }
}

api_struct! {
    /// Security options of a container.
    pub struct SecurityContext {
        /// Run privileged.
        privileged: bool,
        /// User ID of the process.
        run_as_user: i64,
        /// Group ID of the process.
        run_as_group: i64,
        /// Refuse to start as root.
        run_as_non_root: bool,
        /// Mount the root filesystem read-only.
        read_only_root_filesystem: bool,
        /// Allow gaining more privileges than the parent.
        allow_privilege_escalation: bool,
        /// Capabilities added and dropped.
        capabilities: Capabilities,
    }
}

api_struct! {
    /// Linux capabilities added to and dropped from a container.
    pub struct Capabilities {
        /// Added capabilities.
        add: Vec<String>,
        /// Dropped capabilities.
        drop: Vec<String>,
    }
}

api_struct! {
    /// The reported state of one container of a pod.
    pub struct ContainerStatus {
        /// Container name.
        name: String,
        /// Current state.
        state: ContainerState,
        /// State of the previous run.
        last_state: ContainerState,
        /// Whether the readiness probe passed.
        ready: bool,
        /// Number of restarts.
        restart_count: i32,
        /// Image running.
        image: String,
        /// Image digest running.
        #[serde(rename = "imageID")]
        image_id: String,
        /// Runtime container ID (`containerd://...`).
        #[serde(rename = "containerID")]
        container_id: String,
        /// Whether the container has started (startup probe passed).
        started: bool,
    }
}

api_struct! {
    /// A container's state: exactly one of the three is set.
    pub struct ContainerState {
        /// Not running yet.
        waiting: ContainerStateWaiting,
        /// Running.
        running: ContainerStateRunning,
        /// Finished.
        terminated: ContainerStateTerminated,
    }
}

api_struct! {
    /// A container waiting to run.
    pub struct ContainerStateWaiting {
        /// Why (`ContainerCreating`, `CrashLoopBackOff`).
        reason: String,
        /// Details.
        message: String,
    }
}

api_struct! {
    /// A running container.
    pub struct ContainerStateRunning {
        /// When it started.
        started_at: Time,
    }
}

api_struct! {
    /// A finished container.
    pub struct ContainerStateTerminated {
        /// Exit status.
        exit_code: i32,
        /// Signal that ended it.
        signal: i32,
        /// Why (`Completed`, `OOMKilled`).
        reason: String,
        /// Details.
        message: String,
        /// When it started.
        started_at: Time,
        /// When it finished.
        finished_at: Time,
        /// Runtime container ID.
        #[serde(rename = "containerID")]
        container_id: String,
    }
}
