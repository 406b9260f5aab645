//! Tests of the DeltaFIFO: each of client-go's rules, one by one, then a randomized model test
//! and a multi-producer test.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kinformer_meta::PartialObjectMetadata;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::store::Indexer;
use crate::testing::{pod, version};

type Pod = PartialObjectMetadata;

/// A delta as (kind, resourceVersion, tombstone?) for compact assertions.
type Summary = (DeltaType, String, bool);

/// A popped key and its summarised deltas.
type Popped = (String, Vec<Summary>);

fn summary(deltas: &Deltas<Pod>) -> Vec<Summary> {
    deltas
        .iter()
        .map(|delta| {
            let rv = delta
                .object
                .object()
                .map(|o| version(o).to_owned())
                .unwrap_or_default();
            (delta.kind, rv, delta.object.is_tombstone())
        })
        .collect()
}

/// Pops one key without waiting; panics in the test when the queue is empty.
fn pop(fifo: &DeltaFifo<Pod>) -> Popped {
    let mut out = None;
    fifo.try_pop(|deltas, _| -> Result<(), ProcessError<()>> {
        out = Some((deltas.key().to_string(), summary(deltas)));
        Ok(())
    })
    .expect("queue is empty")
    .unwrap();
    out.unwrap()
}

fn d(kind: DeltaType, rv: &str) -> Summary {
    (kind, rv.to_owned(), false)
}

fn tombstone(rv: &str) -> Summary {
    (DeltaType::Deleted, rv.to_owned(), true)
}

use DeltaType::{Added, Deleted, Replaced, Sync, Updated};

fn fifo_with_known(known: &Arc<Indexer<Pod>>) -> DeltaFifo<Pod> {
    DeltaFifo::new(DeltaFifoConfig::default().known_objects(known.clone()))
}

#[test]
fn deltas_of_a_key_are_popped_together_oldest_first() {
    let fifo = DeltaFifo::default();
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    fifo.add(pod("ns", "b", "1", &[])).unwrap();
    fifo.update(pod("ns", "a", "2", &[])).unwrap();
    fifo.delete(pod("ns", "a", "3", &[])).unwrap();
    assert_eq!(
        pop(&fifo),
        (
            "ns/a".into(),
            vec![d(Added, "1"), d(Updated, "2"), d(Deleted, "3")]
        )
    );
    assert_eq!(pop(&fifo), ("ns/b".into(), vec![d(Added, "1")]));
    assert!(fifo
        .try_pop(|_, _| -> Result<(), ProcessError<()>> { Ok(()) })
        .is_none());
}

#[test]
fn keys_pop_in_first_enqueue_order_across_stripes() {
    let fifo = DeltaFifo::default();
    for i in 0..100 {
        fifo.add(pod("ns", &format!("p{i}"), "1", &[])).unwrap();
    }
    // Later deltas of queued keys do not move them.
    for i in (0..100).rev() {
        fifo.update(pod("ns", &format!("p{i}"), "2", &[])).unwrap();
    }
    for i in 0..100 {
        let (key, deltas) = pop(&fifo);
        assert_eq!(key, format!("ns/p{i}"));
        assert_eq!(deltas, vec![d(Added, "1"), d(Updated, "2")]);
    }
}

#[test]
fn two_trailing_deletions_collapse_into_one() {
    let fifo = DeltaFifo::default();
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    fifo.delete(pod("ns", "a", "2", &[])).unwrap();
    fifo.delete(pod("ns", "a", "3", &[])).unwrap();
    // The later of two real deletions is kept.
    assert_eq!(pop(&fifo).1, vec![d(Added, "1"), d(Deleted, "3")]);
}

#[test]
fn a_tombstone_after_a_deletion_is_dropped_in_favour_of_the_deletion() {
    let fifo = DeltaFifo::default();
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    fifo.delete(pod("ns", "a", "2", &[])).unwrap();
    // A relist without a: the tombstone would be a second trailing deletion.
    fifo.replace(vec![], "9").unwrap();
    assert_eq!(pop(&fifo).1, vec![d(Added, "1"), d(Deleted, "2")]);
}

#[test]
fn deleting_a_key_neither_queued_nor_known_is_ignored() {
    let fifo = DeltaFifo::default();
    fifo.delete(pod("ns", "a", "1", &[])).unwrap();
    assert!(fifo.is_empty());

    let known = Arc::new(Indexer::default());
    known.add(pod("ns", "k", "1", &[])).unwrap();
    let fifo = fifo_with_known(&known);
    fifo.delete(pod("ns", "unknown", "1", &[])).unwrap();
    assert!(fifo.is_empty());
    fifo.delete(pod("ns", "k", "2", &[])).unwrap();
    assert_eq!(pop(&fifo), ("ns/k".into(), vec![d(Deleted, "2")]));
}

#[test]
fn replace_queues_replaced_and_tombstones_for_missing_queued_and_known_keys() {
    let known = Arc::new(Indexer::default());
    known.add(pod("ns", "gone-known", "4", &[])).unwrap();
    known.add(pod("ns", "kept", "4", &[])).unwrap();
    let fifo = fifo_with_known(&known);
    fifo.add(pod("ns", "gone-queued", "5", &[])).unwrap();
    fifo.update(pod("ns", "gone-queued", "6", &[])).unwrap();
    fifo.replace(
        vec![pod("ns", "kept", "7", &[]), pod("ns", "new", "7", &[])],
        "7",
    )
    .unwrap();

    let mut popped = BTreeMap::new();
    while let Some(result) = fifo.try_pop(|deltas, _| -> Result<(), ProcessError<()>> {
        popped.insert(deltas.key().to_string(), summary(deltas));
        Ok(())
    }) {
        result.unwrap();
    }
    assert_eq!(popped["ns/kept"], vec![d(Replaced, "7")]);
    assert_eq!(popped["ns/new"], vec![d(Replaced, "7")]);
    // The tombstone of a queued key carries its newest queued state.
    assert_eq!(
        popped["ns/gone-queued"],
        vec![d(Added, "5"), d(Updated, "6"), tombstone("6")]
    );
    // The tombstone of a known key carries the cache's state.
    assert_eq!(popped["ns/gone-known"], vec![tombstone("4")]);
    assert_eq!(popped.len(), 4);
}

#[test]
fn replace_tombstone_carries_the_key_of_the_vanished_object() {
    let known = Arc::new(Indexer::default());
    known.add(pod("ns", "gone", "4", &[])).unwrap();
    let fifo = fifo_with_known(&known);
    fifo.replace(vec![], "7").unwrap();
    fifo.try_pop(|deltas, _| -> Result<(), ProcessError<()>> {
        match &deltas.as_slice()[0].object {
            DeltaObject::DeletedFinalStateUnknown(tombstone) => {
                assert_eq!(&*tombstone.key, "ns/gone");
                assert_eq!(version(tombstone.object.as_ref().unwrap()), "4");
            }
            other => panic!("{other:?}"),
        }
        Ok(())
    })
    .unwrap()
    .unwrap();
}

#[test]
fn replace_can_emit_sync_instead_of_replaced() {
    let fifo = DeltaFifo::new(DeltaFifoConfig::default().emit_delta_type_replaced(false));
    fifo.replace(vec![pod("ns", "a", "1", &[])], "1").unwrap();
    assert_eq!(pop(&fifo).1, vec![d(Sync, "1")]);
}

/// Pops everything, applying it to `known`; returns the popped keys and deltas in order.
fn drain(fifo: &DeltaFifo<Pod>, known: &Indexer<Pod>) -> Vec<Popped> {
    let mut popped = Vec::new();
    while let Some(result) = fifo.try_pop(|deltas, _| -> Result<(), ProcessError<()>> {
        apply(known, deltas);
        popped.push((deltas.key().to_string(), summary(deltas)));
        Ok(())
    }) {
        result.unwrap();
    }
    popped
}

fn cache_of(known: &Indexer<Pod>) -> BTreeMap<String, String> {
    known
        .list()
        .iter()
        .map(|o| (format!("ns/{}", o.metadata.name()), version(o).to_owned()))
        .collect()
}

#[test]
fn a_streaming_replace_queues_what_replace_queues_when_nothing_pops_meanwhile() {
    let setup = || {
        let known = Arc::new(Indexer::default());
        known.add(pod("ns", "gone-known", "4", &[])).unwrap();
        known.add(pod("ns", "kept", "4", &[])).unwrap();
        let fifo = fifo_with_known(&known);
        fifo.add(pod("ns", "gone-queued", "5", &[])).unwrap();
        (known, fifo)
    };
    let listed = || vec![pod("ns", "kept", "7", &[]), pod("ns", "new", "7", &[])];
    let (whole_known, whole) = setup();
    whole.replace(listed(), "7").unwrap();
    let (streamed_known, streamed) = setup();
    let mut replacing = streamed.begin_replace(None);
    for object in listed() {
        replacing.push(object).unwrap();
    }
    replacing.finish("7").unwrap();
    assert_eq!(
        drain(&streamed, &streamed_known),
        drain(&whole, &whole_known)
    );
    assert_eq!(cache_of(&streamed_known), cache_of(&whole_known));
}

#[test]
fn a_streaming_replace_applied_while_listing_deletes_exactly_the_unlisted_keys() {
    let known = Arc::new(Indexer::default());
    for name in ["a", "b", "c", "d"] {
        known.add(pod("ns", name, "1", &[])).unwrap();
    }
    let fifo = fifo_with_known(&known);
    let mut replacing = fifo.begin_replace(None);
    replacing.push(pod("ns", "a", "2", &[])).unwrap();
    // The consumer applies each listed object while the list goes on.
    assert_eq!(
        drain(&fifo, &known),
        [("ns/a".into(), vec![d(Replaced, "2")])]
    );
    replacing.push(pod("ns", "c", "2", &[])).unwrap();
    replacing.push(pod("ns", "e", "2", &[])).unwrap();
    assert_eq!(drain(&fifo, &known).len(), 2);
    replacing.finish("2").unwrap();
    // b and d were never listed: one tombstone each, with the cache's state; nothing else.
    assert_eq!(
        drain(&fifo, &known),
        [
            ("ns/b".into(), vec![tombstone("1")]),
            ("ns/d".into(), vec![tombstone("1")])
        ]
    );
    let expected: BTreeMap<String, String> = [("ns/a", "2"), ("ns/c", "2"), ("ns/e", "2")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(cache_of(&known), expected);
}

#[test]
fn an_unfinished_streaming_replace_deletes_nothing_and_the_next_one_converges() {
    let known = Arc::new(Indexer::default());
    for name in ["a", "b", "c"] {
        known.add(pod("ns", name, "1", &[])).unwrap();
    }
    let fifo = fifo_with_known(&known);
    // The list fails after its first object.
    let mut failed = fifo.begin_replace(None);
    failed.push(pod("ns", "a", "2", &[])).unwrap();
    drop(failed);
    assert_eq!(
        drain(&fifo, &known),
        [("ns/a".into(), vec![d(Replaced, "2")])]
    );
    assert_eq!(known.len(), 3, "an unfinished list deletes nothing");
    // The next list succeeds: only c is gone on the server.
    let mut replacing = fifo.begin_replace(None);
    replacing.push(pod("ns", "a", "3", &[])).unwrap();
    replacing.push(pod("ns", "b", "3", &[])).unwrap();
    replacing.finish("3").unwrap();
    let popped = drain(&fifo, &known);
    assert_eq!(
        popped.last().unwrap(),
        &("ns/c".into(), vec![tombstone("1")])
    );
    assert_eq!(popped.iter().filter(|(_, d)| d[0].2).count(), 1);
    assert_eq!(
        cache_of(&known).into_iter().collect::<Vec<_>>(),
        [("ns/a".into(), "3".into()), ("ns/b".into(), "3".into())]
    );
}

#[test]
fn has_synced_waits_until_a_streamed_first_list_has_finished_and_drained() {
    let known = Arc::new(Indexer::default());
    let fifo = fifo_with_known(&known);
    let mut flags = Vec::new();
    let pop_flag = |fifo: &DeltaFifo<Pod>, flags: &mut Vec<bool>| {
        fifo.try_pop(|_, initial| -> Result<(), ProcessError<()>> {
            flags.push(initial);
            Ok(())
        })
        .unwrap()
        .unwrap();
    };
    // A first attempt fails half-way: popped items count as initial, nothing is synced.
    let mut failed = fifo.begin_replace(None);
    failed.push(pod("ns", "a", "1", &[])).unwrap();
    failed.push(pod("ns", "b", "1", &[])).unwrap();
    drop(failed);
    pop_flag(&fifo, &mut flags);
    assert!(!fifo.has_synced());
    // The second attempt re-lists b while it is still queued from the first.
    let mut replacing = fifo.begin_replace(None);
    replacing.push(pod("ns", "b", "2", &[])).unwrap();
    pop_flag(&fifo, &mut flags);
    replacing.push(pod("ns", "c", "2", &[])).unwrap();
    pop_flag(&fifo, &mut flags);
    // Everything listed so far was popped, but the list has not ended.
    assert!(fifo.is_empty());
    assert!(!fifo.has_synced());
    replacing.push(pod("ns", "d", "2", &[])).unwrap();
    replacing.finish("2").unwrap();
    assert!(!fifo.has_synced());
    pop_flag(&fifo, &mut flags);
    assert!(fifo.has_synced());
    assert_eq!(flags, [true, true, true, true]);
    // A later streamed replace leaves it synced, and its items are not initial.
    let mut later = fifo.begin_replace(None);
    later.push(pod("ns", "e", "3", &[])).unwrap();
    assert!(fifo.has_synced());
    pop_flag(&fifo, &mut flags);
    later.finish("3").unwrap();
    assert_eq!(flags.last(), Some(&false));
}

#[test]
fn an_empty_streamed_first_list_is_synced_at_once() {
    let fifo: DeltaFifo<Pod> = DeltaFifo::default();
    fifo.begin_replace(None).finish("1").unwrap();
    assert!(fifo.has_synced());
}

#[tokio::test]
async fn a_bounded_streaming_replace_waits_for_the_consumer() {
    let fifo: DeltaFifo<Pod> = DeltaFifo::default();
    let mut replacing = fifo.begin_replace(Some(2));
    for name in ["a", "b"] {
        replacing.push(pod("ns", name, "1", &[])).unwrap();
    }
    assert!(!replacing.is_full());
    replacing.push(pod("ns", "c", "1", &[])).unwrap();
    assert!(replacing.is_full());
    {
        let mut room = Replacing::ready(&mut replacing).expect("full: must wait");
        assert!(futures::poll!(room.as_mut()).is_pending());
        pop(&fifo);
        room.await;
    }
    assert!(!replacing.is_full());
    // Closing the queue releases a waiting producer too.
    replacing.push(pod("ns", "d", "1", &[])).unwrap();
    let room = Replacing::ready(&mut replacing).expect("full again");
    fifo.close();
    room.await;
}

#[test]
fn resync_queues_sync_for_known_keys_without_pending_deltas() {
    let known = Arc::new(Indexer::default());
    known.add(pod("ns", "idle", "1", &[])).unwrap();
    known.add(pod("ns", "busy", "1", &[])).unwrap();
    let fifo = fifo_with_known(&known);
    fifo.update(pod("ns", "busy", "2", &[])).unwrap();
    fifo.resync().unwrap();
    let mut popped = BTreeMap::new();
    for _ in 0..2 {
        let (key, deltas) = pop(&fifo);
        popped.insert(key, deltas);
    }
    assert_eq!(popped["ns/busy"], vec![d(Updated, "2")]);
    assert_eq!(popped["ns/idle"], vec![d(Sync, "1")]);
    assert!(fifo.is_empty());
}

#[test]
fn resync_without_known_objects_does_nothing() {
    let fifo: DeltaFifo<Pod> = DeltaFifo::default();
    fifo.resync().unwrap();
    assert!(fifo.is_empty());
}

#[test]
fn has_synced_turns_true_once_the_first_replace_is_popped() {
    let known = Arc::new(Indexer::default());
    known.add(pod("ns", "gone", "1", &[])).unwrap();
    let fifo = fifo_with_known(&known);
    assert!(!fifo.has_synced());
    fifo.replace(
        vec![pod("ns", "a", "2", &[]), pod("ns", "b", "2", &[])],
        "2",
    )
    .unwrap();
    // Two listed keys and one tombstone make three pops.
    let mut initial_flags = Vec::new();
    for _ in 0..3 {
        assert!(!fifo.has_synced());
        fifo.try_pop(|_, initial| -> Result<(), ProcessError<()>> {
            initial_flags.push(initial);
            Ok(())
        })
        .unwrap()
        .unwrap();
    }
    assert!(fifo.has_synced());
    assert_eq!(initial_flags, [true, true, true]);
    // A second replace does not reset it.
    fifo.replace(vec![pod("ns", "c", "3", &[])], "3").unwrap();
    assert!(fifo.has_synced());
}

#[test]
fn has_synced_is_true_at_once_when_something_was_added_before_the_first_replace() {
    let fifo = DeltaFifo::default();
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    fifo.replace(vec![pod("ns", "a", "2", &[])], "2").unwrap();
    assert!(fifo.has_synced());
}

#[test]
fn transform_runs_once_at_enqueue_and_never_on_tombstones_or_syncs() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let transform: TransformFunc<Pod> = Arc::new(move |object: Arc<Pod>| {
        counter.fetch_add(1, Ordering::SeqCst);
        let mut object = Arc::unwrap_or_clone(object);
        object.metadata.annotations.insert("transformed", "yes");
        Ok(Arc::new(object))
    });
    let known = Arc::new(Indexer::default());
    known.add(pod("ns", "known", "1", &[])).unwrap();
    known.add(pod("ns", "gone", "1", &[])).unwrap();
    let fifo = DeltaFifo::new(
        DeltaFifoConfig::default()
            .known_objects(known.clone())
            .transform(transform),
    );
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    fifo.update(pod("ns", "a", "2", &[])).unwrap();
    fifo.delete(pod("ns", "a", "3", &[])).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    fifo.replace(vec![pod("ns", "known", "4", &[])], "4")
        .unwrap();
    // One listed object; the tombstone of "gone" is not transformed.
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    while let Some(result) = fifo.try_pop(|_, _| -> Result<(), ProcessError<()>> { Ok(()) }) {
        result.unwrap();
    }
    fifo.resync().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let synced = fifo.get_deltas("ns/known").unwrap();
    assert_eq!(synced.as_slice()[0].kind, Sync);
    let a = pop(&fifo);
    assert_eq!(a.0, "ns/gone");
}

#[test]
fn a_failing_transform_is_reported_and_queues_nothing() {
    let transform: TransformFunc<Pod> = Arc::new(|_| Err(TransformError::new("no")));
    let fifo = DeltaFifo::new(DeltaFifoConfig::default().transform(transform));
    assert!(matches!(
        fifo.add(pod("ns", "a", "1", &[])),
        Err(Error::TransformFailed { key, .. }) if key == "ns/a"
    ));
    assert!(fifo.is_empty());
}

#[test]
fn close_lets_pop_drain_then_reports_closed() {
    let fifo = DeltaFifo::default();
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    fifo.close();
    assert!(fifo.is_closed());
    let first = fifo.pop_blocking(|deltas, _| -> Result<(), ProcessError<()>> {
        assert_eq!(&**deltas.key(), "ns/a");
        Ok(())
    });
    assert_eq!(first, Ok(()));
    let second = fifo.pop_blocking(|_, _| -> Result<(), ProcessError<()>> { Ok(()) });
    assert_eq!(second, Err(PopError::Closed));
}

#[test]
fn a_failed_process_is_reported_and_the_deltas_are_dropped() {
    let fifo = DeltaFifo::default();
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    let result = fifo
        .try_pop(|_, _| Err(ProcessError::Failed("boom")))
        .unwrap();
    assert_eq!(
        result,
        Err(PopError::Process {
            key: Arc::from("ns/a"),
            error: "boom",
            requeued: false
        })
    );
    assert!(fifo.is_empty());
}

#[test]
fn a_requeued_process_puts_the_deltas_back_at_the_end() {
    let fifo = DeltaFifo::default();
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    fifo.add(pod("ns", "b", "1", &[])).unwrap();
    let result = fifo
        .try_pop(|_, _| Err(ProcessError::Requeue("later")))
        .unwrap();
    assert!(matches!(
        result,
        Err(PopError::Process { requeued: true, .. })
    ));
    assert_eq!(pop(&fifo).0, "ns/b");
    assert_eq!(pop(&fifo), ("ns/a".into(), vec![d(Added, "1")]));
}

#[test]
fn list_and_get_show_the_newest_queued_object() {
    let fifo = DeltaFifo::default();
    fifo.add(pod("ns", "a", "1", &[])).unwrap();
    fifo.update(pod("ns", "a", "2", &[])).unwrap();
    assert_eq!(version(&Store::get_by_key(&fifo, "ns/a").unwrap()), "2");
    assert_eq!(Store::list(&fifo).len(), 1);
    assert_eq!(Store::list_keys(&fifo), vec![Arc::<str>::from("ns/a")]);
}

#[tokio::test]
async fn pop_waits_for_a_producer() {
    let fifo = Arc::new(DeltaFifo::default());
    let consumer = {
        let fifo = fifo.clone();
        tokio::spawn(async move {
            let mut key = String::new();
            fifo.pop(|deltas, _| -> Result<(), ProcessError<()>> {
                key = deltas.key().to_string();
                Ok(())
            })
            .await
            .unwrap();
            key
        })
    };
    tokio::task::yield_now().await;
    fifo.add(pod("ns", "late", "1", &[])).unwrap();
    assert_eq!(consumer.await.unwrap(), "ns/late");
}

#[tokio::test]
async fn close_wakes_a_waiting_pop() {
    let fifo: Arc<DeltaFifo<Pod>> = Arc::new(DeltaFifo::default());
    let consumer = {
        let fifo = fifo.clone();
        tokio::spawn(async move {
            fifo.pop(|_, _| -> Result<(), ProcessError<()>> { Ok(()) })
                .await
        })
    };
    tokio::task::yield_now().await;
    fifo.close();
    assert_eq!(consumer.await.unwrap(), Err(PopError::Closed));
}

/// Applies popped deltas to an indexer the way an informer does.
fn apply(indexer: &Indexer<Pod>, deltas: &Deltas<Pod>) {
    for delta in deltas {
        match (&delta.kind, &delta.object) {
            (DeltaType::Deleted, object) => {
                indexer.thread_safe_store().delete(deltas.key());
                let _ = object;
            }
            (_, DeltaObject::Object(object)) => indexer.update(object.clone()).unwrap(),
            (_, DeltaObject::DeletedFinalStateUnknown(_)) => {}
        }
    }
}

/// The reference model: client-go's DeltaFIFO written as plainly as possible.
#[derive(Default)]
struct Model {
    queue: Vec<String>,
    items: HashMap<String, Vec<Summary>>,
    known: BTreeMap<String, String>,
}

impl Model {
    fn queue(&mut self, key: &str, delta: Summary) {
        match self.items.get_mut(key) {
            Some(deltas) => {
                deltas.push(delta);
                let n = deltas.len();
                if deltas[n - 2].0 == Deleted && deltas[n - 1].0 == Deleted {
                    if deltas[n - 1].2 {
                        deltas.pop();
                    } else {
                        deltas.remove(n - 2);
                    }
                }
            }
            None => {
                self.queue.push(key.to_owned());
                self.items.insert(key.to_owned(), vec![delta]);
            }
        }
    }

    fn delete(&mut self, key: &str, rv: &str) {
        if self.items.contains_key(key) || self.known.contains_key(key) {
            self.queue(key, d(Deleted, rv));
        }
    }

    fn replace(&mut self, listed: &[(String, String)]) {
        for (key, rv) in listed {
            self.queue(key, d(Replaced, rv));
        }
        self.finish_replace(listed);
    }

    /// The tombstones a replace of `listed` ends with.
    fn finish_replace(&mut self, listed: &[(String, String)]) {
        let listed_keys: Vec<&String> = listed.iter().map(|(k, _)| k).collect();
        let queued: Vec<String> = self.queue.clone();
        for key in queued {
            if listed_keys.contains(&&key) {
                continue;
            }
            let last = self.items[&key].last().unwrap().1.clone();
            self.queue(&key, tombstone(&last));
        }
        let known: Vec<(String, String)> = self
            .known
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, rv) in known {
            if listed_keys.contains(&&key) || self.items.contains_key(&key) {
                continue;
            }
            self.queue(&key, tombstone(&rv));
        }
    }

    fn resync(&mut self) {
        let known: Vec<(String, String)> = self
            .known
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, rv) in known {
            if !self.items.contains_key(&key) {
                self.queue(&key, d(Sync, &rv));
            }
        }
    }

    fn pop(&mut self) -> Option<Popped> {
        if self.queue.is_empty() {
            return None;
        }
        let key = self.queue.remove(0);
        let deltas = self.items.remove(&key).unwrap();
        for (kind, rv, _) in &deltas {
            if *kind == Deleted {
                self.known.remove(&key);
            } else {
                self.known.insert(key.clone(), rv.clone());
            }
        }
        Some((key, deltas))
    }
}

#[test]
fn random_operations_match_the_reference_model() {
    for seed in 0..40u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let known = Arc::new(Indexer::default());
        let fifo = fifo_with_known(&known);
        let mut model = Model::default();
        for step in 0..400 {
            let rv = step.to_string();
            let name = format!("p{}", rng.gen_range(0..12));
            let key = format!("ns/{name}");
            match rng.gen_range(0..100) {
                0..=24 => {
                    fifo.add(pod("ns", &name, &rv, &[])).unwrap();
                    model.queue(&key, d(Added, &rv));
                }
                25..=44 => {
                    fifo.update(pod("ns", &name, &rv, &[])).unwrap();
                    model.queue(&key, d(Updated, &rv));
                }
                45..=59 => {
                    fifo.delete(pod("ns", &name, &rv, &[])).unwrap();
                    model.delete(&key, &rv);
                }
                60..=64 => {
                    let mut listed: Vec<(String, String)> = Vec::new();
                    for i in 0..12 {
                        if rng.gen_bool(0.5) {
                            listed.push((format!("ns/p{i}"), rv.clone()));
                        }
                    }
                    let objects = listed
                        .iter()
                        .map(|(k, rv)| pod("ns", &k[3..], rv, &[]))
                        .collect();
                    fifo.replace(objects, &rv).unwrap();
                    model.replace(&listed);
                }
                65..=69 => {
                    fifo.resync().unwrap();
                    model.resync();
                }
                70..=74 => {
                    // A streamed list, with pops between its objects; one in four fails
                    // half-way (no tombstones).
                    let fails = rng.gen_bool(0.25);
                    let mut listed: Vec<(String, String)> = Vec::new();
                    let mut replacing = fifo.begin_replace(None);
                    for i in 0..12 {
                        if !rng.gen_bool(0.5) {
                            continue;
                        }
                        if fails && rng.gen_bool(0.3) {
                            break;
                        }
                        let key = format!("ns/p{i}");
                        replacing.push(pod("ns", &key[3..], &rv, &[])).unwrap();
                        model.queue(&key, d(Replaced, &rv));
                        listed.push((key, rv.clone()));
                        if rng.gen_bool(0.4) {
                            let mut got = None;
                            if let Some(result) =
                                fifo.try_pop(|deltas, _| -> Result<(), ProcessError<()>> {
                                    apply(&known, deltas);
                                    got = Some((deltas.key().to_string(), summary(deltas)));
                                    Ok(())
                                })
                            {
                                result.unwrap();
                            }
                            assert_eq!(got, model.pop(), "seed {seed} step {step} mid-list");
                        }
                    }
                    if fails {
                        drop(replacing);
                    } else {
                        replacing.finish(&rv).unwrap();
                        model.finish_replace(&listed);
                    }
                }
                _ => {
                    let mut got = None;
                    let popped = fifo.try_pop(|deltas, _| -> Result<(), ProcessError<()>> {
                        apply(&known, deltas);
                        got = Some((deltas.key().to_string(), summary(deltas)));
                        Ok(())
                    });
                    if let Some(result) = popped {
                        result.unwrap();
                    }
                    assert_eq!(got, model.pop(), "seed {seed} step {step}");
                }
            }
        }
        // Drain both and compare the final caches.
        loop {
            let mut got = None;
            if let Some(result) = fifo.try_pop(|deltas, _| -> Result<(), ProcessError<()>> {
                apply(&known, deltas);
                got = Some((deltas.key().to_string(), summary(deltas)));
                Ok(())
            }) {
                result.unwrap();
            }
            let expected = model.pop();
            assert_eq!(got, expected, "seed {seed} while draining");
            if expected.is_none() {
                break;
            }
        }
        let cache: BTreeMap<String, String> = known
            .list()
            .iter()
            .map(|o| (format!("ns/{}", o.metadata.name()), version(o).to_owned()))
            .collect();
        assert_eq!(cache, model.known, "seed {seed}: final cache");
    }
}

#[test]
fn concurrent_producers_lose_nothing_and_keep_each_keys_order() {
    let fifo = Arc::new(DeltaFifo::<Pod>::default());
    let producers: Vec<_> = (0..4)
        .map(|thread| {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                for i in 0..5_000 {
                    let name = format!("t{thread}-{}", i % 50);
                    fifo.update(pod("ns", &name, &i.to_string(), &[])).unwrap();
                }
            })
        })
        .collect();
    let mut last_seen: HashMap<String, i64> = HashMap::new();
    let mut total = 0;
    let mut finished = false;
    while !finished || !fifo.is_empty() {
        finished = producers.iter().all(|p| p.is_finished());
        while let Some(result) = fifo.try_pop(|deltas, _| -> Result<(), ProcessError<()>> {
            for delta in deltas {
                let rv: i64 = version(delta.object.object().unwrap()).parse().unwrap();
                let last = last_seen.entry(deltas.key().to_string()).or_insert(-1);
                assert!(rv > *last, "{} went back from {last} to {rv}", deltas.key());
                *last = rv;
                total += 1;
            }
            Ok(())
        }) {
            result.unwrap();
        }
    }
    for producer in producers {
        producer.join().unwrap();
    }
    assert_eq!(total, 20_000);
    assert_eq!(last_seen.len(), 200);
}

#[tokio::test]
async fn a_batch_holds_the_consumer_wake_up_until_it_ends() {
    let fifo: DeltaFifo<Pod> = DeltaFifo::default();
    let mut popped = Vec::new();
    {
        let waiting = fifo.pop(|deltas, _| -> Result<(), ProcessError<()>> {
            popped.push(deltas.key().to_string());
            Ok(())
        });
        tokio::pin!(waiting);
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        fifo.begin_batch();
        fifo.add(pod("ns", "a", "1", &[])).unwrap();
        fifo.add(pod("ns", "b", "1", &[])).unwrap();
        // Queued, but the waiting consumer has not been told yet.
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        assert_eq!(fifo.len(), 2);
        fifo.end_batch();
        waiting.await.unwrap();
    }
    assert_eq!(popped, ["ns/a"]);
    // Outside a batch every newly queued key wakes the consumer at once, as before.
    let next = fifo.pop(|_, _| -> Result<(), ProcessError<()>> { Ok(()) });
    tokio::pin!(next);
    assert!(futures::poll!(next.as_mut()).is_ready());
    let waiting = fifo.pop(|_, _| -> Result<(), ProcessError<()>> { Ok(()) });
    tokio::pin!(waiting);
    assert!(futures::poll!(waiting.as_mut()).is_pending());
    fifo.add(pod("ns", "c", "1", &[])).unwrap();
    assert!(futures::poll!(waiting.as_mut()).is_ready());
}
