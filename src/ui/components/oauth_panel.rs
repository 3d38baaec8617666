//! The OAuth cards of a platform page: the connection (everyone: connect, re-authenticate,
//! disconnect) and the client settings (admins: provider, client id, endpoints, redirect URI).

use crate::{
    server_fns::oauth::SaveOauthSettings,
    domain::{OauthSettingsForm, OauthView},
    ui::components::{error_view::FormAlert, fields::TextField, timestamp::Timestamp},
};
use leptos::prelude::*;

#[component]
pub fn ConnectionPanel(platform_id: String, oauth: OauthView) -> impl IntoView {
    let c = oauth.connection.clone();
    let needs_attention = c.last_error.is_some();
    let verb = if c.connected || needs_attention { "Re-authenticate" } else { "Connect" };
    let ready = oauth.not_ready.is_none();
    view! {
        <section class="card" aria-labelledby="connection-heading">
            <h2 id="connection-heading">"Connection"</h2>
            {match (c.connected, c.account_name.clone().or(c.account_id.clone())) {
                (true, Some(account)) => view! {
                    <p class="connection">"Connected to " {oauth.settings.provider.label()} " as " <strong class="account-name">{account}</strong></p>
                }.into_any(),
                (true, None) => view! { <p class="connection">"Connected to " {oauth.settings.provider.label()}</p> }.into_any(),
                (false, _) => view! { <p class="connection muted">"Not connected to " {oauth.settings.provider.label()} " yet."</p> }.into_any(),
            }}
            {c.last_error.clone().map(|why| view! { <p class="notice error" role="alert">{why}</p> })}
            {c.connected.then(|| view! {
                <dl class="details">
                    <dt>"Access token"</dt>
                    <dd>{match c.expires_at {
                        Some(at) => view! { "expires " <Timestamp at/> }.into_any(),
                        None => view! { "does not expire" }.into_any(),
                    }}</dd>
                    <dt>"Refresh token"</dt>
                    <dd>{if c.has_refresh_token { "stored (renewed automatically before expiry)" } else { "none: the provider issues none; re-authenticate when the access token expires" }}</dd>
                    <dt>"Scopes"</dt><dd class="mono">{c.scopes.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Connected"</dt><dd>{c.connected_at.map(|at| view! { <Timestamp at/> })}</dd>
                    <dt>"Last refreshed"</dt><dd>{match c.last_refreshed_at {
                        Some(at) => view! { <Timestamp at/> }.into_any(),
                        None => view! { "never" }.into_any(),
                    }}</dd>
                </dl>
            })}
            {oauth.not_ready.clone().map(|why| view! {
                <p class="hint">"Connect is not available yet: " {why} "."</p>
            })}
            <div class="form-actions">
                <form method="post" action=format!("/oauth/{platform_id}/connect")>
                    <button type="submit" class="button primary" disabled=!ready>{verb}</button>
                </form>
                {c.connected.then(|| view! {
                    <form method="post" action=format!("/oauth/{platform_id}/disconnect")>
                        <button type="submit" class="button">"Disconnect"</button>
                    </form>
                })}
            </div>
            <p class="hint">"You will sign in at the provider and come back here. Keyport stores the tokens encrypted; nobody sees them."</p>
        </section>
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
                    placeholder="https://mastodon.social" hint="Only for providers with many servers (Mastodon, the sandbox)."/>
                <TextField label="Scopes" field="scopes" value=f.scopes errors=error monospace=true
                    placeholder=d.scopes.clone().unwrap_or_default() hint="Space separated. Empty: the catalog's defaults for posting."/>
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
