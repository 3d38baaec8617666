//! Where Keyport may send a request that carries a secret (a client secret, a token): the
//! egress policy of the providers' HTTP client. https only; plain http only to loopback and
//! only when `ALLOW_INSECURE_PROVIDERS=1` (the sandbox and the tests). No private, loopback,
//! link-local (cloud metadata at 169.254.169.254), shared or unspecified address unless
//! `EGRESS_ALLOWED_NETWORKS` lists it (or, for loopback, insecure providers are allowed).
//! Checked on the URL before sending, and on every address a name resolves to when
//! connecting — so a name that resolves to 127.0.0.1 on the second lookup (DNS rebinding)
//! is refused as well.

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use url::{Host, Url};

#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// `ALLOW_INSECURE_PROVIDERS=1`: http and loopback addresses are allowed (for loopback).
    pub allow_insecure_loopback: bool,
    /// `EGRESS_ALLOWED_NETWORKS`: internal providers an operator trusts.
    pub allowed: Vec<IpNet>,
}

impl Policy {
    /// Whether a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if self.allowed.iter().any(|net| net.contains(&ip)) {
            return true;
        }
        if ip.is_loopback() {
            return self.allow_insecure_loopback;
        }
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                !(v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast()
                    || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
                    || a == 0)
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                !(v6.is_unspecified() || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00 // unique local
                    || (first & 0xffc0) == 0xfe80) // link-local
            }
        }
    }

    /// Whether a secret may be sent to `url`; the reason when not.
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = Url::parse(url).map_err(|_| format!("{url:?} is not a valid URL"))?;
        let literal = match parsed.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(Host::Domain(_)) => None,
            None => return Err(format!("{url} has no host")),
        };
        let loopback = literal.is_some_and(|ip| ip.is_loopback()) || parsed.host_str() == Some("localhost");
        match parsed.scheme() {
            "https" => {}
            "http" if loopback && self.allow_insecure_loopback => {}
            "http" => return Err(format!("{REFUSED} to {} over plain http: providers must use https", origin(&parsed))),
            other => return Err(format!("{REFUSED} over {other}:")),
        }
        // The resolver never sees an address written in the URL: check it here.
        match literal {
            Some(ip) if !self.permits(ip) => Err(refused(&origin(&parsed))),
            _ => Ok(()),
        }
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// How every refusal starts (so a refusal from deep inside a connection error is found).
pub const REFUSED: &str = "refusing to send credentials";

fn refused(what: &str) -> String {
    format!(
        "{REFUSED} to {what}: it is a private, loopback or link-local address \
         (list it in EGRESS_ALLOWED_NETWORKS if this provider is meant to be internal, \
         or set ALLOW_INSECURE_PROVIDERS=1 for a provider on this machine)"
    )
}

/// The providers' HTTP client resolves names through the policy.
pub struct Resolver(pub Policy);

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found.iter().copied().filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                let why = if found.is_empty() { format!("{host} does not resolve") } else { refused(&host) };
                return Err(why.into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> Policy {
        Policy::default()
    }

    #[test]
    fn private_loopback_and_metadata_addresses_are_refused() {
        for ip in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"] {
            assert!(!strict().permits(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700:4700::1111", "::ffff:93.184.216.34"] {
            assert!(strict().permits(ip.parse().unwrap()), "{ip}");
        }
        let internal = Policy { allowed: vec!["10.0.0.0/8".parse().unwrap()], ..strict() };
        assert!(internal.permits("10.1.2.3".parse().unwrap()) && !internal.permits("192.168.1.1".parse().unwrap()));
        let sandbox = Policy { allow_insecure_loopback: true, ..strict() };
        assert!(sandbox.permits("127.0.0.1".parse().unwrap()) && !sandbox.permits("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn urls_must_be_https_except_to_an_allowed_loopback() {
        assert!(strict().check_url("https://api.example.com/token").is_ok());
        assert!(strict().check_url("http://api.example.com/token").unwrap_err().contains("plain http"));
        assert!(strict().check_url("https://169.254.169.254/latest/meta-data").unwrap_err().contains("EGRESS_ALLOWED_NETWORKS"));
        assert!(strict().check_url("http://127.0.0.1:3200/token").is_err());
        assert!(strict().check_url("https://[::1]/token").is_err());
        let sandbox = Policy { allow_insecure_loopback: true, ..strict() };
        assert!(sandbox.check_url("http://127.0.0.1:3200/token").is_ok());
        assert!(sandbox.check_url("http://localhost:3200/token").is_ok());
        assert!(sandbox.check_url("http://[::1]:3200/revoke").is_ok());
        assert!(sandbox.check_url("http://127.0.0.1.example.com/revoke").is_err(), "a name is not loopback");
        assert!(sandbox.check_url("http://10.0.0.5/token").is_err(), "http stays loopback-only");
        assert!(strict().check_url("ftp://example.com/x").is_err());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_when_connecting() {
        let name: Name = "localhost".parse().unwrap();
        let refused = Resolver(strict()).resolve(name).await.err().expect("refused").to_string();
        assert!(refused.contains("refusing to send credentials to localhost"), "{refused}");
        let name: Name = "localhost".parse().unwrap();
        let allowed: Vec<SocketAddr> = Resolver(Policy { allow_insecure_loopback: true, ..strict() }).resolve(name).await.unwrap().collect();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()) && !allowed.is_empty());
    }
}
