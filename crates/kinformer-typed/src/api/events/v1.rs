//! events.k8s.io/v1: `Event`.

use kinformer_meta::{MicroTime, Time};

use crate::api::core::v1::{EventSeries, EventSource, ObjectReference};

typed_object! {
    /// An events.k8s.io/v1 Event: what happened, to which object, reported by whom.
    pub struct Event {
        resource: {
            group: "events.k8s.io", version: "v1", api_version: "events.k8s.io/v1",
            kind: "Event", plural: "events", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// When it was first observed.
            "eventTime" => event_time: MicroTime as MicroTime, event_time_mut, set_event_time;
            /// Data on a series of repeated events.
            "series" => series: Box<EventSeries> as EventSeries, series_mut, set_series;
            /// Controller that emitted it.
            "reportingController" => reporting_controller: String as String,
                reporting_controller_mut, set_reporting_controller;
            /// Instance of the controller.
            "reportingInstance" => reporting_instance: String as String,
                reporting_instance_mut, set_reporting_instance;
            /// What was done (or failed).
            "action" => action: String as String, action_mut, set_action;
            /// Machine-readable reason.
            "reason" => reason: String as String, reason_mut, set_reason;
            /// The object this event is about.
            "regarding" => regarding: Box<ObjectReference> as ObjectReference, regarding_mut, set_regarding;
            /// A second object involved.
            "related" => related: Box<ObjectReference> as ObjectReference, related_mut, set_related;
            /// Human-readable description.
            "note" => note: String as String, note_mut, set_note;
            /// `Normal` or `Warning`.
            "type" => type_: String as String, type_mut, set_type;
            /// The core/v1 `source`, kept for compatibility.
            "deprecatedSource" => deprecated_source: Box<EventSource> as EventSource,
                deprecated_source_mut, set_deprecated_source;
            /// The core/v1 `firstTimestamp`.
            "deprecatedFirstTimestamp" => deprecated_first_timestamp: Time as Time,
                deprecated_first_timestamp_mut, set_deprecated_first_timestamp;
            /// The core/v1 `lastTimestamp`.
            "deprecatedLastTimestamp" => deprecated_last_timestamp: Time as Time,
                deprecated_last_timestamp_mut, set_deprecated_last_timestamp;
            /// The core/v1 `count`.
            "deprecatedCount" => deprecated_count: i32 as i32, deprecated_count_mut, set_deprecated_count;
        }
    }
}
