//! Two releases of typed sessions sharing one store, on the memory and cookie stores
//! (`testing::deploy_suite`; Redis and SQLite run it in the workspace's `tests` package).

use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing, SessionMiddleware,
};
use actix_web::cookie::Key;

#[actix_web::test]
async fn memory_store_survives_a_deploy() {
    testing::deploy_suite(SessionMiddleware::new(MemoryStore::new(), Key::generate())).await;
}

#[actix_web::test]
async fn cookie_store_survives_a_deploy() {
    let middleware = SessionMiddleware::builder(CookieStore::encrypted(), Key::generate())
        .cookie_secure(false)
        .build();
    testing::deploy_suite(middleware).await;
}
