//! Reddit: `POST {base}/api/submit` (https://www.reddit.com/dev/api#POST_api_submit, scope
//! `submit`), a form with `api_type=json`, `sr`, `kind` (`link` with `url`, or `self` with
//! `text`) and `title` ("up to 300 characters long"). The title is the post's first line;
//! a text post's body is the rest (`domain::shown`). Reddit reports refusals with HTTP 200 as
//! `{"json": {"errors": [[CODE, message, field]]}}` (reddit-archive/reddit,
//! r2/lib/jsonresponse.py), a success as `{"json": {"errors": [], "data": {"url", "id",
//! "name"}}}` — both as recorded in praw-dev/praw's cassettes (tests/fixtures/recorded/reddit).
//! Every request names a descriptive User-Agent, `<platform>:<app ID>:<version> (by
//! /u/<username>)` (https://github.com/reddit-archive/reddit/wiki/API, "Rules"). No
//! idempotency key: an interrupted attempt is unconfirmed.

use super::{field, send, PublishError, Published, Request};
use secrecy::SecretString;
use serde_json::Value;
use std::time::Duration;

/// Reddit's longest title.
pub const TITLE_MAX: usize = 300;

pub async fn publish(http: &reqwest::Client, base: &str, subreddit: Option<&str>, author: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let sr = subreddit.ok_or_else(|| PublishError::Rejected { message: "the account has no subreddit and no name to post to its profile: choose a subreddit on the platform page, then Retry".into() })?;
    let shown = crate::domain::shown(crate::domain::ProviderKey::Reddit, post.text, post.link);
    let title = cut_title(shown.title.as_deref().unwrap_or_default());
    let mut form = vec![("api_type", "json"), ("sr", sr), ("title", title.as_str()), ("resubmit", "true"), ("sendreplies", "true")];
    match post.link {
        Some(url) => form.extend([("kind", "link"), ("url", url)]),
        None => form.extend([("kind", "self"), ("text", shown.body.as_str())]),
    }
    let agent = format!("web:keyport:v{} (by /u/{})", env!("CARGO_PKG_VERSION"), author.unwrap_or("keyport"));
    let request = http.post(format!("{base}/api/submit")).header(reqwest::header::USER_AGENT, agent).form(&form);
    let (_, json) = send(request, token).await?;
    if let Some(refusal) = refusal(&json) {
        return Err(refusal);
    }
    Ok(Published { id: field(&json, "/json/data/name")?, url: field(&json, "/json/data/url").ok() })
}

/// The title cut to [`TITLE_MAX`] characters.
fn cut_title(first: &str) -> String {
    match first.chars().count() > TITLE_MAX {
        true => first.chars().take(TITLE_MAX - 1).chain(['…']).collect(),
        false => first.to_owned(),
    }
}

/// The refusal in a 200 answer's `json.errors`, if any. `RATELIMIT` is retried after the
/// seconds Reddit names in `json.ratelimit` (clamped to an hour); the rest are final.
fn refusal(json: &Value) -> Option<PublishError> {
    let errors = json.pointer("/json/errors")?.as_array()?;
    let said: Vec<String> = errors
        .iter()
        .filter_map(Value::as_array)
        .map(|e| {
            let part = |i: usize| e.get(i).and_then(Value::as_str).unwrap_or_default();
            let field = Some(part(2)).filter(|f| !f.is_empty()).map(|f| format!(", field {f}")).unwrap_or_default();
            format!("{} ({}{field})", part(1), part(0))
        })
        .collect();
    if said.is_empty() {
        return None;
    }
    let message: String = format!("Reddit refused the post: {}", said.join("; ")).chars().take(500).collect();
    let rate_limited = errors.iter().any(|e| e.get(0).and_then(Value::as_str) == Some("RATELIMIT"));
    Some(match rate_limited {
        true => {
            let seconds = json.pointer("/json/ratelimit").and_then(Value::as_f64).filter(|s| s.is_finite()).unwrap_or(60.0).clamp(1.0, 3600.0);
            PublishError::Retryable { message, retry_after: Some(Duration::from_secs_f64(seconds)) }
        }
        false => PublishError::Rejected { message },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_long_title_is_cut_to_reddits_limit() {
        assert_eq!(cut_title("Fresh bread"), "Fresh bread");
        let long = cut_title(&"é".repeat(400));
        assert_eq!(long.chars().count(), TITLE_MAX);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn errors_in_a_200_answer_are_refusals() {
        let none = json!({"json": {"errors": [], "data": {"name": "t3_x"}}});
        assert_eq!(refusal(&none), None);
        let noexist = json!({"json": {"errors": [["SUBREDDIT_NOEXIST", "that community doesn't exist", "sr"]]}});
        assert_eq!(refusal(&noexist), Some(PublishError::Rejected { message: "Reddit refused the post: that community doesn't exist (SUBREDDIT_NOEXIST, field sr)".into() }));
        for ratelimit in [json!(76.3), json!(1e300), json!(-5), json!("soon")] {
            let limited = json!({"json": {"ratelimit": ratelimit, "errors": [["RATELIMIT", "you are doing that too much. try again in 1 minute.", "ratelimit"]]}});
            let Some(PublishError::Retryable { retry_after: Some(after), .. }) = refusal(&limited) else { panic!("a rate limit is retried") };
            assert!((1..=3600).contains(&after.as_secs()), "{after:?} for {ratelimit}");
        }
    }
}
