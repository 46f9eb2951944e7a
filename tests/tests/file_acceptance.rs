//! `FileStore` passes the acceptance suite every store passes, on real temp dirs.

use actix_web::cookie::Key;
use session::{
    store::FileStore,
    testing::{self, Capabilities},
    SessionMiddleware,
};

#[actix_web::test]
async fn file_store_passes_the_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path()).unwrap();
    testing::store_suite(&store, Capabilities::server_side()).await;
}

#[actix_web::test]
async fn fast_file_store_passes_the_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::builder(dir.path())
        .durable(false)
        .prefix("")
        .build()
        .unwrap();
    testing::store_suite(&store, Capabilities::server_side()).await;
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
