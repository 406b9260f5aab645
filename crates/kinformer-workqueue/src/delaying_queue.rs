//! A queue that can add an item after a delay, for requeues that must not hot-loop.
//!
//! Delayed items wait in a heap ordered by ready time. There is no background task: `get`
//! moves due items into the queue and, while it waits, also sleeps until the earliest ready
//! time, all on `tokio::time`, so paused-clock tests drive it exactly.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::hash::Hash;

use tokio::time::Instant;

use crate::queue::{Config, Queue};

/// A [`Queue`] that can also add items after a delay; cloning gives another handle.
///
/// An item added with [`add_after`](DelayingQueue::add_after) several times before it is due
/// keeps the earliest ready time, and is added once. Once due it is added like
/// [`add`](DelayingQueue::add) would, so it is deduplicated against the queue as usual.
///
/// ```
/// use std::time::Duration;
/// use kinformer_workqueue::DelayingQueue;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let queue = DelayingQueue::default();
/// queue.add_after("retry-me", Duration::from_millis(5)).unwrap();
/// assert_eq!(queue.len(), 0);
/// assert_eq!(queue.get().await, Some("retry-me")); // after about 5 ms
/// # }
/// ```
pub struct DelayingQueue<T> {
    queue: Queue<T>,
}

impl<T> Clone for DelayingQueue<T> {
    fn clone(&self) -> Self {
        DelayingQueue {
            queue: self.queue.clone(),
        }
    }
}

impl<T> fmt::Debug for DelayingQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DelayingQueue").field(&self.queue).finish()
    }
}

impl<T: Hash + Eq + Clone + Send> Default for DelayingQueue<T> {
    fn default() -> Self {
        DelayingQueue::with_config(Config::default())
    }
}

impl<T: Hash + Eq + Clone + Send> DelayingQueue<T> {
    /// Builds an empty delaying queue with the given name and metrics hook.
    pub fn with_config(config: Config) -> Self {
        DelayingQueue {
            queue: Queue::with_config(config),
        }
    }

    /// The plain queue underneath, sharing this queue's state.
    pub fn as_queue(&self) -> &Queue<T> {
        &self.queue
    }

    // `add_after`, `waiting_len` and the `Queue` methods (`add`, `get`, `done`, `len`, ...),
    // shared with `RateLimitingQueue`.
    delaying_queue_methods!();
}

/// Generates the methods every delaying queue offers ([`DelayingQueue`] and
/// [`RateLimitingQueue`](crate::RateLimitingQueue)), each forwarding to the [`Queue`] that the
/// type's `as_queue` returns, so the two types keep one list of them.
macro_rules! delaying_queue_methods {
    () => {
        /// Adds `item` once `delay` has passed (at once if `delay` is zero).
        ///
        /// Counts as a retry in the metrics. If the item is already waiting, the earlier of the
        /// two ready times wins. After shutdown the item is handed back in an
        /// [`AddError`](crate::AddError).
        pub fn add_after(
            &self,
            item: T,
            delay: ::std::time::Duration,
        ) -> Result<(), $crate::AddError<T>> {
            self.as_queue().add_after(item, delay)
        }

        /// The number of delayed items whose time has not come yet.
        pub fn waiting_len(&self) -> usize {
            self.as_queue().waiting_len()
        }

        /// See [`Queue::add`](crate::Queue::add).
        pub fn add(&self, item: T) -> Result<(), $crate::AddError<T>> {
            self.as_queue().add(item)
        }

        /// See [`Queue::get`](crate::Queue::get); delayed items are handed out once due.
        pub async fn get(&self) -> Option<T> {
            self.as_queue().get().await
        }

        /// See [`Queue::done`](crate::Queue::done).
        pub fn done(&self, item: &T) {
            self.as_queue().done(item)
        }

        /// See [`Queue::len`](crate::Queue::len).
        pub fn len(&self) -> usize {
            self.as_queue().len()
        }

        /// See [`Queue::is_empty`](crate::Queue::is_empty).
        pub fn is_empty(&self) -> bool {
            self.as_queue().is_empty()
        }

        /// See [`Queue::shutdown`](crate::Queue::shutdown); delayed items not yet due are
        /// dropped.
        pub fn shutdown(&self) {
            self.as_queue().shutdown()
        }

        /// See [`Queue::shutdown_with_drain`](crate::Queue::shutdown_with_drain); delayed items
        /// not yet due are dropped.
        pub async fn shutdown_with_drain(&self) {
            self.as_queue().shutdown_with_drain().await
        }

        /// See [`Queue::is_shutting_down`](crate::Queue::is_shutting_down).
        pub fn is_shutting_down(&self) -> bool {
            self.as_queue().is_shutting_down()
        }

        /// See [`Queue::unfinished_work`](crate::Queue::unfinished_work).
        pub fn unfinished_work(&self) -> $crate::UnfinishedWork {
            self.as_queue().unfinished_work()
        }
    };
}
pub(crate) use delaying_queue_methods;

/// Delayed items ordered by ready time (ties in insertion order), one live entry per item.
///
/// Lowering an item's ready time pushes a new entry and leaves the old one behind; `items`
/// knows which entry is live, and stale ones are skipped when they surface.
pub(crate) struct WaitingHeap<T> {
    heap: BinaryHeap<Entry<T>>,
    items: HashMap<T, (Instant, u64)>,
    next_sequence: u64,
}

impl<T> Default for WaitingHeap<T> {
    fn default() -> Self {
        WaitingHeap {
            heap: BinaryHeap::new(),
            items: HashMap::new(),
            next_sequence: 0,
        }
    }
}

impl<T: Hash + Eq + Clone> WaitingHeap<T> {
    /// Schedules `item` for `ready_at` unless it is already due no later; returns whether
    /// `ready_at` is now the earliest deadline of all.
    pub(crate) fn insert(&mut self, item: T, ready_at: Instant) -> bool {
        if let Some(&(current, _)) = self.items.get(&item) {
            if current <= ready_at {
                return false;
            }
        }
        let earliest = self.next_ready_at().is_none_or(|next| ready_at < next);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.items.insert(item.clone(), (ready_at, sequence));
        self.heap.push(Entry {
            ready_at,
            sequence,
            item,
        });
        earliest
    }

    /// Removes and returns one item whose ready time is at or before `now`.
    pub(crate) fn pop_ready(&mut self, now: Instant) -> Option<T> {
        while self.heap.peek()?.ready_at <= now {
            let entry = self.heap.pop()?;
            if self.is_live(&entry) {
                self.items.remove(&entry.item);
                return Some(entry.item);
            }
        }
        None
    }

    /// The earliest ready time of a live entry.
    pub(crate) fn next_ready_at(&mut self) -> Option<Instant> {
        loop {
            let top = self.heap.peek()?;
            if self.is_live(top) {
                return Some(top.ready_at);
            }
            self.heap.pop();
        }
    }

    /// The number of items waiting.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Drops every waiting item.
    pub(crate) fn clear(&mut self) {
        self.heap.clear();
        self.items.clear();
    }

    fn is_live(&self, entry: &Entry<T>) -> bool {
        self.items.get(&entry.item) == Some(&(entry.ready_at, entry.sequence))
    }
}

struct Entry<T> {
    ready_at: Instant,
    sequence: u64,
    item: T,
}

impl<T> Entry<T> {
    fn key(&self) -> (Instant, u64) {
        (self.ready_at, self.sequence)
    }
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap; reverse so the earliest entry sits on top.
        other.key().cmp(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::InMemoryMetrics;
    use std::sync::Arc;
    use std::time::Duration;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[tokio::test(start_paused = true)]
    async fn an_item_added_after_a_delay_is_handed_out_when_due() {
        let queue = DelayingQueue::default();
        let start = Instant::now();
        queue.add_after("a", secs(5)).unwrap();
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.waiting_len(), 1);
        assert_eq!(queue.get().await, Some("a"));
        assert_eq!(start.elapsed(), secs(5));
        assert_eq!(queue.waiting_len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_items_come_out_in_ready_time_order() {
        let queue = DelayingQueue::default();
        let start = Instant::now();
        queue.add_after("c", secs(30)).unwrap();
        queue.add_after("a", secs(10)).unwrap();
        queue.add_after("b", secs(20)).unwrap();
        queue.add_after("a2", secs(10)).unwrap();
        let mut order = Vec::new();
        for _ in 0..4 {
            let item = queue.get().await.unwrap();
            order.push((item, start.elapsed()));
            queue.done(&item);
        }
        assert_eq!(
            order,
            vec![
                ("a", secs(10)),
                ("a2", secs(10)),
                ("b", secs(20)),
                ("c", secs(30)),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_item_keeps_the_earlier_ready_time_when_the_later_comes_second() {
        let queue = DelayingQueue::default();
        let start = Instant::now();
        queue.add_after("a", secs(1)).unwrap();
        queue.add_after("a", secs(10)).unwrap();
        assert_eq!(queue.waiting_len(), 1);
        assert_eq!(queue.get().await, Some("a"));
        assert_eq!(start.elapsed(), secs(1));
        queue.done(&"a");
        let again = tokio::time::timeout(secs(60), queue.get()).await;
        assert!(again.is_err(), "the later add_after was absorbed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_item_moves_to_the_earlier_ready_time_when_it_comes_second() {
        let queue = DelayingQueue::default();
        let start = Instant::now();
        queue.add_after("a", secs(10)).unwrap();
        queue.add_after("b", secs(5)).unwrap();
        queue.add_after("a", secs(1)).unwrap();
        assert_eq!(queue.waiting_len(), 2);
        assert_eq!(queue.get().await, Some("a"));
        assert_eq!(start.elapsed(), secs(1));
        queue.done(&"a");
        assert_eq!(queue.get().await, Some("b"));
        assert_eq!(start.elapsed(), secs(5));
        queue.done(&"b");
        let again = tokio::time::timeout(secs(60), queue.get()).await;
        assert!(again.is_err(), "the stale ten-second entry does not fire");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_get_wakes_for_a_delay_shorter_than_the_one_it_sleeps_on() {
        let queue = DelayingQueue::default();
        let start = Instant::now();
        queue.add_after("late", secs(100)).unwrap();
        let worker = tokio::spawn({
            let queue = queue.clone();
            async move { (queue.get().await, Instant::now()) }
        });
        tokio::time::sleep(secs(1)).await;
        queue.add_after("soon", secs(2)).unwrap();
        let (item, at) = worker.await.unwrap();
        assert_eq!(item, Some("soon"));
        assert_eq!(at - start, secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_delay_adds_at_once() {
        let queue = DelayingQueue::default();
        queue.add_after("a", Duration::ZERO).unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.waiting_len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_due_item_already_queued_is_not_queued_twice() {
        let queue = DelayingQueue::default();
        queue.add("a").unwrap();
        queue.add_after("a", secs(1)).unwrap();
        tokio::time::sleep(secs(2)).await;
        assert_eq!(queue.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_delay_is_accepted_without_overflow() {
        let queue = DelayingQueue::default();
        queue.add_after("a", Duration::MAX).unwrap();
        assert_eq!(queue.waiting_len(), 1);
        assert_eq!(queue.len(), 0);
        let waited = tokio::time::timeout(secs(3600), queue.get()).await;
        assert!(
            waited.is_err(),
            "get sleeps on the far deadline without panicking"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_drops_waiting_items_and_refuses_add_after() {
        let queue = DelayingQueue::default();
        queue.add_after("a", secs(1)).unwrap();
        queue.shutdown();
        assert_eq!(queue.add_after("b", secs(1)).unwrap_err().into_inner(), "b");
        assert_eq!(queue.waiting_len(), 0);
        assert_eq!(queue.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn add_after_counts_a_retry_for_every_call() {
        let metrics = Arc::new(InMemoryMetrics::default());
        let queue = DelayingQueue::with_config(Config::default().metrics(metrics.clone()));
        queue.add_after("a", secs(1)).unwrap();
        queue.add_after("a", secs(2)).unwrap();
        queue.add_after("b", Duration::ZERO).unwrap();
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.retries, 3);
        assert_eq!(snapshot.adds, 1, "only 'b' reached the queue so far");
        assert_eq!(queue.get().await, Some("b"));
        assert_eq!(queue.get().await, Some("a"));
        assert_eq!(metrics.snapshot().adds, 2);
        assert_eq!(
            metrics.snapshot().queue_latencies,
            vec![Duration::ZERO, Duration::ZERO]
        );
    }

    #[test]
    fn waiting_heap_skips_stale_entries() {
        let start = Instant::now();
        let mut heap = WaitingHeap::default();
        assert!(heap.insert("a", start + secs(10)));
        assert!(!heap.insert("b", start + secs(20)));
        assert!(
            heap.insert("a", start + secs(5)),
            "five seconds is the new earliest"
        );
        assert_eq!(heap.next_ready_at(), Some(start + secs(5)));
        assert_eq!(heap.pop_ready(start + secs(12)), Some("a"));
        assert_eq!(
            heap.pop_ready(start + secs(12)),
            None,
            "the ten-second 'a' is stale"
        );
        assert_eq!(heap.next_ready_at(), Some(start + secs(20)));
        assert_eq!(heap.len(), 1);
    }
}
