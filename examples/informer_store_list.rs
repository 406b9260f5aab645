//! Seed article 3.4.1, `NewInformer` returns a store and a controller: after the cache has
//! synced, `store.List()` answers from memory. Instead of the seed's `time.Sleep(3s)` the
//! program waits for the sync, which fails with a reason (403, 404, TLS) rather than hanging.
//!
//! Every listed object still says what it is (`v1/ConfigMap`), although list responses leave
//! kind and apiVersion out of their items: the seed's first pitfall, fixed.
//!
//! Run: `cargo run -p kinformer-examples --example informer_store_list`

use std::sync::Arc;
use std::time::Duration;

use kinformer::cache::{new_informer, ApiListWatch, ResourceEventHandlerFuncs, Store};
use kinformer::client::{Api, Client, Config};
use kinformer::meta::{GroupResource, Object};
use kinformer::typed::ConfigMap;
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config_maps = ["kube-root-ca.crt", "istio-ca-root-cert"].map(|name| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, "data": {"k": "v"}})
    });
    let server = FakeApiServer::start(ServerConfig::default().objects(config_maps)).await?;
    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let list_watch = Arc::new(ApiListWatch::new(Api::<ConfigMap>::namespaced(
        client, "default",
    )));

    // store, controller := cache.NewInformer(listWatcher, &v1.ConfigMap{}, 0, &CmdHandler{})
    let handler = ResourceEventHandlerFuncs::<ConfigMap>::default()
        .add_func(|object: Arc<ConfigMap>, _| println!("Add:  {}", object.metadata.name()));
    let (store, controller) = new_informer(
        list_watch,
        GroupResource::new("", "configmaps"),
        None,
        handler,
    );

    // go controller.Run(stop); then wait for the cache instead of sleeping.
    let cancel = CancellationToken::new();
    let running = controller.start(cancel.clone());
    controller
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await?;

    // fmt.Println(store.List())
    let mut objects = store.list();
    objects.sort_by(|a, b| a.metadata.name().cmp(b.metadata.name()));
    let printed: Vec<String> = objects
        .iter()
        .map(|o| {
            format!(
                "{}/{} {}/{}",
                o.api_version(),
                o.kind(),
                o.metadata.namespace().unwrap_or(""),
                o.metadata.name()
            )
        })
        .collect();
    println!("{printed:?}");

    // Stopping the informer empties its cache (the seed's second pitfall, fixed).
    cancel.cancel();
    running.await?;
    println!(
        "// after stop the store holds {} objects",
        store.list().len()
    );
    server.shutdown().await;
    Ok(())
}
