//! `HTTPS_PROXY` is honoured when the kubeconfig names no proxy. One test in its own binary
//! because it sets process environment variables.

mod transport_support;

use bytes::Bytes;
use http::Request;
use kinformer_client::{Client, Config};
use transport_support::{connect_proxy, handler, ok_json, serve, server_tls, Pki};

#[tokio::test]
async fn https_proxy_from_the_environment_tunnels_requests_unless_turned_off() {
    let pki = Pki::new("ca");
    let peer = serve(
        Some(server_tls(&pki.server(&["kube.test"]), None)),
        handler(|_, _| ok_json("{}")),
    )
    .await;
    let proxy = connect_proxy().await;
    std::env::set_var("HTTPS_PROXY", &proxy.url);
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    // "kube.test" only exists inside the test proxy, so success proves the tunnel was used.
    let url = format!("https://kube.test:{}", peer.addr.port());
    let config = Config::new(url.parse().unwrap()).with_root_certificates(pki.ca_pem.clone());
    let client = Client::try_from(config.clone()).unwrap();
    client
        .send(Request::get("/api").body(Bytes::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        proxy.targets.lock().unwrap().as_slice(),
        [format!("CONNECT kube.test:{} HTTP/1.1", peer.addr.port())]
    );

    // NO_PROXY naming the host makes the client dial directly; checked without dialling,
    // because "kube.test" must never reach a real resolver.
    use kinformer_client::transport::proxy::{proxy_for, Proxy};
    let expected = Proxy::parse(&proxy.url).unwrap();
    assert_eq!(proxy_for(&config).unwrap(), Some(expected));
    std::env::set_var("NO_PROXY", "example.org,.test");
    assert_eq!(proxy_for(&config).unwrap(), None);
    std::env::set_var("NO_PROXY", "example.org");
    assert!(proxy_for(&config).unwrap().is_some());

    // use_env_proxy = false ignores the environment; an explicit proxy_url ignores NO_PROXY.
    let mut off = config.clone();
    off.use_env_proxy = false;
    assert_eq!(proxy_for(&off).unwrap(), None);
    std::env::set_var("NO_PROXY", "*");
    let mut explicit = config;
    explicit.proxy_url = Some(proxy.url.parse().unwrap());
    assert!(proxy_for(&explicit).unwrap().is_some());
}
