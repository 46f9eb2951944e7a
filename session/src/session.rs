//! The session handle: lazy loading, change tracking, and what to write back.

mod auth;
mod backend;
mod commit;
mod detached;
mod extract;
#[cfg(feature = "testing")]
mod fixture;
mod lifetime;
mod load;
mod old;
mod stale;
mod state;

use std::{
    fmt,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
    time::Duration,
};

use serde::{de::DeserializeOwned, Serialize};

pub use self::auth::{UserSessionsError, CSRF_KEY};
pub(crate) use self::backend::{Backend, Storage};
pub use self::extract::SessionExt;
#[cfg(feature = "testing")]
pub(crate) use self::fixture::mint;
use self::state::SessionState;
pub(crate) use self::{
    commit::TokenUpdate,
    extract::{attached, RequestSlot},
};
use crate::{
    clock::Clock,
    cookie::{Incoming, Tokens, MAX_TTL},
    store::{Entries, Keys},
    transport::Carrier,
    SessionError, SessionId,
};

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

/// What the clones of one [`Session`] share.
struct Handle {
    shared: Option<Arc<Backend>>,
    /// The session tokens (the cookies' values, or the header's) as sent, verified only on
    /// first need.
    raw_tokens: Tokens,
    /// How the request carried its token, and so how the response answers it.
    carrier: Carrier,
    /// The actix-session cookies of the request, when the bridge is configured: imported
    /// on the first load if no cookie of ours verifies, and removed by the response.
    old_tokens: Tokens,
    incoming: OnceLock<Option<Incoming>>,
    load_lock: futures_util::lock::Mutex<()>,
    state: Mutex<SessionState>,
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
/// use actix_typed_session::{Session, SessionMiddleware, store::MemoryStore};
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
pub struct Session(Arc<Handle>);

impl fmt::Debug for Session {
    /// Takes the state lock once and verifies nothing: a cookie not verified yet shows no id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Session")
            .field("id", &self.current_id(&state))
            .field("status", &state.status())
            .field("keys", &state.entries.keys().collect::<Vec<_>>())
            .field("user", &state.user.binding().map(|bound| bound.user()))
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(
        shared: Option<Arc<Backend>>,
        raw_tokens: Tokens,
        carrier: Carrier,
        old_tokens: Tokens,
    ) -> Self {
        let born = shared
            .as_ref()
            .map_or_else(Clock::system, |s| s.config.clock.clone())
            .unix_secs();
        Self(Arc::new(Handle {
            shared,
            raw_tokens,
            carrier,
            old_tokens,
            incoming: OnceLock::new(),
            load_lock: futures_util::lock::Mutex::new(()),
            state: Mutex::new(SessionState::new(born)),
        }))
    }

    fn state(&self) -> MutexGuard<'_, SessionState> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters more than losing the request, so recover the guard.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `key` as a `T`. `Ok(None)` when the key is absent.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// # session.insert("user_id", 42u64)?;
    /// let user: Option<u64> = session.get("user_id")?;
    /// assert_eq!(user, Some(42));
    /// assert_eq!(session.get::<u64>("cart")?, None); // absent
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the stored value is not a `T`;
    /// [`SessionError::NotLoaded`] when the key has not been loaded.
    ///
    /// A value of another type (stored by an older version of the application, say) stays
    /// what it is: every request that reads it fails the same way until the key changes or the
    /// session expires. The error's log line names the key and `T`, never the value. To
    /// recover, remove or overwrite the key (typed sessions do this for you: see
    /// [`SessionData`](crate::SessionData)'s stale values):
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// use actix_typed_session::SessionError;
    ///
    /// session.insert("user_id", "ada")?; // by an older release
    ///
    /// let user: Option<u64> = match session.get("user_id") {
    ///     Err(SessionError::Deserialize { .. }) => {
    ///         session.remove("user_id")?; // a signed-out session instead of a 500 each time
    ///         None
    ///     }
    ///     other => other?,
    /// };
    /// assert_eq!(user, None);
    /// assert!(!session.contains_key("user_id")?);
    /// # Ok::<(), actix_typed_session::SessionError>(())
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
        f: impl FnOnce(Option<&str>) -> R,
    ) -> Result<R, SessionError> {
        let state = self.state();
        if !state.has_key(key) {
            return Err(SessionError::NotLoaded {
                key: key.to_owned(),
            });
        }
        Ok(f(state.entries.get(key).map(|v| &**v)))
    }

    /// Returns the stored JSON text of `key`.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// session.insert("user_id", 42u64)?;
    /// let json: Option<String> = session.get_raw("user_id")?;
    /// assert_eq!(json.as_deref(), Some("42"));
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the key has not been loaded.
    pub fn get_raw(&self, key: &str) -> Result<Option<String>, SessionError> {
        self.with_entry(key, |json| json.map(str::to_owned))
    }

    /// Stores `value` under `key`, replacing what was there.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// session.insert("user_id", 42u64)?;
    /// assert_eq!(session.get::<u64>("user_id")?, Some(42));
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when `value` cannot be serialized to JSON;
    /// [`SessionError::ReservedKey`] for a key of the library's (starting with `__session`).
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        SessionError::check_reserved(&key)?;
        self.insert_reserved(key, value)
    }

    /// [`insert`](Self::insert) for the library's own keys too.
    pub(crate) fn insert_reserved<T: Serialize>(
        &self,
        key: String,
        value: T,
    ) -> Result<(), SessionError> {
        match serde_json::to_string(&value) {
            Ok(json) => {
                self.insert_json(key, json);
                Ok(())
            }
            Err(source) => Err(SessionError::Serialize { key, source }),
        }
    }

    /// Stores JSON text under `key` as it is (after checking that it is one JSON value).
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// session.insert_raw("theme", r#""dark""#.to_owned())?;
    /// assert!(session.insert_raw("theme", "dark".to_owned()).is_err()); // not JSON
    /// assert_eq!(session.get::<String>("theme")?.as_deref(), Some("dark"));
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when `json` is not a single JSON value; nothing is stored.
    /// [`SessionError::ReservedKey`] for a key of the library's (starting with `__session`).
    pub fn insert_raw(&self, key: impl Into<String>, json: String) -> Result<(), SessionError> {
        let key = key.into();
        SessionError::check_reserved(&key)?;
        match serde_json::from_str::<&serde_json::value::RawValue>(&json) {
            Ok(_) => {
                self.insert_json(key, json);
                Ok(())
            }
            Err(source) => Err(SessionError::Serialize { key, source }),
        }
    }

    /// Stores JSON text that this crate serialized itself: no second parse.
    pub(crate) fn insert_json(&self, key: String, json: String) {
        let mut state = self.state();
        state.entries.insert(key.clone(), json.into());
        state.changes.insert(key);
    }

    /// Removes `key`, returning its JSON text if it was present.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// # session.insert("user_id", 42u64)?;
    /// let old_json = session.remove("user_id")?;
    /// assert_eq!(old_json.as_deref(), Some("42"));
    /// assert_eq!(session.remove("user_id")?, None); // gone
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the key has not been loaded;
    /// [`SessionError::ReservedKey`] for a key of the library's (starting with `__session`).
    pub fn remove(&self, key: &str) -> Result<Option<String>, SessionError> {
        SessionError::check_reserved(key)?;
        self.remove_reserved(key)
    }

    /// [`remove`](Self::remove) for the library's own keys too.
    pub(crate) fn remove_reserved(&self, key: &str) -> Result<Option<String>, SessionError> {
        let mut state = self.state();
        if !state.has_key(key) {
            return Err(SessionError::NotLoaded {
                key: key.to_owned(),
            });
        }
        let old = state.entries.remove(key);
        state.changes.insert(key.to_owned());
        Ok(old.map(|v| v.to_string()))
    }

    /// Removes `key`, returning its value as a `T` if it was present. The key is removed even
    /// when its value is not a `T`.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// # session.insert("flash", "saved")?;
    /// let flash: Option<String> = session.remove_as("flash")?;
    /// assert_eq!(flash.as_deref(), Some("saved"));
    /// assert!(!session.contains_key("flash")?);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the removed value is not a `T`;
    /// [`SessionError::NotLoaded`] when the key has not been loaded;
    /// [`SessionError::ReservedKey`] for a key of the library's.
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
    /// # let session = actix_typed_session::Session::detached();
    /// assert_eq!(session.update("points", |p: u32| p * 2)?, None); // absent: nothing stored
    /// session.insert("points", 21u32)?;
    /// let doubled = session.update("points", |p: u32| p * 2)?;
    /// assert_eq!(doubled, Some(42));
    /// # Ok::<(), actix_typed_session::SessionError>(())
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
    /// # let session = actix_typed_session::Session::detached();
    /// let visits = session.update_or("visits", 1u32, |n| n + 1)?;
    /// assert_eq!(visits, 1);
    /// assert_eq!(session.update_or("visits", 1u32, |n| n + 1)?, 2);
    /// # Ok::<(), actix_typed_session::SessionError>(())
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
    /// # let session = actix_typed_session::Session::detached();
    /// assert!(!session.contains_key("user_id")?);
    /// session.insert("user_id", 42u64)?;
    /// assert!(session.contains_key("user_id")?);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the key has not been loaded.
    pub fn contains_key(&self, key: &str) -> Result<bool, SessionError> {
        self.with_entry(key, |json| json.is_some())
    }

    /// Returns every key, in no particular order.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// session.insert("a", 1)?;
    /// session.insert("b", 2)?;
    /// let mut keys = session.keys()?;
    /// keys.sort();
    /// assert_eq!(keys, ["a", "b"]);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the whole session has not been loaded.
    pub fn keys(&self) -> Result<Vec<String>, SessionError> {
        Ok(self.entries()?.into_keys().collect())
    }

    /// Returns every key with its JSON text. The signed-in user is not among them: it is typed
    /// state ([`user`](Self::user)).
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// session.insert("user_id", 42u64)?;
    /// let json_by_key = session.entries()?;
    /// assert_eq!(json_by_key["user_id"], "42");
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the whole session has not been loaded.
    pub fn entries(&self) -> Result<Entries, SessionError> {
        let state = self.state();
        if !state.covers(Keys::All) {
            return Err(SessionError::NotLoaded { key: "*".into() });
        }
        Ok(state.entries())
    }

    /// Removes every key; the session (and its id) stays.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// # session.insert("user_id", 42u64)?;
    /// session.clear();
    /// assert!(session.keys()?.is_empty());
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    pub fn clear(&self) {
        let mut state = self.state();
        state.forget_all();
        state.cleared = true;
    }

    /// Deletes the session from its store and removes the cookie: call on logout. Keys
    /// inserted afterwards go to a brand-new session.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// # session.insert("user_id", 42u64)?;
    /// session.purge(); // logout
    /// assert_eq!(session.status(), actix_typed_session::SessionStatus::Purged);
    /// assert_eq!(session.get::<u64>("user_id")?, None);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    pub fn purge(&self) {
        let mut state = self.state();
        state.forget_all();
        state.cleared = false;
        state.ttl_set = None;
        state.renewed_to = None;
        state.purged = true;
    }

    /// Moves the session to a new id, keeping its data: call on login, so an id planted before
    /// authentication is worthless after it. The old id stops working.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// // after checking the password:
    /// session.renew();
    /// session.insert("user_id", 42)?;
    /// assert_eq!(session.status(), actix_typed_session::SessionStatus::Renewed);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    pub fn renew(&self) {
        let mut state = self.state();
        if !state.purged {
            state.renewed_to = Some(SessionId::generate());
        }
    }

    /// Sets this session's time to live (e.g. longer for "remember me"), between one second and
    /// ten years. It is kept with the session and used for every later refresh; a session
    /// created later in place of this one (after a purge, a sign-in of another user, or once
    /// this one has expired) starts with the configured TTL again: set it after
    /// [`sign_in`](Self::sign_in).
    ///
    /// The session's cookie becomes persistent (`Max-Age` = this TTL) even under
    /// [`CookieLifecycle::BrowserSession`](crate::CookieLifecycle), on this and every later
    /// response that sends it: the choice travels with the session in its signed cookie, while
    /// other sessions keep the configured lifecycle (Django's `set_expiry`).
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// use std::time::Duration;
    ///
    /// session.set_ttl(Duration::from_secs(30 * 24 * 3600)); // remember me
    /// assert_eq!(session.ttl(), Duration::from_secs(30 * 24 * 3600));
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    pub fn set_ttl(&self, ttl: Duration) {
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_TTL);
        let mut state = self.state();
        state.ttl_set = Some(ttl);
        auth::note_ttl(&mut state, ttl);
    }

    /// Returns this session's time to live.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// let ttl = session.ttl();
    /// assert_eq!(ttl, std::time::Duration::from_secs(24 * 3600)); // the default: a day
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn ttl(&self) -> Duration {
        let configured = self
            .0
            .shared
            .as_ref()
            .map_or(crate::config::DEFAULT_TTL, |s| s.config.ttl);
        self.state().meta(self.incoming(), configured).ttl
    }

    /// Returns the session's id, if it has one yet: a new session gets its id when first saved. The
    /// cookie store keeps no ids.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// if let Some(id) = session.id() { tracing::info!(?id, "session"); }
    /// assert_eq!(session.id(), None); // a new session has no id until it is saved
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> Option<SessionId> {
        self.incoming();
        self.current_id(&self.state())
    }

    /// Unix seconds by the middleware's clock.
    pub(crate) fn now_unix(&self) -> u64 {
        self.0
            .shared
            .as_ref()
            .map_or_else(Clock::system, |s| s.config.clock.clone())
            .unix_secs()
    }

    /// [`id`](Self::id) as far as the cookie has been verified.
    fn current_id(&self, state: &SessionState) -> Option<SessionId> {
        if state.purged {
            return None;
        }
        if let Some(new) = &state.renewed_to {
            return Some(new.clone());
        }
        match self.verified() {
            Some(Incoming::Id { id, .. }) if state.exists != Some(false) => Some(id.clone()),
            _ => None,
        }
    }

    /// Returns what this request has done to the session so far.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// assert_eq!(session.status(), actix_typed_session::SessionStatus::Unchanged);
    /// session.insert("user_id", 42u64)?;
    /// assert_eq!(session.status(), actix_typed_session::SessionStatus::Changed);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn status(&self) -> SessionStatus {
        self.state().status()
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
}
