//! The `platforms` table.

use super::{now, StoreError, Unique};
use crate::{
    domain::{Encryption, EncryptionState, FacetKey, Platform, PlatformFilter, PlatformSort, ValidPlatform},
    on_db,
    server::db::Db,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::types::Json;
use std::sync::OnceLock;
use uuid::Uuid;

macro_rules! columns {
    () => {
        "id, name, category, auth_type, status, description, icon_url, base_url, metadata, created_at, updated_at"
    };
}

/// [`columns!`], each named as `p`'s (the list's search joins a table with columns of the
/// same names), written once.
fn p_columns() -> &'static str {
    static COLUMNS: OnceLock<String> = OnceLock::new();
    COLUMNS.get_or_init(|| columns!().split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", "))
}

/// Binds a platform's editable fields in column order, after whatever came before them.
macro_rules! bind_fields {
    ($query:expr, $p:expr) => {
        $query
            .bind(&$p.name)
            .bind($p.category.as_str())
            .bind($p.auth_type.as_str())
            .bind($p.status.as_str())
            .bind(&$p.description)
            .bind(&$p.icon_url)
            .bind(&$p.base_url)
            .bind(Json(&$p.metadata))
    };
}

#[derive(sqlx::FromRow)]
struct PlatformRow {
    id: Uuid,
    name: String,
    category: String,
    auth_type: String,
    status: String,
    description: Option<String>,
    icon_url: Option<String>,
    base_url: Option<String>,
    metadata: Json<Map<String, Value>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PlatformRow> for Platform {
    type Error = StoreError;
    fn try_from(r: PlatformRow) -> Result<Self, StoreError> {
        let corrupt = |e: String| StoreError::Corrupt(format!("platform {}: {e}", r.id));
        Ok(Platform {
            category: r.category.parse().map_err(corrupt)?,
            auth_type: r.auth_type.parse().map_err(corrupt)?,
            status: r.status.parse().map_err(corrupt)?,
            id: r.id,
            name: r.name,
            description: r.description,
            icon_url: r.icon_url,
            base_url: r.base_url,
            metadata: r.metadata.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            encryption: Default::default(),
        })
    }
}

pub async fn insert(db: &Db, p: &ValidPlatform) -> Result<Platform, StoreError> {
    let (id, at) = (Uuid::now_v7(), now());
    let row: PlatformRow = on_db!(db, |pool| {
        let query = sqlx::query_as(concat!(
            "INSERT INTO platforms (", columns!(), ") ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ", columns!()
        ))
        .bind(id);
        bind_fields!(query, p)
        .bind(at)
        .bind(at)
        .fetch_one(pool)
        .await
    })
    .map_err(StoreError::unique(Unique::PlatformName))?;
    row.try_into()
}

pub async fn get(db: &Db, id: Uuid) -> Result<Option<Platform>, StoreError> {
    let row: Option<PlatformRow> = on_db!(db, |pool| {
        sqlx::query_as(concat!("SELECT ", columns!(), " FROM platforms WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    row.map(Platform::try_from).transpose()
}

/// Where a page of the list starts, in the list's order: the sort key of a row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PlatformKey {
    /// `lower(name)` as the database computes it (unique).
    #[serde(rename = "n")]
    Name(String),
    #[serde(rename = "u")]
    Updated(DateTime<Utc>, Uuid),
    /// The number the platform was added as (`search_key`, never reused).
    #[serde(rename = "a")]
    Added(i64),
    /// Status, then `lower(name)`.
    #[serde(rename = "s")]
    Status(String, String),
}

impl PlatformKey {
    pub fn sort(&self) -> PlatformSort {
        match self {
            Self::Name(_) => PlatformSort::Name,
            Self::Updated(..) => PlatformSort::Updated,
            Self::Added(_) => PlatformSort::Added,
            Self::Status(..) => PlatformSort::Status,
        }
    }
}

/// One page's worth of the list: what it shows, in which order, from where.
pub struct PageQuery<'a> {
    pub filter: &'a PlatformFilter,
    pub search: Option<&'a str>,
    pub sort: PlatformSort,
    /// The key to start after (or, with `before`, to end before); `None` from the start.
    pub from: Option<&'a PlatformKey>,
    pub before: bool,
    /// Rows to read: a page and one more, to tell whether another page follows.
    pub rows: u32,
    /// The key version that makes a badge "current".
    pub current: u32,
}

/// A row of the list: the platform with its badge, and its sort key.
pub struct Listed {
    pub platform: Platform,
    pub key: PlatformKey,
}

/// What a [`ListedRow`] reads beside the platform's columns.
const LISTED: &str = "lower(p.name) AS sort_name, p.search_key, p.secret_key_min, p.secrets_failing";

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    platform: PlatformRow,
    sort_name: String,
    search_key: i64,
    secret_key_min: Option<i32>,
    secrets_failing: i32,
}

/// A query's text with its arguments, numbered as they are added.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
    /// Planned for its arguments each time, not prepared once: see [`search_sql`].
    one_off: bool,
}

enum Arg {
    Text(String),
    Int(i32),
    Big(i64),
    At(DateTime<Utc>),
    Id(Uuid),
}

impl Sql {
    /// Adds an argument, returning its placeholder.
    fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }
}

/// Runs a [`Sql`] on either database, binding its arguments in order.
macro_rules! fetch_all {
    ($db:expr, $sql:expr) => {
        on_db!($db, |pool| {
            let mut query = sqlx::query_as(&$sql.text).persistent(!$sql.one_off);
            for arg in &$sql.args {
                query = match arg {
                    Arg::Text(t) => query.bind(t.as_str()),
                    Arg::Int(n) => query.bind(*n),
                    Arg::Big(n) => query.bind(*n),
                    Arg::At(at) => query.bind(*at),
                    Arg::Id(id) => query.bind(*id),
                };
            }
            query.fetch_all(pool).await
        })
    };
}

/// The badge's rule (`Encryption::of`) in SQL, on a platform's oldest key version (NULL:
/// no secret) and how many of its secrets fail to open: migration 0022 keeps both.
fn state_sql(key_min: &str, failing: &str, current: &str) -> String {
    format!("CASE WHEN {key_min} IS NULL THEN 'none' WHEN {failing} > 0 THEN 'failed' WHEN {key_min} <> {current} THEN 'old_key' ELSE 'current' END")
}

/// The same rule as [`state_sql`], as the condition "has badge `state`" on `p`, written so
/// the two rare states' partial indexes serve it.
fn state_is(state: EncryptionState, current: &str) -> String {
    match state {
        EncryptionState::NoSecret => "p.secret_key_min IS NULL".into(),
        EncryptionState::Failed => "p.secrets_failing > 0".into(),
        EncryptionState::OldKey => format!("p.secrets_failing = 0 AND p.secret_key_min <> {current}"),
        EncryptionState::Current => format!("p.secrets_failing = 0 AND p.secret_key_min = {current}"),
    }
}

/// The FTS5 phrase for `search` where SQLite's trigram index (migration 0023) answers it:
/// three characters or more, its quotes doubled. `None`: LIKE does.
fn fts_phrase(db: &Db, search: &str) -> Option<String> {
    (matches!(db, Db::Sqlite(_)) && search.chars().count() >= 3).then(|| format!("\"{}\"", search.replace('"', "\"\"")))
}

/// Where the FTS5 index is read: as a list of keys `p`'s rows are looked up in, or as
/// `s`, joined to `p` by the query, whose matches it walks.
#[derive(Clone, Copy, PartialEq)]
enum Fts {
    Lookup,
    Joined,
}

/// The condition "name or description contains the search" on `p`, any case: the FTS5
/// index where it answers ([`fts_phrase`]), otherwise LIKE on `lower` of both sides (each
/// database applying its own rule to both) with LIKE's wildcards taken literally; on
/// PostgreSQL against the stored `search_text` (0027), which its trigram index serves.
fn search_sql(db: &Db, sql: &mut Sql, search: &str, fts: Fts) -> String {
    if let Some(phrase) = fts_phrase(db, search) {
        let phrase = sql.arg(Arg::Text(phrase));
        return match fts {
            Fts::Lookup => format!("p.search_key IN (SELECT rowid FROM platform_search WHERE platform_search MATCH {phrase})"),
            Fts::Joined => format!("s.platform_search MATCH {phrase}"),
        };
    }
    let mut pattern = String::from("%");
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    let pattern = sql.arg(Arg::Text(pattern));
    // A prepared statement's generic plan (PostgreSQL's choice after five runs) neither
    // knows how common the word is, to choose between the trigram index and the name walk,
    // nor folds `lower` of the pattern, which it then computes for every row it reads (46
    // instead of 24 ms for a common word): searches are planned with their pattern.
    sql.one_off = true;
    match db {
        Db::Postgres(_) => format!(r"p.search_text LIKE lower({pattern}) ESCAPE '\'"),
        Db::Sqlite(_) => format!(r"(lower(p.name) LIKE lower({pattern}) ESCAPE '\' OR lower(p.description) LIKE lower({pattern}) ESCAPE '\')"),
    }
}

/// The conditions of the list's filters and search on `p`, their arguments added to `sql`.
fn matching(db: &Db, sql: &mut Sql, filter: &PlatformFilter, search: Option<&str>, current: u32, fts: Fts) -> Vec<String> {
    let mut conditions = vec!["TRUE".to_owned()];
    if let Some(c) = filter.category {
        conditions.push(format!("p.category = {}", sql.arg(Arg::Text(c.as_str().into()))));
    }
    if let Some(s) = filter.status {
        conditions.push(format!("p.status = {}", sql.arg(Arg::Text(s.as_str().into()))));
    }
    if let Some(state) = filter.encryption {
        let current = sql.arg(Arg::Int(current as i32));
        conditions.push(state_is(state, &current));
    }
    if let Some(search) = search {
        conditions.push(search_sql(db, sql, search, fts));
    }
    conditions
}

/// One page of the list, badges included (from the platform's own columns: no secret row
/// is read, nothing is decrypted).
pub async fn page(db: &Db, q: &PageQuery<'_>) -> Result<Vec<Listed>, StoreError> {
    let mut sql = Sql::default();
    let fts = q.search.and_then(|search| fts_phrase(db, search)).is_some();
    // Newest first, SQLite walks the FTS5 matches themselves: they come in the order of
    // their key, which is this order, so the walk stops at the page's end.
    let walk = fts && q.sort == PlatformSort::Added;
    let mut conditions = matching(db, &mut sql, q.filter, q.search, q.current, if walk { Fts::Joined } else { Fts::Lookup });
    let added = if walk { "s.rowid" } else { "p.search_key" };
    // Reading backward flips the order and the comparison; the caller reverses the rows.
    let (cmp, newer) = if q.before { ("<", ">") } else { (">", "<") };
    let (asc, desc) = if q.before { ("DESC", "ASC") } else { ("ASC", "DESC") };
    if let Some(key) = q.from {
        conditions.push(match key {
            PlatformKey::Name(name) => format!("lower(p.name) {cmp} {}", sql.arg(Arg::Text(name.clone()))),
            PlatformKey::Updated(at, id) => format!("(p.updated_at, p.id) {newer} ({}, {})", sql.arg(Arg::At(*at)), sql.arg(Arg::Id(*id))),
            PlatformKey::Added(n) => format!("{added} {newer} {}", sql.arg(Arg::Big(*n))),
            PlatformKey::Status(status, name) => {
                format!("(p.status, lower(p.name)) {cmp} ({}, {})", sql.arg(Arg::Text(status.clone())), sql.arg(Arg::Text(name.clone())))
            }
        });
    }
    let order = match q.sort {
        PlatformSort::Name => format!("lower(p.name) {asc}"),
        PlatformSort::Updated => format!("p.updated_at {desc}, p.id {desc}"),
        PlatformSort::Added => format!("{added} {desc}"),
        PlatformSort::Status => format!("p.status {asc}, lower(p.name) {asc}"),
    };
    let limit = sql.arg(Arg::Int(q.rows as i32));
    // CROSS JOIN: SQLite then keeps the FTS5 walk outside, whatever a filter's index offers.
    let from = if walk { "platform_search s CROSS JOIN platforms p ON p.search_key = s.rowid" } else { "platforms p" };
    let select = format!("SELECT {}, {LISTED} FROM {from}", p_columns());
    let conditions = conditions.join(" AND ");
    // A common word matches thousands: the page is chosen from an index that holds what
    // the search reads beside the name, and only its rows are then read. SQLite: the FTS5
    // keys with their names (0026; a word in 15 % of 100,000 rows: 14 → 6.5 ms). PostgreSQL:
    // the names with their search text (0027; 259 → 29 ms), an index-only walk; newest
    // first, likewise the numbers with their search text (0031).
    let key = match db {
        Db::Postgres(_) if q.search.is_some() => Some("id"),
        Db::Sqlite(_) if fts && !walk => Some("search_key"),
        _ => None,
    };
    sql.text = match key {
        Some(key) => format!("{select} WHERE p.{key} IN (SELECT p.{key} FROM platforms p WHERE {conditions} ORDER BY {order} LIMIT {limit}) ORDER BY {order}"),
        None => format!("{select} WHERE {conditions} ORDER BY {order} LIMIT {limit}"),
    };
    let rows: Vec<ListedRow> = fetch_all!(db, sql)?;
    rows.into_iter()
        .map(|r| {
            let (platform, sort_name, search_key) = r.listed(q.current)?;
            let key = match q.sort {
                PlatformSort::Name => PlatformKey::Name(sort_name),
                PlatformSort::Updated => PlatformKey::Updated(platform.updated_at, platform.id),
                PlatformSort::Added => PlatformKey::Added(search_key),
                PlatformSort::Status => PlatformKey::Status(platform.status.as_str().into(), sort_name),
            };
            Ok(Listed { platform, key })
        })
        .collect()
}

impl ListedRow {
    /// The platform with its badge, its `lower(name)` and its search key.
    fn listed(self, current: u32) -> Result<(Platform, String, i64), StoreError> {
        let encryption = Encryption::of_facts(self.secret_key_min.map(|v| v as u32), self.secrets_failing > 0, current);
        Ok((Platform { encryption, ..Platform::try_from(self.platform)? }, self.sort_name, self.search_key))
    }
}

/// The number migration 0032 moves whenever a platform is added, removed, or changes in
/// what the list filters, searches or sorts on.
pub async fn generation(db: &Db) -> Result<i64, StoreError> {
    Ok(on_db!(db, |pool| sqlx::query_scalar("SELECT n FROM platform_generation").fetch_one(pool).await)?)
}

/// The platforms that match the query's filter and search (at most `most` of them), as
/// their sort key (name or status order) and search key, in the list's order as the
/// database sorts it.
pub async fn order(db: &Db, q: &PageQuery<'_>, most: usize) -> Result<Vec<(PlatformKey, i64)>, StoreError> {
    let mut sql = Sql::default();
    let conditions = matching(db, &mut sql, q.filter, q.search, q.current, Fts::Lookup).join(" AND ");
    // In name order SQLite reads names and keys from an index alone (0026).
    let (status, order) = match q.sort {
        PlatformSort::Status => ("p.status", "p.status, lower(p.name)"),
        _ => ("''", "lower(p.name)"),
    };
    let most = sql.arg(Arg::Big(most as i64));
    sql.text = format!("SELECT {status}, lower(p.name), p.search_key FROM platforms p WHERE {conditions} ORDER BY {order} LIMIT {most}");
    let rows: Vec<(String, String, i64)> = fetch_all!(db, sql)?;
    Ok(rows
        .into_iter()
        .map(|(status, name, key)| match q.sort {
            PlatformSort::Status => (PlatformKey::Status(status, name), key),
            _ => (PlatformKey::Name(name), key),
        })
        .collect())
}

/// The platforms with these search keys (those that still exist), each with its badge.
pub async fn by_search_keys(db: &Db, keys: &[i64], current: u32) -> Result<Vec<(i64, Platform)>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    let list = keys.iter().map(|k| sql.arg(Arg::Big(*k))).collect::<Vec<_>>().join(", ");
    sql.text = format!("SELECT {}, {LISTED} FROM platforms p WHERE p.search_key IN ({list})", p_columns());
    let rows: Vec<ListedRow> = fetch_all!(db, sql)?;
    rows.into_iter().map(|r| r.listed(current).map(|(platform, _, key)| (key, platform))).collect()
}

/// How many platforms share each category, status and encryption state: the counts beside
/// the filters, read from `platform_facets` (a few dozen rows whatever the number of
/// platforms).
pub async fn facets(db: &Db, current: u32) -> Result<Vec<(FacetKey, i64)>, StoreError> {
    let mut sql = Sql::default();
    let current = sql.arg(Arg::Int(current as i32));
    sql.text = format!(
        "SELECT category, status, {} AS state, SUM(n) FROM platform_facets WHERE n > 0 GROUP BY category, status, state",
        state_sql("NULLIF(key_min, 0)", "failing", &current)
    );
    let rows: Vec<(String, String, String, i64)> = fetch_all!(db, sql)?;
    rows.into_iter()
        .map(|(c, s, e, n)| Ok(((c.parse().map_err(StoreError::Corrupt)?, s.parse().map_err(StoreError::Corrupt)?, e.parse().map_err(StoreError::Corrupt)?), n)))
        .collect()
}

/// How many platforms the filters and search let through, counting no further than `cap`.
pub async fn count_matching(db: &Db, filter: &PlatformFilter, search: &str, current: u32, cap: i64) -> Result<i64, StoreError> {
    let mut sql = Sql::default();
    let joined = fts_phrase(db, search).is_some();
    let conditions = matching(db, &mut sql, filter, Some(search), current, if joined { Fts::Joined } else { Fts::Lookup });
    let cap = sql.arg(Arg::Int(cap as i32));
    // Where the FTS5 index answers the search, the count walks its matches and stops at the
    // cap (a word in 15 % of 100,000 rows: 0.5 ms instead of 4.9 ms for gathering them all).
    // Without a filter the FTS5 index alone answers (it holds a row per platform): 0.15
    // instead of 0.32 ms with the join.
    let from = match joined {
        true if filter.is_empty() => "platform_search s",
        true => "platform_search s JOIN platforms p ON p.search_key = s.rowid",
        false => "platforms p",
    };
    sql.text = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {} LIMIT {cap}) x", conditions.join(" AND "));
    let rows: Vec<(i64,)> = fetch_all!(db, sql)?;
    Ok(rows.first().map_or(0, |r| r.0))
}

/// Replaces every editable field; `None` when no such platform exists.
pub async fn update(db: &Db, id: Uuid, p: &ValidPlatform) -> Result<Option<Platform>, StoreError> {
    let row: Option<PlatformRow> = on_db!(db, |pool| {
        let query = sqlx::query_as(concat!(
            "UPDATE platforms SET name = $2, category = $3, auth_type = $4, status = $5, ",
            "description = $6, icon_url = $7, base_url = $8, metadata = $9, updated_at = $10 ",
            "WHERE id = $1 RETURNING ", columns!()
        ))
        .bind(id);
        bind_fields!(query, p)
        .bind(now())
        .fetch_optional(pool)
        .await
    })
    .map_err(StoreError::unique(Unique::PlatformName))?;
    row.map(Platform::try_from).transpose()
}

/// Deletes the platform; `false` when there was none.
pub async fn delete(db: &Db, id: Uuid) -> Result<bool, StoreError> {
    let done = on_db!(db, |pool| {
        sqlx::query("DELETE FROM platforms WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}

/// The platform the demo set-up made, if it still exists.
pub async fn demo(db: &Db) -> Result<Option<Platform>, StoreError> {
    let id: Option<(Uuid,)> = on_db!(db, |pool| sqlx::query_as("SELECT platform_id FROM demo_platform").fetch_optional(pool).await)?;
    match id {
        Some((id,)) => get(db, id).await,
        None => Ok(None),
    }
}

/// Remembers `id` as the demo set-up's platform.
pub async fn set_demo(db: &Db, id: Uuid) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query("INSERT INTO demo_platform (platform_id) VALUES ($1) ON CONFLICT (platform_id) DO NOTHING").bind(id).execute(pool).await.map(|_| ())
    })
    .map_err(StoreError::missing_platform)
}
