//! bench-server's `/typed` (in `testing::routes`) is the `/counter` of DESIGN.md through
//! `#[derive(SessionData)]`: the same key, the same answers, on a server-side store and on the
//! cookie store.

use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing::{self, body, get, set_cookie},
    SessionMiddleware, SessionStorage,
};
use actix_web::{cookie::Key, test, App};

async fn typed_and_untyped_count_together(storage: SessionStorage) {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(storage, Key::generate()))
            .configure(testing::routes),
    )
    .await;
    let mut cookie = None;
    let mut answers = Vec::new();
    for uri in ["/typed", "/typed", "/counter", "/typed", "/read"] {
        let res = get(&app, uri, cookie.as_ref()).await;
        assert!(res.status().is_success(), "{uri}: {}", res.status());
        cookie = set_cookie(&res).or(cookie);
        answers.push(body(res).await);
    }
    assert_eq!(answers, ["1", "2", "3", "4", "4"]);
}

#[actix_web::test]
async fn typed_route_on_the_memory_store() {
    typed_and_untyped_count_together(MemoryStore::new().into()).await;
}

#[actix_web::test]
async fn typed_route_on_the_cookie_store() {
    typed_and_untyped_count_together(CookieStore::encrypted().into()).await;
}
