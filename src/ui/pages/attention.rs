//! `/attention`: every platform that needs a person, why, and the one action that fixes it.

use crate::{
    server_fns::attention::list_attention,
    domain::{AttentionAction, AttentionItem, AttentionPage},
    ui::components::{error_view::ErrorView, viewer::viewer},
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

#[component]
pub fn AttentionPage() -> impl IntoView {
    let query = use_query_map();
    let page = resource(move || query.with(|q| q.get("cursor")), list_attention);
    view! {
        <Title text="Needs attention"/>
        <div class="page-header"><div>
            <h1>"Needs attention"</h1>
            <p class="lede">"Platforms that cannot work until someone re-authenticates, connects or sets a secret."</p>
        </div></div>
        <Transition fallback=|| view! { <p class="loading" role="status">"Checking platforms…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.items.is_empty() && page.prev.is_none() => view! {
                        <div class="card empty"><p>"Nothing needs attention: every platform is connected and its secrets decrypt."</p></div>
                    }.into_any(),
                    Ok(AttentionPage { items, next, prev }) => view! {
                        <AttentionTable items/>
                        <nav class="pager" aria-label="Needs attention pages">
                            {prev.map(|c| view! { <A href=format!("/attention?cursor={c}") attr:rel="prev">"← Previous"</A> })}
                            {next.map(|c| view! { <A href=format!("/attention?cursor={c}") attr:rel="next">"Next →"</A> })}
                        </nav>
                    }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AttentionTable(items: Vec<AttentionItem>) -> impl IntoView {
    let admin = viewer().is_admin();
    view! {
        <table class="card">
            <thead><tr><th scope="col">"Platform"</th><th scope="col">"Why"</th><th scope="col">"Action"</th></tr></thead>
            <tbody>
                {items.into_iter().map(|item| {
                    let id = item.platform_id;
                    let action = match item.action {
                        AttentionAction::Connect | AttentionAction::Reauthenticate => {
                            let label = if item.action == AttentionAction::Connect { "Connect" } else { "Re-authenticate" };
                            view! {
                                <form method="post" action=format!("/oauth/{id}/connect")>
                                    <button type="submit" class="button primary" aria-label=format!("{label} {}", item.name)>{label}</button>
                                </form>
                            }.into_any()
                        }
                        AttentionAction::SetSecret if admin => view! {
                            <A href=format!("/platforms/{id}") attr:class="button">"Set secret"</A>
                        }.into_any(),
                        AttentionAction::SetSecret => view! { <span class="muted">"An admin must set the secret"</span> }.into_any(),
                    };
                    view! {
                        <tr>
                            <td><A href=format!("/platforms/{id}")>{item.name.clone()}</A></td>
                            <td><ul class="reasons">{item.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul></td>
                            <td>{action}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
