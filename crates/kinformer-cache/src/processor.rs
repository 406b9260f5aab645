//! The shared processor: one listener per registered handler, each with its own bounded
//! buffer and its own task, so a slow or panicking handler never holds up the others.
//!
//! Buffer policy: a listener's buffer holds at most its capacity of live notifications. The
//! informer's processing loop waits, before it pops the next key, until every listener has
//! room (back-pressure: the queue upstream grows, nothing is dropped). The deltas of one key are
//! pushed together, so a buffer may go over its capacity by the number of deltas of one key;
//! the cache replay a late-registered handler receives is pushed whole, whatever its size.
//! [`ListenerStats::pending`] shows how many notifications wait.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::delta_fifo::DeltaObject;
use crate::handler::ResourceEventHandler;

/// The default number of live notifications a listener buffers before back-pressure.
pub const DEFAULT_LISTENER_CAPACITY: usize = 1024;

/// How many notifications a listener handles before it yields to other tasks.
const BATCH: usize = 64;

/// One notification for one handler.
pub(crate) enum Notification<K> {
    /// An object was added.
    Add {
        object: Arc<K>,
        is_in_initial_list: bool,
    },
    /// An object changed.
    Update { old: Arc<K>, new: Arc<K> },
    /// An object was deleted.
    Delete(DeltaObject<K>),
}

impl<K> Clone for Notification<K> {
    fn clone(&self) -> Self {
        match self {
            Notification::Add {
                object,
                is_in_initial_list,
            } => Notification::Add {
                object: object.clone(),
                is_in_initial_list: *is_in_initial_list,
            },
            Notification::Update { old, new } => Notification::Update {
                old: old.clone(),
                new: new.clone(),
            },
            Notification::Delete(object) => Notification::Delete(clone_delta_object(object)),
        }
    }
}

impl<K> Notification<K> {
    fn is_initial_add(&self) -> bool {
        matches!(
            self,
            Notification::Add {
                is_in_initial_list: true,
                ..
            }
        )
    }
}

/// Counters of one listener.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenerStats {
    /// Notifications buffered, not yet handed to the handler.
    pub pending: usize,
    /// Notifications the handler has finished (including those that panicked).
    pub delivered: u64,
    /// Handler calls that panicked (each caught and logged).
    pub panics: u64,
}

struct Buffer<K> {
    queue: VecDeque<Notification<K>>,
}

/// A registered handler with its buffer.
pub(crate) struct Listener<K> {
    pub(crate) id: u64,
    /// Taken out when the listener stops, so the handler is freed at once.
    handler: Mutex<Option<Arc<dyn ResourceEventHandler<K>>>>,
    buffer: Mutex<Buffer<K>>,
    items: Notify,
    space: Notify,
    /// Woken after each handled notification and on stop.
    progress: Notify,
    capacity: usize,
    stopped: AtomicBool,
    /// Initial-list adds pushed but not yet handled.
    initial_pending: AtomicUsize,
    delivered: AtomicU64,
    panics: AtomicU64,
    /// The handler's resync period; `None`: the handler never sees no-op updates.
    pub(crate) resync_period: Option<Duration>,
    next_resync: Mutex<Option<Instant>>,
    /// True while this listener is due for the current resync.
    syncing: AtomicBool,
    started: AtomicBool,
    /// Notifications were buffered by `push_held` since the last `flush`.
    unflushed: AtomicBool,
}

impl<K: Send + Sync + 'static> Listener<K> {
    pub(crate) fn new(
        id: u64,
        handler: Arc<dyn ResourceEventHandler<K>>,
        capacity: usize,
        resync_period: Option<Duration>,
    ) -> Self {
        let resync_period = resync_period.filter(|p| !p.is_zero());
        Listener {
            id,
            handler: Mutex::new(Some(handler)),
            buffer: Mutex::new(Buffer {
                queue: VecDeque::new(),
            }),
            items: Notify::new(),
            space: Notify::new(),
            progress: Notify::new(),
            capacity: capacity.max(1),
            stopped: AtomicBool::new(false),
            initial_pending: AtomicUsize::new(0),
            delivered: AtomicU64::new(0),
            panics: AtomicU64::new(0),
            resync_period,
            next_resync: Mutex::new(resync_period.map(|period| Instant::now() + period)),
            syncing: AtomicBool::new(false),
            started: AtomicBool::new(false),
            unflushed: AtomicBool::new(false),
        }
    }

    /// Buffers a notification without waiting (see the module's buffer policy).
    pub(crate) fn push(&self, notification: Notification<K>) {
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        if notification.is_initial_add() {
            self.initial_pending.fetch_add(1, Ordering::SeqCst);
        }
        lock(&self.buffer).queue.push_back(notification);
        self.items.notify_one();
    }

    /// Buffers a notification without waking the listener's task: the processing loop calls
    /// [`Self::flush`] once it has no more to give (or before it waits), so a burst of changes
    /// costs one wake-up of the handler's thread instead of one each.
    pub(crate) fn push_held(&self, notification: Notification<K>) {
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        if notification.is_initial_add() {
            self.initial_pending.fetch_add(1, Ordering::SeqCst);
        }
        lock(&self.buffer).queue.push_back(notification);
        self.unflushed.store(true, Ordering::SeqCst);
    }

    /// Wakes the listener's task if [`Self::push_held`] buffered anything since the last flush.
    pub(crate) fn flush(&self) {
        if self.unflushed.swap(false, Ordering::SeqCst) {
            self.items.notify_one();
        }
    }

    /// Waits until the buffer is below its capacity (or the listener stopped).
    pub(crate) async fn wait_for_space(&self) {
        loop {
            let notified = self.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.stopped.load(Ordering::SeqCst) || self.pending() < self.capacity {
                return;
            }
            notified.await;
        }
    }

    pub(crate) fn pending(&self) -> usize {
        lock(&self.buffer).queue.len()
    }

    pub(crate) fn stats(&self) -> ListenerStats {
        ListenerStats {
            pending: self.pending(),
            delivered: self.delivered.load(Ordering::SeqCst),
            panics: self.panics.load(Ordering::SeqCst),
        }
    }

    /// True once every initial-list add pushed so far was handled.
    pub(crate) fn initial_adds_handled(&self) -> bool {
        self.initial_pending.load(Ordering::SeqCst) == 0
    }

    /// Stops deliveries: drops what is buffered and ends the listener's task.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        lock(&self.handler).take();
        lock(&self.buffer).queue.clear();
        self.initial_pending.store(0, Ordering::SeqCst);
        self.items.notify_one();
        self.space.notify_one();
        self.progress.notify_waiters();
    }

    /// Waits until the listener has handled one more notification or stopped (register the
    /// wait with `enable` before checking the condition).
    pub(crate) fn progress(&self) -> &Notify {
        &self.progress
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Marks the listener as started; false when it already was.
    pub(crate) fn mark_started(&self) -> bool {
        !self.started.swap(true, Ordering::SeqCst)
    }

    /// Hands buffered notifications to the handler until the listener stops.
    ///
    /// On a multi-thread runtime the handler runs inside `block_in_place`, so a handler that
    /// blocks holds only its own thread and tasks queued on that worker move elsewhere; on a
    /// current-thread runtime handlers run inline and must not block.
    pub(crate) async fn run(self: Arc<Self>) {
        let multi_thread = matches!(
            Handle::current().runtime_flavor(),
            RuntimeFlavor::MultiThread
        );
        loop {
            let notified = self.items.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_stopped() {
                return;
            }
            if self.pending() == 0 {
                notified.await;
                continue;
            }
            let more = if multi_thread {
                tokio::task::block_in_place(|| self.drain(BATCH))
            } else {
                self.drain(BATCH)
            };
            if !more {
                return;
            }
            // Let other tasks run between batches even when the buffer stays full.
            tokio::task::yield_now().await;
        }
    }

    /// Handles up to `limit` buffered notifications; false once the listener has stopped.
    fn drain(&self, limit: usize) -> bool {
        for _ in 0..limit {
            let next = lock(&self.buffer).queue.pop_front();
            let Some(notification) = next else {
                return true;
            };
            // Room was made: the processing loop may go on while the handler works.
            self.space.notify_one();
            let Some(handler) = lock(&self.handler).clone() else {
                return false;
            };
            let initial = notification.is_initial_add();
            let outcome = catch_unwind(AssertUnwindSafe(|| match notification {
                Notification::Add {
                    object,
                    is_in_initial_list,
                } => handler.on_add(object, is_in_initial_list),
                Notification::Update { old, new } => handler.on_update(old, new),
                Notification::Delete(object) => handler.on_delete(object),
            }));
            drop(handler);
            if let Err(panic) = outcome {
                self.panics.fetch_add(1, Ordering::SeqCst);
                tracing::error!(
                    listener = self.id,
                    panic = panic_message(&panic),
                    "event handler panicked; the informer and other handlers keep running"
                );
            }
            if initial {
                let _ =
                    self.initial_pending
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            }
            self.delivered.fetch_add(1, Ordering::SeqCst);
            self.progress.notify_waiters();
        }
        !self.is_stopped()
    }

    /// Decides whether this listener is due for a resync at `now` and schedules the next.
    fn check_resync(&self, now: Instant) -> bool {
        let Some(period) = self.resync_period else {
            self.syncing.store(false, Ordering::SeqCst);
            return false;
        };
        let mut next = lock(&self.next_resync);
        let due = match *next {
            None => {
                *next = Some(now + period);
                false
            }
            Some(at) if now >= at => {
                *next = Some(now + period);
                true
            }
            Some(_) => false,
        };
        self.syncing.store(due, Ordering::SeqCst);
        due
    }
}

/// The listeners of one informer.
pub(crate) struct SharedProcessor<K> {
    listeners: Mutex<Vec<Arc<Listener<K>>>>,
    next_id: AtomicU64,
}

impl<K> Default for SharedProcessor<K> {
    fn default() -> Self {
        SharedProcessor {
            listeners: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        }
    }
}

impl<K: Send + Sync + 'static> SharedProcessor<K> {
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    /// Locks the listener list: held while deltas are applied and distributed, and while a
    /// handler is registered, so a new handler sees the cache either before or after a change,
    /// never half.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<Arc<Listener<K>>>> {
        lock(&self.listeners)
    }

    pub(crate) fn snapshot(&self) -> Vec<Arc<Listener<K>>> {
        self.lock().clone()
    }

    /// Removes a listener and stops it; false when it was not registered.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut listeners = self.lock();
        let Some(index) = listeners.iter().position(|l| l.id == id) else {
            return false;
        };
        let listener = listeners.remove(index);
        drop(listeners);
        listener.stop();
        true
    }

    /// Stops every listener and forgets them.
    pub(crate) fn stop_all(&self) {
        let listeners = std::mem::take(&mut *self.lock());
        for listener in listeners {
            listener.stop();
        }
    }

    /// Wakes every listener that has held notifications (see [`Listener::push_held`]).
    pub(crate) fn flush(&self) {
        for listener in self.lock().iter() {
            listener.flush();
        }
    }

    /// True when every listener has room in its buffer.
    pub(crate) fn has_space(&self) -> bool {
        !self
            .lock()
            .iter()
            .any(|l| !l.is_stopped() && l.pending() >= l.capacity)
    }

    /// Waits until every listener has room in its buffer.
    pub(crate) async fn wait_for_space(&self) {
        // The common case, every buffer below capacity, costs no allocation.
        let full = self
            .lock()
            .iter()
            .any(|l| !l.is_stopped() && l.pending() >= l.capacity);
        if !full {
            return;
        }
        for listener in self.snapshot() {
            listener.wait_for_space().await;
        }
    }

    /// Marks the listeners due for a resync; true when any is.
    pub(crate) fn should_resync(&self, now: Instant) -> bool {
        let mut any = false;
        for listener in self.snapshot() {
            any |= listener.check_resync(now);
        }
        any
    }

    /// The shortest resync period of the listeners.
    pub(crate) fn min_resync_period(&self) -> Option<Duration> {
        self.lock().iter().filter_map(|l| l.resync_period).min()
    }
}

/// Who receives a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Audience {
    /// Every listener.
    All,
    /// Listeners due for the current periodic resync (a `Sync` delta).
    Syncing,
    /// Listeners that asked for resyncs (an update that changed nothing, seen by a relist).
    Resyncing,
}

/// Pushes a notification to the chosen listeners (the list must be locked by the caller),
/// held: the caller flushes ([`SharedProcessor::flush`]) before it waits for anything.
pub(crate) fn distribute<K: Send + Sync + 'static>(
    listeners: &[Arc<Listener<K>>],
    notification: Notification<K>,
    audience: Audience,
) {
    for listener in listeners {
        let wanted = match audience {
            Audience::All => true,
            Audience::Syncing => listener.syncing.load(Ordering::SeqCst),
            Audience::Resyncing => listener.resync_period.is_some(),
        };
        if wanted {
            listener.push_held(notification.clone());
        }
    }
}

pub(crate) fn clone_delta_object<K>(object: &DeltaObject<K>) -> DeltaObject<K> {
    match object {
        DeltaObject::Object(object) => DeltaObject::Object(object.clone()),
        DeltaObject::DeletedFinalStateUnknown(tombstone) => {
            DeltaObject::DeletedFinalStateUnknown(crate::delta_fifo::DeletedFinalStateUnknown {
                key: tombstone.key.clone(),
                object: tombstone.object.clone(),
            })
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::ResourceEventHandlerFuncs;
    use crate::testing::pod;
    use kinformer_meta::PartialObjectMetadata;

    type Pod = PartialObjectMetadata;

    fn listener(id: u64, resync: Option<Duration>) -> Arc<Listener<Pod>> {
        Arc::new(Listener::new(
            id,
            Arc::new(ResourceEventHandlerFuncs::<Pod>::default()),
            2,
            resync,
        ))
    }

    fn update() -> Notification<Pod> {
        Notification::Update {
            old: pod("ns", "a", "1", &[]),
            new: pod("ns", "a", "1", &[]),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sync_updates_reach_only_listeners_due_and_relist_no_ops_only_resyncing_ones() {
        let quiet = listener(1, None);
        let hourly = listener(2, Some(Duration::from_secs(3600)));
        let fast = listener(3, Some(Duration::from_secs(10)));
        let all = [quiet.clone(), hourly.clone(), fast.clone()];

        tokio::time::advance(Duration::from_secs(11)).await;
        let now = Instant::now();
        assert!(!quiet.check_resync(now));
        assert!(!hourly.check_resync(now));
        assert!(fast.check_resync(now));
        distribute(&all, update(), Audience::Syncing);
        assert_eq!(
            [quiet.pending(), hourly.pending(), fast.pending()],
            [0, 0, 1]
        );
        distribute(&all, update(), Audience::Resyncing);
        assert_eq!(
            [quiet.pending(), hourly.pending(), fast.pending()],
            [0, 1, 2]
        );
        distribute(&all, update(), Audience::All);
        assert_eq!(
            [quiet.pending(), hourly.pending(), fast.pending()],
            [1, 2, 3]
        );
        // Not due again until another period has passed.
        assert!(!fast.check_resync(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopped_listener_drops_its_buffer_and_refuses_more() {
        let listener = listener(1, None);
        listener.push(Notification::Add {
            object: pod("ns", "a", "1", &[]),
            is_in_initial_list: true,
        });
        assert!(!listener.initial_adds_handled());
        listener.stop();
        listener.push(update());
        assert_eq!(listener.pending(), 0);
        assert!(listener.initial_adds_handled());
        // A full buffer of a stopped listener never holds the processing loop back.
        listener.wait_for_space().await;
    }

    #[tokio::test(start_paused = true)]
    async fn removing_a_listener_stops_it_and_reports_whether_it_was_there() {
        let processor = SharedProcessor::<Pod>::default();
        let first = listener(processor.next_id(), None);
        processor.lock().push(first.clone());
        assert!(processor.remove(first.id));
        assert!(first.is_stopped());
        assert!(!processor.remove(first.id));
        assert!(processor.snapshot().is_empty());
    }
}
