//! [`DynStore`]: the object-safe face of a [`SessionStore`] that sessions hold. Every store
//! call passes here, so this is where each gets its span and its metrics (`crate::observe`).

use std::{future::Future, pin::Pin, time::Duration};

use super::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore, UserSession};
use crate::{
    observe::{store_call, Outcome},
    SessionId, StoreError,
};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Outcome for SaveOutcome {
    fn outcome(&self) -> &'static str {
        match self {
            SaveOutcome::Saved => "saved",
            SaveOutcome::Gone => "gone",
        }
    }
}

/// `refresh` (the session was there) and `end_user_session` (it was the user's).
impl Outcome for bool {
    fn outcome(&self) -> &'static str {
        if *self {
            "hit"
        } else {
            "miss"
        }
    }
}

impl Outcome for () {
    fn outcome(&self) -> &'static str {
        "ok"
    }
}

impl Outcome for usize {
    fn outcome(&self) -> &'static str {
        "ok"
    }
}

impl Outcome for Vec<UserSession> {
    fn outcome(&self) -> &'static str {
        "ok"
    }
}

/// Object-safe mirror of [`SessionStore`], so the session handle need not be generic.
pub(crate) trait DynStore: Send + Sync + 'static {
    /// For the built-in stores' fast paths.
    fn as_any(&self) -> &dyn std::any::Any;
    /// [`SessionStore::kind`].
    fn kind(&self) -> &'static str;
    fn load<'a>(
        &'a self,
        id: &'a SessionId,
        keys: Keys<'a>,
        refresh: Option<Duration>,
    ) -> BoxFuture<'a, Result<Option<Entries>, StoreError>>;
    fn save<'a>(
        &'a self,
        id: &'a SessionId,
        changes: &'a ChangeSet,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<SaveOutcome, StoreError>>;
    fn refresh<'a>(
        &'a self,
        id: &'a SessionId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>>;
    fn renew<'a>(
        &'a self,
        old: &'a SessionId,
        new: &'a SessionId,
        changes: &'a ChangeSet,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<SaveOutcome, StoreError>>;
    fn index_user_session<'a>(
        &'a self,
        user: &'a str,
        id: &'a SessionId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<usize>, StoreError>>;
    fn user_sessions<'a>(
        &'a self,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<UserSession>, StoreError>>;
    fn end_user_session<'a>(
        &'a self,
        user: &'a str,
        id: &'a SessionId,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn end_user_sessions<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<usize, StoreError>>;
}

impl<S: SessionStore> DynStore for S {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn kind(&self) -> &'static str {
        SessionStore::kind(self)
    }
    fn load<'a>(
        &'a self,
        id: &'a SessionId,
        keys: Keys<'a>,
        refresh: Option<Duration>,
    ) -> BoxFuture<'a, Result<Option<Entries>, StoreError>> {
        let call = SessionStore::load(self, id, keys, refresh);
        Box::pin(store_call(SessionStore::kind(self), "load", call))
    }
    fn save<'a>(
        &'a self,
        id: &'a SessionId,
        changes: &'a ChangeSet,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<SaveOutcome, StoreError>> {
        let call = SessionStore::save(self, id, changes, ttl);
        Box::pin(store_call(SessionStore::kind(self), "save", call))
    }
    fn refresh<'a>(
        &'a self,
        id: &'a SessionId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let call = SessionStore::refresh(self, id, ttl);
        Box::pin(store_call(SessionStore::kind(self), "refresh", call))
    }
    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
        let call = SessionStore::delete(self, id);
        Box::pin(store_call(SessionStore::kind(self), "delete", call))
    }
    fn renew<'a>(
        &'a self,
        old: &'a SessionId,
        new: &'a SessionId,
        changes: &'a ChangeSet,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<SaveOutcome, StoreError>> {
        let call = SessionStore::renew(self, old, new, changes, ttl);
        Box::pin(store_call(SessionStore::kind(self), "renew", call))
    }
    fn index_user_session<'a>(
        &'a self,
        user: &'a str,
        id: &'a SessionId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<usize>, StoreError>> {
        let call = SessionStore::index_user_session(self, user, id, ttl);
        Box::pin(store_call(
            SessionStore::kind(self),
            "index_user_session",
            call,
        ))
    }
    fn user_sessions<'a>(
        &'a self,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<UserSession>, StoreError>> {
        let call = SessionStore::user_sessions(self, user);
        Box::pin(store_call(SessionStore::kind(self), "user_sessions", call))
    }
    fn end_user_session<'a>(
        &'a self,
        user: &'a str,
        id: &'a SessionId,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let call = SessionStore::end_user_session(self, user, id);
        Box::pin(store_call(
            SessionStore::kind(self),
            "end_user_session",
            call,
        ))
    }
    fn end_user_sessions<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        let call = SessionStore::end_user_sessions(self, user);
        Box::pin(store_call(
            SessionStore::kind(self),
            "end_user_sessions",
            call,
        ))
    }
}
