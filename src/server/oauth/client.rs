//! Talking OAuth 2.0 to one platform's provider: its endpoints (catalog + the platform's
//! overrides), the `oauth2` client built from them, and what a failed call means.

use super::catalog::{self, ClientAuth, Provider};
use crate::domain::OauthSettings;
use oauth2::{
    basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType},
    http, url, AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, RedirectUrl, RequestTokenError, TokenUrl,
};
use crate::server::{egress::Policy, store::accounts::{self, Identity}};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// The client for one platform: authorize and token endpoints (revocation is sent by hand,
/// see `connect::revoke`).
pub type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Largest answer read from a provider: token, userinfo and publish answers are small.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// A platform's effective OAuth configuration.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub provider: &'static Provider,
    pub client_id: String,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub api_base_url: Option<String>,
    pub scopes: Vec<String>,
    /// The API version requests name (the platform's, else the catalog's).
    pub api_version: Option<String>,
}

impl Endpoints {
    /// The platform's settings over the catalog's defaults, or why Connect cannot work yet
    /// (in words for the admin who must fix it).
    pub fn resolve(settings: &OauthSettings) -> Result<Self, String> {
        let provider = catalog::get(settings.provider);
        if provider.needs_instance() && settings.instance_url.is_none() && settings.authorize_url.is_none() {
            return Err(format!("{} needs the instance URL (for example https://mastodon.social)", provider.key.label()));
        }
        let s = with_defaults(settings);
        // An app-password sign-in (Bluesky) has no client and no authorization page.
        let app_password = provider.sign_in == catalog::SignIn::AppPassword;
        Ok(Self {
            provider,
            client_id: s.client_id.or_else(|| app_password.then(String::new)).ok_or("set the client id the provider gave you")?,
            authorize_url: s.authorize_url.or_else(|| app_password.then(String::new)).ok_or("set the authorization URL")?,
            token_url: s.token_url.ok_or("set the token URL")?,
            revoke_url: s.revoke_url,
            userinfo_url: s.userinfo_url,
            api_base_url: s.api_base_url,
            scopes: s.scopes.unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
            api_version: s.api_version,
        })
    }

    /// The endpoints that receive a secret (the client secret or a token), by name.
    pub fn secret_receivers(settings: &OauthSettings) -> [(&'static str, Option<String>); 4] {
        let s = with_defaults(settings);
        [("token URL", s.token_url), ("revocation URL", s.revoke_url), ("userinfo URL", s.userinfo_url), ("API base URL", s.api_base_url)]
    }

    /// The `oauth2` client for these endpoints, with the secret when the platform has one.
    pub fn client(&self, secret: Option<&SecretString>, redirect_uri: &str) -> Result<Client, String> {
        let bad = |what: &str, e: url::ParseError| format!("the {what} is not a valid URL ({e})");
        let mut client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::new(self.authorize_url.clone()).map_err(|e| bad("authorization URL", e))?)
            .set_token_uri(TokenUrl::new(self.token_url.clone()).map_err(|e| bad("token URL", e))?)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| bad("redirect URI", e))?)
            .set_auth_type(match self.provider.client_auth {
                ClientAuth::Basic => oauth2::AuthType::BasicAuth,
                ClientAuth::Post => oauth2::AuthType::RequestBody,
            });
        if let Some(secret) = secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        Ok(client)
    }
}

/// Why a call to a provider's token endpoint did not give tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The grant is gone (expired, revoked, reused): a person must connect again.
    #[error("re-authentication required: {0}")]
    Reauthenticate(String),
    /// The provider rejects the client itself: an admin must fix the settings.
    #[error("the provider rejects the client settings: {0}")]
    Misconfigured(String),
    /// Worth trying again later.
    #[error("the provider could not be reached or failed: {message}")]
    Transient { message: String, retry_after: Option<Duration> },
}

/// A provider's answer that says "not now" (5xx, 429) or no answer at all.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("HTTP {status}")]
    Status { status: u16, retry_after: Option<Duration> },
    #[error("{0}")]
    Network(String),
    /// The egress policy refuses the endpoint (plain http, a private address).
    #[error("{0}")]
    Refused(String),
}

/// `settings` with the provider's defaults wherever the admin set nothing.
pub fn with_defaults(settings: &OauthSettings) -> OauthSettings {
    let d = catalog::get(settings.provider).defaults(settings.instance_url.as_deref());
    let pick = |own: &Option<String>, default: Option<String>| own.clone().or(default);
    OauthSettings {
        authorize_url: pick(&settings.authorize_url, d.authorize_url),
        token_url: pick(&settings.token_url, d.token_url),
        revoke_url: pick(&settings.revoke_url, d.revoke_url),
        userinfo_url: pick(&settings.userinfo_url, d.userinfo_url),
        api_base_url: pick(&settings.api_base_url, d.api_base_url),
        scopes: settings.scopes.clone().or(d.scopes),
        api_version: settings.api_version.clone().or(d.api_version),
        ..settings.clone()
    }
}

/// Sends one request for the `oauth2` crate through our redirect-free client. 5xx and
/// 429 become errors here, because the crate cannot tell them from a refusal otherwise.
pub async fn send(http: &reqwest::Client, egress: &Policy, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let (parts, body) = request.into_parts();
    egress.check_url(&parts.uri.to_string()).map_err(HttpError::Refused)?;
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| refusal(&e).map_or_else(|| HttpError::Network(describe(&e)), HttpError::Refused))?;
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(HttpError::Status { status: status.as_u16(), retry_after: retry_after(response.headers()) });
    }
    let headers = response.headers().clone();
    let bytes = read_capped(response).await.map_err(HttpError::Network)?;
    let (status, bytes) = standard_answer(status.as_u16(), bytes);
    let mut builder = http::Response::builder().status(status);
    if let Some(h) = builder.headers_mut() {
        *h = headers;
        h.remove(reqwest::header::CONTENT_LENGTH);
    }
    builder.body(bytes).map_err(|e| HttpError::Network(e.to_string()))
}

/// A token answer in the shape RFC 6749 §5 gives it, from the shapes real providers use,
/// so the `oauth2` crate reads a refusal as a refusal (a person reconnects) instead of an
/// unreadable answer (retried as an outage):
/// - an error with HTTP 200: Reddit answers a bad code `200 {"error": "invalid_grant"}`
///   (recorded in praw-dev/prawcore, tests/cassettes/Authorizer_authorize__with_invalid_code.json);
/// - a numeric error: Reddit answers a bad refresh token `400 {"error": 400}`
///   (prawcore, tests/cassettes/Authorizer_refresh__with_invalid_token.json);
/// - Meta's error object `{"error": {"message", "type", "code", "error_subcode"}}`
///   (https://developers.facebook.com/docs/graph-api/guides/error-handling): code 190 (an
///   invalid or expired token) and 100 (a used or expired code, answered for
///   oauth/access_token) mean reconnect, 1 and 101 a client the provider does not accept;
/// - a success wrapped in `data` (Instagram, below);
/// - a success without `token_type`, which §5.1 requires: taken as `bearer`.
pub fn standard_answer(status: u16, body: Vec<u8>) -> (u16, Vec<u8>) {
    let Ok(serde_json::Value::Object(mut json)) = serde_json::from_slice::<serde_json::Value>(&body) else { return (status, body) };
    // Instagram's code exchange answers `{"data": [{"access_token", "user_id", "permissions"}]}`
    // (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login, step 2).
    let wrapped = json.get("data").and_then(|d| d.as_array()).and_then(|d| d.first()).filter(|f| f.get("access_token").is_some()).cloned();
    let unwrapped = match wrapped {
        Some(serde_json::Value::Object(first)) if !json.contains_key("access_token") => {
            json = first;
            true
        }
        _ => false,
    };
    let has_token = json.contains_key("access_token");
    let status = match (json.get("error"), has_token) {
        (Some(_), false) if (200..300).contains(&status) => 400,
        (None, true) if !json.contains_key("token_type") => {
            json.insert("token_type".into(), "bearer".into());
            status
        }
        (None, _) if !unwrapped => return (status, body),
        _ => status,
    };
    match json.get("error").cloned() {
        Some(serde_json::Value::Object(meta)) => {
            let code = meta.get("code").and_then(serde_json::Value::as_i64);
            let error = match code {
                Some(100 | 190) => "invalid_grant",
                Some(1 | 101) => "invalid_client",
                _ => "invalid_request",
            };
            let message = meta.get("message").and_then(serde_json::Value::as_str).unwrap_or("no reason given");
            let codes = code.map(|c| format!(" (code {c})")).unwrap_or_default();
            json.insert("error".into(), error.into());
            json.insert("error_description".into(), format!("{}{codes}", message.chars().take(200).collect::<String>()).into());
        }
        Some(serde_json::Value::Number(n)) => {
            json.insert("error".into(), "invalid_grant".into());
            json.insert("error_description".into(), format!("the provider answered error {n}").into());
        }
        _ => {}
    }
    (status, serde_json::to_vec(&json).unwrap_or(body))
}

/// A provider's answer body, read chunk by chunk and abandoned as soon as it passes
/// [`MAX_ANSWER_BYTES`]: a hostile server cannot stream more than that into memory.
pub async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!("answer larger than {} KiB", MAX_ANSWER_BYTES / 1024));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Retry-After` in seconds, at most a day (the HTTP-date form is rare for APIs and
/// treated as absent). RFC 9110 §10.2.3: https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds).min(crate::server::clock::MAX_RETRY_AFTER))
}

/// The egress policy's refusal, when that is why a request failed: the resolver's error
/// sits deep in the request error's causes.
pub fn refusal(e: &reqwest::Error) -> Option<String> {
    std::iter::successors(std::error::Error::source(e), |c| c.source()).map(|c| c.to_string()).find(|m| m.starts_with(crate::server::egress::REFUSED))
}

/// A network error in words, without the URL (which may carry a query); an egress refusal
/// as the policy said it.
pub fn describe(e: &reqwest::Error) -> String {
    if let Some(refused) = refusal(e) {
        return refused;
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_decode() {
        "unreadable answer".into()
    } else {
        "request failed".into()
    }
}

/// What a failed token request means for the connection.
pub fn classify(e: RequestTokenError<HttpError, BasicErrorResponse>) -> GrantError {
    match e {
        RequestTokenError::ServerResponse(answer) => {
            let detail = match answer.error_description() {
                Some(d) => format!("{} ({})", answer.error(), d.chars().take(200).collect::<String>()),
                None => answer.error().to_string(),
            };
            match answer.error() {
                BasicErrorResponseType::InvalidGrant => Reauthenticate(detail),
                BasicErrorResponseType::Extension(code) if code == "server_error" || code == "temporarily_unavailable" => {
                    GrantError::Transient { message: detail, retry_after: None }
                }
                _ => GrantError::Misconfigured(detail),
            }
        }
        RequestTokenError::Request(HttpError::Status { status, retry_after }) => {
            GrantError::Transient { message: format!("HTTP {status}"), retry_after }
        }
        RequestTokenError::Request(HttpError::Network(message)) => GrantError::Transient { message, retry_after: None },
        RequestTokenError::Request(HttpError::Refused(message)) => GrantError::Misconfigured(message),
        RequestTokenError::Parse(e, _) => GrantError::Transient { message: format!("unreadable answer ({})", e.path()), retry_after: None },
        RequestTokenError::Other(message) => GrantError::Transient { message, retry_after: None },
    }
}

use GrantError::Reauthenticate;

/// The connected account, read from the userinfo answer with the catalog's JSON Pointers,
/// or — where the catalog names none (a custom provider) — OpenID Connect's standard
/// claims `sub`, then `name` or `preferred_username`
/// (https://openid.net/specs/openid-connect-core-1_0.html#StandardClaims).
pub fn account_of(provider: &Provider, answer: &serde_json::Value) -> Identity {
    let read = |pointer: Option<&str>, standard: &[&str]| {
        let found = match pointer {
            Some(p) => answer.pointer(p),
            None => standard.iter().find_map(|p| answer.pointer(p)),
        };
        found.and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.chars().take(accounts::NAME_MAX).collect::<String>()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    // Shown as <img src>: https only (the page's CSP allows no other), and no longer than kept.
    let avatar = provider.account_avatar.as_deref().and_then(|p| answer.pointer(p)).and_then(|v| v.as_str());
    let avatar = avatar.filter(|u| u.len() <= accounts::AVATAR_URL_MAX && url::Url::parse(u).is_ok_and(|u| u.scheme() == "https"));
    Identity {
        external_id: read(provider.account_id.as_deref(), &["/sub"]).unwrap_or_default(),
        name: read(provider.account_name.as_deref(), &["/name", "/preferred_username"]),
        avatar_url: avatar.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderKey;

    fn settings(provider: ProviderKey) -> OauthSettings {
        OauthSettings { provider, client_id: Some("id".into()), ..Default::default() }
    }

    #[test]
    fn overrides_win_over_the_catalog() {
        let mut s = settings(ProviderKey::X);
        let e = Endpoints::resolve(&s).unwrap();
        assert_eq!(e.token_url, catalog::get(ProviderKey::X).token_url);
        s.token_url = Some("http://127.0.0.1:9/token".into());
        s.scopes = Some("a b".into());
        let e = Endpoints::resolve(&s).unwrap();
        assert_eq!(e.token_url, "http://127.0.0.1:9/token");
        assert_eq!(e.scopes, ["a", "b"]);
    }

    #[test]
    fn missing_pieces_are_named() {
        assert!(Endpoints::resolve(&OauthSettings { client_id: None, ..settings(ProviderKey::X) }).unwrap_err().contains("client id"));
        assert!(Endpoints::resolve(&settings(ProviderKey::Mastodon)).unwrap_err().contains("instance URL"));
        assert!(Endpoints::resolve(&settings(ProviderKey::Custom)).unwrap_err().contains("authorization URL"));
    }

    #[test]
    fn account_is_read_with_json_pointers() {
        let x = catalog::get(ProviderKey::X);
        let answer = serde_json::json!({"data": {"id": "42", "username": "keyport"}});
        assert_eq!(account_of(x, &answer), Identity { external_id: "42".into(), name: Some("keyport".into()), avatar_url: None });
        assert_eq!(account_of(x, &serde_json::json!({})), Identity::default());
        let mastodon = catalog::get(ProviderKey::Mastodon);
        let avatar = |url: &str| account_of(mastodon, &serde_json::json!({"id": "1", "acct": "a", "avatar": url})).avatar_url;
        assert_eq!(avatar("https://files.example/a.png").as_deref(), Some("https://files.example/a.png"));
        assert_eq!(avatar("javascript:alert(1)"), None, "only https pictures are kept");
        assert_eq!(avatar("http://files.example/a.png"), None);
    }

    #[test]
    fn a_provider_without_pointers_is_read_by_the_standard_claims() {
        let custom = catalog::get(ProviderKey::Custom);
        let oidc = serde_json::json!({"sub": "248289761001", "preferred_username": "j.doe", "email": "j@example.com"});
        assert_eq!(account_of(custom, &oidc), Identity { external_id: "248289761001".into(), name: Some("j.doe".into()), avatar_url: None });
        let named = serde_json::json!({"sub": "1", "name": "Jane Doe", "preferred_username": "j.doe"});
        assert_eq!(account_of(custom, &named).name.as_deref(), Some("Jane Doe"), "name before preferred_username");
    }

    /// Each body as the source named in `standard_answer` records it.
    #[test]
    fn real_token_answers_become_standard_ones() {
        let read = |status: u16, body: serde_json::Value| {
            let (status, bytes) = standard_answer(status, serde_json::to_vec(&body).unwrap());
            (status, serde_json::from_slice::<serde_json::Value>(&bytes).unwrap())
        };
        let (status, reddit) = read(200, serde_json::json!({"error": "invalid_grant"}));
        assert_eq!((status, reddit["error"].as_str()), (400, Some("invalid_grant")));
        let (status, reddit) = read(400, serde_json::json!({"error": 400}));
        assert_eq!((status, reddit["error"].as_str()), (400, Some("invalid_grant")));
        let used = serde_json::json!({"error": {"message": "This authorization code has been used.", "type": "OAuthException", "code": 100}});
        let (status, meta) = read(400, used);
        assert_eq!((status, meta["error"].as_str()), (400, Some("invalid_grant")));
        assert_eq!(meta["error_description"], "This authorization code has been used. (code 100)");
        let secret = serde_json::json!({"error": {"message": "Error validating client secret.", "type": "OAuthException", "code": 1}});
        assert_eq!(read(400, secret).1["error"], "invalid_client");
        let bare = serde_json::json!({"access_token": "t", "expires_in": 3600});
        assert_eq!(read(200, bare).1["token_type"], "bearer");
        let instagram = serde_json::json!({"data": [{"access_token": "EAACEdEose0...", "user_id": "1020...", "permissions": "instagram_business_basic"}]});
        let (status, flat) = read(200, instagram);
        assert_eq!((status, flat["access_token"].as_str(), flat["token_type"].as_str()), (200, Some("EAACEdEose0..."), Some("bearer")));
        let standard = serde_json::to_vec(&serde_json::json!({"access_token": "t", "token_type": "Bearer"})).unwrap();
        assert_eq!(standard_answer(200, standard.clone()), (200, standard), "a standard answer is left as it came");
        assert_eq!(standard_answer(200, b"not json".to_vec()), (200, b"not json".to_vec()));
    }

    #[test]
    fn a_meta_refusal_reads_as_a_grant_to_renew() {
        let (status, body) = standard_answer(400, br#"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}"#.to_vec());
        let parsed: BasicErrorResponse = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, parsed.error()), (400, &BasicErrorResponseType::InvalidGrant));
    }

    #[test]
    fn refusals_and_outages_mean_different_things() {
        let refusal = |code: BasicErrorResponseType| {
            classify(RequestTokenError::ServerResponse(BasicErrorResponse::new(code, None, None)))
        };
        assert!(matches!(refusal(BasicErrorResponseType::InvalidGrant), GrantError::Reauthenticate(_)));
        assert!(matches!(refusal(BasicErrorResponseType::InvalidClient), GrantError::Misconfigured(_)));
        assert!(matches!(refusal(BasicErrorResponseType::Extension("temporarily_unavailable".into())), GrantError::Transient { .. }));
        let outage = classify(RequestTokenError::Request(HttpError::Status { status: 429, retry_after: Some(Duration::from_secs(3)) }));
        assert_eq!(outage, GrantError::Transient { message: "HTTP 429".into(), retry_after: Some(Duration::from_secs(3)) });
    }
}
