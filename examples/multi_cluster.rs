//! Beyond the seed article: one controller over a fleet. Three fake API servers stand for
//! three clusters; a `MultiClusterInformerFactory` takes the pod handler once and applies it to
//! every cluster, present and future, with the cluster's name. A cluster joins while the fleet
//! runs, and one leaves: its informers stop and its cache is freed while the others keep
//! delivering (client-go can do neither).
//!
//! Run: `cargo run -p kinformer-examples --example multi_cluster`

use std::sync::Arc;
use std::time::Duration;

use kinformer::cache::ResourceEventHandlerFuncs;
use kinformer::client::clientset::Clientset;
use kinformer::client::{Client, Config};
use kinformer::informers::{FactoryOptions, MultiClusterInformerFactory};
use kinformer::meta::labels::Selector;
use kinformer::typed::Pod;
use kinformer_replay::{FakeApiServer, RunningServer, ServerConfig};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let east = cluster(&["web-east-1", "web-east-2"]).await?;
    let west = cluster(&["web-west-1"]).await?;
    let north = cluster(&["web-north-1"]).await?;

    let fleet = MultiClusterInformerFactory::new(FactoryOptions::default().namespace("shop"))
        .max_concurrent_syncs(2);
    fleet.add_cluster("east", clientset(&east)?)?;
    fleet.add_cluster("west", clientset(&west)?)?;

    // Said once, applied to every cluster: the handler learns which cluster it serves.
    let (events, mut received) = mpsc::unbounded_channel::<String>();
    fleet.add_event_handler_for::<Pod, _>(move |cluster| {
        let (adds, deletes) = (events.clone(), events.clone());
        let (add_cluster, delete_cluster) = (cluster.to_owned(), cluster.to_owned());
        ResourceEventHandlerFuncs::default()
            .add_func(move |pod: Arc<Pod>, _| {
                let _ = adds.send(format!("ADDED   {add_cluster}: {}", pod.metadata.name()));
            })
            .delete_func(move |pod| {
                let name = pod.object().map(|pod| pod.metadata.name().to_owned());
                let line = format!("DELETED {delete_cluster}: {}", name.unwrap_or_default());
                let _ = deletes.send(line);
            })
    })?;

    let cancel = CancellationToken::new();
    fleet.start(&cancel);
    // North joins the running fleet and gets the same handler.
    fleet.add_cluster("north", clientset(&north)?)?;
    for (cluster, resources) in fleet
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await
    {
        for (resource, synced) in resources {
            synced.map_err(|error| format!("{cluster} {resource}: {error}"))?;
        }
    }
    print_next(&mut received, 4).await?;

    println!("// the fleet's caches, read without network calls:");
    for (cluster, lister) in fleet.listers_for::<Pod>()? {
        println!(
            "{cluster}: {} pods",
            lister.list(&Selector::everything()).len()
        );
    }

    println!("// east leaves: its cache is freed, west and north keep delivering");
    fleet.remove_cluster("east").await;
    east.handle().create(pod("web-east-3"))?;
    west.handle()
        .delete("v1", "Pod", Some("shop"), "web-west-1")?;
    north.handle().create(pod("web-north-2"))?;
    print_next(&mut received, 2).await?;
    println!("// clusters now: {:?}", fleet.clusters());

    fleet.shutdown().await;
    for server in [east, west, north] {
        server.shutdown().await;
    }
    Ok(())
}

/// Prints the next `count` handler lines, sorted (clusters deliver concurrently).
async fn print_next(
    received: &mut mpsc::UnboundedReceiver<String>,
    count: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut lines = Vec::with_capacity(count);
    while lines.len() < count {
        let line = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await?
            .ok_or("the handlers stopped")?;
        lines.push(line);
    }
    lines.sort();
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

async fn cluster(pods: &[&str]) -> Result<RunningServer, Box<dyn std::error::Error>> {
    let objects = pods.iter().map(|name| pod(name));
    Ok(FakeApiServer::start(ServerConfig::default().objects(objects)).await?)
}

fn clientset(server: &RunningServer) -> Result<Clientset, Box<dyn std::error::Error>> {
    Ok(Clientset::new(Client::try_from(Config::new(
        server.url().parse()?,
    ))?))
}

fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    })
}
