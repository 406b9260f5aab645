//! Unit tests of discovery: recorded legacy documents, aggregated documents with a stale
//! version, and kubectl's preferred-resource rule.

use super::*;

/// `GET /apis/wardle.example.com/v1alpha1` as sample-apiserver v0.36.3 answered it.
const WARDLE_V1ALPHA1: &str = r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"wardle.example.com/v1alpha1","resources":[{"name":"fischers","singularName":"fischer","namespaced":false,"kind":"Fischer","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"storageVersionHash":"YS5qRiSxzNM="},{"name":"flunders","singularName":"flunder","namespaced":true,"kind":"Flunder","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"storageVersionHash":"UHqNx5H3K7A="},{"name":"flunders/status","singularName":"","namespaced":true,"kind":"Flunder","verbs":["get","patch","update"]}]}"#;

fn wardle() -> ServerResources {
    let v1alpha1 = GroupVersion::new("wardle.example.com", "v1alpha1");
    let v1beta1 = GroupVersion::new("wardle.example.com", "v1beta1");
    let alpha = from_legacy(&v1alpha1, serde_json::from_str(WARDLE_V1ALPHA1).unwrap());
    let beta: Vec<DiscoveredResource> = alpha
        .iter()
        .filter(|r| r.name == "flunders")
        .map(|r| DiscoveredResource {
            version: "v1beta1".into(),
            ..r.clone()
        })
        .collect();
    ServerResources {
        mode: DiscoveryMode::Legacy,
        aggregated_version: None,
        groups: vec![DiscoveredGroup {
            name: "wardle.example.com".into(),
            versions: vec!["v1beta1".into(), "v1alpha1".into()],
        }],
        group_versions: vec![
            GroupVersionResources {
                group_version: v1beta1,
                resources: beta,
            },
            GroupVersionResources {
                group_version: v1alpha1,
                resources: alpha,
            },
        ],
        failures: Vec::new(),
    }
}

#[test]
fn legacy_resource_lists_fold_subresources_into_their_parent() {
    let gv = GroupVersion::new("wardle.example.com", "v1alpha1");
    let resources = from_legacy(&gv, serde_json::from_str(WARDLE_V1ALPHA1).unwrap());
    assert_eq!(resources.len(), 2);
    let flunders = &resources[1];
    assert_eq!(flunders.name, "flunders");
    assert_eq!(flunders.subresources, ["status"]);
    assert_eq!(flunders.api_version(), "wardle.example.com/v1alpha1");
    assert!(flunders.namespaced && !resources[0].namespaced);
    assert!(flunders.supports("watch"));
    assert_eq!(flunders.api_resource().scope, Scope::Namespaced);
}

#[test]
fn preferred_resources_print_like_kubectl_api_resources() {
    // kubectl printed: fischers wardle.example.com/v1alpha1 false Fischer;
    //                  flunders wardle.example.com/v1beta1  true  Flunder.
    let preferred = wardle().preferred_resources();
    let rows: Vec<(String, String, bool, String)> = preferred
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                r.api_version(),
                r.namespaced,
                r.kind.clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
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

#[test]
fn aggregated_documents_keep_version_order_and_report_stale_versions() {
    let document = r#"{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[
        {"metadata":{"name":"apps","creationTimestamp":null},"versions":[
            {"version":"v1","freshness":"Current","resources":[{"resource":"deployments","responseKind":{"group":"apps","version":"v1","kind":"Deployment"},"scope":"Namespaced","singularResource":"deployment","verbs":["get","list"],"shortNames":["deploy"],"categories":["all"],"subresources":[{"subresource":"scale","verbs":["get"]},{"subresource":"status","verbs":["get"]}]}]},
            {"version":"v1beta9","freshness":"Stale","resources":[]}
        ]}]}"#;
    let mut result = ServerResources {
        mode: DiscoveryMode::Aggregated,
        aggregated_version: Some("v2"),
        groups: Vec::new(),
        group_versions: Vec::new(),
        failures: Vec::new(),
    };
    add_aggregated(&mut result, serde_json::from_str(document).unwrap());
    assert_eq!(result.groups[0].preferred_version(), Some("v1"));
    assert_eq!(result.groups[0].versions, ["v1", "v1beta9"]);
    let deployments = &result
        .resources_for(&GroupVersion::new("apps", "v1"))
        .unwrap()[0];
    assert_eq!(deployments.short_names, ["deploy"]);
    assert_eq!(deployments.subresources, ["scale", "status"]);
    assert_eq!(deployments.kind, "Deployment");
    assert_eq!(result.failures.len(), 1);
    assert_eq!(result.failures[0].group_version.to_string(), "apps/v1beta9");
    assert!(!result.is_complete());
}

#[test]
fn aggregated_content_types_are_read_for_v2_and_v2beta1_only() {
    let v2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    assert_eq!(aggregated_version(v2), Some("v2"));
    let beta = "application/json; g=apidiscovery.k8s.io; v=v2beta1; as=APIGroupDiscoveryList";
    assert_eq!(aggregated_version(beta), Some("v2beta1"));
    let future = "application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList";
    assert_eq!(aggregated_version(future), None);
    let other_group = "application/json;g=example.com;v=v2;as=APIGroupDiscoveryList";
    assert_eq!(aggregated_version(other_group), None);
}

#[test]
fn the_accept_header_asks_for_v2_then_v2beta1_then_plain_json_like_kubectl() {
    let ranges: Vec<&str> = AGGREGATED_ACCEPT.split(',').collect();
    assert_eq!(ranges.len(), 3);
    assert!(ranges[0].contains("v=v2;"));
    assert!(ranges[1].contains("v=v2beta1;"));
    assert_eq!(ranges[2], "application/json");
}
