//! `/platforms`: the registry, a page at a time, filterable by category, status and
//! encryption state, searchable and sortable. All of it lives in the URL, so a view can be
//! bookmarked, shared and reloaded.

use crate::{
    server_fns::platforms::list_platforms,
    domain::{Choice, FacetCounts, ListParams, Platform, PlatformList, PlatformQuery, PlatformSort},
    ui::components::{
        badges::{CategoryBadge, EncryptionBadge, StatusBadge},
        error_view::ErrorView,
        notice::Notice,
        platform_icon::PlatformIcon,
        timestamp::Timestamp,
        viewer::viewer,
    },
};
use crate::ui::resource::resource;
use leptos::{either::{Either, EitherOf3}, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
};

#[component]
pub fn PlatformsPage() -> impl IntoView {
    let query = use_query_map();
    // `try_with`: on the server, a fetch can still be polled after its request's owner (and
    // the router's query with it) is gone; it then has nothing to fetch, rather than panicking.
    let list = resource(
        move || query.try_with(list_params),
        |params| async move { list_platforms(params.ok_or_else(|| crate::domain::AppError::Unavailable { message: "the page was closed".into() })?).await },
    );
    let (pending, set_pending) = signal(false);
    let fallback = || view! { <p class="loading" role="status">"Loading platforms…"</p> };
    let registry = move || Suspend::new(async move {
        match list.await {
            Ok(list) => Either::Left(view! { <Registry list pending/> }),
            Err(error) => Either::Right(view! {
                <ErrorView error>
                    <p><A href="/platforms">"Show all platforms"</A></p>
                </ErrorView>
            }),
        }
    });
    // `set_pending` only in the browser, where the table shows it: given one, Transition
    // runs an effect on the server too, and under load that effect read the Transition's
    // task list while a Suspend on the other worker thread held it for writing —
    // reactive_graph then reports the list as "disposed" and panics (about one list page
    // in 150 at 500 requests a second).
    #[cfg(feature = "hydrate")]
    let registry = view! { <Transition fallback set_pending>{registry}</Transition> };
    #[cfg(not(feature = "hydrate"))]
    let registry = {
        let _ = set_pending;
        view! { <Transition fallback>{registry}</Transition> }
    };
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
        {registry}
    }
}

/// The list's values in the URL, as the server function takes them.
fn list_params(q: &leptos_router::params::ParamsMap) -> ListParams {
    ListParams {
        category: q.get("category"),
        status: q.get("status"),
        encryption: q.get("encryption"),
        q: q.get("q"),
        sort: q.get("sort"),
        cursor: q.get("cursor"),
        limit: q.get("limit"),
    }
}

/// `/platforms` with the query of `view` at `cursor`.
fn href(view: &PlatformQuery, cursor: Option<&str>) -> String {
    match view.to_query(cursor) {
        query if query.is_empty() => "/platforms".into(),
        query => format!("/platforms?{query}"),
    }
}

/// "1,234" for a count the database gave (never negative).
fn thousands(n: i64) -> String {
    crate::ui::format::thousands(n.max(0) as u64)
}

#[component]
fn Registry(list: PlatformList, pending: ReadSignal<bool>) -> impl IntoView {
    // The server accepted the query, so it parses.
    let view = use_query_map().with_untracked(|q| PlatformQuery::parse(&list_params(q))).unwrap_or_default();
    let shown = list.platforms.len();
    let (total, matching) = (list.counts.total, list.counts.matching);
    // "Showing 50 of 1,234 platforms (of 100,000)", "1,000+ platforms matching “pay”": the
    // parts that apply.
    let more = if list.counts.capped { "+" } else { "" };
    let mut summary = format!("{}{more} platform{}", thousands(matching), if matching == 1 && more.is_empty() { "" } else { "s" });
    match &view.search {
        Some(search) => summary = format!("{summary} matching “{search}”"),
        None if !view.filter.is_empty() => summary = format!("{summary} (of {})", thousands(total)),
        None => {}
    }
    if (shown as i64) < matching {
        summary = format!("Showing {shown} of {summary}");
    }
    let pager = (list.prev.is_some() || list.next.is_some()).then(|| {
        let link = |cursor: &Option<String>, text: &'static str, rel: &'static str| match cursor {
            Some(c) => Either::Left(view! { <A href=href(&view, Some(c)) attr:rel=rel>{text}</A> }),
            None => Either::Right(view! { <span class="muted" aria-disabled="true">{text}</span> }),
        };
        view! {
            <nav class="pager" aria-label="Platform pages">
                {link(&list.prev, "← Previous", "prev")}
                {link(&list.next, "Next →", "next")}
            </nav>
        }
    });
    view! {
        <FilterBar counts=list.counts view=view.clone()/>
        <p class="summary" aria-live="polite">{summary}</p>
        // `try_get` here and below: under load a server render can reach these after the
        // page's owner was disposed (leptos #3595); `get` then panicked and the page was a 500.
        // Busy only in the browser: the server's Transition is given no `set_pending` (above).
        <div class="table-wrap" aria-busy=move || (cfg!(feature = "hydrate") && pending.try_get().unwrap_or_default()).to_string()>
            {if total == 0 {
                EitherOf3::A(view! {
                    <div class="empty">
                        <h2>"No platforms yet"</h2>
                        <p>"Add the first integration your team uses — a social network, a payment provider, an email service."</p>
                        {viewer().is_admin().then(|| view! { <A href="/platforms/new" attr:class="button primary">"Add your first platform"</A> })}
                    </div>
                })
            } else if shown == 0 {
                let what = if view.search.is_some() { "your search" } else { "these filters" };
                EitherOf3::B(view! {
                    <div class="empty">
                        <h2>{format!("No platforms match {what}")}</h2>
                        <p><A href="/platforms">"Clear search and filters"</A></p>
                    </div>
                })
            } else {
                EitherOf3::C(view! { <PlatformTable platforms=list.platforms/> })
            }}
        </div>
        {pager}
    }
}

/// The search box, the filters and the order. A plain GET form, so it works without the
/// WASM bundle; once hydrated, choosing an option applies it at once and Enter in the
/// search box searches, from the first page, with a URL that names only what is set.
#[component]
fn FilterBar(counts: FacetCounts, view: PlatformQuery) -> impl IntoView {
    let navigate = use_navigate();
    let filter = view.filter;
    let current = view.clone();
    let apply = move |form_field: &'static str, value: String| {
        let mut next = PlatformQuery { cursor: None, ..current.clone() };
        match form_field {
            "category" => next.filter.category = value.parse().ok(),
            "status" => next.filter.status = value.parse().ok(),
            "sort" => next.sort = value.parse().unwrap_or_else(|_| current.default_sort()),
            "q" => next = current.searching(Some(value.trim().to_owned()).filter(|q| !q.is_empty())),
            _ => next.filter.encryption = value.parse().ok(),
        }
        navigate(&href(&next, None), Default::default());
    };
    let on = move |name: &'static str| {
        let apply = apply.clone();
        Callback::new(move |value: String| apply(name, value))
    };
    let sort = on("sort");
    let search = on("q");
    let counted = counts.per_choice();
    let search_box = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        search.run(search_box.get().map(|input| input.value()).unwrap_or_default());
    };
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <form method="GET" action="/platforms" on:submit=submit>
            <div class="filters" role="search" aria-label="Search and filter platforms">
                <div class="field inline search">
                    <label for="platform-search">"Search"</label>
                    <input id="platform-search" type="search" name="q" node_ref=search_box value=view.search.clone().unwrap_or_default()
                        placeholder="Name or description" maxlength="100" autocomplete="off"/>
                </div>
                <FilterSelect label="Category" name="category" any="All categories" on_pick=on("category")
                    choices=choices(filter.category, counted.then_some(|c| counts.category(c)))/>
                <FilterSelect label="Status" name="status" any="All statuses" on_pick=on("status")
                    choices=choices(filter.status, counted.then_some(|s| counts.status(s)))/>
                <FilterSelect label="Encryption" name="encryption" any="Any encryption state" on_pick=on("encryption")
                    choices=choices(filter.encryption, counted.then_some(|e| counts.encryption(e)))/>
                <div class="field inline">
                    <label for="sort">"Sort by"</label>
                    <select id="sort" name="sort" on:change=move |ev| sort.run(event_target_value(&ev))>
                        {PlatformSort::ALL.iter().map(|&s| view! { <option value=s.as_str() selected=s == view.sort>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                {(view.limit != crate::domain::PAGE_DEFAULT).then(|| view! { <input type="hidden" name="limit" value=view.limit.to_string()/> })}
                <button type="submit" class="button" hidden=move || hydrated.try_get().unwrap_or_default()>"Apply"</button>
                {view.narrows().then(|| view! { <A href="/platforms" attr:class="clear-filters">"Clear search and filters"</A> })}
            </div>
        </form>
    }
}

/// `(wire name, "Label (count)", selected)` for every value of a filter; without counts
/// (a search), the label alone.
fn choices<T: Choice>(selected: Option<T>, count: Option<impl Fn(T) -> i64>) -> Vec<(&'static str, String, bool)> {
    let label = |c: T| match &count {
        Some(count) => format!("{} ({})", c.text(), count(c)),
        None => c.text().to_owned(),
    };
    T::all().iter().map(|&c| (c.wire(), label(c), selected == Some(c))).collect()
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
                        // A plain link, not the router's `A` (which builds a resolved-path memo
                        // and an active-state check for each of the 50): the router still
                        // follows a click on it in the browser.
                        view! {
                            <tr>
                                <th scope="row">
                                    <div class="name-cell">
                                        <PlatformIcon name=p.name.clone() icon_url=p.icon_url.clone()/>
                                        <div>
                                            <a href=href>{p.name}</a>
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
