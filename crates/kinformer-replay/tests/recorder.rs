//! The recorder proxies the fake server, and replaying its recording gives a client the same
//! answers.

mod common;

use common::{pod, Client};
use kinformer_replay::{recorder, FakeApiServer, RecorderConfig, Recording, ServerConfig};
use serde_json::json;

#[tokio::test]
async fn recording_the_fake_server_and_replaying_it_gives_the_same_answers() {
    let live = FakeApiServer::start(ServerConfig::default().generated_tls().token("rec"))
        .await
        .unwrap();
    for name in ["a", "b", "c"] {
        live.create(pod("default", name, json!({"app": "x"})))
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recording.txt");
    let config = RecorderConfig::new(&live.url(), &out)
        .unwrap()
        .ca_pem(live.ca_pem().unwrap())
        .token("rec");
    let proxy = recorder::start(config).await.unwrap();
    let through = Client::new(proxy.url());
    let requests = [
        "/api/v1/namespaces/default/pods?limit=2",
        "/api/v1/namespaces/default/pods/a",
        "/api/v1/namespaces/default/pods/nope",
    ];
    let mut answers = Vec::new();
    for path in requests {
        answers.push(through.get(path).await);
    }
    assert_eq!(answers[0].status, 200);
    assert_eq!(answers[2].status, 404);
    let mut watch = through
        .watch("/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1")
        .await;
    for name in ["a", "b", "c"] {
        assert_eq!(watch.summary().await.1, name);
    }
    assert_eq!(watch.next().await, common::Next::Ended);
    drop(watch);
    proxy.shutdown().await;

    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("Bearer"), "credentials are never recorded");
    let recording = Recording::load(&out).unwrap();
    assert_eq!(recording.exchanges.len(), 4, "{text}");
    assert_eq!(
        recording.exchanges[3].frames.len(),
        3,
        "watch frames keep their arrival times"
    );
    let replay = FakeApiServer::start(ServerConfig::default().recording(recording))
        .await
        .unwrap();
    let client = Client::new(replay.url());
    for (path, answer) in requests.iter().zip(&answers) {
        let replayed = client.get(path).await;
        assert_eq!(replayed.status, answer.status, "{path}");
        assert_eq!(replayed.body, answer.body, "{path}");
        assert_eq!(
            replayed.header("audit-id"),
            answer.header("audit-id"),
            "{path}"
        );
    }
    let mut watch = client
        .watch("/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1")
        .await;
    for name in ["a", "b", "c"] {
        assert_eq!(watch.summary().await.1, name);
    }
    assert_eq!(watch.next().await, common::Next::Ended);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502() {
    let dir = tempfile::tempdir().unwrap();
    let config = RecorderConfig::new("http://127.0.0.1:1", &dir.path().join("r.txt")).unwrap();
    let proxy = recorder::start(config).await.unwrap();
    let reply = Client::new(proxy.url()).get("/version").await;
    assert_eq!(reply.status, 502);
    assert!(RecorderConfig::new("not a url", &dir.path().join("r.txt")).is_err());
}
