//! `Config::infer` and `Kubeconfig::read`: `$KUBECONFIG`, then `~/.kube/config`, then the
//! in-cluster service account. One test in its own binary because it sets process
//! environment variables.

use std::path::Path;

use kinformer_client::{Config, Error, Kubeconfig};

#[tokio::test]
async fn infer_prefers_kubeconfig_env_then_home_config_then_in_cluster() {
    let merge = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kubeconfig/merge");
    let home = tempfile::tempdir().unwrap();
    std::env::remove_var("KUBERNETES_SERVICE_HOST");
    std::env::remove_var("KUBERNETES_SERVICE_PORT");
    std::env::set_var("HOME", home.path());

    // $KUBECONFIG lists files in order, with a missing one skipped.
    let list = std::env::join_paths([
        merge.join("b/config"),
        merge.join("missing"),
        merge.join("a/config"),
    ])
    .unwrap();
    std::env::set_var("KUBECONFIG", &list);
    let config = Config::infer().await.unwrap();
    assert_eq!(config.cluster_url, "https://prod.example:6443/");

    // Nothing anywhere: a clear "not found" naming both places.
    std::env::set_var("KUBECONFIG", merge.join("missing"));
    assert!(Kubeconfig::read().unwrap().is_none());
    let err = Config::infer().await.unwrap_err();
    assert!(
        matches!(&err, Error::ConfigNotFound(m) if m.contains("KUBERNETES_SERVICE_HOST")),
        "{err}"
    );

    // Without $KUBECONFIG, ~/.kube/config is used.
    std::env::remove_var("KUBECONFIG");
    std::fs::create_dir_all(home.path().join(".kube")).unwrap();
    std::fs::write(
        home.path().join(".kube/config"),
        "current-context: c\ncontexts:\n- {name: c, context: {cluster: k, namespace: home-ns}}\nclusters:\n- {name: k, cluster: {server: 'https://home.example'}}\n",
    )
    .unwrap();
    let config = Config::infer().await.unwrap();
    assert_eq!(config.cluster_url.host(), Some("home.example"));
    assert_eq!(config.default_namespace, "home-ns");

    // No kubeconfig but service env set: the in-cluster loader is tried (and here fails on the
    // missing service-account mount, with an in-cluster error rather than "not found").
    std::fs::remove_file(home.path().join(".kube/config")).unwrap();
    std::env::set_var("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    std::env::set_var("KUBERNETES_SERVICE_PORT", "443");
    if !Path::new(kinformer_client::config::incluster::SERVICE_ACCOUNT_DIR).exists() {
        let err = Config::infer().await.unwrap_err();
        assert!(
            matches!(&err, Error::InCluster(m) if m.contains("token")),
            "{err}"
        );
    }
}
