//! The PostgreSQL store.

mod users;

use std::{fmt, str::FromStr as _, sync::Arc, time::Duration};

use sqlx::{
    postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgSslMode},
    query::{Query, QueryAs},
    AssertSqlSafe, Postgres, Row as _, SqlSafeStr as _, SqlStr,
};
use tokio::sync::OnceCell;

use super::{
    check_table, created, created_user, decode, encode, millis, only, sql_error, upserts,
    user_change, within, written, SqlConfigError, UserStatements, DEFAULT_SQL_TIMEOUT,
    DEFAULT_TABLE,
};
use crate::{
    clock::Clock,
    store::{ChangeSet, Entries, Keys, Prune, PruneReport, SaveOutcome, SessionStore, UserSession},
    SessionId, StoreError,
};

/// Connections [`PostgresStore::open`] keeps at most.
const MAX_CONNECTIONS: u32 = 16;

/// Sessions in a PostgreSQL table, for applications that already run PostgreSQL: shared by
/// every process and machine that uses the same database and table.
///
/// One row per session (`id TEXT PRIMARY KEY, data JSONB, expires_at TIMESTAMPTZ, user_id
/// TEXT`, indexed on `expires_at` and `user_id`) in a table (default `sessions`) that
/// [`create_schema`](PostgresStore::create_schema) makes, safely when several processes start
/// at once; or make it yourself with that shape and both indexes. A request that does not use
/// its session costs no statement, a read one, a change two. A save merges the change into the
/// row, so concurrent requests that change different keys all keep their change, and a write
/// after a logout writes nothing. Values load back byte for byte. Times come from the
/// database's clock, so app servers need not agree on the time.
///
/// - **Expiry**: expired rows are never served, and stay until [`prune`](Prune::prune)
///   deletes them, by hand or every interval with [`start_pruning`](crate::store::start_pruning).
/// - **Failures**: each call, waiting for a connection included, fails within the store's
///   timeout (default 5 s) with [`StoreError::Timeout`] or [`StoreError::Unavailable`] (an
///   opaque 503) while the database is down or slow; the pool reconnects by itself, and a pool
///   made by [`open`](PostgresStore::open) checks each connection before use. An undecodable
///   row is [`StoreError::Corrupt`]: a fresh session.
/// - **TLS** (feature `postgres-rustls`): the URL's `sslmode` decides. Use
///   `sslmode=verify-full`, with `sslrootcert` (or `PGSSLROOTCERT`) naming your CA file if the
///   system's roots do not cover it:
///   `postgres://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem`.
///   `require`, `verify-ca` and `verify-full` never fall back to plain text, but `require`
///   verifies nothing; the default, `prefer`, silently falls back to plain text, as libpq does.
///   A store made from a URL logs a warning when the database is not on this machine and the
///   mode is not `verify-ca` or `verify-full`. With
///   [`with_pool`](PostgresStore::with_pool), your pool's `PgConnectOptions` decide.
///
/// ```no_run
/// use actix_web::{cookie::Key, App, HttpServer};
/// use actix_typed_session::{store::{start_pruning, PostgresStore}, SessionMiddleware};
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let store = PostgresStore::open("postgres://app@localhost/app")?;
///     store.create_schema().await?;
///     let _pruner = start_pruning(&store, std::time::Duration::from_secs(600))?;
///     let key = Key::generate(); // load a fixed key in production
///     HttpServer::new(move || {
///         App::new().wrap(SessionMiddleware::new(store.clone(), key.clone()))
///     })
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await?;
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    table: String,
    timeout: Duration,
    schema: OnceCell<()>,
    sql: Statements,
    users: UserStatements,
    /// A manual clock (tests), read instead of the database's `now()`.
    clock: Option<Clock>,
}

/// SQL for sqlx, which asks that a string not written in the source be vouched for: ours are
/// made from the table name alone, which [`check_table`] limits to a plain identifier, and
/// every value is a bind parameter. Shared, so that each call clones a reference count.
fn statement(sql: impl Into<Arc<str>>) -> SqlStr {
    AssertSqlSafe(sql.into()).into_sql_str()
}

/// `sql`, reading the time from the statement's last parameter instead of `now()` when the
/// store has a manual clock (tests): a parameter after all the others, in Unix milliseconds,
/// that [`Inner::at_now`] binds.
fn on_clock(sql: String, clocked: bool) -> String {
    if !clocked || !sql.contains("now()") {
        return sql;
    }
    let last = sql
        .split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .max()
        .unwrap_or(0);
    sql.replace(
        "now()",
        &format!("to_timestamp(${}::float8 / 1000)", last + 1),
    )
}

/// Every statement the store sends, made once for its table.
struct Statements {
    create_table: SqlStr,
    create_index: SqlStr,
    load: SqlStr,
    load_only: SqlStr,
    load_refresh: SqlStr,
    load_only_refresh: SqlStr,
    update: SqlStr,
    create: SqlStr,
    refresh: SqlStr,
    delete: SqlStr,
    renew: SqlStr,
    prune: SqlStr,
}

impl Statements {
    fn new(t: &str, clocked: bool) -> Self {
        let statement = |sql: String| statement(on_clock(sql, clocked));
        // `$1` is always the id. `$n::float8 * interval '1 millisecond'` is a TTL in milliseconds.
        let only = |keys: &str| {
            format!(
                "CASE WHEN jsonb_typeof(data) <> 'object' THEN data ELSE \
                 (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{{}}'::jsonb) \
                 FROM jsonb_each(data) AS e WHERE e.key = ANY({keys}::text[])) END::text"
            )
        };
        let live = "id = $1 AND expires_at > now()";
        Self {
            create_table: statement(format!(
                "CREATE TABLE IF NOT EXISTS {t} (id TEXT PRIMARY KEY, data JSONB NOT NULL, \
                 expires_at TIMESTAMPTZ NOT NULL, user_id TEXT)"
            )),
            create_index: statement(format!(
                "CREATE INDEX IF NOT EXISTS {t}_expires_at ON {t} (expires_at)"
            )),
            load: statement(format!("SELECT data::text FROM {t} WHERE {live}")),
            load_only: statement(format!("SELECT {} FROM {t} WHERE {live}", only("$2"))),
            load_refresh: statement(format!(
                "UPDATE {t} SET expires_at = now() + $2::float8 * interval '1 millisecond' \
                 WHERE {live} RETURNING data::text"
            )),
            load_only_refresh: statement(format!(
                "UPDATE {t} SET expires_at = now() + $3::float8 * interval '1 millisecond' \
                 WHERE {live} RETURNING {}",
                only("$2")
            )),
            // $2 cleared, $3 removed keys, $4 upserts, $5 TTL, $6 whether the user changes,
            // $7 the user. Corrupt rows count as gone.
            update: statement(format!(
                "UPDATE {t} SET data = (CASE WHEN $2 THEN '{{}}'::jsonb ELSE data END \
                 - $3::text[]) || $4::jsonb, expires_at = now() + $5::float8 * interval '1 millisecond', \
                 user_id = CASE WHEN $6 THEN $7::text ELSE user_id END \
                 WHERE {live} AND jsonb_typeof(data) = 'object'"
            )),
            // An expired or corrupt row under the id is replaced, a live one merged into.
            create: statement(format!(
                "INSERT INTO {t} AS s (id, data, expires_at, user_id) \
                 VALUES ($1, $4::jsonb, now() + $5::float8 * interval '1 millisecond', $7::text) \
                 ON CONFLICT (id) DO UPDATE SET data = (CASE WHEN $2 OR s.expires_at <= now() \
                 OR jsonb_typeof(s.data) <> 'object' THEN '{{}}'::jsonb ELSE s.data END \
                 - $3::text[]) || $4::jsonb, expires_at = excluded.expires_at, \
                 user_id = CASE WHEN $6 THEN $7::text WHEN $2 OR s.expires_at <= now() \
                 OR jsonb_typeof(s.data) <> 'object' THEN NULL ELSE s.user_id END"
            )),
            refresh: statement(format!(
                "UPDATE {t} SET expires_at = now() + $2::float8 * interval '1 millisecond' WHERE {live}"
            )),
            delete: statement(format!("DELETE FROM {t} WHERE id = $1")),
            // $1 old id, $2 new id, $3 data, $4 TTL, $5 user: the insert happens only if the
            // delete found a live row, all in one statement.
            renew: statement(format!(
                "WITH old AS (DELETE FROM {t} WHERE {live} RETURNING id) \
                 INSERT INTO {t} (id, data, expires_at, user_id) \
                 SELECT $2, $3::jsonb, now() + $4::float8 * interval '1 millisecond', $5::text \
                 FROM old ON CONFLICT (id) DO UPDATE SET data = excluded.data, \
                 expires_at = excluded.expires_at, user_id = excluded.user_id"
            )),
            prune: statement(format!("DELETE FROM {t} WHERE expires_at <= now()")),
        }
    }
}

/// Builds a [`PostgresStore`].
#[derive(Debug)]
#[must_use]
pub struct PostgresStoreBuilder {
    source: Source,
    table: String,
    timeout: Duration,
    clock: Option<Clock>,
}

#[derive(Debug)]
enum Source {
    Options(Box<PgConnectOptions>),
    Pool(PgPool),
}

impl PostgresStore {
    /// Creates a store on the database at `url` (`postgres://user:password@host/database`), with
    /// the default table and timeout. Nothing is connected until the first call.
    ///
    /// ```
    /// let store = actix_typed_session::store::PostgresStore::open("postgres://app@localhost/app")?;
    /// assert_eq!(store.table(), "sessions");
    /// # Ok::<(), actix_typed_session::store::SqlConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`SqlConfigError::Url`] when the URL cannot be parsed.
    pub fn open(url: &str) -> Result<Self, SqlConfigError> {
        Self::builder(url)?.build()
    }

    /// Creates a builder for a store on the database at `url`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let store = actix_typed_session::store::PostgresStore::builder("postgres://app@localhost/app")?
    ///     .table("web_sessions")
    ///     .timeout(Duration::from_secs(2))
    ///     .build()?;
    /// # Ok::<(), actix_typed_session::store::SqlConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`SqlConfigError::Url`] when the URL cannot be parsed.
    pub fn builder(url: &str) -> Result<PostgresStoreBuilder, SqlConfigError> {
        let options = PgConnectOptions::from_str(url).map_err(SqlConfigError::Url)?;
        Ok(PostgresStoreBuilder {
            source: Source::Options(Box::new(options)),
            table: DEFAULT_TABLE.to_owned(),
            timeout: DEFAULT_SQL_TIMEOUT,
            clock: None,
        })
    }

    /// Creates a builder for a store on a pool the application already has (its settings apply; the
    /// store's timeout still bounds every call).
    ///
    /// ```
    /// use actix_typed_session::store::PostgresStore;
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// let pool = sqlx::PgPool::connect_lazy("postgres://app@localhost/app")?;
    /// let store = PostgresStore::with_pool(pool.clone()).build()?; // the app keeps `pool`
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_pool(pool: PgPool) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            source: Source::Pool(pool),
            table: DEFAULT_TABLE.to_owned(),
            timeout: DEFAULT_SQL_TIMEOUT,
            clock: None,
        }
    }

    /// Returns the pool the store runs on.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// Returns the table holding the sessions.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// Returns the time one call may take.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Creates the table and its index if missing. Every call does this first anyway; call it
    /// at startup to fail early on a database that cannot be reached.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] or [`StoreError::Timeout`] when the database cannot be
    /// reached or refuses.
    pub async fn create_schema(&self) -> Result<(), StoreError> {
        within(self.inner.timeout, self.inner.schema()).await
    }
}

/// Deletes the expired rows ([`PruneReport::expired`] counts them).
///
/// ```no_run
/// use actix_typed_session::store::{PostgresStore, Prune};
///
/// # actix_web::rt::System::new().block_on(async {
/// let store = PostgresStore::open("postgres://app@localhost/app")?;
/// let deleted = store.prune().await?.expired;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// Its errors: the database's, or a call that takes longer than the store's timeout.
impl Prune for PostgresStore {
    async fn prune(&self) -> Result<PruneReport, StoreError> {
        self.inner.prune().await.map(PruneReport::of_expired)
    }
}

impl PostgresStoreBuilder {
    /// Sets the table holding the sessions (default `sessions`): 1 to 48 ASCII letters,
    /// digits or `_`, not starting with a digit. PostgreSQL folds it to lowercase.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// Sets the longest one store call may take, waiting for a connection included (default
    /// 5 s). For a store made from a URL this is also the pool's acquire
    /// timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets a clock that expiry is measured by instead of the database's (tests move a
    /// [`Clock::manual`] instead of sleeping). Every process sharing the table must then use
    /// it.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the store. Nothing is connected until the first call.
    ///
    /// # Errors
    /// [`SqlConfigError::InvalidTable`] for a table name that is not a plain identifier.
    pub fn build(self) -> Result<PostgresStore, SqlConfigError> {
        check_table(&self.table)?;
        let pool = match self.source {
            Source::Pool(pool) => pool,
            // No idle or lifetime limits: then the pool needs no background task and can be
            // built outside a runtime. Broken connections are dropped when they fail.
            Source::Options(options) => {
                warn_if_unverified(&options);
                PgPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(self.timeout)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_lazy_with(*options)
            }
        };
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                pool,
                sql: Statements::new(&self.table, self.clock.is_some()),
                users: users::statements(&self.table, self.clock.is_some()),
                table: self.table,
                timeout: self.timeout,
                schema: OnceCell::new(),
                clock: self.clock,
            }),
        })
    }
}

/// Says once, as the store is built, that its connections to a database on another machine
/// are not verified TLS: `sslmode=prefer` (the default) and weaker fall back to plain text
/// without a word, and `require` trusts any certificate.
fn warn_if_unverified(options: &PgConnectOptions) {
    let host = options.get_host();
    let local = options.get_socket().is_some()
        || host.starts_with('/')
        || host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let verified = matches!(
        options.get_ssl_mode(),
        PgSslMode::VerifyCa | PgSslMode::VerifyFull
    );
    if !local && !verified {
        tracing::warn!(
            host,
            sslmode = ?options.get_ssl_mode(),
            "PostgreSQL connections are not verified TLS: use sslmode=verify-full (feature \
             postgres-rustls)"
        );
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.inner.table)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// `query` with the manual clock's now bound last, for a statement [`on_clock`] rewrote.
    fn at_now<'q>(
        &self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        match &self.clock {
            Some(clock) => query.bind(clock.unix_millis() as f64),
            None => query,
        }
    }

    /// [`at_now`](Self::at_now) for a query whose rows are decoded as `O`.
    fn at_now_as<'q, O>(
        &self,
        query: QueryAs<'q, Postgres, O, PgArguments>,
    ) -> QueryAs<'q, Postgres, O, PgArguments> {
        match &self.clock {
            Some(clock) => query.bind(clock.unix_millis() as f64),
            None => query,
        }
    }

    async fn schema(&self) -> Result<(), StoreError> {
        self.schema
            .get_or_try_init(|| async {
                // Concurrent `CREATE TABLE IF NOT EXISTS` can still collide on the catalog's
                // unique index: one process at a time, per table name.
                let mut tx = self.pool.begin().await.map_err(sql_error)?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind(format!("session-store:{}", self.table))
                    .execute(&mut *tx)
                    .await
                    .map_err(sql_error)?;
                for sql in [&self.sql.create_table, &self.sql.create_index] {
                    sqlx::query(sql.clone())
                        .execute(&mut *tx)
                        .await
                        .map_err(sql_error)?;
                }
                self.migrate_user_column(&mut tx).await?;
                tx.commit().await.map_err(sql_error)
            })
            .await
            .copied()
    }

    async fn prune(&self) -> Result<u64, StoreError> {
        within(self.timeout, async {
            self.schema().await?;
            let done = self
                .at_now(sqlx::query(self.sql.prune.clone()))
                .execute(&self.pool)
                .await
                .map_err(sql_error)?;
            Ok(done.rows_affected())
        })
        .await
    }
}

impl SessionStore for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        let inner = &*self.inner;
        let names = only(keys);
        within(inner.timeout, async {
            inner.schema().await?;
            let sql = &inner.sql;
            let query = match (names, refresh) {
                (None, None) => sqlx::query(sql.load.clone()).bind(id.as_str()),
                (Some(names), None) => sqlx::query(sql.load_only.clone())
                    .bind(id.as_str())
                    .bind(names),
                (None, Some(ttl)) => sqlx::query(sql.load_refresh.clone())
                    .bind(id.as_str())
                    .bind(millis(ttl)),
                (Some(names), Some(ttl)) => sqlx::query(sql.load_only_refresh.clone())
                    .bind(id.as_str())
                    .bind(names)
                    .bind(millis(ttl)),
            };
            let query = inner.at_now(query);
            let Some(row) = query.fetch_optional(&inner.pool).await.map_err(sql_error)? else {
                return Ok(None);
            };
            let data: String = row.try_get(0).map_err(sql_error)?;
            decode(&data).map(Some)
        })
        .await
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let inner = &*self.inner;
        let (upserts, user) = (upserts(changes)?, user_change(changes));
        within(inner.timeout, async {
            inner.schema().await?;
            let sql = if changes.is_new() {
                &inner.sql.create
            } else {
                &inner.sql.update
            };
            let query = sqlx::query(sql.clone())
                .bind(id.as_str())
                .bind(changes.is_cleared())
                .bind(changes.removals())
                .bind(upserts.as_str())
                .bind(millis(ttl))
                .bind(user.is_some())
                .bind(user.as_ref().and_then(Option::as_deref));
            let done = inner
                .at_now(query)
                .execute(&inner.pool)
                .await
                .map_err(sql_error)?;
            Ok(written(done.rows_affected()))
        })
        .await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        let inner = &*self.inner;
        within(inner.timeout, async {
            inner.schema().await?;
            let query = sqlx::query(inner.sql.refresh.clone())
                .bind(id.as_str())
                .bind(millis(ttl));
            let done = inner
                .at_now(query)
                .execute(&inner.pool)
                .await
                .map_err(sql_error)?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let inner = &*self.inner;
        within(inner.timeout, async {
            inner.schema().await?;
            sqlx::query(inner.sql.delete.clone())
                .bind(id.as_str())
                .execute(&inner.pool)
                .await
                .map(drop)
                .map_err(sql_error)
        })
        .await
    }

    /// One statement: deletes the old row if it is live and inserts the new one only if it
    /// did. A session logged out (or expired) first stays gone: `Gone`, nothing written.
    async fn renew(
        &self,
        old: &SessionId,
        new: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let inner = &*self.inner;
        let (data, user) = (encode(&created(changes))?, created_user(changes));
        within(inner.timeout, async {
            inner.schema().await?;
            let query = sqlx::query(inner.sql.renew.clone())
                .bind(old.as_str())
                .bind(new.as_str())
                .bind(data.as_str())
                .bind(millis(ttl))
                .bind(user.as_deref());
            let done = inner
                .at_now(query)
                .execute(&inner.pool)
                .await
                .map_err(sql_error)?;
            Ok(written(done.rows_affected()))
        })
        .await
    }

    // The save that writes a sign-in sets the row's `user_id`: nothing to index.
    user_methods_without_index!(sql);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_is_the_statements_last_parameter() {
        let sql = "UPDATE t SET e = now() + $2 WHERE id = $1 AND e > now()".to_owned();
        assert_eq!(on_clock(sql.clone(), false), sql);
        assert_eq!(
            on_clock(sql, true),
            "UPDATE t SET e = to_timestamp($3::float8 / 1000) + $2 WHERE id = $1 \
             AND e > to_timestamp($3::float8 / 1000)"
        );
        assert_eq!(
            on_clock("DELETE FROM t WHERE e <= now()".into(), true),
            "DELETE FROM t WHERE e <= to_timestamp($1::float8 / 1000)"
        );
        let unclocked = "DELETE FROM t WHERE id = $1".to_owned();
        assert_eq!(on_clock(unclocked.clone(), true), unclocked);
        // Production statements read the database's clock.
        let plain = Statements::new("sessions", false);
        assert!(plain.refresh.as_str().contains("now()"));
        assert!(!plain.refresh.as_str().contains("to_timestamp"));
    }
}
