//! A store outage or timeout answers an opaque 503 with `Retry-After`, however it reaches the
//! response (a load in an extractor, a save after the handler, with either transport); any
//! other store failure stays an opaque 500.

mod support;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use actix_http::Request;
use actix_typed_session::testing::serve;
use actix_typed_session::{testing, SessionMiddleware, Transport};
use actix_web::{
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceResponse},
    test,
};
use support::{header, send, Failure, Instrumented, Logs};

/// Status, `Retry-After` and body of `uri` with the session `cookie`.
async fn answer<S, B>(app: &S, uri: &str, cookie: &str) -> (u16, Option<String>, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = send(app, uri, &[("cookie", cookie)]).await;
    let retry = header(&res, "retry-after");
    (res.status().as_u16(), retry, testing::body(res).await)
}

/// What each kind of failure answers: an outage a 503 with `Retry-After`, else an opaque 500.
fn expected(kind: Failure) -> (u16, Option<String>, String) {
    match kind {
        Failure::Unavailable | Failure::Timeout => {
            (503, Some("5".into()), "Service Unavailable".into())
        }
        Failure::Other => (500, None, "Internal Server Error".into()),
    }
}

#[actix_web::test]
async fn failed_loads_and_saves_answer_503_for_outages_and_500_otherwise() {
    let (logs, _guard) = Logs::capture();
    let store = Instrumented::default();
    let app = serve(
        support::routes,
        SessionMiddleware::new(store.clone(), Key::generate()),
    )
    .await;
    let cookie = testing::set_cookie(&testing::get(&app, "/counter", None).await).unwrap();
    let cookie = cookie.to_string();
    // Loads: the untyped extractor, the derived one, and a load before routing (a guard's).
    // Saves: after the handler.
    let failing: [(&AtomicBool, &[&str]); 2] = [
        (
            &store.fail_load,
            &["/read", "/typed", "/whoami", "/guarded"],
        ),
        (&store.fail_save, &["/counter"]),
    ];
    for (flag, uris) in failing {
        flag.store(true, SeqCst);
        for kind in [Failure::Unavailable, Failure::Timeout, Failure::Other] {
            *store.failure.lock().unwrap() = kind;
            for uri in uris {
                let got = answer(&app, uri, &cookie).await;
                assert_eq!(got, expected(kind), "{kind:?} on {uri}");
            }
        }
        flag.store(false, SeqCst);
    }
    assert!(logs.text().contains("secret-backend-detail"), "logged");
    assert_eq!(answer(&app, "/read", &cookie).await.2, "1", "recovers");
}

#[actix_web::test]
async fn the_header_transport_answers_outages_the_same() {
    let store = Instrumented::default();
    let middleware = SessionMiddleware::builder(store.clone(), Key::generate())
        .transport(Transport::header())
        .build();
    let app = serve(support::routes, middleware).await;
    let res = testing::get(&app, "/counter", None).await;
    let token = res.headers().get("x-session").unwrap().clone();
    store.fail_load.store(true, SeqCst);
    let req = test::TestRequest::get()
        .uri("/read")
        .insert_header(("x-session", token))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(res.headers().get("retry-after").unwrap(), "5");
    assert!(
        res.headers().get("x-session").is_none(),
        "no token answered"
    );
}
