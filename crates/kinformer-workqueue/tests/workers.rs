//! Several worker tasks on one queue, on paused time: the guarantees a controller relies on.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kinformer_workqueue::{
    Config, InMemoryMetrics, ItemExponentialFailureRateLimiter, Queue, RateLimitingQueue,
};
use tokio::time::{sleep, Instant};

/// What the workers saw: which keys are in flight now, every overlap, and runs per key.
#[derive(Default)]
struct Log {
    in_flight: HashSet<u32>,
    overlaps: Vec<u32>,
    runs: HashMap<u32, u32>,
}

#[tokio::test(start_paused = true)]
async fn four_workers_never_hold_the_same_key_at_once() {
    let queue: Queue<u32> = Queue::default();
    let log = Arc::new(Mutex::new(Log::default()));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let queue = queue.clone();
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    {
                        let mut log = log.lock().unwrap();
                        if !log.in_flight.insert(key) {
                            log.overlaps.push(key);
                        }
                        *log.runs.entry(key).or_default() += 1;
                    }
                    // Work takes a while, longer for some workers, so re-adds land mid-run.
                    sleep(Duration::from_millis(10 + 7 * worker)).await;
                    log.lock().unwrap().in_flight.remove(&key);
                    queue.done(&key);
                }
            })
        })
        .collect();

    // Three hot keys re-added every 3 ms for a second, while the workers are busy with them.
    let start = Instant::now();
    for round in 0..333u32 {
        queue.add(round % 3).unwrap();
        sleep(Duration::from_millis(3)).await;
    }
    queue.shutdown();
    for worker in workers {
        worker.await.unwrap();
    }

    let log = log.lock().unwrap();
    assert!(
        log.overlaps.is_empty(),
        "keys processed twice at once: {:?}",
        log.overlaps
    );
    // A key never runs twice at once and each run takes at least 10 ms, so 111 adds per key
    // must have collapsed into at most one run per 10 ms; yet each key kept running.
    let most_runs = (start.elapsed().as_millis() / 10 + 1) as u32;
    for key in 0..3 {
        let runs = log.runs[&key];
        assert!(
            (10..=most_runs).contains(&runs),
            "key {key} ran {runs} times"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn adds_during_a_run_collapse_into_one_re_run_with_two_workers() {
    let queue: Queue<&str> = Queue::default();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            let runs = Arc::clone(&runs);
            tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    runs.lock().unwrap().push(Instant::now());
                    sleep(Duration::from_secs(1)).await;
                    queue.done(&key);
                }
            })
        })
        .collect();
    let start = Instant::now();
    queue.add("key").unwrap();
    sleep(Duration::from_millis(100)).await;
    for _ in 0..10 {
        queue.add("key").unwrap();
        sleep(Duration::from_millis(50)).await;
    }
    sleep(Duration::from_secs(5)).await;
    queue.shutdown();
    for worker in workers {
        worker.await.unwrap();
    }
    let offsets: Vec<Duration> = runs.lock().unwrap().iter().map(|at| *at - start).collect();
    assert_eq!(offsets, vec![Duration::ZERO, Duration::from_secs(1)]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_with_drain_returns_when_workers_have_finished_everything() {
    let queue: Queue<u32> = Queue::default();
    let finished = Arc::new(Mutex::new(Vec::new()));
    for key in 0..6 {
        queue.add(key).unwrap();
    }
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            let finished = Arc::clone(&finished);
            tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    sleep(Duration::from_secs(1)).await;
                    finished.lock().unwrap().push(key);
                    queue.done(&key);
                }
            })
        })
        .collect();
    let start = Instant::now();
    queue.shutdown_with_drain().await;
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(3),
        "six one-second items, two workers"
    );
    assert_eq!(finished.lock().unwrap().len(), 6);
    for worker in workers {
        worker.await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_controller_loop_retries_failures_with_backoff_and_forgets_on_success() {
    let metrics = Arc::new(InMemoryMetrics::default());
    let queue = RateLimitingQueue::with_config(
        ItemExponentialFailureRateLimiter::new(Duration::from_millis(5), Duration::from_secs(1)),
        Config::default().name("pods").metrics(metrics.clone()),
    );
    // "flaky" fails three times before it succeeds; "fine" succeeds at once.
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let worker = tokio::spawn({
        let queue = queue.clone();
        let attempts = Arc::clone(&attempts);
        async move {
            let start = Instant::now();
            while let Some(key) = queue.get().await {
                let failures = queue.num_requeues(&key);
                attempts.lock().unwrap().push((key, start.elapsed()));
                if key == "flaky" && failures < 3 {
                    queue.add_rate_limited(key).unwrap();
                } else {
                    queue.forget(&key);
                }
                queue.done(&key);
            }
        }
    });
    queue.add("flaky").unwrap();
    queue.add("fine").unwrap();
    sleep(Duration::from_secs(1)).await;
    queue.shutdown_with_drain().await;
    worker.await.unwrap();

    let ms = Duration::from_millis;
    assert_eq!(
        *attempts.lock().unwrap(),
        vec![
            ("flaky", ms(0)),
            ("fine", ms(0)),
            ("flaky", ms(5)),
            ("flaky", ms(15)),
            ("flaky", ms(35)),
        ]
    );
    assert_eq!(queue.num_requeues(&"flaky"), 0, "forgotten on success");
    let snapshot = metrics.snapshot();
    assert_eq!(snapshot.retries, 3);
    assert_eq!(snapshot.adds, 5);
    assert_eq!(snapshot.work_durations.len(), 5);
    assert_eq!(snapshot.depth, 0);
}
