//! The `sessions` table behind tower-sessions, so every instance on this database shares
//! sign-ins. Rows are keyed by the SHA-256 of the session id, never the id itself: someone
//! who can read the database cannot turn a row into a cookie.

use crate::{on_db, server::db::Db};
use async_trait::async_trait;
use tower_sessions::{
    session::{Id, Record},
    session_store::{Error, ExpiredDeletion, Result},
    SessionStore,
};

#[derive(Clone, Debug)]
pub struct DbSessionStore(pub Db);

/// The row key of a session: the hex SHA-256 of its id (the cookie's value).
pub fn key(id: &Id) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    /// Inserts without overwriting, drawing a new id on the (unlikely) collision.
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
            let (id, expires) = (key(&record.id), record.expiry_date.unix_timestamp());
            let n = on_db!(&self.0, |pool| {
                sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                    .bind(&id)
                    .bind(&data)
                    .bind(expires)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })
            .map_err(backend)?;
            if n == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        let (id, expires) = (key(&record.id), record.expiry_date.unix_timestamp());
        on_db!(&self.0, |pool| {
            sqlx::query(
                "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
            )
            .bind(&id)
            .bind(&data)
            .bind(expires)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = time_now();
        let row: Option<(String, i64)> = on_db!(&self.0, |pool| {
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(key(id))
                .bind(now)
                .fetch_optional(pool)
                .await
        })
        .map_err(backend)?;
        let Some((data, expires)) = row else { return Ok(None) };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?,
            expiry_date: tower_sessions::cookie::time::OffsetDateTime::from_unix_timestamp(expires)
                .map_err(|e| Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        on_db!(&self.0, |pool| sqlx::query("DELETE FROM sessions WHERE id = $1").bind(key(id)).execute(pool).await.map(|_| ()))
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> Result<()> {
        let now = time_now();
        on_db!(&self.0, |pool| sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(pool).await.map(|_| ()))
            .map_err(backend)?;
        Ok(())
    }
}

fn time_now() -> i64 {
    chrono::Utc::now().timestamp()
}
