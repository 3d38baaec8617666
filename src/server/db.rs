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

/// The one way store code reaches the database: `$body` runs with `$pool` bound to the
/// concrete pool, so one piece of SQL and decoding is written once and compiled per backend.
/// Where the SQL must differ (measured, or a feature one backend lacks), the second form
/// gives each backend its own arm, side by side:
///
/// ```ignore
/// on_db!(db, |pool| sqlx::query("SELECT 1").execute(pool).await)
/// on_db!(db, sqlite |pool| { … }, postgres |pool| { … })
/// ```
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::server::db::Db::Sqlite($pool) => $body,
            $crate::server::db::Db::Postgres($pool) => $body,
        }
    };
    ($db:expr, sqlite |$sqlite:ident| $on_sqlite:expr, postgres |$postgres:ident| $on_postgres:expr $(,)?) => {
        match $db {
            $crate::server::db::Db::Sqlite($sqlite) => $on_sqlite,
            $crate::server::db::Db::Postgres($postgres) => $on_postgres,
        }
    };
}

/// [`on_db!`] inside one transaction: `$body` (an expression of type
/// `Result<_, StoreError>`, which may `return` early) is committed when it is `Ok` and
/// rolled back when it is `Err`. After the shared statements, `sqlite { … } postgres { … }`
/// holds the part whose SQL differs, with the shared statements' variables in scope.
#[macro_export]
macro_rules! transaction {
    ($db:expr, |$tx:ident| $body:expr) => {
        $crate::on_db!($db, |pool| $crate::transaction!(@run pool, $tx, $body))
    };
    ($db:expr, |$tx:ident| { $($shared:tt)* } sqlite $on_sqlite:block postgres $on_postgres:block) => {
        $crate::on_db!(
            $db,
            sqlite |pool| $crate::transaction!(@run pool, $tx, { $($shared)* $on_sqlite }),
            postgres |pool| $crate::transaction!(@run pool, $tx, { $($shared)* $on_postgres }),
        )
    };
    (@run $pool:ident, $tx:ident, $body:expr) => {{
        let mut $tx = $pool.begin().await?;
        let result: Result<_, $crate::server::store::StoreError> = async { $body }.await;
        if result.is_ok() {
            $tx.commit().await?;
        }
        result
    }};
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
                    .busy_timeout(timeout)
                    // The rows a query's worker thread may send ahead (sqlx's default is 50).
                    // A list page reads 51 (the 51st says whether there is a next page): at
                    // 50 the worker blocked on the last one until the page's task had taken
                    // the rest, and woke again, two more thread switches a page.
                    .row_buffer_size(crate::domain::PAGE_MAX as usize + 1);
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
        on_db!(self, sqlite |pool| SQLITE_MIGRATIONS.run(pool).await, postgres |pool| POSTGRES_MIGRATIONS.run(pool).await)
    }

    /// Answers whether the database takes queries, for `/readyz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}
