//! Memory cost of the Indexer at 100k objects, measured as growth of the resident set
//! (`/proc/self/statm`, so approximate: the allocator's own slack is included): bytes of the
//! objects themselves, and bytes the store and its indices add per object (keys are shared
//! `Arc<str>`s between items and indices). Prints one line per figure; not a criterion bench.

use std::sync::Arc;

use kinformer_cache::{index_func, namespace_indexers, Indexer, Indexers, Store};

mod support;

use support::{pod, Pod};

/// Resident bytes of this process (0 where `/proc` is missing).
fn live() -> isize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<isize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    const N: usize = 100_000;
    let start = live();
    let objects: Vec<Arc<Pod>> = (0..N).map(|i| pod(i, i)).collect();
    let objects_bytes = live() - start;

    // Every indexer is kept alive, so freed memory is never reused by the next measurement.
    let mut kept = Vec::new();
    for (name, indexers) in [
        ("no index", Indexers::new()),
        ("namespace index", namespace_indexers::<Pod>()),
        ("namespace + app label index", {
            let mut indexers = namespace_indexers::<Pod>();
            indexers.insert(
                "app".into(),
                index_func(|pod: &Pod| {
                    Ok(pod
                        .metadata
                        .labels
                        .get("app")
                        .map(|v| vec![v.to_owned()])
                        .unwrap_or_default())
                }),
            );
            indexers
        }),
        ("namespace + uid index (one object per value)", {
            let mut indexers = namespace_indexers::<Pod>();
            indexers.insert(
                "uid".into(),
                index_func(|pod: &Pod| Ok(pod.metadata.uid.iter().cloned().collect())),
            );
            indexers
        }),
    ] {
        let before = live();
        let indexer = Indexer::new(kinformer_cache::meta_namespace_key_func(), indexers);
        for object in &objects {
            indexer.add(object.clone()).unwrap();
        }
        let store_bytes = live() - before;
        println!(
            "{name}: objects {} B/object; the store adds {} B/object ({} MiB at {N})",
            objects_bytes / N as isize,
            store_bytes / N as isize,
            store_bytes / (1 << 20),
        );
        kept.push(indexer);
    }
}
