//! A wrapper store (a cache, a metrics layer) that forwards only the core methods to the store
//! it wraps must not compile: with provided user methods it would turn log out everywhere
//! into a 501 at run time.
use std::time::Duration;

use actix_typed_session::{
    store::{ChangeSet, Entries, Keys, MemoryStore, SaveOutcome, SessionStore},
    SessionId, StoreError,
};

struct Timed(MemoryStore);

impl SessionStore for Timed {
    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        self.0.load(id, keys, refresh).await
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        self.0.save(id, changes, ttl).await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.0.refresh(id, ttl).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.0.delete(id).await
    }
}

fn main() {}
