//! Memory of a decoded-but-unread pod versus its JSON, the figure an informer cache cares
//! about. The heap is counted field by field (exact allocation sizes, without the allocator's
//! own rounding and headers); run with `--nocapture` to see the figures.

mod common;

use std::mem::size_of;

use kinformer_meta::{Lazy, ObjectMeta, Packed};
use kinformer_typed::{Pod, PodSpec, TypedObject};

use common::{compact, fixture};

/// Inline size plus counted heap of a pod whose bodies are still raw JSON.
fn unread_pod_size(pod: &Pod) -> (usize, usize) {
    let heap = pod.metadata.heap_size() + pod.raw_body_len() + pod.unknown.heap_size();
    (size_of::<Pod>(), heap)
}

#[test]
fn unread_pod_costs_about_its_json_size() {
    let json = compact(&fixture("objects/pod-web.json"));
    let pod: Pod = serde_json::from_str(&json).unwrap();
    let (inline, heap) = unread_pod_size(&pod);
    let managed = pod
        .metadata
        .managed_fields
        .as_ref()
        .map_or(0, Packed::packed_len);
    println!(
        "pod-web: compact JSON {} bytes; unread Pod {} bytes = {} inline + {} heap \
         ({} of it raw spec/status JSON, {} compressed managedFields); ratio {:.2}",
        json.len(),
        inline + heap,
        inline,
        heap,
        pod.raw_body_len(),
        managed,
        (inline + heap) as f64 / json.len() as f64,
    );
    println!(
        "sizes: Pod {} bytes, ObjectMeta {}, Option<Lazy<Box<PodSpec>>> {}, Lazy<PodSpec> unboxed would be {}",
        size_of::<Pod>(),
        size_of::<ObjectMeta>(),
        size_of::<Option<Lazy<Box<PodSpec>>>>(),
        size_of::<Lazy<PodSpec>>(),
    );
    // The unread object holds its bodies as exactly the JSON it came as, plus metadata that is
    // no larger than its own JSON: together at most the JSON size and a small fixed overhead.
    assert!(
        inline + heap <= json.len() + 1_024,
        "{} > {}",
        inline + heap,
        json.len()
    );
    // Boxing the body keeps an undecoded pod small in the cache's slots.
    assert!(size_of::<Option<Lazy<Box<PodSpec>>>>() * 4 < size_of::<Lazy<PodSpec>>());
}
