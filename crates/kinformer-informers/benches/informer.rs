//! Informer pipeline throughput on the in-memory `FakeListWatch` (no HTTP): how long the first
//! sync of N objects takes until two handlers have handled every initial add, and how fast live
//! changes reach both handlers. Lists are unpaginated (the fake pages slowly; paging is the
//! reflector's business, not measured here). Prints one line per figure.
//!
//! Run: `cargo bench -p kinformer-informers --bench informer` (N defaults to 100000; set
//! `INFORMER_BENCH_OBJECTS` to change it).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kinformer_cache::{
    FakeListWatch, ListWatch, ResourceEventHandlerFuncs, SharedIndexInformer, SharedInformerConfig,
};
use kinformer_meta::{ObjectMeta, PartialObjectMetadata, TypeMeta};
use tokio_util::sync::CancellationToken;

type Pod = PartialObjectMetadata;

fn pod(index: usize) -> Pod {
    PartialObjectMetadata {
        types: TypeMeta::new("v1", "Pod"),
        metadata: ObjectMeta {
            name: Some(format!("pod-{index}")),
            namespace: Some(format!("ns-{}", index % 50)),
            ..ObjectMeta::default()
        },
    }
}

fn counting(counter: &Arc<AtomicUsize>) -> ResourceEventHandlerFuncs<Pod> {
    let (a, u) = (counter.clone(), counter.clone());
    ResourceEventHandlerFuncs::default()
        .add_func(move |_: Arc<Pod>, _| {
            a.fetch_add(1, Ordering::Relaxed);
        })
        .update_func(move |_: Arc<Pod>, _: Arc<Pod>| {
            u.fetch_add(1, Ordering::Relaxed);
        })
}

async fn until(counter: &AtomicUsize, target: usize) {
    while counter.load(Ordering::Relaxed) < target {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn main() {
    let objects: usize = std::env::var("INFORMER_BENCH_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let fake = FakeListWatch::<Pod>::new();
        for index in 0..objects {
            fake.create(pod(index));
        }
        let list_watch: Arc<dyn ListWatch<Pod>> = Arc::new(fake.clone());
        // The source alone: one unpaginated list of everything.
        let started = Instant::now();
        let listed = list_watch
            .list(kinformer_meta::ListOptions::default())
            .await
            .expect("list")
            .items
            .len();
        println!(
            "source: one list of {listed} objects: {:?}",
            started.elapsed()
        );
        // Unpaginated lists: the in-memory fake pages slowly, and paging is not what is measured.
        let informer = SharedIndexInformer::new(
            list_watch,
            SharedInformerConfig::default().reflector(|config| config.page_size(0)),
        );
        let (first, second) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let one = informer
            .add_event_handler(counting(&first))
            .expect("handler");
        let two = informer
            .add_event_handler(counting(&second))
            .expect("handler");
        let cancel = CancellationToken::new();
        let started = Instant::now();
        let running = informer.start(cancel.clone());
        informer.wait_for_cache_sync(None).await.expect("sync");
        println!(
            "informer synced (cache filled, notifications queued): {:?}",
            started.elapsed()
        );
        one.wait_for_cache_sync(None).await.expect("sync");
        two.wait_for_cache_sync(None).await.expect("sync");
        let initial = started.elapsed();
        println!(
            "initial sync: {objects} objects, 2 handlers: {initial:?} ({:.0} objects/s)",
            objects as f64 / initial.as_secs_f64()
        );

        let started = Instant::now();
        for index in objects..2 * objects {
            fake.create(pod(index));
        }
        until(&first, 2 * objects).await;
        until(&second, 2 * objects).await;
        let live = started.elapsed();
        println!(
            "live adds: {objects} events, 2 handlers: {live:?} ({:.0} events/s)",
            objects as f64 / live.as_secs_f64()
        );

        let cached = informer.indexer().len();
        cancel.cancel();
        running.await.expect("informer task");
        println!(
            "cache: {cached} objects while running, {} after stop",
            informer.indexer().len()
        );
    });
}
