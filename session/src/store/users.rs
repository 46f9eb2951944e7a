//! What a store keeps to list and end a user's sessions: the reserved session key that binds a
//! user, and [`UserSession`], one row of a user's list.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::SessionId;

/// The session key under which [`Session::sign_in`](crate::Session::sign_in) binds a user.
///
/// Its JSON value is an object `{"user": …, "at": …, "ttl": …}` (the user id, Unix seconds of
/// the sign-in, the session's TTL in seconds). Stores that list a user's sessions read it with
/// [`UserSession::from_stored`]; applications should leave it alone.
pub const USER_KEY: &str = "__session.user";

/// The value stored under [`USER_KEY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SignedIn {
    pub(crate) user: String,
    /// Unix seconds of the sign-in.
    pub(crate) at: u64,
    /// The session's TTL in seconds, kept up to date by `Session::set_ttl`.
    pub(crate) ttl: u64,
}

/// One live session of a user, as [`SessionStore::user_sessions`](super::SessionStore::user_sessions)
/// lists it.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use actix_typed_session::{store::UserSession, SessionId};
///
/// let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
/// let json = r#"{"user":"ada","at":1700000000,"ttl":600}"#;
/// let row = UserSession::from_stored("ada", SessionId::generate(), json, at(1_700_003_000)).unwrap();
/// assert_eq!(row.signed_in, at(1_700_000_000));
/// assert_eq!(row.last_used, at(1_700_002_400)); // expiry minus TTL
/// assert!(UserSession::from_stored("bob", SessionId::generate(), json, at(1)).is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSession {
    /// The session's id. It is a credential: show it to no one but its user (and then only a
    /// prefix, say), and pass it back to end that session.
    pub id: SessionId,
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
    /// The row for session `id` of `user`, from the JSON text the session holds under
    /// [`USER_KEY`] and its expiry. `None` when that text does not bind `user` (the session
    /// was signed in as someone else, or the value is not one this crate wrote).
    #[must_use]
    pub fn from_stored(user: &str, id: SessionId, json: &str, expires: SystemTime) -> Option<Self> {
        let record: SignedIn = serde_json::from_str(json).ok()?;
        if record.user != user {
            return None;
        }
        let signed_in = UNIX_EPOCH + Duration::from_secs(record.at);
        let last_used = expires
            .checked_sub(Duration::from_secs(record.ttl))
            .unwrap_or(signed_in)
            .max(signed_in);
        Some(Self {
            id,
            signed_in,
            last_used,
            expires,
            current: false,
        })
    }
}
