//! `/platforms/new` and `/platforms/:id/edit`: one form for both.

use crate::{
    server_fns::{oauth::provider_choices, platforms::{get_platform, CreatePlatform, UpdatePlatform}},
    domain::{AppError, AuthType, Category, PlatformForm, Status},
    ui::components::{
        error_view::{ErrorView, FormAlert},
        fields::{SelectField, TextField},
        viewer::AdminOnly,
    },
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::{use_params_map, use_query_map}};

#[component]
pub fn NewPlatformPage() -> impl IntoView {
    view! { <AdminOnly><NewPlatform/></AdminOnly> }
}

#[component]
pub fn EditPlatformPage() -> impl IntoView {
    view! { <AdminOnly><EditPlatform/></AdminOnly> }
}

#[component]
fn NewPlatform() -> impl IntoView {
    let create = ServerAction::<CreatePlatform>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let pending = create.pending();
    let query = use_query_map();
    let providers = resource(|| (), |_| provider_choices());
    view! {
        <Title text="Add platform"/>
        <p class="breadcrumb"><A href="/platforms">"← All platforms"</A></p>
        <h1>"Add platform"</h1>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading providers…"</p> }>
            {move || Suspend::new(async move {
                let providers = providers.await.unwrap_or_default();
                let chosen = query.read().get("provider").unwrap_or_default();
                let start = providers.iter().find(|p| p.key.as_str() == chosen).cloned();
                let initial = start.as_ref().map_or_else(PlatformForm::default, |p| PlatformForm {
                    name: p.key.label().into(),
                    category: p.category.as_str().into(),
                    auth_type: AuthType::Oauth2.as_str().into(),
                    provider: p.key.as_str().into(),
                    ..Default::default()
                });
                view! {
                    <form method="get" class="card form start-from">
                        <div class="field">
                            <label for="start-provider">"Start from a provider"</label>
                            <select id="start-provider" name="provider">
                                <option value="" selected=start.is_none()>"— none: fill in everything —"</option>
                                {providers.iter().map(|p| view! {
                                    <option value=p.key.as_str() selected=p.key.as_str() == chosen>{p.key.label()}</option>
                                }).collect_view()}
                            </select>
                            <p class="hint">"Prefills the name, category and auth type; the OAuth endpoints come from the catalog."</p>
                        </div>
                        <button type="submit" class="button">"Use this provider"</button>
                    </form>
                    <NewPlatformForm create error pending initial/>
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewPlatformForm(
    create: ServerAction<CreatePlatform>,
    error: Signal<Option<AppError>>,
    pending: Memo<bool>,
    initial: PlatformForm,
) -> impl IntoView {
    let provider = initial.provider.clone();
    view! {
        <ActionForm action=create attr:class="card form">
            <FormAlert error/>
            <input type="hidden" name="form[provider]" value=provider/>
            <PlatformFields initial errors=error/>
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating…" } else { "Create platform" }}
                </button>
                <A href="/platforms" attr:class="button">"Cancel"</A>
            </div>
        </ActionForm>
    }
}

#[component]
fn EditPlatform() -> impl IntoView {
    let params = use_params_map();
    let platform = resource(move || params.read().get("id").unwrap_or_default(), get_platform);
    let update = ServerAction::<UpdatePlatform>::new();
    let error = Signal::derive(move || update.value().get().and_then(Result::err));
    let pending = update.pending();
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading platform…"</p> }>
            {move || Suspend::new(async move {
                match platform.await {
                    Ok(p) => {
                        let back = format!("/platforms/{}", p.id);
                        view! {
                            <Title text=format!("Edit {}", p.name)/>
                            <p class="breadcrumb"><A href=back.clone()>{format!("← {}", p.name)}</A></p>
                            <h1>{format!("Edit {}", p.name)}</h1>
                            <ActionForm action=update attr:class="card form">
                                <input type="hidden" name="id" value=p.id.to_string()/>
                                <FormAlert error/>
                                <PlatformFields initial=PlatformForm::from(&p) errors=error/>
                                <div class="form-actions">
                                    <button type="submit" class="button primary" disabled=move || pending.get()>
                                        {move || if pending.get() { "Saving…" } else { "Save changes" }}
                                    </button>
                                    <A href=back attr:class="button">"Cancel"</A>
                                </div>
                            </ActionForm>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <Title text="Platform not found"/><ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The platform's editable fields, prefilled from `initial`.
#[component]
fn PlatformFields(initial: PlatformForm, errors: Signal<Option<AppError>>) -> impl IntoView {
    let f = initial;
    let or_default = |value: String, default: &str| if value.is_empty() { default.to_owned() } else { value };
    view! {
        <TextField label="Name" field="name" value=f.name errors required=true/>
        <div class="field-row">
            <SelectField label="Category" field="category" errors
                choices=Category::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
                selected=or_default(f.category, Category::default().as_str())/>
            <SelectField label="Auth type" field="auth_type" errors
                choices=AuthType::ALL.iter().map(|a| (a.as_str(), a.label())).collect()
                selected=or_default(f.auth_type, AuthType::default().as_str())/>
            <SelectField label="Status" field="status" errors
                choices=Status::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
                selected=or_default(f.status, Status::default().as_str())/>
        </div>
        <TextField label="Description" field="description" value=f.description errors multiline=true/>
        <TextField label="Base URL" field="base_url" value=f.base_url errors inputmode="url"
            hint="The API's address, for example https://api.stripe.com"/>
        <TextField label="Icon URL" field="icon_url" value=f.icon_url errors inputmode="url"
            hint="An image shown beside the name (https://…)"/>
        <TextField label="Metadata (JSON)" field="metadata" value=f.metadata errors multiline=true monospace=true
            hint="A JSON object of non-secret settings, for example {\"region\": \"eu\"}. Never put credentials here."/>
    }
}
