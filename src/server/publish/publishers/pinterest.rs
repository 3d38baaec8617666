//! Pinterest API v5 (its OpenAPI description, github.com/pinterest/api-description
//! `v5/openapi.yaml`, `pins/create`; https://developers.pinterest.com/docs/content/update/):
//! `POST {base}/pins` with `board_id` (the board the account chose on the platform page),
//! `description` (≤ 800), `link` (≤ 2048), `alt_text` (≤ 500) and `media_source`: one
//! image as `{"source_type": "image_url", "url"}`, 2 to 5 as `multiple_image_urls` with
//! `items` `[{"url"}]`. Pinterest fetches each image from the link Keyport lends. It
//! answers with the Pin; its page is `https://www.pinterest.com/pin/{id}/`.
//!
//! The boards come from `GET {base}/boards` (`boards:read`): `{"items": [{"id", "name",
//! "privacy"}], "bookmark"}`, `page_size` up to 250, the next page by `bookmark`.
//! Errors are `{"code", "message"}`. No idempotency key: an interrupted attempt is
//! unconfirmed.

use super::{field, send, PublishError, Published, Request};
use crate::domain::Board;
use secrecy::SecretString;
use serde_json::{json, Value};

/// Pinterest's longest alt text.
const ALT_MAX: usize = 500;
/// Pages of boards read at most (250 each): enough for any person's boards.
const BOARD_PAGES: usize = 8;

pub async fn publish(http: &reqwest::Client, base: &str, board: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let board = board.ok_or_else(|| PublishError::Rejected { message: "the account has no board: choose one on the platform page, then Retry".into() })?;
    let media_source = match post.media {
        [] => return Err(PublishError::Rejected { message: "a Pin is an image on a board: attach one to five images".into() }),
        [image] => json!({ "source_type": "image_url", "url": image.link }),
        images => json!({ "source_type": "multiple_image_urls", "items": images.iter().map(|i| json!({ "url": i.link })).collect::<Vec<_>>() }),
    };
    let alt: String = post.media[0].alt.chars().take(ALT_MAX).collect();
    let mut body = json!({ "board_id": board, "description": post.text, "alt_text": alt, "media_source": media_source });
    if let Some(link) = post.link {
        body["link"] = link.into();
    }
    let (_, json) = send(http.post(format!("{base}/pins")).json(&body), token).await?;
    let id = field(&json, "/id")?;
    Ok(Published { url: Some(format!("https://www.pinterest.com/pin/{id}/")), id })
}

/// The account's boards, in Pinterest's order.
pub async fn boards(http: &reqwest::Client, base: &str, token: &SecretString) -> Result<Vec<Board>, PublishError> {
    let mut boards = Vec::new();
    let mut bookmark: Option<String> = None;
    for _ in 0..BOARD_PAGES {
        let mut query = vec![("page_size", "250".to_owned())];
        query.extend(bookmark.take().map(|b| ("bookmark", b)));
        let (_, json) = send(http.get(format!("{base}/boards")).query(&query), token).await?;
        let items = json.get("items").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        boards.extend(items.iter().filter_map(|b| {
            let text = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_owned);
            Some(Board { id: text("id")?, name: text("name").unwrap_or_default(), secret: text("privacy").as_deref() == Some("SECRET") })
        }));
        bookmark = json.get("bookmark").and_then(Value::as_str).filter(|b| !b.is_empty()).map(str::to_owned);
        if bookmark.is_none() {
            break;
        }
    }
    Ok(boards)
}
