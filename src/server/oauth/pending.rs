//! Authorizations a user started and has not finished, kept in their server session under
//! a namespaced key: the state (compared in constant time, removed on use), the PKCE
//! verifier, the platform (and the instance, for a federated provider) and an expiry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::Session;
use uuid::Uuid;

const KEY: &str = "oauth.pending";
/// How long a user has to finish at the provider.
pub const LIFETIME_MINUTES: i64 = 10;
/// At most this many authorizations may be pending per session (several tabs).
const MAX: usize = 5;

#[derive(Clone, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub platform_id: Uuid,
    pub verifier: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The app Keyport registered on the account's instance, when it connects through one.
    #[serde(default)]
    pub instance: Option<Uuid>,
}

async fn all(session: &Session) -> Vec<Pending> {
    session.get::<Vec<Pending>>(KEY).await.ok().flatten().unwrap_or_default()
}

/// Remembers a new authorization, forgetting expired ones and the oldest beyond the limit.
pub async fn add(session: &Session, state: String, platform_id: Uuid, verifier: Option<String>, instance: Option<Uuid>) -> Result<(), tower_sessions::session::Error> {
    let now = Utc::now();
    let mut list: Vec<Pending> = all(session).await.into_iter().filter(|p| p.expires_at > now).collect();
    if list.len() >= MAX {
        list.remove(0);
    }
    list.push(Pending { state, platform_id, verifier, expires_at: now + chrono::Duration::minutes(LIFETIME_MINUTES), instance });
    session.insert(KEY, list).await
}

/// Takes the authorization with this state out of the session (single use), if there is one.
pub async fn take(session: &Session, state: &str) -> Result<Option<Pending>, tower_sessions::session::Error> {
    let mut list = all(session).await;
    let Some(position) = list.iter().position(|p| same_state(&p.state, state)) else {
        return Ok(None);
    };
    let entry = list.remove(position);
    session.insert(KEY, list).await?;
    Ok(Some(entry))
}

/// Compares two states without revealing, through timing, how much of a guess was right.
fn same_state(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_compare_whole() {
        assert!(same_state("abc", "abc"));
        assert!(!same_state("abc", "abd"));
        assert!(!same_state("abc", "ab"));
    }
}
