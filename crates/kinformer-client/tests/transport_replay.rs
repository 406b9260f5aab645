//! The transport against the fake API server (kinformer-replay) over HTTPS: its generated
//! kubeconfig, bearer tokens, client certificates and many concurrent watches.

use base64::Engine as _;
use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt as _;
use kinformer_client::{Client, Config, Error, Kubeconfig, KubeconfigOptions};
use kinformer_replay::{FakeApiServer, ServerConfig};
use serde_json::json;

fn get(path: &str) -> Request<Bytes> {
    Request::get(path).body(Bytes::new()).unwrap()
}

fn client_from(yaml: &str) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(yaml).unwrap();
    Client::try_from(Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default()).unwrap())
        .unwrap()
}

fn pod(name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}})
}

#[tokio::test]
async fn the_generated_kubeconfig_reaches_the_fake_server_over_https_with_its_token() {
    let server = FakeApiServer::start(
        ServerConfig::default()
            .generated_tls()
            .token("replay-token")
            .objects([pod("a")]),
    )
    .await
    .unwrap();
    let client = client_from(&server.kubeconfig());
    let response = client
        .send(get("/api/v1/namespaces/default/pods"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value =
        serde_json::from_slice(&response.into_body().bytes().await.unwrap()).unwrap();
    assert_eq!(body["items"][0]["metadata"]["name"], "a");

    let err = client
        .send(get("/api/v1/namespaces/default/pods/missing"))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_a_foreign_ca_is_refused() {
    let server = FakeApiServer::start(ServerConfig::default().generated_tls().token("right"))
        .await
        .unwrap();
    let wrong = server.kubeconfig().replace("token: right", "token: wrong");
    let err = client_from(&wrong)
        .send(get("/api/v1/pods"))
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");

    let other = FakeApiServer::start(ServerConfig::default().generated_tls())
        .await
        .unwrap();
    let foreign_ca = other.ca_pem().unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let own_ca = server.ca_pem().unwrap();
    let yaml = server
        .kubeconfig()
        .replace(&engine.encode(own_ca), &engine.encode(foreign_ca));
    let err = client_from(&yaml)
        .send(get("/api/v1/pods"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err}");
    server.shutdown().await;
    other.shutdown().await;
}

#[tokio::test]
async fn client_certificate_auth_succeeds_with_a_minted_certificate_and_fails_without() {
    let server = FakeApiServer::start(
        ServerConfig::default()
            .generated_tls()
            .client_cert_auth(true),
    )
    .await
    .unwrap();
    let identity = server.mint_client_cert("jane", &["devs"]).unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let with_cert = server.kubeconfig().replace(
        "  user: {}",
        &format!(
            "  user:\n    client-certificate-data: {}\n    client-key-data: {}",
            engine.encode(&identity.cert_pem),
            engine.encode(&identity.key_pem)
        ),
    );
    assert!(
        with_cert.contains("client-key-data"),
        "kubeconfig shape changed: {with_cert}"
    );
    client_from(&with_cert)
        .send(get("/api/v1/pods"))
        .await
        .unwrap();
    assert!(client_from(&server.kubeconfig())
        .send(get("/api/v1/pods"))
        .await
        .is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn many_watches_run_at_once_on_one_client() {
    let server = FakeApiServer::start(ServerConfig::default().generated_tls())
        .await
        .unwrap();
    let client = client_from(&server.kubeconfig());
    client
        .send(get("/api/v1/namespaces/default/pods"))
        .await
        .unwrap();
    let mut watches = Vec::new();
    for _ in 0..20 {
        let response = client
            .send_watch(get("/api/v1/namespaces/default/pods?watch=true&resourceVersion=0&allowWatchBookmarks=true"))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        watches.push(response.into_body());
    }
    server.handle().create(pod("new")).unwrap();
    for body in &mut watches {
        // Skip the initial bookmark; read until the new pod's event arrives.
        let mut text = String::new();
        while !text.contains("\"new\"") {
            let frame = body.frame().await.unwrap().unwrap();
            text.push_str(std::str::from_utf8(&frame.into_data().unwrap()).unwrap());
        }
        assert!(text.contains("\"ADDED\""), "{text}");
    }
    server.shutdown().await;
}
