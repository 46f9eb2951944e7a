//! The in-process store: the default.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use quick_cache::{
    sync::{Cache, EntryAction, EntryResult},
    DefaultHashBuilder, Lifecycle,
};

use super::{
    ChangeSet, Entries, Keys, SaveOutcome, SessionStore, UserSession, Value, Values, USER_KEY,
};
use crate::{clock::Clock, observe, SessionId, StoreError};

mod users;

/// Sessions kept by [`MemoryStore::default`] before the least useful ones are evicted.
pub(crate) const DEFAULT_MAX_SESSIONS: u64 = 100_000;
/// Bytes of session data kept by [`MemoryStore::default`] before sessions are evicted.
const DEFAULT_MAX_BYTES: u64 = 256 << 20;
/// What a session costs beyond its keys and values (the record, the map, the cache's slot), and
/// what each entry costs beyond its key and value (two `String`s and a map slot): estimates, so
/// that many tiny sessions are bounded too.
const RECORD_OVERHEAD: u64 = 128;
const ENTRY_OVERHEAD: u64 = 64;

/// Sessions in this process's memory, shared by all its actix workers.
///
/// On `quick_cache`'s sharded cache: each session expires at its own TTL (refused on read,
/// swept as new ones arrive); change sets apply in place under the shard lock, so concurrent
/// changes to different keys are all kept. Sessions die with the process; to share them
/// between processes, use Redis, files or SQL. Clones share the same sessions.
///
/// # Eviction signs users out
/// Sessions ([`max_sessions`](MemoryStoreBuilder::max_sessions)) and their bytes
/// ([`max_bytes`](MemoryStoreBuilder::max_bytes)) are bounded, so at either bound each new
/// session evicts the coldest live one, silently signing that user out before its TTL: a
/// flood of cookieless clients signs real users out. Size both above your peak (new sessions
/// per second × TTL: 2/s for a day is 172,800, times their size for `max_bytes`).
///
/// ```
/// use actix_typed_session::store::MemoryStore;
///
/// let store = MemoryStore::builder().max_sessions(500_000).build();
/// let same = store.clone();
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

type Sessions = Cache<SessionId, Record, Weight, DefaultHashBuilder, Evictions>;

struct Inner {
    cache: Sessions,
    /// The heaviest session one shard of the cache can hold: heavier ones are refused with an
    /// error (the cache would drop them silently).
    max_weight: u64,
    /// Sessions created so far: every `sweep_every`-th one triggers a sweep of expired ones.
    created: AtomicU64,
    sweep_every: u64,
    clock: Clock,
    users: users::UserIndex,
}

#[derive(Debug, Clone)]
struct Record {
    /// Shared with the requests that load them: a load copies no value.
    entries: HashMap<String, Arc<str>>,
    expires_at: Instant,
}

impl Record {
    fn live(&self, now: Instant) -> bool {
        self.expires_at > now
    }

    /// The bytes this session holds, estimated: keys, values and fixed overheads.
    fn bytes(&self) -> u64 {
        let entries: u64 = self
            .entries
            .iter()
            .map(|(key, value)| entry_bytes(key, value))
            .sum();
        RECORD_OVERHEAD + entries
    }

    /// [`bytes`](Self::bytes) once `changes` are applied, without applying them (so that a
    /// change too big to keep is refused before it touches the session).
    fn bytes_after(&self, changes: &ChangeSet) -> u64 {
        let mut bytes = if changes.cleared {
            RECORD_OVERHEAD
        } else {
            self.bytes()
        };
        let old = |key: &str| match self.entries.get(key) {
            Some(value) if !changes.cleared => entry_bytes(key, value),
            _ => 0,
        };
        // Saturating: a hand-made change set may name a key twice; this is an estimate.
        for key in &changes.removals {
            bytes = bytes.saturating_sub(old(key));
        }
        for (key, value) in &changes.upserts {
            let removed = changes.removals.contains(key);
            bytes =
                bytes.saturating_sub(if removed { 0 } else { old(key) }) + entry_bytes(key, value);
        }
        bytes
    }
}

fn entry_bytes(key: &str, value: &str) -> u64 {
    ENTRY_OVERHEAD + key.len() as u64 + value.len() as u64
}

/// A session's weight in the cache: its bytes, but at least `unit` (the byte budget's share of
/// one session), so that the byte bound also bounds the number of sessions.
#[derive(Debug, Clone)]
struct Weight {
    unit: u64,
}

impl quick_cache::Weighter<SessionId, Record> for Weight {
    fn weight(&self, _id: &SessionId, record: &Record) -> u64 {
        record.bytes().max(self.unit)
    }
}

/// Counts the live sessions the cache evicts (signed in or not): the metric that tells
/// whether the bounds sign users out.
#[derive(Clone)]
struct Evictions {
    clock: Clock,
}

impl Lifecycle<SessionId, Record> for Evictions {
    type RequestState = ();

    fn on_evict(&self, _state: &mut (), _id: SessionId, record: Record) {
        if record.live(self.clock.instant()) {
            observe::evicted(record.entries.contains_key(USER_KEY));
        }
    }
}

/// Builds a [`MemoryStore`].
#[derive(Debug)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_sessions: u64,
    max_bytes: u64,
    clock: Clock,
}

impl MemoryStoreBuilder {
    /// Sets the most sessions kept at once (default 100,000); more evict live ones (see above).
    pub fn max_sessions(mut self, max: u64) -> Self {
        self.max_sessions = max;
        self
    }

    /// Sets the most bytes of session data kept at once (default 256 MiB): keys and values plus
    /// about 128 bytes a session and 64 an entry (the allocator's slack comes on top); more
    /// evict live sessions. A session over 1/N of it (N shards: 8 on 2 cores) cannot be kept:
    /// saving it fails with [`StoreError::Other`].
    ///
    /// ```
    /// use actix_typed_session::store::MemoryStore;
    ///
    /// // 100,000 sessions of 64 KiB would need 6.4 GB: this store keeps at most 1 GiB of them.
    /// let store = MemoryStore::builder().max_bytes(1 << 30).build();
    /// ```
    pub fn max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = max;
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

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        let max = usize::try_from(self.max_sessions.max(1)).unwrap_or(usize::MAX);
        let evictions = Evictions {
            clock: self.clock.clone(),
        };
        let (cache, max_weight) = bounded_cache(max, self.max_bytes, evictions);
        MemoryStore {
            inner: Arc::new(Inner {
                max_weight,
                cache,
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

/// quick_cache's share of a shard's weight for its "hot" section (its default): it admits no
/// entry heavier than that.
const HOT_ALLOCATION: f64 = 0.97;

/// A cache that holds at most `max` sessions and about `max_bytes` of them, and the heaviest
/// session it admits. Each session weighs its bytes but at least `max_bytes / max` (see
/// [`Weight`]), so the weight capacity bounds both. quick_cache splits the capacity over
/// shards and rounds each shard's share up, so the session count is rounded down to a multiple
/// of the shard count (at most one session per shard fewer than asked), and the weight capacity
/// is that many units exactly. Every shard holds at least two sessions' worth, or (one session
/// in all) is all "hot", so that a session of one unit is always admitted.
fn bounded_cache(max: usize, max_bytes: u64, evictions: Evictions) -> (Sessions, u64) {
    let default_shards = Cache::<u8, u8>::new(max).num_shards();
    // Shard counts are powers of two: the largest one that leaves each shard two sessions.
    let shards = default_shards.min(1usize << (max / 2).max(1).ilog2());
    let sessions = max / shards * shards;
    let unit = (max_bytes / sessions as u64).max(1);
    let hot = if sessions / shards < 2 {
        1.0
    } else {
        HOT_ALLOCATION
    };
    let shard_weight = sessions as u64 / shards as u64 * unit;
    // As quick_cache computes its admission limit.
    let max_weight = ((shard_weight as f64 * hot) as u64).clamp(shard_weight.min(1), shard_weight);
    let options = quick_cache::OptionsBuilder::new()
        .shards(shards)
        .hot_allocation(hot)
        .estimated_items_capacity(sessions)
        .weight_capacity(sessions as u64 * unit)
        .build()
        .expect("every option is set");
    let cache = Cache::with_options(options, Weight { unit }, Default::default(), evictions);
    (cache, max_weight)
}

impl MemoryStore {
    /// Creates a store with the default capacity (100,000).
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Creates a builder to set the capacity.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_bytes: DEFAULT_MAX_BYTES,
            clock: Clock::system(),
        }
    }

    /// Returns the number of live sessions (expired ones are swept out first).
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

    /// Drops every expired session, and the user lists' ids of sessions that are gone.
    fn sweep(&self) {
        let now = self.inner.clock.instant();
        self.inner.cache.retain(|_, record| record.live(now));
        self.sweep_users();
    }

    /// [`SessionStore::load`] without copying the values: the session handle's fast path.
    pub(crate) fn load_shared(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Option<Values> {
        let expires_at = refresh.map(|ttl| self.inner.clock.instant_after(ttl));
        self.with_live(id, |record| {
            if let Some(expires_at) = expires_at {
                record.expires_at = expires_at;
            }
            let share =
                |(key, value): (&String, &Arc<str>)| (key.clone(), Value::from(value.clone()));
            match keys {
                Keys::All => record.entries.iter().map(share).collect(),
                Keys::Only(keys) => keys
                    .iter()
                    .filter_map(|key| record.entries.get_key_value(key).map(share))
                    .collect(),
            }
        })
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

    /// The record `changes` create, unless it is too big to keep.
    fn new_record(&self, changes: &ChangeSet, ttl: Duration) -> Result<Record, StoreError> {
        let mut entries = HashMap::new();
        changes.apply_to(&mut entries);
        let record = Record {
            entries,
            expires_at: self.inner.clock.instant_after(ttl),
        };
        self.check_fits(record.bytes())?;
        Ok(record)
    }

    fn check_fits(&self, bytes: u64) -> Result<(), StoreError> {
        if bytes <= self.inner.max_weight {
            return Ok(());
        }
        let max = self.inner.max_weight;
        Err(StoreError::Other(
            format!("a session of about {bytes} bytes exceeds the memory store's limit of {max} bytes per session (raise `max_bytes`)").into(),
        ))
    }

    fn insert(&self, id: &SessionId, record: Record) {
        self.inner.cache.insert(id.clone(), record);
        let created = self.inner.created.fetch_add(1, Ordering::Relaxed) + 1;
        if created.is_multiple_of(self.inner.sweep_every) {
            self.sweep();
        }
        self.count_live();
    }

    /// Sets the live-sessions gauge (only computed when metrics are on).
    fn count_live(&self) {
        observe::live_sessions("memory", || self.inner.cache.len() as u64);
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
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        let shared = self.load_shared(id, keys, refresh);
        Ok(shared.map(|values| {
            values
                .into_iter()
                .map(|(key, value)| (key, value.to_string()))
                .collect()
        }))
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let expires_at = self.inner.clock.instant_after(ttl);
        // Checked before anything changes: a change too big to keep leaves the session as it
        // was, and the request fails instead of the session silently vanishing.
        let updated: Option<Result<(), StoreError>> = self.with_live(id, |record| {
            let bytes = record.bytes_after(changes);
            self.check_fits(bytes)?;
            changes.apply_to(&mut record.entries);
            record.expires_at = expires_at;
            Ok(())
        });
        Ok(match (updated, changes.is_new()) {
            (Some(result), _) => result.map(|()| SaveOutcome::Saved)?,
            (None, true) => {
                let record = self.new_record(changes, ttl)?;
                self.insert(id, record);
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
        self.count_live();
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
        let record = self.new_record(changes, ttl)?;
        let taken = self.inner.cache.remove(old);
        if !taken.is_some_and(|(_, record)| record.live(self.inner.clock.instant())) {
            return Ok(SaveOutcome::Gone);
        }
        self.insert(new, record);
        Ok(SaveOutcome::Saved)
    }

    /// A user's list is a set of ids behind one lock, pruned of dead sessions on every use.
    async fn index_user_session(
        &self,
        user: &str,
        id: &SessionId,
        _ttl: Duration,
    ) -> Result<Option<usize>, StoreError> {
        Ok(Some(self.index_user(user, id)))
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

    /// Raw count, without the sweep `len()` does.
    fn kept(store: &MemoryStore) -> u64 {
        store.inner.cache.len() as u64
    }

    #[actix_web::test]
    async fn the_session_count_never_exceeds_the_bound() {
        for max in [1, 2, 3, 10, 100, 250, 1000, 1023] {
            let store = MemoryStore::builder().max_sessions(max).build();
            for _ in 0..3 * max {
                let changes = ChangeSet::create().upsert("k", "1");
                store
                    .save(&SessionId::generate(), &changes, TTL)
                    .await
                    .unwrap();
            }
            assert!(kept(&store) <= max, "{max}: {} kept", kept(&store));
            assert!(kept(&store) > 0, "{max}: nothing kept");
        }
    }

    #[actix_web::test]
    async fn big_sessions_are_bounded_in_bytes() {
        let store = MemoryStore::builder().max_bytes(1 << 20).build();
        let blob = "x".repeat(64 << 10);
        for _ in 0..100 {
            let changes = ChangeSet::create().upsert("blob", &blob);
            store
                .save(&SessionId::generate(), &changes, TTL)
                .await
                .unwrap();
        }
        let kept = kept(&store);
        assert!(
            kept > 0 && kept * (64 << 10) <= 1 << 20,
            "{kept} sessions of 64 KiB kept"
        );
    }

    #[actix_web::test]
    async fn a_session_too_big_to_keep_is_an_error_not_a_silent_loss() {
        let store = MemoryStore::builder().max_bytes(1 << 20).build();
        let limit = store.inner.max_weight as usize;
        let huge = "x".repeat(limit);
        let err = store
            .save(
                &SessionId::generate(),
                &ChangeSet::create().upsert("k", &huge),
                TTL,
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("unavailable") || matches!(err, StoreError::Other(_)),
            "{err}"
        );

        // Growing a kept session past the limit fails and leaves it as it was.
        let id = SessionId::generate();
        store
            .save(&id, &ChangeSet::create().upsert("k", "1"), TTL)
            .await
            .unwrap();
        let grow = ChangeSet::update().upsert("k", "2").upsert("huge", &huge);
        assert!(store.save(&id, &grow, TTL).await.is_err());
        let entries = store.load(&id, Keys::All, None).await.unwrap().unwrap();
        assert_eq!(entries, Entries::from([("k".to_owned(), "1".to_owned())]));

        // Renewing into a too-big session keeps the old one.
        let new = SessionId::generate();
        let renew = ChangeSet::create().upsert("huge", &huge);
        assert!(store.renew(&id, &new, &renew, TTL).await.is_err());
        assert!(store.load(&id, Keys::All, None).await.unwrap().is_some());
    }

    #[test]
    fn bytes_after_predicts_bytes() {
        let record = Record {
            entries: HashMap::from([("a".to_owned(), "1".into()), ("bb".to_owned(), "22".into())]),
            expires_at: Instant::now(),
        };
        let cases = [
            ChangeSet::update(),
            ChangeSet::update().upsert("a", "longer"),
            ChangeSet::update().upsert("c", "3"),
            ChangeSet::update().remove("bb"),
            ChangeSet::update().remove("a").upsert("a", "x"),
            ChangeSet::update().remove("zz"),
            ChangeSet::update().clear().upsert("a", "1"),
            ChangeSet::update().clear(),
        ];
        for changes in cases {
            let mut after = record.clone();
            changes.apply_to(&mut after.entries);
            assert_eq!(record.bytes_after(&changes), after.bytes(), "{changes:?}");
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
