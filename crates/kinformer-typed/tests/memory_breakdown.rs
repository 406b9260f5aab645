//! Where the bytes of a cached pod go, counted by a global allocator: each part of the bench
//! harness's pod (`tests/data/bench-pods.json`, six pods as the fake API server serves them,
//! with its three managedFields entries) is decoded on its own and the heap it keeps is
//! charged to it. Run with `--nocapture` to see the table.
//!
//! The counts are exact allocation sizes (capacities, not lengths; the allocator's own
//! per-block overhead is not in them), like the harness's `cache_bytes_per_object`, which
//! counts the same pods with a counting allocator (the workspace forbids the unsafe code a
//! global allocator needs, so this test walks the values instead).

use std::mem::size_of;

use kinformer_meta::ObjectMeta;
use kinformer_typed::{Pod, TypedObject};
use serde_json::{Map, Value};

/// Heap bytes a decoded pod holds: metadata, bodies still kept as JSON, unknown fields.
fn pod_heap(pod: &Pod) -> usize {
    pod.metadata.heap_size() + pod.raw_body_len() + pod.unknown.heap_size()
}

fn bench_pods() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bench-pods.json");
    let list: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    list["items"].as_array().unwrap().clone()
}

/// Heap kept by an `ObjectMeta` decoded from only the given keys of `meta`.
fn meta_part(meta: &Map<String, Value>, keys: &[&str]) -> usize {
    let part: Map<String, Value> = meta
        .iter()
        .filter(|(key, _)| keys.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let json = serde_json::to_string(&part).unwrap();
    serde_json::from_str::<ObjectMeta>(&json)
        .unwrap()
        .heap_size()
}

/// Heap kept by a `Pod` decoded from only `key` of `pod` (its inline size is not heap).
fn body_part(pod: &Value, key: &str) -> usize {
    let json = serde_json::to_string(&serde_json::json!({ key: pod[key] })).unwrap();
    pod_heap(&serde_json::from_str::<Pod>(&json).unwrap())
}

const STRINGS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

#[test]
fn a_cached_bench_pod_costs_less_than_its_json_and_every_byte_is_accounted_for() {
    let pods = bench_pods();
    let parts = [
        "inline (Pod + Arc counts)",
        "metadata strings, numbers, times",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
        "spec",
        "status",
    ];
    let mut sums = vec![0usize; parts.len()];
    let (mut json_total, mut cached_total) = (0usize, 0usize);
    for pod in &pods {
        let json = serde_json::to_string(pod).unwrap();
        let cached = serde_json::from_str::<Pod>(&json).unwrap();
        // An `Arc<Pod>` is one allocation of the pod's inline size plus two counts.
        let total = size_of::<Pod>() + 2 * size_of::<usize>() + pod_heap(&cached);
        let meta = pod["metadata"].as_object().unwrap();
        let known: Vec<&str> = STRINGS
            .iter()
            .copied()
            .chain([
                "labels",
                "annotations",
                "ownerReferences",
                "finalizers",
                "managedFields",
            ])
            .collect();
        assert!(
            meta.keys().all(|key| known.contains(&key.as_str())),
            "the bench pod has metadata this test does not charge: {:?}",
            meta.keys().collect::<Vec<_>>()
        );
        let row = [
            size_of::<Pod>() + 2 * size_of::<usize>(),
            meta_part(meta, STRINGS),
            meta_part(meta, &["labels"]),
            meta_part(meta, &["annotations"]),
            meta_part(meta, &["ownerReferences"]),
            meta_part(meta, &["finalizers"]),
            meta_part(meta, &["managedFields"]),
            body_part(pod, "spec"),
            body_part(pod, "status"),
        ];
        assert_eq!(
            row.iter().sum::<usize>(),
            total,
            "parts do not add up to the whole pod"
        );
        for (sum, part) in sums.iter_mut().zip(row) {
            *sum += part;
        }
        json_total += json.len();
        cached_total += total;
    }
    let count = pods.len();
    println!(
        "bench pod, mean of {count}: JSON {} bytes, cached Arc<Pod> {} bytes ({:.3}x)",
        json_total / count,
        cached_total / count,
        cached_total as f64 / json_total as f64
    );
    for (name, sum) in parts.iter().zip(&sums) {
        println!("  {name:<34} {:>6}", sum / count);
    }
    println!(
        "  sizes: Pod {}, ObjectMeta {}",
        size_of::<Pod>(),
        size_of::<ObjectMeta>()
    );
    // The cache adds about 250 bytes per object of its own (key, indices, map slots); the
    // object itself must leave room for them under the 1.0x target.
    assert!(
        (cached_total as f64) < json_total as f64 * 0.93,
        "cached {cached_total} bytes for {json_total} bytes of JSON"
    );
}

#[test]
fn compacted_bench_pods_encode_back_to_the_json_they_came_from() {
    for pod in bench_pods() {
        let json = serde_json::to_string(&pod).unwrap();
        let decoded: Pod = serde_json::from_str(&json).unwrap();
        let mut expected = pod.clone();
        expected["apiVersion"] = "v1".into();
        expected["kind"] = "Pod".into();
        assert_eq!(serde_json::to_value(&decoded).unwrap(), expected);
        // The compressed managedFields come back as the very bytes that went in.
        let managed = serde_json::to_string(&pod["metadata"]["managedFields"]).unwrap();
        let kept = decoded.metadata.managed_fields.as_ref().unwrap();
        assert_eq!(kept.raw_json().unwrap().unwrap(), managed);
        assert_eq!(kept.get().unwrap().len(), 3);
        assert_eq!(decoded.metadata.labels.len(), 2);
        assert_eq!(decoded.metadata.owner_references.capacity(), 1);
    }
}
