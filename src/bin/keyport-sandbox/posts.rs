//! The fake social network's posts: validation, idempotent creation and lookup.

use crate::account::Account;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub const MAX_TEXT_CHARS: usize = 500;

#[derive(Debug, Clone)]
pub struct Post {
    pub account: Account,
    pub text: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Its images or video, in order.
    pub media: Vec<crate::media::Attachment>,
}

/// Whether a create call made a new post or replayed an earlier one with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    Created(String),
    Replayed(String),
}

/// Text must have 1–500 characters (counted as Unicode scalar values, not bytes) and not
/// be only whitespace, which a real network would reject as an empty post.
pub fn validate_text(text: &str) -> Result<(), &'static str> {
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err("text must be between 1 and 500 characters");
    }
    Ok(())
}

#[derive(Debug, Default)]
pub struct PostBook {
    posts: HashMap<String, Post>,
    /// (account id, Idempotency-Key) → post id. Keys are scoped per account so two
    /// accounts cannot collide or read each other's posts through a guessed key.
    idempotency: HashMap<(String, String), String>,
}

impl PostBook {
    /// Creates a post with its files, or returns the one already made for this account and key.
    pub fn create(&mut self, account: &Account, text: String, link: Option<String>, idempotency_key: Option<&str>, media: Vec<crate::media::Attachment>) -> PostOutcome {
        let key = idempotency_key.map(|key| (account.id.clone(), key.to_owned()));
        if let Some(existing) = key.as_ref().and_then(|key| self.idempotency.get(key)) {
            return PostOutcome::Replayed(existing.clone());
        }
        let id = uuid::Uuid::now_v7().simple().to_string();
        let post = Post { account: account.clone(), text, link, created_at: Utc::now(), media };
        self.posts.insert(id.clone(), post);
        if let Some(key) = key {
            self.idempotency.insert(key, id.clone());
        }
        PostOutcome::Created(id)
    }

    /// Makes a post under an id the provider chose (a Facebook video is its own post).
    pub fn create_as(&mut self, id: &str, account: &Account, text: String, media: Vec<crate::media::Attachment>) {
        self.posts.insert(id.to_owned(), Post { account: account.clone(), text, link: None, created_at: Utc::now(), media });
    }

    /// The text of the account's newest post (X refuses the same text twice in a row).
    pub fn latest_text_of(&self, account: &Account) -> Option<String> {
        self.posts.values().filter(|p| p.account.id == account.id).max_by_key(|p| p.created_at).map(|p| p.text.clone())
    }

    pub fn get(&self, id: &str) -> Option<&Post> {
        self.posts.get(id)
    }

    pub fn count(&self) -> usize {
        self.posts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str) -> Account {
        Account::named(name)
    }

    #[test]
    fn text_length_is_checked_in_characters() {
        assert!(validate_text("hello").is_ok());
        assert!(validate_text("").is_err());
        assert!(validate_text("   \n").is_err());
        assert!(validate_text(&"é".repeat(500)).is_ok(), "1000 bytes but 500 characters");
        assert!(validate_text(&"a".repeat(501)).is_err());
    }

    #[test]
    fn idempotency_key_replays_per_account() {
        let mut book = PostBook::default();
        let alice = account("Alice");
        let bob = account("Bob");
        let first = book.create(&alice, "hi".into(), None, Some("k1"), Vec::new());
        let PostOutcome::Created(id) = first.clone() else { panic!("expected a new post") };
        assert_eq!(book.create(&alice, "hi".into(), None, Some("k1"), Vec::new()), PostOutcome::Replayed(id.clone()));
        assert!(matches!(book.create(&bob, "hi".into(), None, Some("k1"), Vec::new()), PostOutcome::Created(_)));
        assert!(matches!(book.create(&alice, "hi".into(), None, None, Vec::new()), PostOutcome::Created(_)));
        assert_eq!(book.count(), 3);
        assert_eq!(book.get(&id).map(|post| post.account.name.as_str()), Some("Alice"));
    }
}
