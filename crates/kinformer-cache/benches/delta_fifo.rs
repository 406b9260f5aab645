//! DeltaFIFO throughput: producers on 1, 2 and 4 threads enqueue updates while one consumer
//! pops them, at 10k and 100k deltas per run.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kinformer_cache::{DeltaFifo, ProcessError};
use kinformer_meta::{ObjectMeta, PartialObjectMetadata, TypeMeta};

type Pod = PartialObjectMetadata;

fn pod(i: usize) -> Arc<Pod> {
    Arc::new(PartialObjectMetadata {
        types: TypeMeta::new("v1", "Pod"),
        metadata: ObjectMeta {
            name: Some(format!("pod-{i:06}")),
            namespace: Some(format!("namespace-{:03}", i % 100)),
            resource_version: Some(i.to_string()),
            labels: [("app", format!("app-{}", i % 1000))].into_iter().collect(),
            ..ObjectMeta::default()
        },
    })
}

/// Runs `producers` threads that each enqueue their share of `objects` while this thread
/// pops until every delta came out.
fn run(producers: usize, objects: &[Arc<Pod>]) {
    let fifo = DeltaFifo::<Pod>::default();
    let popped = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for chunk in objects.chunks(objects.len().div_ceil(producers)) {
            let fifo = &fifo;
            scope.spawn(move || {
                for object in chunk {
                    fifo.update(object.clone()).unwrap();
                }
            });
        }
        while popped.load(Ordering::Relaxed) < objects.len() {
            let _ = fifo.pop_blocking(|deltas, _| -> Result<(), ProcessError<()>> {
                popped.fetch_add(deltas.len(), Ordering::Relaxed);
                Ok(())
            });
        }
    });
}

fn bench_fifo(c: &mut Criterion) {
    for size in [10_000usize, 100_000] {
        // A tenth as many keys as deltas: most keys get several deltas, as in real traffic.
        let objects: Vec<Arc<Pod>> = (0..size).map(|i| pod((i * 7919) % (size / 10))).collect();
        let mut group = c.benchmark_group(format!("delta_fifo/{size}"));
        group.throughput(Throughput::Elements(size as u64));
        for producers in [1, 2, 4] {
            group.bench_with_input(
                BenchmarkId::new("enqueue_pop", format!("{producers}_producers")),
                &producers,
                |b, &producers| b.iter(|| run(producers, &objects)),
            );
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_fifo
}
criterion_main!(benches);
