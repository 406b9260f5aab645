//! Seed article 3.4.2, `NewSharedInformerFactoryWithOptions`: a factory limited to the
//! `default` namespace; informers for ConfigMaps (with a handler) and Pods, both asked for by
//! group/version/resource (`ForResource`); start, wait for every cache, then list both through
//! the typed listers, as the seed prints them.
//!
//! Unlike client-go, `wait_for_cache_sync` returns one result per resource (a 403 or an unknown
//! resource is reported, not waited on forever), and `remove` stops one informer and frees its
//! cache while the others keep running.
//!
//! Run: `cargo run -p kinformer-examples --example informer_factory`

use std::sync::Arc;
use std::time::Duration;

use kinformer::cache::ResourceEventHandlerFuncs;
use kinformer::client::clientset::Clientset;
use kinformer::client::{Client, Config};
use kinformer::informers::{FactoryOptions, SharedInformerFactory};
use kinformer::meta::labels::Selector;
use kinformer::meta::GroupVersionResource;
use kinformer::typed::ConfigMap;
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeApiServer::start(ServerConfig::default().objects([
        config_map("default", "istio-ca-root-cert"),
        config_map("default", "kube-root-ca.crt"),
        config_map("default", "my-config"),
        config_map("kube-system", "coredns"),
        pod("default", "cloud-enterprise-7f84df95bc-csdqp"),
        pod("default", "busy-box-6698d6dff6-42trb"),
        pod("kube-system", "coredns-5d78c9869d-abcde"),
    ]))
    .await?;
    let clientset = Clientset::new(Client::try_from(Config::new(server.url().parse()?))?);

    // informers.NewSharedInformerFactoryWithOptions(cliset, 0, informers.WithNamespace("default"))
    let factory = SharedInformerFactory::with_options(
        clientset,
        FactoryOptions::default().namespace("default"),
    );

    // cmInformer, _ := informerFactory.ForResource(cmGVR)
    let cm_gvr = GroupVersionResource::new("", "v1", "configmaps");
    let cm_informer = factory.for_resource(&cm_gvr)?;
    // cmInformer.Informer().AddEventHandler(&handlers.CmdHandler{})
    cm_informer.informer::<ConfigMap>()?.add_event_handler(
        ResourceEventHandlerFuncs::<ConfigMap>::default()
            .add_func(|cm: Arc<ConfigMap>, _| println!("Add:  {}", cm.metadata.name())),
    )?;
    // _, _ = informerFactory.ForResource(podGVR)
    let pod_gvr = GroupVersionResource::new("", "v1", "pods");
    factory.for_resource(&pod_gvr)?;

    // informerFactory.Start(stop); informerFactory.WaitForCacheSync(stop)
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    for (resource, synced) in factory
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await
    {
        synced.map_err(|error| format!("{resource}: {error}"))?;
    }

    let everything = Selector::everything();
    println!("Configmap:");
    for cm in factory.core_v1().config_maps().lister()?.list(&everything) {
        println!(
            "{}/{} ",
            cm.metadata.namespace().unwrap_or(""),
            cm.metadata.name()
        );
    }
    println!("Pod:");
    for pod in factory.core_v1().pods().lister()?.list(&everything) {
        println!(
            "{}/{} ",
            pod.metadata.namespace().unwrap_or(""),
            pod.metadata.name()
        );
    }

    // Beyond client-go: drop the pod informer (its cache is freed), the other keeps going.
    factory.remove(&pod_gvr).await;
    let left: Vec<String> = factory
        .resources()
        .iter()
        .map(|gvr| gvr.resource.clone())
        .collect();
    println!("// after remove(pods): informers left for {left:?}");

    factory.shutdown().await;
    server.shutdown().await;
    Ok(())
}

fn config_map(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"k": "v"},
    })
}

fn pod(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    })
}
