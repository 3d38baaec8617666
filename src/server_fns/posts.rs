//! Server functions of the posts page: compose, edit, cancel, retry, and the list.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, Post, PostForm, PublishTarget};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The posts page's list: the posts matching the filters, and the accounts to filter by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostsPage {
    pub posts: Vec<Post>,
    pub targets: Vec<PublishTarget>,
}

#[server]
pub async fn list_posts(status: Option<String>, platform: Option<String>, day: Option<String>) -> Result<PostsPage, AppError> {
    guarded(Role::Marketer, |cx| async move {
        let filter = crate::domain::PostFilter::parse(status.as_deref(), platform.as_deref(), day.as_deref())?;
        let (posts, targets) = tokio::try_join!(publish::list(&cx.state, &filter), publish::targets(&cx.state))?;
        Ok(PostsPage { posts, targets })
    })
    .await
}

/// Where a new post can go: the composer's own data, loaded once, so the list's refreshes
/// (every few seconds while deliveries move) never rebuild what a person is writing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostChoices {
    pub targets: Vec<PublishTarget>,
    /// Connected accounts a post cannot go to, each with why (a connect-only provider).
    pub connect_only: Vec<String>,
}

#[server]
pub async fn compose_choices() -> Result<PostChoices, AppError> {
    guarded(Role::Marketer, |cx| async move {
        let (targets, connect_only) = publish::choices(&cx.state).await?;
        Ok(PostChoices { targets, connect_only })
    })
    .await
}

#[server]
pub async fn create_post(form: PostForm) -> Result<Post, AppError> {
    guarded(Role::Marketer, |cx| async move { publish::create(&cx.state, &cx.caller, form).await }).await
}

#[server]
pub async fn update_post(id: String, form: PostForm) -> Result<Post, AppError> {
    guarded(Role::Marketer, |cx| async move { publish::update(&cx.state, &cx.caller, parse_id(&id, "post")?, form).await }).await
}

#[server]
pub async fn cancel_post(id: String) -> Result<Post, AppError> {
    guarded(Role::Marketer, |cx| async move { publish::cancel(&cx.state, &cx.caller, parse_id(&id, "post")?).await }).await
}

/// `confirm` ("true", a checkbox) is needed for an unconfirmed delivery.
#[server]
pub async fn retry_delivery(id: String, confirm: Option<String>) -> Result<Post, AppError> {
    let confirmed = confirm.as_deref() == Some("true");
    guarded(Role::Marketer, |cx| async move { publish::retry(&cx.state, &cx.caller, parse_id(&id, "delivery")?, confirmed).await }).await
}

/// The posts calendar's month or week: the posts whose time (scheduled, else created) falls
/// on a day it shows — with a day either side, for the person's time zone — matching the filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthView {
    /// The month or the week shown.
    pub period: crate::domain::calendar::Period,
    pub posts: Vec<Post>,
    /// More posts than [`CALENDAR_MAX`] matched: the view shows the newest.
    pub truncated: bool,
    pub targets: Vec<PublishTarget>,
}

/// The most posts a month view shows.
pub const CALENDAR_MAX: usize = 2000;

#[server]
pub async fn calendar_month(month: Option<String>, week: Option<String>, platform: Option<String>, status: Option<String>) -> Result<MonthView, AppError> {
    guarded(Role::Marketer, |cx| async move {
        use crate::domain::calendar::Period;
        let period = Period::parse(month.as_deref(), week.as_deref(), chrono::Utc::now().date_naive())?;
        let mut filter = crate::domain::PostFilter::parse(status.as_deref(), platform.as_deref(), None)?;
        let days = period.days();
        let midnight = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
        // Every day shown, and one more either side for the person's time zone.
        filter.from = days.first().and_then(|d| midnight(*d).checked_sub_signed(chrono::Duration::days(1)));
        filter.to = days.last().and_then(|d| midnight(*d).checked_add_signed(chrono::Duration::days(2)));
        let (mut posts, targets) = tokio::try_join!(publish::page(&cx.state, &filter, None, CALENDAR_MAX as i64 + 1), publish::targets(&cx.state))?;
        let truncated = posts.len() > CALENDAR_MAX;
        posts.truncate(CALENDAR_MAX);
        Ok(MonthView { period, posts, truncated, targets })
    })
    .await
}

/// The calendar's drag: the post goes out on `day` (`YYYY-MM-DD` of the person's calendar,
/// `tz_offset` minutes behind UTC) at the same time of day.
#[server]
pub async fn reschedule_post(id: String, day: String, tz_offset: i32) -> Result<Post, AppError> {
    guarded(Role::Marketer, |cx| async move {
        let id = parse_id(&id, "post")?;
        let day = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").map_err(|_| AppError::invalid("day", "must be a date like 2026-12-24"))?;
        let post = publish::get(&cx.state, id).await?;
        let at = post.scheduled_at.and_then(|at| crate::domain::calendar::moved(at, day, tz_offset));
        let at = at.ok_or_else(|| AppError::Conflict { fields: crate::domain::FieldErrors::single("post", "only a scheduled post that has not started can move") })?;
        publish::reschedule(&cx.state, &cx.caller, id, at).await
    })
    .await
}

/// One post and where it can go, for the edit page.
#[server]
pub async fn get_post(id: String) -> Result<(Post, Vec<PublishTarget>), AppError> {
    guarded(Role::Marketer, |cx| async move {
        let id = parse_id(&id, "post")?;
        Ok((publish::get(&cx.state, id).await?, publish::targets(&cx.state).await?))
    })
    .await
}
