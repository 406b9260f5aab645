//! Seed article 3.3.5: event handlers. An informer on the ConfigMaps of `default` calls
//! `on_add`, `on_update` and `on_delete` of a handler (the seed's `CmdHandler` with `OnAdd`,
//! `OnUpdate`, `OnDelete`, passed to `cache.NewInformer`). Before each call the informer has
//! applied the change to its cache, and whether a change is an add or an update is decided by
//! what that cache held (client-go's `processDeltas`).
//!
//! The example prints the adds of the initial list, then creates, updates and deletes a
//! ConfigMap on the server, and stops once the handler has seen the deletion.
//!
//! Run: `cargo run -p kinformer-examples --example event_handlers`

use std::sync::Arc;
use std::time::Duration;

use kinformer::cache::{new_informer, ApiListWatch, DeltaObject, ResourceEventHandler, Store};
use kinformer::client::{Api, Client, Config};
use kinformer::meta::GroupResource;
use kinformer::typed::ConfigMap;
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The ConfigMap the example creates, updates and deletes.
const NEW_CONFIG_MAP: &str = "feature-flags";

/// The seed's `CmdHandler`. It also reports each deletion on a channel, so `main` knows when
/// to stop.
struct CmdHandler {
    deleted: mpsc::UnboundedSender<String>,
}

impl ResourceEventHandler<ConfigMap> for CmdHandler {
    fn on_add(&self, object: Arc<ConfigMap>, is_in_initial_list: bool) {
        let initial = if is_in_initial_list {
            " (initial list)"
        } else {
            ""
        };
        println!("Add:  {}{initial}", object.metadata.name());
    }

    fn on_update(&self, _old: Arc<ConfigMap>, new: Arc<ConfigMap>) {
        println!("Update:  {}", new.metadata.name());
    }

    fn on_delete(&self, object: DeltaObject<ConfigMap>) {
        // A deletion found by a relist carries a tombstone, possibly without the last state.
        let name = match &object {
            DeltaObject::Object(config_map) => config_map.metadata.name().to_string(),
            DeltaObject::DeletedFinalStateUnknown(tombstone) => tombstone.key.to_string(),
        };
        println!("Delete:  {name}");
        let _ = self.deleted.send(name);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeApiServer::start(ServerConfig::default().objects([
        config_map(
            "kube-root-ca.crt",
            json!({"ca.crt": "-----BEGIN CERTIFICATE-----"}),
        ),
        config_map("app-config", json!({"log_level": "info"})),
    ]))
    .await?;
    let client = Client::try_from(Config::new(server.url().parse()?))?;

    // cache.NewListWatchFromClient(..., "configmaps", "default", fields.Everything())
    let list_watch = Arc::new(ApiListWatch::new(Api::<ConfigMap>::namespaced(
        client, "default",
    )));
    let (deleted_tx, mut deleted_rx) = mpsc::unbounded_channel();
    // cache.NewInformer(listWatcher, &v1.ConfigMap{}, 0, &CmdHandler{})
    let (store, controller) = new_informer(
        list_watch,
        GroupResource::new("", "configmaps"),
        None,
        CmdHandler {
            deleted: deleted_tx,
        },
    );

    // c.Run(stop): here on its own task, until the token is cancelled.
    let cancel = CancellationToken::new();
    let running = controller.start(cancel.clone());
    controller
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await?;
    println!(
        "// synced: the cache holds {} ConfigMaps",
        store.list().len()
    );

    // kubectl create / edit / delete configmap feature-flags
    let handle = server.handle();
    handle.create(config_map(NEW_CONFIG_MAP, json!({"new_ui": "false"})))?;
    handle.update(config_map(NEW_CONFIG_MAP, json!({"new_ui": "true"})))?;
    handle.delete("v1", "ConfigMap", Some("default"), NEW_CONFIG_MAP)?;

    let outcome = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(name) = deleted_rx.recv().await {
            if name == NEW_CONFIG_MAP {
                return true;
            }
        }
        false
    })
    .await;

    let mut keys = store.list_keys();
    keys.sort();
    println!("// cache: {keys:?}");
    cancel.cancel();
    running.await?;
    server.shutdown().await;
    match outcome {
        Ok(true) => Ok(()),
        _ => Err("the handler did not see the deletion within 10 s".into()),
    }
}

fn config_map(name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": data,
    })
}
