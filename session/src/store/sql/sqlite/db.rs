//! How the SQLite store reaches its database file: reads run on the calling thread, on a
//! connection of their own; writes go to one writer thread that commits what is queued in one
//! transaction (group commit), and answers each call only once that transaction committed.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    path::PathBuf,
    sync::Arc,
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc, Mutex, OnceLock, PoisonError,
    },
    time::Duration,
};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use tokio::sync::oneshot;

use super::{users, Statements};
use crate::{
    store::sql::{within, UserStatements},
    StoreError,
};

/// The most writes one transaction commits.
const MAX_BATCH: usize = 256;

/// Statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 32;

/// What every connection needs: the file, the statements, the timeout.
pub(super) struct Shared {
    pub(super) path: PathBuf,
    pub(super) timeout: Duration,
    pub(super) sql: Statements,
    pub(super) users: UserStatements,
    /// The writer opened the file and made the schema: readers may open it.
    ready: AtomicBool,
}

/// The connections of one store.
pub(super) struct Db {
    shared: Arc<Shared>,
    writer: OnceLock<mpsc::Sender<Box<dyn Job>>>,
    starting: Mutex<()>,
    readers: Mutex<Vec<Connection>>,
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
            readers: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Runs `work` on the writer thread, inside the transaction of its batch, and answers once
    /// that transaction committed (an error if it did not), within the store's timeout. A call
    /// whose caller stopped waiting before its batch began is dropped unrun.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Shared) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let call = Box::new(Call {
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

    /// Has the writer thread open the file and make the schema, if it has not yet.
    pub(super) async fn open(&self) -> Result<(), StoreError> {
        self.write(|_, _| Ok(())).await
    }

    /// Runs `work` on this thread with a read connection. In WAL mode reads do not wait for
    /// writers; in the rare case SQLite answers "busy" at once (a connection recovering the
    /// log, say), the read is queued to the writer thread, which may wait for the lock, instead
    /// of blocking this thread.
    pub(super) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection, &Shared) -> Result<T, StoreError> + Send + 'static,
    {
        if !self.shared.ready.load(Ordering::Acquire) {
            self.open().await?;
        }
        let result = self.read_here(&work);
        match result {
            Err(StoreError::Timeout) => self.write(work).await,
            done => done,
        }
    }

    fn read_here<T>(
        &self,
        work: impl Fn(&Connection, &Shared) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.lock_readers().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(&self.shared)?,
        };
        let result = work(&conn, &self.shared);
        // Kept for the next read: a read never yields, so there are never more connections than
        // threads that read at the same moment (actix-web's workers, say).
        self.lock_readers().push(conn);
        result
    }

    fn lock_readers(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.readers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The writer thread's queue, starting the thread on first use.
    fn writer(&self) -> Result<&mpsc::Sender<Box<dyn Job>>, StoreError> {
        if let Some(sender) = self.writer.get() {
            return Ok(sender);
        }
        let _one = self.starting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = self.writer.get() {
            return Ok(sender);
        }
        let (sender, jobs) = mpsc::channel();
        let shared = Arc::clone(&self.shared);
        std::thread::Builder::new()
            .name("sqlite-session-writer".into())
            .spawn(move || write_loop(&shared, &jobs))
            .map_err(StoreError::unavailable)?;
        Ok(self.writer.get_or_init(|| sender))
    }
}

fn stopped() -> StoreError {
    StoreError::unavailable("the SQLite store's writer thread stopped")
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
    Ok(conn)
}

/// A read connection: answers "busy" at once rather than wait on this thread.
fn open_reader(shared: &Shared) -> Result<Connection, StoreError> {
    let conn = open(
        shared,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::ZERO).map_err(sqlite_error)?;
    Ok(conn)
}

/// The write connection: creates the file, sets WAL and `synchronous=NORMAL`, waits up to
/// the timeout for the lock, makes (or migrates) the schema.
fn open_writer(shared: &Shared) -> Result<Connection, StoreError> {
    let conn = open(
        shared,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(shared.timeout).map_err(sqlite_error)?;
    set_wal(&conn, shared.timeout)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL")
        .map_err(sqlite_error)?;
    conn.execute_batch(&shared.sql.schema)
        .map_err(sqlite_error)?;
    users::migrate_user_column(&conn, &shared.users)?;
    shared.ready.store(true, Ordering::Release);
    Ok(conn)
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
    fn run(&mut self, conn: &Connection, shared: &Shared);
    /// Answers the caller: its own result, or `failed` when its transaction did not commit.
    fn finish(self: Box<Self>, failed: Option<StoreError>);
}

struct Call<T, F> {
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

    fn run(&mut self, conn: &Connection, shared: &Shared) {
        if let Some(work) = self.work.take() {
            let ran = catch_unwind(AssertUnwindSafe(|| work(conn, shared)));
            self.result =
                Some(ran.unwrap_or_else(|_| {
                    Err(StoreError::unavailable("an SQLite store call panicked"))
                }));
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

/// The writer thread: takes what is queued, up to [`MAX_BATCH`] calls, and commits them in
/// one transaction; ends once the store is dropped.
fn write_loop(shared: &Shared, jobs: &mpsc::Receiver<Box<dyn Job>>) {
    let mut conn = None;
    while let Ok(first) = jobs.recv() {
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
        commit(conn, shared, batch);
    }
}

fn fail(batch: Vec<Box<dyn Job>>, err: &StoreError) {
    for job in batch {
        job.finish(Some(copy(err)));
    }
}

/// Runs `batch` in one `BEGIN IMMEDIATE` transaction (the write lock taken at once, waiting
/// up to `busy_timeout` for other processes) and answers each call after the commit.
fn commit(conn: &Connection, shared: &Shared, mut batch: Vec<Box<dyn Job>>) {
    if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
        return fail(batch, &sqlite_error(err));
    }
    let mut outcome = Ok(());
    for job in &mut batch {
        job.run(conn, shared);
        if conn.is_autocommit() {
            // An error (disk full, I/O) rolled the whole transaction back.
            outcome = Err(StoreError::unavailable(
                "SQLite rolled back the transaction of a batch of writes",
            ));
            break;
        }
    }
    if outcome.is_ok() {
        outcome = conn.execute_batch("COMMIT").map_err(sqlite_error);
    }
    if outcome.is_err() && !conn.is_autocommit() {
        // Nothing of the batch is kept; a failed rollback leaves nothing more to undo.
        let _ = conn.execute_batch("ROLLBACK");
    }
    let failed = outcome.err();
    for job in batch {
        job.finish(failed.as_ref().map(copy));
    }
}
