//! Posts and their deliveries: what a marketer composes, and what happened on each
//! platform it was sent to.

use super::{enums::wire_enum, FieldErrors};
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const TEXT_MAX: usize = 5000;

wire_enum! {
    /// Where a post is in its life: saved (draft), waiting for its time (scheduled),
    /// handed to the delivery queue (sent: its deliveries say how far they got), cancelled.
    PostState, "post state" {
        Draft => "draft", "Draft";
        Scheduled => "scheduled", "Scheduled";
        Sent => "sent", "Sent";
        Cancelled => "cancelled", "Cancelled";
    }
}

wire_enum! {
    /// Where one delivery (post × platform) is. `waiting`: part of a draft or a scheduled
    /// post, not due yet. `unconfirmed`: the call may or may not have reached the provider
    /// (a crash in between) and the provider offers no idempotency key: a person must check
    /// before retrying.
    DeliveryStatus, "delivery status" {
        Waiting => "waiting", "Waiting";
        Queued => "queued", "Queued";
        Publishing => "publishing", "Publishing";
        Published => "published", "Published";
        Failed => "failed", "Failed";
        Unconfirmed => "unconfirmed", "Unconfirmed";
        Cancelled => "cancelled", "Cancelled";
    }
}

impl DeliveryStatus {
    /// Whether the worker may still change it.
    pub fn in_flight(self) -> bool {
        matches!(self, Self::Queued | Self::Publishing)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: Uuid,
    pub platform_id: Uuid,
    pub platform_name: String,
    /// The account it goes to; `None` once that account was disconnected.
    pub account_id: Option<Uuid>,
    pub account_name: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub due_at: DateTime<Utc>,
    pub provider_post_id: Option<String>,
    pub provider_url: Option<String>,
    /// The provider's error in plain words, with what to do.
    pub error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: Uuid,
    pub text: String,
    pub link: Option<String>,
    pub state: PostState,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_by: String,
    /// The author's user id (none for a job's post, or once the user is gone).
    #[serde(default)]
    pub created_by_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deliveries: Vec<Delivery>,
}

impl Post {
    /// Whether `user` may edit, cancel or retry it: its author, or an admin.
    pub fn changeable_by(&self, user: &super::User) -> bool {
        user.is_admin() || self.created_by_id == Some(user.id)
    }

    /// Whether it can still be edited or cancelled (nothing has been sent yet).
    pub fn editable(&self) -> bool {
        matches!(self.state, PostState::Draft | PostState::Scheduled)
    }
}

/// An account a post can go to: connected, under a platform whose provider has a publisher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishTarget {
    pub account_id: Uuid,
    pub platform_id: Uuid,
    pub platform_name: String,
    /// The account's name as the composer shows it.
    pub name: String,
    pub avatar_url: Option<String>,
    pub provider: super::ProviderKey,
    /// Longest text the platform takes, in characters.
    pub char_limit: Option<u32>,
}

/// What the compose form sends. `action` is the button pressed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PostForm {
    pub text: String,
    pub link: String,
    /// The accounts to post to, by id.
    pub accounts: Vec<String>,
    /// "draft", "now" or "schedule".
    pub action: String,
    /// `YYYY-MM-DDTHH:MM` in the person's time zone (a datetime-local input).
    pub scheduled_local: String,
    /// Minutes to add to local time to get UTC (JavaScript's getTimezoneOffset); 0 = UTC.
    pub tz_offset: i32,
}

/// What to do with a valid post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostAction {
    Draft,
    Now,
    Schedule(DateTime<Utc>),
}

/// A post that passed every rule the form alone can check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidPost {
    pub text: String,
    pub link: Option<String>,
    pub accounts: Vec<Uuid>,
    pub action: PostAction,
}

/// Characters as people count them (Unicode scalar values; providers weigh some
/// differently, X counts a link as 23).
pub fn char_count(text: &str, link: Option<&str>) -> usize {
    text.chars().count() + link.map_or(0, |l| l.chars().count() + 1)
}

/// How far ahead a post may be scheduled.
pub const SCHEDULE_MAX_DAYS: i64 = 5 * 366;

/// The UTC time of a local `YYYY-MM-DDTHH:MM` in a zone `tz_offset` minutes behind UTC (as
/// the browser's `getTimezoneOffset` says it), checked so no input can overflow a time.
fn schedule_at(local: &str, tz_offset: i32, now: DateTime<Utc>) -> Result<DateTime<Utc>, (&'static str, String)> {
    if !(-18 * 60..=18 * 60).contains(&tz_offset) {
        return Err(("tz_offset", "must be a time-zone offset between -1080 and 1080 minutes".into()));
    }
    let local = NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%dT%H:%M")
        .map_err(|_| ("scheduled_local", "must be a date and time, like 2026-12-24T09:30".to_owned()))?;
    let too_far = || ("scheduled_local", format!("must be within {} years", SCHEDULE_MAX_DAYS / 366));
    let at = local.and_utc().checked_add_signed(Duration::minutes(tz_offset.into())).ok_or_else(too_far)?;
    if at <= now {
        return Err(("scheduled_local", "must be in the future".into()));
    }
    if at.signed_duration_since(now) > Duration::days(SCHEDULE_MAX_DAYS) {
        return Err(too_far());
    }
    Ok(at)
}

impl PostForm {
    pub fn validate(self, now: DateTime<Utc>) -> Result<ValidPost, FieldErrors> {
        let mut errors = FieldErrors::default();
        let text = self.text.trim().to_owned();
        if text.is_empty() {
            errors.add("text", "is required: write what to post");
        } else if text.chars().count() > TEXT_MAX {
            errors.add("text", format!("must be at most {TEXT_MAX} characters"));
        }
        let link = super::platform::optional_url(&mut errors, "link", Some(self.link));
        let mut accounts = Vec::new();
        for id in &self.accounts {
            match id.parse::<Uuid>() {
                Ok(id) if !accounts.contains(&id) => accounts.push(id),
                Ok(_) => {}
                Err(_) => errors.add("accounts", "names an unknown account"),
            }
        }
        let action = match self.action.as_str() {
            "draft" => PostAction::Draft,
            "now" => PostAction::Now,
            "schedule" => match schedule_at(&self.scheduled_local, self.tz_offset, now) {
                Ok(at) => PostAction::Schedule(at),
                Err((field, message)) => {
                    errors.add(field, message);
                    PostAction::Draft
                }
            },
            _ => {
                errors.add("action", "must be draft, now or schedule");
                PostAction::Draft
            }
        };
        if accounts.is_empty() && action != PostAction::Draft {
            errors.add("accounts", "choose at least one connected account");
        }
        errors.into_result(ValidPost { text, link, accounts, action })
    }
}

/// The posts list's filters, from the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostFilter {
    pub status: Option<DeliveryStatus>,
    pub platform: Option<Uuid>,
    /// Posts created on this UTC day (`YYYY-MM-DD`).
    pub day: Option<chrono::NaiveDate>,
}

impl PostFilter {
    /// Reads the filter from URL query values; an empty value means "any".
    pub fn parse(status: Option<&str>, platform: Option<&str>, day: Option<&str>) -> Result<Self, FieldErrors> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let mut errors = FieldErrors::default();
        let filter = Self {
            status: given(status).and_then(|s| s.parse().map_err(|message| errors.add("status", message)).ok()),
            platform: given(platform).and_then(|p| p.parse().map_err(|_| errors.add("platform", "is not a platform id")).ok()),
            day: given(day).and_then(|d| {
                // Years past 9999 parse, but no day filter needs them and the day after the
                // last representable date does not exist.
                let parsed = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().filter(|d| (1..=9999).contains(&d.year()));
                if parsed.is_none() {
                    errors.add("day", "must be a date like 2026-12-24");
                }
                parsed
            }),
        };
        errors.into_result(filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(action: &str) -> PostForm {
        PostForm { text: "Hello".into(), accounts: vec![Uuid::nil().to_string()], action: action.into(), ..Default::default() }
    }

    #[test]
    fn schedules_in_the_persons_time_zone_and_stores_utc() {
        let now = "2026-11-29T08:00:00Z".parse().unwrap();
        // 10:30 in UTC+1 (getTimezoneOffset = -60) is 09:30 UTC.
        let valid = PostForm { scheduled_local: "2026-11-29T10:30".into(), tz_offset: -60, ..form("schedule") }.validate(now).unwrap();
        assert_eq!(valid.action, PostAction::Schedule("2026-11-29T09:30:00Z".parse().unwrap()));
        let past = PostForm { scheduled_local: "2026-11-29T08:30".into(), tz_offset: -60, ..form("schedule") }.validate(now).unwrap_err();
        assert_eq!(past.get("scheduled_local"), Some("must be in the future"));
        let garbage = PostForm { scheduled_local: "tomorrow".into(), ..form("schedule") }.validate(now).unwrap_err();
        assert!(garbage.get("scheduled_local").is_some());
    }

    #[test]
    fn names_each_problem() {
        let now = Utc::now();
        let errors = PostForm { text: " ".into(), link: "javascript:alert(1)".into(), accounts: vec![], action: "now".into(), ..Default::default() }
            .validate(now)
            .unwrap_err();
        assert!(errors.get("text").is_some() && errors.get("link").is_some() && errors.get("accounts").is_some());
        assert!(form("draft").validate(now).is_ok());
        assert!(PostForm { accounts: vec![], ..form("draft") }.validate(now).is_ok(), "a draft may have no account yet");
    }

    #[test]
    fn times_that_would_overflow_are_refused_with_the_field_named() {
        let now = "2026-11-29T08:00:00Z".parse().unwrap();
        let schedule = |local: &str, tz_offset| PostForm { scheduled_local: local.into(), tz_offset, ..form("schedule") }.validate(now);
        assert_eq!(schedule("2026-12-24T09:30", i32::MIN).unwrap_err().get("tz_offset"), Some("must be a time-zone offset between -1080 and 1080 minutes"));
        assert!(schedule("2026-12-24T09:30", 1081).unwrap_err().get("tz_offset").is_some());
        for far in ["+262142-12-31T23:59", "9999-12-31T23:59"] {
            assert_eq!(schedule(far, 1080).unwrap_err().get("scheduled_local"), Some("must be within 5 years"), "{far}");
        }
        assert!(schedule("2031-11-01T09:00", 0).is_ok(), "five years ahead is fine");
        for day in ["+262142-12-31", "262143-01-01", "10000-01-01", "0000-01-01"] {
            assert_eq!(PostFilter::parse(None, None, Some(day)).unwrap_err().get("day"), Some("must be a date like 2026-12-24"), "{day}");
        }
        assert_eq!(PostFilter::parse(None, None, Some("9999-12-31")).unwrap().day, chrono::NaiveDate::from_ymd_opt(9999, 12, 31));
    }

    proptest::proptest! {
        /// Any schedule, offset or day filter a browser or a script sends: an answer, never a panic.
        #[test]
        fn any_date_input_is_answered(local in "[+0-9:T-]{0,24}", tz_offset in proptest::num::i32::ANY, day in "[+0-9-]{0,14}") {
            let now = Utc::now();
            let _ = PostForm { scheduled_local: local, tz_offset, ..form("schedule") }.validate(now);
            let _ = PostFilter::parse(None, None, Some(&day));
        }
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(char_count("héllo 👋", None), 7);
        assert_eq!(char_count("hi", Some("https://x.y")), 2 + 1 + 11);
    }
}
