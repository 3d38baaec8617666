//! `/calendar`: a month (`?month=YYYY-MM`) or a week (`?week=YYYY-MM-DD`) of posts, each on
//! the day of the reader's time zone when it goes out (or went out), with the posts list's
//! filters in the URL.

use crate::{
    domain::{calendar::{self, Period}, Post, PostState},
    server_fns::posts::{calendar_month, MonthView, ReschedulePost},
    ui::components::{error_view::{ErrorView, FormAlert}, notice::Notice},
    ui::pages::posts::PostFilters,
};
use chrono::Datelike;
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

#[component]
pub fn CalendarPage() -> impl IntoView {
    let query = use_query_map();
    let reschedule = ServerAction::<ReschedulePost>::new();
    let data = resource(
        move || {
            let q = query.read();
            (q.get("month"), q.get("week"), q.get("platform"), q.get("status"), reschedule.version().get())
        },
        |(month, week, platform, status, _)| calendar_month(month, week, platform, status),
    );
    let moved_error = Signal::derive(move || reschedule.value().get().and_then(Result::err));
    view! {
        <Title text="Calendar"/>
        <div class="page-header"><div>
            <h1>"Calendar"</h1>
            <p class="lede">"Scheduled, published and failed posts, on the day they go out in your time zone."</p>
        </div></div>
        <Notice/>
        <FormAlert error=moved_error/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the month…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(month) => view! { <Month month reschedule/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Month(month: MonthView, reschedule: ServerAction<ReschedulePost>) -> impl IntoView {
    let query = use_query_map();
    // The reader's offset: UTC on the server, the browser's once the app runs.
    let tz_offset = RwSignal::new(0i32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| tz_offset.set(js_sys::Date::new_0().get_timezone_offset() as i32));
    let MonthView { period, posts, truncated, targets } = month;
    let (before, after) = period.neighbours();
    // A view's URL: the other filters kept, the month or the week replaced.
    let link = move |to: Period| {
        let mut q = query.with_untracked(|q| q.clone());
        q.remove("month");
        q.remove("week");
        match to {
            Period::Month(first) => q.replace("month", first.format("%Y-%m").to_string()),
            Period::Week(monday) => q.replace("week", monday.format("%Y-%m-%d").to_string()),
        }
        format!("/calendar{}", q.to_query_string())
    };
    let (title, other, other_label) = match period {
        Period::Month(first) => (first.format("%B %Y").to_string(), Period::Week(calendar::monday_of(first)), "Week view"),
        Period::Week(monday) => (format!("Week of {}", monday.format("%-d %B %Y")), Period::Month(monday.with_day(1).unwrap_or(monday)), "Month view"),
    };
    let weeks = move || {
        let offset = tz_offset.get();
        let days = period.days();
        days.chunks(7)
            .map(|week| {
                let cells = week
                    .iter()
                    .map(|&day| {
                        let mut on_day: Vec<&Post> = posts.iter().filter(|p| calendar::local_day(when(p), offset) == day).collect();
                        on_day.sort_by_key(|p| when(p));
                        let outside = !period.holds(day);
                        // A scheduled post dropped here goes out this day at its time of day.
                        let drop = move |ev: leptos::ev::DragEvent| {
                            ev.prevent_default();
                            #[cfg(feature = "hydrate")]
                            if let Some(id) = ev.data_transfer().and_then(|d| d.get_data("text/plain").ok()).filter(|id| !id.is_empty()) {
                                reschedule.dispatch(ReschedulePost { id, day: day.format("%Y-%m-%d").to_string(), tz_offset: offset });
                            }
                            #[cfg(not(feature = "hydrate"))]
                            let _ = reschedule;
                        };
                        view! {
                            <td class="day" class:outside=outside aria-label=day.format("%A %-d %B").to_string()
                                on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=drop>
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
            <A href=link(before) attr:class="button">"← " {label_of(before)}</A>
            <h2>{title.clone()}</h2>
            <A href=link(other) attr:class="button">{other_label}</A>
            <A href=link(after) attr:class="button">{label_of(after)} " →"</A>
        </div>
    }
    .into_any();
    let table = view! {
        <table class="calendar" class:week=matches!(period, Period::Week(_))>
            <caption class="sr-only">{format!("Posts in {title}")}</caption>
            <thead><tr>{["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map(|d| view! { <th scope="col">{d}</th> })}</tr></thead>
            <tbody>{weeks}</tbody>
        </table>
    }
    .into_any();
    let more = truncated.then(|| view! { <p class="notice info" role="note">{format!("More than {} posts match: the newest are shown. Narrow the filters.", crate::server_fns::posts::CALENDAR_MAX)}</p> });
    view! {
        <PostFilters targets period=period/>
        {more}
        {nav}
        {table}
    }
}

/// A neighbouring view's name on its link: the month's, or the week's first day.
fn label_of(period: Period) -> String {
    match period {
        Period::Month(first) => first.format("%B").to_string(),
        Period::Week(monday) => format!("Week of {}", monday.format("%-d %b")),
    }
}

/// When a post goes (or went) out: its schedule, else when it was written.
fn when(post: &Post) -> chrono::DateTime<chrono::Utc> {
    post.scheduled_at.unwrap_or(post.created_at)
}

#[component]
fn CalendarEntry(post: Post, tz_offset: i32) -> impl IntoView {
    let local = calendar::local_time(when(&post), tz_offset);
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
    // Only a scheduled post that has not started can move: it is dragged by its id.
    let movable = post.state == PostState::Scheduled;
    let id = post.id.to_string();
    let drag = move |ev: leptos::ev::DragEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(d) = ev.data_transfer() {
            let _ = d.set_data("text/plain", &id);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &id);
    };
    view! {
        <li class="calendar-entry" class:movable=movable draggable=if movable { "true" } else { "false" } on:dragstart=drag
            title=if movable { "Drag to another day to move it" } else { "" }>
            {match post.editable() {
                true => view! { <A href=format!("/posts/{}/edit", post.id)>{text}</A> }.into_any(),
                false => view! { <span>{text}</span> }.into_any(),
            }}
            " " <span class=format!("badge {class}")>{label}</span>
        </li>
    }
}
