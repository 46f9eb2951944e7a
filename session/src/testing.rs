//! The acceptance suite every store passes: run it on your own store from its tests.
//!
//! Two levels, both async functions that panic with a message naming the broken promise:
//! - [`store_suite`] drives a [`SessionStore`](crate::store::SessionStore) directly: creation, partial loads, change sets,
//!   TTL refresh and expiry, no resurrection, renewal, concurrent changes to different keys;
//! - [`http_suite`] drives a whole [`SessionMiddleware`](crate::SessionMiddleware) through `actix_web::test`, so it also
//!   covers the [`CookieStore`](crate::store::CookieStore), with [`Capabilities`] saying what
//!   the store can promise.
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
    test, web, HttpResponse,
};
use tokio::sync::{Barrier, Notify};

mod apps;
mod http_suite;
mod store_suite;
mod users;

pub use self::{
    apps::{mint_cookie, session_with},
    http_suite::http_suite,
    store_suite::store_suite,
};
use crate::{Clock, Session};

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
    /// A server-side store with atomic per-key changes (memory, Redis).
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

    /// A client-side store (the cookie store): whole-session writes, unrevocable cookies.
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

    /// The store runs on this [`Clock::manual`]: time is advanced, not waited for.
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

/// The routes [`http_suite`] drives, for your own tests too (all GET): `/noop`; `/read` (the
/// `u64` under `counter`, 0 if absent); `/counter` (increments it); `/set/{k}/{v}`;
/// `/get/{k}` (404 if absent); `/remove/{k}`; `/clear`; `/renew`; `/purge`;
/// `/purge-then-set` (purges, then sets `flash`); `/slow-set/{k}/{v}` (waits on a
/// `web::Data<tokio::sync::Barrier>` before setting, to line up concurrent requests);
/// `/slow-renew` (used by [`http_suite`] only: once loaded, waits for the suite's go-ahead, then
/// renews and sets `late`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    async fn read(s: Session) -> actix_web::Result<HttpResponse> {
        Ok(HttpResponse::Ok().body(s.get::<u64>("counter")?.unwrap_or(0).to_string()))
    }
    async fn counter(s: Session) -> actix_web::Result<HttpResponse> {
        Ok(HttpResponse::Ok().body(s.update_or("counter", 1u64, |n| n + 1)?.to_string()))
    }
    async fn set(s: Session, p: web::Path<(String, String)>) -> actix_web::Result<HttpResponse> {
        let (k, v) = p.into_inner();
        s.insert(k, v)?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn slow_set(
        s: Session,
        p: web::Path<(String, String)>,
        barrier: web::Data<Barrier>,
    ) -> actix_web::Result<HttpResponse> {
        // Both requests have loaded the session before either writes.
        barrier.wait().await;
        set(s, p).await
    }
    async fn slow_renew(s: Session, gate: web::Data<Gate>) -> actix_web::Result<HttpResponse> {
        gate.loaded.notify_one();
        gate.go.notified().await;
        s.renew();
        s.insert("late", "renewed")?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn get_key(s: Session, k: web::Path<String>) -> actix_web::Result<HttpResponse> {
        Ok(match s.get::<String>(&k)? {
            Some(v) => HttpResponse::Ok().body(v),
            None => HttpResponse::NotFound().finish(),
        })
    }
    async fn remove(s: Session, k: web::Path<String>) -> actix_web::Result<HttpResponse> {
        s.remove(&k)?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn purge_then_set(s: Session) -> actix_web::Result<HttpResponse> {
        s.purge();
        s.insert("flash", "bye")?;
        Ok(HttpResponse::Ok().finish())
    }
    cfg.route("/noop", web::get().to(HttpResponse::Ok))
        .route("/read", web::get().to(read))
        .route("/counter", web::get().to(counter))
        .route("/set/{k}/{v}", web::get().to(set))
        .route("/slow-set/{k}/{v}", web::get().to(slow_set))
        .route("/slow-renew", web::get().to(slow_renew))
        .route("/get/{k}", web::get().to(get_key))
        .route("/remove/{k}", web::get().to(remove))
        .route(
            "/clear",
            web::get().to(|s: Session| async move {
                s.clear();
                HttpResponse::Ok().finish()
            }),
        )
        .route(
            "/renew",
            web::get().to(|s: Session| async move {
                s.renew();
                HttpResponse::Ok().finish()
            }),
        )
        .route(
            "/purge",
            web::get().to(|s: Session| async move {
                s.purge();
                HttpResponse::Ok().finish()
            }),
        )
        .route("/purge-then-set", web::get().to(purge_then_set));
}

/// The `Set-Cookie` of a response, if any.
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

/// Sends `GET uri` to a test service, with `cookie` if given.
pub async fn get<S, B>(app: &S, uri: &str, cookie: Option<Cookie<'static>>) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(c) = cookie {
        req = req.cookie(c);
    }
    test::call_service(app, req.to_request()).await
}

/// The body of a response as text.
///
/// # Panics
/// If the body is not UTF-8.
pub async fn body<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).expect("utf-8 body")
}
