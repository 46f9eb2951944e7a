//! The in-process store: the default.

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use quick_cache::sync::{Cache, EntryAction, EntryResult};

use super::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore, UserSession};
use crate::{clock::Clock, SessionId, StoreError};

mod users;

/// Sessions kept by [`MemoryStore::default`] before the least useful ones are evicted.
pub(crate) const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// Sessions in this process's memory, shared by all its actix workers.
///
/// Built on `quick_cache`'s sharded concurrent cache: the number of sessions is bounded (a
/// flood of new visitors evicts the coldest sessions, with an eviction policy that resists
/// scans, instead of exhausting memory), every session expires at its own TTL (expired ones are
/// refused on read and swept out as new sessions arrive), and each change set is applied in
/// place under the session's shard lock, so concurrent requests changing different keys both
/// keep their change and no write copies the session. Sessions are lost when the process exits;
/// use Redis or files to share sessions between processes.
///
/// Clones share the same sessions.
///
/// ```
/// use actix_typed_session::store::MemoryStore;
///
/// let store = MemoryStore::builder().max_sessions(10_000).build();
/// let same = store.clone();
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    cache: Cache<SessionId, Record>,
    /// Sessions created so far: every `sweep_every`-th one triggers a sweep of expired ones.
    created: AtomicU64,
    sweep_every: u64,
    clock: Clock,
    users: users::UserIndex,
}

#[derive(Debug, Clone)]
struct Record {
    entries: Entries,
    expires_at: Instant,
}

impl Record {
    fn live(&self, now: Instant) -> bool {
        self.expires_at > now
    }
}

/// Builds a [`MemoryStore`].
#[derive(Debug)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_sessions: u64,
    clock: Clock,
}

impl MemoryStoreBuilder {
    /// The most sessions kept at once (default 100,000).
    pub fn max_sessions(mut self, max: u64) -> Self {
        self.max_sessions = max;
        self
    }

    /// The clock expiry is measured by (tests move a [`Clock::manual`] instead of sleeping).
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        let max = usize::try_from(self.max_sessions.max(1)).unwrap_or(usize::MAX);
        MemoryStore {
            inner: Arc::new(Inner {
                cache: bounded_cache(max),
                created: AtomicU64::new(0),
                // A sweep visits every session; doing it once per quarter of the capacity in
                // new sessions keeps its cost at a few visits per new session.
                sweep_every: (self.max_sessions / 4).max(1024),
                clock: self.clock,
                users: users::UserIndex::default(),
            }),
        }
    }
}

/// A cache that holds at most `max` sessions. quick_cache splits its capacity over shards and
/// rounds each shard's share up, so `Cache::new(250)` on 8 shards keeps 256; when that happens
/// the capacity is rounded down to a multiple of the shard count instead (at most one session
/// per shard fewer than asked).
fn bounded_cache(max: usize) -> Cache<SessionId, Record> {
    let cache = Cache::new(max);
    if cache.capacity() <= max as u64 {
        return cache;
    }
    // Shard counts are powers of two: the largest one that fits `max` keeps every shard useful.
    let largest_fitting = 1usize << max.ilog2();
    let shards = cache.num_shards().min(largest_fitting);
    let capacity = max / shards * shards;
    let options = quick_cache::OptionsBuilder::new()
        .shards(shards)
        .estimated_items_capacity(capacity)
        .weight_capacity(capacity as u64)
        .build()
        .expect("every option is set");
    Cache::with_options(
        options,
        Default::default(),
        Default::default(),
        Default::default(),
    )
}

impl MemoryStore {
    /// A store with the default capacity (100,000).
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to set the capacity.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            max_sessions: DEFAULT_MAX_SESSIONS,
            clock: Clock::system(),
        }
    }

    /// The number of live sessions (expired ones are swept out first).
    #[must_use]
    pub fn len(&self) -> u64 {
        self.sweep();
        self.inner.cache.len() as u64
    }

    /// True when no session is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every expired session.
    fn sweep(&self) {
        let now = self.inner.clock.instant();
        self.inner.cache.retain(|_, record| record.live(now));
    }

    /// Runs `f` on the live record of `id`, in place, under its shard's lock. `None` when there
    /// is no live record (an expired one is removed on the way).
    fn with_live<T>(&self, id: &SessionId, f: impl FnOnce(&mut Record) -> T) -> Option<T> {
        let now = self.inner.clock.instant();
        let result = self.inner.cache.entry(id, None, |_, record| {
            if record.live(now) {
                EntryAction::Retain(f(record))
            } else {
                EntryAction::Remove
            }
        });
        match result {
            EntryResult::Retained(out) => Some(out),
            // Removed: it had expired. Vacant: dropping the guard leaves nothing behind.
            _ => None,
        }
    }

    fn insert_new(&self, id: &SessionId, changes: &ChangeSet, ttl: Duration) {
        let mut entries = Entries::new();
        changes.apply_to(&mut entries);
        let record = Record {
            entries,
            expires_at: self.inner.clock.instant_after(ttl),
        };
        self.inner.cache.insert(id.clone(), record);
        let created = self.inner.created.fetch_add(1, Ordering::Relaxed) + 1;
        if created.is_multiple_of(self.inner.sweep_every) {
            self.sweep();
        }
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
            .field("sessions", &self.inner.cache.len())
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
        let expires_at = refresh.map(|ttl| self.inner.clock.instant_after(ttl));
        Ok(self.with_live(id, |record| {
            if let Some(expires_at) = expires_at {
                record.expires_at = expires_at;
            }
            keys.select(&record.entries)
        }))
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let expires_at = self.inner.clock.instant_after(ttl);
        let updated = self.with_live(id, |record| {
            changes.apply_to(&mut record.entries);
            record.expires_at = expires_at;
        });
        Ok(match (updated, changes.is_new()) {
            (Some(()), _) => SaveOutcome::Saved,
            (None, true) => {
                self.insert_new(id, changes, ttl);
                SaveOutcome::Saved
            }
            (None, false) => SaveOutcome::Gone,
        })
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        let expires_at = self.inner.clock.instant_after(ttl);
        Ok(self
            .with_live(id, |record| record.expires_at = expires_at)
            .is_some())
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.inner.cache.remove(id);
        Ok(())
    }

    /// Atomic without holding two shard locks at once: taking `old` out is one step under its
    /// shard's lock, so a concurrent delete either came first (we find nothing: `Gone`) or
    /// finds nothing itself. `new` is a fresh id that no other request knows, so inserting it
    /// afterwards under its own shard's lock cannot race with anything.
    async fn renew(
        &self,
        old: &SessionId,
        new: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let taken = self.inner.cache.remove(old);
        if !taken.is_some_and(|(_, record)| record.live(self.inner.clock.instant())) {
            return Ok(SaveOutcome::Gone);
        }
        self.insert_new(new, changes, ttl);
        Ok(SaveOutcome::Saved)
    }

    /// A user's list is a set of ids behind one lock, pruned of dead sessions on every use.
    async fn index_user_session(
        &self,
        user: &str,
        id: &SessionId,
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        self.index_user(user, id);
        Ok(())
    }

    async fn user_sessions(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        Ok(self.list_user(user))
    }

    async fn end_user_session(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        Ok(self.end_user(user, id))
    }

    async fn end_user_sessions(&self, user: &str) -> Result<usize, StoreError> {
        Ok(self.end_all(user))
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

    /// The production sweep, not `len()` (which sweeps by itself): expired sessions leave
    /// memory once every `sweep_every` new sessions, even if nobody asks for them again.
    #[actix_web::test]
    async fn expired_sessions_are_swept_out_as_new_sessions_arrive() {
        let store = MemoryStore::builder().max_sessions(4 * 1024).build();
        let every = store.inner.sweep_every;
        assert_eq!(every, 1024);
        let raw_count = || store.inner.cache.len();
        let create = |ttl| {
            let store = store.clone();
            async move {
                let id = SessionId::generate();
                let changes = ChangeSet::create().upsert("k", "1");
                store.save(&id, &changes, ttl).await.unwrap();
                id
            }
        };
        // A zero TTL has expired by the next look at the clock: no sleep needed.
        let mut expired = Vec::new();
        for _ in 0..10 {
            expired.push(create(Duration::ZERO).await);
        }
        let keeper = create(TTL).await;
        for _ in 0..every - 12 {
            create(TTL).await;
        }
        assert_eq!(raw_count(), 1023, "no sweep before the 1024th new session");
        create(TTL).await;
        assert_eq!(
            raw_count(),
            1024 - 10,
            "the sweep dropped every expired session"
        );
        assert!(store
            .load(&keeper, Keys::All, None)
            .await
            .unwrap()
            .is_some());
        assert_eq!(
            store.load(&expired[0], Keys::All, None).await.unwrap(),
            None
        );
    }

    #[test]
    fn the_capacity_never_exceeds_the_bound() {
        for max in [1, 2, 3, 10, 100, 250, 1000, 1023, 4000, 100_001] {
            let store = MemoryStore::builder().max_sessions(max).build();
            let capacity = store.inner.cache.capacity();
            assert!(capacity <= max, "{max}: {capacity}");
            let shards = store.inner.cache.num_shards() as u64;
            assert!(
                capacity + shards > max,
                "{max}: {capacity} on {shards} shards"
            );
        }
    }

    #[actix_web::test]
    async fn an_endless_ttl_is_kept_not_a_panic() {
        let store = MemoryStore::new();
        let id = SessionId::generate();
        let create = ChangeSet::create().upsert("k", "1");
        store.save(&id, &create, Duration::MAX).await.unwrap();
        assert!(store.refresh(&id, Duration::MAX).await.unwrap());
        let load = store.load(&id, Keys::All, Some(Duration::MAX)).await;
        assert_eq!(load.unwrap().unwrap().len(), 1);
        let new = SessionId::generate();
        let outcome = store.renew(&id, &new, &create, Duration::MAX).await;
        assert_eq!(outcome.unwrap(), SaveOutcome::Saved);
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
