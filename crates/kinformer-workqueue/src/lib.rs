//! Work queues for Kubernetes controllers, with client-go's guarantees.
//!
//! Informer event handlers turn objects into keys and [`add`](Queue::add) them; worker tasks
//! [`get`](Queue::get) a key, reconcile it, and call [`done`](Queue::done). The queue promises
//! that a key is never handed to two workers at once, that adds of a queued key collapse into
//! one, and that a key added while it is being processed runs exactly once more after `done`.
//!
//! Start reading at [`Queue`] (`queue.rs`), then [`DelayingQueue`] (`delaying_queue.rs`, adds
//! after a delay), [`RateLimitingQueue`] (`rate_limiting_queue.rs`, retries with per-key
//! backoff) and the limiters in `rate_limiters.rs`. `metrics.rs` holds the hook a queue reports
//! depth, adds, latencies, retries and unfinished work to.
//!
//! Where this crate differs from client-go's `util/workqueue`, on purpose:
//! - an add after shutdown hands the item back in an [`AddError`] instead of dropping it;
//! - [`Queue::shutdown_with_drain`] waits for queued items too, not only in-flight ones;
//! - `done` on an item that is not being processed does nothing;
//! - no task is spawned: delayed items are moved into the queue by `get` itself, and the
//!   unfinished-work gauge is refreshed by [`Queue::run_unfinished_work_updates`] if you spawn it.
//!
//! ```
//! use kinformer_workqueue::{default_controller_rate_limiter, RateLimitingQueue};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let queue = RateLimitingQueue::new(default_controller_rate_limiter());
//! queue.add("default/nginx".to_string()).unwrap();
//! queue.shutdown();
//! while let Some(key) = queue.get().await {
//!     // Reconcile `key`; on success forget its failures, on failure
//!     // `queue.add_rate_limited(key.clone())` retries it with backoff.
//!     queue.forget(&key);
//!     queue.done(&key);
//! }
//! # }
//! ```

mod delaying_queue;
mod error;
mod metrics;
mod queue;
mod rate_limiters;
mod rate_limiting_queue;

pub use delaying_queue::DelayingQueue;
pub use error::{AddError, Error, Result};
pub use metrics::{InMemoryMetrics, MetricsSnapshot, NoopMetrics, QueueMetrics, UnfinishedWork};
pub use queue::{Config, Queue};
pub use rate_limiters::{
    default_controller_rate_limiter, BucketRateLimiter, ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter, MaxOfRateLimiter, RateLimiter, WithMaxWaitRateLimiter,
};
pub use rate_limiting_queue::RateLimitingQueue;
