//! Tests of the thread-safe store: every operation, index maintenance, failures, and the
//! index invariant under concurrent writers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kinformer_meta::PartialObjectMetadata;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::index::{index_func, namespace_indexers, IndexError, NAMESPACE_INDEX};
use crate::testing::{pod, version};

type Pod = PartialObjectMetadata;

/// Namespace index, an `app` label index, and a multi-valued index of every `k=v` label.
fn indexers() -> Indexers<Pod> {
    let mut indexers = namespace_indexers::<Pod>();
    indexers.insert(
        "app".into(),
        index_func(|pod: &Pod| {
            Ok(pod
                .metadata
                .labels
                .get("app")
                .map(|app| vec![app.to_owned()])
                .unwrap_or_default())
        }),
    );
    indexers.insert(
        "labels".into(),
        index_func(|pod: &Pod| {
            if pod.metadata.labels.contains_key("bad") {
                return Err(IndexError::new("label bad is not allowed"));
            }
            Ok(pod
                .metadata
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect())
        }),
    );
    indexers
}

fn key(namespace: &str, name: &str) -> Arc<str> {
    Arc::from(format!("{namespace}/{name}"))
}

fn names(objects: &[Arc<Pod>]) -> Vec<String> {
    let mut names: Vec<String> = objects
        .iter()
        .map(|o| o.metadata.name().to_owned())
        .collect();
    names.sort();
    names
}

fn sorted(keys: Vec<Arc<str>>) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    keys.sort();
    keys
}

#[test]
fn add_get_update_delete_round_trip() {
    let store = ThreadSafeStore::new(indexers());
    store.add(key("ns", "a"), pod("ns", "a", "1", &[])).unwrap();
    assert_eq!(version(&store.get("ns/a").unwrap()), "1");
    store
        .update(key("ns", "a"), pod("ns", "a", "2", &[]))
        .unwrap();
    assert_eq!(version(&store.get("ns/a").unwrap()), "2");
    assert_eq!(store.len(), 1);
    let removed = store.delete("ns/a").unwrap();
    assert_eq!(version(&removed), "2");
    assert!(store.get("ns/a").is_none());
    assert!(store.delete("ns/a").is_none());
    assert!(store.is_empty());
}

#[test]
fn list_and_list_keys_return_everything() {
    let store = ThreadSafeStore::new(indexers());
    for name in ["a", "b", "c"] {
        store
            .add(key("ns", name), pod("ns", name, "1", &[]))
            .unwrap();
    }
    assert_eq!(names(&store.list()), ["a", "b", "c"]);
    assert_eq!(sorted(store.list_keys()), ["ns/a", "ns/b", "ns/c"]);
}

#[test]
fn namespace_and_label_indices_follow_adds_updates_and_deletes() {
    let store = ThreadSafeStore::new(indexers());
    store
        .add(key("ns1", "a"), pod("ns1", "a", "1", &[("app", "web")]))
        .unwrap();
    store
        .add(key("ns1", "b"), pod("ns1", "b", "1", &[("app", "db")]))
        .unwrap();
    store
        .add(key("ns2", "c"), pod("ns2", "c", "1", &[("app", "web")]))
        .unwrap();
    assert_eq!(
        names(&store.by_index(NAMESPACE_INDEX, "ns1").unwrap()),
        ["a", "b"]
    );
    assert_eq!(names(&store.by_index("app", "web").unwrap()), ["a", "c"]);

    // a moves from web to db: it must leave the web value at once.
    store
        .update(key("ns1", "a"), pod("ns1", "a", "2", &[("app", "db")]))
        .unwrap();
    assert_eq!(names(&store.by_index("app", "web").unwrap()), ["c"]);
    assert_eq!(names(&store.by_index("app", "db").unwrap()), ["a", "b"]);

    store.delete("ns2/c");
    assert!(store.by_index("app", "web").unwrap().is_empty());
    assert!(store.by_index(NAMESPACE_INDEX, "ns2").unwrap().is_empty());
    let mut values = sorted(store.list_index_func_values("app").unwrap());
    values.dedup();
    assert_eq!(values, ["db"]);
    store.check_indices().unwrap();
}

#[test]
fn multi_valued_index_finds_an_object_under_each_value() {
    let store = ThreadSafeStore::new(indexers());
    let a = pod("ns", "a", "1", &[("app", "web"), ("tier", "front")]);
    store.add(key("ns", "a"), a.clone()).unwrap();
    store
        .add(key("ns", "b"), pod("ns", "b", "1", &[("tier", "front")]))
        .unwrap();
    assert_eq!(names(&store.by_index("labels", "app=web").unwrap()), ["a"]);
    assert_eq!(
        names(&store.by_index("labels", "tier=front").unwrap()),
        ["a", "b"]
    );
    assert_eq!(names(&store.index("labels", &a).unwrap()), ["a", "b"]);
    assert_eq!(
        sorted(store.index_keys("labels", "tier=front").unwrap()),
        ["ns/a", "ns/b"]
    );
    assert_eq!(
        sorted(store.list_index_func_values("labels").unwrap()),
        ["app=web", "tier=front"]
    );
}

#[test]
fn unknown_index_name_is_an_error() {
    let store = ThreadSafeStore::new(indexers());
    assert!(matches!(
        store.by_index("nope", "x"),
        Err(Error::IndexNotFound { name }) if name == "nope"
    ));
    assert!(store.index_keys("nope", "x").is_err());
    assert!(store.list_index_func_values("nope").is_err());
}

#[test]
fn failing_index_function_returns_an_error_and_changes_nothing() {
    let store = ThreadSafeStore::new(indexers());
    store
        .add(key("ns", "a"), pod("ns", "a", "1", &[("app", "web")]))
        .unwrap();
    let error = store
        .update(key("ns", "a"), pod("ns", "a", "2", &[("bad", "x")]))
        .unwrap_err();
    match error {
        Error::IndexFailed { index, key, source } => {
            assert_eq!(index, "labels");
            assert_eq!(key, "ns/a");
            assert_eq!(source.message(), "label bad is not allowed");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(version(&store.get("ns/a").unwrap()), "1");
    assert_eq!(names(&store.by_index("app", "web").unwrap()), ["a"]);
    store.check_indices().unwrap();
}

#[test]
fn add_indexers_indexes_existing_objects_and_rejects_name_collisions() {
    let store = ThreadSafeStore::new(namespace_indexers());
    store
        .add(key("ns", "a"), pod("ns", "a", "1", &[("app", "web")]))
        .unwrap();
    let all = indexers();
    let app = Indexers::from([("app".to_owned(), all["app"].clone())]);
    store.add_indexers(app.clone()).unwrap();
    assert_eq!(names(&store.by_index("app", "web").unwrap()), ["a"]);
    assert!(matches!(
        store.add_indexers(app),
        Err(Error::IndexerExists { name }) if name == "app"
    ));
    assert_eq!(
        store.get_indexers().keys().collect::<Vec<_>>(),
        ["app", NAMESPACE_INDEX]
    );
    store.check_indices().unwrap();
}

#[test]
fn add_indexers_that_fail_on_a_held_object_change_nothing() {
    let store = ThreadSafeStore::new(namespace_indexers());
    store
        .add(key("ns", "a"), pod("ns", "a", "1", &[("bad", "1")]))
        .unwrap();
    let labels = Indexers::from([("labels".to_owned(), indexers()["labels"].clone())]);
    assert!(matches!(
        store.add_indexers(labels),
        Err(Error::IndexFailed { .. })
    ));
    assert!(!store.get_indexers().contains_key("labels"));
    assert_eq!(store.len(), 1);
}

#[test]
fn replace_swaps_the_content_and_records_the_resource_version() {
    let store = ThreadSafeStore::new(indexers());
    store
        .add(key("ns", "old"), pod("ns", "old", "1", &[("app", "web")]))
        .unwrap();
    store
        .replace(
            vec![
                (key("ns", "a"), pod("ns", "a", "5", &[("app", "web")])),
                (key("ns", "b"), pod("ns", "b", "5", &[])),
            ],
            "5",
        )
        .unwrap();
    assert_eq!(names(&store.list()), ["a", "b"]);
    assert_eq!(names(&store.by_index("app", "web").unwrap()), ["a"]);
    assert_eq!(store.last_sync_resource_version(), "5");
    store.check_indices().unwrap();
}

#[test]
fn replace_with_a_failing_index_function_leaves_the_store_unchanged() {
    let store = ThreadSafeStore::new(indexers());
    store
        .add(key("ns", "old"), pod("ns", "old", "1", &[]))
        .unwrap();
    let result = store.replace(
        vec![(key("ns", "a"), pod("ns", "a", "5", &[("bad", "1")]))],
        "5",
    );
    assert!(matches!(result, Err(Error::IndexFailed { .. })));
    assert_eq!(names(&store.list()), ["old"]);
    assert_eq!(store.last_sync_resource_version(), "");
}

#[test]
fn replace_with_duplicate_keys_keeps_the_last_object_and_consistent_indices() {
    let store = ThreadSafeStore::new(indexers());
    store
        .replace(
            vec![
                (key("ns", "a"), pod("ns", "a", "1", &[("app", "web")])),
                (key("ns", "a"), pod("ns", "a", "2", &[("app", "db")])),
            ],
            "2",
        )
        .unwrap();
    assert_eq!(version(&store.get("ns/a").unwrap()), "2");
    assert!(store.by_index("app", "web").unwrap().is_empty());
    store.check_indices().unwrap();
}

#[test]
fn keys_are_shared_between_items_and_indices() {
    let store = ThreadSafeStore::new(indexers());
    store
        .add(key("ns", "a"), pod("ns", "a", "1", &[("app", "web")]))
        .unwrap();
    // An update with a fresh key allocation keeps the stored one.
    store
        .update(key("ns", "a"), pod("ns", "a", "2", &[("app", "db")]))
        .unwrap();
    let stored = store.list_keys().pop().unwrap();
    let indexed = store.index_keys("app", "db").unwrap().pop().unwrap();
    let by_namespace = store
        .index_keys(NAMESPACE_INDEX, "ns")
        .unwrap()
        .pop()
        .unwrap();
    assert!(Arc::ptr_eq(&stored, &indexed));
    assert!(Arc::ptr_eq(&stored, &by_namespace));
}

/// One random write: add/update with random labels, delete, or (rarely) a replace.
fn random_write(store: &ThreadSafeStore<Pod>, rng: &mut StdRng, step: usize) {
    let name = format!("p{}", rng.gen_range(0..300));
    let namespace = format!("ns{}", rng.gen_range(0..5));
    let app = ["web", "db", "cache"][rng.gen_range(0..3)];
    let tier = ["a", "b"][rng.gen_range(0..2)];
    match rng.gen_range(0..100) {
        0..=59 => {
            let object = pod(
                &namespace,
                &name,
                &step.to_string(),
                &[("app", app), ("tier", tier)],
            );
            store.update(key(&namespace, &name), object).unwrap();
        }
        60..=98 => {
            store.delete(&format!("{namespace}/{name}"));
        }
        _ => {
            let items = (0..50)
                .map(|i| {
                    let name = format!("p{i}");
                    (key("ns0", &name), pod("ns0", &name, "r", &[("app", app)]))
                })
                .collect();
            store.replace(items, &step.to_string()).unwrap();
        }
    }
}

#[test]
fn indices_agree_with_items_after_concurrent_writers_and_readers() {
    let store = Arc::new(ThreadSafeStore::new(indexers()));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut checked = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    for app in ["web", "db", "cache"] {
                        // Every object found under a value has that value.
                        for object in store.by_index("app", app).unwrap() {
                            assert_eq!(object.metadata.labels.get("app"), Some(app));
                            checked += 1;
                        }
                    }
                }
                checked
            })
        })
        .collect();
    let writers: Vec<_> = (0..4)
        .map(|seed| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(seed);
                for step in 0..10_000 {
                    random_write(&store, &mut rng, step);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    store.check_indices().unwrap();
    // Every live key is found through the namespace index, and nothing else is.
    let mut by_namespace = Vec::new();
    for namespace in store.list_index_func_values(NAMESPACE_INDEX).unwrap() {
        by_namespace.extend(store.index_keys(NAMESPACE_INDEX, &namespace).unwrap());
    }
    assert_eq!(sorted(by_namespace), sorted(store.list_keys()));
}

#[test]
fn readers_see_a_replace_whole_or_not_at_all() {
    let store = Arc::new(ThreadSafeStore::new(indexers()));
    let generation = |tag: &str| -> Vec<(Arc<str>, Arc<Pod>)> {
        (0..200)
            .map(|i| {
                let name = format!("{tag}{i}");
                (key("ns", &name), pod("ns", &name, tag, &[("app", tag)]))
            })
            .collect()
    };
    store.replace(generation("a"), "a").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let list = store.list();
                assert_eq!(list.len(), 200);
                let first = version(&list[0]).to_owned();
                assert!(
                    list.iter().all(|o| version(o) == first),
                    "mixed generations"
                );
                reads += 1;
            }
            reads
        })
    };
    for round in 0..200 {
        let tag = if round % 2 == 0 { "b" } else { "a" };
        store.replace(generation(tag), tag).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    store.check_indices().unwrap();
}

#[test]
fn a_value_shared_by_two_objects_keeps_the_survivor_when_one_leaves() {
    let store = ThreadSafeStore::new(indexers());
    store
        .add(key("ns", "a"), pod("ns", "a", "1", &[("app", "web")]))
        .unwrap();
    store
        .add(key("ns", "b"), pod("ns", "b", "1", &[("app", "web")]))
        .unwrap();
    store
        .add(key("ns", "c"), pod("ns", "c", "1", &[("app", "web")]))
        .unwrap();
    store.delete("ns/a");
    store
        .update(key("ns", "b"), pod("ns", "b", "2", &[("app", "db")]))
        .unwrap();
    assert_eq!(names(&store.by_index("app", "web").unwrap()), ["c"]);
    store.check_indices().unwrap();
    store.delete("ns/c");
    assert!(store.by_index("app", "web").unwrap().is_empty());
    assert_eq!(sorted(store.list_index_func_values("app").unwrap()), ["db"]);
    store.check_indices().unwrap();
}
