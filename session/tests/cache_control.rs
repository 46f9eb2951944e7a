//! Every response that sets, removes or answers a session token carries
//! `Cache-Control: no-store`, unless the app set its own; other responses get none.

mod support;

use actix_http::Request;
use actix_typed_session::testing::serve;
use actix_typed_session::{store::MemoryStore, testing, Session, SessionMiddleware, Transport};
use actix_web::{
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceResponse},
    http::header::CACHE_CONTROL,
    web, HttpResponse,
};
use support::{header as text, send};

/// The bench-server routes plus `/cached`, which writes the session and sets its own
/// `Cache-Control`.
fn routes(cfg: &mut web::ServiceConfig) {
    async fn cached(session: Session) -> actix_web::Result<HttpResponse> {
        session.insert("seen", true)?;
        Ok(HttpResponse::Ok()
            .insert_header((CACHE_CONTROL, "private, max-age=60"))
            .finish())
    }
    testing::routes(cfg);
    cfg.route("/cached", web::get().to(cached));
}

/// `Cache-Control` and the token answered (`Set-Cookie`'s text or `X-Session`).
async fn answer<S, B>(
    app: &S,
    uri: &str,
    header: Option<(&str, &str)>,
) -> (Option<String>, Option<String>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = send(app, uri, header.as_slice()).await;
    assert!(res.status().is_success(), "{uri}: {}", res.status());
    let token = text(&res, "set-cookie").or_else(|| text(&res, "x-session"));
    (text(&res, "cache-control"), token)
}

const NO_STORE: Option<&str> = Some("no-store");

#[actix_web::test]
async fn cookie_answers_are_not_stored_by_caches() {
    let app = serve(
        routes,
        SessionMiddleware::new(MemoryStore::new(), Key::generate()),
    )
    .await;
    let (cache, set) = answer(&app, "/counter", None).await;
    assert_eq!(cache.as_deref(), NO_STORE, "a new session's Set-Cookie");
    let cookie = set.unwrap();
    let cookie = cookie.split(';').next().unwrap();

    let (cache, set) = answer(&app, "/read", Some(("cookie", cookie))).await;
    assert_eq!((cache, set), (None, None), "no token answered, no header");
    let (cache, set) = answer(&app, "/renew", Some(("cookie", cookie))).await;
    assert_eq!(cache.as_deref(), NO_STORE, "renewed: {set:?}");
    let renewed = set.unwrap();
    let renewed = renewed.split(';').next().unwrap();
    let (cache, set) = answer(&app, "/purge", Some(("cookie", renewed))).await;
    assert_eq!(cache.as_deref(), NO_STORE, "the removal: {set:?}");
    let (cache, set) = answer(&app, "/read", Some(("cookie", "session=forged"))).await;
    assert!(
        set.unwrap().contains("Max-Age=0"),
        "a rejected cookie is removed"
    );
    assert_eq!(cache.as_deref(), NO_STORE, "and the removal is not stored");
}

#[actix_web::test]
async fn header_answers_are_not_stored_by_caches() {
    let middleware = SessionMiddleware::builder(MemoryStore::new(), Key::generate())
        .transport(Transport::header())
        .build();
    let app = serve(routes, middleware).await;
    let (cache, token) = answer(&app, "/counter", None).await;
    assert_eq!(cache.as_deref(), NO_STORE, "the token answered");
    let token = token.unwrap();
    let (cache, answered) = answer(&app, "/read", Some(("x-session", &token))).await;
    assert_eq!((cache, answered), (None, None));
    let (cache, answered) = answer(&app, "/purge", Some(("x-session", &token))).await;
    assert_eq!(answered.as_deref(), Some(""), "emptied");
    assert_eq!(cache.as_deref(), NO_STORE);
}

#[actix_web::test]
async fn an_apps_own_cache_control_is_kept() {
    for transport in [Transport::Cookie, Transport::header()] {
        let middleware = SessionMiddleware::builder(MemoryStore::new(), Key::generate())
            .transport(transport.clone())
            .build();
        let app = serve(routes, middleware).await;
        let (cache, token) = answer(&app, "/cached", None).await;
        assert!(token.is_some(), "{transport:?}: a new session is answered");
        assert_eq!(
            cache.as_deref(),
            Some("private, max-age=60"),
            "{transport:?}"
        );
    }
}
