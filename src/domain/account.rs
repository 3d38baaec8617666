//! Users, API tokens and audit entries as the pages show them, and the rules for the
//! inputs that create them. Password hashes never leave the server.

use super::{FieldErrors, Role, SecretText};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX_BYTES: usize = 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// One page of the users, with the cursors of the pages around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<User>,
    pub next: Option<String>,
    pub prev: Option<String>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Who is looking at a page: the signed-in user, or nobody. The server builds it for each
/// request and the page shows only what they may do; the server checks the same rules on
/// every call, so this only keeps the interface honest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer(pub Option<User>);

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.0.as_ref().is_some_and(User::is_admin)
    }
}

/// The longest email address (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;

/// Reads an email address: trimmed, lower-cased, one `@` with text on both sides.
pub fn parse_email(errors: &mut FieldErrors, field: &str, email: &str) -> String {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= EMAIL_MAX
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if !valid {
        errors.add(field, "must be an email address, like ada@example.com");
    }
    email
}

/// Checks a new password against the length rules.
pub fn check_password(errors: &mut FieldErrors, field: &str, password: &SecretText) {
    let p = password.expose();
    if p.chars().count() < PASSWORD_MIN {
        errors.add(field, format!("must be at least {PASSWORD_MIN} characters"));
    } else if p.len() > PASSWORD_MAX_BYTES {
        errors.add(field, format!("must be at most {PASSWORD_MAX_BYTES} bytes"));
    }
}

super::wire_enum! {
    /// What an API token may do on the JSON API (tokens work nowhere else).
    TokenScope, "token scope" {
        Read => "read", "Read-only";
        ReadWrite => "read_write", "Read and write";
    }
}

/// The longest an API token may live, in days.
pub const TOKEN_DAYS_MAX: i64 = 3650;

/// When a new token expires: `never`, or after a number of days (1 to [`TOKEN_DAYS_MAX`]).
pub fn parse_token_expiry(errors: &mut FieldErrors, field: &str, text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("never") {
        return None;
    }
    let within = text.parse::<i64>().ok().filter(|days| (1..=TOKEN_DAYS_MAX).contains(days));
    match within.and_then(|days| now.checked_add_signed(chrono::Duration::days(days))) {
        Some(at) => Some(at),
        None => {
            errors.add(field, format!("must be \"never\" or a number of days from 1 to {TOKEN_DAYS_MAX}"));
            None
        }
    }
}

/// A personal API token as listed on the profile page (the token itself is shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub scope: TokenScope,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Past its expiry when it was listed.
    pub expired: bool,
}

/// A token just created: the only time its value is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub token: ApiToken,
    pub value: SecretText,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_label: Option<String>,
    pub outcome: String,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
}

/// One page of the audit log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Cursors of the older and the newer page, where there is one.
    pub next: Option<String>,
    pub prev: Option<String>,
    /// The users and actions that appear in the log, for the filters.
    pub actors: Vec<String>,
    pub actions: Vec<String>,
}

/// A local path to return to after signing in: never another host. `next` is resolved as
/// a browser would resolve it against this site (the WHATWG URL parser drops tabs and
/// newlines, reads `\\` as `/`, percent-encodes control characters), and only a result on
/// this site is kept, re-serialised, so the `Location` header is always valid and local. A
/// path that starts with `//` (`.//evil.example` resolves to one) would be read as a host.
pub fn safe_return_path(next: Option<&str>) -> String {
    const HERE: &str = "http://keyport.invalid/";
    let here = url::Url::parse(HERE).expect("a valid constant URL");
    match next.map(|next| here.join(next)) {
        Some(Ok(there)) if there.origin() == here.origin() && !there.path().starts_with("//") => there[url::Position::BeforePath..].to_owned(),
        _ => "/platforms".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever `next=` holds, the answer is a path on this site that is a valid header.
        #[test]
        fn any_return_path_stays_local_and_is_a_valid_header(next in "[/\\\\\t\n\r\u{0}-\u{1f} a-z.:@?#%\u{80}-\u{10ffff}]{0,24}") {
            let path = safe_return_path(Some(&next));
            prop_assert!(path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\"), "{:?} → {:?}", next, path);
            prop_assert!(path.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{:?} → {:?}", next, path);
        }
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        let mut e = FieldErrors::default();
        assert_eq!(parse_email(&mut e, "email", "  Ada@Example.COM "), "ada@example.com");
        assert!(e.is_empty());
        for bad in ["ada", "ada@", "@x.com", "a b@x.com", "ada@localhost", "a@b@c.com"] {
            let mut e = FieldErrors::default();
            parse_email(&mut e, "email", bad);
            assert!(e.get("email").is_some(), "{bad} accepted");
        }
    }

    #[test]
    fn passwords_need_twelve_characters() {
        let mut e = FieldErrors::default();
        check_password(&mut e, "password", &SecretText::new("short"));
        assert_eq!(e.get("password"), Some("must be at least 12 characters"));
        let mut e = FieldErrors::default();
        check_password(&mut e, "password", &SecretText::new("correct horse battery"));
        assert!(e.is_empty());
    }

    #[test]
    fn return_paths_stay_on_this_site() {
        assert_eq!(safe_return_path(Some("/platforms?category=social")), "/platforms?category=social");
        for bad in ["//evil.com", "/\\evil.com", "https://evil.com", "/\t/evil.example", "/\n/evil.example", "\\\\evil.com", "http://keyport.invalid:8080/x", ".//evil.example", "/.//evil.example", "/x/..//evil.example"] {
            assert_eq!(safe_return_path(Some(bad)), "/platforms", "{bad}");
        }
        // Whatever else comes is resolved on this site, into a valid header value.
        assert_eq!(safe_return_path(Some("/x\r\nSet-Cookie: a=b")), "/xSet-Cookie:%20a=b");
        assert_eq!(safe_return_path(Some("/\u{1}")), "/", "leading and trailing controls are trimmed");
        assert_eq!(safe_return_path(Some("/a\u{1}b")), "/a%01b");
        assert_eq!(safe_return_path(Some("posts")), "/posts");
        assert_eq!(safe_return_path(Some("/posts?day=2026-12-24#top")), "/posts?day=2026-12-24#top");
        assert_eq!(safe_return_path(None), "/platforms");
    }
}
