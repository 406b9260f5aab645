//! Throughput of the work queue: add, get and done of 100k distinct items with 1, 2 and 4
//! workers on a two-thread tokio runtime, and with one worker on a single-thread runtime.

use std::time::Duration;

use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use kinformer_workqueue::Queue;

const ITEMS: u64 = 100_000;

/// Adds `ITEMS` keys while `workers` tasks get and done them, then shuts down and joins.
async fn run(workers: usize) -> u64 {
    let queue: Queue<u64> = Queue::default();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut processed = 0u64;
                while let Some(item) = queue.get().await {
                    queue.done(&item);
                    processed += 1;
                }
                processed
            })
        })
        .collect();
    for item in 0..ITEMS {
        // The queue is open until the loop ends, so every add is accepted.
        let _ = queue.add(item);
        if item % 1024 == 0 {
            tokio::task::yield_now().await;
        }
    }
    queue.shutdown();
    let mut total = 0;
    for handle in handles {
        total += handle.await.unwrap_or(0);
    }
    assert_eq!(total, ITEMS, "every item is processed exactly once");
    total
}

fn add_get_done(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime for the benchmark");
    let mut group = c.benchmark_group("queue_add_get_done");
    group.throughput(Throughput::Elements(ITEMS));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for workers in [1, 2, 4] {
        group.bench_with_input(
            BenchmarkId::from_parameter(workers),
            &workers,
            |b, &workers| b.iter(|| runtime.block_on(run(workers))),
        );
    }
    group.finish();

    // The same work with no second thread: the cost of the queue itself, without contention.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime for the benchmark");
    let mut group = c.benchmark_group("queue_add_get_done_current_thread");
    group.throughput(Throughput::Elements(ITEMS));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("1", |b| b.iter(|| runtime.block_on(run(1))));
    group.finish();
}

/// Criterion's generated group function lives in a private module, where it needs no docs.
mod group {
    criterion::criterion_group!(benches, super::add_get_done);
}

criterion_main!(group::benches);
