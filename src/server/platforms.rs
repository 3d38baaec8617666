//! The platform registry's operations, shared by the server functions and the JSON API:
//! validated input in, stored platforms (with their encryption badge) or a user-facing
//! [`AppError`] out.

use super::{
    audit::{self, Action, Outcome, Target, TargetKind},
    auth::Caller,
    crypto::Keyring,
    db::Db,
    oauth, secrets,
    state::AppState,
    paging::{paginate, Cursor},
    search_orders::{Known, Reading, MAX_ORDER},
    store::platforms::{self as store, PlatformKey},
};
use crate::domain::{
    AppError, AuthType, FacetCounts, FieldErrors, OauthSettingsForm, Platform, PlatformForm, PlatformList, PlatformQuery, PlatformSort, ValidPlatform, SEARCH_COUNT_MAX,
};
use std::{collections::HashMap, time::Instant};
use uuid::Uuid;

fn missing(id: Uuid) -> AppError {
    AppError::not_found(format!("platform {id}"))
}

/// One page of the platforms the query asks for, each with its badge (from stored facts:
/// nothing is decrypted), the cursors around it, and the counts for every filter choice
/// (kept by triggers in `platform_facets`; a search counts its own matches).
pub async fn list(state: &AppState, query: &PlatformQuery) -> Result<PlatformList, AppError> {
    let (db, keyring) = (&state.db, &state.keyring);
    let from = query.cursor.as_deref().map(Cursor::<PlatformKey>::decode).transpose()?;
    if from.as_ref().is_some_and(|c| c.key.sort() != query.sort) {
        return Err(FieldErrors::single("cursor", "belongs to another order: start again from the first page").into());
    }
    let current = keyring.current_version();
    let page = store::PageQuery {
        filter: &query.filter,
        search: query.search.as_deref(),
        sort: query.sort,
        from: from.as_ref().map(|c| &c.key),
        before: from.as_ref().is_some_and(|c| c.before),
        rows: query.limit + 1,
        current,
    };
    let mut counts = FacetCounts::new(&store::facets(db, current).await?, &query.filter);
    // The counts know when nothing matches: a rare filter then walks no index at all.
    let (rows, ordered) = match query.search.as_deref() {
        _ if counts.matching == 0 => (Vec::new(), None),
        Some(search) if matches!(query.sort, PlatformSort::Name | PlatformSort::Status) => match ordered_page(state, search, query, &page).await? {
            Some((rows, matching)) => (rows, Some(matching as i64)),
            None => (store::page(db, &page).await?, None),
        },
        _ => (store::page(db, &page).await?, None),
    };
    if let Some(search) = query.search.as_deref() {
        // A whole order, or a first page that is not full, has counted its matches
        // already; "more than the cap" stands a few seconds (server::search_counts).
        let counted = (search.to_owned(), query.filter, current);
        let now = Instant::now();
        let matching = match (ordered, rows.len() as u32 <= query.limit, &from) {
            (Some(n), ..) => n,
            (None, true, None) => rows.len() as i64,
            _ if state.search_counts.over_cap(&counted, now) => SEARCH_COUNT_MAX + 1,
            _ => {
                let n = store::count_matching(db, &query.filter, search, current, SEARCH_COUNT_MAX + 1).await?;
                if n > SEARCH_COUNT_MAX {
                    state.search_counts.counted_over_cap(counted, now);
                }
                n
            }
        };
        counts = counts.searched(matching.min(SEARCH_COUNT_MAX), matching > SEARCH_COUNT_MAX);
    }
    let page = paginate(rows, query.limit as usize, from.as_ref(), |row| row.key.clone());
    Ok(PlatformList {
        platforms: page.rows.into_iter().map(|row| row.platform).collect(),
        counts,
        next: page.next,
        prev: page.prev,
    })
}

/// A searched page in name or status order, cut from the search's whole order of matches
/// (server::search_orders), with how many match. `None` where the database reads the page
/// itself: no order is kept for this generation yet (it is then read in the background),
/// the order is too long to keep, or it no longer holds the cursor's row (renamed or
/// deleted since).
async fn ordered_page(state: &AppState, search: &str, query: &PlatformQuery, page: &store::PageQuery<'_>) -> Result<Option<(Vec<store::Listed>, usize)>, AppError> {
    let db = &state.db;
    // Read before the order, which is then at least as new as the number it is kept under.
    let generation = store::generation(db).await?;
    let wanted = (search.to_owned(), query.filter, query.sort, page.current);
    let Some(known) = state.search_orders.get(&wanted, generation) else {
        if let Some(reading) = state.search_orders.start_reading(&wanted) {
            tokio::spawn(read_order(db.clone(), reading, generation));
        }
        return Ok(None);
    };
    let Known::Order(order) = known else { return Ok(None) };
    // The database's collation made the order, so the cursor is found, not compared.
    let after = match page.from {
        None => 0,
        Some(key) => match order.iter().position(|(k, _)| k == key) {
            Some(at) if page.before => at,
            Some(at) => at + 1,
            None => return Ok(None),
        },
    };
    let rows = page.rows as usize;
    // Read backward like `store::page`: the rows before the cursor, nearest first.
    let keys: Vec<&(PlatformKey, i64)> = if page.before { order[..after].iter().rev().take(rows).collect() } else { order[after..].iter().take(rows).collect() };
    let numbers: Vec<i64> = keys.iter().map(|(_, n)| *n).collect();
    let mut found: HashMap<i64, Platform> = store::by_search_keys(db, &numbers, page.current).await?.into_iter().collect();
    let listed = keys.into_iter().filter_map(|(key, n)| found.remove(n).map(|platform| store::Listed { platform, key: key.clone() })).collect();
    Ok(Some((listed, order.len())))
}

/// Reads a search's whole order and keeps it under the generation read before it.
async fn read_order(db: Db, reading: Reading, generation: i64) {
    let (search, filter, sort, current) = reading.search();
    let q = store::PageQuery { filter, search: Some(search), sort: *sort, from: None, before: false, rows: 0, current: *current };
    match store::order(&db, &q, MAX_ORDER + 1).await {
        Ok(order) => {
            let known = if order.len() > MAX_ORDER { Known::TooLong } else { Known::Order(order.into()) };
            reading.orders().keep(reading.search().clone(), generation, known);
        }
        Err(e) => tracing::warn!(error = %e, "could not read a search's order; its pages come from the database"),
    }
}

pub async fn get(db: &Db, keyring: &Keyring, id: Uuid) -> Result<Platform, AppError> {
    let platform = store::get(db, id).await?.ok_or_else(|| missing(id))?;
    with_badge(db, keyring, platform).await
}

async fn with_badge(db: &Db, keyring: &Keyring, platform: Platform) -> Result<Platform, AppError> {
    let encryption = secrets::encryption(db, keyring, platform.id).await?;
    Ok(Platform { encryption, ..platform })
}

pub async fn create(db: &Db, caller: &Caller, input: ValidPlatform) -> Result<Platform, AppError> {
    let platform = store::insert(db, &input).await?;
    tracing::info!(platform.id = %platform.id, platform.name = %platform.name, "platform created");
    audit::record(db, caller, Action::PlatformCreated, Some(Target::platform(&platform)), Outcome::Ok, None).await;
    Ok(platform)
}

pub async fn update(db: &Db, keyring: &Keyring, caller: &Caller, id: Uuid, input: ValidPlatform) -> Result<Platform, AppError> {
    let platform = store::update(db, id, &input).await?.ok_or_else(|| missing(id))?;
    tracing::info!(platform.id = %platform.id, "platform updated");
    audit::record(db, caller, Action::PlatformUpdated, Some(Target::platform(&platform)), Outcome::Ok, None).await;
    with_badge(db, keyring, platform).await
}

/// Creates a platform from the HTML form; an OAuth platform started from a catalog provider
/// gets that provider's settings.
pub async fn create_from_form(state: &AppState, caller: &Caller, form: PlatformForm) -> Result<Platform, AppError> {
    let provider = form.provider.trim().to_owned();
    let platform = create(&state.db, caller, form.validate()?).await?;
    if !provider.is_empty() && platform.auth_type == AuthType::Oauth2 {
        oauth::save_settings(state, caller, &platform, OauthSettingsForm { provider, ..Default::default() }).await?;
    }
    Ok(platform)
}

/// Deletes the platform; its secrets and credentials go with it (ON DELETE CASCADE). A
/// connected OAuth grant is revoked at the provider first (where it supports revocation),
/// so deleting does not leave a live grant behind.
pub async fn delete(state: &AppState, caller: &Caller, id: Uuid) -> Result<(), AppError> {
    let db = &state.db;
    let platform = store::get(db, id).await?.ok_or_else(|| missing(id))?;
    let revoked = match platform.auth_type {
        AuthType::Oauth2 => match oauth::revoke_all(state, &platform).await {
            Ok(true) => Some("the accounts' OAuth grants were revoked at the provider"),
            Ok(false) => None,
            Err(why) => {
                tracing::warn!(platform.id = %id, error = %why, "could not revoke the grant of a deleted platform");
                Some("the provider did not confirm revoking the OAuth grant: revoke it there")
            }
        },
        _ => None,
    };
    if !store::delete(db, id).await? {
        return Err(missing(id));
    }
    tracing::info!(platform.id = %id, "platform deleted");
    audit::record(db, caller, Action::PlatformDeleted, Some(Target::new(TargetKind::Platform, id, &platform.name)), Outcome::Ok, revoked.map(str::to_owned)).await;
    Ok(())
}
