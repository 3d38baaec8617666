//! A platform is one integration (a social network, a payment provider, …). This module
//! holds its shape, the inputs it is created from (JSON and HTML form) and their rules.

use super::{AuthType, Category, Encryption, FieldErrors, Status};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 2000;
pub const URL_MAX: usize = 2048;
/// Serialized size limit of `metadata`: it describes, it is not a document store.
pub const METADATA_MAX_BYTES: usize = 16 * 1024;

/// A stored platform, as the API and pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Platform {
    pub id: Uuid,
    pub name: String,
    pub category: Category,
    pub auth_type: AuthType,
    pub status: Status,
    pub description: Option<String>,
    pub icon_url: Option<String>,
    pub base_url: Option<String>,
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The encryption badge, from the secrets stored for it.
    #[serde(default)]
    pub encryption: Encryption,
}

/// A platform's editable fields after every rule has been checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidPlatform {
    pub name: String,
    pub category: Category,
    pub auth_type: AuthType,
    pub status: Status,
    pub description: Option<String>,
    pub icon_url: Option<String>,
    pub base_url: Option<String>,
    pub metadata: Map<String, Value>,
}

/// The JSON API's input: every field optional (defaults apply), enums as strings so an
/// unknown value gets our message rather than serde's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlatformDraft {
    pub name: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::Category>))]
    pub category: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<AuthType>))]
    pub auth_type: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Status>))]
    pub status: Option<String>,
    pub description: Option<String>,
    pub icon_url: Option<String>,
    pub base_url: Option<String>,
    pub metadata: Option<Value>,
}

/// The HTML form's input: what a browser posts, every value a string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlatformForm {
    pub name: String,
    pub category: String,
    pub auth_type: String,
    pub status: String,
    pub description: String,
    pub icon_url: String,
    pub base_url: String,
    /// A JSON object as text; empty means `{}`.
    pub metadata: String,
    /// The catalog provider a new OAuth platform starts from (empty: none).
    pub provider: String,
}

impl PlatformDraft {
    pub fn validate(self) -> Result<ValidPlatform, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = match self.name.as_deref().map(str::trim) {
            None | Some("") => {
                errors.add("name", "is required");
                String::new()
            }
            Some(name) if name.chars().count() > NAME_MAX => {
                errors.add("name", format!("must be at most {NAME_MAX} characters"));
                String::new()
            }
            Some(name) if name.chars().any(char::is_control) => {
                errors.add("name", "must not contain control characters");
                String::new()
            }
            Some(name) => name.to_owned(),
        };
        let category = parse_enum(&mut errors, "category", self.category);
        let auth_type = parse_enum(&mut errors, "auth_type", self.auth_type);
        let status = parse_enum(&mut errors, "status", self.status);
        let description = optional_text(self.description);
        if description.as_ref().is_some_and(|d| d.chars().count() > DESCRIPTION_MAX) {
            errors.add("description", format!("must be at most {DESCRIPTION_MAX} characters"));
        }
        let icon_url = optional_url(&mut errors, "icon_url", self.icon_url);
        let base_url = optional_url(&mut errors, "base_url", self.base_url);
        let metadata = match self.metadata {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => {
                if serde_json::to_string(&map).map_or(0, |s| s.len()) > METADATA_MAX_BYTES {
                    errors.add("metadata", format!("must be at most {} KiB of JSON", METADATA_MAX_BYTES / 1024));
                }
                map
            }
            Some(_) => {
                errors.add("metadata", "must be a JSON object, like {\"region\": \"eu\"}");
                Map::new()
            }
        };
        errors.into_result(ValidPlatform {
            name,
            category,
            auth_type,
            status,
            description,
            icon_url,
            base_url,
            metadata,
        })
    }
}

impl PlatformForm {
    /// Checks the form as the API checks JSON, after reading `metadata` as JSON text.
    pub fn validate(self) -> Result<ValidPlatform, FieldErrors> {
        let mut errors = FieldErrors::default();
        let metadata = match self.metadata.trim() {
            "" => None,
            text => match serde_json::from_str::<Value>(text) {
                Ok(value) => Some(value),
                Err(e) => {
                    errors.add("metadata", format!("is not valid JSON ({e})"));
                    None
                }
            },
        };
        let blank_is_none = |s: String| if s.trim().is_empty() { None } else { Some(s) };
        let draft = PlatformDraft {
            name: Some(self.name),
            category: blank_is_none(self.category),
            auth_type: blank_is_none(self.auth_type),
            status: blank_is_none(self.status),
            description: Some(self.description),
            icon_url: Some(self.icon_url),
            base_url: Some(self.base_url),
            metadata,
        };
        match draft.validate() {
            Ok(valid) => errors.into_result(valid),
            Err(more) => {
                errors.0.extend(more.0);
                Err(errors)
            }
        }
    }
}

impl From<&Platform> for PlatformDraft {
    fn from(p: &Platform) -> Self {
        Self {
            name: Some(p.name.clone()),
            category: Some(p.category.to_string()),
            auth_type: Some(p.auth_type.to_string()),
            status: Some(p.status.to_string()),
            description: p.description.clone(),
            icon_url: p.icon_url.clone(),
            base_url: p.base_url.clone(),
            metadata: Some(Value::Object(p.metadata.clone())),
        }
    }
}

impl From<&Platform> for PlatformForm {
    fn from(p: &Platform) -> Self {
        Self {
            name: p.name.clone(),
            category: p.category.to_string(),
            auth_type: p.auth_type.to_string(),
            status: p.status.to_string(),
            description: p.description.clone().unwrap_or_default(),
            icon_url: p.icon_url.clone().unwrap_or_default(),
            base_url: p.base_url.clone().unwrap_or_default(),
            metadata: if p.metadata.is_empty() {
                String::new()
            } else {
                serde_json::to_string_pretty(&p.metadata).unwrap_or_default()
            },
            provider: String::new(),
        }
    }
}

fn parse_enum<T: std::str::FromStr<Err = String> + Default>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
) -> T {
    match value {
        None => T::default(),
        Some(v) => v.trim().parse().unwrap_or_else(|message| {
            errors.add(field, message);
            T::default()
        }),
    }
}

pub(super) fn parse_choice<T: std::str::FromStr<Err = String>>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
) -> Option<T> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    value.parse().map_err(|message| errors.add(field, message)).ok()
}

pub(super) fn optional_text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

pub(super) fn optional_url(errors: &mut FieldErrors, field: &str, value: Option<String>) -> Option<String> {
    let url = optional_text(value)?;
    match check_http_url(&url) {
        Ok(()) => Some(url),
        Err(message) => {
            errors.add(field, message);
            None
        }
    }
}

/// Accepts absolute http(s) URLs with a plausible host; rejects everything a browser or an
/// HTTP client could interpret differently (spaces, control characters, userinfo, an empty
/// port, characters a host name does not have).
fn check_http_url(text: &str) -> Result<(), String> {
    use url::{Host, ParseError, Url};
    const BAD_HOST: &str = "must name a valid host, like https://api.example.com";
    if text.len() > URL_MAX {
        return Err(format!("must be at most {URL_MAX} characters"));
    }
    let Some((_, rest)) = text.split_once("://").filter(|(scheme, _)| matches!(*scheme, "https" | "http")) else {
        return Err("must start with https:// or http://".into());
    };
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces".into());
    }
    let url = Url::parse(text).map_err(|e| if e == ParseError::InvalidPort { "has an invalid port" } else { BAD_HOST })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    // `Url` takes "host:" as "no port"; a colon with nothing after it is a typo.
    if rest.split(['/', '?', '#']).next().is_some_and(|authority| authority.ends_with(':')) {
        return Err("has an invalid port".into());
    }
    let plain_name = |name: &str| {
        text.is_ascii()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !name.starts_with('.')
            && !name.ends_with('-')
    };
    match url.host() {
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => Ok(()),
        Some(Host::Domain(name)) if plain_name(name) => Ok(()),
        _ => Err(BAD_HOST.into()),
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(value: Value) -> PlatformDraft {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_name_alone_gets_the_defaults() {
        let p = draft(json!({"name": "  X  "})).validate().unwrap();
        assert_eq!(p.name, "X");
        assert_eq!((p.category, p.auth_type, p.status), (Category::Social, AuthType::Oauth2, Status::Active));
        assert!(p.metadata.is_empty());
        assert_eq!(p.description, None);
    }

    #[test]
    fn every_broken_field_is_reported_at_once() {
        let err = draft(json!({
            "name": " ", "category": "games", "auth_type": "magic", "status": "on",
            "icon_url": "ftp://x", "base_url": "https://", "metadata": [1]
        }))
        .validate()
        .unwrap_err();
        for field in ["name", "category", "auth_type", "status", "icon_url", "base_url", "metadata"] {
            assert!(err.get(field).is_some(), "no error for {field}: {err}");
        }
    }

    #[test]
    fn limits_are_enforced() {
        let long = "n".repeat(NAME_MAX + 1);
        assert!(draft(json!({"name": long})).validate().unwrap_err().get("name").unwrap().contains("100"));
        let desc = "d".repeat(DESCRIPTION_MAX + 1);
        assert!(draft(json!({"name": "a", "description": desc})).validate().is_err());
        let big = json!({"name": "a", "metadata": {"blob": "x".repeat(METADATA_MAX_BYTES)}});
        assert!(draft(big).validate().unwrap_err().get("metadata").is_some());
        assert!(draft(json!({"name": "a\u{7}"})).validate().is_err());
    }

    #[test]
    fn urls_must_be_absolute_http_with_a_host() {
        for ok in ["https://api.x.com/2", "http://127.0.0.1:8080", "https://[::1]:9/x", "https://a-b.example"] {
            assert_eq!(check_http_url(ok), Ok(()), "{ok}");
        }
        for bad in ["api.x.com", "javascript:alert(1)", "https://", "https://a b.com", "https://u:p@x.com",
                    "https://x.com:99999", "https://x.com:", "https://exa_mple.com", "//x.com"] {
            assert!(check_http_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn form_reads_metadata_as_json_text_and_blank_enums_as_defaults() {
        let form = PlatformForm {
            name: "Stripe".into(),
            category: "payment".into(),
            auth_type: "".into(),
            metadata: "{\"region\": \"eu\"}".into(),
            ..Default::default()
        };
        let p = form.validate().unwrap();
        assert_eq!(p.category, Category::Payment);
        assert_eq!(p.auth_type, AuthType::Oauth2);
        assert_eq!(p.metadata["region"], "eu");

        let bad = PlatformForm { name: "".into(), metadata: "{oops".into(), ..Default::default() };
        let err = bad.validate().unwrap_err();
        assert!(err.get("metadata").unwrap().starts_with("is not valid JSON"));
        assert_eq!(err.get("name"), Some("is required"));
    }

    #[test]
    fn form_round_trips_a_platform() {
        let now = Utc::now();
        let p = Platform {
            id: Uuid::nil(),
            name: "Mastodon".into(),
            category: Category::Social,
            auth_type: AuthType::Oauth2,
            status: Status::Pending,
            description: Some("Our instance".into()),
            icon_url: None,
            base_url: Some("https://mastodon.social".into()),
            metadata: json!({"instance": "mastodon.social"}).as_object().unwrap().clone(),
            created_at: now,
            updated_at: now,
            encryption: Default::default(),
        };
        let v = PlatformForm::from(&p).validate().unwrap();
        assert_eq!(v.status, Status::Pending);
        assert_eq!(v.metadata, p.metadata);
        assert_eq!(v.base_url, p.base_url);
    }
}
