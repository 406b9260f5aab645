//! HTTPS with a generated CA, bearer tokens and client certificates.

mod common;

use common::Client;
use kinformer_replay::{FakeApiServer, ServerConfig, TlsMaterial};

#[tokio::test]
async fn https_with_the_generated_ca_is_trusted_and_without_it_is_refused() {
    let server = FakeApiServer::start(ServerConfig::default().generated_tls())
        .await
        .unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let mut client = Client::new(server.url());
    client.ca_pem = Some(server.ca_pem().unwrap().to_string());
    assert_eq!(client.get("/api/v1/pods").await.status, 200);
    let stranger = Client::new(server.url());
    assert!(
        stranger.send("GET", "/api/v1/pods", &[], "").await.is_err(),
        "an unknown CA must fail the handshake"
    );
}

#[tokio::test]
async fn bearer_token_is_required_when_configured() {
    let server = FakeApiServer::start(ServerConfig::default().token("s3cret"))
        .await
        .unwrap();
    assert!(
        !format!("{:?}", server.token().unwrap()).contains("s3cret"),
        "tokens never show in Debug"
    );
    let mut client = Client::new(server.url());
    let reply = client.get("/api/v1/pods").await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body,
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#
    );
    client.token = Some("wrong".into());
    assert_eq!(client.get("/api/v1/pods").await.status, 401);
    client.token = Some("s3cret".into());
    assert_eq!(client.get("/api/v1/pods").await.status, 200);
}

#[tokio::test]
async fn client_certificates_signed_by_the_ca_authenticate() {
    let server = FakeApiServer::start(
        ServerConfig::default()
            .generated_tls()
            .client_cert_auth(true),
    )
    .await
    .unwrap();
    let mut client = Client::new(server.url());
    client.ca_pem = Some(server.ca_pem().unwrap().to_string());
    assert_eq!(
        client.get("/api/v1/pods").await.status,
        401,
        "no certificate, no token"
    );
    let identity = server
        .mint_client_cert("alice", &["system:masters"])
        .unwrap();
    client.identity = Some((identity.cert_pem.clone(), identity.key_pem.clone()));
    assert_eq!(client.get("/api/v1/pods").await.status, 200);
    let other_ca = TlsMaterial::generate().unwrap();
    let forged = other_ca.mint_client_cert("mallory", &[]).unwrap();
    client.identity = Some((forged.cert_pem, forged.key_pem));
    let refused = client.send("GET", "/api/v1/pods", &[], "").await;
    assert!(
        refused.is_err() || refused.unwrap().status() == 401,
        "a certificate from another CA is not accepted"
    );
}

#[tokio::test]
async fn token_or_client_certificate_each_suffice_when_both_are_configured() {
    let server = FakeApiServer::start(
        ServerConfig::default()
            .generated_tls()
            .client_cert_auth(true)
            .token("t"),
    )
    .await
    .unwrap();
    let mut client = Client::new(server.url());
    client.ca_pem = Some(server.ca_pem().unwrap().to_string());
    client.token = Some("t".into());
    assert_eq!(client.get("/version").await.status, 200);
    client.token = None;
    let identity = server.mint_client_cert("bob", &[]).unwrap();
    client.identity = Some((identity.cert_pem, identity.key_pem));
    assert_eq!(client.get("/version").await.status, 200);
}

#[tokio::test]
async fn plain_servers_cannot_mint_client_certificates() {
    let server = FakeApiServer::start(ServerConfig::default()).await.unwrap();
    assert!(server.ca_pem().is_none());
    assert!(matches!(
        server.mint_client_cert("x", &[]),
        Err(kinformer_replay::Error::TlsFailed { .. })
    ));
}

#[tokio::test]
async fn tls_material_is_written_to_and_reloaded_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = TlsMaterial::load_or_generate(dir.path()).unwrap();
    for file in ["ca.crt", "server.crt", "server.key"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
    let second = TlsMaterial::load_or_generate(dir.path()).unwrap();
    assert_eq!(first.ca_pem(), second.ca_pem(), "existing files are reused");
    let server = FakeApiServer::start(ServerConfig::default().tls(second))
        .await
        .unwrap();
    let mut client = Client::new(server.url());
    client.ca_pem = Some(first.ca_pem().to_string());
    assert_eq!(client.get("/version").await.status, 200);
}
