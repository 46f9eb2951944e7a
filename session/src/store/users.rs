//! What a store keeps to list and end a user's sessions: the reserved session key that binds a
//! user, and [`UserSession`], one row of a user's list.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{store::DynStore, SessionHandle, SessionId, StoreError};

/// The session key under which [`Session::sign_in`](crate::Session::sign_in) binds a user:
/// the field a store keeps a [`UserBinding`] under, in its [stored form](UserBinding::encode).
///
/// A store that keeps a session's entries keeps the binding with them, because a
/// [`ChangeSet`](super::ChangeSet) that signs in lists it among its
/// [`upserts`](super::ChangeSet::upserts): it is written atomically with the save or renewal
/// that creates it. A store that indexes users reads the typed change from
/// [`ChangeSet::user`](super::ChangeSet::user), and a listing decodes stored rows with
/// [`UserSession::from_stored`]. Applications cannot write the key (a
/// [`SessionError::ReservedKey`](crate::SessionError::ReservedKey)), and it is not among
/// [`Session::entries`](crate::Session::entries): the session holds the binding as a typed
/// field.
pub const USER_KEY: &str = "__session.user";

/// Who a session is signed in as: the user id, when, and what the features built on sign-in
/// need (the session's TTL for "last used", the credential-epoch digest, the device).
///
/// The session state and the [`ChangeSet`](super::ChangeSet) hold it typed; its stored form
/// under [`USER_KEY`] is a JSON object `{"user": …, "at": …, "ttl": …}` (the user id as the
/// application's type serializes it, Unix seconds of the sign-in, the session's TTL in seconds),
/// with an `"epoch"` digest when the sign-in was bound to a credential version, and the
/// sign-in's `"agent"` and `"ip"` when the middleware recorded them.
///
/// ```
/// use actix_typed_session::store::UserBinding;
///
/// let json = r#"{"user":42,"at":1700000000,"ttl":600,"ip":"192.0.2.7"}"#;
/// let bound = UserBinding::decode(json).unwrap();
/// assert_eq!(bound.user(), "42"); // the canonical form
/// assert_eq!(bound.ip(), Some("192.0.2.7"));
/// assert_eq!(UserBinding::decode(&bound.encode()), Some(bound));
/// assert_eq!(UserBinding::decode("\"ada\""), None); // not a binding
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserBinding {
    /// The user id as JSON: a string for `sign_in("ada")`, a number for a `u64` id, and so on.
    pub(crate) user: serde_json::Value,
    /// Unix seconds of the sign-in.
    pub(crate) at: u64,
    /// The session's TTL in seconds, kept up to date by `Session::set_ttl`.
    pub(crate) ttl: u64,
    /// The digest of the user's credential version at sign-in, when the sign-in had one
    /// (see `SessionMiddlewareBuilder::credential_epoch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) epoch: Option<String>,
    /// The `User-Agent` of the sign-in's request (see `SignInDevice`), shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) agent: Option<String>,
    /// The client address of the sign-in's request (see `SignInDevice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
}

impl UserBinding {
    /// Returns the binding stored as `json` (the value under [`USER_KEY`]), or `None` when that is
    /// not a binding this crate wrote.
    #[must_use]
    pub fn decode(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }

    /// Returns the stored form: what a store keeps under [`USER_KEY`].
    #[must_use]
    pub fn encode(&self) -> String {
        // Plain data with string keys: serializing it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Returns the user's [canonical form](UserSession::canonical_user): what the stores' user
    /// index keys by.
    #[must_use]
    pub fn user(&self) -> String {
        canonical(&self.user)
    }

    /// Returns when the user signed in.
    #[must_use]
    pub fn signed_in(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.at)
    }

    /// Returns the session's TTL as of its last write, whole seconds.
    #[must_use]
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl)
    }

    /// Returns the `User-Agent` the browser sent when it signed in, when recorded.
    #[must_use]
    pub fn user_agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// Returns the client's address when it signed in, when recorded.
    #[must_use]
    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }
}

/// What a [`ChangeSet`](super::ChangeSet) does to the session's signed-in user, as
/// [`ChangeSet::user`](super::ChangeSet::user) answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserChange<'a> {
    /// The user stays as stored (none, or the one stored).
    Unchanged,
    /// The session is signed in as this binding from now on (a sign-in, or an update of the
    /// binding such as a new TTL).
    SignedIn(&'a UserBinding),
    /// The session binds no user from now on (it was cleared, or its binding removed).
    SignedOut,
}

impl<'a> UserChange<'a> {
    /// Returns the canonical user the change signs in, if it signs one in.
    #[must_use]
    pub fn signed_in_user(self) -> Option<String> {
        match self {
            UserChange::SignedIn(bound) => Some(bound.user()),
            _ => None,
        }
    }
}

/// A string id is itself; any other id is its compact JSON text, object keys sorted.
fn canonical(user: &serde_json::Value) -> String {
    match user {
        serde_json::Value::String(user) => user.clone(),
        other => other.to_string(),
    }
}

/// One live session of a user, as [`SessionStore::user_sessions`](super::SessionStore::user_sessions)
/// lists it.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use actix_typed_session::{store::UserSession, SessionId};
///
/// let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
/// let json = r#"{"user":"ada","at":1700000000,"ttl":600,"agent":"Firefox","ip":"192.0.2.7"}"#;
/// let row = UserSession::from_stored("ada", SessionId::generate(), json, at(1_700_003_000)).unwrap();
/// assert_eq!(row.signed_in, at(1_700_000_000));
/// assert_eq!(row.last_used, at(1_700_002_400)); // expiry minus TTL
/// assert_eq!((row.user_agent.as_deref(), row.ip.as_deref()), (Some("Firefox"), Some("192.0.2.7")));
/// assert!(UserSession::from_stored("bob", SessionId::generate(), json, at(1)).is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSession {
    /// The session's id. It is a credential: never show it, not even to its user (show
    /// [`handle`](Self::handle)); admin code passes it to
    /// [`SessionStore::end_user_session`](super::SessionStore::end_user_session).
    pub id: SessionId,
    /// The row's opaque handle, derived one way from the id: what a "your sessions" page shows
    /// and hands back to [`Session::end_user_session`](crate::Session::end_user_session).
    pub handle: SessionHandle,
    /// The `User-Agent` the browser sent when it signed in (shortened to 256 bytes), when the
    /// middleware recorded it ([`SignInDevice`](crate::SignInDevice)).
    pub user_agent: Option<String>,
    /// The client's address when it signed in, when the middleware recorded it
    /// ([`SignInDevice`](crate::SignInDevice)).
    pub ip: Option<String>,
    /// When the user signed in (the session's id was created then).
    pub signed_in: SystemTime,
    /// When the session's TTL was last reset (its last write, or refresh under the configured
    /// [`TtlRefresh`](crate::TtlRefresh) policy): its expiry minus its TTL, never before
    /// `signed_in`.
    pub last_used: SystemTime,
    /// When the session expires unless used again.
    pub expires: SystemTime,
    /// The session of the request that asked (set by
    /// [`Session::user_sessions`](crate::Session::user_sessions); stores leave it false).
    pub current: bool,
}

impl UserSession {
    /// Returns the row for session `id` of `user` (its [canonical form](Self::canonical_user)),
    /// from the JSON text the session holds under [`USER_KEY`] and its expiry. `None` when that
    /// text does not bind `user` (the session was signed in as someone else, or the value is not
    /// one this crate wrote).
    #[must_use]
    pub fn from_stored(user: &str, id: SessionId, json: &str, expires: SystemTime) -> Option<Self> {
        Self::of(user, id, UserBinding::decode(json)?, expires)
    }

    /// The row for session `id` holding `record`, when it binds `user`.
    pub(crate) fn of(
        user: &str,
        id: SessionId,
        record: UserBinding,
        expires: SystemTime,
    ) -> Option<Self> {
        if record.user() != user {
            return None;
        }
        let signed_in = record.signed_in();
        let last_used = expires
            .checked_sub(Duration::from_secs(record.ttl))
            .unwrap_or(signed_in)
            .max(signed_in);
        Some(Self {
            handle: SessionHandle::of(&id),
            id,
            signed_in,
            last_used,
            expires,
            user_agent: record.agent,
            ip: record.ip,
            current: false,
        })
    }

    /// Returns the canonical form of a user id, as a store's index of a user's sessions keys it and
    /// as [`Session::user`](crate::Session::user) returns it: a string id is itself, any other id
    /// is its compact JSON text (object keys sorted). Ids of different types with the same form
    /// (the string `"42"` and the number `42`) are the same user: an application signs users in
    /// with one type.
    ///
    /// ```
    /// use actix_typed_session::store::UserSession;
    ///
    /// assert_eq!(UserSession::canonical_user(&"ada").unwrap(), "ada");
    /// assert_eq!(UserSession::canonical_user(&42u64).unwrap(), "42");
    /// ```
    ///
    /// # Errors
    /// The id's `Serialize` implementation failed.
    pub fn canonical_user<U: Serialize + ?Sized>(user: &U) -> Result<String, serde_json::Error> {
        serde_json::to_value(user).map(|user| canonical(&user))
    }
}

/// Ends `user`'s oldest sessions (by sign-in time, then last use) until at most `max` are
/// left, never `current` (the sign-in that asks, counted whether listed yet or not). Returns
/// how many it ended. One listing, then one call per session ended: the cap keeps both small.
///
/// # Errors
/// The store's, from listing or ending; sessions ended before an error stay ended.
pub(crate) async fn end_oldest(
    store: &dyn DynStore,
    user: &str,
    current: &SessionId,
    max: usize,
) -> Result<usize, StoreError> {
    let mut others: Vec<UserSession> = store
        .user_sessions(user)
        .await?
        .into_iter()
        .filter(|row| row.id != *current)
        .collect();
    let excess = (others.len() + 1).saturating_sub(max);
    if excess == 0 {
        return Ok(0);
    }
    others.sort_by_key(|row| (row.signed_in, row.last_used));
    let mut ended = 0;
    for row in others.iter().take(excess) {
        if store.end_user_session(user, &row.id).await? {
            ended += 1;
        }
    }
    Ok(ended)
}
