//! Which proxy a connection goes through: the kubeconfig's `proxy-url`, else `HTTPS_PROXY` /
//! `HTTP_PROXY` unless `NO_PROXY` matches. Like Go's `ProxyFromEnvironment`, loopback hosts
//! never use an environment proxy.

use std::net::IpAddr;

use crate::auth::Redacted;
use crate::config::Config;
use crate::error::{Error, Result};

/// A resolved proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// Proxy host.
    pub host: String,
    /// Proxy port.
    pub port: u16,
    /// Basic credentials from the URL's `user:password@`.
    pub credentials: Option<(String, Redacted<String>)>,
}

impl Proxy {
    /// Parses an `http://[user:password@]host[:port]` proxy URL.
    pub fn parse(url: &str) -> Result<Proxy> {
        let bad = |problem: &str| Error::TlsConfig {
            problem: format!("proxy url: {problem}"),
        };
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.contains("://") {
            return Err(bad("only http:// proxies (CONNECT) are supported"));
        } else {
            url
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                (
                    Some((user.to_string(), Redacted::new(password.to_string()))),
                    host_port,
                )
            }
            None => (None, authority),
        };
        let uri: http::Uri = format!("http://{host_port}")
            .parse()
            .map_err(|_| bad("is not a URL"))?;
        let host = uri.host().ok_or_else(|| bad("has no host"))?;
        Ok(Proxy {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: uri.port_u16().unwrap_or(80),
            credentials,
        })
    }
}

/// The proxy the client for `config` will use, if any (reads the environment).
pub fn proxy_for(config: &Config) -> Result<Option<Proxy>> {
    if let Some(url) = &config.proxy_url {
        return Proxy::parse(&url.to_string()).map(Some);
    }
    if !config.use_env_proxy {
        return Ok(None);
    }
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
    };
    let https = config.cluster_url.scheme_str() == Some("https");
    let proxy = if https {
        var(&["HTTPS_PROXY", "https_proxy"])
    } else {
        var(&["HTTP_PROXY", "http_proxy"])
    };
    let Some(proxy) = proxy else {
        return Ok(None);
    };
    let host = config.cluster_url.host().unwrap_or_default();
    let port = config
        .cluster_url
        .port_u16()
        .unwrap_or(if https { 443 } else { 80 });
    if bypasses_proxy(
        host,
        port,
        var(&["NO_PROXY", "no_proxy"]).as_deref().unwrap_or(""),
    ) {
        return Ok(None);
    }
    Proxy::parse(&proxy).map(Some)
}

/// True when `host` must be reached directly: loopback, or matched by a `NO_PROXY` entry
/// (`*`, an exact host or IP, a domain suffix with or without a leading dot, `host:port`, or an
/// IP network in CIDR form).
pub fn bypasses_proxy(host: &str, port: u16, no_proxy: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.to_ascii_lowercase();
            if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
                return cidr_contains(net, bits, ip);
            }
            let (entry_host, entry_port) = match entry.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse::<u16>().ok()),
                _ => (entry.clone(), None),
            };
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            let suffix = entry_host.trim_start_matches('.');
            host == suffix || host.ends_with(&format!(".{suffix}"))
        })
}

fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_matches_hosts_suffixes_ports_and_networks() {
        let list = "example.com, .corp.local,10.0.0.0/8,api:6443";
        assert!(bypasses_proxy("example.com", 443, list));
        assert!(bypasses_proxy("a.example.com", 443, list));
        assert!(!bypasses_proxy("notexample.com", 443, list));
        assert!(bypasses_proxy("x.corp.local", 443, list));
        assert!(bypasses_proxy("10.1.2.3", 443, list));
        assert!(!bypasses_proxy("11.1.2.3", 443, list));
        assert!(bypasses_proxy("api", 6443, list));
        assert!(!bypasses_proxy("api", 443, list));
        assert!(bypasses_proxy("anything", 1, "*"));
    }

    #[test]
    fn loopback_never_uses_an_environment_proxy() {
        assert!(bypasses_proxy("127.0.0.1", 6443, ""));
        assert!(bypasses_proxy("[::1]", 6443, ""));
        assert!(bypasses_proxy("localhost", 6443, ""));
    }

    #[test]
    fn proxy_urls_parse_with_and_without_credentials() {
        let p = Proxy::parse("http://u:pw@proxy.local:3128/").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.local", 3128));
        assert_eq!(p.credentials.as_ref().unwrap().1.expose(), "pw");
        assert!(!format!("{p:?}").contains("pw"));
        assert_eq!(Proxy::parse("proxy:8080").unwrap().port, 8080);
        assert!(Proxy::parse("socks5://proxy:1080").is_err());
    }
}
