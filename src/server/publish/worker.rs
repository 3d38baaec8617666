//! The delivery worker inside every server: claims due deliveries, gets a usable token
//! through the token resolver, calls the publisher and records the outcome. Retries what
//! can be retried with backoff; an interrupted attempt is retried only where the provider
//! deduplicates by idempotency key, and reported as "unconfirmed" elsewhere.

use super::publishers::{self, PublishError, Published};
use crate::{
    domain::{DeliveryStatus, ProviderKey, SecretField},
    server::{
        audit::{self, Action, Outcome as Audited, Target, TargetKind},
        auth::Caller,
        clock,
        retry::backoff,
        oauth::{self, client::GrantError, tokens::TokenError},
        state::AppState,
        workers,
        store::{
            self,
            posts::{Claimed, Outcome},
        },
    },
};
use chrono::Utc;
use std::time::Duration;
use tracing::Instrument;

/// Deliveries claimed per round; they are sent concurrently.
const CLAIM: i64 = 16;

/// One round of the supervised loop (`server::workers`): waits for the poll interval, or
/// less when a post is sent, then delivers what is due.
pub async fn round(state: AppState) {
    let _ = tokio::time::timeout(state.config.publishing.poll_interval, state.publish_now.notified()).await;
    if process_due(&state).await == CLAIM as usize {
        state.publish_now.notify_one(); // a full claim: more is due, so the next round starts at once
    }
}

/// One round: recovers abandoned attempts, then claims and delivers what is due. Returns
/// how many deliveries it claimed.
pub async fn process_due(state: &AppState) -> usize {
    recover_abandoned(state).await;
    let lease = clock::from_now(state.config.oauth.http_timeout * 2 + Duration::from_secs(30));
    let claimed = match store::posts::claim(&state.db, CLAIM, lease).await {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim deliveries");
            return 0;
        }
    };
    let n = claimed.len();
    let mut running = tokio::task::JoinSet::new();
    for c in claimed {
        let state = state.clone();
        let span = tracing::info_span!("delivery", delivery.id = %c.id, platform.id = %c.platform_id, account.id = ?c.account_id, attempt = c.attempts);
        running.spawn(async move { deliver(&state, c).await }.instrument(span));
    }
    while let Some(done) = running.join_next().await {
        if let Err(e) = done {
            tracing::error!(error = %e, "a delivery task failed; its lease will expire and it will be recovered");
        }
    }
    n
}

/// Attempts a crashed worker left behind (still "publishing" after their lease).
async fn recover_abandoned(state: &AppState) {
    let Ok(abandoned) = store::posts::abandoned(&state.db).await else { return };
    for (id, attempt, provider) in abandoned {
        let idempotent = provider.is_some_and(publishers::idempotent);
        let outcome = if idempotent {
            Outcome { status: DeliveryStatus::Queued, provider_post_id: None, provider_url: None, error: Some("the previous attempt was interrupted; retrying with the same idempotency key"), due_at: Some(Utc::now()) }
        } else {
            Outcome {
                status: DeliveryStatus::Unconfirmed,
                provider_post_id: None,
                provider_url: None,
                error: Some("Keyport stopped while calling the provider: the post may have been published. Check the platform, and press Retry only if it is not there."),
                due_at: None,
            }
        };
        if matches!(store::posts::record(&state.db, id, attempt, &outcome).await, Ok(true)) {
            tracing::warn!(delivery.id = %id, idempotent, "recovered an interrupted delivery");
            let detail = if idempotent { "interrupted; requeued" } else { "interrupted; unconfirmed" };
            audit::record(&state.db, &Caller::job("publisher"), Action::DeliveryInterrupted, Some(Target::new(TargetKind::Delivery, id, "")), Audited::Failed, Some(detail.into())).await;
        }
    }
}

async fn deliver(state: &AppState, c: Claimed) {
    let caller = Caller::job("publisher");
    // The provider's link becomes an <a href>: only http(s), never javascript: and the like.
    let result = workers::survive(attempt(state, &caller, &c)).await.unwrap_or_else(|cause| {
        tracing::error!(%cause, "a delivery attempt panicked");
        Err(Failure::Unconfirmed)
    });
    let result = result.map(|p| Published { url: p.url.filter(|u| u.starts_with("https://") || u.starts_with("http://")), ..p });
    let max = state.config.publishing.max_attempts;
    // (status, the error shown on the post, when to retry, the audit entry's detail)
    let (status, error, due_at, detail) = match &result {
        Ok(p) => (DeliveryStatus::Published, None, None, format!("published as {}", p.id)),
        Err(Failure::Retry { message, retry_after }) if c.attempts < max => {
            let wait = backoff(state.config.publishing.retry_base, c.attempts, *retry_after);
            (
                DeliveryStatus::Queued,
                Some(format!("{message} — retrying automatically (attempt {} of {max})", c.attempts)),
                Some(clock::from_now(wait)),
                format!("attempt {} of {max}: {message}; retrying in {} s", c.attempts, wait.as_secs()),
            )
        }
        Err(Failure::Retry { message, .. }) => (
            DeliveryStatus::Failed,
            Some(format!("{message} — gave up after {max} attempts; press Retry to try again")),
            None,
            format!("gave up after {max} attempts: {message}"),
        ),
        Err(Failure::Final(message)) => (DeliveryStatus::Failed, Some(message.clone()), None, message.clone()),
        Err(Failure::Unconfirmed) => (DeliveryStatus::Unconfirmed, Some(PANICKED.to_owned()), None, "internal error during the attempt; unconfirmed".to_owned()),
    };
    let published = result.as_ref().ok();
    let outcome = Outcome {
        status,
        provider_post_id: published.map(|p| p.id.as_str()),
        provider_url: published.and_then(|p| p.url.as_deref()),
        error: error.as_deref(),
        due_at,
    };
    match store::posts::record(&state.db, c.id, c.attempts, &outcome).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!("the delivery changed hands during the attempt; its new owner records the outcome"),
        Err(e) => tracing::error!(error = %e, "cannot record a delivery outcome; it will be recovered after its lease"),
    }
    let (action, audited) = if published.is_some() { (Action::DeliveryPublished, Audited::Ok) } else { (Action::DeliveryFailed, Audited::Failed) };
    audit::record(&state.db, &caller, action, Some(Target::new(TargetKind::Delivery, c.id, "")), audited, Some(detail)).await;
}

/// The post's files with what the provider already holds of each from earlier attempts.
async fn outgoing(state: &AppState, post: &crate::domain::Post, delivery: uuid::Uuid) -> Result<Vec<publishers::Outgoing>, Failure> {
    if post.media.is_empty() {
        return Ok(Vec::new());
    }
    let held = store::media::uploaded(&state.db, delivery).await.map_err(|e| Failure::Retry { message: e.to_string(), retry_after: None })?;
    let mut files = Vec::with_capacity(post.media.len());
    for (i, attached) in post.media.iter().enumerate() {
        let bytes = crate::server::media::read(state, attached.media.id).await.map_err(|e| Failure::Retry { message: format!("reading file {} from storage: {e}", i + 1), retry_after: None })?;
        files.push(publishers::Outgoing {
            id: attached.media.id,
            media_type: attached.media.media_type,
            alt: attached.alt.clone(),
            bytes,
            dimensions: attached.media.width.zip(attached.media.height),
            uploaded: held.iter().find(|(m, _)| *m == attached.media.id).map(|(_, r)| r.clone()),
            link: crate::server::media::lend(state, attached.media.id),
        });
    }
    Ok(files)
}

/// Notes in the database what the provider holds of a delivery's files.
struct Remember {
    db: crate::server::db::Db,
    delivery: uuid::Uuid,
}

#[async_trait::async_trait]
impl publishers::Uploads for Remember {
    async fn remember(&self, media: uuid::Uuid, reference: &str) {
        if let Err(e) = store::media::remember_upload(&self.db, self.delivery, media, reference).await {
            // Only costs a second upload on a retry.
            tracing::warn!(error = %e, media.id = %media, "cannot note an uploaded file");
        }
    }
}

/// Why an attempt did not publish.
enum Failure {
    Retry { message: String, retry_after: Option<Duration> },
    /// No retry will help until a person acts; the message says what to do.
    Final(String),
    /// Keyport itself failed mid-attempt (a panic, logged): the provider may have published.
    Unconfirmed,
}

const PANICKED: &str = "Keyport hit an internal error during this attempt (logged): the post may have been published. Check the platform, and press Retry only if it is not there.";

async fn attempt(state: &AppState, caller: &Caller, c: &Claimed) -> Result<Published, Failure> {
    let post = store::posts::get(&state.db, c.post_id).await.ok().flatten().ok_or_else(|| Failure::Final("the post no longer exists".into()))?;
    let account_id = c.account_id.ok_or_else(|| Failure::Final("the account was disconnected after this post was written: connect it again and write the post to it".into()))?;
    let account = match store::accounts::get(&state.db, account_id).await {
        Ok(Some(row)) => row.account,
        Ok(None) => return Err(Failure::Final("the account was disconnected: connect it again, then Retry".into())),
        Err(e) => return Err(Failure::Retry { message: e.to_string(), retry_after: None }),
    };
    let endpoints = match oauth::tokens::endpoints_and_secret(state, c.platform_id, account.instance_id).await {
        Ok((endpoints, _)) => endpoints,
        Err(TokenError::Grant(GrantError::Misconfigured(why))) => return Err(Failure::Final(format!("the platform's OAuth settings are incomplete ({why}): an admin must fix them, then Retry"))),
        Err(e) => return Err(Failure::Retry { message: e.to_string(), retry_after: None }),
    };
    let api_base = endpoints.api_base_url.clone().ok_or_else(|| Failure::Final("the platform has no API base URL: an admin must set it, then Retry".into()))?;
    state.config.oauth.egress.check_url(&api_base).map_err(|why| Failure::Final(format!("{why}: an admin must fix the platform's API base URL, then Retry")))?;
    let token = match oauth::tokens::access_token(state, account_id).await {
        Ok(token) => token,
        Err(TokenError::Grant(GrantError::Transient { message, retry_after })) => return Err(Failure::Retry { message: format!("could not refresh the access token: {message}"), retry_after }),
        Err(TokenError::Grant(GrantError::Reauthenticate(why))) => return Err(Failure::Final(format!("re-authentication required ({why}): re-authenticate the account, then Retry"))),
        Err(TokenError::NotConnected) => return Err(Failure::Final("the account is not connected: connect it, then Retry".into())),
        Err(e) => return Err(Failure::Final(format!("{e}: fix the platform, then Retry"))),
    };
    let target = Target::new(TargetKind::Platform, c.platform_id, "");
    audit::record(&state.db, caller, Action::SecretUsed, Some(target), Audited::Ok, Some(format!("{} to publish delivery {}", SecretField::AccessToken.noun(), c.id))).await;
    let external_id = Some(account.external_id.as_str()).filter(|id| !id.is_empty());
    let destination = match endpoints.provider.key {
        ProviderKey::Reddit => account.destination_or_default(),
        _ => account.destination.clone(),
    };
    let publish_target = publishers::Target {
        api_base: &api_base,
        account_id: external_id,
        api_version: endpoints.api_version.as_deref(),
        destination: destination.as_deref(),
        account_name: account.name.as_deref(),
    };
    // The account's own text when the composer gave it one.
    let text = post.deliveries.iter().find(|d| d.id == c.id).and_then(|d| d.text.as_deref()).unwrap_or(&post.text);
    let media = outgoing(state, &post, c.id).await?;
    let uploads = Remember { db: state.db.clone(), delivery: c.id };
    let request = publishers::Request { text, link: post.link.as_deref(), idempotency_key: &c.idempotency_key, media: &media, uploads: &uploads };
    match publishers::publish(&state.http, endpoints.provider.key, &publish_target, &token, &request).await {
        Ok(published) => Ok(published),
        Err(PublishError::Retryable { message, retry_after }) => Err(Failure::Retry { message, retry_after }),
        Err(PublishError::Rejected { message }) => Err(Failure::Final(message)),
        Err(PublishError::Unauthorized { message }) => {
            // The account needs a person: flag it for the whole team, not only this post.
            let reason = format!("re-authentication required: {message}");
            if let Err(e) = store::accounts::mark_needs_attention(&state.db, account_id, &reason).await {
                tracing::warn!(error = %e, "cannot flag the account for re-authentication");
            }
            Err(Failure::Final(format!("{message}: re-authenticate the account, then Retry")))
        }
    }
}
