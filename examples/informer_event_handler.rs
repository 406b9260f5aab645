//! Seed article 3.4.1, `NewInformer` with a handler: an informer on the ConfigMaps of
//! `default` whose handler prints `Add:`, `Update:` and `Delete:` lines (the seed's
//! `CmdHandler`, here built from closures with `ResourceEventHandlerFuncs`).
//!
//! The seed runs `c.Run(wait.NeverStop)` forever; this program plays `kubectl` once the initial
//! list is handled (create, edit and delete a ConfigMap) and stops after the deletion.
//!
//! Run: `cargo run -p kinformer-examples --example informer_event_handler`

use std::sync::Arc;
use std::time::Duration;

use kinformer::cache::{new_informer, ApiListWatch, DeltaObject, ResourceEventHandlerFuncs};
use kinformer::client::{Api, Client, Config};
use kinformer::meta::GroupResource;
use kinformer::typed::ConfigMap;
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeApiServer::start(ServerConfig::default().objects([
        config_map("kube-root-ca.crt", "1"),
        config_map("istio-ca-root-cert", "1"),
    ]))
    .await?;
    let client = Client::try_from(Config::new(server.url().parse()?))?;

    // cache.NewListWatchFromClient(restClient, "configmaps", "default", fields.Everything())
    let list_watch = Arc::new(ApiListWatch::new(Api::<ConfigMap>::namespaced(
        client, "default",
    )));

    // The seed's CmdHandler; deletions are also reported to main, so it knows when to stop.
    let (deleted, mut deletions) = mpsc::unbounded_channel::<String>();
    let handler = ResourceEventHandlerFuncs::<ConfigMap>::default()
        .add_func(|object: Arc<ConfigMap>, _initial| println!("Add:  {}", object.metadata.name()))
        .update_func(|_old: Arc<ConfigMap>, new: Arc<ConfigMap>| {
            println!("Update:  {}", new.metadata.name())
        })
        .delete_func(move |object: DeltaObject<ConfigMap>| {
            let name = match &object {
                DeltaObject::Object(config_map) => config_map.metadata.name().to_owned(),
                DeltaObject::DeletedFinalStateUnknown(tombstone) => tombstone.key.to_string(),
            };
            println!("Delete:  {name}");
            let _ = deleted.send(name);
        });

    // _, c := cache.NewInformer(listWatcher, &v1.ConfigMap{}, 0, &CmdHandler{})
    let (_store, controller) = new_informer(
        list_watch,
        GroupResource::new("", "configmaps"),
        None,
        handler,
    );

    // c.Run(stop), on its own task until the token is cancelled.
    let cancel = CancellationToken::new();
    let running = controller.start(cancel.clone());
    controller
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await?;

    // kubectl create configmap my-config; kubectl edit ...; kubectl delete ...
    let handle = server.handle();
    handle.create(config_map("my-config", "1"))?;
    handle.update(config_map("my-config", "2"))?;
    handle.delete("v1", "ConfigMap", Some("default"), "my-config")?;
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(name) = deletions.recv().await {
            if name == "my-config" {
                return true;
            }
        }
        false
    })
    .await;

    cancel.cancel();
    running.await?;
    server.shutdown().await;
    match seen {
        Ok(true) => Ok(()),
        _ => Err("the handler did not see the deletion within 10 s".into()),
    }
}

fn config_map(name: &str, revision: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"revision": revision},
    })
}
