//! The HTTP transport: hyper 1 over rustls (ring), HTTP/2 and HTTP/1.1 by ALPN, CONNECT
//! proxies, connect timeouts, the response [`Body`] (gzip decoding, timeouts), client-side rate
//! limiting and `Warning` headers.
//!
//! Reading order: `tls` (rustls settings from a `Config`), `connector` (TCP and proxy tunnel),
//! `proxy` (`HTTPS_PROXY`/`NO_PROXY`), `body`, `rate_limit`, `warning`.

pub mod body;
mod connector;
pub mod proxy;
pub mod rate_limit;
mod tls;
pub mod warning;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use body::Body;
pub(crate) use connector::ConnectFailure;

use crate::auth::ClientCertSlot;
use crate::config::Config;
use crate::error::Result;

pub(crate) type HttpClient = HyperClient<HttpsConnector<connector::Connector>, Full<Bytes>>;

/// Builds the pooled HTTP client for `config`; `certs` is offered as the client certificate.
pub(crate) fn http_client(config: &Config, certs: Arc<ClientCertSlot>) -> Result<HttpClient> {
    let tls = tls::client_config(config, certs)?;
    let proxy = proxy::proxy_for(config)?;
    let connector = connector::Connector::new(proxy, config.connect_timeout);
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let builder = match &config.tls_server_name {
        Some(name) => builder.with_server_name_resolver(
            hyper_rustls::FixedServerNameResolver::new(tls::server_name(name)?),
        ),
        None => builder,
    };
    let https = builder
        .enable_http1()
        .enable_http2()
        .wrap_connector(connector);
    let client = HyperClient::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .http2_keep_alive_interval(Some(Duration::from_secs(30)))
        .http2_keep_alive_while_idle(true)
        .build(https);
    Ok(client)
}
