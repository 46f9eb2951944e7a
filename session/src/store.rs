//! The server-side store trait and the stores that ship with the crate.
//!
//! A [`SessionStore`] keeps each session as a set of string keys with JSON text values under a
//! [`SessionId`], with a time to live. The middleware never sends a whole session back: it sends
//! a [`ChangeSet`] holding only what the request changed, so two concurrent requests that touch
//! different keys both keep their change wherever the store applies change sets atomically.
//!
//! # Implementing a store
//! Eight required methods, two provided. The contract, which
//! `actix_typed_session::testing::store_suite` checks (feature `testing`):
//! - [`load`](SessionStore::load) returns `None` for an unknown or expired id, and only the
//!   asked-for keys when given [`Keys::Only`]; with `refresh` it also resets the TTL.
//! - [`save`](SessionStore::save) applies the change set atomically and resets the TTL. When
//!   [`ChangeSet::is_new`] is false and the session no longer exists (expired, or purged by a
//!   concurrent request), it writes nothing and returns [`SaveOutcome::Gone`]: a late write never
//!   resurrects a deleted session.
//! - [`refresh`](SessionStore::refresh) resets the TTL without writing data.
//! - [`delete`](SessionStore::delete) removes the session; deleting an unknown id is not an error.
//! - [`renew`](SessionStore::renew) (provided, four calls; override it with one atomic step if
//!   the backend can) moves a session to a new id, and answers [`SaveOutcome::Gone`], writing
//!   nothing, when the old session no longer exists.
//!
//! - The four user methods ([`index_user_session`](SessionStore::index_user_session),
//!   [`user_sessions`](SessionStore::user_sessions),
//!   [`end_user_session`](SessionStore::end_user_session),
//!   [`end_user_sessions`](SessionStore::end_user_sessions)) list and end a user's sessions.
//!   A store that keeps no such list says so with [`no_user_sessions!`](crate::no_user_sessions)
//!   in its impl: they then answer [`StoreError::Unsupported`] (a `501` for "log out
//!   everywhere"), and sign-in still works.
//!
//! ## Why the user methods have no provided version
//! A store that wraps another (a cache, a metrics layer, a test double) and forwards only the
//! core methods would otherwise compile, and inherit the "unsupported" answers: log out
//! everywhere would silently become a `501` at run time, in production, after a password
//! change. So the compiler asks every impl for all four: a wrapper forwards them to its inner
//! store (or calls [`no_user_sessions!`](crate::no_user_sessions), a visible decision). A
//! builder check could only catch this where the middleware is built, and not in admin code
//! that calls the store directly.
//!
//! Map backend failures onto [`StoreError`]; return [`StoreError::Corrupt`] for state that exists
//! but cannot be decoded, and the middleware will start a fresh session. Return
//! [`StoreError::Unavailable`] or [`StoreError::Timeout`] when the backend is down or slow:
//! those answer `503` with `Retry-After`, so clients and load balancers retry; anything else is
//! an opaque `500`.
//!
//! ```
//! use std::{collections::HashMap, sync::Mutex, time::{Duration, Instant}};
//! use actix_typed_session::{store::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore}, SessionId, StoreError};
//!
//! /// A toy store: one global lock around a map.
//! #[derive(Debug, Default)]
//! struct ToyStore(Mutex<HashMap<SessionId, (Entries, Instant)>>);
//!
//! impl SessionStore for ToyStore {
//!     async fn load(&self, id: &SessionId, keys: Keys<'_>, refresh: Option<Duration>)
//!         -> Result<Option<Entries>, StoreError> {
//!         let mut map = self.0.lock().unwrap();
//!         let Some((entries, expires)) = map.get_mut(id) else { return Ok(None) };
//!         if *expires <= Instant::now() { map.remove(id); return Ok(None); }
//!         if let Some(ttl) = refresh { *expires = Instant::now() + ttl; }
//!         Ok(Some(keys.select(entries)))
//!     }
//!
//!     async fn save(&self, id: &SessionId, changes: &ChangeSet, ttl: Duration)
//!         -> Result<SaveOutcome, StoreError> {
//!         let mut map = self.0.lock().unwrap();
//!         if map.get(id).is_some_and(|(_, e)| *e <= Instant::now()) {
//!             map.remove(id); // expired: as good as absent
//!         }
//!         if !map.contains_key(id) && !changes.is_new() {
//!             return Ok(SaveOutcome::Gone); // never resurrect a deleted or expired session
//!         }
//!         let (entries, expires) = map.entry(id.clone()).or_insert_with(|| (Entries::new(), Instant::now()));
//!         changes.apply_to(entries);
//!         *expires = Instant::now() + ttl;
//!         Ok(SaveOutcome::Saved)
//!     }
//!
//!     async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
//!         Ok(self.0.lock().unwrap().get_mut(id).map(|(_, e)| *e = Instant::now() + ttl).is_some())
//!     }
//!
//!     async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
//!         self.0.lock().unwrap().remove(id);
//!         Ok(())
//!     }
//!
//!     // No list of each user's sessions: log out everywhere answers 501.
//!     actix_typed_session::no_user_sessions!();
//! }
//!
//! let app = actix_web::App::new().wrap(actix_typed_session::SessionMiddleware::new(
//!     ToyStore::default(),
//!     actix_web::cookie::Key::generate(),
//! ));
//! ```

use std::{collections::HashMap, future::Future, time::Duration};

use crate::{SessionId, StoreError};

/// The four user methods of a [`SessionStore`] impl for an SQL store, which finds a user's
/// sessions through an indexed column of the sessions' own rows rather than in a list kept
/// beside them: `index_user_session` has nothing to do (the write set the column), and the
/// others forward to its `inner`'s `list_user` and `end` (deletes the user's live rows, or the
/// one of a given id, and answers how many).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! user_methods_without_index {
    (sql) => {
        async fn index_user_session(
            &self,
            _user: &str,
            _id: &SessionId,
            _ttl: Duration,
        ) -> Result<Option<usize>, StoreError> {
            Ok(None)
        }

        async fn user_sessions(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
            self.inner.list_user(user).await
        }

        async fn end_user_session(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
            Ok(self.inner.end(user, Some(id)).await? > 0)
        }

        async fn end_user_sessions(&self, user: &str) -> Result<usize, StoreError> {
            let ended = self.inner.end(user, None).await?;
            Ok(usize::try_from(ended).unwrap_or(usize::MAX))
        }
    };
}

mod cookie;
mod erased;
mod value;
pub(crate) use erased::DynStore;
pub(crate) use value::{Value, Values};
#[cfg(all(feature = "file", unix))]
mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
mod users;

pub use self::cookie::CookieStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::{
    RedisConfigError, RedisConnection, RedisPool, RedisPoolBuilder, RedisStore, RedisStoreBuilder,
};
pub use crate::cookie::MAX_COOKIE_BYTES;
#[cfg(all(feature = "file", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "file", unix))))]
pub use file::{FileStore, FileStoreBuilder, FileStoreError};
pub use memory::{MemoryStore, MemoryStoreBuilder};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use sql::SqlConfigError;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use sql::{PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sql::{SqliteStore, SqliteStoreBuilder};
#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "redis",
    all(feature = "file", unix)
))]
mod prune;
#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "redis",
    all(feature = "file", unix)
))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "redis",
        all(feature = "file", unix)
    )))
)]
pub use prune::{start_pruning, Prune, PruneReport, Pruner};
pub(crate) use users::end_oldest;
pub use users::{UserBinding, UserChange, UserSession, USER_KEY};

/// A session's key-value pairs: session keys to JSON text.
pub type Entries = HashMap<String, String>;

/// Which keys of a session to load.
#[derive(Debug, Clone, Copy)]
pub enum Keys<'a> {
    /// The whole session.
    All,
    /// Only these keys (absent ones are simply missing from the result).
    Only(&'a [String]),
}

impl Keys<'_> {
    /// Copies the selected keys out of `entries`.
    #[must_use]
    pub fn select<V: Clone>(&self, entries: &HashMap<String, V>) -> HashMap<String, V> {
        match self {
            Keys::All => entries.clone(),
            Keys::Only(keys) => keys
                .iter()
                .filter_map(|k| entries.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
        }
    }
}

/// What one request changed in a session: the only thing the middleware ever writes.
///
/// ```
/// use actix_typed_session::store::{ChangeSet, Entries};
///
/// let mut entries = Entries::from([("a".to_owned(), "1".to_owned()), ("b".to_owned(), "2".to_owned())]);
/// let changes = ChangeSet::update().upsert("a", "10").remove("b");
/// changes.apply_to(&mut entries);
/// assert_eq!(entries, Entries::from([("a".to_owned(), "10".to_owned())]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    new: bool,
    cleared: bool,
    upserts: Vec<(String, String)>,
    removals: Vec<String>,
    /// The signed-in user it writes (`Some(Some)`) or removes (`Some(None)`), typed.
    user: Option<Option<Box<UserBinding>>>,
}

impl ChangeSet {
    /// Creates an empty change set for a session that the store should already hold.
    #[must_use]
    pub fn update() -> Self {
        Self::default()
    }

    /// Creates an empty change set that creates the session.
    #[must_use]
    pub fn create() -> Self {
        Self {
            new: true,
            ..Self::default()
        }
    }

    /// Adds an upsert of `key` to the JSON text `value`. An upsert of [`USER_KEY`] is a
    /// sign-in of the binding it [decodes](UserBinding::decode) to (of nobody, when it does not
    /// decode): [`bind_user`](Self::bind_user) says it typed.
    #[must_use]
    pub fn upsert(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        if key == USER_KEY {
            self.user = Some(UserBinding::decode(&value).map(Box::new));
        }
        self.upserts.push((key, value));
        self
    }

    /// Signs the session in as `binding`: [`user`](Self::user) answers it, and the upserts
    /// carry its [stored form](UserBinding::encode) under [`USER_KEY`], so that a store that
    /// keeps entries writes it with the rest of the change set.
    #[must_use]
    pub fn bind_user(mut self, binding: &UserBinding) -> Self {
        self.upserts.push((USER_KEY.to_owned(), binding.encode()));
        self.user = Some(Some(Box::new(binding.clone())));
        self
    }

    /// Adds a removal of `key` (of [`USER_KEY`]: the session binds no user).
    #[must_use]
    pub fn remove(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        if key == USER_KEY {
            self.user = Some(None);
        }
        self.removals.push(key);
        self
    }

    /// Returns what the change set does to the session's signed-in user: a store that keeps an
    /// index of users' sessions (or a user column) reads it here, typed, instead of parsing the
    /// upserts.
    ///
    /// ```
    /// use actix_typed_session::store::{ChangeSet, UserChange, USER_KEY};
    ///
    /// let sign_in = ChangeSet::create().upsert(USER_KEY, r#"{"user":"ada","at":1,"ttl":60}"#);
    /// assert_eq!(sign_in.user().signed_in_user().as_deref(), Some("ada"));
    /// assert_eq!(ChangeSet::update().upsert("cart", "[]").user(), UserChange::Unchanged);
    /// assert_eq!(ChangeSet::update().clear().user(), UserChange::SignedOut);
    /// assert_eq!(ChangeSet::update().remove(USER_KEY).user(), UserChange::SignedOut);
    /// ```
    #[must_use]
    pub fn user(&self) -> UserChange<'_> {
        match &self.user {
            Some(Some(bound)) => UserChange::SignedIn(bound),
            Some(None) => UserChange::SignedOut,
            None if self.cleared => UserChange::SignedOut,
            None => UserChange::Unchanged,
        }
    }

    /// Marks every key not upserted by this change set for removal.
    #[must_use]
    pub fn clear(mut self) -> Self {
        self.cleared = true;
        self
    }

    /// Returns whether the session is new, to be created. Otherwise it must exist, or the save
    /// writes nothing.
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.new
    }

    /// Returns whether every key not upserted here is to be removed (applied before the upserts).
    #[must_use]
    pub fn is_cleared(&self) -> bool {
        self.cleared
    }

    /// Keys to set, with their JSON text.
    #[must_use]
    pub fn upserts(&self) -> &[(String, String)] {
        &self.upserts
    }

    /// Keys to remove. Disjoint from the upserted keys.
    #[must_use]
    pub fn removals(&self) -> &[String] {
        &self.removals
    }

    /// True when the change set writes no data (it may still create or clear).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removals.is_empty() && !self.cleared
    }

    /// Applies the change set to an in-memory map, in the order stores must follow:
    /// clear, then removals, then upserts. Values can be any type made from the JSON text
    /// (`String` for [`Entries`], `Arc<str>` to share them).
    pub fn apply_to<V: for<'a> From<&'a str>>(&self, entries: &mut HashMap<String, V>) {
        if self.cleared {
            entries.clear();
        }
        for key in &self.removals {
            entries.remove(key);
        }
        for (key, value) in &self.upserts {
            match entries.get_mut(key) {
                // An existing key keeps its allocation.
                Some(slot) => *slot = V::from(value.as_str()),
                None => {
                    entries.insert(key.clone(), V::from(value.as_str()));
                }
            }
        }
    }
}

/// The result of [`SessionStore::save`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaveOutcome {
    /// The change set was applied and the TTL reset.
    Saved,
    /// The session no longer exists and the change set did not create it: nothing was written.
    Gone,
}

/// A server-side session store. See the [module docs](self) for the contract and an example.
///
/// Methods return `Send` futures so the store can be shared by all actix workers; implement
/// them with `async fn`.
pub trait SessionStore: Send + Sync + 'static {
    /// What kind of store this is, for the `store` field of spans and label of metrics (the
    /// built-in stores say `memory`, `redis`, `file`, `sqlite`, `postgres`): a short constant,
    /// never anything about one session. The provided version says `custom`.
    ///
    /// ```
    /// use actix_typed_session::store::{MemoryStore, SessionStore as _};
    ///
    /// assert_eq!(MemoryStore::new().kind(), "memory");
    /// ```
    fn kind(&self) -> &'static str {
        "custom"
    }

    /// Loads the session `id` (all keys, or only some), resetting its TTL to `refresh` if given.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for undecodable state, other variants when the backend fails.
    fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> impl Future<Output = Result<Option<Entries>, StoreError>> + Send;

    /// Applies `changes` atomically and resets the TTL to `ttl`.
    ///
    /// # Errors
    /// When the backend fails; nothing may be half-applied.
    fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> impl Future<Output = Result<SaveOutcome, StoreError>> + Send;

    /// Resets the TTL without writing data. Returns false if the session does not exist.
    ///
    /// # Errors
    /// When the backend fails.
    fn refresh(
        &self,
        id: &SessionId,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the session. Deleting an unknown id succeeds.
    ///
    /// # Errors
    /// When the backend fails.
    fn delete(&self, id: &SessionId) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Moves a session to a new id: `changes` creates `new` with the whole session, then `old` is
    /// deleted. When `old` no longer exists (deleted by a concurrent logout, or expired), it
    /// writes nothing under `new` and returns [`SaveOutcome::Gone`]: a logout always wins over a
    /// late renewal.
    ///
    /// The provided version is correct for any store that keeps the contract of the other four
    /// methods, but costs four calls: it checks that `old` exists, saves `new`, checks `old`
    /// again (a logout between the two checks deletes `new` and answers `Gone`), then deletes
    /// `old`. Between the save and the second check `new` exists without anyone knowing its
    /// id. Stores that can check and move in one atomic step should override it.
    ///
    /// # Errors
    /// When the backend fails.
    fn renew(
        &self,
        old: &SessionId,
        new: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> impl Future<Output = Result<SaveOutcome, StoreError>> + Send {
        async move {
            let exists = || async {
                Ok::<_, StoreError>(self.load(old, Keys::Only(&[]), None).await?.is_some())
            };
            if !exists().await? {
                return Ok(SaveOutcome::Gone);
            }
            if self.save(new, changes, ttl).await? == SaveOutcome::Gone {
                return Ok(SaveOutcome::Gone);
            }
            if !exists().await? {
                self.delete(new).await?;
                return Ok(SaveOutcome::Gone);
            }
            self.delete(old).await?;
            Ok(SaveOutcome::Saved)
        }
    }

    /// Adds session `id`, just created by a sign-in of `user` (its [`USER_KEY`] entry is
    /// written), to `user`'s sessions. `ttl` is the TTL it was written with. Returns how many
    /// sessions `user` has listed now, this one included, when the store knows without more
    /// work (`None` when it does not): the middleware lists the user to keep them within
    /// [`max_sessions_per_user`](crate::SessionMiddlewareBuilder::max_sessions_per_user) only
    /// when that count is over the cap, or unknown. A count that includes sessions ended since
    /// only costs that listing.
    ///
    /// Called after the session is written, so a concurrent
    /// [`end_user_sessions`](Self::end_user_sessions) either ends it or leaves it listed:
    /// never live and unlisted.
    ///
    /// A store without user lists answers [`StoreError::Unsupported`] (see
    /// [`no_user_sessions!`](crate::no_user_sessions)): the middleware then leaves the session
    /// unlisted, and listing fails the same way.
    ///
    /// # Errors
    /// When the backend fails; the middleware then deletes the session and answers 500 (503
    /// with `Retry-After` for [`StoreError::Unavailable`] and [`StoreError::Timeout`]).
    fn index_user_session(
        &self,
        user: &str,
        id: &SessionId,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<usize>, StoreError>> + Send;

    /// The live sessions of `user` (signed in and not ended or expired), in no particular
    /// order. Admin code can call it with nothing but the store and the user id.
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] from stores that keep no list; backend failures.
    fn user_sessions(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<Vec<UserSession>, StoreError>> + Send;

    /// Ends session `id` if it is one of `user`'s; returns whether it was.
    ///
    /// # Errors
    /// As [`user_sessions`](Self::user_sessions).
    fn end_user_session(
        &self,
        user: &str,
        id: &SessionId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Ends every session of `user` ("log out everywhere"); returns how many were live.
    ///
    /// # Errors
    /// As [`user_sessions`](Self::user_sessions).
    fn end_user_sessions(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// The four user methods of a [`SessionStore`](crate::store::SessionStore) impl for a store that keeps
/// no list of each user's sessions: each answers
/// [`StoreError::Unsupported`](crate::StoreError::Unsupported), so "log out everywhere" answers
/// `501 Not Implemented` and [`user_sessions`](crate::Session::user_sessions) fails, while
/// sign-in still works. Call it inside the impl; it is how a store says, where a reviewer can
/// see it, that it gives the capability up ([why the methods have no provided
/// version](crate::store#why-the-user-methods-have-no-provided-version)).
///
/// ```
/// use std::time::Duration;
/// use actix_typed_session::{store::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore}, SessionId, StoreError};
///
/// struct Forgetful;
///
/// impl SessionStore for Forgetful {
///     async fn load(&self, _: &SessionId, _: Keys<'_>, _: Option<Duration>) -> Result<Option<Entries>, StoreError> { Ok(None) }
///     async fn save(&self, _: &SessionId, _: &ChangeSet, _: Duration) -> Result<SaveOutcome, StoreError> { Ok(SaveOutcome::Saved) }
///     async fn refresh(&self, _: &SessionId, _: Duration) -> Result<bool, StoreError> { Ok(false) }
///     async fn delete(&self, _: &SessionId) -> Result<(), StoreError> { Ok(()) }
///     actix_typed_session::no_user_sessions!();
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let ended = Forgetful.end_user_sessions("ada").await;
/// assert!(matches!(ended, Err(StoreError::Unsupported { .. })));
/// # });
/// ```
#[macro_export]
macro_rules! no_user_sessions {
    () => {
        async fn index_user_session(
            &self,
            _user: &str,
            _id: &$crate::SessionId,
            _ttl: ::std::time::Duration,
        ) -> ::std::result::Result<::std::option::Option<usize>, $crate::StoreError> {
            ::std::result::Result::Err($crate::StoreError::Unsupported {
                operation: "listing a user's sessions",
            })
        }

        async fn user_sessions(
            &self,
            _user: &str,
        ) -> ::std::result::Result<::std::vec::Vec<$crate::store::UserSession>, $crate::StoreError>
        {
            ::std::result::Result::Err($crate::StoreError::Unsupported {
                operation: "listing a user's sessions",
            })
        }

        async fn end_user_session(
            &self,
            _user: &str,
            _id: &$crate::SessionId,
        ) -> ::std::result::Result<bool, $crate::StoreError> {
            ::std::result::Result::Err($crate::StoreError::Unsupported {
                operation: "ending a user's sessions",
            })
        }

        async fn end_user_sessions(
            &self,
            _user: &str,
        ) -> ::std::result::Result<usize, $crate::StoreError> {
            ::std::result::Result::Err($crate::StoreError::Unsupported {
                operation: "ending a user's sessions",
            })
        }
    };
}
