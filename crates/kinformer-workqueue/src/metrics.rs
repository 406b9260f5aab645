//! The metrics hook a queue reports to, a no-op default and an in-memory recorder.
//!
//! This plays the role of client-go's `MetricsProvider`: one hook object per queue, called with
//! plain numbers, so an adapter to Prometheus or OpenTelemetry is a few lines in the caller.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// How long the items being processed right now have been running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnfinishedWork {
    /// The sum over all in-flight items of the time since their `get`.
    pub total: Duration,
    /// The longest time any single in-flight item has been running.
    pub longest: Duration,
}

/// Receives a queue's measurements; every method has a no-op default.
///
/// The queue calls these while holding its lock, so they must be quick and must not call back
/// into the queue.
pub trait QueueMetrics: Send + Sync {
    /// The number of items waiting to be processed changed to `depth`.
    ///
    /// As in client-go this counts every item marked for processing, including one added again
    /// while it is in flight (it waits for its `done`, not in the ready list).
    fn depth(&self, _depth: usize) {}

    /// An item was accepted by `add` (adds of an already waiting item are not counted).
    fn add(&self) {}

    /// An item was handed to a worker `latency` after it was first added.
    fn queue_latency(&self, _latency: Duration) {}

    /// A worker called `done` on an item `duration` after it got it.
    fn work_duration(&self, _duration: Duration) {}

    /// An item was re-added through `add_after` or `add_rate_limited`.
    fn retry(&self) {}

    /// The in-flight work was measured (see [`Queue::update_unfinished_work`](crate::Queue::update_unfinished_work)).
    fn unfinished_work(&self, _work: UnfinishedWork) {}
}

/// A hook that records nothing; the default for every queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopMetrics;

impl QueueMetrics for NoopMetrics {}

/// Everything an [`InMemoryMetrics`] has recorded so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// The last depth reported.
    pub depth: usize,
    /// How many adds were accepted.
    pub adds: u64,
    /// Every queue latency observed, in order.
    pub queue_latencies: Vec<Duration>,
    /// Every work duration observed, in order.
    pub work_durations: Vec<Duration>,
    /// How many retries were counted.
    pub retries: u64,
    /// The last unfinished work reported.
    pub unfinished_work: UnfinishedWork,
}

/// A hook that keeps every measurement in memory, for tests and debugging.
#[derive(Debug, Default)]
pub struct InMemoryMetrics {
    recorded: Mutex<MetricsSnapshot>,
}

impl InMemoryMetrics {
    /// Returns a copy of everything recorded so far.
    pub fn snapshot(&self) -> MetricsSnapshot {
        self.with(|recorded| recorded.clone())
    }

    fn with<R>(&self, f: impl FnOnce(&mut MetricsSnapshot) -> R) -> R {
        // A panic elsewhere while holding this lock cannot leave a snapshot half-written in a
        // way that matters for counters, so recover the guard instead of propagating the panic.
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut recorded)
    }
}

impl QueueMetrics for InMemoryMetrics {
    fn depth(&self, depth: usize) {
        self.with(|recorded| recorded.depth = depth);
    }

    fn add(&self) {
        self.with(|recorded| recorded.adds += 1);
    }

    fn queue_latency(&self, latency: Duration) {
        self.with(|recorded| recorded.queue_latencies.push(latency));
    }

    fn work_duration(&self, duration: Duration) {
        self.with(|recorded| recorded.work_durations.push(duration));
    }

    fn retry(&self) {
        self.with(|recorded| recorded.retries += 1);
    }

    fn unfinished_work(&self, work: UnfinishedWork) {
        self.with(|recorded| recorded.unfinished_work = work);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_metrics_records_each_hook() {
        let metrics = InMemoryMetrics::default();
        metrics.add();
        metrics.add();
        metrics.depth(2);
        metrics.queue_latency(Duration::from_millis(3));
        metrics.work_duration(Duration::from_millis(4));
        metrics.retry();
        let work = UnfinishedWork {
            total: Duration::from_secs(5),
            longest: Duration::from_secs(3),
        };
        metrics.unfinished_work(work);

        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.adds, 2);
        assert_eq!(snapshot.depth, 2);
        assert_eq!(snapshot.queue_latencies, vec![Duration::from_millis(3)]);
        assert_eq!(snapshot.work_durations, vec![Duration::from_millis(4)]);
        assert_eq!(snapshot.retries, 1);
        assert_eq!(snapshot.unfinished_work, work);
    }
}
