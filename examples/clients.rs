//! Seed article 2.1: load a kubeconfig and build the three clients (typed clientset, dynamic
//! client, discovery client), as client-go's `clientcmd.BuildConfigFromFlags` plus
//! `kubernetes.NewForConfig`, `dynamic.NewForConfig` and `discovery.NewDiscoveryClient` do.
//!
//! The fake API server runs in-process and writes a kubeconfig pointing at itself into a
//! temporary directory, which stands in for `~/.kube/config`.
//!
//! Run: `cargo run -p kinformer-examples --example clients`

use kinformer::client::{
    Client, Clientset, Config, DiscoveryClient, DynamicClient, Kubeconfig, KubeconfigOptions,
};
use kinformer::meta::ListOptions;
use kinformer_replay::{FakeApiServer, ServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let namespaces = ["default", "kube-system", "kube-public"].map(|name| {
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    });
    let server = FakeApiServer::start(ServerConfig::default().objects(namespaces)).await?;

    // What a user has in ~/.kube/config; here a file in a temporary directory.
    let home = tempfile::tempdir()?;
    let kubeconfig_path = home.path().join("config");
    std::fs::write(&kubeconfig_path, server.kubeconfig())?;

    // clientcmd.BuildConfigFromFlags("", path): read the file, resolve the current context.
    let kubeconfig = Kubeconfig::read_from(&kubeconfig_path)?;
    let config = Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default())?;
    println!(
        "config from kubeconfig: server={} namespace={}",
        config.cluster_url, config.default_namespace
    );

    // The shortcut when only a URL is known (no credentials, namespace "default").
    let shortcut = Config::new(server.url().parse()?);
    println!("config from url:        server={}", shortcut.cluster_url);

    // One Client (connection pool, auth, rate limit) is shared by every kind of client.
    let client = Client::try_from(config)?;

    // kubernetes.NewForConfig: the typed clientset.
    let clientset = Clientset::new(client.clone());
    let namespaces = clientset
        .core_v1()
        .namespaces()
        .list(&ListOptions::default())
        .await?;
    println!("clientset:  {} namespaces", namespaces.items.len());

    // dynamic.NewForConfig: any group/version/resource, objects as DynamicObject.
    let dynamic = DynamicClient::new(client.clone());
    let gvr = kinformer::meta::GroupVersionResource::new("", "v1", "namespaces");
    let dynamic_namespaces = dynamic
        .resource_for(&gvr, kinformer::meta::Scope::Cluster)
        .list(&ListOptions::default())
        .await?;
    println!("dynamic:    {} namespaces", dynamic_namespaces.items.len());

    // discovery.NewDiscoveryClient: what the server serves.
    let discovery = DiscoveryClient::new(client);
    let version = discovery.server_version().await?;
    let groups = discovery.server_groups().await?;
    println!(
        "discovery:  server {} serving {} API groups",
        version.git_version,
        groups.len()
    );

    server.shutdown().await;
    Ok(())
}
