//! Keyset paging, shared by every paged list: a page starts after (or ends before) the sort
//! key of a row, so a page costs the same at row 50 and at row 100,000, and rows written
//! meanwhile neither repeat nor vanish. The cursor is that key, serialized and base64url
//! encoded: opaque to clients, checked like any other input.

use crate::domain::FieldErrors;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Longest cursor read: a sort key is a name (100 characters) and a few fixed-size values.
const CURSOR_MAX: usize = 1024;

/// Where a page starts: just after `key` (reading forward), or just before it (backward).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor<K> {
    #[serde(rename = "b", default, skip_serializing_if = "std::ops::Not::not")]
    pub before: bool,
    #[serde(rename = "k")]
    pub key: K,
}

impl<K: Serialize + DeserializeOwned> Cursor<K> {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a sort key serializes"))
    }

    /// Reads a cursor this server gave out; anything else is a 400 naming `cursor`.
    pub fn decode(text: &str) -> Result<Self, FieldErrors> {
        let invalid = || FieldErrors::single("cursor", "is not a cursor of this list: use the next or prev value of a page, as given");
        if text.len() > CURSOR_MAX {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

/// One page of rows with the cursors of the pages on either side.
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
    pub prev: Option<String>,
}

/// Turns the rows read for a page (up to `limit + 1` of them, in reading order: backward
/// when the cursor says `before`) into the page and its neighbours' cursors. The extra row
/// only tells that there is more in the reading direction; the other side exists when the
/// page was reached through a cursor.
pub fn paginate<T, K: Serialize + DeserializeOwned>(mut rows: Vec<T>, limit: usize, from: Option<&Cursor<K>>, key: impl Fn(&T) -> K) -> Paged<T> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let before = from.is_some_and(|c| c.before);
    if before {
        rows.reverse();
    }
    let (more_after, more_before) = if before { (from.is_some(), more) } else { (more, from.is_some()) };
    let cursor = |row: Option<&T>, before: bool| row.map(|r| Cursor { before, key: key(r) }.encode());
    Paged {
        next: if more_after { cursor(rows.last(), false) } else { None },
        prev: if more_before { cursor(rows.first(), true) } else { None },
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages through 0..n the way a store would answer, forward then back.
    fn read(n: u32, limit: usize, from: Option<&Cursor<u32>>) -> Paged<u32> {
        let rows: Vec<u32> = match from {
            None => (0..n).take(limit + 1).collect(),
            Some(c) if c.before => (0..c.key).rev().take(limit + 1).collect(),
            Some(c) => (c.key + 1..n).take(limit + 1).collect(),
        };
        paginate(rows, limit, from, |&r| r)
    }

    #[test]
    fn next_and_prev_walk_every_row_once_each_way() {
        let mut seen: Vec<u32> = Vec::new();
        let mut page = read(7, 3, None);
        assert_eq!(page.prev, None, "the first page has nothing before it");
        loop {
            seen.extend(&page.rows);
            let Some(next) = page.next.clone() else { break };
            page = read(7, 3, Some(&Cursor::decode(&next).unwrap()));
        }
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        assert_eq!(page.rows, vec![6]);
        let back = read(7, 3, Some(&Cursor::decode(page.prev.as_ref().unwrap()).unwrap()));
        assert_eq!(back.rows, vec![3, 4, 5], "backward pages come out in reading order");
        let first = read(7, 3, Some(&Cursor::decode(back.prev.as_ref().unwrap()).unwrap()));
        assert_eq!((first.rows, first.prev), (vec![0, 1, 2], None), "the first page reached backward has no prev");
        assert!(first.next.is_some());
    }

    #[test]
    fn an_exact_fit_has_no_next() {
        let page = read(3, 3, None);
        assert_eq!((page.rows.len(), page.next, page.prev), (3, None, None));
    }

    #[test]
    fn a_cursor_from_elsewhere_is_refused_by_name() {
        for bad in ["nope!", "eyJ4IjoxfQ", &"A".repeat(2000)] {
            let err = Cursor::<u32>::decode(bad).unwrap_err();
            assert!(err.get("cursor").is_some(), "{bad}");
        }
    }
}
