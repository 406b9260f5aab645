//! The work queue: fair FIFO order, deduplicated adds, and never two workers on one item.
//!
//! Three collections hold the state, as in client-go: `queue` (items ready to hand out, in
//! order), `dirty` (every item that needs processing) and `processing` (items a worker holds).
//! An item in `queue` is always in `dirty` and never in `processing`. An add of an item that is
//! being processed only marks it dirty; its `done` puts it back in `queue`, so it runs once more
//! and never concurrently with itself.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::delaying_queue::WaitingHeap;
use crate::error::{AddError, Error, Result};
use crate::metrics::{NoopMetrics, QueueMetrics, UnfinishedWork};

/// Settings shared by every queue type: a name and a metrics hook.
#[derive(Clone)]
pub struct Config {
    name: String,
    metrics: Arc<dyn QueueMetrics>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: String::new(),
            metrics: Arc::new(NoopMetrics),
        }
    }
}

impl Config {
    /// Names the queue; the name shows in `Debug` output and in [`Queue::name`].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Reports the queue's measurements to `metrics` instead of discarding them.
    pub fn metrics(mut self, metrics: Arc<dyn QueueMetrics>) -> Self {
        self.metrics = metrics;
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A work queue with client-go's guarantees; cloning it gives another handle to the same queue.
///
/// - An item is never handed to two workers at once: between [`get`](Queue::get) and
///   [`done`](Queue::done) it is "processing", and adds only mark it dirty.
/// - Adds of an item that is already waiting are deduplicated.
/// - Adds of an item that is processing collapse into exactly one more run after `done`.
/// - [`shutdown`](Queue::shutdown) refuses new adds; `get` keeps handing out what is queued and
///   returns `None` once the queue is empty.
///
/// A worker that never calls `done` keeps its item out of the queue for good: further adds of
/// it are remembered but never handed out.
///
/// ```
/// use kinformer_workqueue::Queue;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let queue = Queue::default();
/// queue.add("a").unwrap();
/// queue.add("a").unwrap(); // deduplicated
/// assert_eq!(queue.len(), 1);
/// let item = queue.get().await.unwrap();
/// queue.done(&item);
/// # }
/// ```
pub struct Queue<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: Hash + Eq + Clone + Send> Default for Queue<T> {
    fn default() -> Self {
        Queue::with_config(Config::default())
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("Queue")
            .field("name", &self.inner.name)
            .field("ready", &state.queue.len())
            .field("dirty", &state.dirty.len())
            .field("processing", &state.processing.len())
            .field("shutting_down", &state.shutting_down)
            .finish()
    }
}

impl<T: Hash + Eq + Clone + Send> Queue<T> {
    /// Builds an empty queue with the given name and metrics hook.
    pub fn with_config(config: Config) -> Self {
        Queue {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    dirty: HashMap::new(),
                    processing: HashMap::new(),
                    waiting: WaitingHeap::default(),
                    shutting_down: false,
                    drain: false,
                }),
                item_ready: Notify::new(),
                drained: Notify::new(),
                metrics: config.metrics,
                name: config.name,
            }),
        }
    }

    /// The name given in [`Config::name`] (empty by default).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Marks `item` as needing processing.
    ///
    /// A waiting item is not queued twice; an item being processed is queued again when its
    /// `done` is called. After shutdown the item is handed back in an [`AddError`].
    pub fn add(&self, item: T) -> Result<(), AddError<T>> {
        let mut state = self.inner.lock();
        if state.shutting_down {
            return Err(AddError(item));
        }
        self.inner.add_locked(&mut state, item, Instant::now());
        Ok(())
    }

    /// Waits for an item to process and hands it out; `None` once the queue is shut down and
    /// empty.
    ///
    /// The caller owns the item until it calls [`done`](Queue::done) with it; no other `get`
    /// returns it in the meantime. Dropping the future before it completes loses no item.
    pub async fn get(&self) -> Option<T> {
        loop {
            let notified = self.inner.item_ready.notified();
            tokio::pin!(notified);
            // Register for a wake-up before looking at the state, so an add that lands between
            // the look and the wait is not missed.
            notified.as_mut().enable();
            let next_ready_at = {
                let mut state = self.inner.lock();
                let now = Instant::now();
                self.inner.promote_ready(&mut state, now);
                if let Some(item) = state.queue.pop_front() {
                    let added_at = state.dirty.remove(&item);
                    state.processing.insert(item.clone(), now);
                    self.inner.metrics.depth(state.dirty.len());
                    if let Some(added_at) = added_at {
                        self.inner.metrics.queue_latency(now - added_at);
                    }
                    return Some(item);
                }
                if state.shutting_down {
                    return None;
                }
                state.waiting.next_ready_at()
            };
            match next_ready_at {
                Some(ready_at) => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep_until(ready_at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Marks `item` as processed; if it was added again meanwhile, it is queued once more.
    ///
    /// Calling `done` for an item that is not being processed does nothing.
    pub fn done(&self, item: &T) {
        let mut state = self.inner.lock();
        let Some(started_at) = state.processing.remove(item) else {
            return;
        };
        self.inner.metrics.work_duration(started_at.elapsed());
        if state.dirty.contains_key(item) {
            state.queue.push_back(item.clone());
            self.inner.item_ready.notify_one();
        } else if state.is_drained() {
            self.inner.drained.notify_waiters();
        }
    }

    /// The number of items ready to be handed out (not counting items being processed, nor
    /// delayed items whose time has not come). For information only: another task may change
    /// it right after.
    pub fn len(&self) -> usize {
        let mut state = self.inner.lock();
        self.inner.promote_ready(&mut state, Instant::now());
        state.queue.len()
    }

    /// Whether no item is ready to be handed out right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops accepting adds; workers keep getting queued items, then `None`.
    ///
    /// Delayed items whose time has not come are dropped. Calling it during a
    /// [`shutdown_with_drain`](Queue::shutdown_with_drain) makes that call return at once.
    pub fn shutdown(&self) {
        let mut state = self.inner.lock();
        state.drain = false;
        self.inner.begin_shutdown(&mut state);
        self.inner.drained.notify_waiters();
    }

    /// Stops accepting adds and waits until every queued and in-flight item is `done`.
    ///
    /// Workers must keep running (and calling `done`) for this to return, so do not await it
    /// from a worker that holds an item; a plain [`shutdown`](Queue::shutdown) from another
    /// task ends the wait early.
    pub async fn shutdown_with_drain(&self) {
        {
            let mut state = self.inner.lock();
            state.drain = true;
            self.inner.begin_shutdown(&mut state);
        }
        loop {
            let notified = self.inner.drained.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.inner.lock();
                if !state.drain || state.is_drained() {
                    return;
                }
            }
            notified.await;
        }
    }

    /// Whether [`shutdown`](Queue::shutdown) or [`shutdown_with_drain`](Queue::shutdown_with_drain)
    /// has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.lock().shutting_down
    }

    /// Measures how long the items being processed right now have been running.
    pub fn unfinished_work(&self) -> UnfinishedWork {
        let state = self.inner.lock();
        let now = Instant::now();
        let mut work = UnfinishedWork::default();
        for started_at in state.processing.values() {
            let age = now.saturating_duration_since(*started_at);
            work.total += age;
            work.longest = work.longest.max(age);
        }
        work
    }

    /// Reports [`unfinished_work`](Queue::unfinished_work) to the metrics hook once.
    pub fn update_unfinished_work(&self) {
        let work = self.unfinished_work();
        self.inner.metrics.unfinished_work(work);
    }

    /// Reports unfinished work to the metrics hook every `period` until the queue shuts down.
    ///
    /// The queue starts no task of its own: spawn this future if you want the gauge kept fresh
    /// (client-go refreshes it every 500 ms). A zero period is refused with
    /// [`Error::ZeroUpdatePeriod`].
    pub async fn run_unfinished_work_updates(&self, period: Duration) -> Result<()> {
        if period.is_zero() {
            return Err(Error::ZeroUpdatePeriod);
        }
        let mut interval = tokio::time::interval(period);
        loop {
            interval.tick().await;
            if self.is_shutting_down() {
                return Ok(());
            }
            self.update_unfinished_work();
        }
    }

    /// Adds `item` once `delay` has passed; the backbone of [`DelayingQueue::add_after`](crate::DelayingQueue::add_after).
    pub(crate) fn add_after(&self, item: T, delay: Duration) -> Result<(), AddError<T>> {
        let mut state = self.inner.lock();
        if state.shutting_down {
            return Err(AddError(item));
        }
        self.inner.metrics.retry();
        let now = Instant::now();
        if delay.is_zero() {
            self.inner.add_locked(&mut state, item, now);
            return Ok(());
        }
        let ready_at = ready_time(now, delay);
        if state.waiting.insert(item, ready_at) {
            // The earliest deadline moved forward: waiting workers must re-arm their timers.
            self.inner.item_ready.notify_waiters();
        }
        Ok(())
    }

    /// The number of delayed items whose time has not come yet.
    pub(crate) fn waiting_len(&self) -> usize {
        let mut state = self.inner.lock();
        self.inner.promote_ready(&mut state, Instant::now());
        state.waiting.len()
    }
}

/// The longest delay honoured exactly; longer ones are cut to it so the deadline cannot
/// overflow the clock. Thirty years is beyond any retry a controller means.
const MAX_DELAY: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

fn ready_time(now: Instant, delay: Duration) -> Instant {
    now.checked_add(delay)
        .unwrap_or_else(|| now + MAX_DELAY.min(delay))
}

struct Inner<T> {
    state: Mutex<State<T>>,
    /// Woken (one waiter) when an item becomes ready, and (all waiters) on shutdown or when a
    /// delayed item gets an earlier deadline than any before it.
    item_ready: Notify,
    /// Woken when the queue is empty with nothing in flight, or on a plain shutdown.
    drained: Notify,
    metrics: Arc<dyn QueueMetrics>,
    name: String,
}

struct State<T> {
    /// Items ready to hand out, oldest first; each is also in `dirty`.
    queue: VecDeque<T>,
    /// Items that need processing, with the time they were first added.
    dirty: HashMap<T, Instant>,
    /// Items handed to a worker and not yet done, with the time they were handed out.
    processing: HashMap<T, Instant>,
    /// Delayed adds whose time has not come.
    waiting: WaitingHeap<T>,
    shutting_down: bool,
    drain: bool,
}

impl<T> State<T> {
    fn is_drained(&self) -> bool {
        self.queue.is_empty() && self.processing.is_empty()
    }
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Every mutation of the state finishes before any user code (a metrics hook) runs, so a
        // panic in such code leaves the state consistent and the lock safe to take again.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Hash + Eq + Clone> Inner<T> {
    fn add_locked(&self, state: &mut State<T>, item: T, now: Instant) {
        if state.dirty.contains_key(&item) {
            return;
        }
        let ready = !state.processing.contains_key(&item);
        if ready {
            state.queue.push_back(item.clone());
        }
        state.dirty.insert(item, now);
        self.metrics.add();
        self.metrics.depth(state.dirty.len());
        if ready {
            self.item_ready.notify_one();
        }
    }

    fn promote_ready(&self, state: &mut State<T>, now: Instant) {
        while let Some(item) = state.waiting.pop_ready(now) {
            self.add_locked(state, item, now);
        }
    }

    fn begin_shutdown(&self, state: &mut State<T>) {
        state.shutting_down = true;
        state.waiting.clear();
        self.item_ready.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::InMemoryMetrics;
    use std::future::Future;

    /// Polls `future` once: `Some` if it finished without waiting.
    fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn items_come_out_in_the_order_they_were_added() {
        let queue = Queue::default();
        for item in ["a", "b", "c"] {
            queue.add(item).unwrap();
        }
        assert_eq!(queue.get().await, Some("a"));
        assert_eq!(queue.get().await, Some("b"));
        assert_eq!(queue.get().await, Some("c"));
    }

    #[tokio::test(start_paused = true)]
    async fn adds_of_a_queued_item_are_deduplicated() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        queue.add("b").unwrap();
        queue.add("a").unwrap();
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.get().await, Some("a"));
        assert_eq!(queue.get().await, Some("b"));
        assert!(queue.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn an_item_being_processed_is_not_handed_out_again_before_done() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        let item = queue.get().await.unwrap();
        queue.add("a").unwrap();
        assert_eq!(queue.len(), 0, "the re-add waits for done");
        assert_eq!(now_or_never(queue.get()), None);
        queue.done(&item);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.get().await, Some("a"));
    }

    #[tokio::test(start_paused = true)]
    async fn re_adding_during_processing_yields_exactly_one_re_run() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        let item = queue.get().await.unwrap();
        for _ in 0..5 {
            queue.add("a").unwrap();
        }
        queue.done(&item);
        let again = queue.get().await.unwrap();
        assert_eq!(again, "a");
        queue.done(&again);
        assert_eq!(queue.len(), 0);
        assert_eq!(now_or_never(queue.get()), None, "no second re-run");
    }

    #[tokio::test(start_paused = true)]
    async fn forgetting_done_keeps_the_item_out_of_the_queue_for_good() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        let _held = queue.get().await.unwrap();
        queue.add("a").unwrap();
        queue.add("b").unwrap();
        assert_eq!(queue.get().await, Some("b"));
        queue.done(&"b");
        let stuck = tokio::time::timeout(Duration::from_secs(3600), queue.get()).await;
        assert!(stuck.is_err(), "'a' is never handed out without done");
    }

    #[tokio::test(start_paused = true)]
    async fn done_on_an_item_not_being_processed_changes_nothing() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        queue.done(&"a");
        queue.done(&"z");
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.get().await, Some("a"));
        assert_eq!(now_or_never(queue.get()), None, "no duplicate of 'a'");
    }

    #[tokio::test(start_paused = true)]
    async fn get_waits_for_an_add_from_another_task() {
        let queue = Queue::default();
        let producer = queue.clone();
        let handle = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            producer.add(7u32).unwrap();
        });
        let started = Instant::now();
        assert_eq!(queue.get().await, Some(7));
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn debug_output_shows_counts_but_never_items() {
        let queue = Queue::with_config(Config::default().name("secrets"));
        queue.add("token-abc").unwrap();
        queue.add("token-def").unwrap();
        let _held = queue.get().await.unwrap();
        let debug = format!("{queue:?}");
        assert!(!debug.contains("token"), "{debug}");
        assert_eq!(
            debug,
            r#"Queue { name: "secrets", ready: 1, dirty: 1, processing: 1, shutting_down: false }"#
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_add_after_shutdown_returns_the_item() {
        let queue = Queue::default();
        queue.shutdown();
        let error = queue.add("a".to_string()).unwrap_err();
        assert_eq!(error.into_inner(), "a");
        assert!(queue.is_shutting_down());
        assert_eq!(queue.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_lets_workers_drain_the_queue_then_returns_none() {
        let queue = Queue::default();
        queue.add(1).unwrap();
        queue.add(2).unwrap();
        queue.shutdown();
        assert_eq!(queue.get().await, Some(1));
        assert_eq!(queue.get().await, Some(2));
        assert_eq!(queue.get().await, None);
        assert_eq!(queue.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_wakes_a_waiting_get_with_none() {
        let queue: Queue<u32> = Queue::default();
        let worker = tokio::spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        queue.shutdown();
        assert_eq!(worker.await.unwrap(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_re_add_from_before_shutdown_still_runs_after_done() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        let item = queue.get().await.unwrap();
        queue.add("a").unwrap();
        queue.shutdown();
        queue.done(&item);
        assert_eq!(queue.get().await, Some("a"));
        queue.done(&"a");
        assert_eq!(queue.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_with_drain_waits_for_done_on_in_flight_items() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        let item = queue.get().await.unwrap();
        let drain = tokio::spawn({
            let queue = queue.clone();
            async move {
                queue.shutdown_with_drain().await;
                Instant::now()
            }
        });
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(
            !drain.is_finished(),
            "drain returned while 'a' was in flight"
        );
        assert!(queue.add("b").is_err());
        let done_at = Instant::now();
        queue.done(&item);
        assert_eq!(drain.await.unwrap(), done_at);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_with_drain_also_waits_for_queued_items() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        queue.add("b").unwrap();
        let drain = tokio::spawn({
            let queue = queue.clone();
            async move { queue.shutdown_with_drain().await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let a = queue.get().await.unwrap();
        queue.done(&a);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!drain.is_finished(), "'b' is still queued");
        let b = queue.get().await.unwrap();
        queue.done(&b);
        drain.await.unwrap();
        assert_eq!(queue.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_with_drain_on_an_idle_queue_returns_at_once() {
        let queue: Queue<u8> = Queue::default();
        assert_eq!(now_or_never(queue.shutdown_with_drain()), Some(()));
        assert!(queue.is_shutting_down());
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_a_pending_drain() {
        let queue = Queue::default();
        queue.add("a").unwrap();
        let _held = queue.get().await.unwrap();
        let drain = tokio::spawn({
            let queue = queue.clone();
            async move { queue.shutdown_with_drain().await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!drain.is_finished());
        queue.shutdown();
        drain.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_get_dropped_after_its_wake_up_passes_the_item_on() {
        let queue = Queue::default();
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        let mut first = Box::pin(queue.get());
        let mut second = Box::pin(queue.get());
        assert!(first.as_mut().poll(&mut context).is_pending());
        assert!(second.as_mut().poll(&mut context).is_pending());
        queue.add("a").unwrap();
        drop(first);
        assert_eq!(
            second.as_mut().poll(&mut context),
            std::task::Poll::Ready(Some("a"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn metrics_count_adds_depth_latency_and_work_duration() {
        let metrics = Arc::new(InMemoryMetrics::default());
        let queue = Queue::with_config(Config::default().name("pods").metrics(metrics.clone()));
        assert_eq!(queue.name(), "pods");
        queue.add("a").unwrap();
        queue.add("a").unwrap();
        queue.add("b").unwrap();
        assert_eq!(
            metrics.snapshot().adds,
            2,
            "the duplicate add is not counted"
        );
        assert_eq!(metrics.snapshot().depth, 2);

        tokio::time::sleep(Duration::from_millis(250)).await;
        let a = queue.get().await.unwrap();
        assert_eq!(metrics.snapshot().depth, 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        queue.done(&a);

        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.queue_latencies, vec![Duration::from_millis(250)]);
        assert_eq!(snapshot.work_durations, vec![Duration::from_millis(40)]);
        assert_eq!(snapshot.retries, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn unfinished_work_reports_total_and_longest_running_item() {
        let metrics = Arc::new(InMemoryMetrics::default());
        let queue = Queue::with_config(Config::default().metrics(metrics.clone()));
        queue.add("a").unwrap();
        queue.add("b").unwrap();
        let a = queue.get().await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _b = queue.get().await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;

        queue.update_unfinished_work();
        let expected = UnfinishedWork {
            total: Duration::from_secs(7),
            longest: Duration::from_secs(5),
        };
        assert_eq!(metrics.snapshot().unfinished_work, expected);

        queue.done(&a);
        assert_eq!(
            queue.unfinished_work(),
            UnfinishedWork {
                total: Duration::from_secs(2),
                longest: Duration::from_secs(2),
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unfinished_work_updates_run_every_period_until_shutdown() {
        let metrics = Arc::new(InMemoryMetrics::default());
        let queue = Queue::with_config(Config::default().metrics(metrics.clone()));
        queue.add("a").unwrap();
        let _a = queue.get().await.unwrap();
        let updates = tokio::spawn({
            let queue = queue.clone();
            async move {
                queue
                    .run_unfinished_work_updates(Duration::from_millis(500))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(1_600)).await;
        assert_eq!(
            metrics.snapshot().unfinished_work.longest,
            Duration::from_millis(1_500)
        );
        queue.shutdown();
        assert_eq!(updates.await.unwrap(), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_update_period_is_refused() {
        let queue: Queue<u8> = Queue::default();
        assert_eq!(
            queue.run_unfinished_work_updates(Duration::ZERO).await,
            Err(Error::ZeroUpdatePeriod)
        );
    }
}
