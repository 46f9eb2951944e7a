//! `FileStore` passes the acceptance suite every store passes, on real temp dirs.

use actix_typed_session::{
    store::FileStore,
    testing::{self, Capabilities},
    Clock, SessionMiddleware,
};
use actix_web::cookie::Key;

#[actix_web::test]
async fn file_store_passes_the_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual();
    let store = FileStore::builder(dir.path())
        .clock(clock.clone())
        .build()
        .unwrap();
    testing::store_suite(&store, Capabilities::server_side().clock(clock)).await;
}

#[actix_web::test]
async fn fast_file_store_passes_the_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual();
    let store = FileStore::builder(dir.path())
        .durable(false)
        .prefix("")
        .clock(clock.clone())
        .build()
        .unwrap();
    testing::store_suite(&store, Capabilities::server_side().clock(clock)).await;
}

#[actix_web::test]
async fn file_store_passes_the_http_suite() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate();
    // Each check gets its own store instance on the same directory, as processes would.
    testing::http_suite(
        || SessionMiddleware::new(FileStore::new(dir.path()).unwrap(), key.clone()),
        Capabilities::server_side(),
    )
    .await;
}
