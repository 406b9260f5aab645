//! Seed article 2.3: the dynamic client creates a Deployment (nginx:1.18-alpine, 1 replica)
//! from a YAML template embedded in the program, addressed only by group/version/resource,
//! like client-go's `dynamicClient.Resource(gvr).Namespace("default").Create(...)` with an
//! `unstructured.Unstructured`.
//!
//! Run: `cargo run -p kinformer-examples --example dynamic_create_deployment`

use kinformer::client::{Client, Config, DynamicClient, PostParams};
use kinformer::dynamic::from_yaml_documents;
use kinformer::meta::{GroupVersionResource, Scope};
use kinformer_replay::{FakeApiServer, ServerConfig};

/// The seed's `tpls/deployment.yaml`, embedded as the Go program does with `//go:embed`
/// (a file next to the program would use `include_str!("tpls/deployment.yaml")`).
const DEPLOYMENT_TEMPLATE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: myngx
  namespace: default
spec:
  selector:
    matchLabels:
      app: myngx
  replicas: 1
  template:
    metadata:
      labels:
        app: myngx
    spec:
      containers:
        - name: myngx-container
          image: nginx:1.18-alpine
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 80
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeApiServer::start(ServerConfig::default()).await?;
    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let dynamic = DynamicClient::new(client);

    // Any resource the cluster serves can be named this way; its kind need not be known.
    let deployments = GroupVersionResource::new("apps", "v1", "deployments");

    // yaml.Unmarshal into an Unstructured: one DynamicObject per YAML document.
    let mut documents = from_yaml_documents(DEPLOYMENT_TEMPLATE)?;
    let Some(deployment) = documents.pop() else {
        return Err("the template holds no YAML document".into());
    };

    let created = dynamic
        .resource_for(&deployments, Scope::Namespaced)
        .namespace("default")
        .create(&deployment, &PostParams::default())
        .await?;
    println!("Create deploy succeed");
    println!(
        "  {}/{} uid={} resourceVersion={}",
        created.metadata.namespace().unwrap_or_default(),
        created.metadata.name(),
        created.metadata.uid.as_deref().unwrap_or_default(),
        created.metadata.resource_version().unwrap_or_default(),
    );
    println!(
        "  replicas={} image={}",
        created.get_i64("spec.replicas").unwrap_or_default(),
        created
            .get_str("spec.template.spec.containers.0.image")
            .unwrap_or_default(),
    );

    // The server now holds it, as `kubectl get deploy myngx` would show.
    let stored = server.get("apps/v1", "Deployment", Some("default"), "myngx");
    println!("  stored on the server: {}", stored.is_some());

    server.shutdown().await;
    Ok(())
}
