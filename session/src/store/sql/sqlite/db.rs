//! How the SQLite store reaches its database file.
//!
//! SQLite is cheapest when one thread does everything on one connection: its page cache stays
//! valid across that connection's own writes, nothing is handed between threads, and
//! SQLite's process-wide mutexes (the page cache's, the allocator's, the file locks') are never
//! contended. So:
//! - while a single thread calls the store (an app with one worker, a current-thread runtime),
//!   reads and writes run on that thread, on one connection, each write in a transaction of
//!   its own. A write that finds the lock taken (another process, say) goes to the SQLite
//!   thread instead of waiting there.
//! - once a second thread calls it, for good, every call goes to the store's SQLite thread:
//!   it runs reads at once, outside any transaction, and commits the writes queued meanwhile
//!   in one transaction (group commit), answering each only once that transaction committed.
//!   While another process holds the write lock, it keeps running reads.
//!
//! Background maintenance (schema, prune) always runs on the SQLite thread.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    path::PathBuf,
    sync::Arc,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc, Mutex, OnceLock, PoisonError,
    },
    time::Duration,
};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use tokio::sync::oneshot;

use super::{keys, users, Statements};
use crate::{
    store::sql::{within, UserStatements},
    StoreError,
};

/// The most writes one transaction commits.
const MAX_BATCH: usize = 256;

/// Statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 32;

/// Log pages after which a commit checkpoints (SQLite's default is 1,000). With sessions
/// spread over the table most commits change a page of their own, and a checkpoint copies
/// each page once however often the log has it: fewer, larger checkpoints copy less.
const AUTOCHECKPOINT: u32 = 4000;

/// How long the SQLite thread looks for the next call before it sleeps. Under load the next
/// call comes within microseconds: the callers then need not wake the thread, nor it fall
/// asleep (two workers, 10,000 sessions, quick A/Bs against no spin: 50 µs gave +16 % req/s,
/// 200 µs a little more, at the same CPU per request). When calls stop, this much CPU is spent
/// once.
const SPIN: Duration = Duration::from_micros(100);

/// [`Db::owner`] once a second thread called the store.
const MANY: u64 = u64::MAX;

/// What every connection needs: the file, the statements, the timeout.
pub(super) struct Shared {
    pub(super) path: PathBuf,
    pub(super) timeout: Duration,
    pub(super) sql: Statements,
    pub(super) users: UserStatements,
    /// The SQLite thread opened the file and made the schema: the owner may open it.
    ready: AtomicBool,
}

/// The connections of one store.
pub(super) struct Db {
    shared: Arc<Shared>,
    writer: OnceLock<mpsc::Sender<Box<dyn Job>>>,
    starting: Mutex<()>,
    /// The number ([`thread_number`]) of the one thread that calls the store, 0 before the
    /// first call, [`MANY`] once another thread did.
    owner: AtomicU64,
    /// The owner's connection, opened on its first call once the schema is made.
    main: Mutex<Option<Connection>>,
}

impl Db {
    pub(super) fn new(
        path: PathBuf,
        timeout: Duration,
        sql: Statements,
        users: UserStatements,
    ) -> Self {
        let shared = Shared {
            path,
            timeout,
            sql,
            users,
            ready: AtomicBool::new(false),
        };
        Self {
            shared: Arc::new(shared),
            writer: OnceLock::new(),
            starting: Mutex::new(()),
            owner: AtomicU64::new(0),
            main: Mutex::new(None),
        }
    }

    pub(super) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Runs `work` in a write transaction and answers once it committed (an error if it did
    /// not): on this thread when it is the store's only caller and the write lock is free,
    /// else on the SQLite thread within the store's timeout.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Shared) -> Result<T, StoreError> + Send + 'static,
    {
        if !self.shared.ready.load(Ordering::Acquire) || !self.alone() {
            return self.queue(work).await;
        }
        match self.write_here(work) {
            Ok(done) => done,
            Err(work) => self.queue(work).await,
        }
    }

    /// Whether this thread is the only one that has called the store so far (it becomes the
    /// owner on its first call).
    fn alone(&self) -> bool {
        let me = thread_number();
        match self
            .owner
            .compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => true,
            Err(owner) if owner == me => true,
            Err(MANY) => false,
            Err(_) => {
                self.owner.store(MANY, Ordering::Relaxed);
                false
            }
        }
    }

    /// Runs `work` in a transaction of its own on the owner's connection, if the write lock is
    /// free; hands `work` back when it is not (`BEGIN IMMEDIATE` answers "busy" at once: this
    /// connection never waits) or when another thread holds the connection (the moment a
    /// second thread starts calling).
    fn write_here<T, F>(&self, work: F) -> Result<Result<T, StoreError>, F>
    where
        F: FnOnce(&Connection, &Shared) -> Result<T, StoreError>,
    {
        let Some(mut main) = try_lock(&self.main) else {
            return Err(work);
        };
        let conn = match owner_connection(&mut main, &self.shared) {
            Ok(conn) => conn,
            Err(err) => return Ok(Err(err)),
        };
        match begin(conn) {
            Ok(()) => {}
            Err(StoreError::Timeout) => return Err(work),
            Err(err) => return Ok(Err(err)),
        }
        let result = run(work, conn, &self.shared);
        Ok(end(conn).and(result))
    }

    /// Runs `work` on the SQLite thread, inside the transaction of its batch, and answers once
    /// that transaction committed (an error if it did not), within the store's timeout. A call
    /// whose caller stopped waiting before its batch took the write lock is dropped unrun.
    pub(super) async fn queue<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Shared) -> Result<T, StoreError> + Send + 'static,
    {
        self.send(work, false).await
    }

    /// Sends `work` to the SQLite thread: a write, or a `read` (run at once, outside the
    /// batch's transaction, never waiting for the lock).
    async fn send<T, F>(&self, work: F, read: bool) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Shared) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let call = Box::new(Call {
            caller: tracing::Span::current(),
            read,
            work: Some(work),
            result: None,
            reply,
        });
        self.writer()?.send(call).map_err(|_| stopped())?;
        within(self.shared.timeout, async {
            answer.await.unwrap_or_else(|_| Err(stopped()))
        })
        .await
    }

    /// Has the SQLite thread open the file and make the schema, if it has not yet.
    pub(super) async fn open(&self) -> Result<(), StoreError> {
        self.queue(|_, _| Ok(())).await
    }

    /// Runs `work` on the owner's connection if this thread is the store's only caller, else
    /// on the SQLite thread; neither waits for writers (WAL). In the rare case SQLite answers
    /// a read "busy" at once (a connection recovering the log, say), the owner's read is
    /// queued to the SQLite thread as a write, which may wait for the lock, instead of
    /// blocking this thread; on the SQLite thread it is tried again every millisecond.
    pub(super) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection, &Shared) -> Result<T, StoreError> + Send + 'static,
    {
        if !self.shared.ready.load(Ordering::Acquire) {
            self.open().await?;
        }
        if !self.alone() {
            return self.send(patient(work, self.shared.timeout), true).await;
        }
        match self.read_here(&work) {
            // A second thread is taking over at this very moment.
            None => self.send(patient(work, self.shared.timeout), true).await,
            Some(Err(StoreError::Timeout)) => self.queue(work).await,
            Some(done) => done,
        }
    }

    /// Runs `work` on the owner's connection, unless another thread holds it.
    fn read_here<T>(
        &self,
        work: impl Fn(&Connection, &Shared) -> Result<T, StoreError>,
    ) -> Option<Result<T, StoreError>> {
        let mut main = try_lock(&self.main)?;
        Some(owner_connection(&mut main, &self.shared).and_then(|conn| work(conn, &self.shared)))
    }

    /// The SQLite thread's queue, starting the thread on first use.
    fn writer(&self) -> Result<&mpsc::Sender<Box<dyn Job>>, StoreError> {
        if let Some(sender) = self.writer.get() {
            return Ok(sender);
        }
        let _one = lock(&self.starting);
        if let Some(sender) = self.writer.get() {
            return Ok(sender);
        }
        let (sender, jobs) = mpsc::channel();
        let shared = Arc::clone(&self.shared);
        std::thread::Builder::new()
            .name("sqlite-sessions".into())
            .spawn(move || write_loop(&shared, &jobs))
            .map_err(StoreError::unavailable)?;
        Ok(self.writer.get_or_init(|| sender))
    }
}

/// `read`, tried again every millisecond while SQLite answers "busy", up to `timeout`.
fn patient<T>(
    read: impl Fn(&Connection, &Shared) -> Result<T, StoreError>,
    timeout: Duration,
) -> impl FnOnce(&Connection, &Shared) -> Result<T, StoreError> {
    move |conn, shared| {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match read(conn, shared) {
                Err(StoreError::Timeout) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                done => return done,
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn try_lock<T>(mutex: &Mutex<T>) -> Option<std::sync::MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// A number for the calling thread, never 0 nor [`MANY`], never reused.
fn thread_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static NUMBER: u64 = NEXT.fetch_add(1, Ordering::Relaxed));
    NUMBER.with(|number| *number)
}

/// The owner's connection, opened if this is its first use (or its opening failed before).
/// It never waits for a lock (a write that finds it taken goes to the SQLite thread); it
/// checkpoints, like any connection, after the commit that brings the log to
/// [`AUTOCHECKPOINT`] pages.
fn owner_connection<'c>(
    main: &'c mut Option<Connection>,
    shared: &Shared,
) -> Result<&'c Connection, StoreError> {
    if let Some(conn) = main {
        return Ok(conn);
    }
    let conn = open(
        shared,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::ZERO).map_err(sqlite_error)?;
    Ok(main.insert(conn))
}

fn stopped() -> StoreError {
    StoreError::unavailable("the SQLite store's thread stopped")
}

/// Maps an SQLite error onto the store's error kinds: busy or locked (after `busy_timeout`)
/// is a timeout, a value of the wrong type a corrupt row, the rest unavailability.
pub(super) fn sqlite_error(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(
                failure.code,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Timeout
        }
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            StoreError::corrupt(err)
        }
        _ => StoreError::unavailable(err),
    }
}

/// One error of the same kind for each call of a failed batch.
fn copy(err: &StoreError) -> StoreError {
    match err {
        StoreError::Timeout => StoreError::Timeout,
        other => StoreError::unavailable(other.to_string()),
    }
}

fn open(shared: &Shared, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(&shared.path, flags).map_err(sqlite_error)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Both connections write: commits reach the log without an fsync, checkpoints sync it.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT}"
    ))
    .map_err(sqlite_error)?;
    Ok(conn)
}

/// The SQLite thread's connection: creates the file (with 1 KiB pages: a session row is far
/// smaller, and each page a commit changes is copied whole into the log), sets WAL, waits up to
/// the timeout for the lock, makes (or migrates) the schema.
fn open_writer(shared: &Shared) -> Result<Connection, StoreError> {
    create_private(&shared.path)?;
    let conn = open(
        shared,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(shared.timeout).map_err(sqlite_error)?;
    // Only a database without tables yet takes a page size (an existing one keeps its own).
    conn.execute_batch("PRAGMA page_size = 1024")
        .map_err(sqlite_error)?;
    set_wal(&conn, shared.timeout)?;
    conn.execute_batch(&shared.sql.schema)
        .map_err(sqlite_error)?;
    users::migrate_user_column(&conn, &shared.users)?;
    keys::migrate(&conn, &shared.sql, &shared.users.index)?;
    // From here on the thread waits for the write lock itself, running reads meanwhile.
    conn.busy_timeout(Duration::ZERO).map_err(sqlite_error)?;
    shared.ready.store(true, Ordering::Release);
    Ok(conn)
}

/// Creates the database file readable and writable by its owner only, if it does not exist
/// yet (sessions are credentials; SQLite would make it 0644). SQLite gives the `-wal` and
/// `-shm` files it creates the database file's mode. An existing file keeps its own.
fn create_private(path: &std::path::Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Err(err) if err.kind() != std::io::ErrorKind::AlreadyExists => {
            Err(StoreError::unavailable(err))
        }
        _ => Ok(()),
    }
}

/// Puts the database in WAL mode (it stays so, in the file). Switching needs the database to
/// itself, and SQLite answers "busy" at once rather than wait for it (several processes
/// opening a new file at the same moment), so this retries until `timeout`.
fn set_wal(conn: &Connection, timeout: Duration) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        let mode = conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        });
        match mode.map_err(sqlite_error) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(StoreError::unavailable(format!(
                    "SQLite kept journal mode {mode:?} instead of WAL"
                )))
            }
            Err(StoreError::Timeout) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(err) => return Err(err),
        }
    }
}

/// A queued write.
trait Job: Send {
    /// Whether its caller stopped waiting (timed out or was dropped).
    fn abandoned(&self) -> bool;
    /// Whether it only reads: it runs at once, outside the batch's transaction.
    fn reads(&self) -> bool;
    fn run(&mut self, conn: &Connection, shared: &Shared);
    /// Answers the caller: its own result, or `failed` when its transaction did not commit.
    fn finish(self: Box<Self>, failed: Option<StoreError>);
}

struct Call<T, F> {
    /// The span of the store call that queued it: its work runs in a child of it.
    caller: tracing::Span,
    read: bool,
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Call<T, F>
where
    T: Send,
    F: FnOnce(&Connection, &Shared) -> Result<T, StoreError> + Send,
{
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn reads(&self) -> bool {
        self.read
    }

    fn run(&mut self, conn: &Connection, shared: &Shared) {
        let _thread =
            tracing::debug_span!(parent: &self.caller, "session.sqlite_thread", read = self.read)
                .entered();
        if let Some(work) = self.work.take() {
            self.result = Some(run(work, conn, shared));
        }
    }

    fn finish(self: Box<Self>, failed: Option<StoreError>) {
        let result = match (failed, self.result) {
            (Some(err), _) => Err(err),
            (None, Some(result)) => result,
            (None, None) => Err(StoreError::unavailable("an SQLite store call did not run")),
        };
        // The caller may have stopped waiting meanwhile.
        let _ = self.reply.send(result);
    }
}

/// Runs one call's work; a panic in it is its error (the thread and the transaction live on).
fn run<T>(
    work: impl FnOnce(&Connection, &Shared) -> Result<T, StoreError>,
    conn: &Connection,
    shared: &Shared,
) -> Result<T, StoreError> {
    catch_unwind(AssertUnwindSafe(|| work(conn, shared)))
        .unwrap_or_else(|_| Err(StoreError::unavailable("an SQLite store call panicked")))
}

/// Takes the write lock (`BEGIN IMMEDIATE`) if it is free; "busy" is a timeout. (A prepared
/// statement: parsing it again for every write showed in profiles.)
pub(super) fn begin(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached("BEGIN IMMEDIATE")
        .and_then(|mut begin| begin.execute([]))
        .map(drop)
        .map_err(sqlite_error)
}

/// Commits the transaction the calls since [`begin`] ran in; an error if SQLite rolled it back
/// meanwhile (disk full, I/O) or the commit failed, and then nothing of it is kept.
pub(super) fn end(conn: &Connection) -> Result<(), StoreError> {
    let outcome = if conn.is_autocommit() {
        Err(StoreError::unavailable(
            "SQLite rolled back the transaction of a batch of writes",
        ))
    } else {
        conn.prepare_cached("COMMIT")
            .and_then(|mut commit| commit.execute([]))
            .map(drop)
            .map_err(sqlite_error)
    };
    if outcome.is_err() {
        rollback(conn);
    }
    outcome
}

/// Undoes the open transaction, if SQLite has not already (a failed rollback leaves nothing
/// more to undo).
pub(super) fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// The SQLite thread: takes what is queued, up to [`MAX_BATCH`] calls, runs the reads at once
/// and commits the writes in one transaction; ends once the store is dropped.
fn write_loop(shared: &Shared, jobs: &mpsc::Receiver<Box<dyn Job>>) {
    let mut conn = None;
    while let Some(first) = next_job(jobs) {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter().take(MAX_BATCH - 1));
        batch.retain(|job| !job.abandoned());
        if batch.is_empty() {
            continue;
        }
        let conn = match &mut conn {
            Some(conn) => conn,
            empty => match open_writer(shared) {
                Ok(opened) => empty.insert(opened),
                Err(err) => {
                    fail(batch, &err);
                    continue;
                }
            },
        };
        let mut writes = Vec::with_capacity(batch.len());
        for job in batch {
            if job.reads() {
                read_now(conn, shared, job);
            } else {
                writes.push(job);
            }
        }
        if writes.is_empty() {
            continue;
        }
        match begin_waiting(conn, shared, jobs, &mut writes) {
            Ok(()) => commit(conn, shared, writes),
            Err(err) => fail(writes, &err),
        }
    }
}

/// The next call: looked for without sleeping for up to [`SPIN`] first, then waited for.
/// `None` once the store is dropped.
fn next_job(jobs: &mpsc::Receiver<Box<dyn Job>>) -> Option<Box<dyn Job>> {
    let started = std::time::Instant::now();
    loop {
        match jobs.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) if started.elapsed() < SPIN => std::hint::spin_loop(),
            Err(mpsc::TryRecvError::Empty) => return jobs.recv().ok(),
        }
    }
}

fn read_now(conn: &Connection, shared: &Shared, mut job: Box<dyn Job>) {
    job.run(conn, shared);
    job.finish(None);
}

/// Takes the write lock for `writes`, trying again every millisecond up to the store's
/// timeout while another connection holds it; reads that arrive meanwhile run at once, writes
/// join the batch.
fn begin_waiting(
    conn: &Connection,
    shared: &Shared,
    jobs: &mpsc::Receiver<Box<dyn Job>>,
    writes: &mut Vec<Box<dyn Job>>,
) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + shared.timeout;
    loop {
        match begin(conn) {
            Err(StoreError::Timeout) if std::time::Instant::now() < deadline => {}
            done => return done,
        }
        match jobs.recv_timeout(Duration::from_millis(1)) {
            Ok(job) if job.reads() => read_now(conn, shared, job),
            Ok(job) => writes.push(job),
            Err(_) => {}
        }
    }
}

fn fail(batch: Vec<Box<dyn Job>>, err: &StoreError) {
    for job in batch {
        job.finish(Some(copy(err)));
    }
}

/// Runs `batch` in the transaction [`begin_waiting`] began and answers each call after the
/// commit. Calls whose callers stopped waiting while the lock was awaited are dropped unrun, so
/// that a write acknowledged to a later request (on the owner's connection, say) is never
/// overwritten by an earlier one whose caller was told it failed.
fn commit(conn: &Connection, shared: &Shared, mut batch: Vec<Box<dyn Job>>) {
    batch.retain(|job| !job.abandoned());
    for job in &mut batch {
        job.run(conn, shared);
        if conn.is_autocommit() {
            // An error (disk full, I/O) rolled the whole transaction back: `end` says so.
            break;
        }
    }
    let failed = end(conn).err();
    for job in batch {
        job.finish(failed.as_ref().map(copy));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{thread_number, MANY};
    use crate::{
        store::{ChangeSet, Keys, SessionStore, SqliteStore},
        SessionId,
    };

    const HOUR: Duration = Duration::from_secs(3600);

    fn is_owned_by(store: &SqliteStore, thread: u64) -> bool {
        store
            .inner
            .db
            .owner
            .load(std::sync::atomic::Ordering::Relaxed)
            == thread
    }

    /// One thread runs everything on its own connection; the first call of a second thread
    /// moves the store to the SQLite thread for good, and both threads' writes stay readable
    /// on either path.
    #[test]
    fn the_first_thread_owns_the_connection_until_a_second_thread_calls() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        let id = SessionId::generate();
        actix_web::rt::System::new().block_on(async {
            store.create_schema().await.unwrap();
            assert!(
                is_owned_by(&store, 0),
                "the schema is made on the SQLite thread"
            );
            store
                .save(&id, &ChangeSet::create().upsert("a", "1"), HOUR)
                .await
                .unwrap();
            assert!(store.load(&id, Keys::All, None).await.unwrap().is_some());
        });
        assert!(is_owned_by(&store, thread_number()));
        assert!(store.inner.db.main.lock().unwrap().is_some());

        let other = store.clone();
        let other_id = id.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async {
                let got = other.load(&other_id, Keys::All, None).await.unwrap();
                assert_eq!(got.unwrap()["a"], "1");
                other
                    .save(&other_id, &ChangeSet::update().upsert("b", "2"), HOUR)
                    .await
                    .unwrap();
            });
        })
        .join()
        .unwrap();
        assert!(is_owned_by(&store, MANY));

        actix_web::rt::System::new().block_on(async {
            let got = store.load(&id, Keys::All, None).await.unwrap().unwrap();
            assert_eq!((got["a"].as_str(), got["b"].as_str()), ("1", "2"));
        });
        assert!(is_owned_by(&store, MANY), "never goes back");
    }

    /// Pruning runs on the SQLite thread and does not make its thread the owner.
    #[test]
    fn pruning_does_not_take_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        actix_web::rt::System::new().block_on(async {
            assert_eq!(crate::store::Prune::prune(&store).await.unwrap().expired, 0);
        });
        assert!(is_owned_by(&store, 0));
    }
}
