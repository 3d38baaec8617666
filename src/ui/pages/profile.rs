//! `/profile`: the signed-in user, their password and their personal API tokens.

use crate::{
    domain::{TokenScope, PASSWORD_MIN},
    server_fns::profile::{list_api_tokens, ChangePassword, CreateApiToken, RevokeApiToken},
    ui::components::{error_view::{ErrorView, FormAlert}, notice::Notice, timestamp::Timestamp, viewer::viewer},
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = resource(move || (create.version().get(), revoke.version().get()), |_| list_api_tokens());
    let error = Signal::derive(move || create.value().get().and_then(Result::err).or_else(|| revoke.value().get().and_then(Result::err)));
    let me = viewer().0;
    let change = ServerAction::<ChangePassword>::new();
    let change_error = Signal::derive(move || change.value().get().and_then(Result::err));
    view! {
        <Title text="Profile"/>
        <h1>"Profile"</h1>
        <Notice/>
        {me.map(|u| view! { <p>"Signed in as " <strong>{u.email}</strong> " (" {u.role.label()} ")."</p> })}
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <p class="hint">"Changing it signs you out everywhere else."</p>
            <FormAlert error=change_error/>
            <ActionForm action=change attr:class="inline-form">
                <div class="field"><label for="current-password">"Current password"</label><input id="current-password" name="current" type="password" autocomplete="current-password" required/></div>
                <div class="field"><label for="changed-password">"New password"</label><input id="changed-password" name="new" type="password" autocomplete="new-password" minlength=PASSWORD_MIN required/></div>
                <div class="field"><label for="confirm-password">"New password again"</label><input id="confirm-password" name="confirm" type="password" autocomplete="new-password" required/></div>
                <div class="form-actions"><button type="submit" class="button primary">"Change password"</button></div>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p class="hint">
                "For scripts and QA: send " <code>"Authorization: Bearer <token>"</code> " to the JSON API (" <code>"/api/platforms…"</code>
                "). A token acts as you, with your role, on the JSON API only: it cannot open pages, manage users or make tokens. "
                <a href="/api/docs" rel="external">"API reference"</a> " (OpenAPI document: " <a href="/api/openapi.json" rel="external">"/api/openapi.json"</a> ")."
            </p>
            <FormAlert error/>
            <ActionForm action=create attr:class="inline-form">
                <div class="field"><label for="token-name">"Token name"</label><input id="token-name" name="name" type="text" autocomplete="off" placeholder="QA scripts"/></div>
                <div class="field">
                    <label for="token-scope">"Access"</label>
                    <select id="token-scope" name="scope">
                        {TokenScope::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="token-expires">"Expires"</label>
                    <select id="token-expires" name="expires">
                        <option value="30">"in 30 days"</option>
                        <option value="90" selected>"in 90 days"</option>
                        <option value="365">"in a year"</option>
                        <option value="never">"never"</option>
                    </select>
                </div>
                <div class="form-actions"><button type="submit" class="button primary">"Create token"</button></div>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|t| view! {
                <div class="alert success" role="status">
                    <p><strong>{format!("Token \"{}\" created.", t.token.name)}</strong>" Copy it now: it will not be shown again."</p>
                    <label for="new-token" class="sr-only">"New API token"</label>
                    <input id="new-token" class="mono" type="text" readonly value=t.value.expose().to_owned()/>
                </div>
            })}
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No API tokens yet."</p> }.into_any(),
                        Ok(list) => {
                            view! {
                            <table class="data-table">
                                <caption class="sr-only">"API tokens"</caption>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Starts with"</th><th scope="col">"Access"</th><th scope="col">"Expires"</th><th scope="col">"Last used"</th><th scope="col">"State"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! {
                                        <tr>
                                            <th scope="row">{t.name.clone()}</th>
                                            <td class="mono">{format!("{}…", t.prefix)}</td>
                                            <td>{t.scope.label()}</td>
                                            <td>{match t.expires_at { Some(at) => view! { <Timestamp at/> }.into_any(), None => "never".into_any() }}</td>
                                            <td>{match t.last_used_at { Some(at) => view! { <Timestamp at/> }.into_any(), None => "never".into_any() }}</td>
                                            <td>{if t.revoked_at.is_some() {
                                                view! { <span class="badge status status-inactive">"Revoked"</span> }.into_any()
                                            } else if t.expired {
                                                view! { <span class="badge status status-inactive">"Expired"</span> }.into_any()
                                            } else {
                                                view! {
                                                    <ActionForm action=revoke>
                                                        <input type="hidden" name="id" value=t.id.to_string()/>
                                                        <button type="submit" class="button">{format!("Revoke {}", t.name)}</button>
                                                    </ActionForm>
                                                }.into_any()
                                            }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            }.into_any()
                        }
                        Err(error) => view! { <ErrorView error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
