//! Seed article 3.4.1, `NewSharedInformer`: one informer (one list & watch, one cache) with
//! two handlers, the seed's `CmdHandler` and `CmdHandler2`. Each handler has its own buffer and
//! task, so a slow one never holds up the other.
//!
//! The program waits until both handlers have handled the initial list, adds a third handler
//! late (it first receives the cache's content, flagged as initial), creates one ConfigMap that
//! all three see, and stops.
//!
//! Run: `cargo run -p kinformer-examples --example shared_informer`

use std::sync::Arc;
use std::time::Duration;

use kinformer::cache::{
    ApiListWatch, DeltaObject, ResourceEventHandler, SharedIndexInformer, SharedInformerConfig,
};
use kinformer::client::{Api, Client, Config};
use kinformer::meta::GroupResource;
use kinformer::typed::ConfigMap;
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The seed's `CmdHandler` / `CmdHandler2`: prints with its own prefix, and reports adds to
/// `main` so the program knows when to stop.
struct CmdHandler {
    prefix: &'static str,
    added: mpsc::UnboundedSender<(&'static str, String)>,
}

impl ResourceEventHandler<ConfigMap> for CmdHandler {
    fn on_add(&self, object: Arc<ConfigMap>, is_in_initial_list: bool) {
        let note = if is_in_initial_list { " (initial)" } else { "" };
        println!("{} Add:  {}{note}", self.prefix, object.metadata.name());
        let _ = self
            .added
            .send((self.prefix, object.metadata.name().to_owned()));
    }

    fn on_update(&self, _old: Arc<ConfigMap>, new: Arc<ConfigMap>) {
        println!("{} Update:  {}", self.prefix, new.metadata.name());
    }

    fn on_delete(&self, object: DeltaObject<ConfigMap>) {
        let name = object.object().map(|o| o.metadata.name().to_owned());
        println!("{} Delete:  {}", self.prefix, name.unwrap_or_default());
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeApiServer::start(ServerConfig::default().objects([
        config_map("kube-root-ca.crt"),
        config_map("istio-ca-root-cert"),
    ]))
    .await?;
    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let list_watch = Arc::new(ApiListWatch::new(Api::<ConfigMap>::namespaced(
        client, "default",
    )));

    // shareInformer := cache.NewSharedInformer(listWatcher, &v1.ConfigMap{}, 0)
    let informer = SharedIndexInformer::new(
        list_watch,
        SharedInformerConfig::default().resource(GroupResource::new("", "configmaps")),
    );
    let (added, mut adds) = mpsc::unbounded_channel();
    // shareInformer.AddEventHandler(&handlers.CmdHandler{}) and CmdHandler2
    let first = informer.add_event_handler(CmdHandler {
        prefix: "handler1",
        added: added.clone(),
    })?;
    let second = informer.add_event_handler(CmdHandler {
        prefix: "handler2",
        added: added.clone(),
    })?;

    // shareInformer.Run(stop), on its own task.
    let cancel = CancellationToken::new();
    let running = informer.start(cancel.clone());
    let timeout = Some(Duration::from_secs(10));
    first.wait_for_cache_sync(timeout).await?;
    second.wait_for_cache_sync(timeout).await?;

    println!("// a third handler, registered late, first gets the cache's content");
    let third = informer.add_event_handler(CmdHandler {
        prefix: "handler3",
        added,
    })?;
    third.wait_for_cache_sync(timeout).await?;

    println!("// kubectl create configmap my-config");
    server.handle().create(config_map("my-config"))?;
    let all_saw_it = tokio::time::timeout(Duration::from_secs(10), async {
        let mut seen = 0;
        while let Some((_, name)) = adds.recv().await {
            if name == "my-config" {
                seen += 1;
                if seen == 3 {
                    return true;
                }
            }
        }
        false
    })
    .await;

    cancel.cancel();
    running.await?;
    server.shutdown().await;
    match all_saw_it {
        Ok(true) => Ok(()),
        _ => Err("not every handler saw my-config within 10 s".into()),
    }
}

fn config_map(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"k": "v"},
    })
}
