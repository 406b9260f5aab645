//! batch/v1: `Job` and `CronJob`.

use kinformer_meta::{LabelSelector, ObjectMeta, Time};

use crate::api::core::v1::{ObjectReference, PodTemplateSpec};

typed_object! {
    /// A Job: pods run until a number of them succeed.
    pub struct Job {
        resource: {
            group: "batch", version: "v1", api_version: "batch/v1",
            kind: "Job", plural: "jobs", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Desired state.
            "spec" => spec: Box<JobSpec> as JobSpec, spec_mut, set_spec;
            /// Observed state.
            "status" => status: Box<JobStatus> as JobStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// Desired state of a job.
    pub struct JobSpec {
        /// Pods running at once.
        parallelism: i32,
        /// Successful pods needed.
        completions: i32,
        /// Seconds the job may run.
        active_deadline_seconds: i64,
        /// Retries before the job fails.
        backoff_limit: i32,
        /// Retries per index of an indexed job.
        backoff_limit_per_index: i32,
        /// Failed indexes before the whole job fails.
        max_failed_indexes: i32,
        /// How failed pods count against the backoff limit, kept as JSON.
        pod_failure_policy: serde_json::Value,
        /// Which pods belong to the job.
        selector: LabelSelector,
        /// Whether the selector was set by hand.
        manual_selector: bool,
        /// Template of the pods.
        template: PodTemplateSpec,
        /// Seconds a finished job is kept.
        ttl_seconds_after_finished: i32,
        /// `NonIndexed` or `Indexed`.
        completion_mode: String,
        /// Whether the job is suspended.
        suspend: bool,
        /// `TerminatingOrFailed` or `Failed`.
        pod_replacement_policy: String,
        /// Controller that manages the job, when not the built-in one.
        managed_by: String,
    }
}

api_struct! {
    /// Observed state of a job.
    pub struct JobStatus {
        /// Conditions (`Complete`, `Failed`, `Suspended`).
        conditions: Vec<JobCondition>,
        /// When the job started.
        start_time: Time,
        /// When the job completed.
        completion_time: Time,
        /// Running pods.
        active: i32,
        /// Succeeded pods.
        succeeded: i32,
        /// Failed pods.
        failed: i32,
        /// Ready pods.
        ready: i32,
        /// Pods being deleted.
        terminating: i32,
        /// Completed indexes of an indexed job (`1,3-5`).
        completed_indexes: String,
        /// Failed indexes of an indexed job.
        failed_indexes: String,
    }
}

api_struct! {
    /// One condition of a job.
    pub struct JobCondition {
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

typed_object! {
    /// A CronJob: Jobs created on a schedule.
    pub struct CronJob {
        resource: {
            group: "batch", version: "v1", api_version: "batch/v1",
            kind: "CronJob", plural: "cronjobs", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Desired state.
            "spec" => spec: Box<CronJobSpec> as CronJobSpec, spec_mut, set_spec;
            /// Observed state.
            "status" => status: Box<CronJobStatus> as CronJobStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// Desired state of a cron job.
    pub struct CronJobSpec {
        /// Cron schedule (`*/5 * * * *`).
        schedule: String,
        /// Time zone of the schedule.
        time_zone: String,
        /// Seconds a missed run may still start.
        starting_deadline_seconds: i64,
        /// `Allow`, `Forbid` or `Replace`.
        concurrency_policy: String,
        /// Whether runs are suspended.
        suspend: bool,
        /// Template of the jobs.
        job_template: JobTemplateSpec,
        /// Successful jobs kept.
        successful_jobs_history_limit: i32,
        /// Failed jobs kept.
        failed_jobs_history_limit: i32,
    }
}

api_struct! {
    /// The job template of a cron job.
    pub struct JobTemplateSpec {
        /// Metadata of the jobs.
        #[serde(deserialize_with = "crate::object::via_value")]
        metadata: ObjectMeta,
        /// Spec of the jobs.
        spec: JobSpec,
    }
}

api_struct! {
    /// Observed state of a cron job.
    pub struct CronJobStatus {
        /// Jobs running.
        active: Vec<ObjectReference>,
        /// When a job was last scheduled.
        last_schedule_time: Time,
        /// When a job last succeeded.
        last_successful_time: Time,
    }
}
