//! What a store keeps to list and end a user's sessions: the reserved session key that binds a
//! user, and [`UserSession`], one row of a user's list.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{store::DynStore, SessionHandle, SessionId, StoreError};

/// The session key under which [`Session::sign_in`](crate::Session::sign_in) binds a user.
///
/// Its JSON value is an object `{"user": …, "at": …, "ttl": …}` (the user id as the
/// application's type serializes it, Unix seconds of the sign-in, the session's TTL in
/// seconds), with an `"epoch"` digest when the sign-in was bound to a credential version, and
/// the sign-in's `"agent"` and `"ip"` when the middleware recorded them. Stores that list a user's sessions read it with [`UserSession::from_stored`] and
/// key their index by the user's [canonical form](UserSession::canonical_user). Applications
/// cannot write it (a [`SessionError::ReservedKey`](crate::SessionError::ReservedKey)).
pub const USER_KEY: &str = "__session.user";

/// The value stored under [`USER_KEY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Binding {
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

impl Binding {
    /// The user's canonical form: what the stores' user index keys by.
    pub(crate) fn user_key(&self) -> String {
        canonical(&self.user)
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
    /// The row for session `id` of `user` (its [canonical form](Self::canonical_user)), from
    /// the JSON text the session holds under [`USER_KEY`] and its expiry. `None` when that text
    /// does not bind `user` (the session was signed in as someone else, or the value is not one
    /// this crate wrote).
    #[must_use]
    pub fn from_stored(user: &str, id: SessionId, json: &str, expires: SystemTime) -> Option<Self> {
        let record: Binding = serde_json::from_str(json).ok()?;
        if record.user_key() != user {
            return None;
        }
        let signed_in = UNIX_EPOCH + Duration::from_secs(record.at);
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

    /// The canonical form of a user id, as a store's index of a user's sessions keys it and as
    /// [`Session::user`](crate::Session::user) returns it: a string id is itself, any other id
    /// is its compact JSON text (object keys sorted). Ids of different types with the same form
    /// (the string `"42"` and the number `42`) are the same user: an application signs users
    /// in with one type.
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
