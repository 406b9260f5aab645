//! Discovery and REST mapping against the fake API server: aggregated and legacy modes give the
//! same answer, a failing group/version is reported beside the rest, the cache holds until
//! invalidated, the mapper resolves what kubectl users type, and (behind a proxy playing an
//! older server) discovery falls back from v2 to v2beta1 to legacy documents.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use kinformer_client::discovery::{DiscoveredResource, DiscoveryMode};
use kinformer_client::{Client, Config, DiscoveryClient, Error, RestMapper};
use kinformer_meta::{GroupVersion, Scope};
use kinformer_replay::{
    FakeApiServer, Fault, FaultRule, ResourceInfo, RunningServer, ServerConfig,
};

async fn start(config: ServerConfig) -> (RunningServer, DiscoveryClient) {
    let server = FakeApiServer::start(config).await.unwrap();
    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
    (server, DiscoveryClient::new(client))
}

fn wardle() -> ServerConfig {
    ServerConfig::default()
        .resource(ResourceInfo::new(
            "wardle.example.com",
            "v1beta1",
            "Flunder",
            "flunders",
        ))
        .resource(ResourceInfo::new(
            "wardle.example.com",
            "v1alpha1",
            "Flunder",
            "flunders",
        ))
        .resource(
            ResourceInfo::new("wardle.example.com", "v1alpha1", "Fischer", "fischers")
                .cluster_scoped(),
        )
}

type Row = (String, Vec<String>, String, bool, String);

/// What `kubectl api-resources` prints for each resource.
fn rows(resources: &[DiscoveredResource]) -> BTreeSet<Row> {
    resources
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                r.short_names.clone(),
                r.api_version(),
                r.namespaced,
                r.kind.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn aggregated_discovery_lists_groups_resources_and_short_names() {
    let (_server, discovery) = start(ServerConfig::default()).await;
    let version = discovery.server_version().await.unwrap();
    assert_eq!(version.major, "1");
    assert!(version.git_version.starts_with('v'));

    let all = discovery.server_groups_and_resources().await.unwrap();
    assert_eq!(all.mode, DiscoveryMode::Aggregated);
    assert_eq!(all.aggregated_version, Some("v2"));
    assert!(all.is_complete());
    assert_eq!(all.groups[0].name, "", "core comes first");
    let groups = discovery.server_groups().await.unwrap();
    assert!(groups
        .iter()
        .any(|g| g.name == "apps" && g.preferred_version() == Some("v1")));

    let (preferred, failures) = discovery.server_preferred_resources().await.unwrap();
    assert!(failures.is_empty());
    let pods = preferred.iter().find(|r| r.name == "pods").unwrap();
    assert_eq!(pods.short_names, ["po"]);
    assert!(pods.namespaced && pods.supports("watch"));
    assert_eq!(pods.subresources, ["status"]);
    let deployments = preferred.iter().find(|r| r.name == "deployments").unwrap();
    assert_eq!(deployments.api_version(), "apps/v1");
    assert_eq!(deployments.kind, "Deployment");
    let nodes = preferred.iter().find(|r| r.name == "nodes").unwrap();
    assert_eq!(nodes.api_resource().scope, Scope::Cluster);
}

#[tokio::test]
async fn legacy_discovery_finds_exactly_what_aggregated_discovery_finds() {
    let (server, aggregated) = start(wardle()).await;
    let legacy =
        DiscoveryClient::new(Client::try_from(Config::new(server.url().parse().unwrap())).unwrap())
            .legacy_only();
    let from_aggregated = aggregated.server_groups_and_resources().await.unwrap();
    let from_legacy = legacy.server_groups_and_resources().await.unwrap();
    assert_eq!(from_legacy.mode, DiscoveryMode::Legacy);
    assert_eq!(from_legacy.groups, from_aggregated.groups);
    assert_eq!(
        rows(&from_legacy.preferred_resources()),
        rows(&from_aggregated.preferred_resources())
    );
    let pods = from_legacy
        .resources_for(&GroupVersion::new("", "v1"))
        .unwrap()
        .iter()
        .find(|r| r.name == "pods")
        .unwrap();
    assert_eq!(pods.subresources, ["status"], "pods/status folds into pods");
}

#[tokio::test]
async fn preferred_resources_match_kubectl_api_resources_on_the_wardle_server() {
    let (_server, discovery) = start(wardle()).await;
    let (preferred, _) = discovery.server_preferred_resources().await.unwrap();
    let wardle: Vec<(String, String, bool, String)> = preferred
        .iter()
        .filter(|r| r.group == "wardle.example.com")
        .map(|r| {
            (
                r.name.clone(),
                r.api_version(),
                r.namespaced,
                r.kind.clone(),
            )
        })
        .collect();
    // kubectl printed: flunders wardle.example.com/v1beta1 true Flunder and
    // fischers wardle.example.com/v1alpha1 false Fischer.
    assert_eq!(
        wardle,
        [
            (
                "flunders".into(),
                "wardle.example.com/v1beta1".into(),
                true,
                "Flunder".into()
            ),
            (
                "fischers".into(),
                "wardle.example.com/v1alpha1".into(),
                false,
                "Fischer".into()
            ),
        ]
    );
}

#[tokio::test]
async fn a_failing_group_version_is_reported_beside_what_succeeded() {
    let (server, discovery) = start(ServerConfig::default()).await;
    let discovery = discovery.legacy_only();
    server.inject(
        FaultRule::new(Fault::internal_error())
            .verb("discovery")
            .path("/apis/apps/v1")
            .always(),
    );
    let all = discovery.server_groups_and_resources().await.unwrap();
    assert_eq!(all.failures.len(), 1);
    let failure = &all.failures[0];
    assert_eq!(failure.group_version, GroupVersion::new("apps", "v1"));
    assert!(
        matches!(&*failure.error, Error::DiscoveryFailed { group_version, .. } if group_version == "apps/v1"),
        "{}",
        failure.error
    );
    assert_eq!(failure.error.status().map(|s| s.code), Some(500));
    let preferred = all.preferred_resources();
    assert!(preferred.iter().any(|r| r.name == "pods"));
    assert!(preferred.iter().any(|r| r.name == "jobs"));
    assert!(!preferred.iter().any(|r| r.name == "deployments"));
}

#[tokio::test]
async fn a_failing_group_list_is_an_error_naming_it() {
    let (server, discovery) = start(ServerConfig::default()).await;
    server.inject(
        FaultRule::new(Fault::internal_error())
            .verb("discovery")
            .path("/apis")
            .always(),
    );
    let error = discovery.server_groups_and_resources().await.unwrap_err();
    assert!(
        matches!(&error, Error::DiscoveryFailed { group_version, .. } if group_version == "/apis"),
        "{error}"
    );
}

#[tokio::test]
async fn the_cache_holds_until_invalidated() {
    let (server, discovery) = start(ServerConfig::default()).await;
    let before = discovery.server_groups_and_resources().await.unwrap();
    server.register(ResourceInfo::new("example.com", "v1", "Widget", "widgets"));
    let cached = discovery.server_groups_and_resources().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&before, &cached));
    assert!(!cached.groups.iter().any(|g| g.name == "example.com"));
    discovery.invalidate();
    let fresh = discovery.server_groups_and_resources().await.unwrap();
    assert!(fresh.groups.iter().any(|g| g.name == "example.com"));
}

#[tokio::test]
async fn the_rest_mapper_resolves_what_kubectl_users_type() {
    let (_server, discovery) = start(wardle()).await;
    let mapper = RestMapper::from_discovery(&discovery).await.unwrap();
    for argument in [
        "deploy",
        "deployments",
        "deployment",
        "Deployment",
        "deployments.apps",
        "deployment.v1.apps",
    ] {
        let resource = mapper.resource_for(argument).unwrap();
        assert_eq!(
            (
                resource.group.as_str(),
                resource.version.as_str(),
                resource.plural.as_str()
            ),
            ("apps", "v1", "deployments"),
            "{argument}"
        );
    }
    assert_eq!(mapper.resource_for("po").unwrap().plural, "pods");
    assert_eq!(
        mapper.resource_for("crd").unwrap().group,
        "apiextensions.k8s.io"
    );
    assert_eq!(
        mapper.resource_for("ev").unwrap().group,
        "",
        "core events win"
    );
    assert_eq!(
        mapper.resource_for("ev.events.k8s.io").unwrap().group,
        "events.k8s.io"
    );
    assert_eq!(mapper.resource_for("flunders").unwrap().version, "v1beta1");
    assert_eq!(
        mapper
            .resource_for("flunder.v1alpha1.wardle.example.com")
            .unwrap()
            .version,
        "v1alpha1"
    );
    assert_eq!(
        mapper.resource_for("fischers").unwrap().scope,
        Scope::Cluster
    );
    assert_eq!(
        mapper
            .preferred_resource_for_kind("apps", "Deployment")
            .unwrap()
            .plural,
        "deployments"
    );
    assert!(matches!(
        mapper.resource_for("widgets"),
        Err(Error::UnknownResource { name }) if name == "widgets"
    ));
}

/// What the proxy does to a request's Accept header, playing an older server.
#[derive(Clone, Copy)]
enum OldServer {
    /// 1.26-1.29: v2 is unknown, so its media range is ignored.
    WithoutV2,
    /// Before 1.26: no aggregated discovery at all.
    WithoutAggregated,
    /// Something in front of the server answers 406 to any aggregated media type.
    RefusingAggregated,
}

/// A loopback proxy that rewrites (or refuses) aggregated discovery Accept headers and keeps
/// the Accept header of every request it saw. One request per connection.
async fn old_server(upstream: SocketAddr, mode: OldServer) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match client.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let mut forwarded = String::new();
                let mut refuse = false;
                for line in head.split_inclusive("\r\n") {
                    let lower = line.to_ascii_lowercase();
                    if lower.starts_with("connection:") {
                        continue;
                    }
                    if lower.starts_with("accept:") {
                        let value = line["accept:".len()..].trim().to_string();
                        log.lock().unwrap().push(value.clone());
                        let ranges: Vec<&str> = value.split(',').collect();
                        let kept: Vec<&str> = match mode {
                            OldServer::WithoutV2 => ranges
                                .into_iter()
                                .filter(|r| !r.contains("v=v2;"))
                                .collect(),
                            OldServer::WithoutAggregated => ranges
                                .into_iter()
                                .filter(|r| !r.contains("apidiscovery"))
                                .collect(),
                            OldServer::RefusingAggregated => {
                                refuse = value.contains("apidiscovery");
                                ranges
                            }
                        };
                        forwarded.push_str(&format!("accept: {}\r\n", kept.join(",")));
                        continue;
                    }
                    if line == "\r\n" {
                        forwarded.push_str("connection: close\r\n");
                    }
                    forwarded.push_str(line);
                }
                if refuse {
                    let body = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"only application/json is served","reason":"NotAcceptable","code":406}"#;
                    let _ = client
                        .write_all(
                            format!(
                                "HTTP/1.1 406 Not Acceptable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            )
                            .as_bytes(),
                        )
                        .await;
                    return;
                }
                let Ok(mut server) = TcpStream::connect(upstream).await else {
                    return;
                };
                if server.write_all(forwarded.as_bytes()).await.is_err() {
                    return;
                }
                let _ = tokio::io::copy(&mut server, &mut client).await;
                let _ = client.shutdown().await;
            });
        }
    });
    (format!("http://{address}"), seen)
}

/// Discovery through a proxy playing `mode`; also what the fake server itself answers.
async fn discover_behind(
    mode: OldServer,
) -> (
    Arc<kinformer_client::discovery::ServerResources>,
    Arc<kinformer_client::discovery::ServerResources>,
    Vec<String>,
) {
    let (server, direct) = start(wardle()).await;
    let (url, seen) = old_server(server.address(), mode).await;
    let behind = DiscoveryClient::new(Client::try_from(Config::new(url.parse().unwrap())).unwrap());
    let through = behind.server_groups_and_resources().await.unwrap();
    let reference = direct.server_groups_and_resources().await.unwrap();
    let accepts = seen.lock().unwrap().clone();
    (through, reference, accepts)
}

#[tokio::test]
async fn a_server_without_v2_is_read_through_aggregated_v2beta1() {
    let (through, reference, accepts) = discover_behind(OldServer::WithoutV2).await;
    assert_eq!(through.mode, DiscoveryMode::Aggregated);
    assert_eq!(through.aggregated_version, Some("v2beta1"));
    assert_eq!(accepts.len(), 2, "only /api and /apis: {accepts:?}");
    assert!(accepts
        .iter()
        .all(|a| a.contains("v=v2;") && a.contains("v=v2beta1;")));
    assert_eq!(through.groups, reference.groups);
    assert_eq!(
        rows(&through.preferred_resources()),
        rows(&reference.preferred_resources())
    );
    assert!(through.is_complete());
}

#[tokio::test]
async fn a_server_without_aggregated_discovery_is_read_through_legacy_documents() {
    let (through, reference, accepts) = discover_behind(OldServer::WithoutAggregated).await;
    assert_eq!(through.mode, DiscoveryMode::Legacy);
    assert_eq!(through.aggregated_version, None);
    assert!(
        accepts.len() > 2,
        "one request per group/version: {accepts:?}"
    );
    assert_eq!(through.groups, reference.groups);
    assert_eq!(
        rows(&through.preferred_resources()),
        rows(&reference.preferred_resources())
    );
}

#[tokio::test]
async fn a_406_to_the_aggregated_media_types_falls_back_to_legacy_discovery() {
    let (through, reference, accepts) = discover_behind(OldServer::RefusingAggregated).await;
    assert_eq!(through.mode, DiscoveryMode::Legacy);
    assert_eq!(
        accepts
            .iter()
            .filter(|a| a.contains("apidiscovery"))
            .count(),
        2,
        "/api and /apis were each refused once, then asked for plain JSON: {accepts:?}"
    );
    assert!(accepts.iter().any(|a| a == "application/json"));
    assert_eq!(through.groups, reference.groups);
    assert_eq!(
        rows(&through.preferred_resources()),
        rows(&reference.preferred_resources())
    );
}
