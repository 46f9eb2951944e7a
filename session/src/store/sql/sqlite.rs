//! The SQLite store.

mod db;
mod keys;
mod statements;
mod users;

use std::sync::Arc;
use std::{fmt, path::Path, path::PathBuf, time::Duration};

use rusqlite::{params, OptionalExtension as _};

use self::db::{sqlite_error, Db};
use self::statements::Statements;
use super::{
    check_table, created, created_user, decode, encode, millis, only, patch, user_change, written,
    SqlConfigError, DEFAULT_SQL_TIMEOUT, DEFAULT_TABLE,
};
use crate::{
    clock::Clock,
    store::{ChangeSet, Entries, Keys, Prune, PruneReport, SaveOutcome, SessionStore, UserSession},
    SessionId, StoreError,
};

/// Sessions in an SQLite database file: durable, shared by every process on the machine that
/// opens the same file, no server to run.
///
/// One row per session in a table (default `sessions`, [`SqliteStoreBuilder::table`]) that
/// the store creates on first use, safely when several processes start at once; a table made
/// by an earlier version is moved to the current layout on first use (stop the processes of
/// the earlier version first). A request that does not use its session costs no statement, a
/// read one, a change two. A save merges the change into the row, so concurrent requests that
/// change different keys all keep their change, in one process or several, and a write after
/// a logout writes nothing. Values load back byte for byte. A user's sessions are listed and
/// ended through an indexed `user_id` column.
///
/// - **Durability**: [`SqliteStore::open`] sets WAL mode and `synchronous=NORMAL`: an
///   application crash or kill loses nothing; a power loss or OS crash may lose the
///   transactions since the last checkpoint (the database stays consistent).
/// - **Expiry**: expired rows are never served, and stay until [`prune`](Prune::prune)
///   deletes them, by hand or every interval with [`start_pruning`](crate::store::start_pruning)
///   (a prune reads the whole table: there is no index on the expiry).
/// - **Failures**: each call, waiting for the write lock included, fails within the store's
///   timeout (default 5 s) with [`StoreError::Timeout`] or [`StoreError::Unavailable`] (an
///   opaque 503); the next call tries again. An undecodable row is [`StoreError::Corrupt`]: a
///   fresh session.
///
/// SQLite is called directly (rusqlite, SQLite bundled), on a thread of the store's own once
/// several threads use it; the repository's docs/architecture.md explains how.
///
/// ```
/// use std::time::Duration;
/// use actix_typed_session::{store::{ChangeSet, Keys, SessionStore, SqliteStore}, SessionId};
///
/// # actix_web::rt::System::new().block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = SqliteStore::open(dir.path().join("sessions.db"))?;
/// let id = SessionId::generate();
/// store.save(&id, &ChangeSet::create().upsert("user", "\"ada\""), Duration::from_secs(60)).await?;
/// let loaded = store.load(&id, Keys::All, None).await?.unwrap();
/// assert_eq!(loaded["user"], "\"ada\"");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    table: String,
    db: Db,
    clock: Clock,
}

/// Why a new session's row was not written: another live session's row has the same key (the
/// first 60 bits of its id). A new session finds one with a chance of one in 2^60 per live
/// session (one in a trillion among a million); its request fails rather than touch the
/// other session.
fn key_taken() -> StoreError {
    StoreError::Other("another live session's row has this session id's key".into())
}

/// What the statements find a session's row by: its id and its key, the id's first 60 bits
/// ([`SessionId::leading_bits`]).
fn row_of(id: &SessionId) -> (String, i64) {
    (id.as_str().to_owned(), id.leading_bits())
}

/// Builds a [`SqliteStore`].
#[derive(Debug)]
#[must_use]
pub struct SqliteStoreBuilder {
    path: PathBuf,
    table: String,
    timeout: Duration,
    clock: Clock,
}

impl SqliteStore {
    /// Creates a store in the SQLite database at `path` (created if missing), with the default
    /// table and timeout. Nothing is opened until the first call.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = actix_typed_session::store::SqliteStore::open(dir.path().join("sessions.db")).unwrap();
    /// assert_eq!(store.table(), "sessions");
    /// ```
    ///
    /// # Errors
    /// None today for a path; the `Result` is kept for symmetry with [`SqliteStoreBuilder::build`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SqlConfigError> {
        Self::builder(path).build()
    }

    /// Creates a builder for a store in the SQLite database at `path`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = actix_typed_session::store::SqliteStore::builder(dir.path().join("app.db"))
    ///     .table("web_sessions")
    ///     .timeout(Duration::from_secs(2))
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn builder(path: impl AsRef<Path>) -> SqliteStoreBuilder {
        SqliteStoreBuilder {
            path: path.as_ref().to_owned(),
            table: DEFAULT_TABLE.to_owned(),
            timeout: DEFAULT_SQL_TIMEOUT,
            clock: Clock::system(),
        }
    }

    /// Returns the database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.db.shared().path
    }

    /// Returns the table holding the sessions.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// Returns the time one call may take.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.inner.db.shared().timeout
    }

    /// Creates the table and its index if missing. Every call does this first anyway; call it
    /// at startup to fail early on a database that cannot be opened.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let store = actix_typed_session::store::SqliteStore::open(dir.path().join("sessions.db"))?;
    /// store.create_schema().await?;
    /// assert!(dir.path().join("sessions.db").exists());
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] or [`StoreError::Timeout`] when the database cannot be
    /// opened or written.
    pub async fn create_schema(&self) -> Result<(), StoreError> {
        self.inner.db.open().await
    }
}

/// Deletes the expired rows ([`PruneReport::expired`] counts them).
///
/// ```
/// use std::time::Duration;
/// use actix_typed_session::{store::{ChangeSet, Prune, SessionStore, SqliteStore}, SessionId};
///
/// # actix_web::rt::System::new().block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = SqliteStore::open(dir.path().join("sessions.db"))?;
/// let (live, dead) = (SessionId::generate(), SessionId::generate());
/// store.save(&live, &ChangeSet::create(), Duration::from_secs(60)).await?;
/// store.save(&dead, &ChangeSet::create(), Duration::ZERO).await?;
/// assert_eq!(store.prune().await?.expired, 1);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// Its errors: the database's, or a call that takes longer than the store's timeout.
impl Prune for SqliteStore {
    async fn prune(&self) -> Result<PruneReport, StoreError> {
        self.inner.prune().await.map(PruneReport::of_expired)
    }
}

impl SqliteStoreBuilder {
    /// Sets the table holding the sessions (default `sessions`): 1 to 48 ASCII letters,
    /// digits or `_`, not starting with a digit.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// Sets the longest one store call may take, waiting for the write lock included (default
    /// 5 s); also SQLite's `busy_timeout` for writes.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the clock that expiry is measured by (tests move a [`Clock::manual`] instead of
    /// sleeping).
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the store. Nothing is opened until the first call.
    ///
    /// # Errors
    /// [`SqlConfigError::InvalidTable`] for a table name that is not a plain identifier.
    pub fn build(self) -> Result<SqliteStore, SqlConfigError> {
        check_table(&self.table)?;
        let db = Db::new(
            self.path,
            self.timeout,
            Statements::new(&self.table),
            users::statements(&self.table),
        );
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                table: self.table,
                db,
                clock: self.clock,
            }),
        })
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("table", &self.inner.table)
            .field("timeout", &self.timeout())
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Now by the store's clock, in Unix milliseconds: what `expires_at` is compared with.
    fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.unix_millis()).unwrap_or(i64::MAX)
    }

    /// On the SQLite thread, whichever thread asks (a pruning task is not the app's caller).
    async fn prune(&self) -> Result<u64, StoreError> {
        let now = self.now_ms();
        self.db
            .queue(move |conn, db| {
                let deleted = conn
                    .prepare_cached(&db.sql.prune)
                    .and_then(|mut prune| prune.execute([now]))
                    .map_err(sqlite_error)?;
                Ok(deleted as u64)
            })
            .await
    }
}

/// The `data` of the row a statement answers, if any.
fn data_row(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<Entries>, StoreError> {
    let data: Option<String> = conn
        .prepare_cached(sql)
        .and_then(|mut statement| statement.query_row(params, |row| row.get(0)).optional())
        .map_err(sqlite_error)?;
    data.as_deref().map(decode).transpose()
}

impl SessionStore for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        let names = only(keys)
            .map(|names| serde_json::to_string(names).map_err(|e| StoreError::Other(e.into())))
            .transpose()?;
        let ((id, key), now) = (row_of(id), self.inner.now_ms());
        let Some(ttl) = refresh else {
            return self
                .inner
                .db
                .read(move |conn, db| match &names {
                    None => data_row(conn, &db.sql.load, params![id, now, key]),
                    Some(names) => data_row(conn, &db.sql.load_only, params![id, now, names, key]),
                })
                .await;
        };
        // A refreshing load writes.
        self.inner
            .db
            .write(move |conn, db| {
                let expires = now.saturating_add(millis(ttl));
                match &names {
                    None => data_row(conn, &db.sql.load_refresh, params![id, now, expires, key]),
                    Some(names) => data_row(
                        conn,
                        &db.sql.load_only_refresh,
                        params![id, now, names, expires, key],
                    ),
                }
            })
            .await
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let patch = patch(changes)?;
        let user = user_change(changes);
        let ((id, key), new, cleared) = (row_of(id), changes.is_new(), changes.is_cleared());
        let now = self.inner.now_ms();
        self.inner
            .db
            .write(move |conn, db| {
                let sql = if new { &db.sql.create } else { &db.sql.update };
                let done = conn
                    .prepare_cached(sql)
                    .and_then(|mut save| {
                        save.execute(params![
                            id,
                            now,
                            cleared,
                            patch,
                            now.saturating_add(millis(ttl)),
                            user.is_some(),
                            user.as_ref().and_then(Option::as_deref),
                            key,
                        ])
                    })
                    .map_err(sqlite_error)?;
                if new && done == 0 {
                    return Err(key_taken());
                }
                Ok(written(done as u64))
            })
            .await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        let ((id, key), now) = (row_of(id), self.inner.now_ms());
        self.inner
            .db
            .write(move |conn, db| {
                let done = conn
                    .prepare_cached(&db.sql.refresh)
                    .and_then(|mut refresh| {
                        refresh.execute(params![id, now, now.saturating_add(millis(ttl)), key])
                    })
                    .map_err(sqlite_error)?;
                Ok(done > 0)
            })
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let (id, key) = row_of(id);
        self.inner
            .db
            .write(move |conn, db| {
                conn.prepare_cached(&db.sql.delete)
                    .and_then(|mut delete| delete.execute(params![id, key]))
                    .map(drop)
                    .map_err(sqlite_error)
            })
            .await
    }

    /// In one savepoint of the writer's transaction: deletes the old row if it is live, and
    /// only then writes the new one. A session logged out (or expired) before the renewal
    /// stays gone: `Gone`, and nothing written.
    async fn renew(
        &self,
        old: &SessionId,
        new: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let (data, user) = (encode(&created(changes))?, created_user(changes));
        let ((old, old_key), (new, new_key)) = (row_of(old), row_of(new));
        let now = self.inner.now_ms();
        self.inner
            .db
            .write(move |conn, db| {
                conn.execute_batch("SAVEPOINT renew")
                    .map_err(sqlite_error)?;
                let renewed = (|| {
                    let deleted = conn
                        .prepare_cached(&db.sql.renew_delete)
                        .and_then(|mut delete| delete.execute(params![old, now, old_key]))
                        .map_err(sqlite_error)?;
                    if deleted == 0 {
                        return Ok(SaveOutcome::Gone);
                    }
                    let inserted = conn
                        .prepare_cached(&db.sql.renew_insert)
                        .and_then(|mut insert| {
                            insert.execute(params![
                                new,
                                now,
                                data,
                                now.saturating_add(millis(ttl)),
                                user,
                                new_key,
                            ])
                        })
                        .map_err(sqlite_error)?;
                    if inserted == 0 {
                        return Err(key_taken());
                    }
                    Ok(SaveOutcome::Saved)
                })();
                let end = if renewed.is_ok() {
                    "RELEASE renew"
                } else {
                    "ROLLBACK TO renew; RELEASE renew"
                };
                conn.execute_batch(end).map_err(sqlite_error)?;
                renewed
            })
            .await
    }

    // The save that writes a sign-in sets the row's `user_id`: nothing to index.
    user_methods_without_index!(sql);
}
