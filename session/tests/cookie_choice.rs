//! Several cookies of the session's name (a sibling subdomain can plant one with a longer
//! `Path`, which browsers send first): the first that verifies is the session, and one that
//! does not verify is never answered with a removal while another verifies. An empty cookie
//! (what a removal leaves behind) is no cookie at all.

mod support;

use actix_http::Request;
use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing, SessionMiddleware, SessionStorage,
};
use actix_web::{
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceResponse},
    test,
};
use support::{header, send, Logs};

/// A session whose counter is `n`: its cookie's value.
async fn session<S, B>(app: &S, n: u64) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut value = String::new();
    for _ in 0..n {
        let mut req = test::TestRequest::get().uri("/counter");
        if !value.is_empty() {
            req = req.insert_header(("cookie", format!("session={value}")));
        }
        let res = test::call_service(app, req.to_request()).await;
        if let Some(set) = testing::set_cookie(&res) {
            value = set.value().to_owned();
        }
    }
    value
}

/// `/read`'s body and the `Set-Cookie` answered, for a request with this `Cookie` header.
async fn read<S, B>(app: &S, cookie: &str) -> (String, Option<String>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = send(app, "/read", &[("cookie", cookie)]).await;
    let set = header(&res, "set-cookie");
    (testing::body(res).await, set)
}

/// The memory store and the cookie store, each behind a middleware of its own.
fn middlewares() -> Vec<(&'static str, SessionMiddleware)> {
    let stores: [(&str, SessionStorage); 2] = [
        ("memory", MemoryStore::new().into()),
        ("cookie", CookieStore::encrypted().into()),
    ];
    stores
        .into_iter()
        .map(|(name, store)| (name, SessionMiddleware::new(store, Key::generate())))
        .collect()
}

#[actix_web::test]
async fn a_planted_cookie_before_the_real_one_neither_hides_nor_removes_it() {
    for (name, middleware) in middlewares() {
        let app = serve(testing::routes, middleware).await;
        let valid = session(&app, 3).await;
        let header = format!("session=tossed; session={valid}");
        assert_eq!(read(&app, &header).await, ("3".into(), None), "{name}");
    }
}

#[actix_web::test]
async fn the_first_cookie_that_verifies_wins() {
    for (name, middleware) in middlewares() {
        let app = serve(testing::routes, middleware).await;
        let (two, five) = (session(&app, 2).await, session(&app, 5).await);
        let header = format!("session=x; session={five}; session={two}");
        assert_eq!(read(&app, &header).await, ("5".into(), None), "{name}");
        let header = format!("session={two}; session={five}");
        assert_eq!(read(&app, &header).await, ("2".into(), None), "{name}");
    }
}

#[actix_web::test]
async fn when_none_verifies_one_removal_is_sent() {
    for (name, middleware) in middlewares() {
        let app = serve(testing::routes, middleware).await;
        let (body, set) = read(&app, "session=tossed; session=also-tossed").await;
        assert_eq!(body, "0", "{name}");
        let set = set.expect("a removal");
        assert!(
            set.starts_with("session=;") && set.contains("Max-Age=0"),
            "{name}: {set}"
        );
    }
}

#[actix_web::test]
async fn an_empty_cookie_is_no_cookie_no_removal_no_warning() {
    let (logs, _guard) = Logs::capture();
    for (name, middleware) in middlewares() {
        let app = serve(testing::routes, middleware).await;
        assert_eq!(
            read(&app, "session=; other=1").await,
            ("0".into(), None),
            "{name}"
        );
        let valid = session(&app, 3).await;
        let header = format!("session=; session={valid}");
        assert_eq!(read(&app, &header).await, ("3".into(), None), "{name}");
    }
    assert!(!logs.text().contains("WARN"), "{}", logs.text());
}
