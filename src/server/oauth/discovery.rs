//! Custom OAuth 2.0 from an issuer alone: Keyport reads the issuer's metadata — OpenID
//! Connect Discovery, `{issuer}/.well-known/openid-configuration`
//! (https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig), or else
//! RFC 8414's `/.well-known/oauth-authorization-server`, inserted before the issuer's
//! path (https://www.rfc-editor.org/rfc/rfc8414#section-3) — and fills the endpoints the
//! admin left empty. The metadata's `issuer` must be exactly the one given (OIDC
//! Discovery §4.3, RFC 8414 §3.3): an answer about another issuer is refused.

use super::client::{describe, read_capped};
use crate::server::state::AppState;
use serde_json::Value;

/// The endpoints an issuer's metadata names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub userinfo_url: Option<String>,
}

/// Where the two kinds of metadata live for `issuer` (no trailing slash).
fn metadata_urls(issuer: &str) -> Option<[String; 2]> {
    let url = url::Url::parse(issuer).ok()?;
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    Some([format!("{origin}{path}/.well-known/openid-configuration"), format!("{origin}/.well-known/oauth-authorization-server{path}")])
}

/// The endpoints of a metadata document about `issuer`, or what is wrong with it.
fn read(json: &Value, issuer: &str) -> Result<Discovered, String> {
    let said = json.get("issuer").and_then(Value::as_str).unwrap_or_default();
    if said.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!("the metadata names another issuer ({})", said.chars().take(200).collect::<String>()));
    }
    let url = |key: &str| json.get(key).and_then(Value::as_str).filter(|u| u.len() <= 2048 && url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "https" | "http"))).map(str::to_owned);
    Ok(Discovered {
        authorize_url: url("authorization_endpoint").ok_or("the metadata has no authorization_endpoint")?,
        token_url: url("token_endpoint").ok_or("the metadata has no token_endpoint")?,
        revoke_url: url("revocation_endpoint"),
        userinfo_url: url("userinfo_endpoint"),
    })
}

/// Reads the issuer's metadata (each URL through the egress policy, the answer capped):
/// the endpoints, or why not in words for the admin.
pub async fn discover(state: &AppState, issuer: &str) -> Result<Discovered, String> {
    let urls = metadata_urls(issuer).ok_or("the issuer is not a URL")?;
    let mut why = Vec::new();
    for url in urls {
        let answer = async {
            state.config.oauth.egress.check_url(&url)?;
            let response = state.http.get(&url).header("accept", "application/json").send().await.map_err(|e| describe(&e))?;
            if !response.status().is_success() {
                return Err(format!("HTTP {}", response.status().as_u16()));
            }
            let body = read_capped(response).await?;
            serde_json::from_slice::<Value>(&body).map_err(|_| "not JSON".to_owned())
        };
        match answer.await.and_then(|json| read(&json, issuer)) {
            Ok(found) => return Ok(found),
            Err(e) => why.push(format!("{url}: {e}")),
        }
    }
    Err(format!("no usable OpenID Connect or OAuth 2.0 metadata ({})", why.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_lives_where_each_spec_says() {
        assert_eq!(
            metadata_urls("https://id.example").unwrap(),
            ["https://id.example/.well-known/openid-configuration", "https://id.example/.well-known/oauth-authorization-server"]
        );
        // RFC 8414 §3.1: the well-known part goes between the host and the issuer's path.
        assert_eq!(
            metadata_urls("https://id.example/tenant1/").unwrap(),
            ["https://id.example/tenant1/.well-known/openid-configuration", "https://id.example/.well-known/oauth-authorization-server/tenant1"]
        );
        assert!(metadata_urls("not a url").is_none());
    }

    /// Google's published discovery document (https://accounts.google.com/.well-known/openid-configuration), trimmed.
    #[test]
    fn endpoints_are_read_and_the_issuer_must_match() {
        let google = serde_json::json!({
            "issuer": "https://accounts.google.com",
            "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
            "token_endpoint": "https://oauth2.googleapis.com/token",
            "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
            "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
            "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs"
        });
        let found = read(&google, "https://accounts.google.com").unwrap();
        assert_eq!(found.token_url, "https://oauth2.googleapis.com/token");
        assert_eq!(found.userinfo_url.as_deref(), Some("https://openidconnect.googleapis.com/v1/userinfo"));
        assert!(read(&google, "https://evil.example").unwrap_err().contains("another issuer"));
        let broken = serde_json::json!({"issuer": "https://id.example", "authorization_endpoint": "javascript:alert(1)", "token_endpoint": "https://id.example/token"});
        assert!(read(&broken, "https://id.example").unwrap_err().contains("authorization_endpoint"));
    }
}
