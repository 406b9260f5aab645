//! Seed article 3.3.1: list & watch. A watch on the pods of `kube-system` first reports every
//! existing pod as `ADDED`, then each change as it happens, one line per event:
//! `ADDED : name - phase`, `MODIFIED : ...`, `DELETED : ...`. In client-go this is
//! `cache.NewListWatchFromClient(...).Watch(...)` and a loop over `ResultChan()`.
//!
//! Here the example itself plays `kubectl apply` and `kubectl delete`: once the existing pods
//! have arrived it creates a pod, lets it be scheduled and start running, then deletes it,
//! and stops when the deletion arrives.
//!
//! Run: `cargo run -p kinformer-examples --example list_watch_pods`

use std::time::Duration;

use futures::StreamExt;
use kinformer::client::{Client, Clientset, Config};
use kinformer::meta::{ListOptions, WatchEvent};
use kinformer::typed::Pod;
use kinformer_replay::{FakeApiServer, Handle, ServerConfig};
use serde_json::{json, Value};

/// The control plane of a small cluster, as the seed's output shows it.
const SYSTEM_PODS: [&str; 8] = [
    "kube-apiserver-k8s-01",
    "kube-scheduler-k8s-01",
    "coredns-65c54cc984-26zx9",
    "metrics-server-7fd564dc66-sm29c",
    "kube-proxy-6jl96",
    "coredns-65c54cc984-bgmpm",
    "etcd-k8s-01",
    "kube-controller-manager-k8s-01",
];

/// The pod the example creates and deletes while watching.
const NEW_POD: &str = "mygott-7565765f4d-2t4z8";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut objects: Vec<Value> = SYSTEM_PODS
        .iter()
        .map(|name| pod("kube-system", name, "Running"))
        .collect();
    // A pod in another namespace, which the namespaced watch never reports.
    objects.push(pod("default", "web-0", "Running"));
    let server = FakeApiServer::start(ServerConfig::default().objects(objects)).await?;

    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let pods = Clientset::new(client).core_v1().pods("kube-system");

    // No resourceVersion: the server first sends an ADDED event for every existing pod.
    let mut watch = pods.watch(&ListOptions::default()).await?;
    let mut initial = 0;
    let outcome = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = watch.next().await {
            let event = event?;
            let Some(pod) = event.object() else {
                continue; // bookmarks carry no pod
            };
            println!(
                "{} : {} - {}",
                event.type_name(),
                pod.metadata.name(),
                phase(pod)
            );
            if let WatchEvent::Added(_) = event {
                initial += 1;
                if initial == SYSTEM_PODS.len() {
                    println!("// kubectl apply -f deploy.yaml, then kubectl delete deploy mygott");
                    change_a_pod(&server.handle())?;
                }
            }
            if matches!(event, WatchEvent::Deleted(_)) && pod.metadata.name() == NEW_POD {
                break;
            }
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
    .await;

    server.shutdown().await;
    match outcome {
        Ok(result) => result,
        Err(_) => Err("the watch did not report the deletion within 10 s".into()),
    }
}

/// What a Deployment's pod goes through: created Pending, scheduled to a node, Running,
/// deleted. Each write is one watch event.
fn change_a_pod(server: &Handle) -> Result<(), Box<dyn std::error::Error>> {
    server.create(pod("kube-system", NEW_POD, "Pending"))?;

    let mut scheduled = pod("kube-system", NEW_POD, "Pending");
    scheduled["spec"]["nodeName"] = json!("k8s-01");
    server.update(scheduled.clone())?;

    let mut running = scheduled;
    running["status"]["phase"] = json!("Running");
    server.update(running)?;

    server.delete("v1", "Pod", Some("kube-system"), NEW_POD)?;
    Ok(())
}

fn pod(namespace: &str, name: &str, phase: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.9"}]},
        "status": {"phase": phase},
    })
}

/// The pod's phase; the status is decoded here, on first read.
fn phase(pod: &Pod) -> String {
    match pod.status() {
        Ok(Some(status)) => status.phase.clone().unwrap_or_default(),
        Ok(None) => String::new(),
        Err(error) => format!("<undecodable status: {error}>"),
    }
}
