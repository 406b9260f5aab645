//! The core/v1 `Event` (what `kubectl get events` shows) and `ObjectReference`, the pointer to
//! another object it and other kinds use.

use kinformer_meta::{MicroTime, Time};

typed_object! {
    /// A core/v1 Event: a report of something that happened to an object.
    pub struct Event {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "Event", plural: "events", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// The object this event is about.
            "involvedObject" => involved_object: Box<ObjectReference> as ObjectReference,
                involved_object_mut, set_involved_object;
            /// Machine-readable reason (`Scheduled`, `BackOff`).
            "reason" => reason: String as String, reason_mut, set_reason;
            /// Human-readable description.
            "message" => message: String as String, message_mut, set_message;
            /// Component that reported it.
            "source" => source: Box<EventSource> as EventSource, source_mut, set_source;
            /// When it was first seen.
            "firstTimestamp" => first_timestamp: Time as Time, first_timestamp_mut, set_first_timestamp;
            /// When it was last seen.
            "lastTimestamp" => last_timestamp: Time as Time, last_timestamp_mut, set_last_timestamp;
            /// How many times it happened.
            "count" => count: i32 as i32, count_mut, set_count;
            /// `Normal` or `Warning`.
            "type" => type_: String as String, type_mut, set_type;
            /// When it was first observed, in microseconds.
            "eventTime" => event_time: MicroTime as MicroTime, event_time_mut, set_event_time;
            /// Data on a series of repeated events.
            "series" => series: Box<EventSeries> as EventSeries, series_mut, set_series;
            /// What was done (or failed).
            "action" => action: String as String, action_mut, set_action;
            /// A second object involved.
            "related" => related: Box<ObjectReference> as ObjectReference, related_mut, set_related;
            /// Controller that emitted it (`kubernetes.io/kubelet`).
            "reportingComponent" => reporting_component: String as String,
                reporting_component_mut, set_reporting_component;
            /// Instance of the controller (`kubelet-node-1`).
            "reportingInstance" => reporting_instance: String as String,
                reporting_instance_mut, set_reporting_instance;
        }
    }
}

api_struct! {
    /// A reference to another object, possibly to a field of it.
    pub struct ObjectReference {
        /// Kind of the object.
        kind: String,
        /// Namespace of the object.
        namespace: String,
        /// Name of the object.
        name: String,
        /// UID of the object.
        uid: String,
        /// API version of the object.
        api_version: String,
        /// resourceVersion the reference was made at.
        resource_version: String,
        /// A field within the object (`spec.containers{app}`).
        field_path: String,
    }
}

api_struct! {
    /// The component that reported an event.
    pub struct EventSource {
        /// Component name.
        component: String,
        /// Node name.
        host: String,
    }
}

api_struct! {
    /// A series of repeated events.
    pub struct EventSeries {
        /// Occurrences so far.
        count: i32,
        /// When the last one was observed.
        last_observed_time: MicroTime,
    }
}
