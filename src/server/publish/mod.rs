//! Posts and publishing: composing (drafts, now, scheduled), the durable delivery queue
//! and its worker, and one publisher per provider. docs/publishing.md has the guarantees.

pub mod boards;
pub mod pacing;
pub mod publishers;
pub mod worker;

use super::{
    audit::{self, Action, Outcome, Target, TargetKind},
    auth::Caller,
    oauth::catalog,
    state::AppState,
    store::{self, posts::{NewDelivery, PostWrite}},
};
use crate::domain::{AppError, DeliveryStatus, FieldErrors, Post, PostAction, PostFilter, PostForm, PostState, PublishTarget};
use chrono::Utc;
use uuid::Uuid;

/// Accounts a post can go to: connected, under OAuth platforms that are not switched off
/// and whose provider has a publisher.
pub async fn targets(state: &AppState) -> Result<Vec<PublishTarget>, AppError> {
    Ok(choices(state).await?.0)
}

/// The composer's choices: the accounts a post can go to, and for each connected account
/// it cannot go to (a connect-only provider) a sentence saying why.
pub async fn choices(state: &AppState) -> Result<(Vec<PublishTarget>, Vec<String>), AppError> {
    let (publishable, connect_only): (Vec<_>, Vec<_>) = store::accounts::publishable(&state.db).await?.into_iter().partition(|a| publishers::supports(a.provider));
    let skipped = connect_only
        .into_iter()
        .map(|a| {
            let why = catalog::get(a.provider).connect_only.clone().unwrap_or_default();
            let name = a.name.filter(|n| !n.is_empty()).unwrap_or_else(|| a.platform_name.clone());
            format!("{name} ({}): {why}", a.platform_name)
        })
        .collect();
    let web = &state.config.web;
    let reachable = web.reachable_from_internet();
    let targets = publishable
        .into_iter()
        .map(|a| {
            let media = catalog::get(a.provider).media.clone();
            let unreachable = (media.by_url && !reachable).then(|| {
                format!("{} fetches each file from Keyport at {}, which the internet cannot reach: set PUBLIC_URL to Keyport's public address, or the post will fail there", a.provider.label(), web.public_url)
            });
            let name = a.name.filter(|n| !n.is_empty()).unwrap_or_else(|| if a.external_id.is_empty() { a.platform_name.clone() } else { a.external_id.clone() });
            let missing = (a.provider == crate::domain::ProviderKey::Pinterest && a.destination.is_none())
                .then(|| format!("{name} ({}) has no board yet: choose one on its platform page, or save the post as a draft", a.platform_name));
            PublishTarget {
                account_id: a.account_id,
                platform_id: a.platform_id,
                platform_name: a.platform_name,
                name,
                avatar_url: a.avatar_url,
                provider: a.provider,
                char_limit: catalog::get(a.provider).char_limit,
                media,
                unreachable,
                missing,
            }
        })
        .collect();
    Ok((targets, skipped))
}

/// Checks a form against the accounts it names (connected, within their limits) and
/// turns it into what to store.
async fn prepare(state: &AppState, form: PostForm) -> Result<(crate::domain::ValidPost, PostState, Option<chrono::DateTime<Utc>>, Vec<NewDelivery>), AppError> {
    let post = form.validate(Utc::now())?;
    let targets = targets(state).await?;
    let mut errors = FieldErrors::default();
    let files = attached_files(state, &post.media, &mut errors).await?;
    let mut deliveries = Vec::new();
    for id in &post.accounts {
        match targets.iter().find(|t| t.account_id == *id) {
            None => errors.add("accounts", "one of the accounts is not connected (or cannot publish): connect it first"),
            Some(t) => {
                if let Some(why) = t.missing.as_ref().filter(|_| post.action != PostAction::Draft) {
                    errors.add("accounts", why.clone());
                }
                let own = post.texts.iter().find(|(a, _)| a == id).map(|(_, text)| text.clone());
                let length = crate::domain::char_count(t.provider, own.as_deref().unwrap_or(&post.text), post.link.as_deref());
                if let Some(limit) = t.char_limit.filter(|l| length > *l as usize) {
                    let field = own.as_ref().map_or_else(|| "text".to_owned(), |_| format!("texts.{id}"));
                    errors.add(&field, format!("is {length} characters with the link; {} ({}) takes at most {limit}", t.name, t.platform_name));
                }
                // Once per provider, however many of its accounts the post goes to.
                if let Some(problem) = crate::domain::media_problem(t.provider.label(), &t.media, &files).filter(|p| errors.0.iter().all(|e| &e.message != p)) {
                    errors.add("media", problem);
                }
                deliveries.push((t.platform_id, t.account_id, own));
            }
        }
    }
    errors.into_result(())?;
    let now = Utc::now();
    let scheduled = |at| (PostState::Scheduled, Some(at), DeliveryStatus::Queued, at);
    let (state_, scheduled_at, status, due) = match post.action {
        PostAction::Draft => (PostState::Draft, None, DeliveryStatus::Waiting, now),
        PostAction::Now => (PostState::Sent, None, DeliveryStatus::Queued, now),
        PostAction::Schedule(at) => scheduled(at),
        PostAction::Queue => scheduled(next_slot(state, &post.accounts, now).await?),
    };
    let deliveries = deliveries.into_iter().map(|(platform_id, account_id, text)| NewDelivery { text, platform_id, account_id, status, due_at: due }).collect();
    Ok((post, state_, scheduled_at, deliveries))
}

/// "Add to queue": the next posting slot of `accounts` that none of their queued posts holds.
async fn next_slot(state: &AppState, accounts: &[Uuid], now: chrono::DateTime<Utc>) -> Result<chrono::DateTime<Utc>, AppError> {
    let mut plans = Vec::new();
    for id in accounts {
        if let Some(slots) = store::accounts::get(&state.db, *id).await?.and_then(|row| row.account.slots) {
            plans.push(slots);
        }
    }
    if plans.is_empty() {
        return Err(AppError::invalid("action", "Add to queue needs posting slots: set them for the account on its platform page, or choose a time"));
    }
    let taken = store::posts::queued_times(&state.db, accounts).await?;
    super::slots::next_free(&plans, &taken, now).ok_or_else(|| {
        AppError::invalid("action", format!("every posting slot of the next {} days is taken: add slots on the platform page, or choose a time", super::slots::HORIZON_DAYS))
    })
}

/// The stored files a post attaches, in its order; a file no longer stored is an error.
async fn attached_files(state: &AppState, media: &[(Uuid, String)], errors: &mut FieldErrors) -> Result<Vec<crate::domain::Media>, AppError> {
    let ids: Vec<Uuid> = media.iter().map(|(id, _)| *id).collect();
    let stored = store::media::existing(&state.db, &ids).await?;
    let mut files = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match stored.iter().find(|m| m.id == *id) {
            Some(m) => files.push(m.clone()),
            None => errors.add("media", format!("file {} is not stored (any more): upload it again", i + 1)),
        }
    }
    Ok(files)
}

/// Saves a new post as a draft, for now, or for later.
pub async fn create(state: &AppState, caller: &Caller, form: PostForm) -> Result<Post, AppError> {
    let (post, post_state, scheduled_at, deliveries) = prepare(state, form).await?;
    let id = Uuid::now_v7();
    let write = PostWrite { id, text: &post.text, link: post.link.as_deref(), state: post_state, scheduled_at, deliveries: &deliveries, media: &post.media };
    store::posts::insert(&state.db, &write, &caller.actor(), caller.user.as_ref().map(|u| u.id)).await?;
    let detail = format!("{} to {} accounts", post_state.as_str(), deliveries.len());
    audit::record(&state.db, caller, Action::PostCreated, Some(Target::new(TargetKind::Post, id, "")), Outcome::Ok, Some(detail)).await;
    if post_state == PostState::Sent {
        state.publish_now.notify_one();
    }
    get(state, id).await
}

/// Changes a draft or a scheduled post that has not started.
pub async fn update(state: &AppState, caller: &Caller, id: Uuid, form: PostForm) -> Result<Post, AppError> {
    may_change(caller, &get(state, id).await?)?;
    let (post, post_state, scheduled_at, deliveries) = prepare(state, form).await?;
    let write = PostWrite { id, text: &post.text, link: post.link.as_deref(), state: post_state, scheduled_at, deliveries: &deliveries, media: &post.media };
    if !store::posts::replace_unsent(&state.db, &write).await? {
        return Err(too_late(state, id).await);
    }
    audit::record(&state.db, caller, Action::PostUpdated, Some(Target::new(TargetKind::Post, id, "")), Outcome::Ok, Some(post_state.as_str().to_owned())).await;
    if post_state == PostState::Sent {
        state.publish_now.notify_one();
    }
    get(state, id).await
}

/// Moves a scheduled post that has not started to `at` (the calendar's drag): everything
/// else stays, and the composer's rules apply (in the future, within the limits).
pub async fn reschedule(state: &AppState, caller: &Caller, id: Uuid, at: chrono::DateTime<Utc>) -> Result<Post, AppError> {
    let post = get(state, id).await?;
    if post.state != PostState::Scheduled {
        return Err(AppError::Conflict { fields: FieldErrors::single("post", "only a scheduled post that has not started can move") });
    }
    let form = PostForm { scheduled_local: at.format("%Y-%m-%dT%H:%M").to_string(), ..post.as_form() };
    update(state, caller, id, form).await
}

pub async fn cancel(state: &AppState, caller: &Caller, id: Uuid) -> Result<Post, AppError> {
    may_change(caller, &get(state, id).await?)?;
    if !store::posts::cancel_unsent(&state.db, id).await? {
        return Err(too_late(state, id).await);
    }
    audit::record(&state.db, caller, Action::PostCancelled, Some(Target::new(TargetKind::Post, id, "")), Outcome::Ok, None).await;
    get(state, id).await
}

/// A marketer may edit, cancel or retry only their own posts; an admin any (and a job, which
/// acts for the system).
fn may_change(caller: &Caller, post: &Post) -> Result<(), AppError> {
    match &caller.user {
        Some(user) if !post.changeable_by(user) => {
            Err(AppError::Forbidden { message: format!("this post is {}'s: only they or an admin may change it", post.created_by) })
        }
        _ => Ok(()),
    }
}

async fn too_late(state: &AppState, id: Uuid) -> AppError {
    match get(state, id).await {
        Err(e) => e,
        Ok(_) => AppError::Conflict { fields: FieldErrors::single("post", "has already started publishing (or was cancelled): it can no longer change") },
    }
}

/// Queues a failed or unconfirmed delivery again. An unconfirmed one may already be on the
/// platform, so it is queued only when the person `confirmed` they checked.
pub async fn retry(state: &AppState, caller: &Caller, delivery_id: Uuid, confirmed: bool) -> Result<Post, AppError> {
    let post_id = store::posts::post_of_delivery(&state.db, delivery_id).await?.ok_or_else(|| AppError::not_found(format!("delivery {delivery_id}")))?;
    let post = get(state, post_id).await?;
    may_change(caller, &post)?;
    let unconfirmed = post.deliveries.iter().any(|d| d.id == delivery_id && d.status == DeliveryStatus::Unconfirmed);
    if unconfirmed && !confirmed {
        return Err(AppError::Conflict { fields: FieldErrors::single("confirm", "this delivery may already have been published: check the platform, then confirm the retry") });
    }
    if !store::posts::requeue(&state.db, delivery_id).await? {
        return Err(AppError::Conflict { fields: FieldErrors::single("delivery", "is not failed or unconfirmed (it may already be retrying)") });
    }
    audit::record(&state.db, caller, Action::DeliveryRetried, Some(Target::new(TargetKind::Delivery, delivery_id, "")), Outcome::Ok, None).await;
    state.publish_now.notify_one();
    get(state, post_id).await
}

pub async fn get(state: &AppState, id: Uuid) -> Result<Post, AppError> {
    store::posts::get(&state.db, id).await?.ok_or_else(|| AppError::not_found(format!("post {id}")))
}

pub async fn list(state: &AppState, filter: &PostFilter) -> Result<Vec<Post>, AppError> {
    page(state, filter, None, 100).await
}

/// A page of [`list`]: at most `limit` posts older than the post `before`.
pub async fn page(state: &AppState, filter: &PostFilter, before: Option<Uuid>, limit: i64) -> Result<Vec<Post>, AppError> {
    Ok(store::posts::list(&state.db, filter, before, limit).await?)
}
