//! The client's address, for the audit log and the per-address sign-in limit: the TCP peer,
//! unless the peer is a trusted reverse proxy (`TRUSTED_PROXIES`). Then it is the nearest
//! address in `Forwarded: for=` (RFC 7239) or, without that header, `X-Forwarded-For`, that
//! is not itself a trusted proxy. A header from any other peer is ignored: anyone can send one.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Right to left: each trusted proxy appended the address it got the request from.
    let mut nearest = peer;
    for hop in forwarded_for(headers).iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => nearest = ip,
            Ok(ip) => return ip,
            Err(_) => break, // garbage (or an obfuscated name): not an address to believe
        }
    }
    nearest
}

/// The `for` addresses, first hop first, without quotes, brackets or ports.
fn forwarded_for(headers: &HeaderMap) -> Vec<String> {
    let values = |name| headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim).collect::<Vec<_>>();
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .filter_map(|element| element.split(';').find_map(|pair| pair.trim().strip_prefix("for=").or_else(|| pair.trim().strip_prefix("For="))))
            .map(|node| strip_port(node.trim_matches('"')))
            .collect();
    }
    values("x-forwarded-for").into_iter().map(strip_port).collect()
}

/// `[2001:db8::1]:4711` → `2001:db8::1`, `192.0.2.1:80` → `192.0.2.1`; a bare address stays.
fn strip_port(node: &str) -> String {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    match node.rsplit_once(':') {
        Some((ip, port)) if !ip.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => ip.to_owned(),
        _ => node.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, value.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()];
        let spoofed = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_addr(ip("198.51.100.7"), &spoofed, &trusted), ip("198.51.100.7"), "a stranger's header is ignored");
        assert_eq!(client_addr(ip("127.0.0.1"), &spoofed, &[]), ip("127.0.0.1"), "nothing is trusted by default");
        assert_eq!(client_addr(ip("127.0.0.1"), &spoofed, &trusted), ip("203.0.113.9"));
        // The client put a fake address first; the proxies appended what they saw.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.2.3")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &chain, &trusted), ip("203.0.113.9"));
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, not-an-ip, 10.1.2.3")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &garbage, &trusted), ip("10.1.2.3"), "an unreadable hop ends the walk");
        assert_eq!(client_addr(ip("10.0.0.1"), &headers(&[]), &trusted), ip("10.0.0.1"));
    }

    proptest::proptest! {
        /// Any header text: no panic, and a stranger's header never decides.
        #[test]
        fn any_forwarding_header_is_survived(value in "[ -~]{0,60}", forwarded in proptest::bool::ANY) {
            let mut h = HeaderMap::new();
            if let Ok(v) = value.parse() {
                h.insert(if forwarded { "forwarded" } else { "x-forwarded-for" }, v);
            }
            let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
            let _ = client_addr(ip("10.0.0.1"), &h, &trusted);
            proptest::prop_assert_eq!(client_addr(ip("198.51.100.7"), &h, &trusted), ip("198.51.100.7"));
        }
    }

    #[test]
    fn forwarded_is_read_with_quotes_brackets_and_ports() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&[("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"), ("forwarded", "for=\"[2001:db8:cafe::17]:4711\", for=10.0.0.2:8080")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &trusted), ip("2001:db8:cafe::17"));
        let both = headers(&[("forwarded", "for=192.0.2.60"), ("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &both, &trusted), ip("192.0.2.60"), "Forwarded wins");
    }
}
