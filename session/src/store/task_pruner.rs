//! Pruning on a schedule, as a task on the tokio runtime: what the SQL and Redis stores'
//! `start_pruning` return.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::sync::{Arc, Weak};
use std::{future::Future, io, time::Duration};

use crate::StoreError;

/// Background pruning as a task on the tokio runtime, started by `SqliteStore::start_pruning`,
/// `PostgresStore::start_pruning` or `RedisStore::start_pruning`.
///
/// Pruning stops when this handle is dropped (or [`stop`](TaskPruner::stop)ped), and also once
/// every clone of the store is dropped.
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # actix_web::rt::System::new().block_on(async {
/// use std::time::Duration;
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = actix_typed_session::store::SqliteStore::open(dir.path().join("s.db")).unwrap();
/// let _pruner = store.start_pruning(Duration::from_secs(600)).unwrap();
/// // Keep `_pruner` for as long as the server runs: dropping it stops pruning.
/// # });
/// ```
#[derive(Debug)]
pub struct TaskPruner {
    task: tokio::task::JoinHandle<()>,
}

impl TaskPruner {
    /// Stops pruning (as dropping does). A prune in progress is abandoned (a database finishes
    /// or rolls back the statement; Redis finishes the script; either is fine).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for TaskPruner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Spawns a task on the current tokio runtime that calls `prune` on the store `store` gives
/// now and then every `every`, until `store` gives none (every clone of the store is gone) or
/// the returned handle is dropped.
pub(crate) fn start_pruning<S, G, F, Fut>(
    store: G,
    every: Duration,
    prune: F,
) -> io::Result<TaskPruner>
where
    G: Fn() -> Option<S> + Send + 'static,
    F: Fn(S) -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, StoreError>> + Send,
{
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let every = every.max(Duration::from_millis(1));
    let task = runtime.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(store) = store() else { break };
            match prune(store).await {
                Ok(pruned) => tracing::debug!(pruned, "pruned expired sessions"),
                Err(err) => crate::log::error_chain("pruning expired sessions failed", &err),
            }
        }
    });
    Ok(TaskPruner { task })
}

/// What [`start_pruning`] needs of a store held in an `Arc`: a weak handle, so that pruning
/// ends with the store's last clone.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn weakly<T>(store: &Arc<T>) -> impl Fn() -> Option<Arc<T>> + Send + 'static
where
    T: Send + Sync + 'static,
{
    let store: Weak<T> = Arc::downgrade(store);
    move || store.upgrade()
}
