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
        // In-process: one statement per row costs no round trip.
        let mut inserted = Vec::new();
        for p in batch {
            let f = &p.fields;
            let done = sqlx::query(
                "INSERT INTO platforms (id, name, category, auth_type, status, description, icon_url, base_url, metadata, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT DO NOTHING",
            )
            .bind(p.id)
            .bind(&f.name)
            .bind(f.category.as_str())
            .bind(f.auth_type.as_str())
            .bind(f.status.as_str())
            .bind(&f.description)
            .bind(&f.icon_url)
            .bind(&f.base_url)
            .bind(Json(&f.metadata))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            for (field, ciphertext) in &p.secrets {
                sqlx::query(
                    "INSERT INTO secrets (owner_id, platform_id, field, ciphertext, key_version, created_at, updated_at) VALUES ($1, $1, $2, $3, $4, $5, $5)",
                )
                .bind(p.id)
                .bind(field.as_str())
                .bind(ciphertext)
                .bind(key_version as i32)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            if p.imported_plaintext {
                sqlx::query("INSERT INTO credentials (platform_id, imported_plaintext, updated_at) VALUES ($1, $2, $3)")
                    .bind(p.id)
                    .bind(true)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            inserted.push(p.id);
        }
        Ok(inserted)
    } postgres {
        // Over the network: one statement per table for the whole batch.
        let column = |get: fn(&NewPlatform) -> Option<String>| batch.iter().map(get).collect::<Vec<_>>();
        let inserted: Vec<(Uuid,)> = sqlx::query_as(
            "INSERT INTO platforms (id, name, category, auth_type, status, description, icon_url, base_url, metadata, created_at, updated_at) \
             SELECT id, name, category, auth_type, status, description, icon_url, base_url, metadata, $10, $10 \
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[]) \
                  AS t(id, name, category, auth_type, status, description, icon_url, base_url, metadata) \
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
        let flagged: Vec<Uuid> = batch.iter().filter(|p| p.imported_plaintext && inserted.contains(&p.id)).map(|p| p.id).collect();
        sqlx::query("INSERT INTO credentials (platform_id, imported_plaintext, updated_at) SELECT id, TRUE, $2 FROM UNNEST($1::uuid[]) AS t(id)")
            .bind(&flagged)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        Ok(inserted)
    })
}

/// Refreshes the planner's statistics after a bulk import, as PostgreSQL's autovacuum
/// would a little later (and SQLite's recommended `PRAGMA optimize`), so the first lists
/// after it are planned on what the tables now hold.
pub async fn refresh_statistics(db: &Db) -> Result<(), StoreError> {
    on_db!(
        db,
        sqlite |pool| sqlx::query("PRAGMA optimize").execute(pool).await.map(|_| ()),
        postgres |pool| sqlx::query("ANALYZE platforms, secrets, platform_facets, credentials").execute(pool).await.map(|_| ()),
    )?;
    Ok(())
}
