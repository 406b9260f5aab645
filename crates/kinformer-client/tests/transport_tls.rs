//! HTTPS behaviour from a kubeconfig against scripted TLS peers: CA verification and its
//! failure, tls-server-name, mutual TLS with each key format, HTTP/2, bearer tokens and 401,
//! token-file rotation, basic auth, impersonation, exec plugins and a CONNECT proxy.

mod transport_support;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Version};
use kinformer_client::{Client, Config, Error, Kubeconfig, KubeconfigOptions};
use transport_support::{
    b64, connect_proxy, fixtures, handler, ok_json, respond, serve, server_tls, Pki,
};

fn get(path: &str) -> Request<Bytes> {
    Request::get(path).body(Bytes::new()).unwrap()
}

/// A one-context kubeconfig; `cluster` and `user` are extra lines indented by four spaces.
fn kubeconfig_yaml(server: &str, cluster: &str, user: &str) -> String {
    format!(
        "current-context: c\ncontexts:\n- name: c\n  context: {{cluster: k, user: u}}\nclusters:\n- name: k\n  cluster:\n    server: '{server}'\n{cluster}users:\n- name: u\n  user:\n{user}"
    )
}

fn client_from(yaml: &str) -> Result<Client, Error> {
    let kubeconfig = Kubeconfig::from_yaml(yaml)?;
    let config = Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default())?;
    Client::try_from(config)
}

fn ca_line(pki: &Pki) -> String {
    format!("    certificate-authority-data: {}\n", b64(&pki.ca_pem))
}

const UNAUTHORIZED: &str = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;

/// Answers 200 when the Authorization header is one of `accepted`, else 401.
fn accept_tokens(accepted: Arc<Mutex<Vec<String>>>) -> transport_support::Handler {
    handler(move |_, seen| {
        let given = seen
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accepted.lock().unwrap().iter().any(|a| a == given) {
            ok_json("{}")
        } else {
            respond(401, UNAUTHORIZED)
        }
    })
}

fn auth_headers(seen: &[transport_support::Seen]) -> Vec<String> {
    seen.iter()
        .map(|s| {
            s.headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn the_kubeconfig_ca_verifies_the_server_and_alpn_picks_http2() {
    let pki = Pki::new("test-ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), None)),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let client = client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), "")).unwrap();
    client.send(get("/version")).await.unwrap();
    client.send(get("/version")).await.unwrap();
    let seen = peer.seen();
    assert_eq!(seen[0].version, Version::HTTP_2);
    // Both requests share one HTTP/2 connection.
    assert_eq!(
        peer.connections.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn a_server_signed_by_another_ca_is_refused_with_a_tls_error() {
    let pki = Pki::new("server-ca");
    let other = Pki::new("other-ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), None)),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let err = client_from(&kubeconfig_yaml(&peer.url, &ca_line(&other), ""))
        .unwrap()
        .send(get("/"))
        .await
        .unwrap_err();
    match &err {
        Error::Tls { server, reason, .. } => {
            assert_eq!(server, &peer.url);
            assert!(reason.contains("UnknownIssuer"), "{reason}");
        }
        other => panic!("expected a TLS error, got {other}"),
    }
    assert!(
        err.to_string()
            .starts_with("tls handshake with https://127.0.0.1:"),
        "{err}"
    );
    assert!(peer.seen().is_empty());
}

#[tokio::test]
async fn without_a_ca_the_builtin_roots_refuse_a_private_ca() {
    let pki = Pki::new("private");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), None)),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let err = Client::try_from(Config::new(peer.url.parse().unwrap()))
        .unwrap()
        .send(get("/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err}");
}

#[tokio::test]
async fn insecure_skip_tls_verify_accepts_an_unknown_ca_only_when_asked() {
    let pki = Pki::new("private");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), None)),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let client = client_from(&kubeconfig_yaml(
        &peer.url,
        "    insecure-skip-tls-verify: true\n",
        "",
    ))
    .unwrap();
    client.send(get("/")).await.unwrap();
}

#[tokio::test]
async fn tls_server_name_is_used_to_verify_the_certificate() {
    let pki = Pki::new("ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["kube.internal"]), None)),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let err = client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), ""))
        .unwrap()
        .send(get("/"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Tls { reason, .. } if reason.contains("not valid for name")),
        "{err}"
    );

    let cluster = format!("{}    tls-server-name: kube.internal\n", ca_line(&pki));
    client_from(&kubeconfig_yaml(&peer.url, &cluster, ""))
        .unwrap()
        .send(get("/"))
        .await
        .unwrap();
}

#[tokio::test]
async fn mutual_tls_presents_the_client_certificate_and_a_server_refuses_without_one() {
    let pki = Pki::new("ca");
    let client_ca = Pki::new("client-ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), Some(&client_ca))),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let leaf = client_ca.client("jane");
    let user = format!(
        "    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&leaf.cert_pem),
        b64(&leaf.key_pem)
    );
    client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), &user))
        .unwrap()
        .send(get("/"))
        .await
        .unwrap();
    assert!(peer.seen()[0].client_cert);

    let err = client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), ""))
        .unwrap()
        .send(get("/"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls { .. } | Error::Request { .. }),
        "{err}"
    );
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    assert_eq!(peer.seen().len(), 1);

    // A certificate from a CA the server does not trust is refused too.
    let stranger = pki.client("mallory");
    let user = format!(
        "    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&stranger.cert_pem),
        b64(&stranger.key_pem)
    );
    assert!(
        client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), &user))
            .unwrap()
            .send(get("/"))
            .await
            .is_err()
    );
    assert_eq!(peer.seen().len(), 1);
}

#[tokio::test]
async fn client_keys_in_pkcs1_rsa_sec1_ec_and_pkcs8_files_all_work_for_mutual_tls() {
    let pki = Pki::new("ca");
    let client_ca = Pki::new("client-ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), Some(&client_ca))),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let keys = fixtures().join("keys");
    let dir = tempfile::tempdir().unwrap();
    for (key_file, pkcs8_file) in [
        ("rsa-pkcs1.key", "rsa-pkcs8.key"),
        ("rsa-pkcs8.key", "rsa-pkcs8.key"),
        ("ec-sec1.key", "ec-pkcs8.key"),
        ("ec-pkcs8.key", "ec-pkcs8.key"),
    ] {
        let pkcs8 = std::fs::read_to_string(keys.join(pkcs8_file)).unwrap();
        let cert = client_ca.client_for_key("u", &pkcs8);
        std::fs::write(dir.path().join("client.crt"), cert).unwrap();
        std::fs::copy(keys.join(key_file), dir.path().join("client.key")).unwrap();
        // Relative paths resolve against the kubeconfig's folder.
        let user = "    client-certificate: client.crt\n    client-key: client.key\n";
        std::fs::write(
            dir.path().join("config"),
            kubeconfig_yaml(&peer.url, &ca_line(&pki), user),
        )
        .unwrap();
        let kubeconfig = Kubeconfig::read_from(dir.path().join("config")).unwrap();
        let config = Config::from_kubeconfig(&kubeconfig, &Default::default()).unwrap();
        let client = Client::try_from(config).unwrap();
        client
            .send(get("/"))
            .await
            .unwrap_or_else(|e| panic!("{key_file}: {e}"));
    }
    assert_eq!(peer.seen().len(), 4);
    assert!(peer.seen().iter().all(|s| s.client_cert));
}

#[tokio::test]
async fn a_bearer_token_is_sent_and_a_wrong_one_gives_an_unauthorized_error() {
    let pki = Pki::new("ca");
    let accepted = Arc::new(Mutex::new(vec!["Bearer good".to_string()]));
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), None)),
        accept_tokens(accepted),
    )
    .await;
    client_from(&kubeconfig_yaml(
        &peer.url,
        &ca_line(&pki),
        "    token: good\n",
    ))
    .unwrap()
    .send(get("/"))
    .await
    .unwrap();
    let err = client_from(&kubeconfig_yaml(
        &peer.url,
        &ca_line(&pki),
        "    token: bad\n",
    ))
    .unwrap()
    .send(get("/"))
    .await
    .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert!(!err.to_string().contains("bad"), "{err}");
    // A static token cannot change, so the 401 is not retried.
    assert_eq!(auth_headers(&peer.seen()), ["Bearer good", "Bearer bad"]);
}

#[tokio::test]
async fn a_rotated_token_file_is_reread_after_a_401_during_a_run() {
    let pki = Pki::new("ca");
    let accepted = Arc::new(Mutex::new(vec!["Bearer one".to_string()]));
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), None)),
        accept_tokens(accepted.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "one\n").unwrap();
    let user = format!("    tokenFile: {}\n", token.display());
    let client = client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), &user)).unwrap();
    client.send(get("/a")).await.unwrap();

    // The kubelet rotates the token; the server stops accepting the old one.
    std::fs::write(&token, "two\n").unwrap();
    *accepted.lock().unwrap() = vec!["Bearer two".to_string()];
    client.send(get("/b")).await.unwrap();
    client.send(get("/c")).await.unwrap();
    assert_eq!(
        auth_headers(&peer.seen()),
        ["Bearer one", "Bearer one", "Bearer two", "Bearer two"]
    );
}

#[tokio::test]
async fn basic_auth_and_impersonation_headers_are_sent() {
    let peer = serve(None, handler(|_, _| ok_json("{}"))).await;
    let user = "    username: admin\n    password: s3cret\n    as: jane\n    as-groups: [dev, ops]\n    as-user-extra: {scopes: [view]}\n";
    client_from(&kubeconfig_yaml(&peer.url, "", user))
        .unwrap()
        .send(get("/"))
        .await
        .unwrap();
    let seen = &peer.seen()[0];
    assert_eq!(seen.headers["authorization"], "Basic YWRtaW46czNjcmV0");
    assert_eq!(seen.headers["impersonate-user"], "jane");
    let groups: Vec<_> = seen
        .headers
        .get_all("impersonate-group")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(groups, ["dev", "ops"]);
    assert_eq!(seen.headers["impersonate-extra-scopes"], "view");
}

/// An exec user section running the fixture plugin with `env` (name, value) pairs.
fn exec_user(api_version: &str, env: &[(&str, String)], extra: &str) -> String {
    let script = fixtures().join("exec-plugin.sh");
    let mut env_lines = format!("      - {{name: API_VERSION, value: '{api_version}'}}\n");
    for (name, value) in env {
        env_lines.push_str(&format!("      - {{name: {name}, value: '{value}'}}\n"));
    }
    format!(
        "    exec:\n      apiVersion: {api_version}\n      command: sh\n      args: ['{}']\n      installHint: 'install the test plugin'\n{extra}      env:\n{env_lines}",
        script.display()
    )
}

fn runs(counter: &std::path::Path) -> u32 {
    std::fs::read_to_string(counter)
        .map(|s| s.trim().parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test]
async fn an_exec_credential_is_cached_until_it_expires() {
    let peer = serve(None, handler(|_, _| ok_json("{}"))).await;
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("count");
    let env = [
        ("COUNTER_FILE", counter.display().to_string()),
        ("EXPIRY", "2099-01-01T00:00:00Z".into()),
    ];
    let client = client_from(&kubeconfig_yaml(
        &peer.url,
        "",
        &exec_user("client.authentication.k8s.io/v1", &env, ""),
    ))
    .unwrap();
    client.send(get("/a")).await.unwrap();
    client.send(get("/b")).await.unwrap();
    assert_eq!(runs(&counter), 1);
    assert_eq!(
        auth_headers(&peer.seen()),
        ["Bearer exec-1", "Bearer exec-1"]
    );

    // An already-expired credential is fetched again for every request (v1beta1 this time).
    let counter2 = dir.path().join("count2");
    let env = [
        ("COUNTER_FILE", counter2.display().to_string()),
        ("EXPIRY", "2001-01-01T00:00:00Z".into()),
    ];
    let client = client_from(&kubeconfig_yaml(
        &peer.url,
        "",
        &exec_user("client.authentication.k8s.io/v1beta1", &env, ""),
    ))
    .unwrap();
    client.send(get("/c")).await.unwrap();
    client.send(get("/d")).await.unwrap();
    assert_eq!(runs(&counter2), 2);
    assert_eq!(
        auth_headers(&peer.seen()[2..]),
        ["Bearer exec-1", "Bearer exec-2"]
    );
}

#[tokio::test]
async fn an_exec_credential_is_refreshed_after_a_401_and_the_request_retried() {
    let accepted = Arc::new(Mutex::new(vec!["Bearer exec-2".to_string()]));
    let peer = serve(None, accept_tokens(accepted)).await;
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("count");
    let info = dir.path().join("info");
    let env = [
        ("COUNTER_FILE", counter.display().to_string()),
        ("INFO_FILE", info.display().to_string()),
    ];
    let user = exec_user(
        "client.authentication.k8s.io/v1",
        &env,
        "      provideClusterInfo: true\n",
    );
    let client = client_from(&kubeconfig_yaml(&peer.url, "", &user)).unwrap();
    client.send(get("/a")).await.unwrap();
    assert_eq!(
        auth_headers(&peer.seen()),
        ["Bearer exec-1", "Bearer exec-2"]
    );
    assert_eq!(runs(&counter), 2);
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(info).unwrap()).unwrap();
    assert_eq!(info["kind"], "ExecCredential");
    assert_eq!(info["spec"]["cluster"]["server"], peer.url.as_str());
    assert_eq!(info["spec"]["interactive"], false);
}

#[tokio::test]
async fn a_failing_exec_plugin_surfaces_its_stderr_and_install_hint() {
    let peer = serve(None, handler(|_, _| ok_json("{}"))).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("COUNTER_FILE", dir.path().join("c").display().to_string()),
        ("FAIL_MESSAGE", "error: you must log in first".into()),
    ];
    let err = client_from(&kubeconfig_yaml(
        &peer.url,
        "",
        &exec_user("client.authentication.k8s.io/v1", &env, ""),
    ))
    .unwrap()
    .send(get("/"))
    .await
    .unwrap_err();
    match &err {
        Error::ExecPlugin { stderr, hint, .. } => {
            assert_eq!(stderr, "error: you must log in first");
            assert_eq!(hint.as_deref(), Some("install the test plugin"));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(peer.seen().is_empty());
}

#[tokio::test]
async fn a_hung_exec_plugin_fails_the_request_after_the_configured_timeout() {
    let peer = serve(None, handler(|_, _| ok_json("{}"))).await;
    let user = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: ['-c', 'exec sleep 100000']\n      env:\n      - {name: PLUGIN_PASSWORD, value: 'pl4in-secret'}\n";
    let kubeconfig = Kubeconfig::from_yaml(&kubeconfig_yaml(&peer.url, "", user)).unwrap();
    let config = Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default())
        .unwrap()
        .with_exec_timeout(Some(std::time::Duration::from_millis(200)));
    let err = Client::try_from(config)
        .unwrap()
        .send(get("/"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ExecPluginTimedOut { command, .. } if command == "sh"),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("pl4in-secret"));
    assert!(
        peer.seen().is_empty(),
        "nothing was sent without a credential"
    );
}

#[tokio::test]
async fn an_exec_plugin_can_supply_the_client_certificate_for_mutual_tls() {
    let pki = Pki::new("ca");
    let client_ca = Pki::new("client-ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), Some(&client_ca))),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let leaf = client_ca.client("exec-user");
    let dir = tempfile::tempdir().unwrap();
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": { "clientCertificateData": leaf.cert_pem, "clientKeyData": leaf.key_pem }
    });
    let credential_file = dir.path().join("cred.json");
    std::fs::write(&credential_file, credential.to_string()).unwrap();
    let env = [
        ("COUNTER_FILE", dir.path().join("c").display().to_string()),
        ("CREDENTIAL_FILE", credential_file.display().to_string()),
    ];
    let user = exec_user("client.authentication.k8s.io/v1", &env, "");
    client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), &user))
        .unwrap()
        .send(get("/"))
        .await
        .unwrap();
    assert!(peer.seen()[0].client_cert);
    assert!(!peer.seen()[0].headers.contains_key("authorization"));
}

#[tokio::test]
async fn proxy_url_tunnels_https_through_connect() {
    let pki = Pki::new("ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), None)),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let proxy = connect_proxy().await;
    let cluster = format!("{}    proxy-url: '{}'\n", ca_line(&pki), proxy.url);
    client_from(&kubeconfig_yaml(&peer.url, &cluster, "    token: t\n"))
        .unwrap()
        .send(get("/api"))
        .await
        .unwrap();
    assert_eq!(
        proxy.targets.lock().unwrap().as_slice(),
        [format!("CONNECT 127.0.0.1:{} HTTP/1.1", peer.addr.port())]
    );
    assert_eq!(peer.seen()[0].uri, "/api");
}

#[tokio::test]
async fn a_proxy_that_refuses_connect_gives_a_connect_error_naming_the_proxy() {
    let proxy = connect_proxy().await;
    // The test proxy refuses every non-loopback target.
    let yaml = kubeconfig_yaml(
        "https://kube.invalid:6443",
        &format!("    proxy-url: '{}'\n", proxy.url),
        "",
    );
    let err = client_from(&yaml)
        .unwrap()
        .send(get("/"))
        .await
        .unwrap_err();
    match &err {
        Error::Connect { server, reason, .. } => {
            assert!(server.starts_with("proxy 127.0.0.1:"), "{err}");
            assert!(reason.contains("403"), "{err}");
        }
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn concurrent_watches_share_one_http2_connection() {
    let pki = Pki::new("ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), None)),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let client = client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), "")).unwrap();
    client.send(get("/api")).await.unwrap();
    let watches = (0..10).map(|i| {
        let client = client.clone();
        async move {
            client
                .send_watch(get(&format!("/api/v1/pods?watch=true&n={i}")))
                .await
        }
    });
    for response in futures::future::join_all(watches).await {
        assert_eq!(response.unwrap().status(), 200);
    }
    assert_eq!(peer.seen().len(), 11);
    assert!(peer.seen().iter().all(|s| s.version == Version::HTTP_2));
    assert_eq!(
        peer.connections.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn a_rotated_exec_client_certificate_is_presented_on_a_new_connection() {
    let pki = Pki::new("ca");
    let client_ca = Pki::new("client-ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["127.0.0.1"]), Some(&client_ca))),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let (first, second) = (client_ca.client("one"), client_ca.client("two"));
    let dir = tempfile::tempdir().unwrap();
    for (run, leaf) in [(1, &first), (2, &second)] {
        // Already expired, so the second request runs the plugin again.
        let credential = serde_json::json!({
            "apiVersion": "client.authentication.k8s.io/v1",
            "kind": "ExecCredential",
            "status": {
                "clientCertificateData": leaf.cert_pem,
                "clientKeyData": leaf.key_pem,
                "expirationTimestamp": "2001-01-01T00:00:00Z"
            }
        });
        std::fs::write(
            dir.path().join(format!("{run}.json")),
            credential.to_string(),
        )
        .unwrap();
    }
    let env = [
        ("COUNTER_FILE", dir.path().join("c").display().to_string()),
        ("CREDENTIAL_DIR", dir.path().display().to_string()),
    ];
    let user = exec_user("client.authentication.k8s.io/v1", &env, "");
    let client = client_from(&kubeconfig_yaml(&peer.url, &ca_line(&pki), &user)).unwrap();
    client.send(get("/a")).await.unwrap();
    client.send(get("/b")).await.unwrap();
    let seen = peer.seen();
    assert_eq!(
        seen[0].client_cert_der.as_deref(),
        Some(first.der().as_slice())
    );
    assert_eq!(
        seen[1].client_cert_der.as_deref(),
        Some(second.der().as_slice())
    );
    assert_ne!(seen[0].connection, seen[1].connection);
}
