//! The credentials card of a platform page: the encryption badge, what is stored (never
//! the values) and, for API-key, bearer and basic-auth platforms, a write-only form.

use crate::{
    server_fns::{credentials::{RemoveSecret, SetSecret}, keys::ReencryptPlatform},
    domain::{AppError, AuthType, Credentials, EncryptionState, Platform, SecretField},
    ui::components::{badges::EncryptionBadge, error_view::FormAlert, timestamp::Timestamp},
};
use leptos::prelude::*;

/// The secret actions of a platform page, shared so the page can refetch after each.
#[derive(Clone, Copy)]
pub struct SecretActions {
    pub set: ServerAction<SetSecret>,
    pub remove: ServerAction<RemoveSecret>,
    pub reencrypt: ServerAction<ReencryptPlatform>,
}

#[component]
pub fn CredentialsPanel(platform: Platform, credentials: Credentials) -> impl IntoView {
    let has_secret = !credentials.secrets.is_empty();
    view! {
        <section class="card" aria-labelledby="credentials-heading">
            <h2 id="credentials-heading">"Credentials"</h2>
            <p><EncryptionBadge encryption=credentials.encryption/></p>
            {(credentials.encryption.state == EncryptionState::OldKey).then(|| view! { <ReencryptButton platform_id=platform.id.to_string()/> })}
            {if has_secret {
                view! {
                    <ul class="secret-list" aria-label="Stored secrets">
                        {credentials.secrets.iter().map(|s| {
                            let state = if !s.readable {
                                "cannot be decrypted: wrong key, or the stored value was altered".to_owned()
                            } else if s.current_key {
                                format!("encrypted with the current key (v{})", s.key_version)
                            } else {
                                format!("encrypted with old key v{} — re-encrypt it", s.key_version)
                            };
                            view! {
                                <li>
                                    <strong>{s.field.label()}</strong>
                                    <span>{state}</span>
                                    <span class="muted">"updated " <Timestamp at=s.updated_at/></span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            } else {
                view! { <p class="muted">"Nothing is stored for this platform yet."</p> }.into_any()
            }}
            {(platform.auth_type == AuthType::Oauth2).then(|| view! {
                <p class="hint">"Access and refresh tokens are stored, encrypted, when an account is connected; they are never typed in."</p>
            })}
            {match platform.auth_type.typed_secret() {
                Some(field) => view! {
                    <SecretForm platform_id=platform.id.to_string() auth_type=platform.auth_type field
                        username=credentials.username.clone().unwrap_or_default() replacing=has_secret/>
                }.into_any(),
                None => view! {
                    <p class="hint">"OAuth tokens are stored, encrypted, when the account is connected; they are never typed in."</p>
                }.into_any(),
            }}
        </section>
    }
}

/// Sets or replaces the typed secret. Write-only: the stored value is never shown back.
#[component]
fn SecretForm(platform_id: String, auth_type: AuthType, field: SecretField, username: String, replacing: bool) -> impl IntoView {
    let SecretActions { set, remove, .. } = expect_context();
    let error = Signal::derive(move || set.value().get().and_then(Result::err));
    let remove_error = Signal::derive(move || remove.value().get().and_then(Result::err));
    let field_error = move |name: &'static str| {
        move || error.with(|e: &Option<AppError>| e.as_ref().and_then(|e| e.fields()).and_then(|f| f.get(name)).map(str::to_owned))
    };
    let label = field.label();
    let noun = field.noun();
    let verb = if replacing { "Replace" } else { "Set" };
    let remove_id = platform_id.clone();
    // Once saved, the typed secret must not linger in the page.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(set.value().get(), Some(Ok(()))) {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        <h3>{format!("{verb} {}", noun)}</h3>
        <FormAlert error/>
        <ActionForm action=set node_ref=form attr:class="secret-form" attr:autocomplete="off">
            <input type="hidden" name="id" value=platform_id/>
            {(auth_type == AuthType::Basic).then(|| view! {
                <div class="field">
                    <label for="secret-username">"User name"</label>
                    <input id="secret-username" type="text" name="username" value=username autocomplete="off"
                        aria-invalid=move || field_error("username")().map(|_| "true")/>
                    {move || field_error("username")().map(|e| view! { <p class="field-error">{e}</p> })}
                </div>
            })}
            <div class="field">
                <label for="secret-value">{if replacing { format!("New {}", noun) } else { label.to_owned() }}</label>
                <input id="secret-value" type="password" name="value" autocomplete="new-password" spellcheck="false"
                    aria-describedby="secret-value-hint" aria-invalid=move || field_error("value")().map(|_| "true")/>
                <p class="hint" id="secret-value-hint">"Encrypted before it is stored; it is never shown again."</p>
                {move || field_error("value")().map(|e| view! { <p class="field-error">{e}</p> })}
            </div>
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || set.pending().get()>
                    {move || if set.pending().get() { "Encrypting…".to_owned() } else { format!("Save {}", noun) }}
                </button>
            </div>
        </ActionForm>
        {replacing.then(|| view! {
            <FormAlert error=remove_error/>
            <ActionForm action=remove>
                <input type="hidden" name="id" value=remove_id/>
                <button type="submit" class="button" disabled=move || remove.pending().get()>{format!("Remove {}", noun)}</button>
            </ActionForm>
        })}
    }
}

/// Re-encrypts this platform's secrets with the current key, now.
#[component]
fn ReencryptButton(platform_id: String) -> impl IntoView {
    let SecretActions { reencrypt, .. } = expect_context();
    let error = Signal::derive(move || reencrypt.value().get().and_then(Result::err));
    view! {
        <FormAlert error/>
        <ActionForm action=reencrypt>
            <input type="hidden" name="id" value=platform_id/>
            <button type="submit" class="button" disabled=move || reencrypt.pending().get()>
                {move || if reencrypt.pending().get() { "Re-encrypting…" } else { "Re-encrypt now" }}
            </button>
        </ActionForm>
    }
}
