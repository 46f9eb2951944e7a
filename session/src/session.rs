//! The session handle: lazy loading, change tracking, and what to write back.

use std::{
    cell::OnceCell,
    collections::{BTreeSet, HashSet},
    fmt,
    rc::Rc,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use actix_web::{
    cookie::{time, Cookie},
    dev::{Extensions, Payload, ServiceRequest, ServiceResponse},
    http::header::HeaderMap,
    FromRequest, HttpMessage, HttpRequest,
};
use futures_util::future::LocalBoxFuture;
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    config::{Config, CookieLifecycle, TtlRefresh},
    seal::{self, Purpose},
    store::{ChangeSet, DynStore, Entries, Keys, SaveOutcome},
    SessionError, SessionId, StoreError,
};

/// Where sessions live, as the middleware sees it.
pub(crate) enum Storage {
    /// Server-side: the cookie carries a signed id.
    Server(Arc<dyn DynStore>),
    /// Client-side: the cookie carries the sealed session.
    Cookie(Arc<crate::store::CookieStore>),
}

/// Everything the middleware and its session handles share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) storage: Storage,
    /// Server-side cookies whose signature was verified, with what they said.
    pub(crate) verified: VerifiedCookies,
}

/// How many verified server-side cookies [`Shared::verified`] remembers.
const VERIFIED_COOKIES: usize = 4096;

/// A browser sends the same server-side cookie with every request of a session, and that
/// cookie's text only ever verifies to the same id, creation time and TTL under the same keys.
/// So each distinct cookie is verified once and its result remembered (bounded, coldest
/// forgotten first); later requests pay a lookup instead of an HMAC. Only authentic cookies are
/// remembered, the maximum lifetime is still checked on every request, and the lookup compares
/// cookie texts in constant time, so timing tells nothing about remembered cookies.
pub(crate) struct VerifiedCookies(quick_cache::sync::Cache<CookieText, Incoming>);

impl VerifiedCookies {
    pub(crate) fn new() -> Self {
        Self(quick_cache::sync::Cache::new(VERIFIED_COOKIES))
    }

    fn get(&self, cookie: &str) -> Option<Incoming> {
        self.0.get(&Presented(cookie))
    }

    fn remember(&self, cookie: &str, incoming: Incoming) {
        self.0.insert(CookieText(cookie.to_owned()), incoming);
    }
}

/// A remembered cookie's text.
struct CookieText(String);

/// A presented cookie's text, looked up without a copy.
struct Presented<'a>(&'a str);

/// Equal texts, compared in time that depends only on their lengths (which are public): eight
/// bytes at a time through `subtle`, whose per-element comparison is the expensive part.
fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let word = |chunk: &[u8]| {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        u64::from_le_bytes(word)
    };
    let mut equal = subtle::Choice::from(1);
    for (x, y) in a.chunks(8).zip(b.chunks(8)) {
        equal &= word(x).ct_eq(&word(y));
    }
    bool::from(equal)
}

impl PartialEq for CookieText {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for CookieText {}

impl std::hash::Hash for CookieText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.as_str().hash(state);
    }
}

impl std::hash::Hash for Presented<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl quick_cache::Equivalent<CookieText> for Presented<'_> {
    fn equivalent(&self, key: &CookieText) -> bool {
        constant_time_eq(self.0, &key.0)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let storage = match &self.storage {
            Storage::Server(_) => "server",
            Storage::Cookie(_) => "cookie",
        };
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("storage", &storage)
            .finish()
    }
}

/// What a session cookie told us, before any store is asked.
#[derive(Debug, Clone)]
pub(crate) enum Incoming {
    /// A verified id (server-side stores).
    Id {
        id: SessionId,
        meta: Meta,
        stale_key: bool,
    },
    /// A sealed session (cookie store), opened on first load from the raw cookie.
    Sealed,
}

/// Session facts carried in the (authenticated) cookie itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Unix seconds when the session was created; kept across renewals.
    pub(crate) created: u64,
    /// The session's TTL.
    pub(crate) ttl: Duration,
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Longest TTL accepted from a cookie: anything beyond is a forgery or a bug.
const MAX_TTL: Duration = Duration::from_secs(10 * 366 * 24 * 60 * 60);

impl Meta {
    /// `created.ttl`, the tail of a server-side cookie's plain text.
    fn encode(&self) -> String {
        format!("{}.{}", self.created, self.ttl.as_secs())
    }

    fn decode(created: &str, ttl: &str) -> Option<Self> {
        Self::from_parts(created.parse().ok()?, ttl.parse().ok()?)
    }

    /// Checks facts read from a cookie: a TTL of zero or over ten years is refused.
    pub(crate) fn from_parts(created: u64, ttl_secs: u64) -> Option<Self> {
        let ttl = Duration::from_secs(ttl_secs);
        (!ttl.is_zero() && ttl <= MAX_TTL).then_some(Self { created, ttl })
    }
}

/// The state of a session in this request.
///
/// Returned by [`Session::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// Nothing was changed; nothing will be written.
    Unchanged,
    /// Keys were inserted, removed or cleared, or the TTL was set.
    Changed,
    /// [`Session::renew`] was called: the session moves to a new id.
    Renewed,
    /// [`Session::purge`] was called: the session is deleted and its cookie removed.
    Purged,
}

#[derive(Debug, Default)]
enum Loaded {
    #[default]
    Nothing,
    Keys(HashSet<String>),
    All,
}

#[derive(Debug)]
struct State {
    loaded: Loaded,
    /// Whether the store holds the incoming session; `None` until a load tells.
    exists: Option<bool>,
    /// Loaded entries with this request's changes applied.
    entries: Entries,
    /// Keys this request changed: upserted with their value in `entries`, or removed (absent
    /// from `entries`).
    changes: BTreeSet<String>,
    cleared: bool,
    purged: bool,
    renewed_to: Option<SessionId>,
    ttl: Duration,
    ttl_changed: bool,
    created: u64,
    /// A handler extracted or loaded the session (drives `Vary` and refresh-on-access).
    accessed: bool,
    /// A load already reset the TTL.
    refreshed: bool,
    /// The cookie was sealed with an older key.
    stale_key: bool,
}

impl State {
    fn covers(&self, want: Keys<'_>) -> bool {
        if self.cleared || self.purged || self.exists == Some(false) {
            return true;
        }
        match (&self.loaded, want) {
            (Loaded::All, _) => true,
            (Loaded::Keys(have), Keys::Only(keys)) => keys.iter().all(|k| have.contains(k)),
            _ => false,
        }
    }

    fn has_key(&self, key: &str) -> bool {
        self.covers(Keys::All)
            || self.changes.contains(key)
            || matches!(&self.loaded, Loaded::Keys(have) if have.contains(key))
    }

    /// Takes the facts an authentic cookie carries (a TTL set in this request wins).
    fn adopt(&mut self, meta: Meta, stale_key: bool) {
        self.created = meta.created;
        self.stale_key = stale_key;
        if !self.ttl_changed {
            self.ttl = meta.ttl;
        }
    }

    fn mark_loaded(&mut self, want: Keys<'_>) {
        match (&mut self.loaded, want) {
            (_, Keys::All) => self.loaded = Loaded::All,
            (Loaded::Keys(have), Keys::Only(keys)) => have.extend(keys.iter().cloned()),
            (Loaded::Nothing, Keys::Only(keys)) => {
                self.loaded = Loaded::Keys(keys.iter().cloned().collect());
            }
            (Loaded::All, _) => {}
        }
    }

    /// Keys whose stored value must not override what this request already knows.
    fn knows(&self, key: &str) -> bool {
        self.changes.contains(key)
            || matches!(&self.loaded, Loaded::Keys(have) if have.contains(key))
    }

    fn status(&self) -> SessionStatus {
        if self.purged && self.changes.is_empty() {
            SessionStatus::Purged
        } else if self.renewed_to.is_some() {
            SessionStatus::Renewed
        } else if self.is_changed() || self.purged {
            SessionStatus::Changed
        } else {
            SessionStatus::Unchanged
        }
    }

    fn is_changed(&self) -> bool {
        !self.changes.is_empty() || self.cleared || self.ttl_changed
    }

    fn change_set(&self, base: ChangeSet) -> ChangeSet {
        let base = if self.cleared { base.clear() } else { base };
        self.changes
            .iter()
            .fold(base, |cs, key| match self.entries.get(key) {
                Some(value) => cs.upsert(key.clone(), value.clone()),
                None if self.cleared => cs,
                None => cs.remove(key.clone()),
            })
    }

    fn full_change_set(&self) -> ChangeSet {
        self.entries.iter().fold(ChangeSet::create(), |cs, (k, v)| {
            cs.upsert(k.clone(), v.clone())
        })
    }
}

/// What the middleware must do with the session cookie.
#[derive(Debug)]
pub(crate) enum CookieUpdate {
    Keep,
    /// The `Set-Cookie` header text, rendered once (the cookie store measures it too).
    Set(String),
    Remove,
}

struct Inner {
    shared: Option<Arc<Shared>>,
    /// The session cookie's value as sent, verified only on first need.
    raw_cookie: Option<String>,
    incoming: OnceLock<Option<Incoming>>,
    load_lock: futures_util::lock::Mutex<()>,
    state: Mutex<State>,
}

/// A visitor's session: a key-value store of serde values, loaded lazily.
///
/// Take it as a handler argument: the extraction loads the session from its store (once per
/// request, however many extractors ask), and [`SessionMiddleware`](crate::SessionMiddleware)
/// writes back only what changed after the handler returns. Handlers that do not take a session
/// cost no store round trip.
///
/// The handle is `Clone + Send + Sync`: clones share one state, and may move into spawned tasks;
/// changes made after the response is sent are lost.
///
/// ```no_run
/// use actix_web::{get, App, HttpServer, Responder};
/// use session::{Session, SessionMiddleware, store::MemoryStore};
///
/// #[get("/")]
/// async fn index(session: Session) -> actix_web::Result<impl Responder> {
///     let visits = session.update_or("visits", 1u32, |n| n + 1)?;
///     Ok(format!("visit number {visits}"))
/// }
///
/// # async fn run() -> std::io::Result<()> {
/// let key = actix_web::cookie::Key::generate();
/// let store = MemoryStore::new();
/// HttpServer::new(move || {
///     App::new()
///         .wrap(SessionMiddleware::new(store.clone(), key.clone()))
///         .service(index)
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
#[derive(Clone)]
pub struct Session(Arc<Inner>);

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Session")
            .field("id", &self.id())
            .field("status", &state.status())
            .field("keys", &state.entries.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(shared: Option<Arc<Shared>>, raw_cookie: Option<String>) -> Self {
        let ttl = shared
            .as_ref()
            .map_or(crate::config::DEFAULT_TTL, |s| s.config.ttl);
        Self(Arc::new(Inner {
            shared,
            raw_cookie,
            incoming: OnceLock::new(),
            load_lock: futures_util::lock::Mutex::new(()),
            state: Mutex::new(State {
                loaded: Loaded::Nothing,
                exists: None,
                entries: Entries::new(),
                changes: BTreeSet::new(),
                cleared: false,
                purged: false,
                renewed_to: None,
                ttl,
                ttl_changed: false,
                created: unix_now(),
                accessed: false,
                refreshed: false,
                stale_key: false,
            }),
        }))
    }

    /// The verified session cookie. Verification waits for the first need (a load, a refresh
    /// policy, [`id`](Self::id), a write), so requests that never touch the session pay for no
    /// cryptography. Never call it while holding the state lock: it takes that lock.
    fn incoming(&self) -> Option<&Incoming> {
        self.0
            .incoming
            .get_or_init(|| {
                let shared = self.0.shared.as_ref()?;
                let raw = self.0.raw_cookie.as_deref()?;
                let incoming = match &shared.storage {
                    Storage::Server(_) => parse_server_cookie(shared, raw)?,
                    Storage::Cookie(_) => Incoming::Sealed,
                };
                if let Incoming::Id {
                    meta, stale_key, ..
                } = &incoming
                {
                    self.state().adopt(*meta, *stale_key);
                }
                Some(incoming)
            })
            .as_ref()
    }

    /// [`incoming`](Self::incoming) after it has run: safe under the state lock.
    fn verified(&self) -> Option<&Incoming> {
        self.0.incoming.get().and_then(Option::as_ref)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters more than losing the request, so recover the guard.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads the whole session, if not loaded yet. The [`Session`] extractor does this for you;
    /// call it on handles from [`SessionExt`] (e.g. in your own middleware).
    ///
    /// ```
    /// use session::SessionExt as _;
    ///
    /// async fn user(req: actix_web::HttpRequest) -> Result<Option<u64>, session::SessionError> {
    ///     let session = req.get_session();
    ///     session.load().await?;
    ///     session.get("user_id")
    /// }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Load`] when the store fails, [`SessionError::MissingMiddleware`] when the
    /// request did not pass through the middleware. Undecodable or unknown sessions are not
    /// errors: they become a fresh, empty session.
    pub async fn load(&self) -> Result<(), SessionError> {
        self.ensure_loaded(Keys::All).await
    }

    /// Loads only `keys`, where the store can (one round trip fetching just those fields on
    /// Redis). Typed sessions use this; a later [`load`](Self::load) fetches the rest, keeping
    /// what this request already read or changed.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// session.load_keys(&["cart.items"]).await?;
    /// let items: Option<Vec<u32>> = session.get("cart.items")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub async fn load_keys(&self, keys: &[&str]) -> Result<(), SessionError> {
        let keys: Vec<String> = keys.iter().map(|&k| k.to_owned()).collect();
        self.ensure_loaded(Keys::Only(&keys)).await
    }

    async fn ensure_loaded(&self, want: Keys<'_>) -> Result<(), SessionError> {
        let shared = self
            .0
            .shared
            .as_ref()
            .ok_or(SessionError::MissingMiddleware)?;
        let has_cookie = self.incoming().is_some();
        {
            let mut state = self.state();
            state.accessed = true;
            if state.covers(want) {
                return Ok(());
            }
        }
        let _loading = self.0.load_lock.lock().await;
        let (missing, refresh) = {
            let mut state = self.state();
            if state.covers(want) {
                return Ok(());
            }
            if !has_cookie {
                state.exists = Some(false);
                return Ok(());
            }
            let missing: Option<Vec<String>> = match want {
                Keys::All => None,
                Keys::Only(keys) => {
                    Some(keys.iter().filter(|k| !state.knows(k)).cloned().collect())
                }
            };
            let refresh = (shared.config.refresh == TtlRefresh::OnAccess && !state.refreshed)
                .then(|| self.effective_ttl(&shared.config, &state));
            (missing, refresh)
        };
        let keys = missing.as_deref().map_or(Keys::All, Keys::Only);
        let loaded = self.fetch(shared, keys, refresh).await;
        let mut state = self.state();
        match loaded {
            Ok(Some(entries)) => {
                for (key, value) in entries {
                    if !state.knows(&key) && !state.cleared {
                        state.entries.insert(key, value);
                    }
                }
                state.exists = Some(true);
                state.refreshed |= refresh.is_some();
                // A sealed cookie is opened whole: nothing is left to load later.
                let complete = matches!(shared.storage, Storage::Cookie(_));
                state.mark_loaded(if complete { Keys::All } else { keys });
            }
            Ok(None) => state.exists = Some(false),
            Err(StoreError::Corrupt(err)) => {
                tracing::warn!(error = %crate::log::chain(&*err), "stored session is undecodable; starting a fresh session");
                state.exists = Some(false);
            }
            Err(err) => return Err(SessionError::Load(err)),
        }
        Ok(())
    }

    async fn fetch(
        &self,
        shared: &Shared,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        match (&shared.storage, self.verified()) {
            (Storage::Server(store), Some(Incoming::Id { id, .. })) => {
                store.load(id, keys, refresh).await
            }
            (Storage::Cookie(store), Some(Incoming::Sealed)) => {
                let sealed = self.0.raw_cookie.as_deref().unwrap_or_default();
                let Some(opened) = store.open(&shared.config, sealed) else {
                    return Ok(None);
                };
                self.state().adopt(opened.meta, opened.stale_key);
                Ok(Some(opened.entries))
            }
            _ => Ok(None),
        }
    }

    /// The TTL to write: the session's own, capped by what remains of the maximum lifetime.
    fn effective_ttl(&self, config: &Config, state: &State) -> Duration {
        match config.max_lifetime {
            Some(max) => {
                let age = Duration::from_secs(unix_now().saturating_sub(state.created));
                state
                    .ttl
                    .min(max.saturating_sub(age))
                    .max(Duration::from_secs(1))
            }
            None => state.ttl,
        }
    }

    /// Reads `key` as a `T`. `Ok(None)` when the key is absent.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// let user: Option<u64> = session.get("user_id")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the stored value is not a `T`;
    /// [`SessionError::NotLoaded`] when the key has not been loaded.
    ///
    /// A value of another type (stored by an older version of the application, say) stays
    /// what it is: every request that reads it fails the same way until the key changes or the
    /// session expires. The error's log line names the key and `T`, never the value. To
    /// recover, remove or overwrite the key:
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// use session::SessionError;
    ///
    /// let user: Option<u64> = match session.get("user_id") {
    ///     Err(SessionError::Deserialize { .. }) => {
    ///         session.remove("user_id")?; // a signed-out session instead of a 500 each time
    ///         None
    ///     }
    ///     other => other?,
    /// };
    /// # Ok(()) }
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        // Parsed in place: no copy of the JSON text.
        self.with_entry(key, |json| {
            json.map(|json| {
                serde_json::from_str(json).map_err(|e| SessionError::deserialize::<T>(key, &e))
            })
            .transpose()
        })?
    }

    /// Runs `f` on the stored JSON text of `key`, under the state lock.
    fn with_entry<R>(
        &self,
        key: &str,
        f: impl FnOnce(Option<&String>) -> R,
    ) -> Result<R, SessionError> {
        let state = self.state();
        if !state.has_key(key) {
            return Err(SessionError::NotLoaded {
                key: key.to_owned(),
            });
        }
        Ok(f(state.entries.get(key)))
    }

    /// The stored JSON text of `key`.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// let json: Option<String> = session.get_raw("user_id")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the key has not been loaded.
    pub fn get_raw(&self, key: &str) -> Result<Option<String>, SessionError> {
        self.with_entry(key, |json| json.cloned())
    }

    /// Stores `value` under `key`, replacing what was there.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// session.insert("user_id", 42u64)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when `value` cannot be serialized to JSON.
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        match serde_json::to_string(&value) {
            Ok(json) => {
                self.insert_raw(key, json);
                Ok(())
            }
            Err(source) => Err(SessionError::Serialize { key, source }),
        }
    }

    /// Stores JSON text under `key` as it is. The caller vouches that it is valid JSON.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// session.insert_raw("theme", r#""dark""#.to_owned());
    /// # Ok(()) }
    /// ```
    pub fn insert_raw(&self, key: impl Into<String>, json: String) {
        let key = key.into();
        let mut state = self.state();
        state.entries.insert(key.clone(), json);
        state.changes.insert(key);
    }

    /// Removes `key`, returning its JSON text if it was present.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// let old_json = session.remove("user_id")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the key has not been loaded.
    pub fn remove(&self, key: &str) -> Result<Option<String>, SessionError> {
        let mut state = self.state();
        if !state.has_key(key) {
            return Err(SessionError::NotLoaded {
                key: key.to_owned(),
            });
        }
        let old = state.entries.remove(key);
        state.changes.insert(key.to_owned());
        Ok(old)
    }

    /// Removes `key`, returning its value as a `T` if it was present. The key is removed even
    /// when its value is not a `T`.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// let flash: Option<String> = session.remove_as("flash")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the removed value is not a `T`;
    /// [`SessionError::NotLoaded`] when the key has not been loaded.
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.remove(key)?
            .map(|json| {
                serde_json::from_str(&json).map_err(|e| SessionError::deserialize::<T>(key, &e))
            })
            .transpose()
    }

    /// Replaces the value under `key` with `f(value)` and marks the session changed. Returns the
    /// new value, or `None` (and changes nothing) when the key is absent.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// let doubled = session.update("points", |p: u32| p * 2)?; // None if absent
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`get`](Self::get) and [`insert`](Self::insert). A value of another type is left as
    /// it is: [`get`](Self::get) shows how to recover.
    pub fn update<T, F>(&self, key: &str, f: F) -> Result<Option<T>, SessionError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(T) -> T,
    {
        match self.get::<T>(key)? {
            Some(value) => {
                let new = f(value);
                self.insert(key, &new)?;
                Ok(Some(new))
            }
            None => Ok(None),
        }
    }

    /// Like [`update`](Self::update), but stores `default` when the key is absent. Returns the
    /// value now stored.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// let visits = session.update_or("visits", 1u32, |n| n + 1)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`get`](Self::get) and [`insert`](Self::insert).
    pub fn update_or<T, F>(&self, key: &str, default: T, f: F) -> Result<T, SessionError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(T) -> T,
    {
        let new = match self.get::<T>(key)? {
            Some(value) => f(value),
            None => default,
        };
        self.insert(key, &new)?;
        Ok(new)
    }

    /// True when `key` is present.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// if session.contains_key("user_id")? { /* logged in */ }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the key has not been loaded.
    pub fn contains_key(&self, key: &str) -> Result<bool, SessionError> {
        self.with_entry(key, |json| json.is_some())
    }

    /// Every key, in no particular order.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// for key in session.keys()? { println!("{key}"); }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the whole session has not been loaded.
    pub fn keys(&self) -> Result<Vec<String>, SessionError> {
        Ok(self.entries()?.into_keys().collect())
    }

    /// Every key with its JSON text.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// let json_by_key = session.entries()?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the whole session has not been loaded.
    pub fn entries(&self) -> Result<Entries, SessionError> {
        let state = self.state();
        if !state.covers(Keys::All) {
            return Err(SessionError::NotLoaded { key: "*".into() });
        }
        Ok(state.entries.clone())
    }

    /// Removes every key; the session (and its id) stays.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// session.clear();
    /// # Ok(()) }
    /// ```
    pub fn clear(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.changes.clear();
        state.cleared = true;
    }

    /// Deletes the session from its store and removes the cookie: call on logout. Keys
    /// inserted afterwards go to a brand-new session.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// session.purge(); // logout
    /// # Ok(()) }
    /// ```
    pub fn purge(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.changes.clear();
        state.cleared = false;
        state.ttl_changed = false;
        state.renewed_to = None;
        state.purged = true;
    }

    /// Moves the session to a new id, keeping its data: call on login, so an id planted before
    /// authentication is worthless after it. The old id stops working.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// // after checking the password:
    /// session.renew();
    /// session.insert("user_id", 42)?;
    /// # Ok(()) }
    /// ```
    pub fn renew(&self) {
        let mut state = self.state();
        if !state.purged {
            state.renewed_to = Some(SessionId::generate());
        }
    }

    /// Sets this session's time to live (e.g. longer for "remember me"). It is kept with the
    /// session and used for every later refresh.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// session.set_ttl(std::time::Duration::from_secs(30 * 24 * 3600)); // remember me
    /// # Ok(()) }
    /// ```
    pub fn set_ttl(&self, ttl: Duration) {
        let mut state = self.state();
        state.ttl = ttl.clamp(Duration::from_secs(1), MAX_TTL);
        state.ttl_changed = true;
    }

    /// This session's time to live.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// let ttl = session.ttl();
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn ttl(&self) -> Duration {
        self.state().ttl
    }

    /// The session's id, if it has one yet: a new session gets its id when first saved. The
    /// cookie store keeps no ids.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// if let Some(id) = session.id() { tracing::info!(?id, "session"); }
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn id(&self) -> Option<SessionId> {
        let incoming = self.incoming();
        let state = self.state();
        if state.purged {
            return None;
        }
        if let Some(new) = &state.renewed_to {
            return Some(new.clone());
        }
        match incoming {
            Some(Incoming::Id { id, .. }) if state.exists != Some(false) => Some(id.clone()),
            _ => None,
        }
    }

    /// What this request has done to the session so far.
    ///
    /// ```
    /// # async fn f(session: session::Session) -> Result<(), session::SessionError> {
    /// assert_eq!(session.status(), session::SessionStatus::Unchanged);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn status(&self) -> SessionStatus {
        self.state().status()
    }

    /// True once a handler extracted or loaded the session.
    pub(crate) fn was_accessed(&self) -> bool {
        self.state().accessed
    }

    /// Writes what the request changed and says what to do with the cookie.
    pub(crate) async fn commit(&self) -> Result<CookieUpdate, StoreError> {
        let Some(shared) = self.0.shared.as_deref() else {
            return Ok(CookieUpdate::Keep);
        };
        if shared.config.refresh != TtlRefresh::OnEveryRequest && self.untouched() {
            // The common case: no store call, and not even the cookie's signature checked.
            return Ok(CookieUpdate::Keep);
        }
        self.incoming();
        let needs_all = {
            let state = self.state();
            state.renewed_to.is_some()
                || (matches!(shared.storage, Storage::Cookie(_))
                    && (state.is_changed() || self.wants_refresh(&shared.config, &state)))
        };
        if needs_all {
            // Renewal copies the whole session; the cookie store re-seals all of it.
            self.load().await.map_err(|e| match e {
                SessionError::Load(e) => e,
                other => StoreError::Other(other.into()),
            })?;
        }
        match &shared.storage {
            Storage::Server(store) => self.commit_server(&shared.config, &**store).await,
            Storage::Cookie(store) => self.commit_cookie(&shared.config, store),
        }
    }

    /// Nothing read, written, purged or renewed in this request.
    fn untouched(&self) -> bool {
        let state = self.state();
        !state.accessed && !state.is_changed() && !state.purged && state.renewed_to.is_none()
    }

    fn wants_refresh(&self, config: &Config, state: &State) -> bool {
        let has_cookie = self.verified().is_some() && state.exists != Some(false);
        match config.refresh {
            TtlRefresh::OnUpdate => false,
            TtlRefresh::OnAccess => has_cookie && state.accessed,
            TtlRefresh::OnEveryRequest => has_cookie,
        }
    }

    async fn commit_server(
        &self,
        config: &Config,
        store: &dyn DynStore,
    ) -> Result<CookieUpdate, StoreError> {
        let incoming_id = match self.verified() {
            Some(Incoming::Id { id, .. }) => Some(id),
            _ => None,
        };
        let (action, ttl, meta, resend) = {
            let state = self.state();
            let ttl = self.effective_ttl(config, &state);
            let existing = incoming_id.filter(|_| state.exists != Some(false));
            let action = if state.purged {
                let fresh = state.change_set(ChangeSet::create());
                ServerAction::Purge {
                    old: incoming_id.cloned(),
                    fresh: (!fresh.upserts().is_empty()).then_some(fresh),
                }
            } else if let Some(new) = &state.renewed_to {
                ServerAction::Renew {
                    old: existing.cloned(),
                    new: new.clone(),
                    changes: state.full_change_set(),
                }
            } else if state.is_changed() {
                match existing {
                    Some(id) if state.exists == Some(true) || state.exists.is_none() => {
                        ServerAction::Save {
                            id: id.clone(),
                            changes: state.change_set(ChangeSet::update()),
                        }
                    }
                    _ => {
                        let changes = state.change_set(ChangeSet::create());
                        if changes.upserts().is_empty() {
                            ServerAction::Nothing
                        } else {
                            ServerAction::Create { changes }
                        }
                    }
                }
            } else if self.wants_refresh(config, &state) {
                match existing {
                    Some(id) if !state.refreshed => ServerAction::Refresh { id: id.clone() },
                    Some(id) => ServerAction::Reissue { id: id.clone() },
                    None => ServerAction::Nothing,
                }
            } else if incoming_id.is_some() && state.exists == Some(false) {
                ServerAction::Forget
            } else {
                ServerAction::Nothing
            };
            let resend = config.lifecycle == CookieLifecycle::Persistent
                || state.stale_key
                || state.ttl_changed;
            let meta = Meta {
                created: state.created,
                ttl: state.ttl,
            };
            (action, ttl, meta, resend)
        };
        let set = |id: &SessionId| CookieUpdate::Set(server_cookie(config, id, meta, ttl));
        Ok(match action {
            ServerAction::Nothing => CookieUpdate::Keep,
            ServerAction::Forget => CookieUpdate::Remove,
            ServerAction::Purge { old, fresh } => {
                if let Some(old) = &old {
                    store.delete(old).await?;
                }
                match fresh {
                    Some(changes) => {
                        let id = SessionId::generate();
                        store.save(&id, &changes, ttl).await?;
                        let meta = Meta {
                            created: unix_now(),
                            ttl,
                        };
                        CookieUpdate::Set(server_cookie(config, &id, meta, ttl))
                    }
                    None if old.is_some() => CookieUpdate::Remove,
                    None => CookieUpdate::Keep,
                }
            }
            ServerAction::Renew { old, new, changes } => {
                let outcome = match &old {
                    Some(old) => store.renew(old, &new, &changes, ttl).await?,
                    None => store.save(&new, &changes, ttl).await?,
                };
                match outcome {
                    SaveOutcome::Saved => set(&new),
                    SaveOutcome::Gone => {
                        tracing::info!(
                            "session ended by a concurrent request; its renewal was dropped"
                        );
                        CookieUpdate::Remove
                    }
                }
            }
            ServerAction::Save { id, changes } => match store.save(&id, &changes, ttl).await? {
                // The cookie text (id, creation time, TTL) is what the browser already holds,
                // unless it must carry a fresh Max-Age, a new TTL or the current key.
                SaveOutcome::Saved if resend => set(&id),
                SaveOutcome::Saved => CookieUpdate::Keep,
                SaveOutcome::Gone => {
                    tracing::info!(
                        "session ended by a concurrent request; its changes were dropped"
                    );
                    CookieUpdate::Remove
                }
            },
            ServerAction::Create { changes } => {
                let id = SessionId::generate();
                store.save(&id, &changes, ttl).await?;
                set(&id)
            }
            ServerAction::Refresh { id } => {
                if store.refresh(&id, ttl).await? {
                    self.reissue(config, || set(&id))
                } else {
                    CookieUpdate::Remove
                }
            }
            ServerAction::Reissue { id } => self.reissue(config, || set(&id)),
        })
    }

    /// After a refresh without a write, the cookie only needs re-sending if it has a Max-Age.
    fn reissue(&self, config: &Config, set: impl FnOnce() -> CookieUpdate) -> CookieUpdate {
        if config.lifecycle == CookieLifecycle::Persistent {
            set()
        } else {
            CookieUpdate::Keep
        }
    }

    fn commit_cookie(
        &self,
        config: &Config,
        store: &crate::store::CookieStore,
    ) -> Result<CookieUpdate, StoreError> {
        let state = self.state();
        let had_cookie = self.verified().is_some();
        let ttl = self.effective_ttl(config, &state);
        let (created, write) = if state.purged {
            (unix_now(), !state.changes.is_empty())
        } else {
            let write = state.is_changed()
                || state.renewed_to.is_some()
                || self.wants_refresh(config, &state)
                || (state.stale_key && state.is_changed());
            (state.created, write)
        };
        if !write {
            return Ok(
                if had_cookie && (state.purged || state.exists == Some(false)) {
                    CookieUpdate::Remove
                } else {
                    CookieUpdate::Keep
                },
            );
        }
        if state.entries.is_empty() && !had_cookie {
            return Ok(CookieUpdate::Keep);
        }
        let meta = Meta {
            created,
            ttl: state.ttl,
        };
        let value = store.seal(config, &state.entries, meta, ttl)?;
        let header = set_cookie_text(config, &value, ttl);
        store.check_size(&header)?;
        Ok(CookieUpdate::Set(header))
    }
}

enum ServerAction {
    Nothing,
    Forget,
    Purge {
        old: Option<SessionId>,
        fresh: Option<ChangeSet>,
    },
    Renew {
        old: Option<SessionId>,
        new: SessionId,
        changes: ChangeSet,
    },
    Save {
        id: SessionId,
        changes: ChangeSet,
    },
    Create {
        changes: ChangeSet,
    },
    Refresh {
        id: SessionId,
    },
    Reissue {
        id: SessionId,
    },
}

/// The `Set-Cookie` text of a server-side session cookie.
fn server_cookie(config: &Config, id: &SessionId, meta: Meta, ttl: Duration) -> String {
    let plain = format!("{id}.{}", meta.encode());
    let value = seal::seal(
        Purpose::ServerCookie,
        config.key(),
        &config.cookie_name,
        plain,
    );
    set_cookie_text(config, &value, ttl)
}

/// Parses a server-side session cookie. `None` (logged at warn) for anything not issued by us
/// with one of the accepted keys, or past the maximum lifetime.
pub(crate) fn parse_server_cookie(shared: &Shared, value: &str) -> Option<Incoming> {
    let config = &shared.config;
    let incoming = match shared.verified.get(value) {
        Some(known) => known,
        None => {
            let fresh = verify_server_cookie(config, value)?;
            shared.verified.remember(value, fresh.clone());
            fresh
        }
    };
    match &incoming {
        Incoming::Id { meta, .. } if past_max_lifetime(config, meta.created) => None,
        _ => Some(incoming),
    }
}

/// The signature check and parse behind [`parse_server_cookie`].
fn verify_server_cookie(config: &Config, value: &str) -> Option<Incoming> {
    let Some((plain, stale_key)) = seal::open(
        Purpose::ServerCookie,
        &config.keys,
        &config.cookie_name,
        value,
    ) else {
        tracing::warn!("session cookie rejected: bad signature or malformed");
        return None;
    };
    let mut parts = plain.split('.');
    let parsed = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(created), Some(ttl), None) => {
            SessionId::try_from(id).ok().zip(Meta::decode(created, ttl))
        }
        _ => None,
    };
    let Some((id, meta)) = parsed else {
        tracing::warn!("session cookie rejected: authentic but malformed");
        return None;
    };
    Some(Incoming::Id {
        id,
        meta,
        stale_key,
    })
}

/// True (logged at warn: the cookie is then refused) for a session created longer ago than
/// the maximum lifetime.
pub(crate) fn past_max_lifetime(config: &Config, created: u64) -> bool {
    let past = config
        .max_lifetime
        .is_some_and(|max| unix_now().saturating_sub(created) >= max.as_secs());
    if past {
        tracing::warn!("session cookie rejected: past the maximum session lifetime");
    }
    past
}

/// The session cookie with the configured attributes.
pub(crate) fn build_cookie(config: &Config, value: String, ttl: Duration) -> Cookie<'static> {
    let mut cookie = Cookie::build(config.cookie_name.clone(), value)
        .path(config.cookie_path.clone())
        .secure(config.cookie_secure)
        .http_only(config.cookie_http_only)
        .same_site(config.cookie_same_site)
        .finish();
    if let Some(domain) = &config.cookie_domain {
        cookie.set_domain(domain.clone());
    }
    if config.lifecycle == CookieLifecycle::Persistent {
        cookie.set_max_age(time::Duration::seconds(
            i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        ));
    }
    cookie
}

/// The `Set-Cookie` header text for `cookie`: exactly what is sent, and what size checks measure.
///
/// Not percent-encoded: every value the library makes is base64 (standard or URL-safe) plus
/// `.`, `~` and digits, all legal cookie octets (RFC 6265), and none contains `%`, so the
/// percent-decoding actix applies to incoming cookies gives them back unchanged. Encoding
/// would turn each `/` and `=` of the ciphertext into three bytes, at random.
pub(crate) fn set_cookie_header(cookie: &Cookie<'_>) -> String {
    cookie.to_string()
}

/// What [`set_cookie_header`] gives for [`build_cookie`]`(config, value, ttl)`, without building
/// a `Cookie` per response: the attributes after the value are the same for every cookie of a
/// configuration, so the cookie crate renders them once, and only `Max-Age` (which the crate
/// writes last when no `Expires` is set) varies. A test holds the two equal.
pub(crate) fn set_cookie_text(config: &Config, value: &str, ttl: Duration) -> String {
    let attributes = config.attributes.get_or_init(|| {
        let mut cookie = build_cookie(config, String::new(), ttl);
        cookie.set_max_age(None);
        let rendered = set_cookie_header(&cookie);
        rendered[config.cookie_name.len() + 1..].to_owned()
    });
    let mut text =
        String::with_capacity(config.cookie_name.len() + value.len() + attributes.len() + 32);
    text.push_str(&config.cookie_name);
    text.push('=');
    text.push_str(value);
    text.push_str(attributes);
    if config.lifecycle == CookieLifecycle::Persistent {
        use std::fmt::Write as _;
        let secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let _ = write!(text, "; Max-Age={secs}");
    }
    text
}

/// A cookie that makes the browser drop the session cookie: same name, path and domain.
pub(crate) fn removal_cookie(config: &Config) -> Cookie<'static> {
    let mut cookie = build_cookie(config, String::new(), Duration::ZERO);
    cookie.make_removal();
    cookie
}

/// Gives the [`Session`] of a request to code that is not a handler argument: your own
/// middleware, guards, or error handlers. Such handles are not loaded: call
/// [`Session::load`] first.
///
/// ```
/// use actix_web::HttpRequest;
/// use session::SessionExt as _;
///
/// async fn user_id(req: HttpRequest) -> Result<Option<u64>, session::SessionError> {
///     let session = req.get_session();
///     session.load().await?;
///     session.get("user_id")
/// }
/// ```
pub trait SessionExt {
    /// The request's session handle, or a detached one whose [`Session::load`] fails with
    /// [`SessionError::MissingMiddleware`] when the middleware is not registered.
    fn get_session(&self) -> Session;
}

/// What the middleware leaves in a request's extensions. The session handle is built on the
/// first ask (reading the cookie then), so a request whose handler never takes the session
/// costs the middleware one small allocation and nothing else.
pub(crate) struct Slot {
    shared: Arc<Shared>,
    session: OnceCell<Session>,
}

impl Slot {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            session: OnceCell::new(),
        }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The handle, if anything asked for it.
    pub(crate) fn taken(&self) -> Option<&Session> {
        self.session.get()
    }

    /// The handle, built from the request's session cookie on the first call.
    pub(crate) fn session(&self, headers: &HeaderMap) -> &Session {
        self.session.get_or_init(|| {
            let raw = crate::middleware::session_cookie(headers, &self.shared.config.cookie_name);
            Session::new(Some(self.shared.clone()), raw)
        })
    }
}

fn from_extensions(headers: &HeaderMap, ext: &Extensions) -> Session {
    ext.get::<Rc<Slot>>().map_or_else(
        || Session::new(None, None),
        |slot| slot.session(headers).clone(),
    )
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Session {
        from_extensions(self.headers(), &self.extensions())
    }
}

impl SessionExt for ServiceRequest {
    fn get_session(&self) -> Session {
        from_extensions(self.headers(), &self.extensions())
    }
}

impl<B> SessionExt for ServiceResponse<B> {
    fn get_session(&self) -> Session {
        self.request().get_session()
    }
}

impl SessionExt for actix_web::guard::GuardContext<'_> {
    fn get_session(&self) -> Session {
        from_extensions(&self.head().headers, &self.req_data())
    }
}

/// Extracting a `Session` loads it (once per request, shared with other extractors).
impl FromRequest for Session {
    type Error = SessionError;
    type Future = LocalBoxFuture<'static, Result<Self, SessionError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        Box::pin(async move {
            session.load().await?;
            Ok(session)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn handle_is_send_sync_clone() {
        assert_send_sync_clone::<Session>();
    }

    #[test]
    fn set_cookie_text_is_what_the_cookie_crate_renders() {
        use actix_web::cookie::{Key, SameSite};
        let ttls = [Duration::from_secs(1), Duration::from_secs(86_400)];
        for persistent in [false, true] {
            for domain in [None, Some("example.com")] {
                for (secure, http_only) in [(true, true), (false, false), (true, false)] {
                    for same_site in [SameSite::Lax, SameSite::Strict, SameSite::None] {
                        let mut config = Config::new(Key::generate());
                        config.cookie_name = "sid".into();
                        config.cookie_path = "/app".into();
                        config.cookie_domain = domain.map(Into::into);
                        config.cookie_secure = secure;
                        config.cookie_http_only = http_only;
                        config.cookie_same_site = same_site;
                        if persistent {
                            config.lifecycle = CookieLifecycle::Persistent;
                        }
                        for ttl in ttls {
                            let expected =
                                set_cookie_header(&build_cookie(&config, "v.1~a".into(), ttl));
                            assert_eq!(set_cookie_text(&config, "v.1~a", ttl), expected);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn remembered_cookies_verify_as_before_and_nothing_else_is_remembered() {
        use actix_web::cookie::Key;
        let shared = |key: &Key| Shared {
            config: Config::new(key.clone()),
            storage: Storage::Server(Arc::new(crate::store::MemoryStore::new())),
            verified: VerifiedCookies::new(),
        };
        let key = Key::generate();
        let ours = shared(&key);
        let id = SessionId::generate();
        let meta = Meta::from_parts(unix_now(), 60).unwrap();
        let header = server_cookie(&ours.config, &id, meta, Duration::from_secs(60));
        let value = header.split_once('=').unwrap().1;
        let value = value.split(';').next().unwrap().to_owned();
        let expect = |incoming: Option<Incoming>| match incoming {
            Some(Incoming::Id {
                id: got,
                meta: got_meta,
                stale_key: false,
            }) => got == id && got_meta == meta,
            _ => false,
        };
        assert!(expect(parse_server_cookie(&ours, &value)), "first sight");
        assert!(expect(parse_server_cookie(&ours, &value)), "remembered");
        assert_eq!(ours.verified.0.len(), 1);
        for at in [0, 20, value.len() - 1] {
            let mut forged = value.clone().into_bytes();
            forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).unwrap();
            assert!(parse_server_cookie(&ours, &forged).is_none(), "byte {at}");
        }
        assert!(parse_server_cookie(&ours, &value[..value.len() - 1]).is_none());
        assert_eq!(
            ours.verified.0.len(),
            1,
            "refused cookies are not remembered"
        );
        let other = shared(&Key::generate());
        assert!(parse_server_cookie(&other, &value).is_none(), "other keys");
    }

    #[test]
    fn constant_time_eq_is_equality() {
        let base = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJK";
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(constant_time_eq(a, a));
            assert!(!constant_time_eq(a, &base[..len + 1]));
            for at in 0..len {
                let mut other = a.as_bytes().to_vec();
                other[at] ^= 1;
                assert!(!constant_time_eq(a, std::str::from_utf8(&other).unwrap()));
            }
        }
    }

    #[test]
    fn meta_refuses_nonsense() {
        assert!(Meta::decode("1", "0").is_none());
        assert!(Meta::decode("x", "10").is_none());
        assert!(Meta::decode("1", "99999999999").is_none());
        assert_eq!(
            Meta::decode("5", "10"),
            Some(Meta {
                created: 5,
                ttl: Duration::from_secs(10)
            })
        );
    }
}
