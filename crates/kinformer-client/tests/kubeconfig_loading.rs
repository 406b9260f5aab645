//! Loading kubeconfig files: client-go's merge table over fixtures/kubeconfig/merge, relative
//! paths, missing and duplicate files, overrides, and errors that name file, entry and field.

use std::path::{Path, PathBuf};

use kinformer_client::auth::Auth;
use kinformer_client::{Config, Error, Kubeconfig, KubeconfigOptions};

fn merge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kubeconfig/merge")
}

fn load(order: &[&str]) -> Kubeconfig {
    let paths: Vec<PathBuf> = order.iter().map(|p| merge_dir().join(p)).collect();
    Kubeconfig::read_paths(&paths).unwrap().unwrap()
}

fn cluster_server(kubeconfig: &Kubeconfig, name: &str) -> String {
    let cluster = kubeconfig.clusters.iter().find(|c| c.name == name).unwrap();
    cluster.cluster.as_ref().unwrap().server.clone().unwrap()
}

fn options(context: Option<&str>, user: Option<&str>) -> KubeconfigOptions {
    KubeconfigOptions {
        context: context.map(Into::into),
        user: user.map(Into::into),
        ..Default::default()
    }
}

/// The merge table from client-go's loading rules, one row per fact.
#[test]
fn merging_two_files_follows_the_first_file_wins_table() {
    let merged = load(&["a/config", "b/config"]);
    // Row: a name defined in both files comes whole from the first.
    assert_eq!(cluster_server(&merged, "shared"), "https://a.example:6443");
    let shared = merged.clusters.iter().find(|c| c.name == "shared").unwrap();
    assert!(!shared.cluster.as_ref().unwrap().insecure_skip_tls_verify);
    assert!(shared.origin.as_ref().unwrap().ends_with("a/config"));
    // Row: names only in the second file are added.
    assert_eq!(cluster_server(&merged, "prod"), "https://prod.example:6443");
    let names: Vec<_> = merged.auth_infos.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    let dev = merged.contexts.iter().find(|c| c.name == "dev").unwrap();
    assert_eq!(dev.context.as_ref().unwrap().cluster, "shared");
    // Row: current-context from the first file that sets it.
    assert_eq!(merged.current_context.as_deref(), Some("dev"));

    let reversed = load(&["b/config", "a/config"]);
    assert_eq!(
        cluster_server(&reversed, "shared"),
        "https://b.example:6443"
    );
    assert_eq!(reversed.current_context.as_deref(), Some("prod"));
}

#[test]
fn missing_files_are_skipped_and_duplicates_read_once() {
    let merged = load(&[
        "does-not-exist",
        "a/config",
        "a/config",
        "b/config",
        "nope/config",
    ]);
    assert_eq!(merged.clusters.len(), 2);
    assert_eq!(merged.current_context.as_deref(), Some("dev"));
    let none =
        Kubeconfig::read_paths(&[merge_dir().join("missing-1"), merge_dir().join("missing-2")])
            .unwrap();
    assert!(none.is_none());
}

#[test]
fn kubeconfig_env_value_lists_files_in_order() {
    let value =
        std::env::join_paths([merge_dir().join("b/config"), merge_dir().join("a/config")]).unwrap();
    let paths = Kubeconfig::paths_from_env_value(&value);
    let merged = Kubeconfig::read_paths(&paths).unwrap().unwrap();
    assert_eq!(merged.current_context.as_deref(), Some("prod"));
}

#[test]
fn an_explicit_path_must_exist() {
    let err = Kubeconfig::read_from(merge_dir().join("absent")).unwrap_err();
    assert!(
        matches!(&err, Error::KubeconfigRead { path, .. } if path.ends_with("absent")),
        "{err}"
    );
}

#[test]
fn relative_paths_resolve_against_the_file_that_named_them() {
    let merged = load(&["a/config", "b/config"]);
    let config = Config::from_kubeconfig(&merged, &KubeconfigOptions::default()).unwrap();
    assert_eq!(config.cluster_url, "https://a.example:6443/");
    assert_eq!(config.default_namespace, "team-a");
    assert_eq!(
        config.root_certificates.as_deref(),
        Some(
            std::fs::read(merge_dir().join("a/ca.crt"))
                .unwrap()
                .as_slice()
        )
    );
    match &config.auth {
        Auth::TokenFile(path) => assert_eq!(path, &merge_dir().join("a").join("tokens/alice")),
        other => panic!("unexpected {other:?}"),
    }

    // bob's certificate files sit beside b/config; prod's CA is "../a/ca.crt" from b/.
    let config = Config::from_kubeconfig(&merged, &options(Some("prod"), None)).unwrap();
    assert_eq!(config.tls_server_name.as_deref(), Some("kubernetes"));
    assert!(config.client_certificate.is_some());
    assert!(config.root_certificates.is_some());
    assert_eq!(config.default_namespace, "default");
}

#[test]
fn the_user_override_replaces_the_contexts_user() {
    let merged = load(&["a/config", "b/config"]);
    let config = Config::from_kubeconfig(&merged, &options(Some("prod"), Some("alice"))).unwrap();
    assert!(matches!(config.auth, Auth::TokenFile(_)));
    assert!(config.client_certificate.is_none());
}

#[test]
fn yaml_errors_in_a_file_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        "clusters:\n- name: a\n  cluster:\n    server: [unclosed\n",
    )
    .unwrap();
    match Kubeconfig::read_from(&path).unwrap_err() {
        Error::KubeconfigSyntax {
            file, line, column, ..
        } => {
            assert_eq!(file, path.display().to_string());
            assert!(line >= 4, "line {line}");
            assert!(column > 0);
        }
        other => panic!("unexpected {other}"),
    }
}

/// Every validation error names the file, entry and field.
#[test]
fn validation_errors_name_file_entry_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str, &str)] = &[
        ("clusters:\n- name: k\n  cluster: {}\n", "cluster \"k\"", "server", "missing"),
        ("", "context \"c\"", "user", "not defined"),
        ("users:\n- name: u\n  user: {token: t, password: p}\n", "user \"u\"", "token", "basic auth"),
        ("users:\n- name: u\n  user: {client-certificate: missing.crt, client-key: missing.key}\n", "user \"u\"", "client-certificate", "cannot read"),
        ("users:\n- name: u\n  user: {client-certificate-data: '%%%', client-key-data: 'AAAA'}\n", "user \"u\"", "client-certificate-data", "malformed base64"),
        ("users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1}}\n", "user \"u\"", "exec.command", "missing"),
    ];
    for (i, (extra, entry, field, problem)) in cases.iter().enumerate() {
        let mut yaml = String::from(
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n",
        );
        if !extra.starts_with("clusters") {
            yaml.push_str("clusters:\n- name: k\n  cluster: {server: 'https://k'}\n");
        }
        yaml.push_str(extra);
        let path = dir.path().join(format!("config-{i}"));
        std::fs::write(&path, yaml).unwrap();
        let kubeconfig = Kubeconfig::read_from(&path).unwrap();
        let err = Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default()).unwrap_err();
        match &err {
            Error::Kubeconfig {
                file,
                entry: e,
                field: f,
                problem: p,
            } => {
                assert_eq!(file, &path.display().to_string(), "case {i}");
                assert_eq!(e, entry, "case {i}");
                assert_eq!(f, field, "case {i}");
                assert!(p.contains(problem), "case {i}: {p}");
            }
            other => panic!("case {i}: unexpected {other}"),
        }
        let text = err.to_string();
        assert!(
            text.contains(&path.display().to_string()) && text.contains(field),
            "{text}"
        );
    }
}

#[test]
fn a_certificate_file_without_a_key_in_the_key_file_is_refused() {
    let merged = load(&["a/config", "b/config"]);
    // Point bob's key at a certificate: PEM, but no private key in it.
    let mut broken = merged.clone();
    let bob = broken
        .auth_infos
        .iter_mut()
        .find(|u| u.name == "bob")
        .unwrap();
    bob.user.as_mut().unwrap().client_key =
        Some(merge_dir().join("b/bob.crt").display().to_string());
    let err = Config::from_kubeconfig(&broken, &options(Some("prod"), None)).unwrap_err();
    assert!(
        matches!(&err, Error::Kubeconfig { field, problem, .. } if field == "client-key" && problem == "contains no PEM private key"),
        "{err}"
    );
}
