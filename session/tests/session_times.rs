//! `Session::created_at` and `Session::expires_at` through the middleware, on a manual clock:
//! a new session's, a loaded one's, with its own TTL, under a maximum lifetime, after a purge,
//! and the errors before a load and without the middleware.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing, Clock, Session, SessionExt as _, SessionMiddleware, SessionStorage,
};
use actix_web::{cookie::Key, test, web, App, HttpRequest, HttpResponse};
use support::{header, send};

const DAY: u64 = 24 * 3600;

/// `created expires` in Unix seconds, after what the route did.
fn times(session: &Session) -> actix_web::Result<HttpResponse> {
    let secs = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (created, expires) = (session.created_at()?, session.expires_at()?);
    Ok(HttpResponse::Ok().body(format!("{} {}", secs(created), secs(expires))))
}

fn routes(cfg: &mut web::ServiceConfig) {
    async fn touch(session: Session) -> actix_web::Result<HttpResponse> {
        session.insert("n", 1)?;
        times(&session)
    }
    async fn read(session: Session) -> actix_web::Result<HttpResponse> {
        times(&session)
    }
    async fn remember(session: Session) -> actix_web::Result<HttpResponse> {
        session.set_ttl(Duration::from_secs(30 * DAY));
        times(&session)
    }
    async fn purge(session: Session) -> actix_web::Result<HttpResponse> {
        session.purge();
        times(&session)
    }
    async fn unloaded(req: HttpRequest) -> String {
        let session = req.get_session();
        let before = session.created_at().map_err(|e| e.to_string());
        session.load().await.unwrap();
        format!("{:?} / {}", before.err(), session.created_at().is_ok())
    }
    cfg.route("/touch", web::get().to(touch))
        .route("/read", web::get().to(read))
        .route("/remember", web::get().to(remember))
        .route("/purge", web::get().to(purge))
        .route("/unloaded", web::get().to(unloaded));
}

fn middleware(
    store: impl Into<SessionStorage>,
    clock: &Clock,
    max: Option<u64>,
) -> SessionMiddleware {
    SessionMiddleware::builder(store, Key::generate())
        .clock(clock.clone())
        .max_lifetime(max.map(Duration::from_secs))
        .build()
}

/// A store on the test's clock (the cookie store reads the middleware's).
type MakeStore = fn(&Clock) -> SessionStorage;

#[actix_web::test]
async fn creation_and_expiry_follow_the_session() {
    let stores: [(&str, MakeStore); 2] = [
        ("memory", |c| {
            MemoryStore::builder().clock(c.clone()).build().into()
        }),
        ("cookie", |_| CookieStore::encrypted().into()),
    ];
    for (name, store) in stores {
        let clock = Clock::manual();
        let t0 = clock.now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let app = serve(routes, middleware(store(&clock), &clock, None)).await;
        let res = send(&app, "/touch", &[]).await;
        let cookie = header(&res, "set-cookie").unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        assert_eq!(
            testing::body(res).await,
            format!("{t0} {}", t0 + DAY),
            "{name}: new"
        );

        clock.advance(Duration::from_secs(100));
        let res = send(&app, "/read", &[("cookie", &cookie)]).await;
        let expected = format!("{t0} {}", t0 + 100 + DAY);
        assert_eq!(testing::body(res).await, expected, "{name}: loaded");

        let res = send(&app, "/remember", &[("cookie", &cookie)]).await;
        let expected = format!("{t0} {}", t0 + 100 + 30 * DAY);
        assert_eq!(testing::body(res).await, expected, "{name}: its own TTL");

        clock.advance(Duration::from_secs(50));
        let res = send(&app, "/purge", &[("cookie", &cookie)]).await;
        let expected = format!("{} {}", t0 + 150, t0 + 150 + DAY);
        assert_eq!(
            testing::body(res).await,
            expected,
            "{name}: what replaces it"
        );

        let res = send(&app, "/unloaded", &[("cookie", &cookie)]).await;
        assert_eq!(
            testing::body(res).await,
            "Some(\"the session is not loaded: call `Session::load().await` first\") / true",
            "{name}"
        );
    }
}

#[actix_web::test]
async fn the_maximum_lifetime_caps_the_expiry() {
    let clock = Clock::manual();
    let t0 = clock.now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let app = serve(routes, middleware(store, &clock, Some(3600))).await;
    let res = send(&app, "/touch", &[]).await;
    let cookie = header(&res, "set-cookie").unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(testing::body(res).await, format!("{t0} {}", t0 + 3600));
    clock.advance(Duration::from_secs(600));
    let res = send(&app, "/read", &[("cookie", &cookie)]).await;
    assert_eq!(testing::body(res).await, format!("{t0} {}", t0 + 3600));
}

#[actix_web::test]
async fn without_the_middleware_the_detached_session_is_new() {
    // A unit test's request without the middleware: get_session() gives a detached session,
    // which is new, so it was created now and expires a TTL (one day, the default) from now.
    let app = test::init_service(App::new().route(
        "/",
        web::get().to(|req: HttpRequest| async move {
            let session = req.get_session();
            let now = std::time::SystemTime::now();
            let age = now
                .duration_since(session.created_at().unwrap())
                .unwrap_or_default();
            let left = session.expires_at().unwrap().duration_since(now).unwrap();
            format!("{} {}", age.as_secs() < 60, left.as_secs() > 23 * 3600)
        }),
    ))
    .await;
    let res = test::call_service(&app, test::TestRequest::get().to_request()).await;
    assert_eq!(testing::body(res).await, "true true");
}
