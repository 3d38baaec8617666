//! The browser side of OAuth (plain axum routes, so they work without JavaScript):
//! `POST /oauth/{id}/connect` sends the user to the provider, `GET /oauth/{id}/callback`
//! takes them back and stores the account's tokens (a new account, or the same provider
//! account again: re-authentication), `POST /oauth/{id}/accounts/{account}/disconnect`
//! revokes one account's grant and forgets it, `POST /oauth/{id}/accounts/{account}/destination`
//! sets where its posts go (a Reddit account's subreddit, a Pinterest account's board). Facebook Pages goes through a pick
//! (`facebook`): the callback leaves the Pages on offer, `POST /oauth/{id}/pages/{pick}`
//! connects the ones the person chose.

use super::{
    answer::{Answer, Answered},
    authorize::authorization,
    catalog,
    client::GrantError,
    exchange::exchange_code,
    facebook, instances, pending, redirect_uri,
    tokens::{self, TokenError},
};
use crate::{
    domain::{parse_board_id, parse_subreddit, Account, AuthType, OauthSettings, Platform, ProviderKey, Role},
    server::{
        audit::{self, Action, Outcome, Target},
        auth::Caller,
        state::AppState,
        store,
    },
};
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Router,
};
use oauth2::url::form_urlencoded;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/{id}/connect", post(connect))
        .route("/oauth/{id}/callback", get(callback))
        .route("/oauth/{id}/accounts/{account}/disconnect", post(disconnect))
        .route("/oauth/{id}/accounts/{account}/destination", post(destination))
        .route("/oauth/{id}/accounts/{account}/slots", post(slots))
        .route("/oauth/{id}/pages/{pick}", post(pick_pages))
        .route("/oauth/{id}/app-password", post(app_password))
}

/// The OAuth platform a signed-in browser user (cookie session only) asks about.
async fn platform_for(state: &AppState, caller: &Caller, id: &str) -> Result<Platform, Answer> {
    let Ok(platform_id) = id.parse::<Uuid>() else {
        return Err(Answer::page(StatusCode::NOT_FOUND, "Platform not found", "This link does not name a platform.", None));
    };
    if caller.require(Role::Marketer).is_err() {
        return Err(Answer::Redirect(format!("/login?next=/platforms/{platform_id}")));
    }
    let platform = store::platforms::get(&state.db, platform_id)
        .await
        .map_err(|e| Answer::internal(e, Some(platform_id)))?
        .ok_or_else(|| Answer::page(StatusCode::NOT_FOUND, "Platform not found", "It may have been deleted.", None))?;
    if platform.auth_type != AuthType::Oauth2 {
        return Err(Answer::page(StatusCode::BAD_REQUEST, "Not an OAuth platform", "This platform does not use OAuth 2.0.", Some(platform_id)));
    }
    Ok(platform)
}

/// `POST /oauth/{id}/connect`, a form with `instance` for a federated provider (the
/// instance to connect an account on; Keyport registers its app there the first time).
async fn connect(State(state): State<AppState>, Extension(caller): Extension<Caller>, session: Session, Path(id): Path<String>, body: Bytes) -> Answered {
    let platform = platform_for(&state, &caller, &id).await?;
    let settings = super::settings(&state, platform.id).await.map_err(|e| Answer::page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", e.to_string(), Some(platform.id)))?;
    let typed = form_urlencoded::parse(&body).find(|(k, _)| k == "instance").map(|(_, v)| v.into_owned());
    let instance = match catalog::get(settings.provider).register_url {
        Some(_) => registered_instance(&state, &caller, &platform, &settings, typed).await?,
        None => None,
    };
    let not_ready = || Answer::back(platform.id, "oauth_not_ready");
    // A secret that does not decrypt stops here: going on without it would quietly make
    // the platform a public client.
    let (endpoints, secret) = tokens::endpoints_and_secret(&state, platform.id, instance).await.map_err(|e| match e {
        TokenError::Grant(GrantError::Misconfigured(why)) if why.contains("cannot be used") => {
            Answer::page(StatusCode::CONFLICT, "The client secret cannot be used", format!("{why}. An admin must enter the client secret again on the platform's page."), Some(platform.id))
        }
        _ => not_ready(),
    })?;
    let request = authorization(&endpoints, secret.as_ref(), &redirect_uri(&state, platform.id)).map_err(|_| not_ready())?;
    pending::add(&session, request.state, platform.id, request.verifier, instance).await.map_err(|e| Answer::internal(e, Some(platform.id)))?;
    let detail = Some(endpoints.provider.key.to_string());
    audit::record(&state.db, &caller, Action::OauthConnectStarted, Some(Target::platform(&platform)), Outcome::Ok, detail).await;
    Ok(Answer::Redirect(request.url.into()))
}

/// For a federated provider: the app Keyport registered on the instance the person named
/// (registering it now if needed). `None`: the admin configured the client for the
/// platform's own instance, and that is the one named (or none was).
async fn registered_instance(state: &AppState, caller: &Caller, platform: &Platform, settings: &OauthSettings, typed: Option<String>) -> Result<Option<Uuid>, Answer> {
    let configured = settings.instance_url.as_deref().and_then(|u| instances::origin_of(u).ok()).filter(|_| settings.client_id.is_some());
    let typed = typed.filter(|t| !t.trim().is_empty());
    let origin = match (typed, &configured) {
        (None, Some(_)) => return Ok(None),
        (None, None) => return Err(Answer::back(platform.id, "instance_missing")),
        (Some(t), _) => instances::origin_of(&t).map_err(|_| Answer::back(platform.id, "instance_invalid"))?,
    };
    if configured.as_deref() == Some(origin.as_str()) {
        return Ok(None);
    }
    match instances::client_for(state, caller, platform, &origin).await {
        Ok(client) => Ok(Some(client.id)),
        Err(why) => {
            tracing::warn!(platform.id = %platform.id, instance = %origin, error = %why, "could not register on an instance");
            let message = format!("{why}. Check the instance's name; nothing was stored.");
            Err(Answer::page(StatusCode::BAD_GATEWAY, "The instance did not register Keyport", message, Some(platform.id)))
        }
    }
}

#[derive(Deserialize)]
struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The callback's URL holds a code: no page after it may learn it from a Referer.
async fn callback(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let mut response = finish(&state, &caller, &session, &id, params).await.into_response();
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

async fn finish(state: &AppState, caller: &Caller, session: &Session, id: &str, params: CallbackParams) -> Answered {
    let platform = platform_for(state, caller, id).await?;
    let target = || Some(Target::platform(&platform));
    let refuse = |why: &'static str| async move {
        audit::record(&state.db, caller, Action::OauthCallbackRejected, target(), Outcome::Denied, Some(why.into())).await;
        Answer::page(
            StatusCode::BAD_REQUEST,
            "This sign-in link cannot be used",
            format!("{why}. Nothing was stored. Start again with Connect on the platform page."),
            Some(platform.id),
        )
    };
    // The state is single-use: `take` removes it from the session whatever happens next.
    let Some(given) = params.state.filter(|s| !s.is_empty()) else {
        return Err(refuse("The provider's answer has no state").await);
    };
    let entry = match pending::take(session, &given).await {
        Ok(Some(entry)) => entry,
        Ok(None) => return Err(refuse("The link is unknown, already used, or was started in another browser session").await),
        Err(_) => return Err(refuse("The session could not be updated").await),
    };
    if entry.platform_id != platform.id {
        return Err(refuse("The link was issued for another platform").await);
    }
    if entry.expires_at <= chrono::Utc::now() {
        return Err(refuse("The link expired (it is valid for 10 minutes)").await);
    }
    if let Some(error) = params.error {
        let detail = format!("{error}{}", params.error_description.map(|d| format!(": {}", d.chars().take(200).collect::<String>())).unwrap_or_default());
        audit::record(&state.db, caller, Action::OauthConnect, target(), Outcome::Denied, Some(detail)).await;
        return Ok(Answer::back(platform.id, if error == "access_denied" { "oauth_denied" } else { "oauth_error" }));
    }
    let Some(code) = params.code.filter(|c| !c.is_empty()) else {
        return Err(refuse("The provider's answer has neither a code nor an error").await);
    };
    let provider = super::settings(state, platform.id).await.map_err(|e| Answer::internal(e, Some(platform.id)))?.provider;
    if provider == ProviderKey::FacebookPages {
        return match facebook::begin(state, caller, &platform, code).await {
            Ok(pick) => Ok(Answer::Redirect(format!("/platforms/{}/pages/{pick}", platform.id))),
            Err(why) => {
                tracing::warn!(platform.id = %platform.id, error = %why, "Facebook connection stopped");
                audit::record(&state.db, caller, Action::OauthConnect, target(), Outcome::Failed, Some(why.to_string())).await;
                Err(Answer::page(StatusCode::BAD_REQUEST, "Facebook did not connect", why.explain(), Some(platform.id)))
            }
        };
    }
    match exchange_code(state, &platform, code, entry.verifier, entry.instance).await {
        Ok(account) => {
            audit::record(&state.db, caller, Action::OauthConnected, target(), Outcome::Ok, Some(account)).await;
            Ok(Answer::back(platform.id, "connected"))
        }
        Err(why) => {
            tracing::warn!(platform.id = %platform.id, error = %why, "code exchange failed");
            audit::record(&state.db, caller, Action::OauthConnect, target(), Outcome::Failed, Some(why.to_string())).await;
            Ok(Answer::back(platform.id, "oauth_failed"))
        }
    }
}

/// The platform and one of its accounts, named by a browser form's path.
async fn account_for(state: &AppState, caller: &Caller, id: &str, account: &str) -> Result<(Platform, Account), Answer> {
    let platform = platform_for(state, caller, id).await?;
    let missing = || Answer::page(StatusCode::NOT_FOUND, "Account not found", "It may have been disconnected already.", Some(platform.id));
    let account_id = account.parse::<Uuid>().map_err(|_| missing())?;
    let account = store::accounts::get(&state.db, account_id).await.map_err(|e| Answer::internal(e, Some(platform.id)))?;
    let account = account.filter(|a| a.account.platform_id == platform.id).ok_or_else(missing)?.account;
    Ok((platform, account))
}

async fn disconnect(State(state): State<AppState>, Extension(caller): Extension<Caller>, Path((id, account)): Path<(String, String)>) -> Answered {
    let (platform, account) = account_for(&state, &caller, &id, &account).await?;
    let revoked = super::disconnect(&state, &caller, &platform, &account).await.map_err(|e| Answer::internal(e, Some(platform.id)))?;
    let notice = match revoked {
        Ok(true) => "disconnected",
        Ok(false) => "disconnected_local",
        Err(_) => "disconnected_unrevoked",
    };
    Ok(Answer::back(platform.id, notice))
}

/// `POST /oauth/{id}/accounts/{account}/destination`: a Reddit account's `subreddit` as a
/// person types it (`r/rust`, `u/name`; empty: the profile), or a Pinterest account's
/// `board` (its id, chosen from the account's boards; empty: none).
async fn destination(State(state): State<AppState>, Extension(caller): Extension<Caller>, Path((id, account)): Path<(String, String)>, body: Bytes) -> Answered {
    let (platform, account) = account_for(&state, &caller, &id, &account).await?;
    let provider = super::settings(&state, platform.id).await.map_err(|e| Answer::internal(e, Some(platform.id)))?.provider;
    let (field, parse, invalid): (_, fn(&str) -> Result<String, &'static str>, _) = match provider {
        ProviderKey::Pinterest => ("board", parse_board_id, "board_invalid"),
        _ => ("subreddit", parse_subreddit, "destination_invalid"),
    };
    let typed = form_urlencoded::parse(&body).find(|(k, _)| k == field).map(|(_, v)| v.into_owned()).unwrap_or_default();
    let destination = match typed.trim() {
        "" => None,
        typed => match parse(typed) {
            Ok(place) => Some(place),
            Err(_) => return Ok(Answer::back(platform.id, invalid)),
        },
    };
    store::accounts::set_destination(&state.db, account.id, destination.as_deref()).await.map_err(|e| Answer::internal(e, Some(platform.id)))?;
    let default = if provider == ProviderKey::Pinterest { "no board" } else { "the account's profile" };
    let detail = format!("{}: posts go to {}", account.label(), destination.as_deref().unwrap_or(default));
    audit::record(&state.db, &caller, Action::PlatformUpdated, Some(Target::platform(&platform)), Outcome::Ok, Some(detail)).await;
    Ok(Answer::back(platform.id, "destination_saved"))
}

/// `POST /oauth/{id}/accounts/{account}/slots`: the posting slots form, `day` once per
/// ticked day, `times` as typed, `zone`; `clear` removes them.
async fn slots(State(state): State<AppState>, Extension(caller): Extension<Caller>, Path((id, account)): Path<(String, String)>, body: Bytes) -> Answered {
    let (platform, account) = account_for(&state, &caller, &id, &account).await?;
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let slots = if form.iter().any(|(k, _)| k == "clear") {
        None
    } else {
        let days: Vec<String> = form.iter().filter(|(k, _)| k == "day").map(|(_, v)| v.clone()).collect();
        match crate::domain::PostingSlots::parse(&days, &field("times"), &field("zone")) {
            Ok(slots) if crate::server::slots::known_zone(&slots.zone) => Some(slots),
            Ok(_) => return Ok(Answer::back(platform.id, "slots_zone_unknown")),
            Err(_) => return Ok(Answer::back(platform.id, "slots_invalid")),
        }
    };
    store::accounts::set_slots(&state.db, account.id, slots.as_ref()).await.map_err(|e| Answer::internal(e, Some(platform.id)))?;
    let detail = format!("{}: posting slots {}", account.label(), slots.as_ref().map_or_else(|| "cleared".to_owned(), |s| s.describe()));
    audit::record(&state.db, &caller, Action::PlatformUpdated, Some(Target::platform(&platform)), Outcome::Ok, Some(detail)).await;
    Ok(Answer::back(platform.id, "slots_saved"))
}

/// `POST /oauth/{id}/pages/{pick}`: the picker's form, `page` once per chosen Page and
/// `decision=connect` (or `cancel`, which forgets the pick).
async fn pick_pages(State(state): State<AppState>, Extension(caller): Extension<Caller>, Path((id, pick)): Path<(String, String)>, body: Bytes) -> Answered {
    let platform = platform_for(&state, &caller, &id).await?;
    let gone = |why: String| Answer::page(StatusCode::GONE, "This Page choice cannot be used", format!("{why}. Nothing was stored; press Connect again."), Some(platform.id));
    let pick = pick.parse::<Uuid>().map_err(|_| gone("The link does not name a Page choice".into()))?;
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let cancel = form.iter().any(|(k, v)| k == "decision" && v == "cancel");
    let chosen: Vec<String> = if cancel { Vec::new() } else { form.into_iter().filter(|(k, _)| k == "page").map(|(_, v)| v).collect() };
    if chosen.is_empty() && !cancel {
        return Ok(Answer::Redirect(format!("/platforms/{}/pages/{pick}?notice=pick_none", platform.id)));
    }
    match facebook::finish(&state, &caller, &platform, pick, &chosen).await {
        Ok(names) if names.is_empty() => Ok(Answer::back(platform.id, "pick_cancelled")),
        Ok(_) => Ok(Answer::back(platform.id, "pages_connected")),
        Err(facebook::PickError::App(e)) => Err(Answer::internal(e, Some(platform.id))),
        Err(why) => Err(gone(why.to_string())),
    }
}

/// `POST /oauth/{id}/app-password`: `handle` and `password` (an app password) open a
/// Bluesky session for a new account (`bluesky`). The password is used once, never stored.
async fn app_password(State(state): State<AppState>, Extension(caller): Extension<Caller>, Path(id): Path<String>, body: Bytes) -> Answered {
    let platform = platform_for(&state, &caller, &id).await?;
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let password = secrecy::SecretString::from(field("password"));
    let target = Some(Target::platform(&platform));
    match super::bluesky::sign_in(&state, &platform, &field("handle"), &password).await {
        Ok(handle) => {
            audit::record(&state.db, &caller, Action::OauthConnected, target, Outcome::Ok, Some(handle)).await;
            Ok(Answer::back(platform.id, "connected"))
        }
        Err(why) => {
            tracing::info!(platform.id = %platform.id, error = %why, "Bluesky sign-in did not open a session");
            audit::record(&state.db, &caller, Action::OauthConnect, target, Outcome::Failed, Some(why.to_string())).await;
            let notice = match why {
                super::bluesky::SignInError::Refused => "app_password_refused",
                super::bluesky::SignInError::RateLimited => "app_password_limited",
                super::bluesky::SignInError::Failed(_) => "oauth_failed",
            };
            Ok(Answer::back(platform.id, notice))
        }
    }
}
