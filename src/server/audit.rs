//! The audit log: who did what to which target, and whether it worked. Never a secret.

use super::{
    auth::Caller,
    db::Db,
    paging::{paginate, Cursor},
    store::{audit::{self as store, Entry, Filter}, cut},
};
use crate::domain::{wire_enum, AppError, AuditPage, Platform};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub const PAGE_SIZE: i64 = 50;

wire_enum! {
    /// Everything the audit log records, by its stored name.
    Action, "audit action" {
        Setup => "setup", "Set-up";
        Login => "login", "Signed in";
        LoginFailed => "login_failed", "Sign-in failed";
        LoginThrottled => "login_throttled", "Sign-in throttled";
        Logout => "logout", "Signed out";
        UserCreated => "user_created", "User created";
        UserUpdated => "user_updated", "User changed";
        PasswordReset => "password_reset", "Password reset";
        PasswordChanged => "password_changed", "Password changed";
        ApiTokenCreated => "api_token_created", "API token created";
        ApiTokenRevoked => "api_token_revoked", "API token revoked";
        PlatformCreated => "platform_created", "Platform created";
        PlatformUpdated => "platform_updated", "Platform changed";
        PlatformDeleted => "platform_deleted", "Platform deleted";
        PlatformReencrypted => "platform_reencrypted", "Platform re-encrypted";
        SecretSet => "secret_set", "Secret set";
        SecretRemoved => "secret_removed", "Secret removed";
        SecretUsed => "secret_used", "Secret decrypted for use";
        OauthSettingsSaved => "oauth_settings_saved", "OAuth settings saved";
        OauthConnectStarted => "oauth_connect_started", "Connect started";
        OauthConnect => "oauth_connect", "Connect did not finish";
        OauthConnected => "oauth_connected", "Connected";
        OauthCallbackRejected => "oauth_callback_rejected", "OAuth callback rejected";
        OauthDisconnected => "oauth_disconnected", "Disconnected";
        InstanceRegistered => "instance_registered", "App registered on an instance";
        TokenRefreshed => "token_refreshed", "Token refreshed";
        TokenRefreshFailed => "token_refresh_failed", "Token refresh failed";
        TokenExpiring => "token_expiring", "Token expires soon";
        RotationStarted => "rotation_started", "Re-encryption started";
        RotationPaused => "rotation_paused", "Re-encryption paused";
        RotationResumed => "rotation_resumed", "Re-encryption resumed";
        RotationFinished => "rotation_finished", "Re-encryption finished";
        KeyRotated => "key_rotated", "Data key rotated";
        KeyRetired => "key_retired", "Data key retired";
        Import => "import", "Import";
        PostCreated => "post_created", "Post created";
        PostUpdated => "post_updated", "Post changed";
        PostCancelled => "post_cancelled", "Post cancelled";
        DeliveryPublished => "delivery_published", "Delivery published";
        DeliveryFailed => "delivery_failed", "Delivery failed";
        DeliveryRetried => "delivery_retried", "Delivery retried";
        DeliveryInterrupted => "delivery_interrupted", "Delivery interrupted";
    }
}

wire_enum! {
    /// Whether the action worked.
    Outcome, "audit outcome" {
        Ok => "ok", "OK";
        Failed => "failed", "Failed";
        Denied => "denied", "Denied";
    }
}

wire_enum! {
    /// What kind of thing an action was done to.
    TargetKind, "audit target" {
        Platform => "platform", "Platform";
        User => "user", "User";
        ApiToken => "api_token", "API token";
        Post => "post", "Post";
        Delivery => "delivery", "Delivery";
        Key => "key", "Key";
    }
}

/// What an action was done to.
pub struct Target<'a> {
    pub kind: TargetKind,
    pub id: String,
    pub label: &'a str,
}

impl<'a> Target<'a> {
    pub fn new(kind: TargetKind, id: impl ToString, label: &'a str) -> Self {
        Self { kind, id: id.to_string(), label }
    }

    pub fn platform(platform: &'a Platform) -> Self {
        Self::new(TargetKind::Platform, platform.id, &platform.name)
    }
}

/// Longest texts the schema accepts (migration 0010), in characters.
pub const ACTOR_MAX: usize = 300;
pub const TARGET_ID_MAX: usize = 100;
pub const TARGET_LABEL_MAX: usize = 300;
pub const CLIENT_ADDR_MAX: usize = 64;
pub const DETAIL_MAX: usize = 2000;

/// An entry as the log keeps it: texts longer than the schema allows are cut, so an
/// entry is never lost to its length.
pub fn entry(caller: &Caller, action: Action, target: Option<Target<'_>>, outcome: Outcome, detail: Option<String>) -> Entry {
    Entry {
        actor_id: caller.user.as_ref().map(|u| u.id),
        actor: cut(caller.actor(), ACTOR_MAX),
        action: action.as_str(),
        target_type: target.as_ref().map(|t| t.kind.as_str()),
        target_id: target.as_ref().map(|t| cut(t.id.clone(), TARGET_ID_MAX)),
        target_label: target.as_ref().map(|t| cut(t.label.to_owned(), TARGET_LABEL_MAX)),
        outcome: outcome.as_str(),
        client_addr: caller.client_addr.clone().map(|a| cut(a, CLIENT_ADDR_MAX)),
        detail: detail.map(|d| cut(d, DETAIL_MAX)),
    }
}

/// Appends one entry. A failure to write it is logged, not shown: the action happened.
pub async fn record(db: &Db, caller: &Caller, action: Action, target: Option<Target<'_>>, outcome: Outcome, detail: Option<String>) {
    if let Err(e) = store::insert(db, &entry(caller, action, target, outcome, detail)).await {
        tracing::error!(error = %e, action = action.as_str(), "could not write the audit log");
    }
}

/// Appends several entries in one commit, as [`record`] does one.
pub async fn record_all(db: &Db, entries: &[Entry]) {
    if entries.is_empty() {
        return;
    }
    if let Err(e) = store::insert_all(db, entries).await {
        tracing::error!(error = %e, entries = entries.len(), "could not write the audit log");
    }
}

/// One page of the log, newest first, from `cursor` (a page's `next` or `prev`): keyset
/// pages, so a page deep in a long log costs what the first does.
pub async fn page(db: &Db, filter: Filter, cursor: Option<&str>) -> Result<AuditPage, AppError> {
    let from = cursor.map(Cursor::<(DateTime<Utc>, Uuid)>::decode).transpose()?;
    let rows = store::list(db, &filter, from.as_ref().map(|c| (&c.key, c.before)), PAGE_SIZE + 1).await?;
    let page = paginate(rows, PAGE_SIZE as usize, from.as_ref(), |e| (e.at, e.id));
    let (actors, actions) = store::facets(db).await?;
    Ok(AuditPage { events: page.rows, next: page.next, prev: page.prev, actors, actions })
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn long_texts_are_cut_to_the_schema_limit_on_a_character_boundary() {
        assert_eq!(cut("short".into(), 10), "short");
        assert_eq!(cut("exactly10!".into(), 10), "exactly10!");
        let cut_text = cut("é".repeat(3000), 2000);
        assert_eq!(cut_text.chars().count(), 2000);
        assert!(cut_text.ends_with('…'));
    }
}
