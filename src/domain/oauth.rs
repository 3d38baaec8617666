//! OAuth as the pages and the API see it: a platform's client settings (which catalog
//! provider, which endpoints) and the state of its connection — never a token.

use super::{enums::wire_enum, platform::{optional_text, optional_url}, FieldErrors};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

wire_enum! {
    /// The providers of the catalog (`providers.toml` names each entry by this key; a unit
    /// test checks that every key has exactly one entry; the label is its display name).
    ProviderKey, "provider" {
        X => "x", "X (Twitter)";
        FacebookPages => "facebook_pages", "Facebook Pages";
        Instagram => "instagram", "Instagram";
        Linkedin => "linkedin", "LinkedIn";
        Threads => "threads", "Threads";
        Pinterest => "pinterest", "Pinterest";
        Reddit => "reddit", "Reddit";
        Tiktok => "tiktok", "TikTok";
        Youtube => "youtube", "YouTube (Google)";
        Mastodon => "mastodon", "Mastodon";
        Bluesky => "bluesky", "Bluesky";
        Custom => "custom", "Custom OAuth 2.0";
        Sandbox => "sandbox", "Sandbox";
    }
}

impl Default for ProviderKey {
    /// An OAuth platform nobody configured yet.
    fn default() -> Self {
        Self::Custom
    }
}

/// A catalog entry as the "start from a provider" choice shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderChoice {
    pub key: ProviderKey,
    pub category: super::Category,
    /// Whether the admin must give the instance URL (Mastodon, the sandbox).
    pub needs_instance: bool,
}

/// A platform's OAuth client settings after every rule has been checked. `None` URLs fall
/// back to the catalog's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OauthSettings {
    pub provider: ProviderKey,
    pub client_id: Option<String>,
    pub instance_url: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub revoke_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub api_base_url: Option<String>,
    /// Space-separated; `None` means the catalog's default scopes.
    pub scopes: Option<String>,
    /// The provider API version requests name (LinkedIn's `YYYYMM`); `None`: the catalog's.
    #[serde(default)]
    pub api_version: Option<String>,
}

/// The settings form as a browser posts it (the JSON API takes the same fields).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OauthSettingsForm {
    #[cfg_attr(feature = "ssr", schema(value_type = ProviderKey))]
    pub provider: String,
    pub client_id: String,
    pub instance_url: String,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: String,
    pub userinfo_url: String,
    pub api_base_url: String,
    pub scopes: String,
    pub api_version: String,
}

pub const CLIENT_ID_MAX: usize = 500;
pub const SCOPES_MAX: usize = 2000;

impl OauthSettingsForm {
    /// Checks the form's own rules; which URLs the provider still needs is the catalog's
    /// business (server side).
    pub fn validate(self) -> Result<OauthSettings, FieldErrors> {
        let mut errors = FieldErrors::default();
        let provider = match self.provider.trim() {
            "" => {
                errors.add("provider", "is required: choose a provider, or \"Custom OAuth 2.0\"");
                ProviderKey::default()
            }
            key => key.parse().unwrap_or_else(|message| {
                errors.add("provider", message);
                ProviderKey::default()
            }),
        };
        let client_id = optional_text(Some(self.client_id));
        if let Some(id) = &client_id {
            if id.chars().count() > CLIENT_ID_MAX || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
                errors.add("client_id", format!("must be at most {CLIENT_ID_MAX} characters without spaces"));
            }
        }
        let scopes = optional_text(Some(self.scopes)).map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
        if scopes.as_ref().is_some_and(|s| s.len() > SCOPES_MAX) {
            errors.add("scopes", format!("must be at most {SCOPES_MAX} characters"));
        }
        let api_version = optional_text(Some(self.api_version));
        if api_version.as_deref().is_some_and(|v| !is_api_version(v)) {
            errors.add("api_version", "must be a year and month as YYYYMM, for example 202608");
        }
        let settings = OauthSettings {
            provider,
            client_id,
            instance_url: optional_url(&mut errors, "instance_url", Some(self.instance_url))
                .map(|u| u.trim_end_matches('/').to_owned()),
            authorize_url: optional_url(&mut errors, "authorize_url", Some(self.authorize_url)),
            token_url: optional_url(&mut errors, "token_url", Some(self.token_url)),
            revoke_url: optional_url(&mut errors, "revoke_url", Some(self.revoke_url)),
            userinfo_url: optional_url(&mut errors, "userinfo_url", Some(self.userinfo_url)),
            api_base_url: optional_url(&mut errors, "api_base_url", Some(self.api_base_url)),
            scopes,
            api_version,
        };
        errors.into_result(settings)
    }
}

impl From<&OauthSettings> for OauthSettingsForm {
    fn from(s: &OauthSettings) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            provider: s.provider.to_string(),
            client_id: text(&s.client_id),
            instance_url: text(&s.instance_url),
            authorize_url: text(&s.authorize_url),
            token_url: text(&s.token_url),
            revoke_url: text(&s.revoke_url),
            userinfo_url: text(&s.userinfo_url),
            api_base_url: text(&s.api_base_url),
            scopes: text(&s.scopes),
            api_version: text(&s.api_version),
        }
    }
}

/// `YYYYMM` with a real month, from 2020 on (LinkedIn names its monthly API versions so:
/// https://learn.microsoft.com/en-us/linkedin/marketing/versioning).
pub fn is_api_version(v: &str) -> bool {
    v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()) && v.get(..4).and_then(|y| y.parse::<u32>().ok()).is_some_and(|y| y >= 2020) && v.get(4..).and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| (1..=12).contains(&m))
}

/// One connected account under a platform (a Page, a profile, a Mastodon user): what is
/// known about it without decrypting anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: Uuid,
    pub platform_id: Uuid,
    /// The instance it lives on (Mastodon), when Keyport registered the app there: its
    /// client's id and origin.
    pub instance_id: Option<Uuid>,
    pub instance: Option<String>,
    /// The provider's id of the account; empty when the provider does not say.
    pub external_id: String,
    pub name: Option<String>,
    /// An https image URL the provider gave, if any.
    pub avatar_url: Option<String>,
    pub connected: bool,
    pub has_refresh_token: bool,
    /// The provider renews the access token itself, no refresh token needed (Instagram,
    /// Threads: Keyport renews the 60-day token before it runs out).
    pub renews: bool,
    pub scopes: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub connected_at: DateTime<Utc>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    /// Why the account needs attention, in words a user can act on.
    pub last_error: Option<String>,
    pub refresh_failures: i32,
    /// A person must re-authenticate it (the provider refused, or refreshes keep failing).
    pub needs_attention: bool,
    /// Past its expiry with no refresh token to renew it (as of when it was read).
    pub expired: bool,
    /// Where its posts go, for a provider that asks (a Reddit subreddit, `u_{name}` for the
    /// profile); `None`: the provider's default ([`Account::destination_or_default`]).
    #[serde(default)]
    pub destination: Option<String>,
    /// When "Add to queue" posts to it; `None`: no slots set.
    #[serde(default)]
    pub slots: Option<super::PostingSlots>,
}

impl Account {
    /// Where a post to this account goes: the chosen destination, else (Reddit) the
    /// account's own profile, `u_{name}`.
    pub fn destination_or_default(&self) -> Option<String> {
        self.destination.clone().or_else(|| self.name.as_ref().filter(|n| !n.is_empty()).map(|n| format!("u_{n}")))
    }

    /// What the account is called on screen: its name, else its id, else a stand-in.
    pub fn label(&self) -> String {
        self.name.clone().filter(|n| !n.is_empty()).or_else(|| (!self.external_id.is_empty()).then(|| self.external_id.clone())).unwrap_or_else(|| "Unnamed account".into())
    }
}

/// The OAuth part of a platform page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OauthView {
    pub settings: OauthSettings,
    /// What to register with the provider, exactly.
    pub redirect_uri: String,
    /// The platform's connected accounts, by name.
    pub accounts: Vec<Account>,
    /// Why Connect cannot work yet (no client id, no client secret, …); `None` when it can.
    pub not_ready: Option<String>,
    /// The provider is federated: each account is connected on an instance the person
    /// names, where Keyport registers its app by itself (Mastodon).
    pub per_instance: bool,
    /// Why Keyport cannot publish to this provider (yet); `None` when it can.
    pub connect_only: Option<String>,
    /// Accounts connect with a handle and an app password, not through OAuth (Bluesky).
    pub app_password: bool,
    /// Catalog defaults, shown as placeholders of the override fields.
    pub defaults: OauthSettings,
    /// The catalog, for the settings form's provider choice.
    pub providers: Vec<ProviderChoice>,
}

/// A Facebook connection half-way: the Pages the person may connect, picked on a Keyport
/// page. Never holds a token (the Page tokens stay sealed on the server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagePick {
    pub id: Uuid,
    pub platform_id: Uuid,
    pub platform_name: String,
    /// The Facebook user who granted access, when Facebook said.
    pub user_name: Option<String>,
    pub pages: Vec<PageChoice>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageChoice {
    pub id: String,
    pub name: String,
    pub avatar_url: Option<String>,
    /// The business portfolio the Page is held through, if any.
    pub business: Option<String>,
    /// Already one of the platform's accounts (picking it again renews its token).
    pub connected: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_a_year_and_a_month() {
        for good in ["202608", "202001", "209912"] {
            assert!(is_api_version(good), "{good}");
        }
        for bad in ["", "2026-08", "202600", "202613", "201912", "20260", "2026081", "２０２６０８", "+20608"] {
            assert!(!is_api_version(bad), "{bad}");
        }
    }

    #[test]
    fn settings_form_names_each_bad_field() {
        let form = OauthSettingsForm {
            provider: "".into(),
            client_id: "has space".into(),
            token_url: "ftp://x".into(),
            ..Default::default()
        };
        let errors = form.validate().unwrap_err();
        assert!(errors.get("provider").is_some());
        assert!(errors.get("client_id").is_some());
        assert!(errors.get("token_url").unwrap().contains("https://"));
        let unknown = OauthSettingsForm { provider: "nope".into(), ..Default::default() }.validate().unwrap_err();
        assert!(unknown.get("provider").unwrap().contains("unknown provider \"nope\": expected one of x, facebook_pages"), "{unknown}");
    }

    #[test]
    fn blank_overrides_fall_back_and_scopes_are_normalised() {
        let form = OauthSettingsForm {
            provider: "mastodon".into(),
            client_id: " abc ".into(),
            instance_url: "https://mastodon.social/".into(),
            scopes: " read   write:statuses ".into(),
            ..Default::default()
        };
        let s = form.validate().unwrap();
        assert_eq!(s.client_id.as_deref(), Some("abc"));
        assert_eq!(s.instance_url.as_deref(), Some("https://mastodon.social"));
        assert_eq!(s.token_url, None);
        assert_eq!(s.scopes.as_deref(), Some("read write:statuses"));
    }
}

/// Reads a Reddit destination as a person types it — `r/rust`, `/r/rust/`, `rust`,
/// `u/name` or `u_name` (a profile) — into the `sr` the API takes: `rust`, `u_name`.
/// The rules are Reddit's own (github.com/reddit-archive/reddit): a subreddit is
/// `\A[A-Za-z0-9][A-Za-z0-9_]{2,20}\Z` (`subreddit_rx`, r2/r2/models/subreddit.py), a
/// username `[\w-]{3,20}` (`user_rx`, r2/r2/lib/validator/validator.py).
pub fn parse_subreddit(text: &str) -> Result<String, &'static str> {
    let t = text.trim().trim_matches('/');
    let t = t.strip_prefix("https://www.reddit.com/").or_else(|| t.strip_prefix("https://reddit.com/")).unwrap_or(t).trim_end_matches('/');
    let (profile, name) = match t.split_once('/') {
        Some((p, name)) if p.eq_ignore_ascii_case("r") => (false, name),
        Some((p, name)) if p.eq_ignore_ascii_case("u") || p.eq_ignore_ascii_case("user") => (true, name),
        Some(_) => return Err("must be a subreddit like r/rust, or u/yourname for your profile"),
        None => match t.strip_prefix("u_") {
            Some(name) => (true, name),
            None => (false, t),
        },
    };
    let chars = |extra: &[char]| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c));
    match profile {
        true if (3..=20).contains(&name.len()) && chars(&['-']) => Ok(format!("u_{name}")),
        false if (3..=21).contains(&name.len()) && chars(&[]) && !name.starts_with('_') => Ok(name.to_owned()),
        _ => Err("must be a subreddit like r/rust (3 to 21 letters, digits or underscores), or u/yourname for your profile"),
    }
}

/// A Pinterest board an account can pin to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub id: String,
    pub name: String,
    /// Only its owner sees it (Pinterest's `SECRET`).
    pub secret: bool,
}

/// A Pinterest board id as the form sends it: Pinterest's ids are digits (`^\d+$` in its
/// OpenAPI description).
pub fn parse_board_id(text: &str) -> Result<String, &'static str> {
    let t = text.trim();
    match (1..=32).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
        true => Ok(t.to_owned()),
        false => Err("must be one of the account's boards"),
    }
}

#[cfg(test)]
mod destination_tests {
    use super::*;

    #[test]
    fn a_board_id_is_digits() {
        assert_eq!(parse_board_id(" 549755885175 ").as_deref(), Ok("549755885175"));
        for bad in ["", "abc", "12 34", "1/2", &"9".repeat(33)] {
            assert!(parse_board_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_subreddit_is_read_however_a_person_types_it() {
        for (typed, sr) in [("r/rust", "rust"), ("/r/Rust/", "Rust"), ("rust", "rust"), (" https://www.reddit.com/r/test/ ", "test"), ("u/spez", "u_spez"), ("u_my-name", "u_my-name"), ("/user/ab_c", "u_ab_c")] {
            assert_eq!(parse_subreddit(typed).as_deref(), Ok(sr), "{typed}");
        }
        for bad in ["", "r/", "rs", "r/has space", "r/has-dash", "x/rust", "r/aaaaaaaaaaaaaaaaaaaaaa", "r/_rust", "u/a", "r/rust/comments"] {
            assert!(parse_subreddit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_account_posts_to_its_profile_unless_told_otherwise() {
        let mut a = Account { name: Some("baker".into()), ..Default::default() };
        assert_eq!(a.destination_or_default().as_deref(), Some("u_baker"));
        a.destination = Some("bakery".into());
        assert_eq!(a.destination_or_default().as_deref(), Some("bakery"));
    }
}
