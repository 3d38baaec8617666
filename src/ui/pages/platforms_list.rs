//! `/platforms`: the registry, filterable by category and status. The filters live in the
//! URL, so a view can be bookmarked, shared and reloaded.

use crate::{
    server_fns::platforms::list_platforms,
    domain::{Choice, FacetCounts, Platform, PlatformFilter, PlatformList},
    ui::components::{
        badges::{CategoryBadge, EncryptionBadge, StatusBadge},
        error_view::ErrorView,
        notice::Notice,
        platform_icon::PlatformIcon,
        timestamp::Timestamp,
        viewer::viewer,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Form, A},
    hooks::{use_navigate, use_query_map},
};

#[component]
pub fn PlatformsPage() -> impl IntoView {
    let query = use_query_map();
    let list = Resource::new(
        move || query.with(|q| (q.get("category"), q.get("status"), q.get("encryption"))),
        |(category, status, encryption)| list_platforms(category, status, encryption),
    );
    let (pending, set_pending) = signal(false);
    view! {
        <Title text="Platforms"/>
        <div class="page-header">
            <div>
                <h1>"Platforms"</h1>
                <p class="lede">"Every integration your team uses, and how Keyport signs in to it."</p>
            </div>
            {viewer().is_admin().then(|| view! { <A href="/platforms/new" attr:class="button primary">"Add platform"</A> })}
        </div>
        <Notice/>
        <Transition
            fallback=|| view! { <p class="loading" role="status">"Loading platforms…"</p> }
            set_pending
        >
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <Registry list pending/> }.into_any(),
                    Err(error) => view! {
                        <ErrorView error>
                            <p><A href="/platforms">"Show all platforms"</A></p>
                        </ErrorView>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Registry(list: PlatformList, pending: ReadSignal<bool>) -> impl IntoView {
    let query = use_query_map();
    // The server accepted the query, so it parses.
    let filter = query
        .with_untracked(|q| PlatformFilter::parse(q.get_str("category"), q.get_str("status"), q.get_str("encryption")))
        .unwrap_or_default();
    let shown = list.platforms.len();
    let total = list.counts.total;
    view! {
        <FilterBar counts=list.counts filter/>
        <p class="summary" aria-live="polite">
            {if filter.is_empty() {
                format!("{total} platform{}", if total == 1 { "" } else { "s" })
            } else {
                format!("Showing {shown} of {total} platforms")
            }}
        </p>
        <div class="table-wrap" aria-busy=move || pending.get().to_string()>
            {if total == 0 {
                view! {
                    <div class="empty">
                        <h2>"No platforms yet"</h2>
                        <p>"Add the first integration your team uses — a social network, a payment provider, an email service."</p>
                        {viewer().is_admin().then(|| view! { <A href="/platforms/new" attr:class="button primary">"Add your first platform"</A> })}
                    </div>
                }
                .into_any()
            } else if shown == 0 {
                view! {
                    <div class="empty">
                        <h2>"No platforms match these filters"</h2>
                        <p><A href="/platforms">"Clear filters"</A></p>
                    </div>
                }
                .into_any()
            } else {
                view! { <PlatformTable platforms=list.platforms/> }.into_any()
            }}
        </div>
    }
}

/// The category, status and encryption filters. A plain GET form, so it works without the WASM
/// bundle; once hydrated, choosing an option applies it at once.
#[component]
fn FilterBar(counts: FacetCounts, filter: PlatformFilter) -> impl IntoView {
    let navigate = use_navigate();
    let apply = move |form_field: &'static str, value: String| {
        let mut next = filter;
        match form_field {
            "category" => next.category = value.parse().ok(),
            "status" => next.status = value.parse().ok(),
            _ => next.encryption = value.parse().ok(),
        }
        let query = next.to_query();
        navigate(&if query.is_empty() { "/platforms".into() } else { format!("/platforms?{query}") }, Default::default());
    };
    let on = move |name: &'static str| {
        let apply = apply.clone();
        Callback::new(move |value: String| apply(name, value))
    };
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Form method="GET" action="/platforms">
            <div class="filters" role="search" aria-label="Filter platforms">
                <FilterSelect label="Category" name="category" any="All categories" on_pick=on("category")
                    choices=choices(filter.category, |c| counts.category(c))/>
                <FilterSelect label="Status" name="status" any="All statuses" on_pick=on("status")
                    choices=choices(filter.status, |s| counts.status(s))/>
                <FilterSelect label="Encryption" name="encryption" any="Any encryption state" on_pick=on("encryption")
                    choices=choices(filter.encryption, |e| counts.encryption(e))/>
                <button type="submit" class="button" hidden=move || hydrated.get()>"Apply filters"</button>
                {(!filter.is_empty()).then(|| view! { <A href="/platforms" attr:class="clear-filters">"Clear filters"</A> })}
            </div>
        </Form>
    }
}

/// `(wire name, "Label (count)", selected)` for every value of a filter.
fn choices<T: Choice>(selected: Option<T>, count: impl Fn(T) -> i64) -> Vec<(&'static str, String, bool)> {
    T::all().iter().map(|&c| (c.wire(), format!("{} ({})", c.text(), count(c)), selected == Some(c))).collect()
}

/// One labelled filter; picking a value applies it at once once the app is hydrated.
#[component]
fn FilterSelect(
    label: &'static str,
    name: &'static str,
    any: &'static str,
    choices: Vec<(&'static str, String, bool)>,
    on_pick: Callback<String>,
) -> impl IntoView {
    let id = format!("filter-{name}");
    let nothing_selected = !choices.iter().any(|c| c.2);
    view! {
        <div class="field inline">
            <label for=id.clone()>{label}</label>
            <select id=id name=name on:change=move |ev| on_pick.run(event_target_value(&ev))>
                <option value="" selected=nothing_selected>{any}</option>
                {choices.into_iter().map(|(value, text, selected)| view! { <option value=value selected=selected>{text}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn PlatformTable(platforms: Vec<Platform>) -> impl IntoView {
    view! {
        <table class="data-table">
            <caption class="sr-only">"Platforms"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Category"</th>
                    <th scope="col" class="hide-narrow">"Auth type"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Encryption"</th>
                    <th scope="col" class="hide-narrow">"Updated"</th>
                </tr>
            </thead>
            <tbody>
                {platforms
                    .into_iter()
                    .map(|p| {
                        let href = format!("/platforms/{}", p.id);
                        view! {
                            <tr>
                                <th scope="row">
                                    <div class="name-cell">
                                        <PlatformIcon name=p.name.clone() icon_url=p.icon_url.clone()/>
                                        <div>
                                            <A href=href>{p.name}</A>
                                            {p.description.map(|d| view! { <p class="muted clamp">{d}</p> })}
                                        </div>
                                    </div>
                                </th>
                                <td><CategoryBadge category=p.category/></td>
                                <td class="hide-narrow">{p.auth_type.label()}</td>
                                <td><StatusBadge status=p.status/></td>
                                <td><EncryptionBadge encryption=p.encryption/></td>
                                <td class="hide-narrow"><Timestamp at=p.updated_at/></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
