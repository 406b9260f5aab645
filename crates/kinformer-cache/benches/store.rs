//! Store and Indexer benchmarks at 10k and 100k objects: add, update, get, by_index
//! (namespace and a label index), list and replace.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use kinformer_cache::{index_func, namespace_indexers, Indexer, Indexers, Store, NAMESPACE_INDEX};

mod support;

use support::{pod, Pod};

fn indexers() -> Indexers<Pod> {
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
}

fn filled(objects: &[Arc<Pod>]) -> Indexer<Pod> {
    let indexer = Indexer::new(kinformer_cache::meta_namespace_key_func(), indexers());
    for object in objects {
        indexer.add(object.clone()).unwrap();
    }
    indexer
}

fn bench_store(c: &mut Criterion) {
    for size in [10_000usize, 100_000] {
        let objects: Vec<Arc<Pod>> = (0..size).map(|i| pod(i, 1)).collect();
        let updates: Vec<Arc<Pod>> = (0..size).map(|i| pod(i, 2)).collect();
        let keys: Vec<String> = (0..size)
            .map(|i| format!("namespace-{:03}/pod-{i:06}-abcde", i % 100))
            .collect();
        let mut group = c.benchmark_group(format!("store/{size}"));

        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(BenchmarkId::new("add", size), |b| {
            b.iter_batched(
                || Indexer::new(kinformer_cache::meta_namespace_key_func(), indexers()),
                |indexer| {
                    for object in &objects {
                        indexer.add(object.clone()).unwrap();
                    }
                    indexer
                },
                BatchSize::PerIteration,
            )
        });
        let indexer = filled(&objects);
        group.bench_function(BenchmarkId::new("update", size), |b| {
            b.iter(|| {
                for object in &updates {
                    indexer.update(object.clone()).unwrap();
                }
            })
        });
        group.bench_function(BenchmarkId::new("get", size), |b| {
            b.iter(|| {
                let mut found = 0;
                for key in &keys {
                    found += indexer.get_by_key(key).is_some() as usize;
                }
                found
            })
        });
        group.bench_function(BenchmarkId::new("replace", size), |b| {
            b.iter(|| indexer.replace(updates.clone(), "3").unwrap())
        });

        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("by_index_namespace", size), |b| {
            let mut n = 0usize;
            b.iter(|| {
                n = (n + 1) % 100;
                indexer
                    .by_index(NAMESPACE_INDEX, &format!("namespace-{n:03}"))
                    .unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("by_index_label", size), |b| {
            let mut n = 0usize;
            b.iter(|| {
                n = (n + 1) % 1000;
                indexer.by_index("app", &format!("app-{n}")).unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("list", size), |b| {
            b.iter(|| indexer.list())
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_store
}
criterion_main!(benches);
