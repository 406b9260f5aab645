//! Seed article 3.3.4: the Store and the Indexer. A `ThreadSafeStore` is a map guarded by
//! locks; an `Indexer` adds a key function and index functions on top, so objects can be
//! found by an indexed value instead of by key. Here an `app` index over the pods' `app`
//! label answers `index_keys("app", "l1")` with `["ns1/pod1"]`, as client-go's
//! `IndexKeys("app", "l1")` answers `[ns1/pod1]`.
//!
//! Run: `cargo run -p kinformer-examples --example indexer`

use std::sync::Arc;

use kinformer::cache::{
    index_func, meta_namespace_index_func, meta_namespace_key_func, IndexError, Indexer, Indexers,
    Store, NAMESPACE_INDEX,
};
use kinformer::typed::Pod;

/// The seed's `LabelsIndexFunc`: the value of the `app` label is the indexed value.
fn labels_index_func(pod: &Pod) -> Result<Vec<String>, IndexError> {
    Ok(pod
        .metadata
        .labels
        .get("app")
        .map(|app| vec![app.to_string()])
        .unwrap_or_default())
}

fn pod(namespace: &str, name: &str, app: &str) -> Arc<Pod> {
    let mut pod = Pod::new(name).with_namespace(namespace);
    pod.metadata.labels.insert("app", app);
    Arc::new(pod)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An index named "app" using our own index function, plus the namespace index every
    // informer has.
    let mut indexers = Indexers::new();
    indexers.insert("app".to_string(), index_func(labels_index_func));
    indexers.insert(
        NAMESPACE_INDEX.to_string(),
        index_func(meta_namespace_index_func::<Pod>),
    );
    let indexer = Indexer::new(meta_namespace_key_func(), indexers);

    indexer.add(pod("ns1", "pod1", "l1"))?;
    indexer.add(pod("ns2", "pod2", "l2"))?;

    // Only the pod with app=l1.
    println!("{:?}", indexer.index_keys("app", "l1")?);

    // The same index, read other ways.
    let by_index: Vec<String> = indexer
        .by_index("app", "l2")?
        .iter()
        .map(|pod| {
            format!(
                "{}/{}",
                pod.metadata.namespace().unwrap_or_default(),
                pod.metadata.name()
            )
        })
        .collect();
    println!("by_index(app, l2) = {by_index:?}");
    let mut values = indexer.list_index_func_values("app")?;
    values.sort();
    println!("list_index_func_values(app) = {values:?}");
    println!(
        "index_keys(namespace, ns2) = {:?}",
        indexer.index_keys(NAMESPACE_INDEX, "ns2")?
    );

    // An update moves the object between index values; a delete removes it from them.
    indexer.update(pod("ns1", "pod1", "l2"))?;
    let mut l2 = indexer.index_keys("app", "l2")?;
    l2.sort();
    println!(
        "after relabelling pod1: l1 = {:?}, l2 = {:?}",
        indexer.index_keys("app", "l1")?,
        l2
    );
    indexer.delete(pod("ns2", "pod2", "l2"))?;
    println!(
        "after deleting pod2: l2 = {:?}",
        indexer.index_keys("app", "l2")?
    );

    // The store underneath: a key -> object map.
    let mut keys = indexer.list_keys();
    keys.sort();
    println!("keys = {keys:?}");
    Ok(())
}
