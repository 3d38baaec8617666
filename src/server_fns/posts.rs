//! Server functions of the posts page: compose, edit, cancel, retry, and the list.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, Post, PostForm, PublishTarget};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The posts page's data: the posts matching the filters and where a post can go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostsPage {
    pub posts: Vec<Post>,
    pub targets: Vec<PublishTarget>,
    /// Connected accounts a post cannot go to, each with why (a connect-only provider).
    pub connect_only: Vec<String>,
}

#[server]
pub async fn list_posts(status: Option<String>, platform: Option<String>, day: Option<String>) -> Result<PostsPage, AppError> {
    guarded(Role::Marketer, |cx| async move {
        let filter = crate::domain::PostFilter::parse(status.as_deref(), platform.as_deref(), day.as_deref())?;
        let (posts, (targets, connect_only)) = tokio::try_join!(publish::list(&cx.state, &filter), publish::choices(&cx.state))?;
        Ok(PostsPage { posts, targets, connect_only })
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

/// One post and where it can go, for the edit page.
#[server]
pub async fn get_post(id: String) -> Result<(Post, Vec<PublishTarget>), AppError> {
    guarded(Role::Marketer, |cx| async move {
        let id = parse_id(&id, "post")?;
        Ok((publish::get(&cx.state, id).await?, publish::targets(&cx.state).await?))
    })
    .await
}
