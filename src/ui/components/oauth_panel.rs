//! The OAuth cards of a platform page: the accounts (everyone: connect another,
//! re-authenticate or disconnect each) and the client settings (admins: provider, client id, endpoints, redirect URI).

use crate::{
    server_fns::oauth::SaveOauthSettings,
    domain::{Account, OauthSettingsForm, OauthView, ProviderKey},
    ui::components::{error_view::FormAlert, fields::TextField, timestamp::Timestamp},
};
use crate::ui::resource::resource;
use leptos::prelude::*;

#[component]
pub fn AccountsPanel(platform_id: String, oauth: OauthView) -> impl IntoView {
    let ready = oauth.not_ready.is_none();
    let per_instance = oauth.per_instance;
    let app_password = oauth.app_password;
    let app_password_url = format!("/oauth/{platform_id}/app-password");
    let provider = oauth.settings.provider.label();
    let empty = oauth.accounts.is_empty();
    let connect_url = format!("/oauth/{platform_id}/connect");
    let provider_key = oauth.settings.provider;
    let publishes = oauth.connect_only.is_none();
    let accounts = oauth.accounts.clone().into_iter().map(|a| {
        let label = a.label();
        let (badge, class) = match (a.needs_attention || !a.connected, a.expired) {
            (true, _) => ("Needs attention", "badge status-error"),
            (false, true) => ("Expired", "badge status-pending"),
            (false, false) => ("Connected", "badge status-active"),
        };
        let disconnect = format!("/oauth/{platform_id}/accounts/{}/disconnect", a.id);
        // Boxed (`into_any`): the account item's view type is otherwise too deep for rustc.
        let destination = match provider_key {
            ProviderKey::Reddit => Some(view! { <DestinationForm platform_id=platform_id.clone() account=a.clone()/> }.into_any()),
            ProviderKey::Pinterest => Some(view! { <BoardForm platform_id=platform_id.clone() account=a.clone()/> }.into_any()),
            _ => None,
        };
        let slots = publishes.then(|| view! { <SlotsForm platform_id=platform_id.clone() account=a.clone()/> }.into_any());
        view! {
            <li class="account" aria-label=label.clone()>
                <div class="account-head">
                    <Avatar url=a.avatar_url.clone() name=label.clone()/>
                    <strong class="account-name">{label.clone()}</strong>
                    <span class=class>{badge}</span>
                </div>
                {a.last_error.clone().map(|why| view! { <p class="notice error" role="alert">{why}</p> })}
                <dl class="details">
                    <dt>"Access token"</dt>
                    <dd>{match a.expires_at {
                        Some(at) => view! { "expires " <Timestamp at/> }.into_any(),
                        None => view! { "does not expire" }.into_any(),
                    }}</dd>
                    <dt>"Refresh token"</dt>
                    <dd>{match (a.has_refresh_token, a.renews) {
                        (true, _) => "stored (renewed automatically before expiry)",
                        (false, true) => "none needed: Keyport renews the long-lived access token before it expires",
                        (false, false) => "none: the provider issues none; re-authenticate when the access token expires",
                    }}</dd>
                    <dt>"Scopes"</dt><dd class="mono">{a.scopes.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Connected since"</dt><dd><Timestamp at=a.connected_at/></dd>
                    <dt>"Last refreshed"</dt><dd>{match a.last_refreshed_at {
                        Some(at) => view! { <Timestamp at/> }.into_any(),
                        None => view! { "never" }.into_any(),
                    }}</dd>
                </dl>
                {destination}
                {slots}
                <div class="form-actions">
                    // An app-password account re-authenticates through the sign-in form below.
                    {(!app_password).then(|| view! {
                        <form method="post" action=connect_url.clone()>
                            {a.instance.clone().map(|origin| view! { <input type="hidden" name="instance" value=origin/> })}
                            <button type="submit" class="button" disabled=!ready aria-label=format!("Re-authenticate {label}")>"Re-authenticate"</button>
                        </form>
                    })}
                    <form method="post" action=disconnect>
                        <button type="submit" class="button" aria-label=format!("Disconnect {label}")>"Disconnect"</button>
                    </form>
                </div>
            </li>
        }
    }).collect_view();
    view! {
        <section class="card" aria-labelledby="accounts-heading">
            <h2 id="accounts-heading">"Accounts"</h2>
            {if empty {
                view! { <p class="connection muted">"No " {provider} " account connected yet."</p> }.into_any()
            } else {
                view! { <ul class="accounts">{accounts}</ul> }.into_any()
            }}
            {oauth.not_ready.clone().map(|why| view! {
                <p class="hint">"Connect is not available yet: " {why} "."</p>
            })}
            {oauth.connect_only.clone().map(|why| view! {
                <p class="notice info" role="note"><strong>"Connect only: "</strong>"its accounts connect, but posts cannot go to them — " {why} "."</p>
            })}
            {app_password.then(|| view! {
                <form method="post" action=app_password_url.clone() class="connect-form" autocomplete="off">
                    <div class="field">
                        <label for="connect-handle">"Handle"</label>
                        <input id="connect-handle" name="handle" type="text" required placeholder="you.bsky.social" spellcheck="false" autocapitalize="none"/>
                    </div>
                    <div class="field">
                        <label for="connect-app-password">"App password"</label>
                        <input id="connect-app-password" name="password" type="password" required autocomplete="off" aria-describedby="connect-app-password-hint"/>
                        <p id="connect-app-password-hint" class="hint">"Made in Bluesky under Settings → Privacy and security → App passwords. Keyport uses it once to open a session and does not keep it."</p>
                    </div>
                    <div class="form-actions">
                        <button type="submit" class="button primary" disabled=!ready>{if empty { "Connect an account" } else { "Connect another account" }}</button>
                    </div>
                </form>
            })}
            {(!app_password).then(|| view! {
                <form method="post" action=connect_url.clone() class="connect-form">
                    {per_instance.then(|| view! {
                        <div class="field">
                            <label for="connect-instance">"Instance"</label>
                            <input id="connect-instance" name="instance" type="text" required placeholder="mastodon.social"
                                autocomplete="url" inputmode="url" spellcheck="false" aria-describedby="connect-instance-hint"/>
                            <p id="connect-instance-hint" class="hint">"The server your account is on. Keyport registers itself there the first time; no admin step."</p>
                        </div>
                    })}
                    <div class="form-actions">
                        <button type="submit" class="button primary" disabled=!ready>{if empty { "Connect an account" } else { "Connect another account" }}</button>
                    </div>
                </form>
            })}
            <p class="hint">{if app_password {
                "To re-authenticate an account, sign in again with its handle and an app password. Keyport stores the session's tokens encrypted; nobody sees them."
            } else {
                "You sign in at the provider and come back here; to re-authenticate an account, sign in as that same account. Keyport stores the tokens encrypted; nobody sees them."
            }}</p>
        </section>
    }
}

/// An account's picture, or its initial where the provider gave none.
#[component]
pub fn Avatar(url: Option<String>, name: String) -> impl IntoView {
    match url {
        Some(src) => view! { <img class="avatar" src=src alt="" width="32" height="32" referrerpolicy="no-referrer"/> }.into_any(),
        None => view! { <span class="avatar initial" aria-hidden="true">{name.chars().next().map(String::from).unwrap_or_default()}</span> }.into_any(),
    }
}

#[component]
pub fn OauthSettingsPanel(platform_id: String, oauth: OauthView) -> impl IntoView {
    let save = ServerAction::<SaveOauthSettings>::new();
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let saved = move || matches!(save.value().get(), Some(Ok(_)));
    let f = OauthSettingsForm::from(&oauth.settings);
    let d = oauth.defaults.clone();
    let current = f.provider.clone();
    let placeholder = |v: &Option<String>| v.clone().unwrap_or_else(|| "https://…".into());
    view! {
        <section class="card" aria-labelledby="oauth-settings-heading">
            <h2 id="oauth-settings-heading">"OAuth settings"</h2>
            <RedirectUri uri=oauth.redirect_uri.clone()/>
            <FormAlert error/>
            {move || saved().then(|| view! { <p class="notice success" role="status">"OAuth settings saved. Reload to see the connection state."</p> })}
            <ActionForm action=save attr:class="form">
                <input type="hidden" name="id" value=platform_id/>
                <div class="field">
                    <label for="field-provider">"Provider"</label>
                    <select id="field-provider" name="form[provider]">
                        {oauth.providers.clone().into_iter().map(|p| {
                            let selected = p.key.as_str() == current;
                            view! { <option value=p.key.as_str() selected=selected>{p.key.label()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <TextField label="Client ID" field="client_id" value=f.client_id errors=error monospace=true
                    hint="From the app you registered with the provider."/>
                <TextField label="Instance URL" field="instance_url" value=f.instance_url errors=error inputmode="url"
                    placeholder="https://mastodon.social" hint="For providers with many servers (Mastodon, the sandbox); for Custom OAuth 2.0, the issuer: Keyport reads its metadata and fills the endpoints left empty."/>
                <TextField label="Scopes" field="scopes" value=f.scopes errors=error monospace=true
                    placeholder=d.scopes.clone().unwrap_or_default() hint="Space separated. Empty: the catalog's defaults for posting."/>
                <TextField label="API version" field="api_version" value=f.api_version errors=error monospace=true inputmode="numeric"
                    placeholder=d.api_version.clone().unwrap_or_default()
                    hint="YYYYMM, for providers that version their API monthly (LinkedIn). Empty: the catalog's. Set a newer one when the provider retires it."/>
                <details>
                    <summary>"Endpoint overrides"</summary>
                    <p class="hint">"Empty fields use the catalog's value (shown greyed). Override them for a self-hosted or test provider."</p>
                    <TextField label="Authorization URL" field="authorize_url" value=f.authorize_url errors=error inputmode="url" placeholder=placeholder(&d.authorize_url)/>
                    <TextField label="Token URL" field="token_url" value=f.token_url errors=error inputmode="url" placeholder=placeholder(&d.token_url)/>
                    <TextField label="Revocation URL" field="revoke_url" value=f.revoke_url errors=error inputmode="url" placeholder=placeholder(&d.revoke_url)/>
                    <TextField label="Userinfo URL" field="userinfo_url" value=f.userinfo_url errors=error inputmode="url" placeholder=placeholder(&d.userinfo_url)/>
                    <TextField label="API base URL" field="api_base_url" value=f.api_base_url errors=error inputmode="url" placeholder=placeholder(&d.api_base_url)/>
                </details>
                <div class="form-actions">
                    <button type="submit" class="button primary" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save OAuth settings" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// Where a Reddit account's posts go: a subreddit, or its profile by default.
#[component]
fn DestinationForm(platform_id: String, account: Account) -> impl IntoView {
    let shown = |sr: &str| match sr.strip_prefix("u_") {
        Some(name) => format!("u/{name}"),
        None => format!("r/{sr}"),
    };
    let id = format!("destination-{}", account.id);
    let hint = format!("{id}-hint");
    let goes_to = account.destination_or_default().map(|sr| shown(&sr)).unwrap_or_else(|| "the account's profile".into());
    let profile = account.name.clone().map(|n| format!("u/{n} (the profile)")).unwrap_or_default();
    view! {
        <form method="post" action=format!("/oauth/{platform_id}/accounts/{}/destination", account.id) class="destination-form">
            <div class="field">
                <label for=id.clone()>"Subreddit"</label>
                <input id=id name="subreddit" type="text" value=account.destination.as_deref().map(shown) placeholder=profile
                    spellcheck="false" autocapitalize="none" aria-describedby=hint.clone()/>
                <p id=hint class="hint">"Posts go to " <strong>{goes_to}</strong> ". Type a subreddit like r/rust, or leave it empty for the profile. The community's rules apply (some refuse links or new accounts)."</p>
            </div>
            <button type="submit" class="button" aria-label=format!("Save the subreddit of {}", account.label())>"Save"</button>
        </form>
    }
}

/// Where a Pinterest account's Pins go: one of its boards, read from Pinterest when the
/// page is drawn.
#[component]
fn BoardForm(platform_id: String, account: Account) -> impl IntoView {
    let (platform, key) = (platform_id.clone(), account.id.to_string());
    let boards = resource(|| (), move |_| crate::server_fns::oauth::account_boards(platform.clone(), key.clone()));
    let id = format!("board-{}", account.id);
    let hint = format!("{id}-hint");
    let chosen = account.destination.clone();
    let label = account.label();
    view! {
        <form method="post" action=format!("/oauth/{platform_id}/accounts/{}/destination", account.id) class="destination-form">
            <div class="field">
                <label for=id.clone()>"Board"</label>
                <Transition fallback=|| view! { <p class="hint" role="status">"Loading the boards from Pinterest…"</p> }>
                    {move || boards.get().map(|answer| match answer {
                        Ok(list) if list.is_empty() => view! { <p class="hint">"This account has no boards yet: make one on Pinterest, then reload this page."</p> }.into_any(),
                        Ok(list) => {
                            let named = chosen.as_ref().and_then(|c| list.iter().find(|b| &b.id == c)).map(|b| b.name.clone());
                            let goes_to = match (&chosen, named) {
                                (_, Some(name)) => format!("Pins go to {name}."),
                                (Some(_), None) => "The chosen board is no longer among the account's boards: choose another.".to_owned(),
                                (None, None) => "No board yet: choose one, or posts to this account fail.".to_owned(),
                            };
                            let options = list.into_iter().map(|b| {
                                let selected = chosen.as_deref() == Some(b.id.as_str());
                                let name = if b.secret { format!("{} (secret)", b.name) } else { b.name };
                                view! { <option value=b.id selected=selected>{name}</option> }
                            }).collect_view();
                            view! {
                                <select id=id.clone() name="board" aria-describedby=hint.clone()>
                                    <option value="" selected=chosen.is_none()>"Choose a board"</option>
                                    {options}
                                </select>
                                <p id=hint.clone() class="hint">{goes_to}</p>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
                    })}
                </Transition>
            </div>
            <button type="submit" class="button" aria-label=format!("Save the board of {label}")>"Save"</button>
        </form>
    }
}

/// When "Add to queue" posts to the account: days, times and a time zone. A plain form, so
/// it works without JavaScript; with it, an empty zone starts as the browser's own.
#[component]
fn SlotsForm(platform_id: String, account: Account) -> impl IntoView {
    let label = account.label();
    let key = account.id;
    let (days, times, zone) = match &account.slots {
        Some(s) => (s.day_names(), s.times_text(), s.zone.clone()),
        None => (Vec::new(), String::new(), String::new()),
    };
    let zone_value = RwSignal::new(zone);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if zone_value.get_untracked().is_empty() {
            let browser = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options();
            if let Some(zone) = js_sys::Reflect::get(&browser, &"timeZone".into()).ok().and_then(|z| z.as_string()) {
                zone_value.set(zone);
            }
        }
    });
    let summary = account.slots.as_ref().map_or_else(|| "Posting slots: none yet".to_owned(), |s| format!("Posting slots: {}", s.describe()));
    view! {
        <details class="slots">
            <summary>{summary}</summary>
            <form method="post" action=format!("/oauth/{platform_id}/accounts/{key}/slots") class="slots-form">
                <fieldset class="field">
                    <legend>{format!("Days {label} posts on")}</legend>
                    {crate::domain::weekdays().map(|(name, day)| view! {
                        <label class="check"><input type="checkbox" name="day" value=name checked=days.contains(&name)/>{day.to_string()}</label>
                    }).collect_view()}
                </fieldset>
                <div class="field">
                    <label for=format!("slot-times-{key}")>{format!("Times for {label}")}</label>
                    <input id=format!("slot-times-{key}") name="times" type="text" value=times placeholder="09:00, 17:00" inputmode="numeric"/>
                </div>
                <div class="field">
                    <label for=format!("slot-zone-{key}")>{format!("Time zone for {label}")}</label>
                    <input id=format!("slot-zone-{key}") name="zone" type="text" prop:value=move || zone_value.get() placeholder="Europe/Paris" spellcheck="false" autocapitalize="none"/>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button" aria-label=format!("Save the posting slots of {label}")>"Save slots"</button>
                    {account.slots.is_some().then(|| view! {
                        <button type="submit" name="clear" value="1" class="button" aria-label=format!("Clear the posting slots of {label}")>"Clear"</button>
                    })}
                </div>
            </form>
        </details>
    }
}

/// The exact redirect URI to register with the provider, with a copy button.
#[component]
fn RedirectUri(uri: String) -> impl IntoView {
    // None: not pressed yet; Some(false): the browser refused (no permission).
    let copied = RwSignal::new(None::<bool>);
    let to_copy = uri.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::{closure::Closure, JsValue};
            let promise = window().navigator().clipboard().write_text(&to_copy);
            let refused = Closure::<dyn FnMut(JsValue)>::new(move |_| copied.set(Some(false)));
            let _ = promise.catch(&refused);
            refused.forget();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &to_copy;
        copied.set(Some(true));
    };
    let label = move || match copied.get() {
        None => "Copy",
        Some(true) => "Copied",
        Some(false) => "Copy failed: select the address and press Ctrl+C",
    };
    view! {
        <div class="field">
            <label for="redirect-uri">"Redirect URI"</label>
            <div class="copy-row">
                <input id="redirect-uri" class="mono" type="text" readonly value=uri aria-describedby="redirect-uri-hint"/>
                <button type="button" class="button" on:click=copy>{label}</button>
            </div>
            <p class="hint" id="redirect-uri-hint">"Register exactly this address with the provider."</p>
        </div>
    }
}
