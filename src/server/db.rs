//! The database connection: SQLite or PostgreSQL, chosen by the `DATABASE_URL` scheme, and
//! the migrations kept for each under `migrations/`.

use super::config::Backend;
use sqlx::{
    migrate::Migrator,
    postgres::{PgPool, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions},
};
use std::{str::FromStr, time::Duration};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// A pool for one of the two backends. Store code runs the same SQL on either through
/// [`on_db!`](crate::on_db).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool, so one piece of SQL and decoding
/// code is compiled once per backend.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::server::db::Db::Sqlite($pool) => $body,
            $crate::server::db::Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Connects, creating the SQLite file (and its folder) if needed. Fails fast (5 s) when
    /// the server is unreachable.
    pub async fn connect(url: &str, backend: Backend) -> Result<Self, sqlx::Error> {
        let timeout = Duration::from_secs(5);
        Ok(match backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(timeout);
                if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                Db::Sqlite(SqlitePoolOptions::new().acquire_timeout(timeout).connect_with(options).await?)
            }
            Backend::Postgres => {
                Db::Postgres(PgPoolOptions::new().max_connections(10).acquire_timeout(timeout).connect(url).await?)
            }
        })
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
    }

    /// Answers whether the database takes queries, for `/readyz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}
