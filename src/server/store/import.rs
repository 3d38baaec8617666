//! The bulk import's write: a batch of new platforms with their own secrets (already
//! sealed) in one transaction, so a batch lands whole or not at all and costs one commit.

use super::{now, secrets::count_encryptions, StoreError};
use crate::{
    domain::{SecretField, ValidPlatform},
    on_db,
    server::db::Db,
    transaction,
};
use sqlx::types::Json;
use std::collections::HashSet;
use uuid::Uuid;

/// One platform of a batch: its id (the secrets are sealed for it), fields and secrets.
pub struct NewPlatform {
    pub id: Uuid,
    pub fields: ValidPlatform,
    pub secrets: Vec<(SecretField, Vec<u8>)>,
    /// Whether any secret came from a plaintext store (the platform then needs attention).
    pub imported_plaintext: bool,
}

/// Inserts the batch; a platform whose name is taken is skipped with its secrets (nothing
/// changes for it). Returns the ids inserted. Every sealed secret is counted against the
/// key's limit, skipped or not: it was encrypted.
pub async fn insert_batch(db: &Db, batch: &[NewPlatform], key_version: u32, limit: i64) -> Result<Vec<Uuid>, StoreError> {
    let at = now();
    let sealed = batch.iter().map(|p| p.secrets.len()).sum::<usize>();
    transaction!(db, |tx| {
        count_encryptions!(tx, sealed, key_version, limit);
    } sqlite {
        // One multi-row statement per table: each statement is a round trip to sqlx's
        // SQLite worker thread, which cost more than the rows themselves. Its parameters
        // are anonymous (`?`, bound in order): sqlx asks SQLite the name of each numbered
        // one, a walk of the statement's list of names, so `$n` made binding a batch's
        // 5,000 cost its square — half the import's time.
        let rows = |n: usize, row: &str| vec![row; n].join(", ");
        // Each platform arrives with the facts its secrets will give it (0022), so the
        // secrets' trigger finds nothing to rewrite (0033).
        let sql = format!(
            "INSERT INTO platforms (id, name, category, auth_type, status, description, icon_url, base_url, metadata, secret_key_min, created_at, updated_at) \
             VALUES {} ON CONFLICT DO NOTHING RETURNING id",
            rows(batch.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        );
        let mut query = sqlx::query_as::<_, (Uuid,)>(&sql);
        for p in batch {
            let f = &p.fields;
            query = query
                .bind(p.id)
                .bind(&f.name)
                .bind(f.category.as_str())
                .bind(f.auth_type.as_str())
                .bind(f.status.as_str())
                .bind(&f.description)
                .bind(&f.icon_url)
                .bind(&f.base_url)
                .bind(Json(&f.metadata))
                .bind((!p.secrets.is_empty()).then_some(key_version as i32))
                .bind(at)
                .bind(at);
        }
        let inserted: HashSet<Uuid> = query.fetch_all(&mut *tx).await?.into_iter().map(|(id,)| id).collect();
        let written: Vec<&NewPlatform> = batch.iter().filter(|p| inserted.contains(&p.id)).collect();
        let secrets: Vec<(Uuid, &str, &Vec<u8>)> = written.iter().flat_map(|p| p.secrets.iter().map(|(f, c)| (p.id, f.as_str(), c))).collect();
        if !secrets.is_empty() {
            let sql = format!(
                "INSERT INTO secrets (owner_id, platform_id, field, ciphertext, key_version, created_at, updated_at) VALUES {}",
                rows(secrets.len(), "(?, ?, ?, ?, ?, ?, ?)")
            );
            let mut query = sqlx::query(&sql);
            for (owner, field, ciphertext) in &secrets {
                // The owner is the platform.
                query = query.bind(*owner).bind(*owner).bind(*field).bind(*ciphertext).bind(key_version as i32).bind(at).bind(at);
            }
            query.execute(&mut *tx).await?;
        }
        let flagged: Vec<Uuid> = written.iter().filter(|p| p.imported_plaintext).map(|p| p.id).collect();
        if !flagged.is_empty() {
            let sql = format!("INSERT INTO credentials (platform_id, imported_plaintext, updated_at) VALUES {}", rows(flagged.len(), "(?, TRUE, ?)"));
            let mut query = sqlx::query(&sql);
            for id in &flagged {
                query = query.bind(*id).bind(at);
            }
            query.execute(&mut *tx).await?;
        }
        Ok(written.iter().map(|p| p.id).collect())
    } postgres {
        // Over the network: one statement per table for the whole batch. Each platform
        // arrives with the facts its secrets will give it (0022), so the secrets'
        // statement trigger finds nothing to rewrite.
        let column = |get: fn(&NewPlatform) -> Option<String>| batch.iter().map(get).collect::<Vec<_>>();
        let key_min: Vec<Option<i32>> = batch.iter().map(|p| (!p.secrets.is_empty()).then_some(key_version as i32)).collect();
        let inserted: Vec<(Uuid,)> = sqlx::query_as(
            "INSERT INTO platforms (id, name, category, auth_type, status, description, icon_url, base_url, metadata, secret_key_min, created_at, updated_at) \
             SELECT id, name, category, auth_type, status, description, icon_url, base_url, metadata, key_min, $10, $10 \
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $11::int[]) \
                  AS t(id, name, category, auth_type, status, description, icon_url, base_url, metadata, key_min) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(batch.iter().map(|p| p.id).collect::<Vec<_>>())
        .bind(column(|p| Some(p.fields.name.clone())))
        .bind(column(|p| Some(p.fields.category.as_str().to_owned())))
        .bind(column(|p| Some(p.fields.auth_type.as_str().to_owned())))
        .bind(column(|p| Some(p.fields.status.as_str().to_owned())))
        .bind(column(|p| p.fields.description.clone()))
        .bind(column(|p| p.fields.icon_url.clone()))
        .bind(column(|p| p.fields.base_url.clone()))
        .bind(batch.iter().map(|p| Json(&p.fields.metadata)).collect::<Vec<_>>())
        .bind(at)
        .bind(&key_min)
        .fetch_all(&mut *tx)
        .await?;
        let inserted: Vec<Uuid> = inserted.into_iter().map(|(id,)| id).collect();
        let secrets = batch.iter().flat_map(|p| p.secrets.iter().map(move |(field, c)| (p.id, field.as_str(), c)));
        let (owners, (fields, ciphertexts)): (Vec<Uuid>, (Vec<&str>, Vec<&Vec<u8>>)) = secrets.map(|(o, f, c)| (o, (f, c))).unzip();
        sqlx::query(
            "INSERT INTO secrets (owner_id, platform_id, field, ciphertext, key_version, created_at, updated_at) \
             SELECT owner, owner, field, ciphertext, $4, $5, $5 FROM UNNEST($1::uuid[], $2::text[], $3::bytea[]) AS t(owner, field, ciphertext) \
             WHERE owner = ANY($6)",
        )
        .bind(&owners)
        .bind(&fields)
        .bind(&ciphertexts)
        .bind(key_version as i32)
        .bind(at)
        .bind(&inserted)
        .execute(&mut *tx)
        .await?;
        let written: HashSet<Uuid> = inserted.iter().copied().collect();
        let flagged: Vec<Uuid> = batch.iter().filter(|p| p.imported_plaintext && written.contains(&p.id)).map(|p| p.id).collect();
        sqlx::query("INSERT INTO credentials (platform_id, imported_plaintext, updated_at) SELECT id, TRUE, $2 FROM UNNEST($1::uuid[]) AS t(id)")
            .bind(&flagged)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        Ok(inserted)
    })
}

/// Settles the tables after a bulk import. The planner's statistics are refreshed, as
/// PostgreSQL's autovacuum would a little later (and SQLite's recommended `PRAGMA
/// optimize`), so the first lists after it are planned on what the tables now hold. On
/// SQLite the search index's segments, one or more per batch, are merged into one: FTS5
/// reads every segment's share of a term, and newest first it reads them backward, which
/// costs most across many (a common word's page: 0.30 → 0.13 ms at 100,000 platforms;
/// the merge takes 0.23 s there).
pub async fn settle(db: &Db) -> Result<(), StoreError> {
    on_db!(
        db,
        sqlite |pool| async {
            sqlx::query("INSERT INTO platform_search (platform_search) VALUES ('optimize')").execute(pool).await?;
            sqlx::query("PRAGMA optimize").execute(pool).await.map(|_| ())
        }
        .await,
        postgres |pool| sqlx::query("ANALYZE platforms, secrets, platform_facets, credentials").execute(pool).await.map(|_| ()),
    )?;
    Ok(())
}
