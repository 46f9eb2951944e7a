//! A store wrapper that counts the calls reaching the real store: with stores that send one
//! statement (or one transaction) per call, that is the number of database round trips.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_typed_session::{
    store::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore, UserSession},
    SessionId, StoreError,
};

/// What a test awaits before a call reaches the store (to hold it at a chosen point).
type Gate = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Forwards every call to `S`, counting them.
#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
    calls: Arc<AtomicUsize>,
    before_index: Option<Gate>,
}

impl<S: fmt::Debug> fmt::Debug for Counted<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counted")
            .field("inner", &self.inner)
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

impl<S> Counted<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: Arc::default(),
            before_index: None,
        }
    }

    /// Awaits `gate()` before each `index_user_session` reaches the store: a test holds a
    /// sign-in or renewal between writing its session and listing it.
    #[must_use]
    pub fn gate_index<F, Fut>(mut self, gate: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.before_index = Some(Arc::new(move || Box::pin(gate())));
        self
    }

    /// Calls so far.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

impl<S: SessionStore> SessionStore for Counted<S> {
    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        self.count();
        self.inner.load(id, keys, refresh).await
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        self.count();
        self.inner.save(id, changes, ttl).await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.count();
        self.inner.refresh(id, ttl).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.count();
        self.inner.delete(id).await
    }

    async fn renew(
        &self,
        old: &SessionId,
        new: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        self.count();
        self.inner.renew(old, new, changes, ttl).await
    }

    async fn index_user_session(
        &self,
        user: &str,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<Option<usize>, StoreError> {
        if let Some(gate) = &self.before_index {
            gate().await;
        }
        self.count();
        self.inner.index_user_session(user, id, ttl).await
    }

    async fn user_sessions(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        self.count();
        self.inner.user_sessions(user).await
    }

    async fn end_user_session(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        self.count();
        self.inner.end_user_session(user, id).await
    }

    async fn end_user_sessions(&self, user: &str) -> Result<usize, StoreError> {
        self.count();
        self.inner.end_user_sessions(user).await
    }
}
