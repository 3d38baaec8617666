//! The provider catalog: `providers.toml`, embedded in the binary. Each entry says how to
//! talk OAuth 2.0 to one provider; a platform's settings may override any URL.

use crate::domain::{Category, OauthSettings, ProviderChoice, ProviderKey};
use serde::Deserialize;
use std::{collections::BTreeMap, sync::OnceLock};

const CATALOG_TOML: &str = include_str!("../../../providers.toml");

/// Replaced in catalog URLs by the platform's instance URL (Mastodon, the sandbox).
pub const INSTANCE: &str = "{instance}";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pkce {
    Required,
    Supported,
    Unsupported,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    Basic,
    Post,
}

/// What a refresh grant does to the refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Refresh {
    Rotating,
    Reusable,
    /// No refresh token: the long-lived access token itself is renewed (`long_lived`).
    Renew,
    None,
}

/// Meta's long-lived tokens (Instagram, Threads): the code's short-lived token is exchanged
/// for a 60-day one, which is renewed before it runs out. Paths are relative to the API
/// base URL, whose version segment they replace (`https://graph.instagram.com/v25.0` →
/// `https://graph.instagram.com/access_token`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongLived {
    pub exchange: String,
    pub exchange_grant: String,
    pub renew: String,
    pub renew_grant: String,
}

/// How an account signs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignIn {
    /// OAuth 2.0's authorization code flow.
    #[default]
    Oauth,
    /// A handle and an app password open a session (Bluesky's createSession); the
    /// session's refresh token renews it (`oauth/bluesky.rs`).
    AppPassword,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub key: ProviderKey,
    pub category: Category,
    pub docs: String,
    #[serde(default)]
    pub sign_in: SignIn,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    /// Whether the grant a re-authentication replaces is revoked. Only where the provider
    /// documents that each authorization is its own grant: elsewhere (Google: revoking any
    /// token of a user ends the app's whole grant) it would end the new tokens too.
    #[serde(default)]
    pub revoke_replaced: bool,
    pub userinfo_url: Option<String>,
    /// Where Keyport registers an app by itself on each instance a marketer names
    /// (Mastodon's `POST /api/v1/apps`): no admin step, one app per platform and instance.
    #[serde(default)]
    pub register_url: Option<String>,
    /// JSON Pointers into the userinfo answer.
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    /// The account's picture (an https URL), where the answer has one.
    #[serde(default)]
    pub account_avatar: Option<String>,
    pub api_base_url: Option<String>,
    pub scopes: Vec<String>,
    pub scope_separator: String,
    pub pkce: Pkce,
    pub client_auth: ClientAuth,
    pub refresh: Refresh,
    pub char_limit: Option<u32>,
    /// The images and video Keyport can send it (none: no media yet).
    #[serde(default)]
    pub media: crate::domain::MediaLimits,
    /// Why Keyport cannot publish to this provider (yet); `None`: it has a publisher
    /// (a unit test keeps the two in step with `publishers::supports`).
    #[serde(default)]
    pub connect_only: Option<String>,
    #[serde(default)]
    pub long_lived: Option<LongLived>,
    /// The API version requests name (LinkedIn-Version), unless the platform overrides it.
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub authorize_params: BTreeMap<String, String>,
    /// How many posts one account may publish in a window (all must hold); none: no
    /// documented limit beyond a 429's Retry-After, which the worker already honours.
    #[serde(default)]
    pub publish_limits: Vec<crate::server::publish::pacing::Limit>,
    pub client_id_param: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    provider: Vec<Provider>,
}

/// Every provider Keyport knows, in catalog order.
pub fn all() -> &'static [Provider] {
    static CATALOG: OnceLock<Vec<Provider>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // The file is part of the binary and a unit test parses it: failing here is a build defect.
        toml::from_str::<CatalogFile>(CATALOG_TOML).expect("providers.toml is valid (tested)").provider
    })
}

/// The catalog entry of `key` (a unit test checks that every key has one).
pub fn get(key: ProviderKey) -> &'static Provider {
    all().iter().find(|p| p.key == key).expect("every provider key has a catalog entry (tested)")
}

pub fn choices() -> Vec<ProviderChoice> {
    all()
        .iter()
        .map(|p| ProviderChoice {
            key: p.key,
            category: p.category,
            needs_instance: p.needs_instance(),
        })
        .collect()
}

impl Provider {
    pub fn needs_instance(&self) -> bool {
        [Some(&self.authorize_url), Some(&self.token_url), self.api_base_url.as_ref()]
            .into_iter()
            .flatten()
            .any(|u| u.contains(INSTANCE))
    }

    /// The catalog's values with `{instance}` filled in, as the settings form's placeholders.
    pub fn defaults(&self, instance_url: Option<&str>) -> OauthSettings {
        let fill = |url: &str| -> Option<String> {
            if url.is_empty() {
                return None;
            }
            match (url.contains(INSTANCE), instance_url) {
                (false, _) => Some(url.to_owned()),
                (true, Some(instance)) => Some(url.replace(INSTANCE, instance.trim_end_matches('/'))),
                (true, None) => None,
            }
        };
        OauthSettings {
            provider: self.key,
            client_id: None,
            instance_url: instance_url.map(str::to_owned),
            authorize_url: fill(&self.authorize_url),
            token_url: fill(&self.token_url),
            revoke_url: self.revoke_url.as_deref().and_then(fill),
            userinfo_url: self.userinfo_url.as_deref().and_then(fill),
            api_base_url: self.api_base_url.as_deref().and_then(fill),
            scopes: Some(self.scopes.join(" ")).filter(|s| !s.is_empty()),
            api_version: self.api_version.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_parses_and_every_entry_cites_its_docs() {
        let all = all();
        for key in ProviderKey::ALL {
            assert_eq!(all.iter().filter(|p| p.key == *key).count(), 1, "{key} has exactly one entry");
        }
        for p in all.iter().filter(|p| p.key != ProviderKey::Custom) {
            assert!(p.docs.starts_with("https://") || p.docs.starts_with("docs/"), "{} cites its docs", p.key);
            if p.sign_in == SignIn::AppPassword {
                assert!(p.authorize_url.is_empty() && p.scopes.is_empty(), "{}: an app password has no authorization page or scopes", p.key);
                continue;
            }
            assert!(p.authorize_url.starts_with("https://") || p.authorize_url.starts_with(INSTANCE), "{}", p.key);
            assert!(p.token_url.starts_with("https://") || p.token_url.starts_with(INSTANCE), "{}", p.key);
            assert!(!p.scopes.is_empty(), "{} has default scopes", p.key);
        }
    }

    #[test]
    fn a_renewing_provider_says_how() {
        for p in all() {
            assert_eq!(p.refresh == Refresh::Renew, p.long_lived.is_some(), "{}: refresh = \"renew\" goes with long_lived", p.key);
        }
        let base = url::Url::parse("https://graph.instagram.com/v25.0").unwrap();
        assert_eq!(base.join("refresh_access_token").unwrap().as_str(), "https://graph.instagram.com/refresh_access_token");
    }

    #[test]
    fn a_provider_without_a_publisher_says_why() {
        for p in all() {
            let publishes = crate::server::publish::publishers::supports(p.key);
            assert_eq!(p.connect_only.is_none(), publishes, "{}: connect_only must be set exactly when there is no publisher", p.key);
        }
    }

    #[test]
    fn instance_placeholders_are_filled_from_the_platform() {
        let mastodon = get(ProviderKey::Mastodon);
        assert!(mastodon.needs_instance());
        assert_eq!(mastodon.defaults(None).token_url, None);
        let d = mastodon.defaults(Some("https://fosstodon.org/"));
        assert_eq!(d.token_url.as_deref(), Some("https://fosstodon.org/oauth/token"));
        assert!(!get(ProviderKey::X).needs_instance());
    }
}
