//! `DeltaFifo`: the queue between a reflector and an informer, with client-go's DeltaFIFO
//! semantics and lock striping.
//!
//! Every key has a list of deltas (Added, Updated, Deleted, Replaced, Sync) in arrival order;
//! a key is queued once, at its first delta, and [`DeltaFifo::pop`] hands all of a key's
//! deltas to a processing closure together. `replace` turns keys that vanished from a relist
//! into `Deleted` deltas carrying a [`DeletedFinalStateUnknown`] tombstone, and `resync`
//! queues `Sync` for known objects that have nothing pending.
//!
//! Keys are spread over stripes, each with its own lock, its own map and its own queue, so
//! producers of different keys rarely meet on a lock. A global sequence number, taken when a key
//! is first queued, orders the stripes' queues; `pop` takes the lowest one, so keys come out in
//! the order they were first queued, as in client-go. `replace` locks every stripe (it must see
//! the whole queue), and a key's processing closure runs while its stripe is locked, so the
//! known objects (the indexer the closure writes) and the queue are never seen out of step.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::BoxFuture;
use kinformer_meta::Object;
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::store::{key_of, meta_namespace_key_func, KeyFunc, Replacing, Store};

/// How many stripes the queue is split into.
const STRIPES: usize = 16;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeltaType {
    /// The object was created.
    Added,
    /// The object changed.
    Updated,
    /// The object was deleted.
    Deleted,
    /// The object was listed again by a relist (client-go's `Replaced`).
    Replaced,
    /// A periodic resync (or a relist without `Replaced`): nothing changed.
    Sync,
}

/// An object deleted while the watch was down: its key and the last state the cache knew.
#[derive(Debug, PartialEq)]
pub struct DeletedFinalStateUnknown<K> {
    /// The key of the deleted object.
    pub key: Arc<str>,
    /// The last known state, when the cache had one.
    pub object: Option<Arc<K>>,
}

/// The object a delta carries: the object itself or, for a deletion found by a relist, a
/// tombstone.
#[derive(Debug, PartialEq)]
pub enum DeltaObject<K> {
    /// The object.
    Object(Arc<K>),
    /// A tombstone (only in `Deleted` deltas made by `replace`).
    DeletedFinalStateUnknown(DeletedFinalStateUnknown<K>),
}

impl<K> DeltaObject<K> {
    /// The object, or the tombstone's last known state.
    pub fn object(&self) -> Option<&Arc<K>> {
        match self {
            DeltaObject::Object(object) => Some(object),
            DeltaObject::DeletedFinalStateUnknown(tombstone) => tombstone.object.as_ref(),
        }
    }

    /// True for a tombstone.
    pub fn is_tombstone(&self) -> bool {
        matches!(self, DeltaObject::DeletedFinalStateUnknown(_))
    }
}

/// One change of one object.
#[derive(Debug, PartialEq)]
pub struct Delta<K> {
    /// What happened.
    pub kind: DeltaType,
    /// The object after the change (the last state for a deletion).
    pub object: DeltaObject<K>,
}

/// Every pending delta of one key, oldest first.
#[derive(Debug, PartialEq)]
pub struct Deltas<K> {
    key: Arc<str>,
    deltas: Vec<Delta<K>>,
}

impl<K> Deltas<K> {
    /// The key the deltas belong to.
    pub fn key(&self) -> &Arc<str> {
        &self.key
    }

    /// The deltas, oldest first.
    pub fn as_slice(&self) -> &[Delta<K>] {
        &self.deltas
    }

    /// Iterates the deltas, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, Delta<K>> {
        self.deltas.iter()
    }

    /// Number of deltas.
    pub fn len(&self) -> usize {
        self.deltas.len()
    }

    /// True when there are none (never the case for popped deltas).
    pub fn is_empty(&self) -> bool {
        self.deltas.is_empty()
    }

    /// The oldest delta.
    pub fn oldest(&self) -> Option<&Delta<K>> {
        self.deltas.first()
    }

    /// The newest delta.
    pub fn newest(&self) -> Option<&Delta<K>> {
        self.deltas.last()
    }

    /// The deltas, oldest first.
    pub fn into_vec(self) -> Vec<Delta<K>> {
        self.deltas
    }
}

// Clones copy `Arc`s only, so they need no `K: Clone`.
impl<K> Clone for DeletedFinalStateUnknown<K> {
    fn clone(&self) -> Self {
        DeletedFinalStateUnknown {
            key: self.key.clone(),
            object: self.object.clone(),
        }
    }
}

impl<K> Clone for DeltaObject<K> {
    fn clone(&self) -> Self {
        match self {
            DeltaObject::Object(object) => DeltaObject::Object(object.clone()),
            DeltaObject::DeletedFinalStateUnknown(tombstone) => {
                DeltaObject::DeletedFinalStateUnknown(tombstone.clone())
            }
        }
    }
}

impl<K> Clone for Delta<K> {
    fn clone(&self) -> Self {
        Delta {
            kind: self.kind,
            object: self.object.clone(),
        }
    }
}

impl<K> Clone for Deltas<K> {
    fn clone(&self) -> Self {
        Deltas {
            key: self.key.clone(),
            deltas: self.deltas.clone(),
        }
    }
}

impl<'a, K> IntoIterator for &'a Deltas<K> {
    type Item = &'a Delta<K>;
    type IntoIter = std::slice::Iter<'a, Delta<K>>;
    fn into_iter(self) -> Self::IntoIter {
        self.deltas.iter()
    }
}

/// A failure reported by a transform function.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransformError {
    message: String,
}

impl TransformError {
    /// A transform failure with a description.
    pub fn new(message: impl Into<String>) -> Self {
        TransformError {
            message: message.into(),
        }
    }
}

/// A function applied once to every object as it is queued (never to tombstones or Sync
/// deltas, whose objects were transformed already), typically to drop fields to save memory.
pub type TransformFunc<K> = Arc<dyn Fn(Arc<K>) -> Result<Arc<K>, TransformError> + Send + Sync>;

/// What a processing closure reports when it could not handle popped deltas.
#[derive(Debug, PartialEq, Eq)]
pub enum ProcessError<E> {
    /// Processing failed; the deltas are dropped and the failure reported to `pop`'s caller.
    Failed(E),
    /// Processing failed; queue the deltas again (at the end, unless the key was queued anew
    /// meanwhile) and report the failure (client-go's `ErrRequeue`).
    Requeue(E),
}

/// Why `pop` returned without processing successfully.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PopError<E> {
    /// The queue is closed and drained.
    #[error("queue closed")]
    Closed,
    /// The processing closure failed on a key.
    #[error("processing {key:?} failed (requeued: {requeued})")]
    Process {
        /// The key whose deltas failed.
        key: Arc<str>,
        /// The closure's error.
        error: E,
        /// True when the deltas were queued again.
        requeued: bool,
    },
}

/// Construction options of a [`DeltaFifo`].
pub struct DeltaFifoConfig<K> {
    key_func: KeyFunc<K>,
    known_objects: Option<Arc<dyn Store<K>>>,
    transform: Option<TransformFunc<K>>,
    emit_delta_type_replaced: bool,
}

impl<K: Object> Default for DeltaFifoConfig<K> {
    fn default() -> Self {
        DeltaFifoConfig {
            key_func: meta_namespace_key_func(),
            known_objects: None,
            transform: None,
            emit_delta_type_replaced: true,
        }
    }
}

impl<K> DeltaFifoConfig<K> {
    /// Sets the key function (default: `namespace/name`).
    pub fn key_func(mut self, key_func: KeyFunc<K>) -> Self {
        self.key_func = key_func;
        self
    }

    /// Sets the known objects: the indexer the popped deltas are applied to. Deletions and
    /// relist tombstones are decided against it, and resync lists it.
    pub fn known_objects(mut self, known_objects: Arc<dyn Store<K>>) -> Self {
        self.known_objects = Some(known_objects);
        self
    }

    /// Sets a transform applied once to each object as it is queued.
    pub fn transform(mut self, transform: TransformFunc<K>) -> Self {
        self.transform = Some(transform);
        self
    }

    /// Whether `replace` queues `Replaced` (the default) or, as old client-go did, `Sync`.
    pub fn emit_delta_type_replaced(mut self, emit: bool) -> Self {
        self.emit_delta_type_replaced = emit;
        self
    }
}

/// client-go's DeltaFIFO, lock-striped. See the module documentation.
pub struct DeltaFifo<K> {
    stripes: Box<[Mutex<Stripe<K>>]>,
    /// Queued keys per stripe, readable without the stripe's lock so `pop` skips empty stripes.
    queued: Box<[QueuedCount]>,
    hasher: RandomState,
    /// The next first-enqueue sequence number.
    sequence: AtomicU64,
    /// True once anything was added, updated, deleted or replaced.
    populated: AtomicBool,
    /// Keys of the first replace still to pop.
    initial_population_count: AtomicUsize,
    closed: AtomicBool,
    notify: Notify,
    /// Told after a pop while a streaming replace waits for room (see [`FifoReplace`]).
    popped: Notify,
    /// Streaming replaces waiting for room.
    room_waiters: AtomicUsize,
    /// Producers inside a batch (see [`DeltaFifo::begin_batch`]).
    batch_depth: AtomicUsize,
    /// A consumer wake-up held back by a batch.
    held_wake: AtomicBool,
    /// Serialises consumers, so a stripe's head stays put between the scan and the pop.
    consumer: Mutex<()>,
    key_func: KeyFunc<K>,
    known_objects: Option<Arc<dyn Store<K>>>,
    transform: Option<TransformFunc<K>>,
    emit_delta_type_replaced: bool,
}

struct Stripe<K> {
    /// This stripe's position, to find its queued-key counter.
    index: usize,
    items: HashMap<Arc<str>, Vec<Delta<K>>>,
    /// Keys in first-enqueue order with their sequence numbers.
    queue: VecDeque<(u64, Arc<str>)>,
}

/// A counter on a cache line of its own, so producers of different stripes do not share one.
#[repr(align(64))]
#[derive(Default)]
struct QueuedCount(AtomicUsize);

impl<K: Object> Default for DeltaFifo<K> {
    fn default() -> Self {
        DeltaFifo::new(DeltaFifoConfig::default())
    }
}

impl<K: Object> DeltaFifo<K> {
    /// An empty queue.
    pub fn new(config: DeltaFifoConfig<K>) -> Self {
        DeltaFifo {
            stripes: (0..STRIPES)
                .map(|index| {
                    Mutex::new(Stripe {
                        index,
                        items: HashMap::new(),
                        queue: VecDeque::new(),
                    })
                })
                .collect(),
            queued: (0..STRIPES).map(|_| QueuedCount::default()).collect(),
            hasher: RandomState::new(),
            sequence: AtomicU64::new(0),
            populated: AtomicBool::new(false),
            initial_population_count: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            notify: Notify::new(),
            popped: Notify::new(),
            room_waiters: AtomicUsize::new(0),
            batch_depth: AtomicUsize::new(0),
            held_wake: AtomicBool::new(false),
            consumer: Mutex::new(()),
            key_func: config.key_func,
            known_objects: config.known_objects,
            transform: config.transform,
            emit_delta_type_replaced: config.emit_delta_type_replaced,
        }
    }

    /// The key of an object.
    pub fn key_of(&self, object: &K) -> Result<Arc<str>> {
        key_of(&self.key_func, object)
    }

    /// Queues an `Added` delta.
    pub fn add(&self, object: Arc<K>) -> Result<()> {
        self.queue_change(DeltaType::Added, object)
    }

    /// Queues an `Updated` delta.
    pub fn update(&self, object: Arc<K>) -> Result<()> {
        self.queue_change(DeltaType::Updated, object)
    }

    /// Queues a `Deleted` delta, unless the key is neither queued nor known (then the
    /// deletion is ignored, as in client-go).
    pub fn delete(&self, object: Arc<K>) -> Result<()> {
        let key = self.key_of(&object)?;
        let object = self.transformed(&key, object)?;
        let mut stripe = self.lock_stripe(&key);
        self.mark_populated();
        if !stripe.items.contains_key(&key) {
            let known = self
                .known_objects
                .as_ref()
                .is_some_and(|known| known.get_by_key(&key).is_some());
            if !known {
                return Ok(());
            }
        }
        let queued = self.queue_locked(
            &mut stripe,
            key,
            DeltaType::Deleted,
            DeltaObject::Object(object),
        );
        drop(stripe);
        self.wake(queued);
        Ok(())
    }

    /// Queues `Replaced` (or `Sync`) for every listed object, and a `Deleted` tombstone for
    /// every queued or known key missing from the list, carrying its last known state.
    ///
    /// The first replace (before anything else was queued) sets the count of keys that must be
    /// popped before [`Self::has_synced`] turns true.
    pub fn replace(&self, objects: Vec<Arc<K>>, _resource_version: &str) -> Result<()> {
        let mut listed = Vec::with_capacity(objects.len());
        for object in objects {
            let key = self.key_of(&object)?;
            let object = self.transformed(&key, object)?;
            listed.push((key, object));
        }
        let action = self.replace_action();
        let mut stripes: Vec<_> = self.stripes.iter().map(lock).collect();
        let mut listed_keys: HashSet<Arc<str>> = HashSet::with_capacity(listed.len());
        let mut woke = false;
        for (key, object) in listed {
            listed_keys.insert(key.clone());
            let stripe = &mut stripes[self.stripe_of(&key)];
            woke |= self.queue_locked(stripe, key, action, DeltaObject::Object(object));
        }
        let tombstones = self.missing(&stripes, &listed_keys);
        let first = !self.populated.load(Ordering::SeqCst);
        if first {
            self.initial_population_count
                .store(listed_keys.len() + tombstones.len(), Ordering::SeqCst);
        }
        // Not counted again: the count was set above, from the list and the tombstones.
        self.queue_tombstones(stripes, tombstones, false);
        self.wake(woke);
        Ok(())
    }

    /// `Replaced`, or `Sync` when so configured.
    fn replace_action(&self) -> DeltaType {
        if self.emit_delta_type_replaced {
            DeltaType::Replaced
        } else {
            DeltaType::Sync
        }
    }

    /// Queued keys, then known keys not queued, that are missing from `listed`, each with its
    /// last known state: they were deleted while nobody watched. The stripes are all locked.
    fn missing(
        &self,
        stripes: &[MutexGuard<'_, Stripe<K>>],
        listed: &HashSet<Arc<str>>,
    ) -> Vec<(Arc<str>, Option<Arc<K>>)> {
        let mut tombstones = Vec::new();
        for stripe in stripes {
            for (key, deltas) in &stripe.items {
                if listed.contains(key) {
                    continue;
                }
                let last = deltas
                    .last()
                    .and_then(|delta| delta.object.object().cloned());
                tombstones.push((key.clone(), last));
            }
        }
        if let Some(known) = &self.known_objects {
            let mut known_keys = known.list_keys();
            known_keys.sort();
            for key in known_keys {
                if listed.contains(&key) {
                    continue;
                }
                let stripe = &stripes[self.stripe_of(&key)];
                if stripe.items.get(&key).is_some_and(|d| !d.is_empty()) {
                    continue;
                }
                let last = known.get_by_key(&key);
                tombstones.push((key, last));
            }
        }
        tombstones
    }

    /// Queues the tombstones, marks the queue populated, unlocks and wakes a consumer. With
    /// `count_initial`, newly queued keys count toward the first sync.
    fn queue_tombstones(
        &self,
        mut stripes: Vec<MutexGuard<'_, Stripe<K>>>,
        tombstones: Vec<(Arc<str>, Option<Arc<K>>)>,
        count_initial: bool,
    ) {
        let mut woke = false;
        for (key, last) in tombstones {
            let tombstone = DeltaObject::DeletedFinalStateUnknown(DeletedFinalStateUnknown {
                key: key.clone(),
                object: last,
            });
            let stripe = &mut stripes[self.stripe_of(&key)];
            let newly_queued = self.queue_locked(stripe, key, DeltaType::Deleted, tombstone);
            if count_initial && newly_queued {
                self.initial_population_count.fetch_add(1, Ordering::SeqCst);
            }
            woke |= newly_queued;
        }
        self.populated.store(true, Ordering::SeqCst);
        drop(stripes);
        self.wake(woke);
    }

    /// Starts a streaming replace: the listed objects are queued (`Replaced`, or `Sync`) one
    /// at a time as they arrive, so the consumer applies each while the list is still being
    /// read; only their keys are remembered. [`FifoReplace::finish`] then queues the
    /// tombstones [`Self::replace`] would (queued or known keys that were not listed), and
    /// dropping it unfinished (the list failed) queues none.
    ///
    /// With `max_queued`, [`FifoReplace::ready`] asks the producer to wait while more keys
    /// than that are queued (back-pressure instead of a queue the size of the list).
    ///
    /// The first replace counts toward [`Self::has_synced`] as with [`Self::replace`]: the
    /// queue is synced once the replace has finished and every key it queued was popped.
    pub fn begin_replace(&self, max_queued: Option<usize>) -> FifoReplace<'_, K> {
        FifoReplace {
            fifo: self,
            listed: HashSet::new(),
            initial: !self.populated.load(Ordering::SeqCst),
            max_queued,
        }
    }

    /// Queues `Sync` for every known object that has no pending delta.
    pub fn resync(&self) -> Result<()> {
        let Some(known) = &self.known_objects else {
            return Ok(());
        };
        let mut woke = false;
        // Sorted, so a resync queues keys in a reproducible order.
        let mut keys = known.list_keys();
        keys.sort_unstable();
        for key in keys {
            let mut stripe = self.lock_stripe(&key);
            if stripe.items.get(&key).is_some_and(|d| !d.is_empty()) {
                continue;
            }
            // The cache may have lost the key since it was listed; then there is nothing to do.
            let Some(object) = known.get_by_key(&key) else {
                continue;
            };
            woke |= self.queue_locked(
                &mut stripe,
                key,
                DeltaType::Sync,
                DeltaObject::Object(object),
            );
        }
        self.wake(woke);
        Ok(())
    }

    /// Waits for a key, then hands all its deltas to `process`, oldest first, together with
    /// whether they belong to the first replace's items (client-go's `isInInitialList`).
    ///
    /// `process` runs while the key's stripe is locked: it must not call into this queue.
    /// After [`Self::close`], pop keeps returning queued keys until the queue is empty, then
    /// returns [`PopError::Closed`].
    pub async fn pop<E, F>(&self, process: F) -> Result<(), PopError<E>>
    where
        F: FnOnce(&Deltas<K>, bool) -> Result<(), ProcessError<E>>,
    {
        let mut process = Some(process);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(result) = self.pop_now(&mut process) {
                return result;
            }
            if self.is_closed() {
                return Err(PopError::Closed);
            }
            notified.await;
        }
    }

    /// [`Self::pop`] for synchronous callers: blocks the thread until a key is ready or the
    /// queue is closed and empty. Do not call it on an async runtime's thread.
    pub fn pop_blocking<E, F>(&self, process: F) -> Result<(), PopError<E>>
    where
        F: FnOnce(&Deltas<K>, bool) -> Result<(), ProcessError<E>>,
    {
        futures::executor::block_on(self.pop(process))
    }

    /// Pops the oldest key if there is one, without waiting; `None` when the queue is empty.
    pub fn try_pop<E, F>(&self, process: F) -> Option<Result<(), PopError<E>>>
    where
        F: FnOnce(&Deltas<K>, bool) -> Result<(), ProcessError<E>>,
    {
        self.pop_now(&mut Some(process))
    }

    /// Closes the queue: `pop` drains what is queued, then reports [`PopError::Closed`].
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.popped.notify_waiters();
    }

    /// True after [`Self::close`].
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// True once the first replace's keys (or the first add/update/delete) have all been
    /// popped.
    pub fn has_synced(&self) -> bool {
        self.populated.load(Ordering::SeqCst)
            && self.initial_population_count.load(Ordering::SeqCst) == 0
    }

    /// Number of queued keys.
    pub fn len(&self) -> usize {
        self.stripes.iter().map(|s| lock(s).items.len()).sum()
    }

    /// True when no key is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the pending deltas of `key`.
    pub fn get_deltas(&self, key: &str) -> Option<Deltas<K>> {
        let stripe = self.lock_stripe(key);
        let (key, deltas) = stripe.items.get_key_value(key)?;
        Some(Deltas {
            key: key.clone(),
            deltas: deltas.clone(),
        })
    }

    fn queue_change(&self, kind: DeltaType, object: Arc<K>) -> Result<()> {
        let key = self.key_of(&object)?;
        let object = self.transformed(&key, object)?;
        let mut stripe = self.lock_stripe(&key);
        self.mark_populated();
        let queued = self.queue_locked(&mut stripe, key, kind, DeltaObject::Object(object));
        drop(stripe);
        self.wake(queued);
        Ok(())
    }

    /// Sets `populated`, reading first so producers do not keep writing one shared cache line.
    fn mark_populated(&self) {
        if !self.populated.load(Ordering::SeqCst) {
            self.populated.store(true, Ordering::SeqCst);
        }
    }

    fn transformed(&self, key: &str, object: Arc<K>) -> Result<Arc<K>> {
        match &self.transform {
            Some(transform) => transform(object).map_err(|source| Error::TransformFailed {
                key: key.to_owned(),
                source,
            }),
            None => Ok(object),
        }
    }

    /// Appends a delta to a key; returns true when the key was newly queued.
    fn queue_locked(
        &self,
        stripe: &mut Stripe<K>,
        key: Arc<str>,
        kind: DeltaType,
        object: DeltaObject<K>,
    ) -> bool {
        let delta = Delta { kind, object };
        if let Some(deltas) = stripe.items.get_mut(&key) {
            deltas.push(delta);
            dedup_deltas(deltas);
            return false;
        }
        self.push_key(stripe, key.clone());
        stripe.items.insert(key, vec![delta]);
        true
    }

    /// Appends a newly queued key to its stripe's queue with the next sequence number.
    fn push_key(&self, stripe: &mut Stripe<K>, key: Arc<str>) {
        // The count goes up before the number is taken: a key numbered below a consumer's
        // horizon is then always counted when the consumer looks (see `pop_now`).
        self.queued[stripe.index].0.fetch_add(1, Ordering::SeqCst);
        let sequence = self.sequence.fetch_add(1, Ordering::SeqCst);
        stripe.queue.push_back((sequence, key));
    }

    fn wake(&self, queued: bool) {
        if !queued {
            return;
        }
        if self.batch_depth.load(Ordering::SeqCst) == 0 {
            self.notify.notify_one();
            return;
        }
        self.held_wake.store(true, Ordering::SeqCst);
        // The batch may have ended between the two lines above: then nobody else will
        // deliver the held wake-up.
        if self.batch_depth.load(Ordering::SeqCst) == 0
            && self.held_wake.swap(false, Ordering::SeqCst)
        {
            self.notify.notify_one();
        }
    }

    /// Starts a batch of writes: until the matching [`Self::end_batch`], newly queued keys do
    /// not wake a waiting consumer one by one; the batch's end wakes it once. A producer that
    /// has several changes at hand (a watch chunk holding many events) saves the consumer's
    /// thread a wake-up per change. Batches nest; end every batch before waiting on anything.
    pub fn begin_batch(&self) {
        self.batch_depth.fetch_add(1, Ordering::SeqCst);
    }

    /// Ends a batch started by [`Self::begin_batch`], waking the consumer if a key was queued.
    pub fn end_batch(&self) {
        let before = self
            .batch_depth
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| d.checked_sub(1));
        if before == Ok(1) && self.held_wake.swap(false, Ordering::SeqCst) {
            self.notify.notify_one();
        }
    }

    /// True when no key is queued, read from the per-stripe counters without locking (a
    /// hint: a producer may queue one at any moment).
    pub fn is_empty_now(&self) -> bool {
        self.queued_len() == 0
    }

    fn pop_now<E, F>(&self, process: &mut Option<F>) -> Option<Result<(), PopError<E>>>
    where
        F: FnOnce(&Deltas<K>, bool) -> Result<(), ProcessError<E>>,
    {
        let _consumer = lock(&self.consumer);
        let index = loop {
            let horizon = self.sequence.load(Ordering::SeqCst);
            let mut oldest: Option<(u64, usize)> = None;
            for (index, stripe) in self.stripes.iter().enumerate() {
                if self.queued[index].0.load(Ordering::SeqCst) == 0 {
                    continue;
                }
                if let Some(&(sequence, _)) = lock(stripe).queue.front() {
                    if oldest.is_none_or(|(best, _)| sequence < best) {
                        oldest = Some((sequence, index));
                    }
                }
            }
            let (sequence, index) = oldest?;
            // A key first queued after the scan began may have passed an older one in a
            // stripe scanned earlier. Every key numbered below the horizon was visible: its
            // producer counted it and took its number before we read the horizon, and held the
            // stripe's lock until it was queued. So a head below the horizon is the true oldest.
            if sequence < horizon {
                break index;
            }
        };
        let mut stripe = lock(&self.stripes[index]);
        let (_, key) = stripe.queue.pop_front()?;
        self.queued[index].0.fetch_sub(1, Ordering::SeqCst);
        let deltas = stripe.items.remove(&key).unwrap_or_default();
        let in_initial_list = !self.has_synced();
        let _ = self.initial_population_count.fetch_update(
            Ordering::SeqCst,
            Ordering::SeqCst,
            |count| count.checked_sub(1),
        );
        if self.room_waiters.load(Ordering::SeqCst) > 0 {
            self.popped.notify_waiters();
        }
        let deltas = Deltas { key, deltas };
        let process = process.take()?;
        Some(match process(&deltas, in_initial_list) {
            Ok(()) => Ok(()),
            Err(ProcessError::Failed(error)) => Err(PopError::Process {
                key: deltas.key,
                error,
                requeued: false,
            }),
            Err(ProcessError::Requeue(error)) => {
                let key = deltas.key.clone();
                // client-go's addIfNotPresent: keep newer deltas if the key was queued again.
                if !stripe.items.contains_key(&key) {
                    self.push_key(&mut stripe, key.clone());
                    stripe.items.insert(key.clone(), deltas.deltas);
                }
                Err(PopError::Process {
                    key,
                    error,
                    requeued: true,
                })
            }
        })
    }

    /// Queued keys, from the per-stripe counters (no lock).
    fn queued_len(&self) -> usize {
        self.queued.iter().map(|q| q.0.load(Ordering::SeqCst)).sum()
    }

    /// Waits until at most `max` keys are queued, or the queue is closed.
    async fn wait_for_room(&self, max: usize) {
        self.room_waiters.fetch_add(1, Ordering::SeqCst);
        loop {
            let popped = self.popped.notified();
            tokio::pin!(popped);
            popped.as_mut().enable();
            if self.queued_len() <= max || self.is_closed() {
                break;
            }
            popped.await;
        }
        self.room_waiters.fetch_sub(1, Ordering::SeqCst);
    }

    fn stripe_of(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % STRIPES
    }

    fn lock_stripe(&self, key: &str) -> MutexGuard<'_, Stripe<K>> {
        lock(&self.stripes[self.stripe_of(key)])
    }
}

impl<K: Object> Store<K> for DeltaFifo<K> {
    fn add(&self, object: Arc<K>) -> Result<()> {
        DeltaFifo::add(self, object)
    }

    fn update(&self, object: Arc<K>) -> Result<()> {
        DeltaFifo::update(self, object)
    }

    fn delete(&self, object: Arc<K>) -> Result<()> {
        DeltaFifo::delete(self, object)
    }

    fn replace(&self, objects: Vec<Arc<K>>, resource_version: &str) -> Result<()> {
        DeltaFifo::replace(self, objects, resource_version)
    }

    /// A streaming replace without a bound (nothing is known about the consumer).
    fn begin_replace(&self) -> Box<dyn Replacing<K> + '_> {
        Box::new(DeltaFifo::begin_replace(self, None))
    }

    fn resync(&self) -> Result<()> {
        DeltaFifo::resync(self)
    }

    fn begin_batch(&self) {
        DeltaFifo::begin_batch(self)
    }

    fn end_batch(&self) {
        DeltaFifo::end_batch(self)
    }

    /// The newest object of every queued key (a tombstone's last known state).
    fn list(&self) -> Vec<Arc<K>> {
        let mut out = Vec::new();
        for stripe in self.stripes.iter() {
            let stripe = lock(stripe);
            out.extend(
                stripe
                    .items
                    .values()
                    .filter_map(|d| d.last().and_then(|delta| delta.object.object().cloned())),
            );
        }
        out
    }

    /// The queued keys.
    fn list_keys(&self) -> Vec<Arc<str>> {
        let mut out = Vec::new();
        for stripe in self.stripes.iter() {
            out.extend(lock(stripe).items.keys().cloned());
        }
        out
    }

    fn get(&self, object: &K) -> Result<Option<Arc<K>>> {
        Ok(self.get_by_key(&self.key_of(object)?))
    }

    /// The newest object queued under `key`.
    fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        let stripe = self.lock_stripe(key);
        stripe
            .items
            .get(key)?
            .last()
            .and_then(|delta| delta.object.object().cloned())
    }
}

/// A streaming replace of a [`DeltaFifo`], made by [`DeltaFifo::begin_replace`].
pub struct FifoReplace<'a, K> {
    fifo: &'a DeltaFifo<K>,
    /// The keys listed so far.
    listed: HashSet<Arc<str>>,
    /// True for the first replace: the keys it queues count toward `has_synced`.
    initial: bool,
    max_queued: Option<usize>,
}

impl<K: Object> FifoReplace<'_, K> {
    /// Queues `Replaced` (or `Sync`) for one listed object.
    pub fn push(&mut self, object: Arc<K>) -> Result<()> {
        let fifo = self.fifo;
        let key = fifo.key_of(&object)?;
        let object = fifo.transformed(&key, object)?;
        let mut stripe = fifo.lock_stripe(&key);
        let newly_queued = fifo.queue_locked(
            &mut stripe,
            key.clone(),
            fifo.replace_action(),
            DeltaObject::Object(object),
        );
        // Counted before the stripe is unlocked, so a pop of this key always finds it counted.
        if self.initial && newly_queued {
            fifo.initial_population_count.fetch_add(1, Ordering::SeqCst);
        }
        drop(stripe);
        self.listed.insert(key);
        fifo.wake(newly_queued);
        Ok(())
    }

    /// True when the producer should wait (more than the bound is queued).
    pub fn is_full(&self) -> bool {
        self.max_queued
            .is_some_and(|max| self.fifo.queued_len() > max && !self.fifo.is_closed())
    }

    /// Waits until the queue has room (at once without a bound).
    pub async fn ready(&self) {
        if let Some(max) = self.max_queued {
            self.fifo.wait_for_room(max).await;
        }
    }

    /// Ends the list: queues a `Deleted` tombstone, with its last known state, for every
    /// queued or known key that was not listed, and marks the queue populated.
    pub fn finish(self, _resource_version: &str) -> Result<()> {
        let fifo = self.fifo;
        let stripes: Vec<_> = fifo.stripes.iter().map(lock).collect();
        let tombstones = fifo.missing(&stripes, &self.listed);
        fifo.queue_tombstones(stripes, tombstones, self.initial);
        Ok(())
    }
}

impl<K: Object> Replacing<K> for FifoReplace<'_, K> {
    fn push(&mut self, object: Arc<K>) -> Result<()> {
        FifoReplace::push(self, object)
    }

    fn ready(&mut self) -> Option<BoxFuture<'_, ()>> {
        self.is_full()
            .then(|| Box::pin(FifoReplace::ready(self)) as BoxFuture<'_, ()>)
    }

    fn finish(self: Box<Self>, resource_version: &str) -> Result<()> {
        FifoReplace::finish(*self, resource_version)
    }
}

/// Two trailing deletions collapse into one, keeping the one that is not a tombstone.
fn dedup_deltas<K>(deltas: &mut Vec<Delta<K>>) {
    let n = deltas.len();
    if n < 2 {
        return;
    }
    let (a, b) = (&deltas[n - 2], &deltas[n - 1]);
    if a.kind != DeltaType::Deleted || b.kind != DeltaType::Deleted {
        return;
    }
    if b.object.is_tombstone() {
        deltas.pop();
    } else {
        deltas.remove(n - 2);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
