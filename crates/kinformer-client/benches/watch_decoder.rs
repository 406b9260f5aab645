//! Criterion benchmark of the watch decoder and of list-page decoding on realistic pods
//! (about 5 KB each, with managedFields, two containers and a full status), each compared in
//! the same run with a plain `serde_json::from_slice` of the same bytes into the same type.
//!
//! Run: `cargo bench -p kinformer-client --bench watch_decoder -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use kinformer_client::watch::WatchDecoder;
use kinformer_meta::{ObjectList, WatchEvent};
use kinformer_typed::Pod;
use serde_json::{json, Value};

/// How many events one watch body holds, and how many pods one list page holds.
const EVENTS: usize = 500;
/// A typical chunk size on the wire (hyper reads up to this much at a time).
const CHUNK: usize = 16 * 1024;

/// One realistic pod of a Deployment, made unique by `i`.
fn pod(i: usize) -> Value {
    let name = format!("web-7d4b9c8f6d-{i:05x}");
    let container = |name: &str, image: &str, port: u16| {
        json!({
            "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
            "env": [
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                {"name": "LOG_LEVEL", "value": "info"}
            ],
            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
            "volumeMounts": [
                {"name": "config", "mountPath": "/etc/app"},
                {"name": "kube-api-access-x2x7q", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}
            ],
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"}, "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": port, "scheme": "HTTP"}, "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
        })
    };
    let status = |name: &str, image: &str| {
        json!({
            "name": name, "ready": true, "restartCount": 0, "started": true, "image": image,
            "imageID": format!("docker.io/library/{image}@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"),
            "containerID": format!("containerd://{:064x}", i * 7919 + name.len()),
            "lastState": {},
            "state": {"running": {"startedAt": "2026-11-26T16:29:14Z"}}
        })
    };
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": name, "generateName": "web-7d4b9c8f6d-", "namespace": "production",
            "uid": format!("4311bae7-{:04x}-4c1e-9a4f-{:012x}", i % 65536, i),
            "resourceVersion": format!("{}", 100_000 + i),
            "creationTimestamp": "2026-11-26T16:29:11Z",
            "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d", "tier": "frontend", "version": "v2"},
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": "2026-11-26T16:20:00Z",
                "prometheus.io/scrape": "true", "prometheus.io/port": "9090"
            },
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c8f6d",
                                 "uid": "9a8b7c6d-1111-2222-3333-444455556666", "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-26T16:29:11Z",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}, "f:tier": {}, "f:version": {}},
                    "f:ownerReferences": {".": {}, "k:{\"uid\":\"9a8b7c6d-1111-2222-3333-444455556666\"}": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:env": {}, "f:image": {}, "f:name": {}, "f:ports": {}, "f:resources": {}}}}}},
                {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-26T16:29:14Z", "subresource": "status",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:conditions": {}, "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {}, "f:startTime": {}}}}
            ]
        },
        "spec": {
            "containers": [container("app", "nginx:1.27.2", 8080), container("metrics", "prom/statsd-exporter:v0.26.1", 9090)],
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
                {"name": "kube-api-access-x2x7q", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}
            ],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "web", "serviceAccount": "web", "nodeName": format!("node-{}", i % 40),
            "securityContext": {"runAsNonRoot": true, "fsGroup": 2000}, "schedulerName": "default-scheduler",
            "priority": 0, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T16:29:13Z"},
                {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T16:29:11Z"},
                {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T16:29:15Z"},
                {"type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T16:29:15Z"},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T16:29:11Z"}
            ],
            "hostIP": format!("10.0.{}.{}", i % 40, 10 + i % 200), "hostIPs": [{"ip": format!("10.0.{}.{}", i % 40, 10 + i % 200)}],
            "podIP": format!("10.244.{}.{}", i % 250, i % 251), "podIPs": [{"ip": format!("10.244.{}.{}", i % 250, i % 251)}],
            "startTime": "2026-11-26T16:29:11Z",
            "containerStatuses": [status("app", "nginx:1.27.2"), status("metrics", "prom/statsd-exporter:v0.26.1")],
            "qosClass": "Burstable"
        }
    })
}

/// A watch body: one compact event per line, as a server sends it.
fn watch_body() -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut body = Vec::new();
    let mut lines = Vec::new();
    for i in 0..EVENTS {
        let kind = if i % 3 == 0 { "ADDED" } else { "MODIFIED" };
        let line = serde_json::to_vec(&json!({"type": kind, "object": pod(i)})).unwrap();
        body.extend_from_slice(&line);
        body.push(b'\n');
        lines.push(line);
    }
    (body, lines)
}

/// A list page as a server sends it: items without kind and apiVersion.
fn list_page() -> Vec<u8> {
    let items: Vec<Value> = (0..EVENTS)
        .map(|i| {
            let mut pod = pod(i);
            let object = pod.as_object_mut().unwrap();
            object.remove("kind");
            object.remove("apiVersion");
            pod
        })
        .collect();
    serde_json::to_vec(&json!({
        "kind": "PodList", "apiVersion": "v1",
        "metadata": {"resourceVersion": "200000", "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Nn0", "remainingItemCount": 1500},
        "items": items,
    }))
    .unwrap()
}

fn decode_watch_body(body: &[u8]) -> usize {
    let mut decoder = WatchDecoder::<Pod>::default();
    let mut events = 0;
    for chunk in body.chunks(CHUNK) {
        decoder.push(chunk);
        while let Some(event) = decoder.next_event() {
            black_box(event.unwrap());
            events += 1;
        }
    }
    decoder.finish().unwrap();
    events
}

fn decode_lines(lines: &[Vec<u8>]) -> usize {
    for line in lines {
        black_box(serde_json::from_slice::<WatchEvent<Pod>>(line).unwrap());
    }
    lines.len()
}

fn watch(c: &mut Criterion) {
    let (body, lines) = watch_body();
    assert_eq!(decode_watch_body(&body), EVENTS);
    let average = body.len() / EVENTS;
    eprintln!(
        "watch body: {EVENTS} events, {} bytes, {average} bytes per event",
        body.len()
    );
    assert!(
        (4000..=6500).contains(&average),
        "pods should be 4-6 KB, are {average}"
    );

    let mut events = c.benchmark_group("watch_events");
    events.throughput(Throughput::Elements(EVENTS as u64));
    events.bench_function("kinformer_watch_decoder_16k_chunks", |b| {
        b.iter(|| decode_watch_body(black_box(&body)))
    });
    events.bench_function("serde_json_from_slice_per_line", |b| {
        b.iter(|| decode_lines(black_box(&lines)))
    });
    events.finish();

    let mut bytes = c.benchmark_group("watch_bytes");
    bytes.throughput(Throughput::Bytes(body.len() as u64));
    bytes.bench_function("kinformer_watch_decoder_16k_chunks", |b| {
        b.iter(|| decode_watch_body(black_box(&body)))
    });
    bytes.bench_function("serde_json_from_slice_per_line", |b| {
        b.iter(|| decode_lines(black_box(&lines)))
    });
    // The same events with no newline between them: every frame is found by the brace scan.
    let glued: Vec<u8> = lines.concat();
    assert_eq!(decode_watch_body(&glued), EVENTS);
    bytes.bench_function("kinformer_watch_decoder_no_newlines", |b| {
        b.iter(|| decode_watch_body(black_box(&glued)))
    });
    bytes.finish();
}

fn list(c: &mut Criterion) {
    let page = list_page();
    eprintln!("list page: {EVENTS} pods, {} bytes", page.len());
    let mut group = c.benchmark_group("list_page");
    group.throughput(Throughput::Bytes(page.len() as u64));
    group.bench_function("kinformer_api_decode", |b| {
        b.iter(|| {
            let list: ObjectList<Pod> = kinformer_client::api::decode(black_box(&page)).unwrap();
            black_box(list.items.len())
        })
    });
    group.bench_function("serde_json_from_slice", |b| {
        b.iter(|| {
            let list: ObjectList<Pod> = serde_json::from_slice(black_box(&page)).unwrap();
            black_box(list.items.len())
        })
    });
    group.finish();
}

criterion_group!(benches, watch, list);
criterion_main!(benches);
