//! Seed article 2.4: the discovery client asks the server what it serves and prints the
//! preferred resources, what client-go's `ServerPreferredResources` returns and
//! `kubectl api-resources` prints.
//!
//! Run: `cargo run -p kinformer-examples --example discovery_preferred_resources`

use kinformer::client::{Client, Config, DiscoveryClient};
use kinformer_replay::{FakeApiServer, ServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeApiServer::start(ServerConfig::default()).await?;
    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let discovery = DiscoveryClient::new(client);

    // Groups or versions that failed are reported beside what succeeded, not as one error.
    let (preferred, failures) = discovery.server_preferred_resources().await?;
    println!(
        "{:<32} {:<12} {:<32} {:<10} KIND",
        "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED"
    );
    for resource in &preferred {
        println!(
            "{:<32} {:<12} {:<32} {:<10} {}",
            resource.name,
            resource.short_names.join(","),
            resource.api_version(),
            resource.namespaced,
            resource.kind
        );
    }
    println!(
        "{} resources, {} failed group/versions",
        preferred.len(),
        failures.len()
    );
    for failure in &failures {
        println!("failed: {}: {}", failure.group_version, failure.error);
    }

    server.shutdown().await;
    Ok(())
}
