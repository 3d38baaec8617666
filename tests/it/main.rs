//! The integration tests, one crate (one link of the app instead of one per file): each
//! module drives the real server over HTTP, on SQLite and on PostgreSQL
//! (`on_both_backends!`), or the real binaries.

#[macro_use]
mod common;

mod accounts;
mod bluesky;
mod auth;
mod facebook;
mod format_spec;
mod forms;
mod import;
mod instagram;
mod keys;
mod kms;
mod linkedin;
mod mastodon;
mod media;
mod oauth;
mod openapi;
mod pages;
mod platforms_api;
mod providers;
mod publish;
mod posts_api;
mod publishers;
mod pinterest;
mod reddit;
mod rotation;
mod secrets;
mod slots;
mod startup;
mod vault;
mod x;
