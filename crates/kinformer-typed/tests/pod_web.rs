//! A realistic Deployment-managed pod (`fixtures/objects/pod-web.json`, written to look like
//! `kubectl get pod -o json` of a live pod): lossless unread and fully decoded.

mod common;

use kinformer_meta::{IntOrString, Object, Quantity};
use kinformer_typed::{Pod, TypedObject};
use serde_json::Value;

use common::{assert_same_json, compact, fixture};

fn pod_web_compact() -> String {
    compact(&fixture("objects/pod-web.json"))
}

#[test]
fn compact_fixture_is_a_realistic_size() {
    let json = pod_web_compact();
    assert!(
        (4_000..=6_000).contains(&json.len()),
        "{} bytes",
        json.len()
    );
}

#[test]
fn unread_pod_reencodes_byte_for_byte() {
    let json = pod_web_compact();
    let pod: Pod = serde_json::from_str(&json).unwrap();
    assert!(!pod.spec.as_ref().unwrap().is_decoded());
    assert!(!pod.status.as_ref().unwrap().is_decoded());
    assert!(pod.raw_body_len() > 3_000, "bodies kept as raw JSON");
    assert_eq!(serde_json::to_string(&pod).unwrap(), json);
}

#[test]
fn reading_a_body_does_not_change_the_encoding() {
    let json = pod_web_compact();
    let pod: Pod = serde_json::from_str(&json).unwrap();
    assert!(pod.is_ready());
    assert!(pod.status.as_ref().unwrap().is_decoded());
    assert_eq!(serde_json::to_string(&pod).unwrap(), json);
}

#[test]
fn fully_decoded_pod_round_trips_semantically() {
    let json = pod_web_compact();
    let mut pod: Pod = serde_json::from_str(&json).unwrap();
    pod.decode_all().unwrap();
    pod.metadata
        .managed_fields
        .as_mut()
        .unwrap()
        .get_mut()
        .unwrap();
    assert_eq!(pod.raw_body_len(), 0);
    let encoded = serde_json::to_value(&pod).unwrap();
    let original: Value = serde_json::from_str(&json).unwrap();
    assert_same_json("pod-web decoded", original, encoded);
}

#[test]
fn metadata_of_the_pod_is_typed() {
    let pod: Pod = serde_json::from_str(&pod_web_compact()).unwrap();
    assert_eq!(pod.metadata.name(), "web-7d9c6b8f5-x2k4p");
    assert_eq!(pod.metadata.namespace(), Some("shop"));
    assert_eq!(
        pod.metadata.labels.get("pod-template-hash"),
        Some("7d9c6b8f5")
    );
    let owner = pod.metadata.controller_ref().unwrap();
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("ReplicaSet", "web-7d9c6b8f5")
    );
    let managed = pod.metadata.managed_fields.as_ref().unwrap().get().unwrap();
    assert_eq!(managed.len(), 2);
    assert_eq!(managed[1].subresource.as_deref(), Some("status"));
    assert_eq!((pod.api_version(), pod.kind()), ("v1".into(), "Pod".into()));
}

#[test]
fn spec_and_status_of_the_pod_are_typed() {
    let pod: Pod = serde_json::from_str(&pod_web_compact()).unwrap();
    let spec = pod.spec().unwrap().unwrap();
    let web = spec.container("web").unwrap();
    assert_eq!(
        web.image.as_deref(),
        Some("registry.example.com/shop/web:1.42.0")
    );
    assert!(
        web.other.is_empty(),
        "every field of the container is modelled: {:?}",
        web.other
    );
    let env = web.env.as_ref().unwrap();
    let secret_ref = env[0]
        .value_from
        .as_ref()
        .unwrap()
        .secret_key_ref
        .as_ref()
        .unwrap();
    assert_eq!(secret_ref.key.as_deref(), Some("url"));
    let ports = web.ports.as_ref().unwrap();
    assert_eq!(ports[1].container_port, Some(9090));
    let liveness = web
        .liveness_probe
        .as_ref()
        .unwrap()
        .http_get
        .as_ref()
        .unwrap();
    assert_eq!(liveness.port, Some(IntOrString::String("http".into())));
    let readiness = web
        .readiness_probe
        .as_ref()
        .unwrap()
        .http_get
        .as_ref()
        .unwrap();
    assert_eq!(readiness.port, Some(IntOrString::Int(8080)));
    let requests = web.resources.as_ref().unwrap().requests.as_ref().unwrap();
    assert_eq!(requests["cpu"], Quantity::from("250m"));
    assert_eq!(spec.tolerations.as_ref().unwrap().len(), 2);
    assert_eq!(spec.security_context, Some(serde_json::json!({})));

    let status = pod.status().unwrap().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert_eq!(status.pod_ip.as_deref(), Some("10.244.2.37"));
    let ready = status.condition("Ready").unwrap();
    assert_eq!(ready.status.as_deref(), Some("True"));
    assert!(
        ready.last_probe_time.is_none(),
        "null probe time reads as absent"
    );
    let web_status = &status.container_statuses.as_ref().unwrap()[0];
    assert_eq!(web_status.restart_count, Some(0));
    assert!(web_status.state.as_ref().unwrap().running.is_some());
    assert_eq!(web_status.last_state.as_ref().unwrap(), &Default::default());
}

#[test]
fn mutating_the_spec_changes_only_the_spec() {
    let json = pod_web_compact();
    let mut pod: Pod = serde_json::from_str(&json).unwrap();
    pod.spec_mut().unwrap().node_name = Some("worker-3".into());
    let encoded: Value = serde_json::to_value(&pod).unwrap();
    let mut expected: Value = serde_json::from_str(&json).unwrap();
    expected["spec"]["nodeName"] = "worker-3".into();
    assert_same_json("pod-web with a new node", expected, encoded);
    let status = pod.status.as_ref().unwrap();
    assert!(
        !status.is_decoded() && status.raw_json().is_some(),
        "status stays raw"
    );
    assert!(
        pod.spec.as_ref().unwrap().raw_json().is_none(),
        "stale spec JSON dropped"
    );
}
