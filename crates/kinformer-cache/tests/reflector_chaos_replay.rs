//! Randomized chaos against the fake API server: random creates, updates and deletes on the
//! server interleaved with random faults from its menu (cut after N events or bytes, 410 in
//! a watch or on a list, 429, 500, stall, a missing initial-events-end bookmark, compaction,
//! restart keeping state, restart losing state), while a
//! Reflector -> DeltaFifo -> Indexer pipeline runs over the real client. After each seed's
//! steps the cache must equal the server, every deletion the consumer could have known about
//! must have been delivered, and no object may have been added twice.
//!
//! The CI run uses a fixed seed set (`DEFAULT_SEEDS`, `DEFAULT_STEPS` each). Environment:
//! `KINFORMER_CHAOS_SEED=s` replays one seed, `KINFORMER_CHAOS_SEEDS=n` runs seeds `1..=n`,
//! `KINFORMER_CHAOS_STEPS=n` sets the steps per seed, `KINFORMER_CHAOS_VERBOSE=1` prints each
//! step's metrics and each reflector error, `KINFORMER_CHAOS_THREADS=n` runs on `n` worker
//! threads. A failing seed is named in the panic.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use common::{config_map, fast_config, start, start_server, Pipeline};
use kinformer_cache::{BackoffConfig, DeltaType, MetricsSnapshot, ReflectorConfig};
use kinformer_replay::{Fault, FaultRule, RunningServer, ServerConfig};
use kinformer_typed::ConfigMap;
use rand::rngs::StdRng;
use rand::seq::IteratorRandom;
use rand::{Rng, SeedableRng};

/// The seeds CI runs.
const DEFAULT_SEEDS: [u64; 6] = [1, 2, 3, 4, 5, 6];
/// Steps per seed in CI: 6 x 50 = 300 steps.
const DEFAULT_STEPS: usize = 50;
/// How long a seed may take to converge once its steps are done.
const CONVERGE_LIMIT: Duration = Duration::from_secs(20);

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(number) => Some(number),
        Err(_) => panic!("{name}={value:?} is not a number"),
    }
}

/// `KINFORMER_CHAOS_VERBOSE=1` prints every step's metrics and every reflector error.
fn verbose() -> bool {
    std::env::var_os("KINFORMER_CHAOS_VERBOSE").is_some()
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = env_number("KINFORMER_CHAOS_SEED") {
        return vec![seed];
    }
    match env_number("KINFORMER_CHAOS_SEEDS") {
        Some(count) => (1..=count).collect(),
        None => DEFAULT_SEEDS.to_vec(),
    }
}

fn steps() -> usize {
    env_number("KINFORMER_CHAOS_STEPS").map_or(DEFAULT_STEPS, |n| n as usize)
}

/// Very short backoffs, small pages (so a relist after a 410 is paged), and a short idle
/// timeout: a quiet watch is reopened after 100 ms, so armed faults meet a request soon and a
/// stalled watch costs little.
fn chaos_config() -> ReflectorConfig<ConfigMap> {
    fast_config()
        .backoff(BackoffConfig {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(50),
            reset_after: Duration::from_secs(120),
            jitter: 0.5,
        })
        .page_size(3)
        .idle_timeout(Duration::from_millis(100))
        .initial_events_timeout(Duration::from_millis(300))
}

/// What one seed did.
#[derive(Debug, Default)]
struct Tally {
    streaming: bool,
    creates: usize,
    updates: usize,
    deletes: usize,
    /// Deletions the consumer got as tombstones (missed by the watch, found by a relist).
    tombstones: usize,
    faults: BTreeMap<&'static str, usize>,
    metrics: Option<MetricsSnapshot>,
}

/// One random fault from the server's menu, applied now (compaction, restarts) or armed for
/// the next matching requests.
async fn random_fault(
    rng: &mut StdRng,
    server: &mut RunningServer,
    live: &mut BTreeSet<String>,
    deleted: &mut BTreeSet<String>,
) -> Result<&'static str, String> {
    let times = rng.gen_range(1..=2);
    let (name, rule) = match rng.gen_range(0..12) {
        0 => (
            "close after events",
            FaultRule::new(Fault::CloseAfterEvents(rng.gen_range(1..4))).times(times),
        ),
        1 => (
            "close after bytes",
            FaultRule::new(Fault::CloseAfterBytes(rng.gen_range(40..600))).times(times),
        ),
        2 => (
            "410 in a watch",
            FaultRule::new(Fault::GoneAfterEvents(rng.gen_range(0..3))).times(1),
        ),
        3 => (
            "410 on a list",
            FaultRule::new(Fault::Status {
                code: 410,
                retry_after_seconds: None,
            })
            .verb("list")
            .times(1),
        ),
        4 => (
            "429",
            FaultRule::new(Fault::too_many_requests(0)).times(times),
        ),
        5 => ("500", FaultRule::new(Fault::internal_error()).times(times)),
        6 => ("stall", FaultRule::new(Fault::Stall).times(1)),
        7 => (
            "no initial-events-end bookmark",
            FaultRule::new(Fault::DropInitialEventsEnd).times(1),
        ),
        8 | 9 => {
            server.compact();
            return Ok("compaction");
        }
        10 => {
            server
                .restart(true)
                .await
                .map_err(|e| format!("restart: {e}"))?;
            return Ok("restart keeping state");
        }
        _ => {
            server
                .restart(false)
                .await
                .map_err(|e| format!("restart: {e}"))?;
            deleted.append(live);
            return Ok("restart losing state");
        }
    };
    server.inject(rule);
    Ok(name)
}

/// Runs one seed; an error describes what went wrong.
async fn run_seed(seed: u64, steps: usize) -> Result<Tally, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let initial: Vec<String> = (0..rng.gen_range(0..6)).map(|i| format!("n{i}")).collect();
    let names: Vec<&str> = initial.iter().map(String::as_str).collect();
    let mut server = start_server(ServerConfig::default(), &names).await;
    let mut tally = Tally::default();
    // Half the seeds start with a streaming list (sendInitialEvents).
    let streaming = rng.gen_bool(0.5);
    tally.streaming = streaming;
    let mut config = chaos_config().use_watch_list(streaming);
    if verbose() {
        config = config.watch_error_handler(Arc::new(move |error| {
            eprintln!("chaos: seed {seed}: reflector error: {error}");
        }));
    }
    let pipeline = start(&server, config);
    let mut live: BTreeSet<String> = initial.iter().cloned().collect();
    let mut deleted = BTreeSet::new();
    let mut next = 0;
    let result = async {
        for step in 0..steps {
            match rng.gen_range(0..100) {
                0..=29 => {
                    let name = format!("c{next}");
                    next += 1;
                    server
                        .create(config_map(&name, "0"))
                        .map_err(|e| format!("create {name}: {e}"))?;
                    live.insert(name);
                    tally.creates += 1;
                }
                30..=49 => {
                    if let Some(name) = live.iter().choose(&mut rng).cloned() {
                        server
                            .update(config_map(&name, &step.to_string()))
                            .map_err(|e| format!("update {name}: {e}"))?;
                        tally.updates += 1;
                    }
                }
                50..=64 => {
                    if let Some(name) = live.iter().choose(&mut rng).cloned() {
                        server
                            .delete("v1", "ConfigMap", Some("default"), &name)
                            .map_err(|e| format!("delete {name}: {e}"))?;
                        live.remove(&name);
                        deleted.insert(name);
                        tally.deletes += 1;
                    }
                }
                _ => {
                    let fault =
                        random_fault(&mut rng, &mut server, &mut live, &mut deleted).await?;
                    *tally.faults.entry(fault).or_default() += 1;
                }
            }
            // Mostly a few milliseconds between steps; sometimes a quiet spell longer than the
            // idle timeout, so the watch is reopened and meets the armed faults.
            let pause = if rng.gen_bool(0.1) {
                110
            } else {
                rng.gen_range(0..10)
            };
            tokio::time::sleep(Duration::from_millis(pause)).await;
            if verbose() {
                eprintln!(
                    "chaos: seed {seed} step {step}: {:?}",
                    pipeline.reflector.metrics().snapshot()
                );
            }
        }
        // Faults still armed are met (and used up) while converging.
        pipeline.try_converge(&server, CONVERGE_LIMIT).await?;
        server.clear_faults();
        check(&pipeline, &server, &live, &deleted)
    }
    .await;
    tally.metrics = Some(pipeline.reflector.metrics().snapshot());
    tally.tombstones = pipeline
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, kind, tombstone)| *kind == DeltaType::Deleted && *tombstone)
        .count();
    let double_adds = pipeline.double_adds.lock().unwrap().clone();
    pipeline.stop_unchecked().await;
    result?;
    if !double_adds.is_empty() {
        return Err(format!("objects added twice: {double_adds:?}"));
    }
    Ok(tally)
}

/// The model agrees with the server, and every deletion of an object the consumer had seen
/// was delivered after the last time it saw it (as a Deleted delta, tombstone or not).
fn check(
    pipeline: &Pipeline,
    server: &RunningServer,
    live: &BTreeSet<String>,
    deleted: &BTreeSet<String>,
) -> Result<(), String> {
    let on_server: BTreeSet<String> = common::server_state(server).into_keys().collect();
    if &on_server != live {
        return Err(format!(
            "test model {live:?} differs from server {on_server:?}"
        ));
    }
    let seen = pipeline.seen.lock().unwrap();
    for name in deleted {
        let key = format!("default/{name}");
        let last = seen.iter().rev().find(|(k, _, _)| *k == key);
        if let Some((_, kind, _)) = last {
            if *kind != DeltaType::Deleted {
                return Err(format!(
                    "{name} was deleted on the server but its last delta was {kind:?}"
                ));
            }
        }
    }
    Ok(())
}

/// `KINFORMER_CHAOS_THREADS=n` runs on a multi-threaded runtime with `n` workers (default: one
/// thread, as `#[tokio::test]`), so the reflector, the consumer and the server race for real.
fn runtime() -> tokio::runtime::Runtime {
    let builder = match env_number("KINFORMER_CHAOS_THREADS") {
        Some(threads) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads.max(1) as usize);
            builder
        }
        None => tokio::runtime::Builder::new_current_thread(),
    };
    let mut builder = builder;
    builder.enable_all().build().expect("a tokio runtime")
}

#[test]
fn the_cache_converges_under_random_changes_and_faults() {
    runtime().block_on(chaos());
}

async fn chaos() {
    let steps = steps();
    let mut failures = Vec::new();
    let mut errors = 0;
    let mut faults = 0;
    for seed in seeds() {
        eprintln!("chaos: seed {seed}, {steps} steps (replay with KINFORMER_CHAOS_SEED={seed})");
        match run_seed(seed, steps).await {
            Ok(tally) => {
                eprintln!("chaos: seed {seed} converged: {tally:?}");
                errors += tally.metrics.as_ref().map_or(0, |m| m.errors);
                faults += tally.faults.values().sum::<usize>();
            }
            Err(message) => failures.push(format!(
                "seed {seed} (replay with KINFORMER_CHAOS_SEED={seed}): {message}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "chaos failed:\n{}",
        failures.join("\n")
    );
    assert!(
        steps < 20 || (faults > 0 && errors > 0),
        "the faults never cost the reflector anything: {faults} faults, {errors} errors"
    );
}
