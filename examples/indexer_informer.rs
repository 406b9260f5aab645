//! Seed article 3.4.1, `NewIndexerInformer`: a pod informer with an extra index, `app`, on the
//! pods' `app` label, queried with `ByIndex("app", "busy-box")` once the cache has synced.
//!
//! Run: `cargo run -p kinformer-examples --example indexer_informer`

use std::sync::Arc;
use std::time::Duration;

use kinformer::cache::{
    index_func, namespace_indexers, new_indexer_informer, ApiListWatch, IndexError,
    ResourceEventHandlerFuncs,
};
use kinformer::client::{Api, Client, Config};
use kinformer::meta::GroupResource;
use kinformer::typed::Pod;
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// The seed's `LabelsIndexFunc`: a pod's `app` label value (none when unlabelled).
fn labels_index_func(pod: &Pod) -> Result<Vec<String>, IndexError> {
    Ok(pod
        .metadata
        .labels
        .get("app")
        .map(|app| vec![app.to_owned()])
        .unwrap_or_default())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeApiServer::start(ServerConfig::default().objects([
        pod("cloud-enterprise-7f84df95bc-7vwxb", "cloud-enterprise"),
        pod("busy-box-6698d6dff6-jmwfs", "busy-box"),
    ]))
    .await?;
    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let list_watch = Arc::new(ApiListWatch::new(Api::<Pod>::namespaced(client, "default")));

    // myIndexer := cache.Indexers{"app": LabelsIndexFunc} (plus the namespace index listers use)
    let mut indexers = namespace_indexers::<Pod>();
    indexers.insert("app".into(), index_func(labels_index_func));

    // i, c := cache.NewIndexerInformer(listWatcher, &v1.Pod{}, 0, &CmdHandler{}, myIndexer)
    let handler = ResourceEventHandlerFuncs::<Pod>::default()
        .add_func(|pod: Arc<Pod>, _| println!("Add:  {}", pod.metadata.name()));
    let (indexer, controller) = new_indexer_informer(
        list_watch,
        GroupResource::new("", "pods"),
        None,
        handler,
        indexers,
    );
    let cancel = CancellationToken::new();
    let running = controller.start(cancel.clone());
    controller
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await?;

    // objList, err := i.ByIndex("app", "busy-box"); fmt.Println(objList[0].(*v1.Pod).Name)
    let found = indexer.by_index("app", "busy-box")?;
    match found.first() {
        Some(pod) => println!("{}", pod.metadata.name()),
        None => return Err("no pod has app=busy-box".into()),
    }

    cancel.cancel();
    running.await?;
    server.shutdown().await;
    Ok(())
}

fn pod(name: &str, app: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    })
}
