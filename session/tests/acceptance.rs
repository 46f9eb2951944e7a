//! The built-in stores pass the acceptance suite.

use actix_web::cookie::Key;
use session::{
    store::{CookieStore, MemoryStore},
    testing::{self, Capabilities},
    SessionMiddleware,
};

#[actix_web::test]
async fn memory_store_passes_the_store_suite() {
    testing::store_suite(&MemoryStore::new(), Capabilities::server_side()).await;
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
