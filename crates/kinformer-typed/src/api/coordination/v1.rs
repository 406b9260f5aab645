//! coordination.k8s.io/v1: `Lease`.

use kinformer_meta::MicroTime;

typed_object! {
    /// A Lease: a lock held by one identity for a duration (leader election, node heartbeats).
    pub struct Lease {
        resource: {
            group: "coordination.k8s.io", version: "v1", api_version: "coordination.k8s.io/v1",
            kind: "Lease", plural: "leases", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Holder and timing of the lease.
            "spec" => spec: Box<LeaseSpec> as LeaseSpec, spec_mut, set_spec;
        }
    }
}

api_struct! {
    /// Holder and timing of a lease.
    pub struct LeaseSpec {
        /// Identity of the holder.
        holder_identity: String,
        /// Seconds a holder has to renew.
        lease_duration_seconds: i32,
        /// When the current holder acquired it.
        acquire_time: MicroTime,
        /// When the holder last renewed it.
        renew_time: MicroTime,
        /// Times the lease changed hands.
        lease_transitions: i32,
        /// Coordinated leader election strategy.
        strategy: String,
        /// Holder the lease should move to.
        preferred_holder: String,
    }
}
