//! Which due deliveries a round may send: one per account at a time, in the order they
//! fell due, and never more posts to one account than its provider's posting limits allow
//! (`publish_limits` in providers.toml, each cited there). The counts come from the
//! attempts the database records, so every instance sees the same ones. A delivery over a
//! limit is not an attempt: it waits, queued, until the oldest post in the window leaves it.

use crate::{domain::ProviderKey, server::clock};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};
use uuid::Uuid;

/// At most `posts` posts from one account in any `seconds`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub posts: u32,
    pub seconds: u32,
}

impl Limit {
    fn describe(&self, provider: ProviderKey) -> String {
        let (n, unit) = match self.seconds {
            s if s % 86_400 == 0 => (s / 86_400, "day"),
            s if s % 3_600 == 0 => (s / 3_600, "hour"),
            s if s % 60 == 0 => (s / 60, "minute"),
            s => (s, "second"),
        };
        let span = if n == 1 { format!("per {unit}") } else { format!("per {n} {unit}s") };
        format!("waiting for {}'s limit of {} posts {span} from one account", provider.label(), self.posts)
    }
}

/// A due delivery, as the claim sees it.
#[derive(Clone, Debug)]
pub struct Due {
    pub id: Uuid,
    /// `None`: the account was disconnected (the attempt fails at once, nothing is sent).
    pub account_id: Option<Uuid>,
    pub provider: Option<ProviderKey>,
}

/// An account's attempts within one window: how many, and when the oldest began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    pub count: u32,
    pub oldest: DateTime<Utc>,
}

/// A delivery that waits for its account's window, with the account's later ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deferral {
    pub id: Uuid,
    pub account: Uuid,
    pub until: DateTime<Utc>,
    pub why: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Choice {
    pub claim: Vec<Uuid>,
    pub defer: Vec<Deferral>,
}

/// The limits the worker keeps for a provider (none for an unknown one).
pub fn limits(provider: Option<ProviderKey>) -> &'static [Limit] {
    provider.map_or(&[], |p| crate::server::oauth::catalog::get(p).publish_limits.as_slice())
}

/// From `due` (oldest first) picks up to `take` to claim: the first of each account, unless
/// one of its provider's limits is reached in `used` (keyed by account and window); then it
/// waits until that window has room (the store moves the account's later ones with it).
pub fn choose(due: &[Due], used: &HashMap<(Uuid, u32), Used>, take: usize, now: DateTime<Utc>) -> Choice {
    let mut seen = HashSet::new();
    let mut choice = Choice::default();
    for d in due {
        if choice.claim.len() == take {
            break;
        }
        let Some(account) = d.account_id else {
            choice.claim.push(d.id);
            continue;
        };
        if !seen.insert(account) {
            continue;
        }
        let full = d.provider.into_iter().flat_map(|p| limits(Some(p)).iter().map(move |limit| (p, limit))).filter_map(|(provider, limit)| {
            let used = used.get(&(account, limit.seconds)).filter(|u| u.count >= limit.posts)?;
            // `oldest` comes from the database: checked, as every time from outside.
            Some((clock::after(used.oldest, Duration::from_secs(limit.seconds.into())), limit.describe(provider)))
        });
        match full.max_by_key(|(until, _)| *until) {
            Some((until, why)) => choice.defer.push(Deferral { id: d.id, account, until: until.max(now), why }),
            None => choice.claim.push(d.id),
        }
    }
    choice
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 9, minute, 0).unwrap()
    }

    fn due(account: Option<Uuid>, provider: ProviderKey) -> Due {
        Due { id: Uuid::now_v7(), account_id: account, provider: Some(provider) }
    }

    #[test]
    fn one_delivery_per_account_in_the_order_they_fell_due() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let list = [due(Some(a), ProviderKey::Sandbox), due(Some(a), ProviderKey::Sandbox), due(Some(b), ProviderKey::Sandbox), due(None, ProviderKey::Sandbox)];
        let choice = choose(&list, &HashMap::new(), 16, at(0));
        assert_eq!(choice.claim, vec![list[0].id, list[2].id, list[3].id]);
        assert!(choice.defer.is_empty());
        assert_eq!(choose(&list, &HashMap::new(), 2, at(0)).claim, vec![list[0].id, list[2].id], "no more than the round takes");
    }

    #[test]
    fn an_account_at_its_limit_waits_until_the_oldest_post_leaves_the_window() {
        let x = catalog_limit(ProviderKey::X, 900);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let list = [due(Some(a), ProviderKey::X), due(Some(b), ProviderKey::X)];
        let used = HashMap::from([((a, 900), Used { count: x.posts, oldest: at(2) }), ((b, 900), Used { count: x.posts - 1, oldest: at(1) })]);
        let choice = choose(&list, &used, 16, at(10));
        assert_eq!(choice.claim, vec![list[1].id], "one under its limit goes");
        assert_eq!(choice.defer, vec![Deferral { id: list[0].id, account: a, until: at(17), why: "waiting for X (Twitter)'s limit of 100 posts per 15 minutes from one account".into() }]);
    }

    #[test]
    fn the_window_that_frees_last_decides_and_a_provider_without_limits_never_waits() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let day = catalog_limit(ProviderKey::Bluesky, 86_400);
        let hour = catalog_limit(ProviderKey::Bluesky, 3_600);
        let used = HashMap::from([((a, 3_600), Used { count: hour.posts, oldest: at(30) }), ((a, 86_400), Used { count: day.posts, oldest: at(5) })]);
        let choice = choose(&[due(Some(a), ProviderKey::Bluesky)], &used, 16, at(40));
        assert_eq!(choice.defer[0].until, at(5) + chrono::Duration::days(1));
        assert!(choice.defer[0].why.contains("11666 posts per day"), "{}", choice.defer[0].why);
        let sandbox = HashMap::from([((b, 900), Used { count: 1_000_000, oldest: at(0) })]);
        assert_eq!(choose(&[due(Some(b), ProviderKey::Sandbox)], &sandbox, 16, at(1)).claim.len(), 1);
    }

    fn catalog_limit(provider: ProviderKey, seconds: u32) -> Limit {
        *limits(Some(provider)).iter().find(|l| l.seconds == seconds).expect("the catalog has this window")
    }
}
