//! URL plumbing: form parsing, building redirect URLs, redirect-URI validation and HTTP
//! Basic client credentials, on the `url` crate's codecs. Stricter than a generic form
//! extractor where the OAuth rules (RFC 6749) ask for it: a repeated parameter is an error,
//! an empty value counts as missing, and a broken `%` escape is refused, not passed on.

use base64::Engine;
use std::collections::HashMap;
use url::{form_urlencoded, Url};

/// Decodes one form component; `None` for a broken `%` escape or bytes that are not UTF-8.
pub fn decode_component(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let broken = bytes.iter().enumerate().any(|(i, &b)| b == b'%' && !bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)));
    if broken {
        return None;
    }
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|s| s.into_owned())
}

/// Parameters of a query string or form body.
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// The value of `name`; an empty value is treated as absent, as OAuth servers usually do.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }
}

/// Parses `a=1&b=2`. RFC 6749 §3.1 forbids repeating a parameter, so a repeat is an error
/// rather than silently picking one of the values.
pub fn parse_params(input: &str) -> Result<Params, String> {
    let mut map = HashMap::new();
    for pair in input.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode_component(raw_name).ok_or("malformed form encoding")?;
        let value = decode_component(raw_value).ok_or_else(|| format!("malformed encoding in parameter {name}"))?;
        if map.insert(name.clone(), value).is_some() {
            return Err(format!("parameter {name} is repeated"));
        }
    }
    Ok(Params(map))
}

/// Adds query parameters to `base`, keeping any query it already has (RFC 6749 §3.1.2).
pub fn append_query(base: &str, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with(['?', '&']) => "",
        Some(_) => "&",
    };
    format!("{base}{separator}{query}")
}

/// Checks a redirect URI given at registration: absolute http(s), a host, no fragment
/// (RFC 6749 §3.1.2) and nothing a browser would reinterpret.
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    // ASCII only: the URI ends up verbatim in a Location header, which must be ASCII.
    if !uri.is_ascii() || uri.chars().any(|c| c.is_ascii_whitespace() || c.is_ascii_control() || c == '\\') {
        return Err(format!("{uri:?} contains characters not allowed in a URL (percent-encode them)"));
    }
    let not_http = || format!("{uri:?} is not an absolute http(s) URL");
    let url = Url::parse(uri).map_err(|_| not_http())?;
    let Some(rest) = uri.strip_prefix(url.scheme()).and_then(|r| r.strip_prefix("://")).filter(|_| matches!(url.scheme(), "http" | "https")) else {
        return Err(not_http());
    };
    if url.fragment().is_some() {
        return Err(format!("{uri:?} must not contain a fragment"));
    }
    // WHATWG parsing forgives `http:///host`; a registered URI names its host where it belongs.
    if rest.starts_with('/') || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{uri:?} has no host"));
    }
    Ok(())
}

/// Reads `Authorization: Basic …` client credentials. RFC 6749 §2.3.1 has the client
/// form-urlencode id and secret before joining them with `:`, so both are decoded here.
pub fn parse_basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((decode_component(id)?, decode_component(secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_round_trip() {
        let raw = "a b&c=d/é?%+~";
        let encoded: String = form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        assert_eq!(encoded, "a+b%26c%3Dd%2F%C3%A9%3F%25%2B%7E");
        assert_eq!(decode_component(&encoded).as_deref(), Some(raw));
    }

    #[test]
    fn broken_escapes_are_rejected() {
        assert_eq!(decode_component("%"), None);
        assert_eq!(decode_component("%4"), None);
        assert_eq!(decode_component("%zz"), None);
        assert_eq!(decode_component("%FF"), None, "not UTF-8");
    }

    #[test]
    fn params_treat_empty_as_missing_and_reject_repeats() {
        let params = parse_params("a=1&b=&c&d=x+y").unwrap();
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get("c"), None);
        assert_eq!(params.get("d"), Some("x y"));
        assert!(parse_params("a=1&a=2").unwrap_err().contains("repeated"));
        assert!(parse_params("a=%zz").is_err());
    }

    #[test]
    fn redirect_urls_keep_an_existing_query() {
        let params = [("code", "abc"), ("state", "s t&u")];
        assert_eq!(append_query("http://app/cb", &params), "http://app/cb?code=abc&state=s+t%26u");
        assert_eq!(append_query("http://app/cb?x=1", &params), "http://app/cb?x=1&code=abc&state=s+t%26u");
        assert_eq!(append_query("http://app/cb?", &params[..1]), "http://app/cb?code=abc");
        assert_eq!(append_query("http://app/cb?x=1&", &params[..1]), "http://app/cb?x=1&code=abc");
    }

    #[test]
    fn redirect_uri_validation() {
        assert!(validate_redirect_uri("http://127.0.0.1:3000/callback").is_ok());
        assert!(validate_redirect_uri("https://example.com/cb?x=1").is_ok());
        assert!(validate_redirect_uri("ftp://example.com/").is_err());
        assert!(validate_redirect_uri("/relative").is_err());
        assert!(validate_redirect_uri("http:///nohost").is_err());
        assert!(validate_redirect_uri("http://:80/").is_err());
        assert!(validate_redirect_uri("https://example.com/cb#frag").is_err());
        assert!(validate_redirect_uri("https://exa mple.com/").is_err());
        assert!(validate_redirect_uri("https://example.com/café").is_err());
    }

    #[test]
    fn basic_credentials_are_url_decoded() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("my%3Aclient:p%40ss+word%2B");
        let parsed = parse_basic_credentials(&format!("Basic {encoded}"));
        assert_eq!(parsed, Some(("my:client".to_owned(), "p@ss word+".to_owned())));
        let lower = parse_basic_credentials(&format!("basic {encoded}"));
        assert!(lower.is_some(), "the scheme is case-insensitive");
    }

    #[test]
    fn malformed_basic_credentials_are_none() {
        assert_eq!(parse_basic_credentials("Bearer abc"), None);
        assert_eq!(parse_basic_credentials("Basic !!!"), None);
        let no_colon = base64::engine::general_purpose::STANDARD.encode("justid");
        assert_eq!(parse_basic_credentials(&format!("Basic {no_colon}")), None);
        assert_eq!(parse_basic_credentials("Basic"), None);
    }
}
