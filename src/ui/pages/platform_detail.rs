//! `/platforms/:id`: one platform, with edit and delete.

use crate::{
    server_fns::{
        credentials::{get_platform_details, RemoveSecret, SetSecret},
        keys::ReencryptPlatform,
        platforms::DeletePlatform,
    },
    domain::{Credentials, OauthView, Platform},
    ui::components::{
        badges::{CategoryBadge, EncryptionBadge, StatusBadge},
        credentials_panel::{CredentialsPanel, SecretActions},
        error_view::{ErrorView, FormAlert},
        notice::Notice,
        oauth_panel::{AccountsPanel, OauthSettingsPanel},
        platform_icon::PlatformIcon,
        timestamp::Timestamp,
        viewer::viewer,
    },
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

#[component]
pub fn PlatformPage() -> impl IntoView {
    let params = use_params_map();
    // Saving a secret changes the badge: refetch the platform after each one.
    let actions = SecretActions {
        set: ServerAction::<SetSecret>::new(),
        remove: ServerAction::<RemoveSecret>::new(),
        reencrypt: ServerAction::<ReencryptPlatform>::new(),
    };
    provide_context(actions);
    let platform = resource(
        move || {
            let versions = (actions.set.version().get(), actions.remove.version().get(), actions.reencrypt.version().get());
            (params.read().get("id").unwrap_or_default(), versions)
        },
        |(id, _)| get_platform_details(id),
    );
    view! {
        <p class="breadcrumb"><A href="/platforms">"← All platforms"</A></p>
        <Notice/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading platform…"</p> }>
            {move || Suspend::new(async move {
                match platform.await {
                    Ok(d) => view! { <PlatformDetails platform=d.platform credentials=d.credentials oauth=d.oauth/> }.into_any(),
                    Err(error) => view! { <Title text="Platform not found"/><ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PlatformDetails(platform: Platform, credentials: Option<Credentials>, oauth: Option<OauthView>) -> impl IntoView {
    let admin = viewer().is_admin();
    let p = platform;
    let id = p.id.to_string();
    let metadata = (!p.metadata.is_empty()).then(|| serde_json::to_string_pretty(&p.metadata).unwrap_or_default());
    let optional = |v: Option<String>| v.unwrap_or_else(|| "—".to_owned());
    view! {
        <Title text=p.name.clone()/>
        <div class="page-header">
            <div class="title-with-icon">
                <PlatformIcon name=p.name.clone() icon_url=p.icon_url.clone() size=48/>
                <div>
                    <h1>{p.name.clone()}</h1>
                    <p class="badges">
                        <CategoryBadge category=p.category/>
                        <StatusBadge status=p.status/>
                        <EncryptionBadge encryption=p.encryption/>
                    </p>
                </div>
            </div>
            {admin.then(|| view! { <A href=format!("/platforms/{id}/edit") attr:class="button primary">"Edit"</A> })}
        </div>
        {p.description.clone().map(|d| view! { <p class="description">{d}</p> })}
        <section class="card" aria-labelledby="details-heading">
            <h2 id="details-heading">"Details"</h2>
            <dl class="details">
                <dt>"Category"</dt><dd>{p.category.label()}</dd>
                <dt>"Auth type"</dt><dd>{p.auth_type.label()}</dd>
                <dt>"Status"</dt><dd>{p.status.label()}</dd>
                <dt>"Base URL"</dt><dd class="mono">{optional(p.base_url.clone())}</dd>
                <dt>"Icon URL"</dt><dd class="mono">{optional(p.icon_url.clone())}</dd>
                <dt>"Created"</dt><dd><Timestamp at=p.created_at/></dd>
                <dt>"Updated"</dt><dd><Timestamp at=p.updated_at/></dd>
                <dt>"ID"</dt><dd class="mono">{id.clone()}</dd>
            </dl>
        </section>
        {oauth.clone().map(|oauth| view! { <AccountsPanel platform_id=id.clone() oauth/> })}
        {credentials.map(|credentials| view! { <CredentialsPanel platform=p.clone() credentials/> })}
        {oauth.filter(|_| admin).map(|oauth| view! { <OauthSettingsPanel platform_id=id.clone() oauth/> })}
        <section class="card" aria-labelledby="metadata-heading">
            <h2 id="metadata-heading">"Metadata"</h2>
            {match metadata {
                Some(json) => view! { <pre class="json">{json}</pre> }.into_any(),
                None => view! { <p class="muted">"No metadata."</p> }.into_any(),
            }}
        </section>
        {admin.then(|| view! { <DeletePlatformPanel id name=p.name/> })}
    }
}

/// Deleting is behind a disclosure so it takes two deliberate clicks, with or without JS.
#[component]
fn DeletePlatformPanel(id: String, name: String) -> impl IntoView {
    let delete = ServerAction::<DeletePlatform>::new();
    let error = Signal::derive(move || delete.value().get().and_then(Result::err));
    view! {
        <section class="card danger-zone" aria-labelledby="danger-heading">
            <h2 id="danger-heading">"Danger zone"</h2>
            <details>
                <summary>"Delete this platform…"</summary>
                <p>"Delete " <strong>{name}</strong> " and everything stored for it? This cannot be undone."</p>
                <FormAlert error/>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="button danger" disabled=move || delete.pending().get()>
                        {move || if delete.pending().get() { "Deleting…" } else { "Delete permanently" }}
                    </button>
                </ActionForm>
            </details>
        </section>
    }
}
