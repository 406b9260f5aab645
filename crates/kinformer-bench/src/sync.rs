//! One `sync` run: load N pods into an in-process fake API server, measure the floor, sync the
//! pipeline, follow M events, force a relist, and collect every figure of the JSON line.
//!
//! Phases, in order (each one's transient buffers are dropped before the next):
//! 1. load: the server gets N generated pods through its handle (server domain).
//! 2. floor (list): read every page of 500 as raw bytes (the server's list throughput), then
//!    time `serde_json::from_slice::<ObjectList<Pod>>` on those bytes.
//! 3. sync: start the pipeline; `list_ms` runs until it has synced; the allocator delta over
//!    the phase divided by N is `cache_bytes_per_object`.
//! 4. watch: a server-domain thread applies M planned changes through the handle; `watch_ms`
//!    runs until the handler has seen all M.
//! 5. floor (watch): read the same M events from the server's history as raw frames (the
//!    server's watch throughput), then time `serde_json::from_slice::<WatchEvent<Pod>>`.
//! 6. relist: the server restarts (cutting the watch) with a fault that answers the next
//!    watch with 410 Gone (as for a compacted resourceVersion); the pipeline relists; the RSS and heap peaks of that phase are
//!    recorded.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use kinformer_cache::Store;
use kinformer_client::{Client, Config};
use serde::Serialize;

use crate::alloc::{self, Domain};
use crate::backend::{kib, ms, Backend, ServerPlan};
use crate::error::{Error, Result};
use crate::floor;
use crate::pause::Pause;
use crate::pipeline::{Kind, Pipeline};
use crate::rss;

/// Worker threads of the client's runtime (the machine has two cores).
const CLIENT_WORKERS: usize = 2;

/// What a `sync` run does.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Pods loaded before the sync.
    pub pods: u64,
    /// Watch events queued on the server while the client is held, then followed (M).
    pub events: u64,
    /// Watch events written while the pipeline follows live, before the backlog (0: none).
    pub live_events: u64,
    /// Drop managedFields in the queue's transform.
    pub drop_managed_fields: bool,
    /// Items per list page.
    pub page_size: u32,
    /// Which pipeline runs.
    pub pipeline: Kind,
    /// Run the server in a child process instead of this one.
    pub server_process: bool,
    /// The longest any phase may take.
    pub phase_timeout: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            pods: 10_000,
            events: 50_000,
            live_events: 20_000,
            drop_managed_fields: false,
            page_size: 500,
            pipeline: Kind::Informer,
            server_process: false,
            phase_timeout: Duration::from_secs(900),
        }
    }
}

/// Every figure of one run; serialised as the JSON line (the first keys are the issue's).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Measurement {
    /// N.
    pub pods: u64,
    /// M.
    pub events: u64,
    /// Pipeline start to synced, ms.
    pub list_ms: f64,
    /// M events queued on the server: client released to last event handled, ms.
    pub watch_ms: f64,
    /// M / watch time.
    pub events_per_s: f64,
    /// Peak RSS over the sync, watch and relist phases (VmHWM, reset before the sync so the
    /// floor's buffers are not in it; getrusage's lifetime peak where the reset is refused),
    /// KiB. Includes the server and its `Value` objects unless it ran in a child process.
    pub max_rss_kb: u64,
    /// Heap bytes the client holds after sync (allocator delta over the sync) / N.
    pub cache_bytes_per_object: f64,
    /// Compact JSON bytes per pod as served in the list pages.
    pub json_bytes_per_object: f64,
    /// Peak RSS during the forced relist, KiB; includes the in-process server.
    pub relist_peak_rss_kb: u64,
    /// relist_peak_rss_kb minus the RSS just before the relist, KiB: the client's part.
    pub relist_rss_growth_kb: u64,
    /// Time to read the same list as raw bytes (server encoding plus transfer), ms.
    pub server_list_fetch_ms: f64,
    /// list_ms minus server_list_fetch_ms: the client's share of the sync, ms.
    pub list_client_ms: f64,
    /// list_client_ms / floor_list_ms.
    pub list_client_ratio: f64,
    /// Responses the first list took (1 when the server answered resourceVersion=0 at once).
    pub list_responses: u64,
    /// Plain `serde_json` decode of the same list pages, ms.
    pub floor_list_ms: f64,
    /// Plain `serde_json` decode of the same watch frames, ms.
    pub floor_watch_ms: f64,
    /// list_ms / floor_list_ms.
    pub list_ratio: f64,
    /// watch_ms / floor_watch_ms.
    pub watch_ratio: f64,
    /// Which pipeline was measured.
    pub pipeline: String,
    /// True when the queue's transform dropped managedFields.
    pub drop_managed_fields: bool,
    /// True when managedFields were kept LZ4-packed (`kinformer_meta::Packed`, the default).
    pub managed_fields_packed: bool,
    /// True when the server ran in a child process (RSS figures are then the client's alone).
    pub server_process: bool,
    /// Heap bytes per pod of the decoded `ObjectList<Pod>` pages alone (no queue, no cache):
    /// what the object representation costs, before any cache overhead.
    pub decoded_bytes_per_object: f64,
    /// cache_bytes_per_object / json_bytes_per_object.
    pub cache_to_json_ratio: f64,
    /// The client's heap after sync, KiB (cache_bytes_per_object x N).
    pub client_cache_heap_kb: u64,
    /// The client's heap peak during the relist over its baseline, KiB.
    pub relist_peak_client_heap_kb: u64,
    /// relist_peak_client_heap_kb / client_cache_heap_kb.
    pub relist_peak_ratio: f64,
    /// The client's heap peak over the whole run (excluding the server), KiB.
    pub client_peak_heap_kb: u64,
    /// VmRSS growth over the sync phase, KiB: the client's resident cost (the server's state
    /// is already loaded and does not change during the sync).
    pub sync_rss_growth_kb: u64,
    /// VmRSS just after the sync, KiB: the steady resident size to set beside the anchors'
    /// RSS (the client's alone with `--server-process`).
    pub rss_after_sync_kb: u64,
    /// The server's heap after loading the pods, KiB (its objects are `serde_json::Value`).
    pub server_heap_kb: u64,
    /// Relist time (cut to synced again), ms.
    pub relist_ms: f64,
    /// Time the producer thread took to write the backlog's M changes (client held), ms.
    pub producer_ms: f64,
    /// Live phase: events written while the pipeline followed.
    pub live_events: u64,
    /// Live phase: first write to last event handled, ms.
    pub live_watch_ms: f64,
    /// Live phase: events per second followed.
    pub live_events_per_s: f64,
    /// Live phase: time the producer took to write, ms (it shares the two cores).
    pub live_producer_ms: f64,
    /// List bytes per second the server delivered to a client that only reads them, MB/s.
    pub server_list_mb_per_s: f64,
    /// Watch bytes per second the server delivered to a client that only reads them, MB/s.
    pub server_watch_mb_per_s: f64,
    /// List bytes per second the pipeline consumed during the sync, MB/s.
    pub pipeline_list_mb_per_s: f64,
    /// Watch bytes per second the pipeline consumed following the backlog, MB/s.
    pub pipeline_watch_mb_per_s: f64,
}

impl Measurement {
    /// The fields as (name, JSON value) pairs, in declaration order (the JSON line's order).
    pub fn fields(&self) -> Vec<(&'static str, serde_json::Value)> {
        macro_rules! fields {
            ($($field:ident),* $(,)?) => {
                vec![$((stringify!($field), serde_json::json!(self.$field))),*]
            };
        }
        fields!(
            pods,
            events,
            list_ms,
            watch_ms,
            events_per_s,
            max_rss_kb,
            cache_bytes_per_object,
            json_bytes_per_object,
            relist_peak_rss_kb,
            floor_list_ms,
            floor_watch_ms,
            list_ratio,
            watch_ratio,
            pipeline,
            drop_managed_fields,
            managed_fields_packed,
            server_process,
            server_list_fetch_ms,
            list_client_ms,
            list_client_ratio,
            list_responses,
            relist_rss_growth_kb,
            decoded_bytes_per_object,
            cache_to_json_ratio,
            client_cache_heap_kb,
            relist_peak_client_heap_kb,
            relist_peak_ratio,
            client_peak_heap_kb,
            sync_rss_growth_kb,
            rss_after_sync_kb,
            server_heap_kb,
            relist_ms,
            producer_ms,
            live_events,
            live_watch_ms,
            live_events_per_s,
            live_producer_ms,
            server_list_mb_per_s,
            server_watch_mb_per_s,
            pipeline_list_mb_per_s,
            pipeline_watch_mb_per_s,
        )
    }
}

/// Runs one measurement.
pub fn run(options: &SyncOptions) -> Result<Measurement> {
    alloc::set_thread_domain(Domain::Client);
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(CLIENT_WORKERS)
        .thread_name("bench-client")
        .on_thread_start(|| alloc::set_thread_domain(Domain::Client))
        .enable_all()
        .build()
        .map_err(|source| Error::Runtime {
            which: "client",
            source,
        })?;
    let mut measurement = Measurement {
        pods: options.pods,
        events: options.events,
        live_events: options.live_events,
        pipeline: options.pipeline.name().to_owned(),
        drop_managed_fields: options.drop_managed_fields,
        managed_fields_packed: kinformer_meta::packed::compression(),
        server_process: options.server_process,
        ..Measurement::default()
    };

    // 1. Load.
    let (mut server, url, server_heap_kb) = Backend::start(
        ServerPlan {
            pods: options.pods,
            live_events: options.live_events,
            events: options.events,
        },
        options.server_process,
    )?;
    measurement.server_heap_kb = server_heap_kb;
    let client = {
        let _entered = client_runtime.enter();
        let uri: http::Uri = url.parse().map_err(|_| Error::Incomplete {
            step: "server url",
            expected: 1,
            got: 0,
        })?;
        Client::try_from(Config::new(uri)).map_err(|source| Error::Client {
            step: "client",
            source,
        })?
    };

    // 2. Floor (list) and the server's list throughput.
    // The same request as the pipeline's first list: the informer's reflector asks for
    // resourceVersion=0 (one response, like an apiserver's watch cache); the fifo loop pages.
    let first_list_version = match options.pipeline {
        Kind::Informer => Some("0"),
        Kind::FifoLoop => None,
    };
    let pages = client_runtime.block_on(floor::fetch_list_pages(
        &client,
        options.page_size,
        first_list_version,
    ))?;
    measurement.list_responses = pages.chunks.len() as u64;
    measurement.server_list_fetch_ms = ms(pages.elapsed);
    let list_floor = floor::decode_list_pages(&pages.chunks)?;
    let items = list_floor.items.max(1) as f64;
    measurement.floor_list_ms = ms(list_floor.elapsed);
    measurement.json_bytes_per_object = pages.bytes as f64 / items;
    measurement.decoded_bytes_per_object = list_floor.decoded_bytes as f64 / items;
    measurement.server_list_mb_per_s = pages.bytes_per_second() / 1e6;
    let list_bytes = pages.bytes;
    drop(pages);

    // 3. Sync.
    rss::trim_heap();
    let baseline = alloc::current(Domain::Client);
    alloc::reset_peak(Domain::Client);
    // The floor's buffers are gone: from here the peak RSS is the pipeline's (and, in
    // process, the server's).
    let run_peak_reset = rss::reset_peak_rss();
    let rss_before_sync = rss::current_rss_kb();
    let started = Instant::now();
    let pipeline = {
        let _entered = client_runtime.enter();
        Pipeline::start(
            options.pipeline,
            client.clone(),
            options.page_size,
            options.drop_managed_fields,
        )?
    };
    wait_for("sync", options.phase_timeout, &pipeline, || {
        pipeline.has_synced() && pipeline.indexer.len() as u64 == options.pods
    })?;
    measurement.list_ms = ms(started.elapsed());
    // Let the watch connect and the list's buffers go before reading the allocator.
    std::thread::sleep(Duration::from_millis(300));
    let cache_bytes = alloc::current(Domain::Client) - baseline;
    measurement.rss_after_sync_kb = rss::current_rss_kb();
    measurement.sync_rss_growth_kb = measurement
        .rss_after_sync_kb
        .saturating_sub(rss_before_sync);
    measurement.cache_bytes_per_object = cache_bytes as f64 / options.pods.max(1) as f64;
    measurement.client_cache_heap_kb = kib(cache_bytes);
    measurement.cache_to_json_ratio =
        measurement.cache_bytes_per_object / measurement.json_bytes_per_object.max(1.0);

    // 4a. Live: a producer writes while the pipeline follows.
    if options.live_events > 0 {
        let handled_before = handled(&pipeline);
        let start_line = Arc::new(Barrier::new(2));
        let writing = server.begin_writing(true, Some(start_line.clone()))?;
        start_line.wait();
        let started = Instant::now();
        let target = handled_before + options.live_events;
        wait_for("live watch", options.phase_timeout, &pipeline, || {
            handled(&pipeline) >= target
        })?;
        measurement.live_watch_ms = ms(started.elapsed());
        measurement.live_events_per_s =
            options.live_events as f64 / started.elapsed().as_secs_f64();
        measurement.live_producer_ms = server.finish_writing(writing)?;
    }

    // 4b. Backlog: the client's runtime is held while the server takes M events, then the
    // pipeline follows them as fast as it can.
    let pause = Pause::engage(&client_runtime, CLIENT_WORKERS, Duration::from_secs(10));
    if pause.held < CLIENT_WORKERS {
        return Err(Error::TimedOut {
            phase: "pausing the client",
            seconds: 10,
            detail: format!("{} of {CLIENT_WORKERS} workers held", pause.held),
        });
    }
    let before_backlog = server.resource_version()?;
    let handled_before = handled(&pipeline);
    let writing = server.begin_writing(false, None)?;
    measurement.producer_ms = server.finish_writing(writing)?;
    let started = Instant::now();
    pause.release();
    let target = handled_before + options.events;
    wait_for("watch", options.phase_timeout, &pipeline, || {
        handled(&pipeline) >= target
    })?;
    measurement.watch_ms = ms(started.elapsed());
    measurement.events_per_s = options.events as f64 / started.elapsed().as_secs_f64();
    let sync_and_watch_peak = alloc::peak(Domain::Client);
    let sync_and_watch_peak_rss = rss::peak_rss_kb();

    // 5. Floor (watch) and the server's watch throughput, on the backlog's events.
    let frames = client_runtime.block_on(floor::fetch_watch_frames(
        &client,
        before_backlog,
        options.events,
    ))?;
    measurement.floor_watch_ms = ms(floor::decode_watch_frames(&frames.chunks)?);
    measurement.server_watch_mb_per_s = frames.bytes_per_second() / 1e6;
    measurement.pipeline_list_mb_per_s = list_bytes as f64 / 1e3 / measurement.list_ms.max(1e-6);
    measurement.pipeline_watch_mb_per_s =
        frames.bytes as f64 / 1e3 / measurement.watch_ms.max(1e-6);
    drop(frames);
    measurement.list_ratio = measurement.list_ms / measurement.floor_list_ms.max(1e-6);
    // The first list is one request: the server encodes it whole before the client can
    // decode, so the raw fetch time is in list_ms as it is; what remains is the client's.
    measurement.list_client_ms =
        ((measurement.list_ms - measurement.server_list_fetch_ms).max(0.0) * 1e3).round() / 1e3;
    measurement.list_client_ratio =
        measurement.list_client_ms / measurement.floor_list_ms.max(1e-6);
    measurement.watch_ratio = measurement.watch_ms / measurement.floor_watch_ms.max(1e-6);

    // 6. Relist.
    rss::trim_heap();
    let steady = alloc::current(Domain::Client);
    alloc::reset_peak(Domain::Client);
    rss::reset_peak_rss();
    let rss_before_relist = rss::current_rss_kb();
    // The server lists in key order and the queue pops in list order, so the relist is
    // applied once the greatest key holds a new object.
    let last_key = pipeline.indexer.list_keys().into_iter().max();
    let last_before = last_key
        .as_deref()
        .and_then(|key| pipeline.indexer.get_by_key(key));
    let started = Instant::now();
    server.force_relist()?;
    wait_for("relist", options.phase_timeout, &pipeline, || {
        match (&last_key, &last_before) {
            (Some(key), Some(before)) => pipeline
                .indexer
                .get_by_key(key)
                .is_some_and(|now| !Arc::ptr_eq(&now, before)),
            _ => true,
        }
    })?;
    drop(last_before);
    measurement.relist_ms = ms(started.elapsed());
    measurement.relist_peak_rss_kb = rss::peak_rss_kb();
    measurement.relist_rss_growth_kb = measurement
        .relist_peak_rss_kb
        .saturating_sub(rss_before_relist);
    let relist_peak = alloc::peak(Domain::Client) - baseline;
    measurement.relist_peak_client_heap_kb = kib(relist_peak);
    measurement.relist_peak_ratio = relist_peak as f64 / (steady - baseline).max(1) as f64;
    measurement.client_peak_heap_kb =
        kib(alloc::peak(Domain::Client).max(sync_and_watch_peak) - baseline);

    client_runtime.block_on(pipeline.stop());
    drop(client);
    server.shutdown();
    client_runtime.shutdown_timeout(Duration::from_secs(5));
    measurement.max_rss_kb = if run_peak_reset {
        sync_and_watch_peak_rss.max(measurement.relist_peak_rss_kb)
    } else {
        rss::rusage_max_rss_kb()
    };
    Ok(measurement)
}

fn handled(pipeline: &Pipeline) -> u64 {
    pipeline
        .stats
        .handled
        .load(std::sync::atomic::Ordering::SeqCst)
}

fn wait_for(
    phase: &'static str,
    timeout: Duration,
    pipeline: &Pipeline,
    mut done: impl FnMut() -> bool,
) -> Result<()> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > timeout {
            let stats = &pipeline.stats;
            let last_error = stats
                .last_error
                .lock()
                .ok()
                .and_then(|slot| slot.clone())
                .unwrap_or_default();
            return Err(Error::TimedOut {
                phase,
                seconds: timeout.as_secs(),
                detail: format!(
                    "cached {}, handled {}, received {}, lists {}, last error {last_error:?}",
                    pipeline.indexer.len(),
                    stats.handled.load(std::sync::atomic::Ordering::SeqCst),
                    stats.received.load(std::sync::atomic::Ordering::SeqCst),
                    stats.lists.load(std::sync::atomic::Ordering::SeqCst),
                ),
            });
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_list_names_every_field_of_the_measurement() {
        let measurement = Measurement::default();
        let serialized = serde_json::to_value(&measurement).unwrap();
        let fields = measurement.fields();
        assert_eq!(fields.len(), serialized.as_object().unwrap().len());
        for (name, value) in fields {
            assert_eq!(serialized[name], value, "{name}");
        }
    }

    #[test]
    fn durations_are_milliseconds_with_microsecond_precision() {
        assert_eq!(ms(Duration::from_micros(1_234_567)), 1234.567);
        assert_eq!(kib(-5), 0);
        assert_eq!(kib(4096), 4);
    }
}
