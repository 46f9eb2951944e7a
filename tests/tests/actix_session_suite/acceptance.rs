//! The acceptance suite that each of actix-session's stores runs (its `test_helpers`), on our
//! memory store, cookie store (signed and encrypted: its `CookieContentSecurity::Signed` and
//! `Private`) and Redis store (a real server on a free port). Server-side stores have no
//! content-security setting (MIGRATING.md: their id cookie is always signed), so they run the
//! suite once.
//!
//! actix-session runs `guard` and `complex_workflow` on a server over TCP; they run in process
//! here, as the rest of this crate's HTTP tests do: the cookies and bodies are the same.

use std::time::Duration;

use actix_http::Request;
use actix_typed_session::{
    store::{CookieStore, MemoryStore, RedisPool, RedisStore},
    CookieLifecycle, LoadSession, Session, SessionExt as _, SessionMiddleware,
    SessionMiddlewareBuilder, TtlRefresh,
};
use actix_web::{
    body::MessageBody,
    cookie::{time, Cookie, Key},
    dev::{Service, ServiceResponse},
    guard,
    http::{Method, StatusCode},
    middleware, test,
    web::{self, get, post, resource, Bytes},
    App, HttpResponse, Result,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use session_tests::redis_server::RedisServer;

/// A store under test, alive for the test (for Redis, with its server).
trait Fixture {
    fn start() -> Self;
    /// `SessionMiddleware::builder` on this store: actix-session's `builder(store_builder(), key())`.
    fn builder(&self, key: Key) -> SessionMiddlewareBuilder;
    /// actix-session's `is_invalidation_supported`: whether the store remembers that a session
    /// ended (false for cookies, which stay valid wherever they were copied).
    const INVALIDATION: bool;
}

struct Memory(MemoryStore);

impl Fixture for Memory {
    fn start() -> Self {
        Self(MemoryStore::new())
    }
    fn builder(&self, key: Key) -> SessionMiddlewareBuilder {
        SessionMiddleware::builder(self.0.clone(), key)
    }
    const INVALIDATION: bool = true;
}

/// `CookieSessionStore` with `CookieContentSecurity::Signed` (`SIGNED`) or `Private`.
struct Cookies<const SIGNED: bool>;

impl<const SIGNED: bool> Fixture for Cookies<SIGNED> {
    fn start() -> Self {
        Self
    }
    fn builder(&self, key: Key) -> SessionMiddlewareBuilder {
        let store = if SIGNED {
            CookieStore::signed()
        } else {
            CookieStore::encrypted()
        };
        SessionMiddleware::builder(store, key)
    }
    const INVALIDATION: bool = false;
}

struct Redis {
    store: RedisStore,
    // Dropped after the store: stops the server.
    _server: RedisServer,
}

impl Fixture for Redis {
    fn start() -> Self {
        let server = RedisServer::start();
        let pool = RedisPool::builder(server.url()).build().unwrap();
        Self {
            store: RedisStore::new(pool),
            _server: server,
        }
    }
    fn builder(&self, key: Key) -> SessionMiddlewareBuilder {
        SessionMiddleware::builder(self.store.clone(), key)
    }
    const INVALIDATION: bool = true;
}

/// The suite's five tests on one store, as `mod $name`.
macro_rules! acceptance_suite {
    ($name:ident, $fixture:ty) => {
        mod $name {
            use super::*;

            #[actix_web::test]
            async fn basic_workflow() {
                super::basic_workflow(<$fixture>::start()).await;
            }

            #[actix_web::test]
            async fn expiration_is_refreshed_on_changes() {
                super::expiration_is_refreshed_on_changes(<$fixture>::start()).await;
            }

            #[actix_web::test]
            async fn expiration_is_always_refreshed_if_configured_to_refresh_on_every_request() {
                super::expiration_is_always_refreshed_if_configured_to_refresh_on_every_request(
                    <$fixture>::start(),
                )
                .await;
            }

            #[actix_web::test]
            async fn complex_workflow() {
                super::complex_workflow(<$fixture>::start()).await;
            }

            #[actix_web::test]
            async fn guard() {
                super::guard(<$fixture>::start()).await;
            }
        }
    };
}

acceptance_suite!(memory, Memory);
acceptance_suite!(cookie_signed, Cookies<true>);
acceptance_suite!(cookie_private, Cookies<false>);
acceptance_suite!(redis, Redis);

fn key() -> Key {
    Key::generate()
}

/// The cookie `name` that `res` sets, if any.
fn get_cookie<B>(res: &ServiceResponse<B>, name: &str) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|c| c.name() == name)
        .map(Cookie::into_owned)
}

async fn basic_workflow(store: impl Fixture) {
    let app = test::init_service(
        App::new()
            .wrap(
                store
                    .builder(key())
                    .cookie_path("/test/")
                    .cookie_name("actix-test")
                    .cookie_domain(Some("localhost".into()))
                    .cookie_lifecycle(CookieLifecycle::Persistent)
                    .ttl(Duration::from_secs(100))
                    .build(),
            )
            .service(web::resource("/").to(|ses: Session| async move {
                let _ = ses.insert("counter", 100);
                "test"
            }))
            .service(web::resource("/test/").to(|ses: Session| async move {
                let val: usize = ses.get("counter").unwrap().unwrap();
                format!("counter: {val}")
            })),
    )
    .await;

    let request = test::TestRequest::get().to_request();
    let response = test::call_service(&app, request).await;
    let cookie = get_cookie(&response, "actix-test").unwrap();
    assert_eq!(cookie.path().unwrap(), "/test/");

    let request = test::TestRequest::with_uri("/test/")
        .cookie(cookie)
        .to_request();
    let body = test::call_and_read_body(&app, request).await;
    assert_eq!(body, Bytes::from_static(b"counter: 100"));
}

/// The app of the two expiration tests: a persistent cookie with a 60 s TTL refreshed by
/// `$refresh`, `/` writes the session, `/test/` does not look at it.
macro_rules! expiration_app {
    ($store:expr, $refresh:expr) => {
        test::init_service(
            App::new()
                .wrap(
                    $store
                        .builder(key())
                        .cookie_lifecycle(CookieLifecycle::Persistent)
                        .ttl(Duration::from_secs(60))
                        .refresh($refresh)
                        .build(),
                )
                .service(web::resource("/").to(|ses: Session| async move {
                    let _ = ses.insert("counter", 100);
                    "test"
                }))
                .service(web::resource("/test/").to(|| async move { "no-changes-in-session" })),
        )
        .await
    };
}

/// The session cookie (our default name) that `app` sets in answer to `req`, if any.
async fn session_cookie<S, B>(app: &S, req: test::TestRequest) -> Option<Cookie<'static>>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let res = test::call_service(app, req.to_request()).await;
    get_cookie(&res, "session")
}

async fn expiration_is_always_refreshed_if_configured_to_refresh_on_every_request(
    store: impl Fixture,
) {
    let session_ttl = time::Duration::seconds(60);
    let app = expiration_app!(store, TtlRefresh::OnEveryRequest);

    // Create the session.
    let cookie_1 = session_cookie(&app, test::TestRequest::get()).await;
    let cookie_1 = cookie_1.expect("Cookie is set");
    assert_eq!(cookie_1.max_age(), Some(session_ttl));

    // A request that does not touch the session state still sets the cookie, with the whole
    // configured TTL.
    let req = test::TestRequest::with_uri("/test/").cookie(cookie_1);
    let cookie_2 = session_cookie(&app, req).await.expect("Cookie is set");
    assert_eq!(cookie_2.max_age(), Some(session_ttl));
}

async fn expiration_is_refreshed_on_changes(store: impl Fixture) {
    let session_ttl = time::Duration::seconds(60);
    // actix-session's default policy, `OnStateChanges`.
    let app = expiration_app!(store, TtlRefresh::OnUpdate);

    let cookie_1 = session_cookie(&app, test::TestRequest::get()).await;
    let cookie_1 = cookie_1.expect("Cookie is set");
    assert_eq!(cookie_1.max_age(), Some(session_ttl));

    let req = test::TestRequest::with_uri("/test/").cookie(cookie_1.clone());
    assert_eq!(session_cookie(&app, req).await, None);

    let req = test::TestRequest::get().cookie(cookie_1);
    let cookie_2 = session_cookie(&app, req).await.expect("Cookie is set");
    assert_eq!(cookie_2.max_age(), Some(session_ttl));
}

/// What one request of `guard` and `complex_workflow` got back.
struct Visit {
    /// The `test-session` cookie the response set (or removed), if any.
    cookie: Option<Cookie<'static>>,
    /// Whether the response set any cookie at all.
    sets_cookie: bool,
    status: StatusCode,
    body: Bytes,
}

impl Visit {
    /// The JSON answer of `/`, `/do_something`, `/login` or `/protected/count`.
    fn answer(&self) -> IndexResponse {
        serde_json::from_slice(&self.body).expect("a JSON answer")
    }

    /// The cookie the response set, which the test requires.
    fn cookie(&self) -> Cookie<'static> {
        self.cookie.clone().expect("the session cookie is set")
    }
}

/// Sends `req` (with `cookie`, if any) to `app`.
async fn visit<S, B>(app: &S, req: test::TestRequest, cookie: Option<&Cookie<'static>>) -> Visit
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = match cookie {
        Some(cookie) => req.cookie(cookie.clone()),
        None => req,
    };
    let res = test::call_service(app, req.to_request()).await;
    Visit {
        cookie: get_cookie(&res, "test-session"),
        sets_cookie: res.response().cookies().next().is_some(),
        status: res.status(),
        body: test::read_body(res).await,
    }
}

fn anonymous(counter: i32) -> IndexResponse {
    IndexResponse {
        user_id: None,
        counter,
    }
}

fn ferris(counter: i32) -> IndexResponse {
    IndexResponse {
        user_id: Some("ferris".into()),
        counter,
    }
}

fn sign_in_as_ferris() -> test::TestRequest {
    test::TestRequest::post()
        .uri("/login")
        .set_json(json!({"user_id": "ferris"}))
}

fn at(method: Method, uri: &str) -> test::TestRequest {
    test::TestRequest::default().method(method).uri(uri)
}

/// The session middleware of `guard` and `complex_workflow`: a persistent `test-session`
/// cookie, one week.
fn workflow_middleware(store: &impl Fixture) -> SessionMiddleware {
    store
        .builder(key())
        .cookie_name("test-session")
        .cookie_lifecycle(CookieLifecycle::Persistent)
        .ttl(Duration::from_secs(7 * 24 * 3600))
        .build()
}

/// The routes that `guard` and `complex_workflow` share.
fn workflow_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").route(get().to(index)))
        .service(resource("/do_something").route(post().to(do_something)))
        .service(resource("/login").route(post().to(login)))
        .service(resource("/logout").route(post().to(logout)));
}

async fn guard(store: impl Fixture) {
    let app = test::init_service(
        App::new()
            // A guard cannot load the session: `LoadSession` does, before routing (inside the
            // session middleware), as MIGRATING.md tells guard users.
            .wrap(LoadSession)
            .wrap(workflow_middleware(&store))
            .wrap(middleware::Logger::default())
            .configure(workflow_routes)
            .service(
                web::scope("/protected")
                    .guard(guard::fn_guard(|g| {
                        g.get_session().get::<String>("user_id").unwrap().is_some()
                    }))
                    .service(resource("/count").route(get().to(count))),
            ),
    )
    .await;

    // 1. No session: the guard turns the request away.
    let first = visit(&app, at(Method::GET, "/protected/count"), None).await;
    assert!(!first.status.is_success());

    // 2. Sign in as ferris: first cookie.
    let cookie_1 = visit(&app, sign_in_as_ferris(), None).await.cookie();

    // 3. Count once: a cookie again, ferris with 1.
    let counted = visit(&app, at(Method::POST, "/do_something"), Some(&cookie_1)).await;
    assert_eq!(counted.answer(), ferris(1));
    let cookie_2 = counted.cookie();

    // 4. Signed in: the guard lets the request through.
    let protected = visit(&app, at(Method::GET, "/protected/count"), Some(&cookie_2)).await;
    assert_eq!(protected.answer(), ferris(1));
}

async fn complex_workflow<F: Fixture>(store: F) {
    let is_invalidation_supported = F::INVALIDATION;
    let session_ttl = time::Duration::days(7);
    let app = test::init_service(
        App::new()
            .wrap(workflow_middleware(&store))
            .wrap(middleware::Logger::default())
            .configure(workflow_routes),
    )
    .await;
    let index = || at(Method::GET, "/");
    let do_something = || at(Method::POST, "/do_something");

    // 1. Reading an empty session sets no cookie.
    let step = visit(&app, index(), None).await;
    assert!(!step.sets_cookie);
    assert_eq!(step.answer(), anonymous(0));

    // 2. Counting creates the session: cookie #1, with the whole TTL.
    let step = visit(&app, do_something(), None).await;
    assert_eq!(step.answer(), anonymous(1));
    let cookie_1 = step.cookie();
    assert_eq!(cookie_1.max_age(), Some(session_ttl));

    // 3. Reading it again sets no cookie.
    let step = visit(&app, index(), Some(&cookie_1)).await;
    assert!(!step.sets_cookie);
    assert_eq!(step.answer(), anonymous(1));

    // 4. Counting again: cookie #2, same Max-Age.
    let step = visit(&app, do_something(), Some(&cookie_1)).await;
    assert_eq!(step.answer(), anonymous(2));
    let cookie_2 = step.cookie();
    assert_eq!(cookie_2.max_age(), cookie_1.max_age());

    // 5. Signing in renews the session: cookie #3 differs from #2, the counter stays.
    let step = visit(&app, sign_in_as_ferris(), Some(&cookie_2)).await;
    let cookie_3 = step.cookie();
    assert_ne!(cookie_2.value(), cookie_3.value());
    assert_eq!(step.answer(), ferris(2));

    // 6. Cookie #3 reads the signed-in session.
    let step = visit(&app, index(), Some(&cookie_3)).await;
    assert_eq!(step.answer(), ferris(2));

    // 7. And counts on.
    let step = visit(&app, do_something(), Some(&cookie_3)).await;
    assert_eq!(step.answer(), ferris(3));

    // 8. Cookie #2, from before the renewal: an empty session where the store remembers
    //    the renewal, the state as it was in that cookie otherwise.
    let step = visit(&app, index(), Some(&cookie_2)).await;
    if is_invalidation_supported {
        assert!(!step.sets_cookie);
        assert_eq!(step.answer(), anonymous(0));
    } else {
        assert_eq!(step.answer(), anonymous(2));
    }

    // 9. Signing out removes the cookie.
    let step = visit(&app, at(Method::POST, "/logout"), Some(&cookie_3)).await;
    let removal = step.cookie();
    assert_eq!(0, removal.max_age().map(|t| t.whole_seconds()).unwrap());
    assert_eq!("/", removal.path().unwrap());

    // 10. What the removal left in the browser (an empty value) is no session.
    let step = visit(&app, index(), Some(&removal)).await;
    if is_invalidation_supported {
        assert!(!step.sets_cookie);
    }
    assert_eq!(step.answer(), anonymous(0));
}

/// What `/`, `/do_something`, `/login` and `/protected/count` answer.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct IndexResponse {
    user_id: Option<String>,
    counter: i32,
}

fn answer(user_id: Option<String>, counter: i32) -> HttpResponse {
    HttpResponse::Ok().json(IndexResponse { user_id, counter })
}

/// The user and counter (0 when absent).
async fn index(session: Session) -> Result<HttpResponse> {
    let counter = session.get("counter")?.unwrap_or(0);
    Ok(answer(session.get("user_id")?, counter))
}

/// Counts up from 0.
async fn do_something(session: Session) -> Result<HttpResponse> {
    let counter = session.get::<i32>("counter")?.map_or(1, |n| n + 1);
    session.insert("counter", counter)?;
    Ok(answer(session.get("user_id")?, counter))
}

/// Like `index`, behind the guard: the counter must be there.
async fn count(session: Session) -> Result<HttpResponse> {
    let counter = session.get("counter")?.expect("a counter behind the guard");
    Ok(answer(session.get("user_id")?, counter))
}

#[derive(Deserialize)]
struct Credentials {
    user_id: String,
}

/// Stores the user and moves the session to a new id.
async fn login(body: web::Json<Credentials>, session: Session) -> Result<HttpResponse> {
    let user_id = body.into_inner().user_id;
    session.insert("user_id", &user_id)?;
    session.renew();
    let counter = session.get("counter")?.unwrap_or(0);
    Ok(answer(Some(user_id), counter))
}

/// Ends a signed-in user's session.
async fn logout(session: Session) -> Result<HttpResponse> {
    Ok(match session.get::<String>("user_id")? {
        Some(user_id) => {
            session.purge();
            HttpResponse::Ok().body(format!("Logged out: {user_id}"))
        }
        None => HttpResponse::Ok().body("Could not log out anonymous user"),
    })
}
