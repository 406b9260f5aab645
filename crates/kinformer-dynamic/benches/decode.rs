//! Decode speed of `DynamicObject`: the hand-written deserializer against the same shape
//! written with `#[serde(flatten)]`, on a list of realistic Deployment-like objects.
//!
//! Run with `cargo bench -p kinformer-dynamic --bench decode`; prints objects per second.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kinformer_dynamic::DynamicObject;
use kinformer_meta::ObjectMeta;
use serde::Deserialize;

/// The obvious alternative shape, for comparison.
#[derive(Deserialize)]
#[allow(dead_code)] // Fields are only decoded, never read: decoding is what is measured.
struct FlattenedObject {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(flatten)]
    data: serde_json::Map<String, serde_json::Value>,
}

fn object(index: usize) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": format!("web-{index}"),
            "namespace": "shop",
            "uid": format!("6c1a7f3e-0000-4000-8000-{index:012}"),
            "resourceVersion": format!("{}", 1000 + index),
            "generation": 3,
            "creationTimestamp": "2026-01-02T03:04:05Z",
            "labels": {"app": "web", "team": "shop", "tier": "frontend"},
            "annotations": {"deployment.kubernetes.io/revision": "3"},
            "managedFields": [{"manager": "kubectl", "operation": "Apply",
                "apiVersion": "apps/v1", "time": "2026-01-02T03:04:05Z",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "app", "image": "shop/web:1.2.3",
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}},
                    "env": [{"name": "MODE", "value": "fast"}]
                }]}
            }
        },
        "status": {"replicas": 3, "readyReplicas": 3, "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}
        ]}
    })
}

fn measure(name: &str, bytes: &[u8], count: usize, decode: impl Fn(&[u8]) -> usize) {
    // Warm up, then repeat until at least a second has passed.
    black_box(decode(bytes));
    let start = Instant::now();
    let mut rounds = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        black_box(decode(bytes));
        rounds += 1;
    }
    let per_round = start.elapsed() / rounds;
    let per_second = count as f64 / per_round.as_secs_f64();
    println!("{name:<28} {per_round:>10.2?} per list of {count}, {per_second:>10.0} objects/s");
}

fn main() {
    let count = 2000;
    let items: Vec<serde_json::Value> = (0..count).map(object).collect();
    let bytes = serde_json::to_vec(&items).expect("a JSON list");
    println!(
        "list of {count} objects, {} bytes ({} bytes per object)",
        bytes.len(),
        bytes.len() / count
    );
    measure("DynamicObject (hand-written)", &bytes, count, |bytes| {
        serde_json::from_slice::<Vec<DynamicObject>>(bytes)
            .expect("decodes")
            .len()
    });
    measure("serde(flatten) equivalent", &bytes, count, |bytes| {
        serde_json::from_slice::<Vec<FlattenedObject>>(bytes)
            .expect("decodes")
            .len()
    });
    let objects: Vec<DynamicObject> = serde_json::from_slice(&bytes).expect("decodes");
    measure("DynamicObject encode", &bytes, count, |_| {
        serde_json::to_vec(&objects).expect("encodes").len()
    });
}
