//! The built-in stores pass the acceptance suite.

use std::time::Duration;

use actix_typed_session::{
    store::{ChangeSet, CookieStore, Entries, Keys, MemoryStore, SaveOutcome, SessionStore},
    testing::{self, Capabilities},
    Clock, SessionId, SessionMiddleware, StoreError,
};
use actix_web::cookie::Key;

#[actix_web::test]
async fn memory_store_passes_the_store_suite() {
    let clock = Clock::manual();
    let store = MemoryStore::builder().clock(clock.clone()).build();
    testing::store_suite(
        &store,
        Capabilities::server_side()
            .clock(clock)
            .lists_user_sessions(true),
    )
    .await;
}

#[actix_web::test]
async fn memory_store_passes_the_http_suite() {
    let key = Key::generate();
    testing::http_suite(
        || SessionMiddleware::new(MemoryStore::new(), key.clone()),
        Capabilities::server_side(),
    )
    .await;
}

#[actix_web::test]
async fn encrypted_cookie_store_passes_the_http_suite() {
    let key = Key::generate();
    testing::http_suite(
        || SessionMiddleware::new(CookieStore::encrypted(), key.clone()),
        Capabilities::client_side(),
    )
    .await;
}

#[actix_web::test]
async fn signed_cookie_store_passes_the_http_suite() {
    let key = Key::generate();
    testing::http_suite(
        || SessionMiddleware::new(CookieStore::signed(), key.clone()),
        Capabilities::client_side(),
    )
    .await;
}

/// A store that implements only the four core methods, so `renew` is the trait's own (and keeps
/// no user lists).
#[derive(Debug)]
struct ProvidedRenew(MemoryStore);

impl SessionStore for ProvidedRenew {
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

    actix_typed_session::no_user_sessions!();
}

#[actix_web::test]
async fn the_provided_renew_passes_the_store_suite() {
    let clock = Clock::manual();
    let store = ProvidedRenew(MemoryStore::builder().clock(clock.clone()).build());
    testing::store_suite(&store, Capabilities::server_side().clock(clock)).await;
}
