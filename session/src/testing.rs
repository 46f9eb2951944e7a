//! The acceptance suite every store passes: run it on your own store from its tests.
//!
//! Two levels, both async functions that panic with a message naming the broken promise:
//! - [`store_suite`] drives a [`SessionStore`](crate::store::SessionStore) directly: creation, partial loads, change sets,
//!   TTL refresh and expiry, no resurrection, renewal, concurrent changes to different keys;
//! - [`http_suite`] drives a whole [`SessionMiddleware`] through `actix_web::test`, so it also
//!   covers the [`CookieStore`](crate::store::CookieStore), with [`Capabilities`] saying what
//!   the store can promise;
//! - [`deploy_suite`] runs two releases of typed sessions on one middleware: stale values,
//!   versions and removed keys.
//!
//! For your own tests: [`routes`], the routes of the project's `bench-server` (a counter, keys,
//! renew and purge, sign-in, flash messages), and [`suite_routes`], those plus the ones the suite
//! needs; [`serve`] to put routes behind a middleware, [`get`], [`set_cookie`] and [`body`] to drive an `actix_web::test` service;
//! [`session_with`] and [`mint_cookie`] for a handler's unit tests and a ready session cookie.
//!
//! ```no_run
//! # // no_run: the suite waits for real TTLs to pass.
//! use actix_typed_session::{store::MemoryStore, testing, SessionMiddleware};
//!
//! #[actix_web::test]
//! async fn my_store_passes() {
//!     testing::store_suite(&MemoryStore::new(), testing::Capabilities::server_side()).await;
//!     let key = actix_web::cookie::Key::generate();
//!     testing::http_suite(
//!         || SessionMiddleware::new(MemoryStore::new(), key.clone()),
//!         testing::Capabilities::server_side(),
//!     )
//!     .await;
//! }
//! ```

use actix_http::Request;
use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    test, web, App,
};
use tokio::sync::Notify;

mod apps;
mod deploy;
mod http_suite;
mod routes;
mod store_suite;
mod users;

pub use self::{
    apps::{mint_cookie, session_with},
    deploy::deploy_suite,
    http_suite::http_suite,
    routes::{routes, suite_routes},
    store_suite::store_suite,
};
use crate::{Clock, SessionMiddleware};

/// What a store promises, so the suite checks exactly that.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Capabilities {
    /// Two concurrent requests changing different keys of one session both keep their change.
    pub merges_concurrent_changes: bool,
    /// Purge and renew make copies of the old cookie worthless (true for server-side stores).
    pub revocable: bool,
    /// Run the checks that let a TTL pass.
    pub check_expiry: bool,
    /// The store's manual clock, if it has one: the expiry checks advance it instead of
    /// waiting for real time to pass (a few seconds).
    pub clock: Option<Clock>,
    /// The store lists and ends a user's sessions (off in both presets).
    pub lists_user_sessions: bool,
}

impl Capabilities {
    /// Returns what a server-side store with atomic per-key changes has (memory, Redis).
    #[must_use]
    pub fn server_side() -> Self {
        Self {
            merges_concurrent_changes: true,
            revocable: true,
            check_expiry: true,
            clock: None,
            lists_user_sessions: false,
        }
    }

    /// Returns what a client-side store has (the cookie store): whole-session writes,
    /// unrevocable cookies.
    #[must_use]
    pub fn client_side() -> Self {
        Self {
            merges_concurrent_changes: false,
            revocable: false,
            ..Self::server_side()
        }
    }

    /// Sets [`merges_concurrent_changes`](Self::merges_concurrent_changes).
    #[must_use]
    pub fn merges_concurrent_changes(mut self, yes: bool) -> Self {
        self.merges_concurrent_changes = yes;
        self
    }

    /// Sets [`check_expiry`](Self::check_expiry).
    #[must_use]
    pub fn check_expiry(mut self, yes: bool) -> Self {
        self.check_expiry = yes;
        self
    }

    /// Runs the store on this [`Clock::manual`]: time is advanced, not waited for.
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }
}

/// Lines a slow request up with others: it says when it has loaded the session, then waits.
#[derive(Debug, Default)]
struct Gate {
    loaded: Notify,
    go: Notify,
}

/// Returns the `Set-Cookie` of a response, if any.
#[must_use]
pub fn set_cookie<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
    res.response().cookies().next().map(Cookie::into_owned)
}

fn vary<B>(res: &ServiceResponse<B>) -> Option<String> {
    res.headers()
        .get(actix_web::http::header::VARY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Serves `routes` behind `middleware` as an `actix_web::test` service: the app most tests
/// of a session start with. Drive it with [`get`] and read it with [`set_cookie`] and [`body`].
///
/// ```
/// use actix_typed_session::{store::MemoryStore, testing, SessionMiddleware};
/// use actix_web::cookie::Key;
///
/// # actix_web::rt::System::new().block_on(async {
/// let middleware = SessionMiddleware::builder(MemoryStore::new(), Key::generate())
///     .cookie_secure(false)
///     .build();
/// let app = testing::serve(testing::routes, middleware).await;
/// let res = testing::get(&app, "/counter", None).await;
/// let cookie = testing::set_cookie(&res).expect("a new session");
/// assert_eq!(testing::body(res).await, "1");
/// let res = testing::get(&app, "/counter", Some(&cookie)).await;
/// assert_eq!(testing::body(res).await, "2");
/// # });
/// ```
pub async fn serve<F>(
    routes: F,
    middleware: SessionMiddleware,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>
where
    F: FnOnce(&mut web::ServiceConfig),
{
    test::init_service(App::new().wrap(middleware).configure(routes)).await
}

/// Sends `GET uri` to a test service, with `cookie` if given.
pub async fn get<S, B>(app: &S, uri: &str, cookie: Option<&Cookie<'_>>) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(c) = cookie {
        req = req.cookie(c.clone().into_owned());
    }
    test::call_service(app, req.to_request()).await
}

/// Returns the body of a response as text.
///
/// # Panics
/// If the body is not UTF-8.
pub async fn body<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).expect("utf-8 body")
}
