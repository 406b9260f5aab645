//! A delaying queue that asks a rate limiter how long each retry waits.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use crate::delaying_queue::{delaying_queue_methods, DelayingQueue};
use crate::error::AddError;
use crate::queue::{Config, Queue};
use crate::rate_limiters::{default_controller_rate_limiter, RateLimiter};

/// A [`DelayingQueue`] whose retries wait as long as a [`RateLimiter`] says; cloning gives
/// another handle to the same queue and limiter.
///
/// The usual worker loop: `get` a key; on success [`forget`](RateLimitingQueue::forget) it (so
/// its backoff starts over), on failure [`add_rate_limited`](RateLimitingQueue::add_rate_limited)
/// it; either way call [`done`](RateLimitingQueue::done). `forget` only clears the limiter's
/// count: it does not replace `done`.
///
/// ```
/// use kinformer_workqueue::{ItemExponentialFailureRateLimiter, RateLimitingQueue};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let limiter = ItemExponentialFailureRateLimiter::new(
///     Duration::from_millis(1),
///     Duration::from_secs(1),
/// );
/// let queue = RateLimitingQueue::new(limiter);
/// queue.add_rate_limited("key").unwrap(); // ready in 1 ms
/// let key = queue.get().await.unwrap();
/// assert_eq!(queue.num_requeues(&key), 1);
/// queue.forget(&key);
/// queue.done(&key);
/// # }
/// ```
pub struct RateLimitingQueue<T> {
    queue: DelayingQueue<T>,
    limiter: Arc<dyn RateLimiter<T>>,
}

impl<T> Clone for RateLimitingQueue<T> {
    fn clone(&self) -> Self {
        RateLimitingQueue {
            queue: self.queue.clone(),
            limiter: Arc::clone(&self.limiter),
        }
    }
}

impl<T> fmt::Debug for RateLimitingQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitingQueue")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl<T: Hash + Eq + Clone + Send + 'static> Default for RateLimitingQueue<T> {
    /// A queue using [`default_controller_rate_limiter`].
    fn default() -> Self {
        RateLimitingQueue::new(default_controller_rate_limiter())
    }
}

impl<T: Hash + Eq + Clone + Send + 'static> RateLimitingQueue<T> {
    /// Builds an empty queue whose retries are paced by `limiter`.
    pub fn new(limiter: impl RateLimiter<T> + 'static) -> Self {
        RateLimitingQueue::with_config(limiter, Config::default())
    }

    /// Builds an empty queue paced by `limiter`, with the given name and metrics hook.
    pub fn with_config(limiter: impl RateLimiter<T> + 'static, config: Config) -> Self {
        RateLimitingQueue {
            queue: DelayingQueue::with_config(config),
            limiter: Arc::new(limiter),
        }
    }
}

impl<T: Hash + Eq + Clone + Send> RateLimitingQueue<T> {
    /// Adds `item` after the wait the rate limiter gives it, counting one more failure.
    ///
    /// After shutdown the item is handed back in an [`AddError`] and the limiter is not
    /// consulted.
    pub fn add_rate_limited(&self, item: T) -> Result<(), AddError<T>> {
        if self.queue.is_shutting_down() {
            return Err(AddError(item));
        }
        let delay = self.limiter.when(&item);
        self.queue.add_after(item, delay)
    }

    /// Tells the rate limiter to stop tracking `item` (after success, or when giving up).
    ///
    /// It does not remove the item from the queue and does not stand in for `done`.
    pub fn forget(&self, item: &T) {
        self.limiter.forget(item);
    }

    /// How many failures of `item` the rate limiter is tracking.
    pub fn num_requeues(&self, item: &T) -> usize {
        self.limiter.num_requeues(item)
    }

    /// The plain queue underneath, sharing this queue's state.
    pub fn as_queue(&self) -> &Queue<T> {
        self.queue.as_queue()
    }

    // `add_after`, `waiting_len` and the `Queue` methods (`add`, `get`, `done`, `len`, ...),
    // shared with `DelayingQueue`.
    delaying_queue_methods!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::InMemoryMetrics;
    use crate::rate_limiters::{BucketRateLimiter, ItemExponentialFailureRateLimiter};
    use std::time::Duration;
    use tokio::time::Instant;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_exponentially_until_forgotten() {
        let queue = RateLimitingQueue::new(ItemExponentialFailureRateLimiter::new(
            ms(5),
            Duration::from_secs(1000),
        ));
        let mut waits = Vec::new();
        for _ in 0..4 {
            let start = Instant::now();
            queue.add_rate_limited("key").unwrap();
            let key = queue.get().await.unwrap();
            waits.push(start.elapsed());
            queue.done(&key);
        }
        assert_eq!(waits, vec![ms(5), ms(10), ms(20), ms(40)]);
        assert_eq!(queue.num_requeues(&"key"), 4);

        queue.forget(&"key");
        assert_eq!(queue.num_requeues(&"key"), 0);
        let start = Instant::now();
        queue.add_rate_limited("key").unwrap();
        queue.get().await.unwrap();
        assert_eq!(start.elapsed(), ms(5), "the backoff starts over");
    }

    #[tokio::test(start_paused = true)]
    async fn forget_does_not_remove_a_waiting_item() {
        let queue = RateLimitingQueue::new(ItemExponentialFailureRateLimiter::new(
            ms(5),
            Duration::from_secs(1),
        ));
        queue.add_rate_limited("key").unwrap();
        queue.forget(&"key");
        assert_eq!(queue.waiting_len(), 1);
        assert_eq!(queue.get().await, Some("key"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_during_processing_runs_once_after_done() {
        let queue = RateLimitingQueue::new(ItemExponentialFailureRateLimiter::new(
            ms(5),
            Duration::from_secs(1),
        ));
        queue.add("key").unwrap();
        let key = queue.get().await.unwrap();
        queue.add_rate_limited(key).unwrap();
        // Let the delay pass while the worker still holds the key.
        tokio::time::sleep(ms(50)).await;
        assert_eq!(queue.len(), 0, "the due retry waits for done");
        queue.done(&key);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.get().await, Some("key"));
    }

    #[tokio::test(start_paused = true)]
    async fn an_overall_bucket_spaces_out_retries_of_different_items() {
        let queue = RateLimitingQueue::new(BucketRateLimiter::new(10.0, 1).unwrap());
        let start = Instant::now();
        for key in ["a", "b", "c"] {
            queue.add_rate_limited(key).unwrap();
        }
        let mut seen = Vec::new();
        for _ in 0..3 {
            let key = queue.get().await.unwrap();
            seen.push((key, start.elapsed()));
            queue.done(&key);
        }
        assert_eq!(
            seen,
            vec![("a", Duration::ZERO), ("b", ms(100)), ("c", ms(200))]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn add_rate_limited_after_shutdown_returns_the_item_and_counts_nothing() {
        let queue = RateLimitingQueue::<String>::default();
        queue.shutdown();
        let error = queue.add_rate_limited("key".to_string()).unwrap_err();
        assert_eq!(error.into_inner(), "key");
        assert_eq!(queue.num_requeues(&"key".to_string()), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn each_rate_limited_add_counts_as_a_retry() {
        let metrics = Arc::new(InMemoryMetrics::default());
        let queue = RateLimitingQueue::with_config(
            ItemExponentialFailureRateLimiter::new(ms(1), ms(10)),
            Config::default().metrics(metrics.clone()),
        );
        queue.add_rate_limited("a").unwrap();
        queue.add_rate_limited("b").unwrap();
        queue.add_rate_limited("a").unwrap();
        assert_eq!(metrics.snapshot().retries, 3);
        assert_eq!(queue.waiting_len(), 2);
    }
}
