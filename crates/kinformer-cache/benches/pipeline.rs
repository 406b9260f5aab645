//! The client's share of an informer's sync and watch, without a server: a list body and a
//! watch body of realistic pods (`fixtures/objects/pod-web.json`, about 6 KB each) are encoded
//! once in memory, then a `SharedIndexInformer<Pod>` (namespace and `app` label indices, one
//! counting handler) lists and follows them through an in-memory `ListWatch` that hands out
//! the bytes in 64 KiB chunks, through the real `ListStream` and `WatchStream` decoders.
//! Each phase is compared with its floor: `serde_json` decoding the same bytes into the same
//! types. Prints one line per figure; not a criterion bench.
//!
//! `cargo bench -p kinformer-cache --bench pipeline -- [pods] [events] [runs] [workers]`
//! (default 10000 50000 3 2; 1 worker runs on a current-thread runtime, which shows the
//! pipeline's own CPU cost without any hand-off between threads). Figures are medians.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kinformer_cache::{
    index_func, namespace_indexers, Indexers, ListEventStream, ListWatch,
    ResourceEventHandlerFuncs, SharedIndexInformer, SharedInformerConfig, WatchEventStream,
};
use kinformer_client::watch::{ListStream, WatchConfig, WatchStream};
use kinformer_meta::{ListOptions, Object, ObjectList, WatchEvent};
use kinformer_typed::Pod;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The bytes a fake server would send, and the event count of the watch.
struct Bodies {
    list: Bytes,
    watch: Bytes,
    /// Byte ranges of each watch event (for the floor).
    frames: Vec<(usize, usize)>,
}

fn template() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/objects/pod-web.json"
    );
    let text = std::fs::read_to_string(path).expect("fixtures/objects/pod-web.json");
    serde_json::from_str(&text).expect("pod fixture is JSON")
}

/// Pod `i` at `version`: its own name, namespace (of 50), uid, app label (of 250) and status.
fn pod(template: &Value, i: u64, version: u64) -> Value {
    let mut pod = template.clone();
    let meta = &mut pod["metadata"];
    meta["name"] = json!(format!("web-{:08x}-{i:06}", i * 2_654_435_761 % (1 << 32)));
    meta["namespace"] = json!(format!("namespace-{:02}", i % 50));
    meta["uid"] = json!(format!("6c5e1f4a-0000-4000-8000-{i:012}"));
    meta["resourceVersion"] = json!(version.to_string());
    meta["labels"]["app"] = json!(format!("app-{}", i % 250));
    meta["annotations"]["revision"] = json!(version.to_string());
    pod["status"]["podIP"] = json!(format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255));
    pod
}

fn bodies(pods: u64, events: u64) -> Bodies {
    let template = template();
    let mut items = Vec::with_capacity(pods as usize);
    for i in 0..pods {
        items.push(pod(&template, i, i + 1));
    }
    let list = serde_json::to_vec(&json!({
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": pods.to_string()},
        "items": items,
    }))
    .unwrap();
    drop(items);
    let mut watch = Vec::new();
    let mut frames = Vec::with_capacity(events as usize);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for e in 0..events {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let version = pods + 1 + e;
        let object = pod(&template, state % pods, version);
        let start = watch.len();
        serde_json::to_writer(&mut watch, &json!({"type": "MODIFIED", "object": object})).unwrap();
        frames.push((start, watch.len()));
        watch.push(b'\n');
    }
    Bodies {
        list: Bytes::from(list),
        watch: Bytes::from(watch),
        frames,
    }
}

/// Serves the list body, then the watch body once `go` is notified; later watches stay open
/// and silent.
struct MemoryListWatch {
    list: Bytes,
    watch: Bytes,
    go: Arc<Notify>,
    served: AtomicU64,
}

fn chunks(body: &Bytes) -> impl futures::Stream<Item = kinformer_client::Result<Bytes>> {
    const CHUNK: usize = 64 * 1024;
    let body = body.clone();
    let count = body.len().div_ceil(CHUNK);
    futures::stream::iter(
        (0..count).map(move |i| Ok(body.slice(i * CHUNK..((i + 1) * CHUNK).min(body.len())))),
    )
}

impl ListWatch<Pod> for MemoryListWatch {
    fn list(
        &self,
        _options: ListOptions,
    ) -> BoxFuture<'static, kinformer_client::Result<ObjectList<Pod>>> {
        let list = self.list.clone();
        async move { Ok(serde_json::from_slice(&list).unwrap()) }.boxed()
    }

    fn list_stream(
        &self,
        _options: ListOptions,
    ) -> BoxFuture<'static, kinformer_client::Result<ListEventStream<Pod>>> {
        let stream = ListStream::<Pod>::new(chunks(&self.list)).boxed();
        async move { Ok(stream) }.boxed()
    }

    fn watch(
        &self,
        _options: ListOptions,
    ) -> BoxFuture<'static, kinformer_client::Result<WatchEventStream<Pod>>> {
        let first = self.served.fetch_add(1, Ordering::SeqCst) == 0;
        let body = self.watch.clone();
        let go = self.go.clone();
        async move {
            if first {
                go.notified().await;
                let config = WatchConfig::default().idle_timeout(None);
                let events = WatchStream::<Pod>::new(chunks(&body), config);
                Ok(events.chain(futures::stream::pending()).boxed())
            } else {
                Ok(futures::stream::pending().boxed())
            }
        }
        .boxed()
    }
}

fn indexers() -> Indexers<Pod> {
    let mut indexers = namespace_indexers::<Pod>();
    indexers.insert(
        "app".to_owned(),
        index_func(|pod: &Pod| {
            Ok(pod
                .metadata()
                .labels
                .get("app")
                .map(|app| vec![app.to_owned()])
                .unwrap_or_default())
        }),
    );
    indexers
}

struct Run {
    floor_list: Duration,
    floor_watch: Duration,
    list: Duration,
    watch: Duration,
    /// CPU time of the process (all threads) over the list and watch phases and their floors.
    list_cpu: Duration,
    watch_cpu: Duration,
    floor_list_cpu: Duration,
    floor_watch_cpu: Duration,
}

/// CPU time (user + system) of this process so far, from `/proc/self/stat` (10 ms ticks;
/// zero where `/proc` is missing).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn run(bodies: &Bodies, pods: u64, events: u64, workers: usize) -> Run {
    // Floors: plain decode of the same bytes, results kept until the clock stops.
    let (started, cpu) = (Instant::now(), cpu_time());
    let list: ObjectList<Pod> = serde_json::from_slice(&bodies.list).unwrap();
    let floor_list = started.elapsed();
    let floor_list_cpu = cpu_time() - cpu;
    assert_eq!(list.items.len() as u64, pods);
    drop(list);
    let (started, cpu) = (Instant::now(), cpu_time());
    let mut decoded = Vec::with_capacity(bodies.frames.len());
    for &(start, end) in &bodies.frames {
        let event: WatchEvent<Pod> = serde_json::from_slice(&bodies.watch[start..end]).unwrap();
        decoded.push(event);
    }
    let floor_watch = started.elapsed();
    let floor_watch_cpu = cpu_time() - cpu;
    drop(decoded);

    let runtime = match workers {
        0 | 1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()
            .unwrap(),
    };
    let go = Arc::new(Notify::new());
    let list_watch = MemoryListWatch {
        list: bodies.list.clone(),
        watch: bodies.watch.clone(),
        go: go.clone(),
        served: AtomicU64::new(0),
    };
    let handled = Arc::new(AtomicU64::new(0));
    let (list, watch) = runtime.block_on(async {
        let informer = SharedIndexInformer::new(
            Arc::new(list_watch),
            SharedInformerConfig::default().indexers(indexers()),
        );
        let (a, u, d) = (handled.clone(), handled.clone(), handled.clone());
        let registration = informer
            .add_event_handler(
                ResourceEventHandlerFuncs::default()
                    .add_func(move |_, _| {
                        a.fetch_add(1, Ordering::Relaxed);
                    })
                    .update_func(move |_, _| {
                        u.fetch_add(1, Ordering::Relaxed);
                    })
                    .delete_func(move |_| {
                        d.fetch_add(1, Ordering::Relaxed);
                    }),
            )
            .unwrap();
        let cancel = CancellationToken::new();
        let (started, cpu) = (Instant::now(), cpu_time());
        let task = informer.start(cancel.clone());
        registration.wait_for_cache_sync(None).await.unwrap();
        let list = (started.elapsed(), cpu_time() - cpu);
        assert_eq!(informer.indexer().len() as u64, pods);
        let (started, cpu) = (Instant::now(), cpu_time());
        go.notify_one();
        while handled.load(Ordering::Relaxed) < pods + events {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let watch = (started.elapsed(), cpu_time() - cpu);
        cancel.cancel();
        task.await.unwrap();
        (list, watch)
    });
    Run {
        floor_list,
        floor_watch,
        list: list.0,
        watch: watch.0,
        list_cpu: list.1,
        watch_cpu: watch.1,
        floor_list_cpu,
        floor_watch_cpu,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pods = args.first().copied().unwrap_or(10_000);
    let events = args.get(1).copied().unwrap_or(50_000);
    let runs = args.get(2).copied().unwrap_or(3).max(1);
    let workers = args.get(3).copied().unwrap_or(2) as usize;
    let bodies = bodies(pods, events);
    let mut results = Vec::new();
    for _ in 0..runs {
        results.push(run(&bodies, pods, events, workers));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let floor_list = median(results.iter().map(|r| ms(r.floor_list)).collect());
    let list = median(results.iter().map(|r| ms(r.list)).collect());
    let floor_watch = median(results.iter().map(|r| ms(r.floor_watch)).collect());
    let watch = median(results.iter().map(|r| ms(r.watch)).collect());
    let list_ratio = median(
        results
            .iter()
            .map(|r| ms(r.list) / ms(r.floor_list))
            .collect(),
    );
    let watch_ratio = median(
        results
            .iter()
            .map(|r| ms(r.watch) / ms(r.floor_watch))
            .collect(),
    );
    println!(
        "pipeline: {pods} pods ({:.0} bytes each), {events} events, {workers} worker(s), median of {runs}",
        bodies.list.len() as f64 / pods as f64
    );
    let cpu = |phase: fn(&Run) -> Duration| median(results.iter().map(|r| ms(phase(r))).collect());
    let (list_cpu, floor_list_cpu) = (cpu(|r| r.list_cpu), cpu(|r| r.floor_list_cpu));
    let (watch_cpu, floor_watch_cpu) = (cpu(|r| r.watch_cpu), cpu(|r| r.floor_watch_cpu));
    println!(
        "sync  {list:9.1} ms  floor {floor_list:8.1} ms  ratio {list_ratio:.2}x  cpu {list_cpu:.0} ms, floor's {floor_list_cpu:.0} ms ({:.2}x)",
        list_cpu / floor_list_cpu.max(1.0)
    );
    println!(
        "watch {watch:9.1} ms  floor {floor_watch:8.1} ms  ratio {watch_ratio:.2}x  cpu {watch_cpu:.0} ms, floor's {floor_watch_cpu:.0} ms ({:.2}x)",
        watch_cpu / floor_watch_cpu.max(1.0)
    );
}
