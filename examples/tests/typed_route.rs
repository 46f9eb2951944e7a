//! bench-server's `/typed` is the `/counter` of DESIGN.md through `#[derive(SessionData)]`: the
//! same key, the same answers, on every store the server offers.

use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    SessionMiddleware, SessionStorage,
};
use actix_web::{cookie::Key, test, App};

async fn typed_and_untyped_count_together(storage: SessionStorage) {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(storage, Key::generate()))
            .configure(examples::routes),
    )
    .await;
    let mut cookie = None;
    let mut answers = Vec::new();
    for uri in ["/typed", "/typed", "/counter", "/typed", "/read"] {
        let mut req = test::TestRequest::get().uri(uri);
        if let Some(c) = &cookie {
            req = req.cookie(Clone::clone(c));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert!(res.status().is_success(), "{uri}: {}", res.status());
        if let Some(c) = res.response().cookies().find(|c| c.name() == "session") {
            cookie = Some(c.into_owned());
        }
        answers.push(String::from_utf8(test::read_body(res).await.to_vec()).unwrap());
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
