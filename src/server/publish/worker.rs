//! The delivery worker inside every server: claims due deliveries, gets a usable token
//! through the token resolver, calls the publisher and records the outcome. Retries what
//! can be retried with backoff; an interrupted attempt is retried only where the provider
//! deduplicates by idempotency key, and reported as "unconfirmed" elsewhere.

use super::publishers::{self, PublishError, Published};
use crate::{
    domain::{Account, DeliveryStatus, Post, ProviderKey, SecretField},
    server::{
        audit::{self, Action, Outcome as Audited, Target, TargetKind},
        auth::Caller,
        clock,
        retry::backoff,
        oauth::{
            self,
            client::{Endpoints, GrantError},
            tokens::TokenError,
        },
        state::AppState,
        workers,
        store::{
            self,
            posts::{Claimed, Outcome},
        },
    },
};
use chrono::Utc;
use futures::future::join_all;
use secrecy::SecretString;
use std::{
    collections::{HashMap, HashSet},
    future::Future,
    time::Duration,
};
use tracing::Instrument;
use uuid::Uuid;

/// Deliveries claimed per round (one per account); they are sent concurrently.
const CLAIM: usize = 16;

/// One round of the supervised loop (`server::workers`): waits for the poll interval, or
/// less when a post is sent, then delivers what is due.
pub async fn round(state: AppState) {
    let _ = tokio::time::timeout(state.config.publishing.poll_interval, state.publish_now.notified()).await;
    if process_due(&state).await > 0 {
        // More may be due (an account's next delivery waits for its last): the next round starts at once.
        state.publish_now.notify_one();
    }
}

/// One round: recovers abandoned attempts, then claims and delivers what is due. Returns
/// how many deliveries it claimed.
///
/// The round's bookkeeping takes three commits whatever its size: the claim, the audit
/// entries of the tokens about to be used (before any is sent), and every outcome with
/// its audit entry (before any of these deliveries can be claimed again). What every
/// delivery of a round shares (its posts, each platform's endpoints) is read once.
pub async fn process_due(state: &AppState) -> usize {
    recover_abandoned(state).await;
    let lease = state.config.oauth.http_timeout * 2 + Duration::from_secs(30);
    let claim = match store::posts::claim(&state.db, CLAIM, clock::from_now(lease)).await {
        Ok(claim) => claim,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim deliveries");
            return 0;
        }
    };
    if claim.deferred > 0 {
        tracing::info!(deferred = claim.deferred, "deliveries wait for their providers' posting limits");
    }
    let n = claim.claimed.len();
    if n > 0 {
        keeping_leases(state, &claim.claimed, lease, deliver(state, claim.claimed.clone())).await;
    }
    n
}

/// Runs `work` while renewing the leases of `claimed` every third of `lease`: a round
/// waits for its slowest delivery (a long video upload), and none of its deliveries may
/// look abandoned meanwhile.
async fn keeping_leases(state: &AppState, claimed: &[Claimed], lease: Duration, work: impl Future<Output = ()>) {
    let attempts: Vec<(Uuid, i32)> = claimed.iter().map(|c| (c.id, c.attempts)).collect();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + lease / 3, lease / 3);
    tokio::pin!(work);
    loop {
        tokio::select! {
            () = &mut work => return,
            _ = tick.tick() => {
                if let Err(e) = store::posts::renew(&state.db, &attempts, clock::from_now(lease)).await {
                    tracing::warn!(error = %e, "cannot renew the leases of running deliveries");
                }
            }
        }
    }
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
        let detail = if idempotent { "interrupted; requeued" } else { "interrupted; unconfirmed" };
        let entry = audit::entry(&Caller::job("publisher"), Action::DeliveryInterrupted, Some(Target::new(TargetKind::Delivery, id, "")), Audited::Failed, Some(detail.into()));
        if matches!(store::posts::record(&state.db, &[(id, attempt, outcome, entry)]).await.as_deref(), Ok([true])) {
            tracing::warn!(delivery.id = %id, idempotent, "recovered an interrupted delivery");
        }
    }
}

/// Everything an attempt needs before it calls the provider.
struct Ready<'r> {
    post: &'r Post,
    account: Account,
    endpoints: &'r Endpoints,
    api_base: String,
    token: SecretString,
}

/// Delivers a round's claim: reads, then the tokens (audited together), then every
/// delivery concurrently, then all outcomes in one commit.
async fn deliver(state: &AppState, claimed: Vec<Claimed>) {
    let caller = Caller::job("publisher");
    let spans: Vec<_> = claimed
        .iter()
        .map(|c| tracing::info_span!("delivery", delivery.id = %c.id, platform.id = %c.platform_id, account.id = ?c.account_id, attempt = c.attempts))
        .collect();
    let post_ids: Vec<Uuid> = claimed.iter().map(|c| c.post_id).collect::<HashSet<_>>().into_iter().collect();
    // Nothing is sent without its post: a failed read is a retry for each, recorded as such.
    let posts: Result<HashMap<Uuid, Post>, Failure> = store::posts::get_many(&state.db, &post_ids)
        .await
        .map(|posts| posts.into_iter().map(|p| (p.id, p)).collect())
        .map_err(|e| Failure::Retry { message: format!("cannot read the post: {e}"), retry_after: None });
    let accounts = join_all(claimed.iter().zip(&spans).map(|(c, span)| account_of(state, c).instrument(span.clone()))).await;
    let mut endpoints = HashMap::new();
    for key in accounts.iter().zip(&claimed).filter_map(|(a, c)| Some((c.platform_id, a.as_ref().ok()?.instance_id))).collect::<HashSet<_>>() {
        endpoints.insert(key, endpoints_of(state, key).await);
    }
    let ready = join_all(claimed.iter().zip(accounts).zip(&spans).map(|((c, account), span)| {
        let (posts, endpoints) = (&posts, &endpoints);
        let prepare = async move {
            let post = posts.as_ref().map_err(Failure::clone)?.get(&c.post_id).ok_or_else(|| Failure::Final("the post no longer exists".into()))?;
            let account = account?;
            let (endpoints, api_base) = endpoints[&(c.platform_id, account.instance_id)].as_ref().map_err(Failure::clone)?;
            let token = token_of(state, account.id).await?;
            Ok::<_, Failure>(Ready { post, account, endpoints, api_base: api_base.clone(), token })
        };
        // Nothing has been sent yet, whatever happens here.
        async move {
            workers::survive(prepare).await.unwrap_or_else(|cause| {
                tracing::error!(%cause, "preparing a delivery panicked");
                Err(Failure::Retry { message: "Keyport hit an internal error before sending (logged)".into(), retry_after: None })
            })
        }
        .instrument(span.clone())
    }))
    .await;
    // The tokens about to be used, audited before any is sent.
    let used: Vec<_> = claimed
        .iter()
        .zip(&ready)
        .filter(|(_, r)| r.is_ok())
        .map(|(c, _)| {
            let target = Target::new(TargetKind::Platform, c.platform_id, "");
            audit::entry(&caller, Action::SecretUsed, Some(target), Audited::Ok, Some(format!("{} to publish delivery {}", SecretField::AccessToken.noun(), c.id)))
        })
        .collect();
    audit::record_all(&state.db, &used).await;
    let results = join_all(claimed.iter().zip(ready).zip(&spans).map(|((c, ready), span)| {
        async move {
            let ready = ready?;
            workers::survive(send(state, c, ready)).await.unwrap_or_else(|cause| {
                tracing::error!(%cause, "a delivery attempt panicked");
                Err(Failure::Unconfirmed)
            })
        }
        .instrument(span.clone())
    }))
    .await;
    let settled: Vec<Settled> = claimed.iter().zip(results).map(|(c, result)| settle(state, c, result)).collect();
    let outcomes: Vec<_> = claimed
        .iter()
        .zip(&settled)
        .map(|(c, s)| {
            let (action, audited) = if s.published.is_some() { (Action::DeliveryPublished, Audited::Ok) } else { (Action::DeliveryFailed, Audited::Failed) };
            let entry = audit::entry(&caller, action, Some(Target::new(TargetKind::Delivery, c.id, "")), audited, Some(s.detail.clone()));
            (c.id, c.attempts, s.outcome(), entry)
        })
        .collect();
    match store::posts::record(&state.db, &outcomes).await {
        Ok(written) => {
            for ((span, s), _) in spans.iter().zip(&settled).zip(written).filter(|(_, w)| !w) {
                span.in_scope(|| tracing::warn!(detail = %s.detail, "the delivery changed hands during the attempt; its new owner records the outcome"));
            }
        }
        Err(e) => tracing::error!(error = %e, deliveries = outcomes.len(), "cannot record the round's outcomes; they will be recovered after their lease"),
    }
}

/// What became of an attempt, in the words the post and the audit log show.
struct Settled {
    status: DeliveryStatus,
    published: Option<Published>,
    /// Shown on the post.
    error: Option<String>,
    /// When to retry.
    due_at: Option<chrono::DateTime<Utc>>,
    /// The audit entry's detail.
    detail: String,
}

impl Settled {
    fn outcome(&self) -> Outcome<'_> {
        Outcome {
            status: self.status,
            provider_post_id: self.published.as_ref().map(|p| p.id.as_str()),
            provider_url: self.published.as_ref().and_then(|p| p.url.as_deref()),
            error: self.error.as_deref(),
            due_at: self.due_at,
        }
    }
}

fn settle(state: &AppState, c: &Claimed, result: Result<Published, Failure>) -> Settled {
    // The provider's link becomes an <a href>: only http(s), never javascript: and the like.
    let result = result.map(|p| Published { url: p.url.filter(|u| u.starts_with("https://") || u.starts_with("http://")), ..p });
    let max = state.config.publishing.max_attempts;
    let settled = |status, error: Option<String>, due_at, detail| Settled { status, published: None, error, due_at, detail };
    match result {
        Ok(p) => Settled { status: DeliveryStatus::Published, detail: format!("published as {}", p.id), published: Some(p), error: None, due_at: None },
        Err(Failure::Retry { message, retry_after }) if c.attempts < max => {
            let wait = backoff(state.config.publishing.retry_base, c.attempts, retry_after);
            settled(
                DeliveryStatus::Queued,
                Some(format!("{message} — retrying automatically (attempt {} of {max})", c.attempts)),
                Some(clock::from_now(wait)),
                format!("attempt {} of {max}: {message}; retrying in {} s", c.attempts, wait.as_secs()),
            )
        }
        Err(Failure::Retry { message, .. }) => settled(
            DeliveryStatus::Failed,
            Some(format!("{message} — gave up after {max} attempts; press Retry to try again")),
            None,
            format!("gave up after {max} attempts: {message}"),
        ),
        Err(Failure::Final(message)) => settled(DeliveryStatus::Failed, Some(message.clone()), None, message),
        Err(Failure::Unconfirmed) => settled(DeliveryStatus::Unconfirmed, Some(PANICKED.to_owned()), None, "internal error during the attempt; unconfirmed".to_owned()),
    }
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
#[derive(Clone)]
enum Failure {
    Retry { message: String, retry_after: Option<Duration> },
    /// No retry will help until a person acts; the message says what to do.
    Final(String),
    /// Keyport itself failed mid-attempt (a panic, logged): the provider may have published.
    Unconfirmed,
}

const PANICKED: &str = "Keyport hit an internal error during this attempt (logged): the post may have been published. Check the platform, and press Retry only if it is not there.";

async fn account_of(state: &AppState, c: &Claimed) -> Result<Account, Failure> {
    let account_id = c.account_id.ok_or_else(|| Failure::Final("the account was disconnected after this post was written: connect it again and write the post to it".into()))?;
    match store::accounts::get(&state.db, account_id).await {
        Ok(Some(row)) => Ok(row.account),
        Ok(None) => Err(Failure::Final("the account was disconnected: connect it again, then Retry".into())),
        Err(e) => Err(Failure::Retry { message: e.to_string(), retry_after: None }),
    }
}

/// A platform's endpoints (or those of the instance an account is on) and its checked API base.
async fn endpoints_of(state: &AppState, (platform_id, instance): (Uuid, Option<Uuid>)) -> Result<(Endpoints, String), Failure> {
    let endpoints = match oauth::tokens::endpoints(state, platform_id, instance).await {
        Ok(endpoints) => endpoints,
        Err(TokenError::Grant(GrantError::Misconfigured(why))) => return Err(Failure::Final(format!("the platform's OAuth settings are incomplete ({why}): an admin must fix them, then Retry"))),
        Err(e) => return Err(Failure::Retry { message: e.to_string(), retry_after: None }),
    };
    let api_base = endpoints.api_base_url.clone().ok_or_else(|| Failure::Final("the platform has no API base URL: an admin must set it, then Retry".into()))?;
    state.config.oauth.egress.check_url(&api_base).map_err(|why| Failure::Final(format!("{why}: an admin must fix the platform's API base URL, then Retry")))?;
    Ok((endpoints, api_base))
}

async fn token_of(state: &AppState, account_id: Uuid) -> Result<SecretString, Failure> {
    match oauth::tokens::access_token(state, account_id).await {
        Ok(token) => Ok(token),
        Err(TokenError::Grant(GrantError::Transient { message, retry_after })) => Err(Failure::Retry { message: format!("could not refresh the access token: {message}"), retry_after }),
        Err(TokenError::Grant(GrantError::Reauthenticate(why))) => Err(Failure::Final(format!("re-authentication required ({why}): re-authenticate the account, then Retry"))),
        Err(TokenError::NotConnected) => Err(Failure::Final("the account is not connected: connect it, then Retry".into())),
        Err(e) => Err(Failure::Final(format!("{e}: fix the platform, then Retry"))),
    }
}

/// Calls the provider.
async fn send(state: &AppState, c: &Claimed, ready: Ready<'_>) -> Result<Published, Failure> {
    let Ready { post, account, endpoints, api_base, token } = ready;
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
    let media = outgoing(state, post, c.id).await?;
    let uploads = Remember { db: state.db.clone(), delivery: c.id };
    let request = publishers::Request { text, link: post.link.as_deref(), idempotency_key: &c.idempotency_key, media: &media, uploads: &uploads };
    match publishers::publish(&state.http, endpoints.provider.key, &publish_target, &token, &request).await {
        Ok(published) => Ok(published),
        Err(PublishError::Retryable { message, retry_after }) => Err(Failure::Retry { message, retry_after }),
        Err(PublishError::Rejected { message }) => Err(Failure::Final(message)),
        Err(PublishError::Unauthorized { message }) => {
            // The account needs a person: flag it for the whole team, not only this post.
            let reason = format!("re-authentication required: {message}");
            if let Err(e) = store::accounts::mark_needs_attention(&state.db, account.id, &reason).await {
                tracing::warn!(error = %e, "cannot flag the account for re-authentication");
            }
            Err(Failure::Final(format!("{message}: re-authenticate the account, then Retry")))
        }
    }
}
