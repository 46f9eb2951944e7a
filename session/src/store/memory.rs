//! The in-process store: the default.

use std::{
    collections::HashMap,
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use moka::{ops::compute::Op, sync::Cache, Expiry};

use super::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore};
use crate::{SessionId, StoreError};

/// Sessions kept by [`MemoryStore::default`] before the least useful ones are evicted.
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// Sessions in this process's memory, shared by all its actix workers.
///
/// Built on `moka`'s concurrent cache: the number of sessions is bounded (a flood of new
/// visitors evicts the least recently and least frequently used sessions instead of exhausting
/// memory), every entry expires at its own TTL, expired entries are evicted by the cache and
/// refused on read, and each change set is applied atomically per session, so concurrent
/// requests changing different keys both keep their change. Sessions are lost when the process
/// exits; use Redis or files to share sessions between processes.
///
/// Clones share the same sessions.
///
/// ```
/// use session::store::MemoryStore;
///
/// let store = MemoryStore::builder().max_sessions(10_000).build();
/// let same = store.clone();
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    cache: Cache<SessionId, Arc<Record>>,
}

/// Values are shared `Arc<str>`, so the copy a save makes of a record (the cache still holds
/// the old one) copies pointers, not the values: a 64 KiB blob is not copied by every write.
type SharedEntries = HashMap<String, Arc<str>>;

#[derive(Debug)]
struct Record {
    entries: Arc<SharedEntries>,
    expires_at: Instant,
}

/// `keys` of `entries`, as the owned map the trait returns.
fn select(entries: &SharedEntries, keys: Keys<'_>) -> Entries {
    let pick = |(k, v): (&String, &Arc<str>)| (k.clone(), v.to_string());
    match keys {
        Keys::All => entries.iter().map(pick).collect(),
        Keys::Only(only) => only
            .iter()
            .filter_map(|k| entries.get_key_value(k))
            .map(pick)
            .collect(),
    }
}

impl Record {
    fn live(&self, now: Instant) -> bool {
        self.expires_at > now
    }
}

struct RecordExpiry;

impl Expiry<SessionId, Arc<Record>> for RecordExpiry {
    fn expire_after_create(
        &self,
        _: &SessionId,
        record: &Arc<Record>,
        now: Instant,
    ) -> Option<Duration> {
        Some(record.expires_at.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &SessionId,
        record: &Arc<Record>,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(record.expires_at.saturating_duration_since(now))
    }
}

/// Builds a [`MemoryStore`].
#[derive(Debug)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_sessions: u64,
}

impl MemoryStoreBuilder {
    /// The most sessions kept at once (default [`DEFAULT_MAX_SESSIONS`]).
    pub fn max_sessions(mut self, max: u64) -> Self {
        self.max_sessions = max;
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            cache: Cache::builder()
                .max_capacity(self.max_sessions)
                .expire_after(RecordExpiry)
                .build(),
        }
    }
}

impl MemoryStore {
    /// A store with the default capacity ([`DEFAULT_MAX_SESSIONS`]).
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to set the capacity.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            max_sessions: DEFAULT_MAX_SESSIONS,
        }
    }

    /// The number of live sessions (approximate while the cache settles its bookkeeping).
    #[must_use]
    pub fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// True when no session is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the record of `id` through `f` atomically; `f` sees only a live record.
    fn compute<T>(
        &self,
        id: &SessionId,
        f: impl FnOnce(Option<&Record>) -> (Option<Record>, T),
    ) -> T {
        let now = Instant::now();
        let mut out = None;
        self.cache.entry_by_ref(id).and_compute_with(|current| {
            let current = current.map(|e| e.into_value());
            let live = current.as_deref().filter(|r| r.live(now));
            let (next, result) = f(live);
            out = Some(result);
            match (next, current.is_some()) {
                (Some(record), _) => Op::Put(Arc::new(record)),
                (None, true) if live.is_none() => Op::Remove,
                (None, _) => Op::Nop,
            }
        });
        out.expect("and_compute_with calls its closure exactly once")
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("sessions", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

impl SessionStore for MemoryStore {
    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        let Some(ttl) = refresh else {
            let now = Instant::now();
            return Ok(self
                .cache
                .get(id)
                .filter(|r| r.live(now))
                .map(|r| select(&r.entries, keys)));
        };
        Ok(self.compute(id, |record| match record {
            Some(r) => (
                Some(Record {
                    entries: r.entries.clone(),
                    expires_at: Instant::now() + ttl,
                }),
                Some(select(&r.entries, keys)),
            ),
            None => (None, None),
        }))
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        Ok(self.compute(id, |record| {
            let mut entries = match (record, changes.is_new()) {
                (Some(r), _) => r.entries.clone(),
                (None, true) => Arc::default(),
                (None, false) => return (None, SaveOutcome::Gone),
            };
            changes.apply_to(Arc::make_mut(&mut entries));
            let record = Record {
                entries,
                expires_at: Instant::now() + ttl,
            };
            (Some(record), SaveOutcome::Saved)
        }))
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        Ok(self.compute(id, |record| match record {
            Some(r) => (
                Some(Record {
                    entries: r.entries.clone(),
                    expires_at: Instant::now() + ttl,
                }),
                true,
            ),
            None => (None, false),
        }))
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.cache.invalidate(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    #[actix_web::test]
    async fn a_flood_of_sessions_stays_within_capacity() {
        let store = MemoryStore::builder().max_sessions(100).build();
        for _ in 0..2_000 {
            let id = SessionId::generate();
            store
                .save(&id, &ChangeSet::create().upsert("k", "1"), TTL)
                .await
                .unwrap();
        }
        assert!(store.len() <= 100, "{} sessions kept", store.len());
        assert!(!store.is_empty());
    }

    #[actix_web::test]
    async fn expired_sessions_are_evicted_not_just_hidden() {
        let store = MemoryStore::new();
        for _ in 0..10 {
            let id = SessionId::generate();
            let changes = ChangeSet::create().upsert("k", "1");
            store
                .save(&id, &changes, Duration::from_millis(50))
                .await
                .unwrap();
        }
        let keeper = SessionId::generate();
        store
            .save(&keeper, &ChangeSet::create().upsert("k", "1"), TTL)
            .await
            .unwrap();
        assert_eq!(store.len(), 11);
        // The cache's timer wheel evicts with about one second of granularity.
        let deadline = Instant::now() + Duration::from_secs(5);
        while store.len() > 1 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(store.len(), 1, "expired entries are gone from memory");
        assert!(store
            .load(&keeper, Keys::All, None)
            .await
            .unwrap()
            .is_some());
    }

    #[actix_web::test]
    async fn clones_share_sessions() {
        let store = MemoryStore::new();
        let other = store.clone();
        let id = SessionId::generate();
        store
            .save(&id, &ChangeSet::create().upsert("k", "1"), TTL)
            .await
            .unwrap();
        assert!(other.load(&id, Keys::All, None).await.unwrap().is_some());
    }
}
