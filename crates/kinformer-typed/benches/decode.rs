//! Decode speed of `Pod`: the bench harness's pods (`tests/data/bench-pods.json`, as the fake
//! API server serves them, three managedFields entries each) decoded from one list body, the
//! way the informer's first list and the harness's floor decode them.
//!
//! Run with `cargo bench -p kinformer-typed --bench decode`; prints the best of several
//! rounds in microseconds per pod (the best, since other work on the machine only adds).
//! The same decode with managedFields copied rather than compressed
//! (`packed::set_compression(false)`) runs alternately, so the two share the machine's load.
//! On a busy machine, count instructions instead: `KINFORMER_DECODE_ROUNDS=1` and `=2`
//! with `KINFORMER_DECODE_ONLY_PODS=1` (and `KINFORMER_DECODE_COPY=1` for the copy) under
//! `valgrind --tool=callgrind`: the difference is one round of the decode.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kinformer_meta::ObjectList;
use kinformer_typed::Pod;
use serde_json::Value;

const PODS: usize = 3_000;
const ROUNDS: usize = 15;

fn rounds() -> usize {
    std::env::var("KINFORMER_DECODE_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(ROUNDS)
}

fn list_body() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bench-pods.json");
    let text = std::fs::read_to_string(path).expect("the bench pods fixture is readable");
    let mut list: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let many: Vec<Value> = items.iter().cycle().take(PODS).cloned().collect();
    list["items"] = Value::Array(many);
    serde_json::to_vec(&list).expect("a Value encodes")
}

fn best_of(rounds: usize, mut run: impl FnMut()) -> Duration {
    (0..rounds)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let body = list_body();
    let per_pod = |elapsed: Duration| elapsed.as_secs_f64() * 1e6 / PODS as f64;
    let decode_pods = || {
        let list: ObjectList<Pod> = serde_json::from_slice(&body).expect("the list decodes");
        black_box(list);
    };
    // KINFORMER_DECODE_COPY=1: managedFields copied, not compressed (see `set_compression`).
    let copy = std::env::var_os("KINFORMER_DECODE_COPY").is_some();
    kinformer_meta::packed::set_compression(!copy);
    if std::env::var_os("KINFORMER_DECODE_ONLY_PODS").is_some() {
        println!("{:.2} us/pod", per_pod(best_of(rounds(), decode_pods)));
        return;
    }
    // Alternate the two forms so both see the same load on a busy machine.
    let (mut list, mut copied) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds() {
        kinformer_meta::packed::set_compression(true);
        list = list.min(best_of(1, decode_pods));
        kinformer_meta::packed::set_compression(false);
        copied = copied.min(best_of(1, decode_pods));
    }
    kinformer_meta::packed::set_compression(true);
    let value = best_of(rounds(), || {
        let list: Value = serde_json::from_slice(&body).expect("the list decodes");
        black_box(list);
    });
    println!(
        "{} pods, {} bytes of JSON each: ObjectList<Pod> {:.2} us/pod ({:.0} MB/s); \
         with managedFields copied instead of compressed {:.2} us/pod; \
         serde_json::Value {:.2} us/pod",
        PODS,
        body.len() / PODS,
        per_pod(list),
        body.len() as f64 / list.as_secs_f64() / 1e6,
        per_pod(copied),
        per_pod(value),
    );
}
