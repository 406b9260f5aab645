//! Tests of the metadata client without HTTP: the Accept headers sent, decoding of
//! metadata-only and whole answers (client-go's fallback), the errors, the kind and apiVersion
//! handed out, and a watch over raw frames.

use super::*;
use futures::StreamExt;
use kinformer_meta::GroupVersionKind;

fn metadata_client() -> MetadataClient {
    let config = crate::Config::new("http://127.0.0.1:1".parse().unwrap());
    MetadataClient::new(Client::try_from(config).unwrap())
}

fn pods() -> ApiResource {
    ApiResource::from_gvk(
        &GroupVersionKind::new("", "v1", "Pod"),
        "pods",
        Scope::Namespaced,
    )
}

fn flunders() -> MetadataResource {
    let gvr = GroupVersionResource::new("wardle.example.com", "v1alpha1", "flunders");
    metadata_client()
        .resource_for(&gvr, Scope::Namespaced)
        .namespace("default")
}

fn types(object: &PartialObjectMetadata) -> (&str, &str) {
    (&object.types.api_version, &object.types.kind)
}

const METADATA_LIST: &str = r#"{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"20","continue":"c1"},"items":[{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"a","namespace":"default","uid":"u1","resourceVersion":"7","labels":{"app":"web"}}},{"metadata":{"name":"b","namespace":"default","resourceVersion":"8"}}]}"#;

const WHOLE_POD_LIST: &str = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"21"},"items":[{"metadata":{"name":"a","namespace":"default","labels":{"app":"web"}},"spec":{"containers":[{"name":"main","image":"busybox"}]},"status":{"phase":"Running"}}]}"#;

#[test]
fn list_get_and_watch_ask_for_metadata_only() {
    let resource = metadata_client().resource(&pods()).namespace("ns");
    let list = resource
        .list_request(&ListOptions::default().limit(5))
        .unwrap();
    assert_eq!(list.uri(), "/api/v1/namespaces/ns/pods?limit=5");
    assert_eq!(list.headers()[ACCEPT], PARTIAL_OBJECT_METADATA_LIST_ACCEPT);
    assert_eq!(
        PARTIAL_OBJECT_METADATA_LIST_ACCEPT,
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
    );
    let watch = resource
        .watch_request(&ListOptions::default().resource_version("3"))
        .unwrap();
    assert_eq!(
        watch.uri(),
        "/api/v1/namespaces/ns/pods?resourceVersion=3&watch=1"
    );
    assert_eq!(watch.headers()[ACCEPT], PARTIAL_OBJECT_METADATA_ACCEPT);
    let get = resource.get_request("p1", &GetParams::default()).unwrap();
    assert_eq!(get.uri(), "/api/v1/namespaces/ns/pods/p1");
    assert_eq!(
        get.headers()[ACCEPT],
        "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
    );
}

#[test]
fn getting_one_object_needs_a_namespace_for_a_namespaced_resource() {
    let everywhere = metadata_client().resource(&pods());
    let error = everywhere
        .get_request("p1", &GetParams::default())
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error}");
    assert!(everywhere.list_request(&ListOptions::default()).is_ok());
}

#[test]
fn a_metadata_list_gives_items_the_resource_kind_and_keeps_the_list_metadata() {
    let resource = metadata_client().resource(&pods()).namespace("default");
    let list = resource.decode_list(METADATA_LIST.as_bytes()).unwrap();
    assert_eq!(list.resource_version(), Some("20"));
    assert_eq!(list.continue_token(), Some("c1"));
    assert_eq!(list.items.len(), 2);
    assert!(list.items.iter().all(|item| types(item) == ("v1", "Pod")));
    assert_eq!(list.items[0].metadata.labels.get("app"), Some("web"));
    assert_eq!(list.items[1].metadata.name.as_deref(), Some("b"));
}

#[test]
fn a_whole_list_from_a_server_ignoring_the_media_type_is_reduced_to_metadata() {
    let resource = metadata_client().resource(&pods()).namespace("default");
    let list = resource.decode_list(WHOLE_POD_LIST.as_bytes()).unwrap();
    assert_eq!(list.resource_version(), Some("21"));
    assert_eq!(types(&list.items[0]), ("v1", "Pod"));
    assert_eq!(list.items[0].metadata.labels.get("app"), Some("web"));
    let json = serde_json::to_string(&list.items[0]).unwrap();
    assert!(!json.contains("busybox"), "{json}");
}

#[test]
fn a_gvr_only_resource_takes_the_kind_from_a_whole_list_or_stays_partial_object_metadata() {
    let whole = r#"{"kind":"FlunderList","apiVersion":"wardle.example.com/v1alpha1","items":[{"metadata":{"name":"f1"},"spec":{}}]}"#;
    let list = flunders().decode_list(whole.as_bytes()).unwrap();
    assert_eq!(
        types(&list.items[0]),
        ("wardle.example.com/v1alpha1", "Flunder")
    );
    let list = flunders().decode_list(METADATA_LIST.as_bytes()).unwrap();
    assert!(list
        .items
        .iter()
        .all(|item| types(item) == ("meta.k8s.io/v1", "PartialObjectMetadata")));
    let own = r#"{"kind":"Flunder","apiVersion":"wardle.example.com/v1alpha1","metadata":{"name":"f1"},"spec":{"x":1}}"#;
    let object = flunders().decode_object(own.as_bytes()).unwrap();
    assert_eq!(types(&object), ("wardle.example.com/v1alpha1", "Flunder"));
}

#[test]
fn a_get_accepts_partial_object_metadata_and_a_whole_object_alike() {
    let resource = metadata_client().resource(&pods()).namespace("default");
    let partial = r#"{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"p1","uid":"u1","resourceVersion":"4"}}"#;
    let whole = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p1","uid":"u1","resourceVersion":"4"},"spec":{"containers":[]}}"#;
    for body in [partial, whole] {
        let object = resource.decode_object(body.as_bytes()).unwrap();
        assert_eq!(types(&object), ("v1", "Pod"));
        assert_eq!(object.metadata.resource_version.as_deref(), Some("4"));
    }
}

#[test]
fn a_whole_object_without_identifying_metadata_is_not_object_metadata() {
    let resource = metadata_client().resource(&pods()).namespace("default");
    let body = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"labels":{"a":"b"}},"spec":{}}"#;
    match resource.decode_object(body.as_bytes()).unwrap_err() {
        Error::NotObjectMetadata { found } => assert_eq!(found, "Pod (v1)"),
        other => panic!("{other:?}"),
    }
    let generated = r#"{"metadata":{"generateName":"web-"}}"#;
    assert!(resource.decode_object(generated.as_bytes()).is_ok());
}

#[test]
fn other_meta_kinds_and_a_success_status_are_unexpected_kinds() {
    let resource = metadata_client().resource(&pods()).namespace("default");
    let table = r#"{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[]}"#;
    let status = r#"{"kind":"Status","apiVersion":"v1","status":"Success"}"#;
    for (body, found) in [
        (table, "Table (meta.k8s.io/v1)"),
        (status, "Status (v1)"),
        (METADATA_LIST, "PartialObjectMetadataList (meta.k8s.io/v1)"),
    ] {
        match resource.decode_object(body.as_bytes()).unwrap_err() {
            Error::UnexpectedKind {
                expected,
                found: what,
            } => {
                assert_eq!(expected, "PartialObjectMetadata");
                assert_eq!(what, found);
            }
            other => panic!("{other:?}"),
        }
    }
    let one =
        r#"{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"a"}}"#;
    let error = resource.decode_list(one.as_bytes()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::UnexpectedKind {
                expected: "PartialObjectMetadataList",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn an_undecodable_body_is_a_typed_error_not_a_panic() {
    let resource = metadata_client().resource(&pods()).namespace("default");
    for body in [
        "",
        "[1,2]",
        r#"{"metadata":7}"#,
        "{\"kind\":",
        r#"{"items":{}}"#,
    ] {
        let object = resource.decode_object(body.as_bytes()).unwrap_err();
        let list = resource.decode_list(body.as_bytes()).unwrap_err();
        if body == r#"{"items":{}}"# {
            // An object with no metadata at all; a list whose items are not a list.
            assert!(
                matches!(object, Error::NotObjectMetadata { .. }),
                "{object:?}"
            );
        } else {
            assert!(
                matches!(object, Error::ResponseDecodeFailed { .. }),
                "{object:?}"
            );
        }
        assert!(
            matches!(list, Error::ResponseDecodeFailed { .. }),
            "{body}: {list:?}"
        );
    }
}

fn watch_of(resource: &MetadataResource, frames: &[&str]) -> MetadataWatchStream {
    let chunks: Vec<Result<Bytes>> = frames
        .iter()
        .map(|frame| Ok(Bytes::from(format!("{frame}\n"))))
        .collect();
    MetadataWatchStream {
        inner: WatchStream::new(futures::stream::iter(chunks), WatchConfig::default()),
        types: resource.types(),
    }
}

#[tokio::test]
async fn a_watch_reduces_every_object_and_goes_on_after_one_that_is_not_metadata() {
    let resource = metadata_client().resource(&pods()).namespace("default");
    let frames = [
        r#"{"type":"ADDED","object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"a","resourceVersion":"5"}}}"#,
        r#"{"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"6"},"spec":{"containers":[]}}}"#,
        r#"{"type":"ADDED","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[]}}"#,
        r#"{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{}}}"#,
        r#"{"type":"BOOKMARK","object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}"#,
        r#"{"type":"DELETED","object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"a","resourceVersion":"10"}}}"#,
        r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410}}"#,
    ];
    let events: Vec<_> = watch_of(&resource, &frames).collect().await;
    let summary: Vec<String> = events
        .iter()
        .map(|event| match event {
            Ok(WatchEvent::Bookmark(b)) => {
                format!(
                    "BOOKMARK {} {}",
                    b.resource_version,
                    b.is_initial_events_end()
                )
            }
            Ok(WatchEvent::Error(status)) => format!("ERROR {}", status.code),
            Ok(event) => {
                let object = event.object().unwrap();
                format!(
                    "{} {} {}/{}",
                    event.type_name(),
                    object.metadata.resource_version.as_deref().unwrap_or(""),
                    object.types.api_version,
                    object.types.kind
                )
            }
            Err(Error::UnexpectedKind { .. }) => "unexpected kind".into(),
            Err(Error::NotObjectMetadata { .. }) => "not object metadata".into(),
            Err(other) => format!("{other}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "ADDED 5 v1/Pod",
            "MODIFIED 6 v1/Pod",
            "unexpected kind",
            "not object metadata",
            "BOOKMARK 9 true",
            "DELETED 10 v1/Pod",
            "ERROR 410",
        ]
    );
}

#[test]
fn delete_tells_a_status_from_a_pending_object() {
    let resource = metadata_client().resource(&pods()).namespace("default");
    let gone = br#"{"kind":"Status","apiVersion":"v1","status":"Success","details":{"name":"p"}}"#;
    match resource.decode_delete(gone).unwrap() {
        DeleteResponse::Deleted(status) => {
            assert_eq!(status.details.unwrap().name.as_deref(), Some("p"))
        }
        other => panic!("{other:?}"),
    }
    let pending = br#"{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"p","deletionTimestamp":"2026-11-26T16:29:11Z"}}"#;
    match resource.decode_delete(pending).unwrap() {
        DeleteResponse::Pending(object) => {
            assert!(object.metadata.deletion_timestamp.is_some());
            assert_eq!(types(&object), ("v1", "Pod"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_metadata_client_comes_from_a_client_or_a_dynamic_client() {
    let client = metadata_client().client().clone();
    let from_dynamic = MetadataClient::from(DynamicClient::new(client.clone()));
    let from_client = MetadataClient::from(client);
    for metadata in [from_dynamic, from_client] {
        let resource = metadata.resource(&pods()).namespace("x");
        assert_eq!(
            resource.request().collection_path(),
            "/api/v1/namespaces/x/pods"
        );
        assert_eq!(resource.namespace_name(), Some("x"));
        assert_eq!(resource.api_resource(), &pods());
    }
}
