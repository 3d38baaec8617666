//! `/audit` (admins): who did what, newest first, filterable, paged. Filters live in the URL.

use crate::{
    server_fns::audit::list_audit,
    domain::AuditPage,
    ui::components::{error_view::ErrorView, timestamp::Timestamp, viewer::AdminOnly},
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::{Form, A}, hooks::use_query_map};

#[component]
pub fn AuditLogPage() -> impl IntoView {
    view! { <AdminOnly><AuditLog/></AdminOnly> }
}

#[component]
fn AuditLog() -> impl IntoView {
    let query = use_query_map();
    let page = resource(
        move || query.with(|q| (q.get("actor"), q.get("action"), q.get("target"), q.get("cursor"))),
        |(actor, action, target, cursor)| list_audit(actor, action, target, cursor),
    );
    view! {
        <Title text="Audit log"/>
        <div class="page-header"><div><h1>"Audit log"</h1><p class="lede">"Every sign-in and every change to platforms, secrets and users. Never a secret."</p></div></div>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <AuditTable page=p/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditTable(page: AuditPage) -> impl IntoView {
    let query = use_query_map();
    let current = |name: &str| query.with_untracked(|q| q.get(name)).unwrap_or_default();
    let (actor, action, target) = (current("actor"), current("action"), current("target"));
    let link = {
        let (actor, action, target) = (actor.clone(), action.clone(), target.clone());
        move |cursor: &str| {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("actor", &actor), ("action", &action), ("target", &target)].into_iter().filter(|p| !p.1.is_empty()))
                .append_pair("cursor", cursor)
                .finish();
            format!("/audit?{query}")
        }
    };
    let options = |values: Vec<String>, selected: String, any: &'static str| {
        view! {
            <option value="" selected=selected.is_empty()>{any}</option>
            {values.into_iter().map(|v| { let s = v == selected; let text = v.clone(); view! { <option value=v selected=s>{text}</option> } }).collect_view()}
        }
    };
    view! {
        <Form method="GET" action="/audit">
            <div class="filters" role="search" aria-label="Filter the audit log">
                <div class="field inline"><label for="audit-actor">"User"</label><select id="audit-actor" name="actor">{options(page.actors.clone(), actor, "Anyone")}</select></div>
                <div class="field inline"><label for="audit-action">"Action"</label><select id="audit-action" name="action">{options(page.actions.clone(), action, "Any action")}</select></div>
                <div class="field inline"><label for="audit-target">"Platform or target id"</label><input id="audit-target" name="target" type="text" value=target/></div>
                <button type="submit" class="button">"Filter"</button>
            </div>
        </Form>
        <div class="table-wrap">
            {if page.events.is_empty() {
                view! { <div class="empty"><h2>"Nothing recorded"</h2><p>"No entry matches these filters."</p></div> }.into_any()
            } else {
                view! {
                    <table class="data-table">
                        <caption class="sr-only">"Audit log"</caption>
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Action"</th><th scope="col">"Target"</th><th scope="col">"Outcome"</th><th scope="col" class="hide-narrow">"From"</th></tr></thead>
                        <tbody>
                            {page.events.into_iter().map(|e| view! {
                                <tr>
                                    <td><Timestamp at=e.at/></td>
                                    <td>{e.actor}</td>
                                    <td><code>{e.action}</code>{e.detail.map(|d| view! { <p class="muted">{d}</p> })}</td>
                                    <td>{e.target_label.unwrap_or_default()}</td>
                                    <td><span class=format!("badge outcome-{}", e.outcome)>{e.outcome.clone()}</span></td>
                                    <td class="hide-narrow mono">{e.client_addr.unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </div>
        <nav class="pager" aria-label="Audit log pages">
            {page.prev.as_deref().map(|c| view! { <A href=link(c) attr:rel="prev">"← Newer"</A> })}
            {page.next.as_deref().map(|c| view! { <A href=link(c) attr:rel="next">"Older →"</A> })}
        </nav>
    }
}
