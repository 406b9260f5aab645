//! `WatchEvent<T>`: one frame of a watch stream (`{"type":..,"object":..}`).
//!
//! ADDED, MODIFIED and DELETED carry an object of the watched type; a BOOKMARK carries only a
//! resourceVersion (and annotations such as `k8s.io/initial-events-end`); an ERROR carries a
//! [`Status`], typically a 410 Expired that tells the client to relist.

use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::status::Status;
use crate::string_map::StringMap;

/// The annotation a server puts on the bookmark that ends a streamed initial list.
pub const INITIAL_EVENTS_END_ANNOTATION: &str = "k8s.io/initial-events-end";

/// One event of a watch stream.
#[derive(Clone, Debug, PartialEq)]
pub enum WatchEvent<T> {
    /// An object was created (or exists at the start of a watch without a resourceVersion).
    Added(T),
    /// An object changed.
    Modified(T),
    /// An object was deleted; this is its last state.
    Deleted(T),
    /// The server's progress marker: a resourceVersion the client may resume from.
    Bookmark(Bookmark),
    /// The server reports a failure (boxed: it is rare and large); the stream ends after it.
    Error(Box<Status>),
}

/// The content of a BOOKMARK event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bookmark {
    /// The resourceVersion the client has now seen everything up to.
    pub resource_version: String,
    /// Annotations on the bookmark object.
    pub annotations: StringMap,
}

impl Bookmark {
    /// True for the bookmark that ends the initial events of a streaming list.
    pub fn is_initial_events_end(&self) -> bool {
        self.annotations.get(INITIAL_EVENTS_END_ANNOTATION) == Some("true")
    }
}

impl<T> WatchEvent<T> {
    /// The event's wire name: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        }
    }

    /// The object of an ADDED, MODIFIED or DELETED event.
    pub fn object(&self) -> Option<&T> {
        match self {
            WatchEvent::Added(obj) | WatchEvent::Modified(obj) | WatchEvent::Deleted(obj) => {
                Some(obj)
            }
            _ => None,
        }
    }

    /// Converts the object of the event, keeping its type.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> WatchEvent<U> {
        match self {
            WatchEvent::Added(obj) => WatchEvent::Added(f(obj)),
            WatchEvent::Modified(obj) => WatchEvent::Modified(f(obj)),
            WatchEvent::Deleted(obj) => WatchEvent::Deleted(f(obj)),
            WatchEvent::Bookmark(bookmark) => WatchEvent::Bookmark(bookmark),
            WatchEvent::Error(status) => WatchEvent::Error(status),
        }
    }
}

#[derive(Clone, Copy, Deserialize)]
enum EventType {
    #[serde(rename = "ADDED")]
    Added,
    #[serde(rename = "MODIFIED")]
    Modified,
    #[serde(rename = "DELETED")]
    Deleted,
    #[serde(rename = "BOOKMARK")]
    Bookmark,
    #[serde(rename = "ERROR")]
    Error,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Type,
    Object,
    #[serde(other)]
    Other,
}

/// The shape of a bookmark's object: only metadata matters, the rest is ignored.
#[derive(Deserialize)]
struct BookmarkObject {
    #[serde(default)]
    metadata: BookmarkMeta,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BookmarkMeta {
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default)]
    annotations: StringMap,
}

impl From<BookmarkObject> for Bookmark {
    fn from(object: BookmarkObject) -> Self {
        Bookmark {
            resource_version: object.metadata.resource_version.unwrap_or_default(),
            annotations: object.metadata.annotations,
        }
    }
}

fn decode_raw<T: DeserializeOwned, E: serde::de::Error>(
    kind: EventType,
    raw: &RawValue,
) -> Result<WatchEvent<T>, E> {
    let text = raw.get();
    let object = |text| serde_json::from_str::<T>(text).map_err(E::custom);
    Ok(match kind {
        EventType::Added => WatchEvent::Added(object(text)?),
        EventType::Modified => WatchEvent::Modified(object(text)?),
        EventType::Deleted => WatchEvent::Deleted(object(text)?),
        EventType::Bookmark => WatchEvent::Bookmark(
            serde_json::from_str::<BookmarkObject>(text)
                .map_err(E::custom)?
                .into(),
        ),
        EventType::Error => {
            WatchEvent::Error(Box::new(serde_json::from_str(text).map_err(E::custom)?))
        }
    })
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for WatchEvent<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for EventVisitor<T> {
            type Value = WatchEvent<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a watch event {\"type\":...,\"object\":...}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use serde::de::Error as _;
                let mut kind: Option<EventType> = None;
                let mut early_object: Option<Box<RawValue>> = None;
                let mut event: Option<WatchEvent<T>> = None;
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Type => kind = Some(map.next_value()?),
                        // Servers send `type` first, so the object decodes straight into T.
                        Field::Object => match kind {
                            Some(EventType::Added) => {
                                event = Some(WatchEvent::Added(map.next_value()?))
                            }
                            Some(EventType::Modified) => {
                                event = Some(WatchEvent::Modified(map.next_value()?))
                            }
                            Some(EventType::Deleted) => {
                                event = Some(WatchEvent::Deleted(map.next_value()?))
                            }
                            Some(EventType::Bookmark) => {
                                let object: BookmarkObject = map.next_value()?;
                                event = Some(WatchEvent::Bookmark(object.into()));
                            }
                            Some(EventType::Error) => {
                                event = Some(WatchEvent::Error(map.next_value()?))
                            }
                            None => early_object = Some(map.next_value()?),
                        },
                        Field::Other => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                if let Some(event) = event {
                    return Ok(event);
                }
                let kind = kind.ok_or_else(|| A::Error::missing_field("type"))?;
                let raw = early_object.ok_or_else(|| A::Error::missing_field("object"))?;
                decode_raw(kind, &raw)
            }
        }
        deserializer.deserialize_map(EventVisitor(std::marker::PhantomData))
    }
}

impl<T: Serialize> Serialize for WatchEvent<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", self.type_name())?;
        match self {
            WatchEvent::Added(obj) | WatchEvent::Modified(obj) | WatchEvent::Deleted(obj) => {
                map.serialize_entry("object", obj)?
            }
            WatchEvent::Bookmark(bookmark) => {
                #[derive(Serialize)]
                #[serde(rename_all = "camelCase")]
                struct Meta<'a> {
                    resource_version: &'a str,
                    #[serde(skip_serializing_if = "StringMap::is_empty")]
                    annotations: &'a StringMap,
                }
                #[derive(Serialize)]
                struct Object<'a> {
                    metadata: Meta<'a>,
                }
                let metadata = Meta {
                    resource_version: &bookmark.resource_version,
                    annotations: &bookmark.annotations,
                };
                map.serialize_entry("object", &Object { metadata })?
            }
            WatchEvent::Error(status) => map.serialize_entry("object", status)?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn decodes_every_frame_type_a_real_server_sent() {
        let frames = [
            r#"{"type":"ADDED","object":{"kind":"Flunder","metadata":{"name":"w1","resourceVersion":"14"}}}"#,
            r#"{"type":"MODIFIED","object":{"kind":"Flunder","metadata":{"name":"w1","resourceVersion":"15"}}}"#,
            r#"{"type":"DELETED","object":{"kind":"Flunder","metadata":{"name":"w1","resourceVersion":"16"}}}"#,
            r#"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"16","creationTimestamp":null},"spec":{"containers":null},"status":{}}}"#,
            r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 6 (20)","reason":"Expired","code":410}}"#,
        ];
        let events: Vec<WatchEvent<Value>> = frames
            .iter()
            .map(|frame| serde_json::from_str(frame).unwrap())
            .collect();
        assert_eq!(
            events.iter().map(WatchEvent::type_name).collect::<Vec<_>>(),
            ["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]
        );
        match &events[3] {
            WatchEvent::Bookmark(bookmark) => assert_eq!(bookmark.resource_version, "16"),
            other => panic!("{other:?}"),
        }
        match &events[4] {
            WatchEvent::Error(status) => assert!(status.is_gone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn object_before_type_still_decodes() {
        let event: WatchEvent<Value> =
            serde_json::from_str(r#"{"object":{"metadata":{"name":"a"}},"type":"DELETED"}"#)
                .unwrap();
        assert!(matches!(event, WatchEvent::Deleted(ref obj) if obj["metadata"]["name"] == "a"));
    }

    #[test]
    fn initial_events_end_bookmark_is_recognised_and_round_trips() {
        let text = r#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"16","annotations":{"k8s.io/initial-events-end":"true"}}}}"#;
        let event: WatchEvent<Value> = serde_json::from_str(text).unwrap();
        assert!(matches!(&event, WatchEvent::Bookmark(b) if b.is_initial_events_end()));
        assert_eq!(serde_json::to_string(&event).unwrap(), text);
    }

    #[test]
    fn unknown_type_and_missing_object_are_errors() {
        assert!(
            serde_json::from_str::<WatchEvent<Value>>(r#"{"type":"RENAMED","object":{}}"#).is_err()
        );
        assert!(serde_json::from_str::<WatchEvent<Value>>(r#"{"type":"ADDED"}"#).is_err());
    }
}
