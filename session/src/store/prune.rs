//! Pruning: how the stores that keep ended sessions around remove them, once or on a schedule.
//!
//! The file and SQL stores keep expired sessions until pruned (a load never serves one), and
//! the Redis store keeps the lists of users who never come back; each implements [`Prune`].
//! The memory store sweeps itself, Redis expires sessions by itself, and the cookie store keeps
//! nothing.

use std::{future::Future, io, time::Duration};

use crate::StoreError;

/// What one [`Prune::prune`] found and did. Each store fills in what it has: a count it does
/// not keep is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PruneReport {
    /// Sessions kept because they are live (the file store counts them).
    pub live: usize,
    /// Expired sessions deleted (file and SQL stores).
    pub expired: usize,
    /// Undecodable sessions deleted (file store).
    pub corrupt: usize,
    /// Temporary files older than one hour deleted, left by crashed writers (file store).
    pub stale_temp: usize,
    /// Entries of the users' lists whose session has ended, removed (Redis's sets and the file
    /// store's index, with the lists left empty).
    pub index_entries: usize,
}

impl PruneReport {
    /// Everything the prune removed.
    ///
    /// ```
    /// let report = actix_typed_session::store::PruneReport::default();
    /// assert_eq!(report.removed(), 0);
    /// ```
    #[must_use]
    pub fn removed(&self) -> usize {
        self.expired + self.corrupt + self.stale_temp + self.index_entries
    }

    /// The report of a prune that deleted `expired` sessions and counted nothing else.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn of_expired(expired: u64) -> Self {
        Self {
            expired: usize::try_from(expired).unwrap_or(usize::MAX),
            ..Self::default()
        }
    }
}

/// A store that keeps what has ended until it is pruned: [`FileStore`](super::FileStore),
/// `SqliteStore`, `PostgresStore` and `RedisStore` (its lists of users' sessions). Call
/// [`prune`](Self::prune) by hand, or keep a [`start_pruning`] handle alive.
pub trait Prune: Clone + Send + Sync + 'static {
    /// Removes what has ended (each store's docs say what that is); live sessions are left
    /// alone.
    ///
    /// # Errors
    /// The store's, when it cannot be read or written within its deadline; what was removed
    /// before the error stays removed.
    fn prune(&self) -> impl Future<Output = Result<PruneReport, StoreError>> + Send;
}

/// Background pruning, started by [`start_pruning`]: it stops when this handle is dropped (or
/// [`stop`](Pruner::stop)ped).
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # actix_web::rt::System::new().block_on(async {
/// use std::time::Duration;
/// use actix_typed_session::store::{start_pruning, SqliteStore};
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
/// let _pruner = start_pruning(&store, Duration::from_secs(600)).unwrap();
/// // Keep `_pruner` for as long as the server runs: dropping it stops pruning.
/// # });
/// ```
#[derive(Debug)]
pub struct Pruner {
    task: tokio::task::JoinHandle<()>,
}

impl Pruner {
    /// Stops pruning (as dropping does). A prune in progress is abandoned where it waits: a
    /// database finishes or rolls back its statement, a file or Redis step in flight completes;
    /// each is fine.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Pruner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs [`Prune::prune`] on `store` (a clone) now and then every `every`, as a task on the
/// current tokio runtime (actix-web's, when called from `#[actix_web::main]` or a handler),
/// until the returned [`Pruner`] is dropped. Intervals under a millisecond are raised to one.
/// A failed prune is logged, and the next one tries again.
///
/// ```no_run
/// # #[actix_web::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use actix_typed_session::store::{start_pruning, FileStore};
///
/// let store = FileStore::new("/var/lib/myapp/sessions")?;
/// let _pruner = start_pruning(&store, Duration::from_secs(10 * 60))?;
/// // … run the server with `store` …
/// # Ok(()) }
/// ```
///
/// # Errors
/// When called outside a tokio runtime.
pub fn start_pruning<S: Prune>(store: &S, every: Duration) -> io::Result<Pruner> {
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let every = every.max(Duration::from_millis(1));
    let store = store.clone();
    let task = runtime.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match store.prune().await {
                Ok(report) => tracing::debug!(?report, "pruned ended sessions"),
                Err(err) => crate::log::error_chain("pruning ended sessions failed", &err),
            }
        }
    });
    Ok(Pruner { task })
}
