//! Server functions of the posts page: compose, edit, cancel, retry, and the list.

use crate::domain::{AppError, Post, PostForm, PublishTarget};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The posts page's data: the posts matching the filters and where a post can go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostsPage {
    pub posts: Vec<Post>,
    pub targets: Vec<PublishTarget>,
}

#[server]
pub async fn list_posts(status: Option<String>, platform: Option<String>, day: Option<String>) -> Result<PostsPage, AppError> {
    use crate::{domain::{DeliveryStatus, FieldErrors, PostFilter, Role}, server::{auth::require, error::respond, publish, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        let state = app_state()?;
        let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let mut errors = FieldErrors::default();
        let filter = PostFilter {
            status: blank(status).and_then(|s| DeliveryStatus::parse(&s).or_else(|| { errors.add("status", format!("unknown delivery status \"{s}\"")); None })),
            platform: blank(platform).and_then(|p| p.parse().ok().or_else(|| { errors.add("platform", "is not a platform id"); None })),
            day: blank(day).and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok().or_else(|| { errors.add("day", "must be a date like 2026-12-24"); None })),
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid { fields: errors });
        }
        let (posts, targets) = tokio::try_join!(publish::list(&state, &filter), publish::targets(&state))?;
        Ok(PostsPage { posts, targets })
    })
    .await
}

#[server]
pub async fn create_post(form: PostForm) -> Result<Post, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, publish, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        publish::create(&app_state()?, &caller(), form).await
    })
    .await
}

#[server]
pub async fn update_post(id: String, form: PostForm) -> Result<Post, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, publish::{self, parse_id}, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        publish::update(&app_state()?, &caller(), parse_id(&id, "post")?, form).await
    })
    .await
}

#[server]
pub async fn cancel_post(id: String) -> Result<Post, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, publish::{self, parse_id}, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        publish::cancel(&app_state()?, &caller(), parse_id(&id, "post")?).await
    })
    .await
}

#[server]
pub async fn retry_delivery(id: String) -> Result<Post, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, publish::{self, parse_id}, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        publish::retry(&app_state()?, &caller(), parse_id(&id, "delivery")?).await
    })
    .await
}

/// One post and where it can go, for the edit page.
#[server]
pub async fn get_post(id: String) -> Result<(Post, Vec<PublishTarget>), AppError> {
    use crate::{domain::Role, server::{auth::require, error::respond, publish::{self, parse_id}, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        let state = app_state()?;
        let id = parse_id(&id, "post")?;
        Ok((publish::get(&state, id).await?, publish::targets(&state).await?))
    })
    .await
}
