//! The authorization endpoint: `GET /authorize` validates the request and shows the
//! consent page, `POST /authorize` records the user's decision and redirects back. The
//! Meta personality's login dialog (meta.rs) is the same endpoint in Meta's dialect.

use crate::faults::Endpoint;
use crate::html::{self, Consent, DEFAULT_ACCOUNT};
use crate::reply;
use crate::state::AppState;
use crate::store::{normalize_scope, Approval, MetaConsent, Store};
use crate::urlenc::{append_query, parse_params, Params};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::time::Instant;

/// A request that passed every check and may be shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    /// Reddit's `duration` (`temporary` or `permanent`), carried through the consent form.
    pub duration: Option<String>,
}

/// How an authorization request is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OAuth 2.0 with PKCE S256 required, space-separated scopes.
    OAuth,
    /// Facebook Login's dialog: comma-separated permissions, no PKCE (Meta documents PKCE
    /// only for its OIDC flow), and a consent page where the user picks Pages and may
    /// decline permissions (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow).
    Meta,
    /// LinkedIn's: space-separated scopes, PKCE only for native apps (so optional here), and
    /// 60-day access tokens (https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow).
    LinkedIn,
    /// Instagram's and Threads' login: comma-separated permissions, no PKCE, a short-lived
    /// token of an hour (exchanged for a long-lived one afterwards; `instagram.rs`).
    MetaLogin,
    /// Reddit's: `duration` is required (`permanent` for a refresh token), scopes are
    /// separated by spaces or commas, no PKCE
    /// (https://github.com/reddit-archive/reddit/wiki/OAuth2, "Authorization"). The sandbox
    /// issues a refresh token for either duration.
    Reddit,
    /// Pinterest's: comma-separated scopes, no PKCE (its OpenAPI description's
    /// `securitySchemes` and api-quickstart show none).
    Pinterest,
}

/// A short-lived Instagram or Threads token lives an hour.
pub const SHORT_LIVED_TTL: u64 = 3600;

/// LinkedIn's access-token lifetime: 60 days (same page, "expires_in": 5184000).
pub const LINKEDIN_TTL: u64 = 5_184_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The client or redirect URI cannot be trusted, so the error stays on the sandbox
    /// (RFC 6749 §4.1.2.1: never redirect to an unverified URI).
    Page(String),
    /// Anything else goes back to the client as `error=…` on its redirect URI.
    Redirect(String),
}

/// Validates authorization request parameters against the registered clients.
pub fn validate(store: &Store, params: &Params, dialect: Dialect) -> Result<AuthorizeRequest, Rejection> {
    let client_id = params.get("client_id").ok_or_else(|| Rejection::Page("The request has no client_id.".into()))?;
    let client = store.client(client_id).ok_or_else(|| Rejection::Page("The client_id is not registered with the sandbox.".into()))?;
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| Rejection::Page("The request has no redirect_uri.".into()))?;
    if !client.redirect_uris.iter().any(|registered| registered == redirect_uri) {
        return Err(Rejection::Page("The redirect_uri is not one of the client's registered redirect URIs.".into()));
    }
    let state = params.get("state");
    let fail = |error: &str, description: &str| Rejection::Redirect(error_redirect(redirect_uri, error, description, state));
    match params.get("response_type") {
        None => return Err(fail("invalid_request", "response_type is required")),
        Some("code") => {}
        Some(_) => return Err(fail("unsupported_response_type", "only response_type=code is supported")),
    }
    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method"), dialect) {
        (Some(challenge), Some("S256"), _) => Some(challenge.to_owned()),
        (None, None, Dialect::Meta | Dialect::LinkedIn | Dialect::MetaLogin | Dialect::Reddit | Dialect::Pinterest) => None,
        _ => return Err(fail("invalid_request", "PKCE S256 is required")),
    };
    let requested = params.get("scope").unwrap_or_default();
    let scope = match dialect {
        Dialect::OAuth | Dialect::LinkedIn => normalize_scope(requested),
        Dialect::Meta | Dialect::MetaLogin | Dialect::Reddit | Dialect::Pinterest => normalize_scope(&requested.replace(',', " ")),
    };
    let duration = match (dialect, params.get("duration")) {
        (Dialect::Reddit, Some(d @ ("temporary" | "permanent"))) => Some(d.to_owned()),
        (Dialect::Reddit, _) => return Err(fail("invalid_request", "duration must be temporary or permanent")),
        _ => None,
    };
    if let Some(registered) = &client.scopes {
        if let Some(extra) = scope.split_ascii_whitespace().find(|s| !registered.iter().any(|r| r == s)) {
            return Err(fail("invalid_scope", &format!("the scope {extra} was not registered for this application")));
        }
    }
    Ok(AuthorizeRequest {
        client_id: client.id.clone(),
        client_name: client.name.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: state.map(str::to_owned),
        code_challenge,
        duration,
    })
}

pub fn error_redirect(redirect_uri: &str, error: &str, description: &str, state: Option<&str>) -> String {
    let mut params = vec![("error", error), ("error_description", description)];
    params.extend(state.map(|state| ("state", state)));
    append_query(redirect_uri, &params)
}

fn success_redirect(redirect_uri: &str, code: &str, state: Option<&str>) -> String {
    let mut params = vec![("code", code)];
    params.extend(state.map(|state| ("state", state)));
    append_query(redirect_uri, &params)
}

fn bad_request_page(message: &str) -> Response {
    reply::html(StatusCode::BAD_REQUEST, html::error_page("Invalid authorization request", message))
}

fn reject(rejection: Rejection) -> Response {
    match rejection {
        Rejection::Page(message) => bad_request_page(&message),
        Rejection::Redirect(url) => Redirect::to(&url).into_response(),
    }
}

/// `GET /authorize`: the consent page.
pub async fn consent(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    consent_page(&app, query.as_deref(), Dialect::OAuth, "/authorize").await
}

/// The consent page of an authorization request in `dialect`, whose form posts to `action`.
pub async fn consent_page(app: &AppState, query: Option<&str>, dialect: Dialect, action: &str) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Authorize).await {
        return response;
    }
    let params = match parse_params(query.unwrap_or_default()) {
        Ok(params) => params,
        Err(message) => return bad_request_page(&message),
    };
    let request = match validate(&app.store(), &params, dialect) {
        Ok(request) => request,
        Err(rejection) => return reject(rejection),
    };
    let mut hidden = vec![
        ("response_type", "code"),
        ("client_id", request.client_id.as_str()),
        ("redirect_uri", request.redirect_uri.as_str()),
        ("scope", request.scope.as_str()),
    ];
    if let Some(challenge) = request.code_challenge.as_deref() {
        hidden.extend([("code_challenge", challenge), ("code_challenge_method", "S256")]);
    }
    hidden.extend(request.state.as_deref().map(|state| ("state", state)));
    hidden.extend(request.duration.as_deref().map(|duration| ("duration", duration)));
    let consent = Consent { client_name: &request.client_name, scope: &request.scope, redirect_uri: &request.redirect_uri, hidden: &hidden, action, meta: dialect == Dialect::Meta };
    let page = html::consent_page(&consent);
    let mut response = reply::html(StatusCode::OK, page);
    // Clickjacking a consent page would let another site approve on the user's behalf.
    response.headers_mut().insert(axum::http::header::X_FRAME_OPTIONS, axum::http::HeaderValue::from_static("DENY"));
    response
}

/// `POST /authorize`: the consent form's submission. The hidden fields come back from the
/// browser and could have been edited, so the whole request is validated again.
pub async fn decide(State(app): State<AppState>, body: Bytes) -> Response {
    decision(&app, &body, Dialect::OAuth).await
}

/// Records the decision of a consent form in `dialect`.
pub async fn decision(app: &AppState, body: &[u8], dialect: Dialect) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Authorize).await {
        return response;
    }
    let params = match std::str::from_utf8(body).map_err(|_| "the form is not UTF-8".to_owned()).and_then(parse_params) {
        Ok(params) => params,
        Err(message) => return bad_request_page(&message),
    };
    let mut store = app.store();
    let request = match validate(&store, &params, dialect) {
        Ok(request) => request,
        Err(rejection) => return reject(rejection),
    };
    let state = request.state.as_deref();
    match params.get("decision") {
        Some("deny") => {
            tracing::info!(client_id = %request.client_id, "user denied access");
            Redirect::to(&error_redirect(&request.redirect_uri, "access_denied", "The user denied access", state)).into_response()
        }
        Some("approve") => {
            let account_name = params.get("account").map(str::trim).filter(|name| !name.is_empty()).unwrap_or(DEFAULT_ACCOUNT);
            let meta = (dialect == Dialect::Meta).then(|| meta_consent(&params, &request.scope));
            // A declined permission is not part of the grant (Meta's /me/permissions says "declined").
            let declined = meta.as_ref().map(|m| m.declined.clone()).unwrap_or_default();
            let scope = request.scope.split_ascii_whitespace().filter(|s| !declined.iter().any(|d| d == s)).collect::<Vec<_>>().join(" ");
            let approval = Approval {
                client_id: request.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                scope,
                code_challenge: request.code_challenge.clone(),
                account_name: account_name.to_owned(),
                meta,
                ttl: match dialect {
                    Dialect::LinkedIn => Some(LINKEDIN_TTL),
                    Dialect::MetaLogin => Some(SHORT_LIVED_TTL),
                    Dialect::OAuth | Dialect::Meta | Dialect::Reddit | Dialect::Pinterest => None,
                },
            };
            let code = store.issue_code(approval, Instant::now());
            drop(store);
            tracing::info!(client_id = %request.client_id, "user approved access; code issued");
            Redirect::to(&success_redirect(&request.redirect_uri, &code, state)).into_response()
        }
        _ => bad_request_page("The form must say decision=approve or decision=deny."),
    }
}

/// The Meta consent form: comma-separated Page names (managed directly, and through the
/// business portfolio) and one `grant.{permission}` checkbox per requested permission —
/// an unchecked one is declined.
fn meta_consent(params: &Params, scope: &str) -> MetaConsent {
    let names = |field: &str| params.get(field).unwrap_or_default().split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect();
    let declined = scope.split_ascii_whitespace().filter(|p| params.get(&format!("grant.{p}")).is_none()).map(str::to_owned).collect();
    MetaConsent { pages: names("pages"), business_pages: names("business_pages"), declined }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIRECT: &str = "http://127.0.0.1:3000/cb?from=sandbox";

    fn setup() -> (Store, String) {
        let mut store = Store::new(3600);
        let client = store.register_client("Keyport".into(), vec![REDIRECT.into()]);
        (store, client.id)
    }

    fn query(client_id: &str, extra: &str) -> Params {
        let base = format!("client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcb%3Ffrom%3Dsandbox");
        parse_params(&format!("{base}&{extra}")).unwrap()
    }

    #[test]
    fn a_valid_request_passes() {
        let (store, client_id) = setup();
        let params = query(&client_id, "response_type=code&scope=posts.write+profile&state=xyz&code_challenge=abc&code_challenge_method=S256");
        let request = validate(&store, &params, Dialect::OAuth).unwrap();
        assert_eq!(request.client_name, "Keyport");
        assert_eq!(request.scope, "posts.write profile");
        assert_eq!(request.state.as_deref(), Some("xyz"));
    }

    #[test]
    fn an_app_registered_with_scopes_may_ask_for_those_only() {
        let mut store = Store::new(3600);
        let app = store.register_app("Keyport".into(), vec![REDIRECT.into()], Some(vec!["read".into(), "write:statuses".into()]));
        let ask = |scope: &str| validate(&store, &query(&app.id, &format!("response_type=code&scope={scope}&code_challenge=abc&code_challenge_method=S256")), Dialect::OAuth);
        assert!(ask("read+write:statuses").is_ok());
        match ask("read+admin:write") {
            Err(Rejection::Redirect(to)) => assert!(to.contains("error=invalid_scope") && to.contains("admin%3Awrite"), "{to}"),
            _ => panic!("an unregistered scope must be refused back to the client"),
        }
    }

    #[test]
    fn untrusted_client_or_redirect_never_redirects() {
        let (store, client_id) = setup();
        let unknown = query("sbx_client_nope", "response_type=code");
        assert!(matches!(validate(&store, &unknown, Dialect::OAuth), Err(Rejection::Page(_))));
        let other_uri = parse_params(&format!("client_id={client_id}&redirect_uri=http%3A%2F%2Fevil%2Fcb&response_type=code")).unwrap();
        assert!(matches!(validate(&store, &other_uri, Dialect::OAuth), Err(Rejection::Page(_))));
        let missing = parse_params(&format!("client_id={client_id}&response_type=code")).unwrap();
        assert!(matches!(validate(&store, &missing, Dialect::OAuth), Err(Rejection::Page(_))));
    }

    #[test]
    fn protocol_errors_go_back_to_the_client() {
        let (store, client_id) = setup();
        let token_flow = query(&client_id, "response_type=token&state=s1&code_challenge=abc&code_challenge_method=S256");
        assert_eq!(
            validate(&store, &token_flow, Dialect::OAuth),
            Err(Rejection::Redirect(format!(
                "{REDIRECT}&error=unsupported_response_type&error_description=only+response_type%3Dcode+is+supported&state=s1"
            )))
        );
        let plain = query(&client_id, "response_type=code&code_challenge=abc&code_challenge_method=plain");
        assert_eq!(
            validate(&store, &plain, Dialect::OAuth),
            Err(Rejection::Redirect(format!("{REDIRECT}&error=invalid_request&error_description=PKCE+S256+is+required")))
        );
        let no_pkce = query(&client_id, "response_type=code");
        assert!(matches!(validate(&store, &no_pkce, Dialect::OAuth), Err(Rejection::Redirect(url)) if url.contains("PKCE+S256+is+required")));
    }

    #[test]
    fn the_meta_dialect_takes_commas_and_no_pkce_but_never_a_plain_challenge() {
        let (store, client_id) = setup();
        let meta = query(&client_id, "response_type=code&scope=pages_show_list,pages_manage_posts&state=s");
        let request = validate(&store, &meta, Dialect::Meta).unwrap();
        assert_eq!((request.scope.as_str(), request.code_challenge), ("pages_show_list pages_manage_posts", None));
        assert!(matches!(validate(&store, &meta, Dialect::OAuth), Err(Rejection::Redirect(url)) if url.contains("PKCE")));
        let plain = query(&client_id, "response_type=code&code_challenge=abc&code_challenge_method=plain");
        assert!(matches!(validate(&store, &plain, Dialect::Meta), Err(Rejection::Redirect(_))));
    }

    #[test]
    fn unchecked_permissions_are_declined() {
        let params = parse_params("pages=Bakery,+Books+,&business_pages=Agency&grant.pages_show_list=on").unwrap();
        let consent = meta_consent(&params, "pages_show_list business_management");
        assert_eq!(consent.pages, ["Bakery", "Books"]);
        assert_eq!(consent.business_pages, ["Agency"]);
        assert_eq!(consent.declined, ["business_management"]);
    }

    #[test]
    fn redirects_carry_code_and_state() {
        assert_eq!(success_redirect("http://app/cb", "sbx_code_1", Some("a b")), "http://app/cb?code=sbx_code_1&state=a+b");
        assert_eq!(success_redirect("http://app/cb?x=1", "sbx_code_1", None), "http://app/cb?x=1&code=sbx_code_1");
        assert_eq!(
            error_redirect("http://app/cb", "access_denied", "The user denied access", Some("s")),
            "http://app/cb?error=access_denied&error_description=The+user+denied+access&state=s"
        );
    }
}
