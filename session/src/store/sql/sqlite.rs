//! The SQLite store.

mod db;
mod keys;
mod statements;
mod users;

use std::sync::Arc;
use std::{fmt, io, path::Path, path::PathBuf, time::Duration};

use rusqlite::{params, OptionalExtension as _};

use self::db::{sqlite_error, Db};
use self::statements::Statements;
use super::{
    check_table, created, created_user, decode, encode, millis, now_ms, only, patch, user_change,
    written, SqlConfigError, SqlPruner, DEFAULT_SQL_TIMEOUT, DEFAULT_TABLE,
};
use crate::{
    store::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore, UserSession},
    SessionId, StoreError,
};

/// Sessions in an SQLite database file: durable, shared by every process on the machine that
/// opens the same file, no server to run.
///
/// # Layout
/// One row per session in a table (default `sessions`, created on first use with
/// `CREATE TABLE IF NOT EXISTS`, which is safe when several processes start at once):
/// `key INTEGER PRIMARY KEY, id TEXT, data TEXT, expires_at INTEGER` (Unix milliseconds),
/// `user_id TEXT`. `key` is the first 60 bits of the session id (its first ten characters):
/// SQLite's rowid, so a lookup walks the table's one b-tree and a new session changes no
/// index; every statement also compares the whole `id`. Two live sessions whose ids share
/// their first ten characters cannot both have a row: the save of the second one fails with
/// [`StoreError::Other`] and touches nothing (a new session meets a live one's key with a
/// chance of one in 2^60 per live session: one in a billion with a billion of them); an
/// expired row under the key gives way. The table is indexed on `user_id` only, so
/// a save of a small session changes one page of the table; a new database file gets 1 KiB
/// pages (every page a commit changes is copied whole into the write-ahead log).
/// (`WITHOUT ROWID` on the text id was tried: a little faster for sessions of a few dozen
/// bytes, half as fast for 1 KiB ones, which no longer fit in a page of that layout.) `data`
/// is a JSON object mapping each session key to its value's JSON text as a JSON string, so
/// values load back exactly as they were written, byte for byte. `user_id` is the user signed
/// in under [`USER_KEY`](crate::store::USER_KEY), set by the save or renewal that writes that
/// key (and cleared by one that removes it), so a user's sessions are listed and ended with
/// one statement each. A table made by an earlier version (`id TEXT PRIMARY KEY`) is moved to
/// this layout on first use, in one transaction, after getting the `user_id` column, its
/// index and its rows' users if it had none; it also loses its `expires_at` index.
///
/// # One statement per call
/// Each store call is one SQL statement (renew: two in one savepoint), so through
/// [`SessionMiddleware`](crate::SessionMiddleware) a request that does not use its session costs
/// no statement, one that reads it one, one that changes it two (load, then save). A save merges
/// the change set into the stored row in that one `UPDATE`, with SQLite's JSON1 `json_patch`:
/// upserted keys are set, removed keys are patched to `null` (which deletes them), a clear
/// starts from `{}`. Concurrent requests changing different keys of one session therefore both
/// keep their change, in one process or several; when two change the same key the last write
/// wins. An update of a session that no longer exists (logged out, expired) matches no row,
/// writes nothing and answers [`SaveOutcome::Gone`]; a renewal deletes the old row and creates
/// the new one only if the old row was live, atomically. Partial loads
/// ([`Keys::Only`]) pick the keys out inside SQLite.
///
/// (A row per session key was the alternative; the JSON row needs one row write per save
/// instead of one per key, and a load is one row read.)
///
/// # Durability
/// [`SqliteStore::open`] sets WAL mode and `synchronous=NORMAL`: a commit is in the
/// write-ahead log before the call returns, so an application crash or kill loses nothing, but
/// the log is flushed to disk only at checkpoints (each time it reaches 4,000 pages of 1 KiB),
/// so a power loss or OS crash may lose the transactions since the last one (never corrupting
/// the database). Readers never block the writer. Writers take turns; a writer waits for the
/// lock up to the store's timeout.
///
/// # Threads
/// SQLite is called directly (rusqlite, bundled SQLite), not through an async driver. It is
/// cheapest when one thread does everything on one connection (the page cache stays valid
/// across that connection's own writes, nothing is handed between threads, SQLite's
/// process-wide mutexes are never contended), so the store runs in one of two ways:
/// - while a single thread calls the store (an app with one worker, a current-thread
///   runtime), every call runs on that thread, on one connection, a write in a transaction of
///   its own. That connection never waits for a lock: a write that finds it taken (another
///   process writing) goes to the store's SQLite thread below. It checkpoints like any
///   connection, after the commit that brings the log to 4,000 pages (two fsyncs on that
///   thread).
/// - once a second thread calls it (actix-web's workers), for good, every call goes to the
///   store's SQLite thread, which runs reads (a load without refresh, listing a user's
///   sessions) at once, outside any transaction, and commits the writes queued meanwhile in one
///   `BEGIN IMMEDIATE` transaction (group commit). While another process holds the write
///   lock, it keeps running reads (WAL readers do not wait for writers). When the queue runs
///   dry it keeps looking for up to 100 µs before it sleeps, so that busy callers need not
///   wake it.
///
/// On the SQLite thread each write is answered only after its transaction committed, and a call
/// whose caller stopped waiting (past the timeout) before its batch took the write lock is
/// dropped unrun. A write that fails on its own (say a row too big) fails alone; one that
/// rolls the whole transaction back fails the batch. If SQLite ever answers a read "busy" (a
/// connection recovering the log), the calling thread does not wait: the read goes to the
/// SQLite thread. Pruning and making the schema always run on the SQLite thread.
///
/// # Expiry and pruning
/// Expired rows are never served: loads, updates and refreshes only match rows whose
/// `expires_at` is in the future (by this machine's clock). Every save and refresh sets a new
/// `expires_at`. Expired rows stay until [`prune`](SqliteStore::prune) deletes them, by hand or
/// every interval with [`start_pruning`](SqliteStore::start_pruning). There is no index on
/// `expires_at` (each save would change it too): a prune reads the whole table, holding the
/// write lock meanwhile — about 15 ms per 100,000 sessions on our test machine (`sqlite3`
/// shell, 1 KiB pages), plus the
/// deletions.
///
/// # Failures
/// Each call, waiting for a connection or for the write lock included, fails within the
/// store's timeout (default 5 s) with [`StoreError::Timeout`] or
/// [`StoreError::Unavailable`]; the middleware answers an opaque 503 on the routes that need the
/// session. The next call tries again: nothing needs restarting. A row whose `data` is not a
/// JSON object of strings is [`StoreError::Corrupt`], which the middleware replaces with a fresh
/// session.
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
}

impl SqliteStore {
    /// A store in the SQLite database at `path` (created if missing), with the default table
    /// and timeout. Nothing is opened until the first call.
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

    /// A builder for a store in the SQLite database at `path`.
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
        }
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.db.shared().path
    }

    /// The table holding the sessions.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// The time one call may take.
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

    /// Deletes the expired rows and returns how many there were.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_typed_session::{store::{ChangeSet, SessionStore, SqliteStore}, SessionId};
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let store = SqliteStore::open(dir.path().join("sessions.db"))?;
    /// let (live, dead) = (SessionId::generate(), SessionId::generate());
    /// store.save(&live, &ChangeSet::create(), Duration::from_secs(60)).await?;
    /// store.save(&dead, &ChangeSet::create(), Duration::ZERO).await?;
    /// assert_eq!(store.prune().await?, 1);
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// When the database fails or the call takes longer than the store's timeout.
    pub async fn prune(&self) -> Result<u64, StoreError> {
        self.inner.prune().await
    }

    /// Runs [`prune`](Self::prune) now and then every `every` as a task on the current tokio
    /// runtime (actix-web's, when called from a handler or `#[actix_web::main]`), until the
    /// returned [`SqlPruner`] is dropped or every clone of this store is.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = actix_typed_session::store::SqliteStore::open(dir.path().join("s.db")).unwrap();
    /// let pruner = store.start_pruning(Duration::from_secs(10 * 60)).unwrap();
    /// // … run the server …
    /// pruner.stop();
    /// # });
    /// ```
    ///
    /// # Errors
    /// When called outside a tokio runtime.
    pub fn start_pruning(&self, every: Duration) -> io::Result<SqlPruner> {
        super::start_pruning(
            &self.inner,
            every,
            |inner| async move { inner.prune().await },
        )
    }
}

impl SqliteStoreBuilder {
    /// The table holding the sessions (default `sessions`): 1 to 48 ASCII letters,
    /// digits or `_`, not starting with a digit.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The longest one store call may take, waiting for the write lock included (default
    /// 5 s); also SQLite's `busy_timeout` for writes.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
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
    /// On the SQLite thread, whichever thread asks (a pruning task is not the app's caller).
    async fn prune(&self) -> Result<u64, StoreError> {
        self.db
            .queue(|conn, db| {
                let deleted = conn
                    .prepare_cached(&db.sql.prune)
                    .and_then(|mut prune| prune.execute([now_ms()]))
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
        let (id, key) = row_of(id);
        let Some(ttl) = refresh else {
            return self
                .inner
                .db
                .read(move |conn, db| {
                    let now = now_ms();
                    match &names {
                        None => data_row(conn, &db.sql.load, params![id, now, key]),
                        Some(names) => {
                            data_row(conn, &db.sql.load_only, params![id, now, names, key])
                        }
                    }
                })
                .await;
        };
        // A refreshing load writes.
        self.inner
            .db
            .write(move |conn, db| {
                let now = now_ms();
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
        self.inner
            .db
            .write(move |conn, db| {
                let now = now_ms();
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
        let (id, key) = row_of(id);
        self.inner
            .db
            .write(move |conn, db| {
                let now = now_ms();
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
        self.inner
            .db
            .write(move |conn, db| {
                conn.execute_batch("SAVEPOINT renew")
                    .map_err(sqlite_error)?;
                let renewed = (|| {
                    let now = now_ms();
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
