//! Seed article 3.3.2: the DeltaFIFO. Three objects are added, one of them is updated and
//! deleted; the queue keeps one entry per key with all its deltas in order, and pops keys in
//! the order they were first queued, as client-go's `DeltaFIFO` does.
//!
//! The seed queues a home-made `Pod{Name, Value}` with its own key function; here the same
//! small type implements [`Object`], the one trait the cache needs.
//!
//! Run: `cargo run -p kinformer-examples --example delta_fifo`

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use kinformer::cache::{
    DeltaFifo, DeltaFifoConfig, DeltaType, KeyError, KeyFunc, PopError, ProcessError, Store,
};
use kinformer::meta::{Object, ObjectMeta};

/// The seed's toy pod: a name and a value.
#[derive(Clone, Debug)]
struct Pod {
    metadata: ObjectMeta,
    value: i32,
}

impl Pod {
    fn new(name: &str, value: i32) -> Self {
        let metadata = ObjectMeta {
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        };
        Pod { metadata, value }
    }
}

impl Object for Pod {
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
    fn api_version(&self) -> Cow<'_, str> {
        Cow::Borrowed("example/v1")
    }
    fn kind(&self) -> Cow<'_, str> {
        Cow::Borrowed("Pod")
    }
}

/// Printed as Go prints the struct: `{pod-1 1}`.
impl fmt::Display for Pod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{} {}}}", self.metadata.name(), self.value)
    }
}

/// The seed's `PodKeyFunc`: the name is the key.
fn pod_key_func() -> KeyFunc<Pod> {
    Arc::new(|pod: &Pod| {
        let name = pod.metadata.name();
        if name.is_empty() {
            return Err(KeyError::new("pod has no name"));
        }
        Ok(name.to_string())
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fifo = DeltaFifo::new(DeltaFifoConfig::default().key_func(pod_key_func()));

    // Add three objects.
    let mut pod1 = Pod::new("pod-1", 1);
    fifo.add(Arc::new(pod1.clone()))?;
    fifo.add(Arc::new(Pod::new("pod-2", 2)))?;
    fifo.add(Arc::new(Pod::new("pod-3", 3)))?;
    // Update pod-1, then delete it.
    pod1.value = 11;
    fifo.update(Arc::new(pod1.clone()))?;
    fifo.delete(Arc::new(pod1))?;

    // The queue's content: the newest object of each key. The keys live in a map, so sort
    // them for a stable printout (Go's List is in map order too).
    let mut listed = fifo.list();
    listed.sort_by(|a, b| a.metadata.name().cmp(b.metadata.name()));
    let listed: Vec<String> = listed.iter().map(|pod| pod.to_string()).collect();
    println!("[{}]", listed.join(" "));

    // Pop until the queue is empty: closing it first makes the last pop return `Closed`
    // instead of waiting for more, where the Go loop blocks forever.
    fifo.close();
    loop {
        let popped = fifo
            .pop(|deltas, _is_in_initial_list| {
                for delta in deltas {
                    let Some(pod) = delta.object.object() else {
                        continue;
                    };
                    match delta.kind {
                        DeltaType::Added => println!("Add Event: {pod}"),
                        DeltaType::Updated => println!("Update Event: {pod}"),
                        DeltaType::Deleted => println!("Delete Event: {pod}"),
                        DeltaType::Sync => println!("Sync Event: {pod}"),
                        DeltaType::Replaced => println!("Replaced Event: {pod}"),
                    }
                }
                Ok::<(), ProcessError<Infallible>>(())
            })
            .await;
        match popped {
            Ok(()) => {}
            Err(PopError::Closed) => break,
            Err(PopError::Process { key, .. }) => {
                return Err(format!("processing {key} failed").into())
            }
        }
    }
    Ok(())
}
