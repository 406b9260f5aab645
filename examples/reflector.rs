//! Seed article 3.3.3: a Reflector joins a ListWatch and a DeltaFIFO. It lists the pods of a
//! namespace, replaces the queue's content with them, then watches from the list's
//! resourceVersion and queues every change. The program pops the deltas and applies them to a
//! store, which the queue also uses as its "known objects" (so it knows what a deletion
//! deletes): `Replaced`/`Sync`/`Added` add, `Updated` updates, `Deleted` deletes.
//!
//! As in the seed, the program then plays `kubectl apply` and `kubectl delete` (through the
//! fake server's handle): a pod appears Pending, is scheduled, runs, and is deleted. It stops
//! once the deletion has been applied, and prints the store, which matches the server.
//!
//! Run: `cargo run -p kinformer-examples --example reflector`

use std::sync::Arc;
use std::time::Duration;

use kinformer::cache::{
    meta_namespace_key_func, ApiListWatch, DeltaFifo, DeltaFifoConfig, DeltaType, Indexer,
    Indexers, PopError, ProcessError, Reflector, ReflectorConfig, Store,
};
use kinformer::client::{Api, Client, Config};
use kinformer::typed::Pod;
use kinformer_replay::{FakeApiServer, Handle, ServerConfig};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// The namespace watched.
const NAMESPACE: &str = "default";
/// The pod the example creates and deletes while the reflector runs.
const NEW_POD: &str = "mygott-7565765f4d-x6znf";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pods = ["pod-1", "web-sts-1", "web-sts-0", "ngx-8669b5c9d-xwljg"]
        .map(|name| pod(name, "Running", Some("k8s-01")));
    let server = FakeApiServer::start(ServerConfig::default().objects(pods)).await?;
    let client = Client::try_from(Config::new(server.url().parse()?))?;

    // The local copy. Without it the queue could not tell a deletion of something it never
    // saw from one of something it holds.
    let store: Arc<Indexer<Pod>> =
        Arc::new(Indexer::new(meta_namespace_key_func(), Indexers::new()));

    // The queue, keyed `namespace/name`, with the store as its known objects.
    let fifo = Arc::new(DeltaFifo::new(
        DeltaFifoConfig::default().known_objects(store.clone() as Arc<dyn Store<Pod>>),
    ));

    // The reflector: list & watch into the queue until cancelled.
    // client-go's `cache.NewListWatchFromClient`: list and watch one resource through the
    // typed API; the reflector decides every option (resourceVersion, paging, timeouts).
    let list_watch = Arc::new(ApiListWatch::new(Api::<Pod>::namespaced(client, NAMESPACE)));
    let reflector = Reflector::new(list_watch, fifo.clone(), ReflectorConfig::default());
    let cancel = CancellationToken::new();
    let running = tokio::spawn({
        let cancel = cancel.clone();
        async move { reflector.run(cancel).await }
    });

    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        pop_and_apply(&fifo, &store, &server.handle()),
    )
    .await;
    cancel.cancel();
    running.await?;
    server.shutdown().await;
    match outcome {
        Ok(result) => result?,
        Err(_) => return Err("the deletion did not arrive within 10 s".into()),
    }

    let mut keys = store.list_keys();
    keys.sort();
    println!("store: {keys:?}");
    Ok(())
}

/// The seed's `for { df.Pop(...) }`: print each delta and apply it to the store. Once the
/// initial list has been applied, change a pod on the server; return when its deletion has
/// been applied.
async fn pop_and_apply(
    fifo: &DeltaFifo<Pod>,
    store: &Indexer<Pod>,
    server: &Handle,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut changed = false;
    loop {
        let mut deleted_new_pod = false;
        let popped = fifo
            .pop(|deltas, _is_in_initial_list| {
                for delta in deltas {
                    let Some(pod) = delta.object.object() else {
                        continue;
                    };
                    println!(
                        "{:?} : {} - {}",
                        delta.kind,
                        pod.metadata.name(),
                        phase(pod)
                    );
                    let applied = match delta.kind {
                        DeltaType::Replaced | DeltaType::Sync | DeltaType::Added => {
                            store.add(pod.clone())
                        }
                        DeltaType::Updated => store.update(pod.clone()),
                        DeltaType::Deleted => {
                            deleted_new_pod |= pod.metadata.name() == NEW_POD;
                            store.delete(pod.clone())
                        }
                    };
                    applied.map_err(ProcessError::Failed)?;
                }
                Ok(())
            })
            .await;
        match popped {
            Ok(()) => {}
            Err(PopError::Closed) => return Err("the queue closed".into()),
            Err(PopError::Process { key, error, .. }) => {
                return Err(format!("applying {key} failed: {error}").into())
            }
        }
        if deleted_new_pod {
            return Ok(());
        }
        // The initial list is applied once every listed key has been popped.
        if fifo.has_synced() && !changed {
            changed = true;
            println!("// kubectl apply -f deploy.yaml, then kubectl delete deploy mygott");
            change_a_pod(server)?;
        }
    }
}

/// A Deployment's pod: created Pending, scheduled, Running, then deleted.
fn change_a_pod(server: &Handle) -> Result<(), Box<dyn std::error::Error>> {
    server.create(pod(NEW_POD, "Pending", None))?;
    server.update(pod(NEW_POD, "Pending", Some("k8s-01")))?;
    server.update(pod(NEW_POD, "Running", Some("k8s-01")))?;
    server.delete("v1", "Pod", Some(NAMESPACE), NEW_POD)?;
    Ok(())
}

fn pod(name: &str, phase: &str, node: Option<&str>) -> Value {
    let mut spec = json!({"containers": [{"name": "main", "image": "nginx:1.18-alpine"}]});
    if let Some(node) = node {
        spec["nodeName"] = json!(node);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
        "status": {"phase": phase},
    })
}

/// The pod's phase, decoded on first read.
fn phase(pod: &Pod) -> String {
    match pod.status() {
        Ok(Some(status)) => status.phase.clone().unwrap_or_default(),
        Ok(None) => String::new(),
        Err(error) => format!("<undecodable status: {error}>"),
    }
}
