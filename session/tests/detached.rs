//! Sessions without the middleware: `Session::detached()`, and `get_session()` on requests that
//! never went through `SessionMiddleware` (unit tests' `TestRequest`s).

use actix_typed_session::{Session, SessionData, SessionExt as _, SessionStatus};
use actix_web::{test::TestRequest, FromRequest as _};

#[derive(SessionData)]
#[session(prefix = "cart")]
struct Cart {
    #[session(default)]
    visits: u32,
}

#[test]
fn a_detached_session_reads_and_writes_in_memory() {
    let session = Session::detached();
    assert_eq!(session.status(), SessionStatus::Unchanged);
    assert_eq!(session.id(), None);
    assert!(session.keys().unwrap().is_empty());
    session.insert("a", 1u8).unwrap();
    assert_eq!(session.get::<u8>("a").unwrap(), Some(1));
    assert_eq!(session.status(), SessionStatus::Changed);
    // Two detached sessions share nothing.
    assert_eq!(Session::detached().get::<u8>("a").unwrap(), None);
}

#[actix_web::test]
async fn an_http_request_without_middleware_keeps_one_working_session() {
    let req = TestRequest::default().to_http_request();
    req.get_session().insert("user", "ada").unwrap();
    let again = req.get_session();
    again.load().await.unwrap();
    assert_eq!(again.get::<String>("user").unwrap().as_deref(), Some("ada"));
    // The extractors see it too, typed ones included.
    let session = Session::extract(&req).await.unwrap();
    assert_eq!(session.keys().unwrap(), ["user"]);
    let cart = CartSession::extract(&req).await.unwrap();
    cart.set_visits(2).unwrap();
    assert_eq!(
        req.get_session().get::<u32>("cart.visits").unwrap(),
        Some(2)
    );
    // Another request has its own.
    let other = TestRequest::default().to_http_request();
    assert_eq!(other.get_session().get::<String>("user").unwrap(), None);
}

#[actix_web::test]
async fn a_service_request_without_middleware_keeps_one_working_session() {
    let req = TestRequest::default().to_srv_request();
    req.get_session().insert("user", "ada").unwrap();
    assert_eq!(
        req.get_session().get::<String>("user").unwrap().as_deref(),
        Some("ada")
    );
    // The `HttpRequest` inside shares the service request's extensions.
    assert_eq!(
        req.request()
            .get_session()
            .get::<String>("user")
            .unwrap()
            .as_deref(),
        Some("ada")
    );
}
