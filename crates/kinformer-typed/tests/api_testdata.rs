//! Every kind against the Kubernetes API's own fully populated fixtures: decode, force every
//! body to decode into its typed structs, encode, and compare with the original.

mod common;

use kinformer_meta::{IntOrString, Object, Quantity};
use kinformer_typed::api::{apiextensions, apps, batch, coordination, core, events};
use kinformer_typed::{BuiltinKind, TypedObject, BUILTIN_KINDS};
use serde_json::Value;

use common::{assert_same_json, fixture};

/// Decodes `file`, decodes every body, re-encodes and compares; returns the decoded object.
fn round_trip<K: TypedObject>(file: &str) -> K {
    let text = fixture(file);
    let mut object: K =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: decoding failed: {e}"));
    object
        .decode_all()
        .unwrap_or_else(|e| panic!("{file}: body decoding failed: {e}"));
    assert_eq!(object.raw_body_len(), 0, "{file}: a body kept its raw JSON");
    assert!(
        object.unknown_fields().is_empty(),
        "{file}: unknown {:?}",
        object.unknown_fields()
    );
    assert_eq!(object.kind(), K::KIND);
    let original: Value = serde_json::from_str(&text).unwrap();
    let encoded = serde_json::to_value(&object).unwrap();
    assert_same_json(file, original, encoded);
    object
}

#[test]
fn pod_round_trips_with_containers_volumes_and_status_typed() {
    let pod: core::v1::Pod = round_trip("api-testdata/core.v1.Pod.json");
    let spec = pod.spec().unwrap().unwrap();
    let container = &spec.containers.as_ref().unwrap()[0];
    assert_eq!(container.image.as_deref(), Some("imageValue"));
    assert!(!container.other.contains_key("image"));
    assert_eq!(
        container.env.as_ref().unwrap()[0].name.as_deref(),
        Some("nameValue")
    );
    let probe = container.liveness_probe.as_ref().unwrap();
    let port = probe.http_get.as_ref().unwrap().port.clone();
    assert_eq!(port, Some(IntOrString::String("portValue".into())));
    let limits = container
        .resources
        .as_ref()
        .unwrap()
        .limits
        .as_ref()
        .unwrap();
    assert_eq!(limits["limitsKey"], Quantity::from("0"));
    let volume = &spec.volumes.as_ref().unwrap()[0];
    assert_eq!(
        volume
            .persistent_volume_claim
            .as_ref()
            .unwrap()
            .claim_name
            .as_deref(),
        Some("claimNameValue")
    );
    assert!(
        volume.other.contains_key("gcePersistentDisk"),
        "unmodelled source kept in other"
    );
    assert_eq!(spec.node_name.as_deref(), Some("nodeNameValue"));
    let status = pod.status().unwrap().unwrap();
    assert_eq!(status.pod_ip.as_deref(), Some("podIPValue"));
    assert_eq!(
        status.pod_ips.as_ref().unwrap()[0].ip.as_deref(),
        Some("ipValue")
    );
    let container_status = &status.container_statuses.as_ref().unwrap()[0];
    assert_eq!(container_status.restart_count, Some(5));
    let terminated = container_status
        .state
        .as_ref()
        .unwrap()
        .terminated
        .as_ref()
        .unwrap();
    assert_eq!(terminated.exit_code, Some(1));
    assert_eq!(
        status.conditions.as_ref().unwrap()[0].type_.as_deref(),
        Some("typeValue")
    );
}

#[test]
fn config_map_and_secret_round_trip_with_binary_values() {
    let config: core::v1::ConfigMap = round_trip("api-testdata/core.v1.ConfigMap.json");
    assert_eq!(
        config.data().unwrap().unwrap().get("dataKey"),
        Some("dataValue")
    );
    assert_eq!(
        config.binary_data().unwrap().unwrap()["binaryDataKey"].as_bytes(),
        [3]
    );
    assert_eq!(config.immutable().unwrap(), Some(&true));
    let secret: core::v1::Secret = round_trip("api-testdata/core.v1.Secret.json");
    assert_eq!(secret.data().unwrap().unwrap()["dataKey"].as_bytes(), [2]);
    assert_eq!(
        secret.type_().unwrap().map(String::as_str),
        Some("typeValue")
    );
}

#[test]
fn service_and_endpoints_round_trip() {
    let service: core::v1::Service = round_trip("api-testdata/core.v1.Service.json");
    let spec = service.spec().unwrap().unwrap();
    assert_eq!(spec.cluster_ip.as_deref(), Some("clusterIPValue"));
    let port = &spec.ports.as_ref().unwrap()[0];
    assert_eq!(
        port.target_port,
        Some(IntOrString::String("targetPortValue".into()))
    );
    assert_eq!(
        spec.selector.as_ref().unwrap().get("selectorKey"),
        Some("selectorValue")
    );
    let endpoints: core::v1::Endpoints = round_trip("api-testdata/core.v1.Endpoints.json");
    let subset = &endpoints.subsets().unwrap().unwrap()[0];
    assert_eq!(
        subset.addresses.as_ref().unwrap()[0].ip.as_deref(),
        Some("ipValue")
    );
}

#[test]
fn node_namespace_and_claim_round_trip() {
    let node: core::v1::Node = round_trip("api-testdata/core.v1.Node.json");
    let status = node.status().unwrap().unwrap();
    assert_eq!(
        status
            .node_info
            .as_ref()
            .unwrap()
            .kubelet_version
            .as_deref(),
        Some("kubeletVersionValue")
    );
    assert_eq!(
        node.spec().unwrap().unwrap().pod_cidr.as_deref(),
        Some("podCIDRValue")
    );
    let namespace: core::v1::Namespace = round_trip("api-testdata/core.v1.Namespace.json");
    assert_eq!(
        namespace.status().unwrap().unwrap().phase.as_deref(),
        Some("phaseValue")
    );
    let claim: core::v1::PersistentVolumeClaim =
        round_trip("api-testdata/core.v1.PersistentVolumeClaim.json");
    let spec = claim.spec().unwrap().unwrap();
    assert_eq!(
        spec.storage_class_name.as_deref(),
        Some("storageClassNameValue")
    );
    let selector = spec.selector.as_ref().unwrap();
    assert_eq!(
        selector.match_labels.get("matchLabelsKey"),
        Some("matchLabelsValue")
    );
}

#[test]
fn events_of_both_groups_and_service_accounts_round_trip() {
    let event: core::v1::Event = round_trip("api-testdata/core.v1.Event.json");
    assert_eq!(
        event.involved_object().unwrap().unwrap().kind.as_deref(),
        Some("kindValue")
    );
    assert_eq!(event.count().unwrap(), Some(&8));
    assert_eq!(
        event.event_time().unwrap().unwrap().to_string(),
        "2010-01-01T01:01:01.000010Z"
    );
    let event: events::v1::Event = round_trip("api-testdata/events.k8s.io.v1.Event.json");
    assert_eq!(event.note().unwrap().map(String::as_str), Some("noteValue"));
    assert_eq!(event.api_version(), "events.k8s.io/v1");
    let account: core::v1::ServiceAccount = round_trip("api-testdata/core.v1.ServiceAccount.json");
    assert_eq!(
        account.automount_service_account_token().unwrap(),
        Some(&true)
    );
}

#[test]
fn workloads_round_trip_with_their_pod_templates() {
    let deployment: apps::v1::Deployment = round_trip("api-testdata/apps.v1.Deployment.json");
    let spec = deployment.spec().unwrap().unwrap();
    assert_eq!(spec.replicas, Some(1));
    let rolling = spec
        .strategy
        .as_ref()
        .unwrap()
        .rolling_update
        .as_ref()
        .unwrap();
    assert_eq!(
        rolling.max_surge,
        Some(IntOrString::String("maxSurgeValue".into()))
    );
    let template = spec.template.as_ref().unwrap();
    assert_eq!(template.metadata.as_ref().unwrap().name(), "nameValue");
    let template_spec = template.spec.as_ref().unwrap();
    assert_eq!(
        template_spec.containers.as_ref().unwrap()[0]
            .name
            .as_deref(),
        Some("nameValue")
    );
    let status = deployment.status().unwrap().unwrap();
    assert_eq!(status.available_replicas, Some(4));

    let replica_set: apps::v1::ReplicaSet = round_trip("api-testdata/apps.v1.ReplicaSet.json");
    assert_eq!(
        replica_set
            .status()
            .unwrap()
            .unwrap()
            .fully_labeled_replicas,
        Some(2)
    );
    let stateful_set: apps::v1::StatefulSet = round_trip("api-testdata/apps.v1.StatefulSet.json");
    let claims = stateful_set
        .spec()
        .unwrap()
        .unwrap()
        .volume_claim_templates
        .clone()
        .unwrap();
    assert_eq!(claims[0].metadata.as_ref().unwrap().name(), "nameValue");
    let daemon_set: apps::v1::DaemonSet = round_trip("api-testdata/apps.v1.DaemonSet.json");
    assert_eq!(daemon_set.status().unwrap().unwrap().number_ready, Some(4));
}

#[test]
fn jobs_cron_jobs_and_leases_round_trip() {
    let job: batch::v1::Job = round_trip("api-testdata/batch.v1.Job.json");
    assert_eq!(job.spec().unwrap().unwrap().backoff_limit, Some(7));
    assert_eq!(job.status().unwrap().unwrap().succeeded, Some(5));
    let cron_job: batch::v1::CronJob = round_trip("api-testdata/batch.v1.CronJob.json");
    let spec = cron_job.spec().unwrap().unwrap();
    assert_eq!(spec.schedule.as_deref(), Some("scheduleValue"));
    let job_spec = spec.job_template.as_ref().unwrap().spec.as_ref().unwrap();
    assert_eq!(job_spec.parallelism, Some(1));
    let lease: coordination::v1::Lease =
        round_trip("api-testdata/coordination.k8s.io.v1.Lease.json");
    let spec = lease.spec().unwrap().unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("holderIdentityValue"));
    assert_eq!(
        spec.renew_time.unwrap().to_string(),
        "2004-01-01T01:01:01.000004Z"
    );
}

#[test]
fn custom_resource_definition_round_trips_with_its_schema() {
    let crd: apiextensions::v1::CustomResourceDefinition = round_trip("objects/crd-flunders.json");
    let spec = crd.spec().unwrap().unwrap();
    assert_eq!(
        spec.names.as_ref().unwrap().short_names.as_deref(),
        Some(&["fl".to_owned()][..])
    );
    let version = &spec.versions.as_ref().unwrap()[0];
    let schema = version
        .schema
        .as_ref()
        .unwrap()
        .open_api_v3_schema
        .as_ref()
        .unwrap();
    assert_eq!(schema["type"], "object");
    let resource = spec.api_resource("v1alpha1").unwrap();
    assert_eq!(resource.gvr().resource, "flunders");
    assert!(resource.is_namespaced());
    assert!(spec.api_resource("v9").is_none());
}

/// The fixture of a built-in kind: k8s.io/api's file, or ours for the CRD.
fn fixture_file(kind: &BuiltinKind) -> String {
    match kind.group {
        "apiextensions.k8s.io" => "objects/crd-flunders.json".to_owned(),
        "" => format!("api-testdata/core.{}.{}.json", kind.version, kind.kind),
        group => format!("api-testdata/{group}.{}.{}.json", kind.version, kind.kind),
    }
}

/// A check run on every kind of the table, generic over the kind's type.
trait Check {
    fn run<K: TypedObject>(&self, file: &str);
}

/// Runs `check` with the Rust type of `kind`; a kind without a type here fails the test.
fn for_kind(kind: &BuiltinKind, check: &impl Check) {
    let file = fixture_file(kind);
    match (kind.group, kind.kind) {
        ("", "Pod") => check.run::<core::v1::Pod>(&file),
        ("", "ConfigMap") => check.run::<core::v1::ConfigMap>(&file),
        ("", "Secret") => check.run::<core::v1::Secret>(&file),
        ("", "Service") => check.run::<core::v1::Service>(&file),
        ("", "Namespace") => check.run::<core::v1::Namespace>(&file),
        ("", "Node") => check.run::<core::v1::Node>(&file),
        ("", "Event") => check.run::<core::v1::Event>(&file),
        ("", "ServiceAccount") => check.run::<core::v1::ServiceAccount>(&file),
        ("", "Endpoints") => check.run::<core::v1::Endpoints>(&file),
        ("", "PersistentVolumeClaim") => check.run::<core::v1::PersistentVolumeClaim>(&file),
        ("apps", "Deployment") => check.run::<apps::v1::Deployment>(&file),
        ("apps", "ReplicaSet") => check.run::<apps::v1::ReplicaSet>(&file),
        ("apps", "StatefulSet") => check.run::<apps::v1::StatefulSet>(&file),
        ("apps", "DaemonSet") => check.run::<apps::v1::DaemonSet>(&file),
        ("batch", "Job") => check.run::<batch::v1::Job>(&file),
        ("batch", "CronJob") => check.run::<batch::v1::CronJob>(&file),
        ("coordination.k8s.io", "Lease") => check.run::<coordination::v1::Lease>(&file),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            check.run::<apiextensions::v1::CustomResourceDefinition>(&file)
        }
        ("events.k8s.io", "Event") => check.run::<events::v1::Event>(&file),
        other => panic!("no typed kind for {other:?}"),
    }
}

struct FullyDecoded;

impl Check for FullyDecoded {
    fn run<K: TypedObject>(&self, file: &str) {
        round_trip::<K>(file);
    }
}

struct Unread;

impl Check for Unread {
    fn run<K: TypedObject>(&self, file: &str) {
        let text = fixture(file);
        let object: K = serde_json::from_str(&text).unwrap();
        assert!(object.raw_body_len() > 0, "{file}: bodies kept raw");
        let original: Value = serde_json::from_str(&text).unwrap();
        // Compared as values (not text) only because the fixture is pretty-printed.
        assert_eq!(original, serde_json::to_value(&object).unwrap(), "{file}");
    }
}

#[test]
fn every_kind_of_the_table_round_trips_fully_decoded() {
    for kind in BUILTIN_KINDS {
        for_kind(kind, &FullyDecoded);
    }
}

#[test]
fn every_kind_of_the_table_round_trips_unread() {
    for kind in BUILTIN_KINDS {
        for_kind(kind, &Unread);
    }
}
