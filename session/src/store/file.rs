//! The file store: one JSON file per session in a directory, for one machine with several
//! worker processes and no Redis.

use std::{
    fmt,
    fs::{self, File},
    io::{self, Write as _},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use self::{
    lock::{Stripe, LOCK_STRIPES},
    record::{expires_at, read, RecordOut, Stored},
};
use super::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore, UserSession};
use crate::{clock::Clock, SessionId, StoreError};

mod lock;
mod prune;
mod record;
mod users;

/// The file-name prefix used unless [`FileStoreBuilder::prefix`] sets another.
pub(crate) const DEFAULT_FILE_PREFIX: &str = "session-";

/// A temporary file older than this is left over from a crash, and [`Prune::prune`](super::Prune::prune)
/// deletes it. No write takes anywhere near this long.
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(60 * 60);

/// Every session file name ends with this.
const SUFFIX: &str = ".json";
/// Temporary files are named `{prefix}{id}.json.{random}.tmp`.
const TEMP_SUFFIX: &str = ".tmp";
const TEMP_RANDOM_CHARS: usize = 8;
const ID_CHARS: usize = 43;
const MAX_PREFIX_CHARS: usize = 64;
const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Sessions as files in one directory: several processes on one machine share them.
///
/// Each session is a file `{prefix}{id}.json`, created 0600 in a 0700 directory (a session
/// file's name is a bearer credential); a directory other users can write to is refused. File
/// names are built only from validated [`SessionId`]s, so no cookie names a path outside the
/// directory. For Unix systems (it relies on `flock`, `O_NOFOLLOW` and flushing directories).
///
/// - **Writes** go to a temporary file that is flushed and renamed over the session file, so a
///   crash leaves the old version or the new one, never a torn file.
///   [`durable(false)`](FileStoreBuilder::durable) skips the flushes: faster, still whole
///   files after a crashed process, but a power loss may lose recent writes.
/// - **Concurrent requests and processes** that change different keys of one session all keep
///   their change (each change is applied under an advisory lock shared by every process on
///   the directory, on local file systems), and a session ended by one process is never
///   brought back by a late write from another. A lock a hung process keeps fails the calls
///   that need it with [`StoreError::Timeout`] after
///   [`lock_timeout`](FileStoreBuilder::lock_timeout).
/// - **Expiry**: an expired file is no session. Expired files stay on disk until
///   [`prune`](super::Prune::prune) deletes them, by hand or every interval with
///   [`start_pruning`](super::start_pruning); prune also sweeps the users' lists.
/// - **Bad files**: one that cannot be decoded, or that is not a regular file, is
///   [`StoreError::Corrupt`], which the middleware replaces with a fresh session; symlinks are
///   never followed. Files not named like session files are never touched.
/// - **Users' sessions** are listed in a directory per user, so listing and ending a user's
///   sessions read only theirs.
///
/// Blocking file I/O runs on the runtime's blocking thread pool; clones share the directory
/// and its locks. The repository's docs/architecture.md describes the file layout and locks.
///
/// ```
/// use std::time::Duration;
/// use actix_typed_session::{store::{ChangeSet, FileStore, Keys, SessionStore}, SessionId};
///
/// # actix_web::rt::System::new().block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = FileStore::builder(dir.path().join("sessions")).prefix("app-").build()?;
///
/// let id = SessionId::generate();
/// store.save(&id, &ChangeSet::create().upsert("user", "\"ada\""), Duration::from_secs(60)).await?;
/// let loaded = store.load(&id, Keys::All, None).await?.unwrap();
/// assert_eq!(loaded["user"], "\"ada\"");
/// assert!(dir.path().join(format!("sessions/app-{id}.json")).exists());
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    prefix: String,
    durable: bool,
    lock_timeout: Duration,
    clock: Clock,
    /// Kept open to flush renames and removals to disk.
    dir_handle: File,
    stripes: Box<[Stripe]>,
    /// Flushes of written files and of the directory so far, so that tests can see one go
    /// missing.
    #[cfg(test)]
    syncs: [std::sync::atomic::AtomicUsize; 2],
}

/// Builds a [`FileStore`].
///
/// | setting | default |
/// |---|---|
/// | [`prefix`](Self::prefix) | `session-` |
/// | [`durable`](Self::durable) | true |
/// | [`lock_timeout`](Self::lock_timeout) | 5 s |
#[derive(Debug)]
#[must_use]
pub struct FileStoreBuilder {
    dir: PathBuf,
    prefix: String,
    durable: bool,
    lock_timeout: Duration,
    clock: Clock,
}

/// A [`FileStore`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileStoreError {
    /// The file-name prefix could make file names that are not plain names in the directory.
    #[error(
        "invalid session file-name prefix {prefix:?}: use at most {MAX_PREFIX_CHARS} ASCII \
         letters, digits, `-`, `_` or `.`"
    )]
    InvalidPrefix {
        /// The prefix given.
        prefix: String,
    },
    /// The directory could not be created or opened, or its lock files could not be created.
    #[error("cannot use the session directory {}", path.display())]
    Directory {
        /// The path given or the file in it that failed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The existing directory can be written by other users, who could plant or replace
    /// session files: `chmod go-w` it, or use a directory of its own.
    #[error(
        "the session directory {} is writable by other users (mode {mode:o}): remove their \
         write permission or use a private directory",
        path.display()
    )]
    WritableByOthers {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

impl FileStore {
    /// Creates a store in `dir` with the default prefix (`session-`), durable writes.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = actix_typed_session::store::FileStore::new(dir.path()).unwrap();
    /// assert_eq!(store.dir(), dir.path());
    /// ```
    ///
    /// # Errors
    /// See [`FileStoreBuilder::build`].
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, FileStoreError> {
        Self::builder(dir).build()
    }

    /// Creates a builder for a store in `dir`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = actix_typed_session::store::FileStore::builder(dir.path())
    ///     .prefix("shop-")
    ///     .durable(false)
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn builder(dir: impl Into<PathBuf>) -> FileStoreBuilder {
        FileStoreBuilder {
            dir: dir.into(),
            prefix: DEFAULT_FILE_PREFIX.to_owned(),
            durable: true,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            clock: Clock::system(),
        }
    }

    /// Returns the directory holding the session files.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Returns the prefix of every session file name.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// Runs `f` on the blocking thread pool, in a span under the caller's (its store call's).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        let caller = tracing::Span::current();
        actix_web::rt::task::spawn_blocking(move || {
            let _io = tracing::debug_span!(parent: &caller, "session.file_io").entered();
            f(&inner)
        })
        .await
        .map_err(|err| StoreError::Other(err.into()))?
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.inner.dir)
            .field("prefix", &self.inner.prefix)
            .field("durable", &self.inner.durable)
            .field("lock_timeout", &self.inner.lock_timeout)
            .finish_non_exhaustive()
    }
}

impl FileStoreBuilder {
    /// Sets the prefix of every session file name (default `session-`): at most 64
    /// ASCII letters, digits, `-`, `_` or `.`. Stores with different prefixes can share a
    /// directory; [`prune`](super::Prune::prune) only touches files with its own prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets whether each write is flushed to disk (file and directory) before it counts as done
    /// (default true). Without it a crashed *process* still leaves whole files, but a power
    /// loss or kernel crash may lose the latest writes.
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// Sets how long an operation waits for a session's lock (default 5 s) before it fails with
    /// [`StoreError::Timeout`]. Locks are held only for one read and one write of a session
    /// file, so a wait this long means a process hung while holding one.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = actix_typed_session::store::FileStore::builder(dir.path())
    ///     .lock_timeout(Duration::from_secs(2))
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
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

    /// Creates the directory (mode 0700) if missing and opens its lock files.
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt as _;
    /// use actix_typed_session::store::{FileStore, FileStoreError};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    /// let err = FileStore::new(dir.path()).unwrap_err();
    /// assert!(matches!(err, FileStoreError::WritableByOthers { mode: 0o777, .. }));
    /// ```
    ///
    /// # Errors
    /// [`FileStoreError::InvalidPrefix`] for a prefix outside the allowed characters;
    /// [`FileStoreError::WritableByOthers`] when an existing directory is writable by its group
    /// or by others; [`FileStoreError::Directory`] when the directory cannot be created or
    /// opened or its lock files cannot be created (or are not regular files).
    pub fn build(self) -> Result<FileStore, FileStoreError> {
        let Self {
            dir,
            prefix,
            durable,
            lock_timeout,
            clock,
        } = self;
        let valid = prefix.len() <= MAX_PREFIX_CHARS
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err(FileStoreError::InvalidPrefix { prefix });
        }
        let dir_error = |path: &Path| {
            let path = path.to_owned();
            move |source| FileStoreError::Directory { path, source }
        };
        let mode = create_private_dir(&dir).map_err(dir_error(&dir))?;
        if mode & 0o022 != 0 {
            return Err(FileStoreError::WritableByOthers { path: dir, mode });
        }
        if mode & 0o044 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                mode = format_args!("{mode:o}"),
                "the session directory is readable by other users; session file names are credentials"
            );
        }
        let dir_handle = File::open(&dir).map_err(dir_error(&dir))?;
        let stripes = (0..LOCK_STRIPES)
            .map(|stripe| {
                let path = dir.join(format!(".{prefix}lock-{stripe:02}"));
                Stripe::open(&path).map_err(dir_error(&path))
            })
            .collect::<Result<_, FileStoreError>>()?;
        Ok(FileStore {
            inner: Arc::new(Inner {
                dir,
                prefix,
                durable,
                lock_timeout,
                clock,
                dir_handle,
                stripes,
                #[cfg(test)]
                syncs: Default::default(),
            }),
        })
    }
}

impl SessionStore for FileStore {
    fn kind(&self) -> &'static str {
        "file"
    }

    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        let only = match keys {
            Keys::All => None,
            Keys::Only(keys) => Some(keys.to_vec()),
        };
        let id = id.clone();
        self.blocking(move |inner| {
            let keys = only.as_deref().map_or(Keys::All, Keys::Only);
            let path = inner.path(&id);
            let Some(ttl) = refresh else {
                return match inner.read(&path)? {
                    Stored::Live(entries) => Ok(Some(keys.select(&entries))),
                    Stored::Absent | Stored::Expired => Ok(None),
                    Stored::Corrupt(err) => Err(StoreError::corrupt(err)),
                };
            };
            inner.locked(&id, || match inner.read(&path)? {
                Stored::Live(entries) => {
                    inner.write(&id, &entries, ttl)?;
                    Ok(Some(keys.select(&entries)))
                }
                Stored::Absent | Stored::Expired => Ok(None),
                Stored::Corrupt(err) => Err(StoreError::corrupt(err)),
            })
        })
        .await
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let (id, changes) = (id.clone(), changes.clone());
        self.blocking(move |inner| {
            inner.locked(&id, || {
                let path = inner.path(&id);
                let (current, stale) = match inner.read(&path)? {
                    Stored::Live(entries) => (Some(entries), false),
                    Stored::Absent => (None, false),
                    Stored::Expired => (None, true),
                    Stored::Corrupt(err) => {
                        tracing::warn!(error = %err, "undecodable session file treated as no session");
                        (None, true)
                    }
                };
                let mut entries = match (current, changes.is_new()) {
                    (Some(entries), _) => entries,
                    (None, true) => Entries::new(),
                    (None, false) => {
                        if stale {
                            inner.remove(&path)?;
                        }
                        return Ok(SaveOutcome::Gone);
                    }
                };
                changes.apply_to(&mut entries);
                inner.write(&id, &entries, ttl)?;
                Ok(SaveOutcome::Saved)
            })
        })
        .await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        let id = id.clone();
        self.blocking(move |inner| {
            inner.locked(&id, || {
                let path = inner.path(&id);
                match inner.read(&path)? {
                    Stored::Live(entries) => inner.write(&id, &entries, ttl).map(|()| true),
                    Stored::Absent => Ok(false),
                    Stored::Expired | Stored::Corrupt(_) => inner.remove(&path).map(|()| false),
                }
            })
        })
        .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let id = id.clone();
        self.blocking(move |inner| inner.locked(&id, || inner.remove(&inner.path(&id))))
            .await
    }

    /// One step under the locks of both ids: a concurrent delete of `old` either came first
    /// (nothing is written: `Gone`) or waits and finds nothing to delete.
    async fn renew(
        &self,
        old: &SessionId,
        new: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let (old, new, changes) = (old.clone(), new.clone(), changes.clone());
        self.blocking(move |inner| {
            let _held = lock::lock_all(&inner.stripes, &[&old, &new], inner.lock_timeout)?;
            let old_path = inner.path(&old);
            match inner.read(&old_path)? {
                Stored::Live(_) => {}
                Stored::Absent => return Ok(SaveOutcome::Gone),
                Stored::Expired | Stored::Corrupt(_) => {
                    inner.remove(&old_path)?;
                    return Ok(SaveOutcome::Gone);
                }
            }
            let mut entries = Entries::new();
            changes.apply_to(&mut entries);
            inner.write(&new, &entries, ttl)?;
            inner.remove(&old_path)?;
            Ok(SaveOutcome::Saved)
        })
        .await
    }

    // A directory of entries per user (see `users.rs`).
    async fn index_user_session(
        &self,
        user: &str,
        id: &SessionId,
        _ttl: Duration,
    ) -> Result<Option<usize>, StoreError> {
        self.index_user(user, id).await.map(Some)
    }

    async fn user_sessions(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        self.list_user(user).await
    }

    async fn end_user_session(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        self.end_user(user, id).await
    }

    async fn end_user_sessions(&self, user: &str) -> Result<usize, StoreError> {
        self.end_all(user).await
    }
}

/// `err` without the path `tempfile` adds to it: temporary file names hold the session id,
/// a credential, and store errors are logged.
fn without_path(err: io::Error) -> io::Error {
    let os_error = err
        .get_ref()
        .and_then(|inner| inner.source())
        .and_then(|source| source.downcast_ref::<io::Error>())
        .or(Some(&err))
        .and_then(io::Error::raw_os_error);
    os_error.map_or_else(|| io::Error::from(err.kind()), io::Error::from_raw_os_error)
}

impl Inner {
    /// The session file at `path`, judged live or expired by this store's clock.
    fn read(&self, path: &Path) -> Result<Stored, StoreError> {
        read(path, self.clock.unix_millis())
    }

    fn path(&self, id: &SessionId) -> PathBuf {
        self.dir.join(format!("{}{id}{SUFFIX}", self.prefix))
    }

    /// Runs `f` holding the lock of `id`'s stripe, in this process and across processes.
    fn locked<T>(
        &self,
        id: &SessionId,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _held = lock::lock_all(&self.stripes, &[id], self.lock_timeout)?;
        f()
    }

    /// Atomically replaces the session file of `id` with `entries`, expiring after `ttl`.
    fn write(&self, id: &SessionId, entries: &Entries, ttl: Duration) -> Result<(), StoreError> {
        let record = RecordOut {
            expires_at: expires_at(self.clock.unix_millis(), ttl),
            data: entries,
        };
        let bytes = serde_json::to_vec(&record).map_err(|err| StoreError::Other(err.into()))?;
        let temp_prefix = format!("{}{id}{SUFFIX}.", self.prefix);
        let write = || -> io::Result<()> {
            // tempfile creates the file 0600 with O_EXCL under a random name.
            let mut temp = tempfile::Builder::new()
                .prefix(&temp_prefix)
                .suffix(TEMP_SUFFIX)
                .rand_bytes(TEMP_RANDOM_CHARS)
                .tempfile_in(&self.dir)?;
            temp.write_all(&bytes)?;
            self.sync_file(temp.as_file())?;
            temp.persist(self.path(id)).map_err(|err| err.error)?;
            self.sync_dir()
        };
        write().map_err(|err| StoreError::unavailable(without_path(err)))
    }

    /// Removes a session file; a missing one is fine.
    fn remove(&self, path: &Path) -> Result<(), StoreError> {
        match fs::remove_file(path) {
            Ok(()) => self.sync_dir().map_err(StoreError::unavailable),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(StoreError::unavailable(err)),
        }
    }

    /// Flushes a written temporary file's data to disk before it is renamed into place.
    fn sync_file(&self, file: &File) -> io::Result<()> {
        if self.durable {
            #[cfg(test)]
            self.syncs[0].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            file.sync_data()?;
        }
        Ok(())
    }

    /// Makes renames and removals in the directory durable.
    fn sync_dir(&self) -> io::Result<()> {
        if self.durable {
            #[cfg(test)]
            self.syncs[1].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.dir_handle.sync_all()?;
        }
        Ok(())
    }
}

/// Creates `dir` (mode 0700) if missing; returns its permission bits.
pub(super) fn create_private_dir(dir: &Path) -> io::Result<u32> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "exists and is not a directory",
        ));
    }
    Ok(meta.permissions().mode() & 0o777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_recognised_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::builder(dir.path()).prefix("p-").build().unwrap();
        let inner = &store.inner;
        let id = SessionId::generate();
        assert_eq!(inner.session_of(&format!("p-{id}.json")), Some(id.clone()));
        for other in [
            format!("{id}.json"),
            format!("p-{id}.json.bak"),
            format!("q-{id}.json"),
            format!("p-{}.json", &id.as_str()[..42]),
            ".p-lock-07".to_owned(),
        ] {
            assert_eq!(inner.session_of(&other), None, "{other}");
            assert!(!inner.is_temp(&other), "{other}");
        }
        assert!(inner.is_temp(&format!("p-{id}.json.Ab3dE6gH.tmp")));
        assert!(!inner.is_temp(&format!("p-{id}.json.Ab3dE6g.tmp")));
        assert!(!inner.is_temp(&format!("p-{id}.json.Ab3d/6gH.tmp")));
        assert!(!inner.is_temp(&format!("q-{id}.json.Ab3dE6gH.tmp")));
    }

    #[test]
    fn stripes_cover_the_alphabet() {
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut seen = [false; LOCK_STRIPES];
        for c in alphabet.chars() {
            let text = format!("{c}{}", &SessionId::generate().as_str()[1..]);
            seen[lock::stripe(&SessionId::try_from(text.as_str()).unwrap())] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        actix_web::rt::System::new().block_on(future)
    }

    /// A lock file held through another open file, as another process would hold it.
    #[test]
    fn a_held_lock_fails_a_save_within_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let timeout = Duration::from_millis(200);
        let store = FileStore::builder(dir.path())
            .lock_timeout(timeout)
            .build()
            .unwrap();
        let id = SessionId::generate();
        let lock_file = dir.path().join(format!(
            ".{DEFAULT_FILE_PREFIX}lock-{:02}",
            lock::stripe(&id)
        ));
        let holder = File::options().write(true).open(lock_file).unwrap();
        rustix::fs::flock(&holder, rustix::fs::FlockOperation::LockExclusive).unwrap();

        let started = std::time::Instant::now();
        let saved = run(store.save(&id, &ChangeSet::create(), Duration::from_secs(60)));
        assert!(matches!(saved, Err(StoreError::Timeout)), "{saved:?}");
        let waited = started.elapsed();
        assert!(waited >= timeout && waited < 10 * timeout, "{waited:?}");
        assert!(!store.inner.path(&id).exists(), "nothing written");

        drop(holder);
        let saved = run(store.save(&id, &ChangeSet::create(), Duration::from_secs(60)));
        assert_eq!(saved.unwrap(), SaveOutcome::Saved, "the lock is free again");
    }

    /// Durable writes flush the temporary file before the rename and the directory after it
    /// (and after a removal); `durable(false)` flushes nothing.
    #[test]
    fn durable_writes_flush_the_file_and_the_directory() {
        use std::sync::atomic::Ordering;
        let dir = tempfile::tempdir().unwrap();
        let ttl = Duration::from_secs(60);
        for (durable, per_op) in [(true, 1), (false, 0)] {
            let store = FileStore::builder(dir.path())
                .durable(durable)
                .build()
                .unwrap();
            let syncs = || {
                store
                    .inner
                    .syncs
                    .each_ref()
                    .map(|n| n.load(Ordering::Relaxed))
            };
            let id = SessionId::generate();
            run(store.save(&id, &ChangeSet::create().upsert("k", "1"), ttl)).unwrap();
            assert_eq!(
                syncs(),
                [per_op, per_op],
                "a write: the file, then the directory"
            );
            run(store.delete(&id)).unwrap();
            assert_eq!(syncs(), [per_op, 2 * per_op], "a removal: the directory");
        }
    }

    #[test]
    fn bad_prefixes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for prefix in ["../", "a/b", "x\0", "é", &"a".repeat(65)] {
            let err = FileStore::builder(dir.path())
                .prefix(prefix)
                .build()
                .unwrap_err();
            assert!(
                matches!(err, FileStoreError::InvalidPrefix { .. }),
                "{prefix:?}"
            );
        }
    }
}
