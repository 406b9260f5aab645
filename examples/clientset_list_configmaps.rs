//! Seed article 2.2: the typed clientset lists the ConfigMaps of one namespace and prints each
//! one's name and data, like `clientset.CoreV1().ConfigMaps(ns).List(...)` in client-go.
//!
//! Run: `cargo run -p kinformer-examples --example clientset_list_configmaps`

use kinformer::client::{Client, Clientset, Config};
use kinformer::meta::ListOptions;
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two ConfigMaps in "default" and one elsewhere, which the namespaced list leaves out.
    let server = FakeApiServer::start(ServerConfig::default().objects([
        config_map(
            "default",
            "app-config",
            json!({"log_level": "info", "replicas": "3"}),
        ),
        config_map("default", "feature-flags", json!({"new_ui": "true"})),
        config_map(
            "kube-system",
            "coredns",
            json!({"Corefile": ".:53 { forward . /etc/resolv.conf }"}),
        ),
    ]))
    .await?;

    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let clientset = Clientset::new(client);

    let namespace = "default";
    let config_maps = clientset
        .core_v1()
        .config_maps(namespace)
        .list(&ListOptions::default())
        .await?;
    for config_map in &config_maps.items {
        // The body is decoded on first read; metadata always is.
        let data = config_map.data()?;
        let data = data
            .map(|data| {
                data.iter()
                    .map(|(key, value)| format!("{key}:{value}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        println!(
            "configName: {}, configData: map[{}]",
            config_map.metadata.name(),
            data
        );
    }

    server.shutdown().await;
    Ok(())
}

fn config_map(namespace: &str, name: &str, data: serde_json::Value) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    })
}
