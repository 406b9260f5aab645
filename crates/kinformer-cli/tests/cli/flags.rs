//! The kubectl-style connection flags: `--server`, `KUBECONFIG`, `--context`, `--token`,
//! `--insecure-skip-tls-verify`, and their help text.

use kinformer_replay::{FakeApiServer, ServerConfig};

use crate::common::{assert_ok, assert_one_line_error, shop, stderr, stdout, Cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_flag_works_without_a_kubeconfig() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .command(&["get", "pods", "-n", "payments", "-o", "name", "--server"])
        .arg(cluster.server.url())
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod/api-1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_environment_variable_is_honoured() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .command(&["get", "pods", "-n", "payments", "-o", "name"])
        .env("KUBECONFIG", cluster.kubeconfig())
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod/api-1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_flag_picks_another_kubeconfig_context() {
    let cluster = Cluster::start(shop()).await;
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: http://127.0.0.1:1\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: dead\n  context: {{cluster: dead, user: u}}\n- name: good\n  context: {{cluster: fake, user: u, namespace: payments}}\ncurrent-context: dead\nusers:\n- name: u\n  user: {{}}\n",
        cluster.server.url()
    );
    let path = cluster.dir.path().join("two-contexts");
    std::fs::write(&path, kubeconfig).unwrap();
    let output = cluster
        .command(&[
            "get",
            "pods",
            "-o",
            "name",
            "--context",
            "good",
            "--kubeconfig",
        ])
        .arg(&path)
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "pod/api-1\n",
        "the context's namespace is used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_and_insecure_flags_reach_a_tls_server_that_wants_a_token() {
    let server = FakeApiServer::start(
        ServerConfig::default()
            .generated_tls()
            .token("s3cret-token")
            .objects(shop()),
    )
    .await
    .unwrap();
    let cluster = Cluster::start(Vec::new()).await;
    let url = server.url();
    assert!(url.starts_with("https://"));

    let output = cluster
        .command(&[
            "get", "pods", "-n", "payments", "-o", "name", "--server", &url,
        ])
        .args(["--token", "s3cret-token", "--insecure-skip-tls-verify"])
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod/api-1\n");

    // Without trusting the certificate: a TLS failure, in one line.
    let output = cluster
        .command(&["get", "pods", "--server", &url, "--token", "s3cret-token"])
        .output()
        .await
        .unwrap();
    assert_one_line_error(&output, "tls");

    // Without the token: refused, in one line, and the token is never printed.
    let output = cluster
        .command(&[
            "get",
            "pods",
            "--server",
            &url,
            "--insecure-skip-tls-verify",
        ])
        .args(["--token", "wrong-token"])
        .output()
        .await
        .unwrap();
    assert_one_line_error(&output, "");
    assert!(!stderr(&output).contains("wrong-token"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_subcommand_documents_the_kubectl_flags() {
    let cluster = Cluster::start(Vec::new()).await;
    for subcommand in ["get", "watch", "api-resources", "apply", "delete"] {
        let output = cluster
            .command(&[subcommand, "--help"])
            .output()
            .await
            .unwrap();
        assert_ok(&output);
        let text = stdout(&output);
        for flag in [
            "--kubeconfig",
            "--context",
            "-n, --namespace",
            "-A, --all-namespaces",
            "--server",
            "--token",
            "--insecure-skip-tls-verify",
            "-v",
        ] {
            assert!(
                text.contains(flag),
                "{subcommand} --help lacks {flag}:\n{text}"
            );
        }
    }
    let output = cluster.command(&["--help"]).output().await.unwrap();
    assert_ok(&output);
    let text = stdout(&output);
    for subcommand in [
        "demo",
        "get",
        "watch",
        "api-resources",
        "apply",
        "delete",
        "fake-apiserver",
    ] {
        assert!(
            text.contains(subcommand),
            "--help lacks {subcommand}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_flags_may_come_before_the_subcommand_as_in_kubectl() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .command(&["-n", "payments", "--kubeconfig"])
        .arg(cluster.kubeconfig())
        .args(["get", "pods", "-o", "name"])
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    assert_eq!(stdout(&output), "pod/api-1\n");
}
