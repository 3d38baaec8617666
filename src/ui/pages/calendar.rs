//! `/calendar`: a month of posts, each on the day of the reader's time zone when it goes
//! out (or went out), with the posts list's filters and the month in the URL.

use crate::{
    domain::{calendar, Post, PostState},
    server_fns::posts::{calendar_month, MonthView},
    ui::components::{error_view::ErrorView, notice::Notice},
    ui::pages::posts::PostFilters,
};
use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

#[component]
pub fn CalendarPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("month"), q.get("platform"), q.get("status"))
        },
        |(month, platform, status)| calendar_month(month, platform, status),
    );
    view! {
        <Title text="Calendar"/>
        <div class="page-header"><div>
            <h1>"Calendar"</h1>
            <p class="lede">"Scheduled, published and failed posts, on the day they go out in your time zone."</p>
        </div></div>
        <Notice/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the month…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(month) => view! { <Month month/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Month(month: MonthView) -> impl IntoView {
    let query = use_query_map();
    // The reader's offset: UTC on the server, the browser's once the app runs.
    let tz_offset = RwSignal::new(0i32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| tz_offset.set(js_sys::Date::new_0().get_timezone_offset() as i32));
    let MonthView { first, posts, truncated, targets } = month;
    let (before, after) = calendar::neighbours(first);
    let link = move |to: NaiveDate| {
        let mut q = query.with_untracked(|q| q.clone());
        q.replace("month", to.format("%Y-%m").to_string());
        format!("/calendar{}", q.to_query_string())
    };
    let title = first.format("%B %Y").to_string();
    let weeks = move || {
        let offset = tz_offset.get();
        let days = calendar::grid(first);
        days.chunks(7)
            .map(|week| {
                let cells = week
                    .iter()
                    .map(|&day| {
                        let mut on_day: Vec<&Post> = posts.iter().filter(|p| calendar::local_day(when(p), offset) == day).collect();
                        on_day.sort_by_key(|p| when(p));
                        let outside = day.month() != first.month();
                        view! {
                            <td class="day" class:outside=outside aria-label=day.format("%A %-d %B").to_string()>
                                <span class="day-number">{day.day()}</span>
                                <ul class="day-posts">{on_day.into_iter().map(|p| view! { <CalendarEntry post=p.clone() tz_offset=offset/> }).collect_view()}</ul>
                            </td>
                        }
                        .into_any()
                    })
                    .collect_view();
                view! { <tr>{cells}</tr> }.into_any()
            })
            .collect_view()
            .into_any()
    };
    // Erased into AnyView piece by piece: the whole tree as one type is too deep for rustc.
    let nav = view! {
        <div class="calendar-nav">
            <A href=link(before) attr:class="button">"← " {before.format("%B").to_string()}</A>
            <h2>{title.clone()}</h2>
            <A href=link(after) attr:class="button">{after.format("%B").to_string()} " →"</A>
        </div>
    }
    .into_any();
    let table = view! {
        <table class="calendar">
            <caption class="sr-only">{format!("Posts in {title}")}</caption>
            <thead><tr>{["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map(|d| view! { <th scope="col">{d}</th> })}</tr></thead>
            <tbody>{weeks}</tbody>
        </table>
    }
    .into_any();
    let more = truncated.then(|| view! { <p class="notice info" role="note">{format!("More than {} posts match: the newest are shown. Narrow the filters.", crate::server_fns::posts::CALENDAR_MAX)}</p> });
    view! {
        <PostFilters targets month=true/>
        {more}
        {nav}
        {table}
    }
}

/// When a post goes (or went) out: its schedule, else when it was written.
fn when(post: &Post) -> chrono::DateTime<chrono::Utc> {
    post.scheduled_at.unwrap_or(post.created_at)
}

#[component]
fn CalendarEntry(post: Post, tz_offset: i32) -> impl IntoView {
    let local = when(&post) - chrono::Duration::minutes(i64::from(tz_offset.clamp(-18 * 60, 18 * 60)));
    let failed = post.deliveries.iter().any(|d| matches!(d.status, crate::domain::DeliveryStatus::Failed | crate::domain::DeliveryStatus::Unconfirmed));
    let (label, class) = match post.state {
        _ if failed => ("failed", "status-error"),
        PostState::Draft => ("draft", "status-inactive"),
        PostState::Scheduled => ("scheduled", "status-pending"),
        PostState::Sent => ("sent", "status-active"),
        PostState::Cancelled => ("cancelled", "status-inactive"),
    };
    let snippet: String = post.text.chars().take(60).collect();
    let text = format!("{} {snippet}", local.format("%H:%M"));
    view! {
        <li class="calendar-entry">
            {match post.editable() {
                true => view! { <A href=format!("/posts/{}/edit", post.id)>{text}</A> }.into_any(),
                false => view! { <span>{text}</span> }.into_any(),
            }}
            " " <span class=format!("badge {class}")>{label}</span>
        </li>
    }
}
