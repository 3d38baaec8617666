//! Facebook Pages. Publishing to a Page needs that Page's own access token, so the
//! callback does not store the user's token: it trades it for a long-lived one, checks
//! the granted permissions against the needed ones (naming any that is missing), lists the
//! Pages the person manages (directly and through their business portfolios) and seals
//! that offer in a *pick* bound to its row. The person then picks Pages on a Keyport page;
//! each one picked becomes an account holding the Page's token. A pick nobody finishes
//! expires and is swept; it never becomes an account.
//!
//! - Long-lived user token: `GET {token_url}?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token`
//!   https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
//!   (a Page token read with a long-lived user token has no expiry: same page, "Get a Long-Lived Page Access Token")
//! - Granted permissions: `GET /me/permissions` https://developers.facebook.com/docs/graph-api/reference/user/permissions/
//! - Pages: `GET /me/accounts` https://developers.facebook.com/docs/graph-api/reference/user/accounts/,
//!   `GET /me/businesses` https://developers.facebook.com/docs/graph-api/reference/user/businesses/,
//!   `GET /{business}/owned_pages` https://developers.facebook.com/docs/graph-api/reference/business/owned_pages/ and
//!   `/{business}/client_pages` https://developers.facebook.com/docs/marketing-api/reference/business/client_pages/,
//!   a Page's token: `GET /{page}?fields=access_token` https://developers.facebook.com/docs/pages-api/getting-started
//! - Paging: `paging.next` https://developers.facebook.com/docs/graph-api/results
//! - Errors: `{"error": {"message", "code", "error_subcode"}}` https://developers.facebook.com/docs/graph-api/guides/error-handling

use super::{
    client::{self, read_capped, Endpoints, GrantError},
    exchange::redeem,
    tokens::{self, TokenError},
};
use crate::{
    domain::{AppError, PageChoice, PagePick, Platform},
    server::{
        audit::{self, Action, Outcome, Target},
        auth::Caller,
        crypto::{SecretSlot, ENCRYPTIONS_REFUSE_AT},
        secrets,
        state::AppState,
        store::{
            accounts::{self, Grant, Identity, TokenFacts, AVATAR_URL_MAX, NAME_MAX},
            cut, picks,
        },
    },
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use zeroize::Zeroizing;

/// How long a person has to pick their Pages, in minutes.
pub const PICK_MINUTES: u64 = 10;
/// Pages of one list followed through `paging.next` (100 Pages each).
const MAX_LIST_PAGES: usize = 10;
/// Business portfolios whose Pages are listed.
const MAX_BUSINESSES: usize = 20;
/// Pages a pick offers at most.
const MAX_OFFERED: usize = 500;
const PAGE_FIELDS: &str = "id,name,access_token,picture";

/// What a permission is needed for, in the words the missing-permission page uses.
fn needed_for(permission: &str) -> &'static str {
    match permission {
        "pages_show_list" => "to list your Pages",
        "pages_manage_posts" => "to publish on them",
        "pages_read_engagement" => "to read the posts it publishes",
        "business_management" => "to list the Pages of your business portfolios",
        _ => "because the platform's scopes ask for it",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FacebookError {
    /// The person declined permissions Keyport needs: connect again and allow them.
    #[error("Facebook did not grant {}", .0.join(", "))]
    Missing(Vec<String>),
    /// The Facebook account manages no Page (or shared none with the app).
    #[error("the Facebook account manages no Page it shared with Keyport")]
    NoPages,
    /// The Graph API refused or failed; in words (Meta's message and code).
    #[error("{0}")]
    Graph(String),
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl FacebookError {
    /// The sentence the person reads: what is missing and what each is for.
    pub fn explain(&self) -> String {
        match self {
            Self::Missing(missing) => {
                let each: Vec<String> = missing.iter().map(|p| format!("{p} ({})", needed_for(p))).collect();
                format!("Facebook did not grant {}. Keyport needs each of them: press Connect again and keep every permission checked. Nothing was stored.", each.join(", "))
            }
            Self::NoPages => "The Facebook account you signed in with manages no Page it shared with Keyport. In the Facebook dialog, choose the Pages to share (or ask for a role on the Page), then connect again. Nothing was stored.".into(),
            other => format!("{other}. Nothing was stored; try Connect again."),
        }
    }
}

/// One Page as offered in a pick, with its token (sealed with the pick).
#[derive(Clone, Serialize, Deserialize)]
struct OfferedPage {
    id: String,
    name: String,
    token: String,
    avatar_url: Option<String>,
    business: Option<String>,
}

/// What a pick holds.
#[derive(Serialize, Deserialize)]
struct Offer {
    user_name: Option<String>,
    scopes: String,
    pages: Vec<OfferedPage>,
}

/// The callback's part for Facebook: redeems the code and leaves a pick. Returns its id.
pub async fn begin(state: &AppState, caller: &Caller, platform: &Platform, code: String) -> Result<Uuid, FacebookError> {
    let user_id = caller.user.as_ref().map(|u| u.id).ok_or_else(|| FacebookError::Graph("sign in first".into()))?;
    let (endpoints, secret) = tokens::endpoints_and_secret(state, platform.id, None).await?;
    let secret = secret.ok_or_else(|| TokenError::Grant(GrantError::Misconfigured("Facebook needs the app secret: an admin must enter the client secret".into())))?;
    let short = redeem(state, platform.id, &endpoints, Some(&secret), code, None).await?;
    let user_token = long_lived(state, &endpoints, &secret, &short.access).await?;
    let api = endpoints.api_base_url.clone().ok_or_else(|| FacebookError::Graph("the platform has no API base URL".into()))?;
    let api = api.trim_end_matches('/');
    let granted = granted(&get(state, &format!("{api}/me/permissions"), &user_token).await?);
    let missing: Vec<String> = endpoints.scopes.iter().filter(|s| !granted.contains(s)).cloned().collect();
    if !missing.is_empty() {
        return Err(FacebookError::Missing(missing));
    }
    let user_name = get(state, &format!("{api}/me?fields=id,name"), &user_token).await.ok().and_then(|me| text(&me, "/name", NAME_MAX));
    let pages = offered_pages(state, api, &user_token).await?;
    if pages.is_empty() {
        return Err(FacebookError::NoPages);
    }
    let offer = Offer { user_name, scopes: granted.join(" "), pages };
    let plaintext = Zeroizing::new(serde_json::to_vec(&offer).map_err(|e| TokenError::App(crate::server::error::internal(e)))?);
    drop(offer);
    let id = Uuid::now_v7();
    let sealer = state.keyring.sealer();
    let (version, sealed) = (sealer.version(), sealer.seal(&plaintext, &SecretSlot::page_pick(id)));
    let expires_at = crate::server::clock::from_now(std::time::Duration::from_secs(PICK_MINUTES * 60));
    picks::insert(&state.db, id, platform.id, user_id, expires_at, version, ENCRYPTIONS_REFUSE_AT, sealed).await.map_err(TokenError::from)?;
    Ok(id)
}

/// `fb_exchange_token`: the short-lived user token for a long-lived one (about 60 days),
/// so the Page tokens read with it do not expire.
async fn long_lived(state: &AppState, endpoints: &Endpoints, secret: &SecretString, short: &SecretString) -> Result<SecretString, FacebookError> {
    let mut url = url::Url::parse(&endpoints.token_url).map_err(|_| FacebookError::Graph("the token URL is not a URL".into()))?;
    url.query_pairs_mut()
        .append_pair("grant_type", "fb_exchange_token")
        .append_pair("client_id", &endpoints.client_id)
        .append_pair("client_secret", secret.expose_secret())
        .append_pair("fb_exchange_token", short.expose_secret());
    Ok(super::long_lived::get_token(state, url).await?.access)
}

/// A Graph API GET with the token as a bearer header (the URL checked by the egress
/// policy first), Meta's answer read capped; a Meta error becomes its message and code.
async fn get(state: &AppState, url: &str, token: &SecretString) -> Result<Value, FacebookError> {
    state.config.oauth.egress.check_url(url).map_err(FacebookError::Graph)?;
    let response = state.http.get(url).bearer_auth(token.expose_secret()).send().await.map_err(|e| FacebookError::Graph(format!("Facebook could not be reached ({})", client::describe(&e))))?;
    let status = response.status();
    let body = read_capped(response).await.map_err(|why| FacebookError::Graph(format!("Facebook's answer could not be read ({why})")))?;
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status.is_success() && json.get("error").is_none() && json.is_object() {
        return Ok(json);
    }
    Err(FacebookError::Graph(meta_error(status.as_u16(), &json)))
}

/// Meta's error in words: `Facebook refused (HTTP 400, code 190): Invalid OAuth 2.0 Access Token`.
fn meta_error(status: u16, json: &Value) -> String {
    let message = text(json, "/error/message", 300).unwrap_or_else(|| "no reason given".into());
    let code = json.pointer("/error/code").and_then(Value::as_i64);
    let subcode = json.pointer("/error/error_subcode").and_then(Value::as_i64);
    let codes = match (code, subcode) {
        (Some(c), Some(s)) => format!(", code {c}/{s}"),
        (Some(c), None) => format!(", code {c}"),
        _ => String::new(),
    };
    format!("Facebook refused (HTTP {status}{codes}): {message}")
}

/// The permissions `/me/permissions` says are granted.
fn granted(answer: &Value) -> Vec<String> {
    let data = answer.get("data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    data.iter()
        .filter(|p| p.get("status").and_then(Value::as_str) == Some("granted"))
        .filter_map(|p| p.get("permission").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn text(json: &Value, pointer: &str, max: usize) -> Option<String> {
    match json.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(cut(s.clone(), max)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The Pages of one list answer (`data`), held through `business` if named. A Page
/// without an id or a name is skipped; a token may be missing (read later).
fn pages_of(answer: &Value, business: Option<&str>) -> Vec<OfferedPage> {
    let data = answer.get("data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    data.iter()
        .filter_map(|page| {
            let id = text(page, "/id", 100).filter(|id| id.bytes().all(|b| b.is_ascii_digit()))?;
            let avatar = page.pointer("/picture/data/url").and_then(Value::as_str);
            let avatar = avatar.filter(|u| u.len() <= AVATAR_URL_MAX && url::Url::parse(u).is_ok_and(|u| u.scheme() == "https"));
            Some(OfferedPage {
                name: text(page, "/name", NAME_MAX)?,
                token: page.get("access_token").and_then(Value::as_str).filter(|t| t.len() <= client::MAX_ANSWER_BYTES).unwrap_or_default().to_owned(),
                id,
                avatar_url: avatar.map(str::to_owned),
                business: business.map(str::to_owned),
            })
        })
        .collect()
}

/// Every item of a Graph list, following `paging.next` on the API's own origin only (a
/// hostile answer must not send the token elsewhere), at most [`MAX_LIST_PAGES`] pages.
async fn list(state: &AppState, api: &str, first: String, token: &SecretString, business: Option<&str>) -> Result<Vec<OfferedPage>, FacebookError> {
    let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
    let mut url = Some(first);
    let mut pages = Vec::new();
    for _ in 0..MAX_LIST_PAGES {
        let Some(at) = url.take() else { break };
        let answer = get(state, &at, token).await?;
        pages.extend(pages_of(&answer, business));
        url = answer.pointer("/paging/next").and_then(Value::as_str).filter(|next| origin(next).is_some() && origin(next) == origin(api)).map(str::to_owned);
    }
    Ok(pages)
}

/// The Pages the person manages directly and through their business portfolios, each with
/// its token, without duplicates (a Page listed both ways is offered once, as direct).
async fn offered_pages(state: &AppState, api: &str, token: &SecretString) -> Result<Vec<OfferedPage>, FacebookError> {
    let mut pages = list(state, api, format!("{api}/me/accounts?fields={PAGE_FIELDS}&limit=100"), token, None).await?;
    let businesses = get(state, &format!("{api}/me/businesses?fields=id,name&limit={MAX_BUSINESSES}"), token).await?;
    let businesses = businesses.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
    for business in businesses.iter().take(MAX_BUSINESSES) {
        let (Some(id), name) = (text(business, "/id", 100).filter(|id| id.bytes().all(|b| b.is_ascii_digit())), text(business, "/name", NAME_MAX)) else { continue };
        let label = name.unwrap_or_else(|| id.clone());
        for edge in ["owned_pages", "client_pages"] {
            pages.extend(list(state, api, format!("{api}/{id}/{edge}?fields={PAGE_FIELDS}&limit=100"), token, Some(&label)).await?);
        }
    }
    let mut seen = std::collections::HashSet::new();
    pages.retain(|p| seen.insert(p.id.clone()));
    pages.truncate(MAX_OFFERED);
    for page in pages.iter_mut().filter(|p| p.token.is_empty()) {
        let answer = get(state, &format!("{api}/{}?fields=access_token", page.id), token).await?;
        page.token = text(&answer, "/access_token", client::MAX_ANSWER_BYTES).unwrap_or_default();
    }
    // A Page Facebook gives no token for cannot be published to: not offered.
    pages.retain(|p| !p.token.is_empty());
    Ok(pages)
}

/// Why a pick cannot be shown or finished.
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error("This Page choice is unknown, already used, or someone else's")]
    Gone,
    #[error("This Page choice expired (it is valid for {PICK_MINUTES} minutes)")]
    Expired,
    #[error(transparent)]
    App(#[from] AppError),
}

fn open(state: &AppState, id: Uuid, pick: &picks::SealedPick, platform_id: Uuid) -> Result<Offer, PickError> {
    if pick.platform_id != platform_id {
        return Err(PickError::Gone);
    }
    if pick.expires_at <= chrono::Utc::now() {
        return Err(PickError::Expired);
    }
    // A pick sealed under a key since removed cannot be opened: the person starts again.
    let plaintext = state.keyring.open(&pick.ciphertext, &SecretSlot::page_pick(id)).map_err(|_| PickError::Expired)?;
    serde_json::from_slice(&plaintext).map_err(|_| PickError::Expired)
}

/// The picker's view of a pick: the Pages on offer, never their tokens.
pub async fn view(state: &AppState, caller: &Caller, platform: &Platform, id: Uuid) -> Result<PagePick, PickError> {
    let user_id = caller.user.as_ref().map(|u| u.id).ok_or(PickError::Gone)?;
    let pick = picks::get(&state.db, id, user_id).await.map_err(AppError::from)?.ok_or(PickError::Gone)?;
    let offer = open(state, id, &pick, platform.id)?;
    let connected: Vec<String> = accounts::list(&state.db, platform.id).await.map_err(AppError::from)?.into_iter().map(|a| a.external_id).collect();
    Ok(PagePick {
        id,
        platform_id: platform.id,
        platform_name: platform.name.clone(),
        user_name: offer.user_name,
        expires_at: pick.expires_at,
        pages: offer
            .pages
            .into_iter()
            .map(|p| PageChoice { connected: connected.contains(&p.id), id: p.id, name: p.name, avatar_url: p.avatar_url, business: p.business })
            .collect(),
    })
}

/// Finishes a pick (once): each chosen Page becomes an account with its own token (a Page
/// connected before gets the new one). Returns the names connected; none chosen cancels.
pub async fn finish(state: &AppState, caller: &Caller, platform: &Platform, id: Uuid, chosen: &[String]) -> Result<Vec<String>, PickError> {
    let user_id = caller.user.as_ref().map(|u| u.id).ok_or(PickError::Gone)?;
    let pick = picks::take(&state.db, id, user_id).await.map_err(AppError::from)?.ok_or(PickError::Gone)?;
    let offer = open(state, id, &pick, platform.id)?;
    let mut names = Vec::new();
    for page in offer.pages.iter().filter(|p| chosen.contains(&p.id)) {
        let facts = TokenFacts { token_type: Some("bearer".into()), scopes: Some(offer.scopes.clone()), expires_at: None };
        let identity = Identity { external_id: page.id.clone(), name: Some(page.name.clone()), avatar_url: page.avatar_url.clone() };
        let token = SecretString::from(page.token.clone());
        secrets::store_tokens(&state.db, &state.keyring, platform.id, &token, None, &facts, &Grant::New(identity, None)).await?;
        let via = page.business.as_ref().map(|b| format!(" (through {b})")).unwrap_or_default();
        audit::record(&state.db, caller, Action::OauthConnected, Some(Target::platform(platform)), Outcome::Ok, Some(format!("Facebook Page {}{via}", page.name))).await;
        names.push(page.name.clone());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_permissions_are_only_the_granted_ones() {
        let answer = serde_json::json!({"data": [
            {"permission": "pages_show_list", "status": "granted"},
            {"permission": "business_management", "status": "declined"},
            {"permission": "pages_manage_posts", "status": "granted"},
            {"status": "granted"},
        ]});
        assert_eq!(granted(&answer), ["pages_show_list", "pages_manage_posts"]);
        assert!(granted(&serde_json::json!({"data": "nope"})).is_empty());
    }

    /// The shape Graph API Explorer shows for `/me/accounts` (recorded answer published at
    /// https://gist.github.com/niraj-shah/6219392, token shortened), plus hostile entries.
    #[test]
    fn pages_are_read_from_a_list_answer_and_bad_entries_skipped() {
        let answer = serde_json::json!({"data": [
            {"name": "Your Page", "access_token": "AAAAABBBBB", "category": "Website", "id": "01234567890", "perms": ["ADMINISTER", "CREATE_CONTENT"]},
            {"name": "No id"},
            {"id": "../../me", "name": "Path in the id", "access_token": "x"},
            {"id": 42, "name": "Numeric id", "picture": {"data": {"url": "https://cdn.example/p.png"}}},
            {"id": "7", "name": "Plain http picture", "picture": {"data": {"url": "http://cdn.example/p.png"}}},
        ]});
        let pages = pages_of(&answer, Some("Agency"));
        let ids: Vec<&str> = pages.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["01234567890", "42", "7"]);
        assert_eq!((pages[0].name.as_str(), pages[0].token.as_str(), pages[0].business.as_deref()), ("Your Page", "AAAAABBBBB", Some("Agency")));
        assert_eq!(pages[1].avatar_url.as_deref(), Some("https://cdn.example/p.png"));
        assert_eq!(pages[2].avatar_url, None, "only https pictures");
        assert!(pages[1].token.is_empty(), "read later with GET /{{page}}?fields=access_token");
    }

    #[test]
    fn meta_errors_say_code_and_message() {
        let json = serde_json::json!({"error": {"message": "Invalid OAuth 2.0 Access Token", "type": "OAuthException", "code": 190, "error_subcode": 463}});
        assert_eq!(meta_error(400, &json), "Facebook refused (HTTP 400, code 190/463): Invalid OAuth 2.0 Access Token");
        assert_eq!(meta_error(502, &Value::Null), "Facebook refused (HTTP 502): no reason given");
    }

    #[test]
    fn a_missing_permission_is_named_with_what_it_is_for() {
        let text = FacebookError::Missing(vec!["business_management".into()]).explain();
        assert!(text.contains("business_management (to list the Pages of your business portfolios)"), "{text}");
    }
}
