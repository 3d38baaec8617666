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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// This account's own text, when the composer gave it one; `None`: the post's text.
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Its images or video, in order.
    #[serde(default)]
    pub media: Vec<super::Attached>,
}

impl Post {
    /// Whether `user` may edit, cancel or retry it: its author, or an admin.
    pub fn changeable_by(&self, user: &super::User) -> bool {
        user.is_admin() || self.created_by_id == Some(user.id)
    }

    /// The compose form that would write it again as it is (times in UTC).
    pub fn as_form(&self) -> PostForm {
        let action = match self.state {
            PostState::Draft => "draft",
            PostState::Scheduled => "schedule",
            _ => "now",
        };
        PostForm {
            text: self.text.clone(),
            link: self.link.clone().unwrap_or_default(),
            accounts: self.deliveries.iter().filter_map(|d| d.account_id).map(|a| a.to_string()).collect(),
            action: action.into(),
            scheduled_local: self.scheduled_at.map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default(),
            tz_offset: 0,
            texts: self.deliveries.iter().filter_map(|d| Some(AccountText { account: d.account_id?.to_string(), text: d.text.clone()? })).collect(),
            media: self.media.iter().map(|a| super::MediaPick { id: a.media.id.to_string(), alt: a.alt.clone() }).collect(),
        }
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
    /// The images and video it takes.
    #[serde(default)]
    pub media: super::MediaLimits,
    /// Why its provider cannot fetch files from this Keyport (it takes them by URL and
    /// `PUBLIC_URL` is not reachable from the internet); shown when files are attached.
    #[serde(default)]
    pub unreachable: Option<String>,
    /// What the account lacks before it can be posted to (a Pinterest account's board):
    /// a post to it can be saved as a draft, not sent or scheduled.
    #[serde(default)]
    pub missing: Option<String>,
}

/// What the compose form sends. `action` is the button pressed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PostForm {
    pub text: String,
    pub link: String,
    /// The accounts to post to, by id.
    pub accounts: Vec<String>,
    /// "draft", "now", "schedule" or "queue" (the next free posting slot).
    pub action: String,
    /// `YYYY-MM-DDTHH:MM` in the person's time zone (a datetime-local input).
    pub scheduled_local: String,
    /// Minutes to add to local time to get UTC (JavaScript's getTimezoneOffset); 0 = UTC.
    pub tz_offset: i32,
    /// Accounts' own texts instead of `text`; an empty one means none. A list, not a map:
    /// the form encoding reads a key that starts with a digit as an index.
    pub texts: Vec<AccountText>,
    /// Uploaded files to attach, in order, each with its alt text.
    pub media: Vec<super::MediaPick>,
}

/// One account's own text in a [`PostForm`] (`form[texts][i][account]`, `…[text]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountText {
    pub account: String,
    pub text: String,
}

/// What to do with a valid post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostAction {
    Draft,
    Now,
    Schedule(DateTime<Utc>),
    /// In the next posting slot of its accounts that no queued post holds.
    Queue,
}

/// A post that passed every rule the form alone can check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidPost {
    pub text: String,
    /// The accounts (among `accounts`) with their own text.
    pub texts: Vec<(Uuid, String)>,
    pub link: Option<String>,
    pub accounts: Vec<Uuid>,
    pub action: PostAction,
    /// Files in order, each with its alt text.
    pub media: Vec<(Uuid, String)>,
}

/// Characters as the provider counts them against its limit: Unicode scalar values, but
/// graphemes for Bluesky (`app.bsky.feed.post` text has `maxGraphemes: 300`,
/// https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json),
/// so a family emoji is one, not seven, and X's weighted length ([`x_weighted`]). A link
/// counts with its separator.
pub fn char_count(provider: super::ProviderKey, text: &str, link: Option<&str>) -> usize {
    use unicode_segmentation::UnicodeSegmentation;
    match provider {
        super::ProviderKey::X => x_weighted(text) + link.map_or(0, |_| 1 + X_URL_WEIGHT),
        super::ProviderKey::Bluesky => text.graphemes(true).count() + link.map_or(0, |l| l.graphemes(true).count() + 1),
        _ => text.chars().count() + link.map_or(0, |l| l.chars().count() + 1),
    }
}

/// A post as a network shows it: an optional title, the body, and the link it shows as a
/// card below. Publishers send `body` (and the title or link where the network takes them
/// apart), and the composer's previews draw the same, so what is previewed is what is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub title: Option<String>,
    pub body: String,
    pub card: Option<String>,
}

/// How `provider` shows a post of `text` and `link`: X puts the link after a space,
/// Mastodon, Bluesky, Threads and LinkedIn after a blank line; Facebook and the sandbox
/// take the link apart; Reddit's first line is the title and a link makes a link post.
pub fn shown(provider: super::ProviderKey, text: &str, link: Option<&str>) -> Shown {
    use super::ProviderKey as P;
    let text = text.trim();
    let joined = |separator: &str| match link {
        Some(link) => format!("{text}{separator}{link}"),
        None => text.to_owned(),
    };
    let card = link.map(str::to_owned);
    match provider {
        P::X => Shown { title: None, body: joined(" "), card },
        P::Mastodon | P::Bluesky | P::Threads | P::Linkedin => Shown { title: None, body: joined("\n\n"), card },
        P::Reddit => {
            let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
            let body = if link.is_some() { String::new() } else { rest.trim().to_owned() };
            Shown { title: Some(first.trim().to_owned()), body, card }
        }
        _ => Shown { title: None, body: text.to_owned(), card },
    }
}

/// What X counts every link as (t.co wraps it).
const X_URL_WEIGHT: usize = 23;

/// X's weighted length, by twitter-text's configuration v3
/// (https://github.com/twitter/twitter-text/blob/master/config/v3.json, the rules of
/// https://docs.x.com/fundamentals/counting-characters): a code point in U+0000–U+10FF,
/// U+2000–U+200D, U+2010–U+201F or U+2032–U+2037 weighs 1, any other 2; an emoji weighs 2
/// whatever sequence draws it; every `http(s)://` link weighs 23. Not modelled: links
/// typed without a scheme (`example.com`, which X also wraps) and NFC normalization.
pub fn x_weighted(text: &str) -> usize {
    let mut total = 0;
    let mut rest = text;
    while let Some(start) = next_link(rest) {
        total += x_weigh_plain(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        // Punctuation that ends a sentence is not part of the link.
        let link = tail[..end].trim_end_matches(|c: char| ".,!?;:)'\"".contains(c));
        total += X_URL_WEIGHT;
        rest = &tail[link.len()..];
    }
    total + x_weigh_plain(rest)
}

/// Where the next `http://` or `https://` link starts (at a word's start).
fn next_link(text: &str) -> Option<usize> {
    text.char_indices().find_map(|(i, c)| {
        let at_word = i == 0 || text[..i].ends_with(|p: char| p.is_whitespace() || p == '(');
        let rest = text[i..].as_bytes();
        let scheme = |s: &str| rest.len() > s.len() && rest[..s.len()].eq_ignore_ascii_case(s.as_bytes());
        (at_word && (c == 'h' || c == 'H') && (scheme("http://") || scheme("https://"))).then_some(i)
    })
}

fn x_weigh_plain(text: &str) -> usize {
    use unicode_segmentation::UnicodeSegmentation;
    let light = |c: char| matches!(u32::from(c), 0..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037);
    let emoji = |c: char| matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F);
    text.graphemes(true).map(|g| if g.chars().any(emoji) { 2 } else { g.chars().map(|c| if light(c) { 1 } else { 2 }).sum() }).sum()
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
            "queue" => PostAction::Queue,
            "schedule" => match schedule_at(&self.scheduled_local, self.tz_offset, now) {
                Ok(at) => PostAction::Schedule(at),
                Err((field, message)) => {
                    errors.add(field, message);
                    PostAction::Draft
                }
            },
            _ => {
                errors.add("action", "must be draft, now, schedule or queue");
                PostAction::Draft
            }
        };
        if accounts.is_empty() && action != PostAction::Draft {
            errors.add("accounts", "choose at least one connected account");
        }
        let mut texts = Vec::new();
        for AccountText { account, text: own } in self.texts {
            let own = own.trim();
            match account.parse::<Uuid>() {
                // An account not chosen keeps no text (the composer leaves the fields of
                // unticked accounts in the form).
                Ok(id) if own.is_empty() || !accounts.contains(&id) => {}
                Ok(id) if own.chars().count() > TEXT_MAX => errors.add(&format!("texts.{id}"), format!("must be at most {TEXT_MAX} characters")),
                Ok(id) => texts.push((id, own.to_owned())),
                Err(_) => errors.add("texts", "names an unknown account"),
            }
        }
        let media = attached_media(&mut errors, self.media);
        errors.into_result(ValidPost { text, texts, link, accounts, action, media })
    }
}

/// The files a form attaches: known ids, each once, each described (`media.{i}.alt`).
fn attached_media(errors: &mut FieldErrors, picks: Vec<super::MediaPick>) -> Vec<(Uuid, String)> {
    use super::{ALT_MAX, MEDIA_PER_POST_MAX};
    if picks.len() > MEDIA_PER_POST_MAX {
        errors.add("media", format!("attach at most {MEDIA_PER_POST_MAX} files"));
    }
    let mut media: Vec<(Uuid, String)> = Vec::new();
    for (i, pick) in picks.into_iter().take(MEDIA_PER_POST_MAX).enumerate() {
        let alt = pick.alt.trim().to_owned();
        let n = i + 1;
        match pick.id.trim().parse::<Uuid>() {
            Err(_) => errors.add("media", "names a file that was not uploaded"),
            Ok(id) if media.iter().any(|(m, _)| *m == id) => errors.add("media", format!("file {n} is attached twice")),
            Ok(_) if alt.is_empty() => errors.add(&format!("media.{i}.alt"), format!("is required: describe file {n} for people who cannot see it")),
            Ok(_) if alt.chars().count() > ALT_MAX => errors.add(&format!("media.{i}.alt"), format!("must be at most {ALT_MAX} characters")),
            Ok(id) => media.push((id, alt)),
        }
    }
    media
}

/// The posts list's filters, from the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostFilter {
    pub status: Option<DeliveryStatus>,
    pub platform: Option<Uuid>,
    /// Posts created on this UTC day (`YYYY-MM-DD`).
    pub day: Option<chrono::NaiveDate>,
    /// Posts with a delivery to this account (the same delivery as `status` and `platform`).
    #[serde(default)]
    pub account: Option<Uuid>,
    /// Posts whose time — scheduled, else created — is at or after `from` and before `to`.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
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
            ..Self::default()
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
        use crate::domain::ProviderKey::{Bluesky, Mastodon};
        assert_eq!(char_count(Mastodon, "héllo 👋", None), 7);
        assert_eq!(char_count(Mastodon, "hi", Some("https://x.y")), 2 + 1 + 11);
        // A family (four people joined by ZWJ), a flag and an accented e written as e + U+0301.
        let text = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466} \u{1F1F8}\u{1F1EA} e\u{301}";
        assert_eq!(char_count(Mastodon, text, None), 7 + 1 + 2 + 1 + 2);
        assert_eq!(char_count(Bluesky, text, None), 5, "Bluesky counts what a person sees");
    }

    #[test]
    fn each_network_shows_the_link_its_way() {
        use crate::domain::ProviderKey as P;
        let link = Some("https://example.com/a");
        assert_eq!(shown(P::X, "Hi", link).body, "Hi https://example.com/a");
        assert_eq!(shown(P::Mastodon, "Hi", link).body, "Hi\n\nhttps://example.com/a");
        assert_eq!(shown(P::FacebookPages, "Hi", link), Shown { title: None, body: "Hi".into(), card: link.map(Into::into) });
        assert_eq!(shown(P::Reddit, "Title\nBody", None), Shown { title: Some("Title".into()), body: "Body".into(), card: None });
        assert_eq!(shown(P::Reddit, "Title\nBody", link).body, "", "a link post has no body");
        assert_eq!(shown(P::X, "Hi", None).body, "Hi");
    }

    #[test]
    fn x_counts_its_weighted_length() {
        use crate::domain::ProviderKey::X;
        assert_eq!(x_weighted("This is a test."), 15);
        assert_eq!(x_weighted("café ßü"), 7, "Latin is light");
        assert_eq!(x_weighted("日本語"), 6, "CJK weighs 2");
        assert_eq!(x_weighted("\u{1F600}"), 2);
        assert_eq!(x_weighted("\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"), 2, "an emoji sequence is one emoji");
        assert_eq!(x_weighted("\u{2764}\u{FE0F}"), 2);
        assert_eq!(x_weighted("Read https://example.com/a/very/long/path?with=query&and=more."), 5 + 23 + 1, "a link weighs 23, the full stop 1");
        assert_eq!(x_weighted("(HTTPS://EXAMPLE.COM) and http://a.b"), 1 + 23 + 1 + 5 + 23);
        assert_eq!(x_weighted("nohttps://here"), 14, "a link starts a word");
        assert_eq!(char_count(X, "Hello", Some("https://example.com/launch/with/a/long/path")), 5 + 1 + 23);
        assert_eq!(char_count(X, &"a".repeat(280), None), 280);
    }
}
