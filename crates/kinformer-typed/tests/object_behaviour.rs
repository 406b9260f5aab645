//! How typed objects behave at the edges a real server produces: nulls in bookmarks, list
//! items without kind and apiVersion, unknown future fields, wrong kinds, malformed bodies,
//! YAML manifests and watch frames.

mod common;

use kinformer_meta::{Error as MetaError, IntOrString, Object, ObjectList, Resource, WatchEvent};
use kinformer_typed::api::apps::v1::Deployment;
use kinformer_typed::{from_yaml, to_yaml, Container, Error, Pod, Secret, TypedObject};
use serde_json::{json, Value};

use common::assert_same_json;

const BOOKMARK_OBJECT: &str = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"16","creationTimestamp":null},"spec":{"containers":null},"status":{}}"#;

#[test]
fn bookmark_object_with_nulls_decodes_and_reads() {
    let pod: Pod = serde_json::from_str(BOOKMARK_OBJECT).unwrap();
    assert_eq!(pod.metadata.resource_version(), Some("16"));
    assert!(pod.metadata.creation_timestamp.is_none());
    let spec = pod.spec().unwrap().unwrap();
    assert!(spec.containers.is_none());
    assert!(spec.container("anything").is_none());
    assert_eq!(pod.status().unwrap().unwrap(), &Default::default());
    assert!(!pod.is_ready());
}

#[test]
fn null_bodies_and_metadata_read_as_absent() {
    let pod: Pod = serde_json::from_str(r#"{"metadata":null,"spec":null,"status":null}"#).unwrap();
    assert!(pod.spec().unwrap().is_none() && pod.status().unwrap().is_none());
    assert_eq!(
        serde_json::to_string(&pod).unwrap(),
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{}}"#
    );
}

#[test]
fn list_items_without_type_fields_still_carry_them() {
    let list = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"21"},"items":[{"metadata":{"name":"a","namespace":"ns"},"spec":{"containers":[{"name":"c","image":"i"}]}},{"metadata":{"name":"b","namespace":"ns"}}]}"#;
    let list: ObjectList<Pod> = serde_json::from_str(list).unwrap();
    assert_eq!(list.resource_version(), Some("21"));
    assert_eq!(list.items.len(), 2);
    for pod in &list.items {
        assert_eq!((pod.api_version(), pod.kind()), ("v1".into(), "Pod".into()));
        let encoded: Value = serde_json::to_value(pod).unwrap();
        assert_eq!(
            (&encoded["apiVersion"], &encoded["kind"]),
            (&json!("v1"), &json!("Pod"))
        );
    }
    let first = serde_json::to_string(&list.items[0]).unwrap();
    assert!(
        first.starts_with(r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a""#),
        "{first}"
    );
}

#[test]
fn unknown_future_fields_survive_at_top_level_and_inside_the_spec() {
    let json = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i","futureContainerField":{"x":[1,{}]}}],"futureSpecField":[]},"futureTopLevel":{"enabled":true},"alsoNew":[]}"#;
    let unread: Pod = serde_json::from_str(json).unwrap();
    assert_eq!(
        unread.unknown.get("futureTopLevel"),
        Some(r#"{"enabled":true}"#)
    );
    assert_eq!(serde_json::to_string(&unread).unwrap(), json);

    let mut decoded = unread.clone();
    decoded.decode_all().unwrap();
    let spec = decoded.spec().unwrap().unwrap();
    assert_eq!(spec.other["futureSpecField"], json!([]));
    let container = &spec.containers.as_ref().unwrap()[0];
    assert_eq!(
        container.other["futureContainerField"],
        json!({"x": [1, {}]})
    );
    assert_eq!(serde_json::to_string(&decoded).unwrap(), json);
}

#[test]
fn empty_maps_and_lists_survive_full_decoding() {
    let json = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [], "nodeSelector": {}, "volumes": [{"name": "v", "emptyDir": {}}]},
        "status": {"conditions": [], "podIPs": []}
    });
    let mut pod: Pod = serde_json::from_value(json.clone()).unwrap();
    pod.decode_all().unwrap();
    assert_eq!(pod.spec().unwrap().unwrap().containers, Some(vec![]));
    assert_same_json(
        "empty collections",
        json,
        serde_json::to_value(&pod).unwrap(),
    );
}

#[test]
fn wrong_kind_is_an_error_naming_both_kinds() {
    let err = serde_json::from_str::<Pod>(
        r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{}}"#,
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("Deployment") && message.contains("Pod"),
        "{message}"
    );
    let err = serde_json::from_str::<Deployment>(r#"{"apiVersion":"v1","kind":"Deployment"}"#)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("apiVersion") && message.contains("apps/v1"),
        "{message}"
    );
}

#[test]
fn malformed_body_is_a_read_error_not_a_decode_failure_or_panic() {
    let pod: Pod =
        serde_json::from_str(r#"{"metadata":{"name":"p"},"spec":{"containers":"nope"}}"#).unwrap();
    assert_eq!(pod.metadata.name(), "p");
    let err = pod.spec().unwrap_err();
    assert!(matches!(err, MetaError::LazyDecodeFailed { .. }), "{err}");
    assert!(err.to_string().contains("PodSpec"), "{err}");
    assert!(!pod.is_ready());
    let mut pod = pod;
    assert!(pod.decode_all().is_err());
}

#[test]
fn non_object_json_is_a_decode_error() {
    for text in ["[]", "\"Pod\"", "3", r#"{"metadata":"x"}"#] {
        assert!(serde_json::from_str::<Pod>(text).is_err(), "{text}");
    }
}

#[test]
fn a_pod_built_in_memory_encodes_type_fields_first() {
    let mut pod = Pod::new("web").with_namespace("default");
    pod.metadata.labels.insert("app", "web");
    pod.spec_mut().unwrap().containers = Some(vec![Container::new("app", "nginx:1.27")]);
    pod.status_mut().unwrap().phase = Some("Pending".into());
    assert_eq!(
        serde_json::to_string(&pod).unwrap(),
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]},"status":{"phase":"Pending"}}"#
    );
    let back: Pod = serde_json::from_str(&serde_json::to_string(&pod).unwrap()).unwrap();
    assert_eq!(back, pod);
    assert_eq!(Pod::API_VERSION, "v1");
    assert_eq!(Pod::api_resource().plural, "pods");
}

#[test]
fn yaml_manifests_decode_through_json_and_encode_back() {
    let manifest = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
";
    let deployment: Deployment = from_yaml(manifest).unwrap();
    let spec = deployment.spec().unwrap().unwrap();
    assert_eq!(spec.replicas, Some(3));
    let rolling = spec
        .strategy
        .as_ref()
        .unwrap()
        .rolling_update
        .as_ref()
        .unwrap();
    assert_eq!(rolling.max_surge, Some(IntOrString::String("25%".into())));
    assert_eq!(rolling.max_unavailable, Some(IntOrString::Int(1)));
    let template = spec.template.as_ref().unwrap();
    assert_eq!(
        template.metadata.as_ref().unwrap().labels.get("app"),
        Some("web")
    );
    let yaml = to_yaml(&deployment).unwrap();
    assert!(
        yaml.starts_with("apiVersion: apps/v1\nkind: Deployment\n"),
        "{yaml}"
    );
    let again: Deployment = from_yaml(&yaml).unwrap();
    assert_eq!(again, deployment);
}

#[test]
fn yaml_errors_name_the_problem() {
    let err = from_yaml::<Pod>("kind: [unclosed").unwrap_err();
    assert!(matches!(err, Error::YamlParseFailed { .. }), "{err}");
    let err = from_yaml::<Pod>("apiVersion: v1\nkind: Service\n").unwrap_err();
    assert!(
        matches!(err, Error::DecodeFailed { kind: "Pod", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Service"), "{err}");
}

#[test]
fn watch_frames_decode_into_lazy_typed_objects() {
    let frame = r#"{"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","resourceVersion":"7"},"spec":{"nodeName":"n1"}}}"#;
    let event: WatchEvent<Pod> = serde_json::from_str(frame).unwrap();
    let pod = event.object().unwrap();
    assert!(!pod.spec.as_ref().unwrap().is_decoded());
    assert_eq!(
        pod.spec().unwrap().unwrap().node_name.as_deref(),
        Some("n1")
    );
    let early = r#"{"object":{"metadata":{"name":"q"}},"type":"ADDED"}"#;
    let event: WatchEvent<Pod> = serde_json::from_str(early).unwrap();
    assert_eq!(event.object().unwrap().metadata.name(), "q");
}

#[test]
fn secret_debug_redacts_even_inside_a_list() {
    let list = r#"{"metadata":{},"items":[{"metadata":{"name":"tls"},"data":{"tls.key":"c2VjcmV0LWtleQ=="},"stringData":{"password":"pa55word"},"type":"kubernetes.io/tls"}]}"#;
    let mut list: ObjectList<Secret> = serde_json::from_str(list).unwrap();
    list.items[0].decode_all().unwrap();
    let debug = format!("{list:?}");
    for leak in ["c2VjcmV0LWtleQ==", "secret-key", "pa55word"] {
        assert!(!debug.contains(leak), "leaked {leak}: {debug}");
    }
    assert!(
        debug.contains("<redacted>") && debug.contains("kubernetes.io/tls"),
        "{debug}"
    );
}
