//! The posts API for QA and automation: `GET/POST /api/posts`, `GET/PATCH/DELETE
//! /api/posts/{id}`, `POST /api/posts/{id}/deliveries/{delivery}/retry`. It goes through
//! the same service as the composer (`publish`), so the same rules and the same errors
//! apply; a marketer's token changes only that marketer's posts.

use super::{openapi::{self, ErrorBody}, parse_body, read_json_object, ApiError, ApiResult, Member};
use crate::{
    domain::{parse_id, AccountText, AppError, FieldErrors, MediaPick, Post, PostFilter, PostForm},
    server::{publish, state::AppState},
};
use axum::{
    body::Body,
    extract::{rejection::QueryRejection, Path, Query, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// A page of posts by default, and at most.
pub const PAGE: i64 = 50;
pub const PAGE_MAX: i64 = 200;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(show, update, cancel)).routes(routes!(retry))
}

/// The list's filters; an empty value is no filter (what a filter form sends).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[param(schema_with = openapi::or_empty::<crate::domain::PostState>)]
    status: Option<String>,
    /// Posts with a delivery to this platform (its id).
    #[param(schema_with = openapi::uuid_or_empty)]
    platform: Option<String>,
    /// Posts with a delivery to this account (its id).
    #[param(schema_with = openapi::uuid_or_empty)]
    account: Option<String>,
    /// Posts whose time (scheduled, else created) is at or after this instant (RFC 3339)…
    #[param(schema_with = openapi::time_or_empty)]
    from: Option<String>,
    /// …and before this one.
    #[param(schema_with = openapi::time_or_empty)]
    to: Option<String>,
    /// How many on a page: 1 to 200, 50 when not given.
    #[param(schema_with = limit_or_empty)]
    limit: Option<String>,
    /// The `next_cursor` of the page before; opaque.
    cursor: Option<String>,
}

fn limit_or_empty() -> utoipa::openapi::schema::Schema {
    openapi::or_empty_schema(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Integer).minimum(Some(1)).maximum(Some(PAGE_MAX as f64)))
}

/// A page of posts, and where the next one starts (`null` on the last page).
#[derive(Serialize, ToSchema)]
struct PostPage {
    posts: Vec<Post>,
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct PostBody {
    post: Post,
}

/// Posts, newest first, a page at a time.
#[utoipa::path(get, operation_id = "list_posts", path = "/posts", tag = "posts", params(ListQuery), responses((status = 200, description = "A page of posts", body = PostPage)))]
async fn list(_: Member, State(state): State<AppState>, query: Result<Query<ListQuery>, QueryRejection>) -> ApiResult<Json<PostPage>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let mut errors = FieldErrors::default();
    let mut filter = PostFilter::parse(q.status.as_deref(), q.platform.as_deref(), None).unwrap_or_else(|fields| {
        errors.0.extend(fields.0);
        PostFilter::default()
    });
    filter.account = given(&q.account).and_then(|a| a.parse().map_err(|_| errors.add("account", "is not an account id")).ok());
    filter.from = given(&q.from).and_then(|t| instant(&mut errors, "from", t));
    filter.to = given(&q.to).and_then(|t| instant(&mut errors, "to", t));
    let limit = match given(&q.limit).map(str::parse::<i64>) {
        None => PAGE,
        Some(Ok(n)) if (1..=PAGE_MAX).contains(&n) => n,
        Some(_) => {
            errors.add("limit", format!("must be a whole number from 1 to {PAGE_MAX}"));
            PAGE
        }
    };
    let before = given(&q.cursor).and_then(|c| c.parse::<Uuid>().map_err(|_| errors.add("cursor", "is not a cursor this API gave")).ok());
    errors.into_result(()).map_err(|fields| ApiError::new(StatusCode::BAD_REQUEST, fields.into()))?;
    let posts = publish::page(&state, &filter, before, limit).await?;
    let next_cursor = (posts.len() as i64 == limit).then(|| posts.last().map(|p| p.id.to_string())).flatten();
    Ok(Json(PostPage { posts, next_cursor }))
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn instant(errors: &mut FieldErrors, field: &str, text: &str) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc));
    parsed.map_err(|_| errors.add(field, "must be a time like 2026-12-24T09:30:00Z")).ok()
}

/// What a post is made of in the API: the composer's fields, with `scheduled_at` an
/// instant instead of a local time.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostInput {
    text: String,
    #[serde(default)]
    link: Option<String>,
    /// The accounts it goes to (their ids).
    accounts: Vec<String>,
    /// An account's own text instead of `text`, by account id.
    #[serde(default)]
    texts: std::collections::BTreeMap<String, String>,
    /// `now`, `schedule` (with `scheduled_at`), `queue` (the accounts' next free posting
    /// slot) or `draft`.
    #[schema(example = "schedule")]
    action: String,
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    scheduled_at: Option<String>,
    /// Uploaded files (`POST /api/media`) in order: `[{"id": …, "alt": …}]`.
    #[serde(default)]
    media: Vec<MediaPick>,
}

impl PostInput {
    /// The composer's form for this input (schedules to the minute, as the composer does).
    fn into_form(self) -> ApiResult<PostForm> {
        let mut errors = FieldErrors::default();
        let at = self.scheduled_at.as_deref().map(str::trim).filter(|t| !t.is_empty()).and_then(|t| instant(&mut errors, "scheduled_at", t));
        errors.into_result(()).map_err(|fields| ApiError::new(StatusCode::BAD_REQUEST, fields.into()))?;
        if self.action == "schedule" && at.is_none() {
            return Err(AppError::invalid("scheduled_at", "is required to schedule: a time like 2026-12-24T09:30:00Z").into());
        }
        Ok(PostForm {
            text: self.text,
            link: self.link.unwrap_or_default(),
            accounts: self.accounts,
            action: self.action,
            scheduled_local: at.map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default(),
            tz_offset: 0,
            texts: self.texts.into_iter().map(|(account, text)| AccountText { account, text }).collect(),
            media: self.media,
        })
    }

    /// The stored post as input, for a PATCH to change some of its fields.
    fn of(post: &Post) -> Map<String, Value> {
        let form = post.as_form();
        let at = post.scheduled_at.map(|t| t.to_rfc3339());
        let texts: Map<String, Value> = form.texts.into_iter().map(|t| (t.account, Value::String(t.text))).collect();
        let input = json!({ "text": form.text, "link": post.link, "accounts": form.accounts, "texts": texts, "action": form.action, "scheduled_at": at, "media": form.media });
        input.as_object().cloned().unwrap_or_default()
    }
}

/// The composer's errors in the API's words: its local time is the API's `scheduled_at`.
fn in_api_terms(error: AppError) -> ApiError {
    match error {
        AppError::Invalid { mut fields } => {
            fields.0.iter_mut().filter(|f| f.field == "scheduled_local").for_each(|f| f.field = "scheduled_at".into());
            AppError::Invalid { fields }.into()
        }
        other => other.into(),
    }
}

fn post_json(post: Post) -> Json<PostBody> {
    Json(PostBody { post })
}

fn post_id(id: &str) -> ApiResult<Uuid> {
    parse_id(id, "post").map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error))
}

/// Writes a post: sent now, scheduled, queued or kept as a draft. The same rules as the
/// composer: each account's text within its provider's limit, files the providers take.
#[utoipa::path(post, operation_id = "create_post", path = "/posts", tag = "posts", request_body = PostInput, responses((status = 201, description = "Created", body = PostBody, links(("show_post" = (operation_id = "show_post", parameters(("id" = "$response.body#/post/id")))), ("update_post" = (operation_id = "update_post", parameters(("id" = "$response.body#/post/id")))), ("cancel_post" = (operation_id = "cancel_post", parameters(("id" = "$response.body#/post/id"))))))))]
async fn create(Member(_, caller): Member, State(state): State<AppState>, headers: HeaderMap, body: Body) -> ApiResult<(StatusCode, Json<PostBody>)> {
    let input: PostInput = parse_body(read_json_object(&headers, body).await?)?;
    let post = publish::create(&state, &caller, input.into_form()?).await.map_err(in_api_terms)?;
    Ok((StatusCode::CREATED, post_json(post)))
}

/// One post with its deliveries.
#[utoipa::path(get, operation_id = "show_post", path = "/posts/{id}", tag = "posts", params(("id" = Uuid, Path, description = "The post's id")), responses((status = 200, description = "The post", body = PostBody)))]
async fn show(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<PostBody>> {
    Ok(post_json(publish::get(&state, post_id(&id)?).await?))
}

/// Changes the fields sent of a draft or a scheduled post that has not started; the
/// result is checked as a new post would be.
#[utoipa::path(patch, operation_id = "update_post", path = "/posts/{id}", tag = "posts", params(("id" = Uuid, Path, description = "The post's id")), request_body = PostInput, responses(
    (status = 200, description = "The post as changed", body = PostBody),
    (status = 403, description = "Only its author or an admin may change it", body = ErrorBody),
    (status = 409, description = "It has started: it can no longer be changed", body = ErrorBody),
))]
async fn update(Member(_, caller): Member, State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, body: Body) -> ApiResult<Json<PostBody>> {
    let id = post_id(&id)?;
    let patch = read_json_object(&headers, body).await?;
    let mut merged = PostInput::of(&publish::get(&state, id).await?);
    merged.extend(patch);
    let input: PostInput = parse_body(merged)?;
    Ok(post_json(publish::update(&state, &caller, id, input.into_form()?).await.map_err(in_api_terms)?))
}

/// Cancels a draft or a scheduled post that has not started: 204. It stays in the
/// history, cancelled; one that started is a 409.
#[utoipa::path(delete, operation_id = "cancel_post", path = "/posts/{id}", tag = "posts", params(("id" = Uuid, Path, description = "The post's id")), responses(
    (status = 204, description = "Cancelled"),
    (status = 409, description = "It has started: it can no longer be cancelled", body = ErrorBody),
))]
async fn cancel(Member(_, caller): Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    publish::cancel(&state, &caller, post_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct RetryInput {
    /// For an unconfirmed delivery: the person checked that the post is not there.
    #[serde(default)]
    confirm: bool,
}

/// Queues a failed or unconfirmed delivery of the post again. The body is optional.
#[utoipa::path(post, operation_id = "retry_delivery", path = "/posts/{id}/deliveries/{delivery}/retry", tag = "posts", params(
    ("id" = Uuid, Path, description = "The post's id"),
    ("delivery" = Uuid, Path, description = "The delivery's id"),
), request_body = Option<RetryInput>, responses(
    (status = 200, description = "Queued again", body = PostBody),
    (status = 409, description = "The delivery is not failed or unconfirmed, or an unconfirmed one was not confirmed", body = ErrorBody),
))]
async fn retry(Member(_, caller): Member, State(state): State<AppState>, Path((id, delivery)): Path<(String, String)>, headers: HeaderMap, body: Body) -> ApiResult<Json<PostBody>> {
    let id = post_id(&id)?;
    let delivery = parse_id(&delivery, "delivery").map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error))?;
    if !publish::get(&state, id).await?.deliveries.iter().any(|d| d.id == delivery) {
        return Err(AppError::not_found(format!("delivery {delivery} of post {id}")).into());
    }
    let input: RetryInput = match headers.contains_key(axum::http::header::CONTENT_TYPE) {
        true => parse_body(read_json_object(&headers, body).await?)?,
        false => RetryInput::default(),
    };
    Ok(post_json(publish::retry(&state, &caller, delivery, input.confirm).await?))
}
