//! Typed, lazy sessions for actix-web.
//!
//! [`SessionMiddleware`] gives every request a [`Session`]; a handler takes `session: Session`
//! and reads and writes serde values. Sessions load lazily: the middleware never calls the
//! store, the first extraction does, so handlers that do not use the session cost nothing.
//! After the handler, only the keys that changed are written.
//!
//! # Quick start
//! A whole app: a visit counter (the repository's `examples/src/bin/counter.rs`).
//! ```no_run
//! use actix_typed_session::{key_from_env, store::MemoryStore, Session, SessionMiddleware};
//! use actix_web::{cookie::Key, get, App, HttpServer, Responder};
//!
//! #[get("/")]
//! async fn index(session: Session) -> actix_web::Result<impl Responder> {
//!     let visits: u64 = session.update_or("visits", 1, |n| n + 1)?;
//!     Ok(format!("You have visited this page {visits} time(s).\n"))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     // 64 secret random bytes, base64 or hex (`openssl rand -base64 64`). A new key signs
//!     // everyone out, so production apps must set one; this demo falls back to a key per run.
//!     let key = key_from_env("SESSION_KEY").unwrap_or_else(|err| {
//!         eprintln!("{err}; using a random key for this run");
//!         Key::generate()
//!     });
//!     // One store for the whole server: built outside the closure, which runs once per worker.
//!     let store = MemoryStore::new();
//!     let port: u16 = std::env::var("PORT")
//!         .ok()
//!         .and_then(|p| p.parse().ok())
//!         .unwrap_or(8080);
//!     let server = HttpServer::new(move || {
//!         App::new()
//!             .wrap(
//!                 SessionMiddleware::builder(store.clone(), key.clone())
//!                     // Browsers drop `Secure` cookies sent over plain HTTP (localhost aside):
//!                     // this demo serves plain HTTP. Keep the default (on) behind HTTPS.
//!                     .cookie_secure(false)
//!                     .build(),
//!             )
//!             .service(index)
//!     })
//!     .bind(("127.0.0.1", port))?;
//!     println!("counter listening on http://127.0.0.1:{port}/ (reload to count; Ctrl-C to stop)");
//!     server.run().await
//! }
//! ```
//!
//! # Choosing a store
//! | store | feature | sessions live | concurrent requests on one session |
//! |---|---|---|---|
//! | [`MemoryStore`](store::MemoryStore) | always | in this process | per-key merge |
//! | [`CookieStore`](store::CookieStore) | always | in the browser (encrypted or signed) | last response wins |
//! | `store::RedisStore` | `redis` (`redis-cluster` for a cluster) | in Redis, shared by every process | per-key merge |
//! | `store::FileStore` | `file` | one JSON file each, in a directory shared by the processes of one machine | per-key merge (file locks) |
//! | `store::SqliteStore` | `sqlite` | a row each in an SQLite file (WAL) shared by the processes of one machine | per-key merge (one statement) |
//! | `store::PostgresStore` | `postgres` | a row each in a PostgreSQL table, shared by every process | per-key merge (one statement) |
//!
//! # Header tokens for API clients
//! [`Transport::header`] carries the session token in `X-Session` request and response headers
//! instead of the cookie (or `Authorization: Bearer`, or both): [`Transport`] explains what it
//! answers, what it means for CSRF, XSS and CORS, and shows a JSON API.
//!
//! # Cargo features
//! | feature | default | gives |
//! |---|---|---|
//! | `macros` | yes | `#[derive(SessionData)]` |
//! | `redis` | no | `store::RedisStore` and `store::RedisPool` on redis-rs |
//! | `redis-rustls` | no | `rediss://` URLs: TLS to Redis on rustls, your own CA with `RedisPoolBuilder::tls_root_certificates` |
//! | `deadpool-redis` | no | `RedisPool::from_deadpool_redis`: the Redis store on your deadpool-redis pool |
//! | `redis-cluster` | no | Redis Cluster for the Redis store |
//! | `file` | no | `store::FileStore` (Unix only) |
//! | `sqlite` | no | `store::SqliteStore` on rusqlite (bundled SQLite) |
//! | `postgres` | no | `store::PostgresStore` on sqlx (your `sqlx::PgPool` or a URL) |
//! | `postgres-rustls` | no | TLS to PostgreSQL on rustls: `sslmode=verify-full`, your own CA with `sslrootcert` |
//! | `cookie-compression` | no | `CookieStore::compressed` (read its CRIME/BREACH caveat) |
//! | `metrics` | no | counters, a latency histogram and a gauge through the `metrics` facade (your app installs the exporter): `describe_metrics` |
//! | `testing` | no | `testing`: the acceptance suite for your own store, and helpers for your app's tests |
//!
//! ## Dependency versions
//! The crates whose types appear in this crate's API are re-exported under their feature, so
//! that an app can name the very version this crate uses (`actix_typed_session::sqlx::PgPool`
//! for `PostgresStore::with_pool`). An app that depends on one of them
//! itself must stay within the range below, or cargo builds two versions whose types differ.
//!
//! | crate | versions | feature | re-exported as |
//! |---|---|---|---|
//! | `actix-web` | 4 (4.11 or later) | always | (your app's own) |
//! | `redis` | 1.x | `redis` | `actix_typed_session::redis` |
//! | `deadpool-redis` | 0.23 | `deadpool-redis` | `actix_typed_session::deadpool_redis` |
//! | `sqlx` | 0.9 | `postgres` | `actix_typed_session::sqlx` |
//! | `rusqlite` | 0.43 | `sqlite` | not re-exported: not in the API |
//!
//! SQLite is linked through `libsqlite3-sys`, of which one version only can be in a build (it
//! declares `links = "sqlite3"`). rusqlite 0.43 uses libsqlite3-sys 0.40, and compiles SQLite
//! in (`bundled`); an app using rusqlite itself must be on 0.43, and one using sqlx 0.9's
//! SQLite driver (libsqlite3-sys 0.30.1 up to 0.40) works alongside. Apps on sqlx 0.8's SQLite
//! driver (libsqlite3-sys 0.30) cannot enable `sqlite`.
//!
//! # Typed sessions
//! `#[derive(SessionData)]` (feature `macros`, on by default) turns a plain struct into a typed
//! accessor that handlers take instead of [`Session`]: `CartSession` for `struct Cart`, with a
//! getter, setter, remover and updater per field in the field's own type, and `load`/`save` for
//! the whole struct. Extracting it loads only the struct's own keys.
//!
//! ```
//! use actix_typed_session::SessionData;
//!
//! #[derive(SessionData)]
//! struct Counter {
//!     #[session(default)] // absent reads as 0
//!     count: u64,
//! }
//!
//! #[actix_web::get("/")]
//! async fn index(counter: CounterSession) -> actix_web::Result<String> {
//!     let n = counter.update_count(|n| n + 1)?;
//!     Ok(format!("{n}"))
//! }
//! ```
//! [`SessionData`] lists what is generated and how absent values read. Sessions outlive
//! deploys: a stored value that no longer decodes as its field's type is dropped and reads as
//! absent by default (or is migrated, or reported, as the field says), never a 500 on every
//! request; `#[session(version = N)]` resets or migrates a whole struct stored by another
//! release, and `#[session(removed = [...])]` clears keys it no longer uses.
//!
//! Outside a request (examples, unit tests), [`Session::detached`] is a working session in
//! memory; [`SessionExt::get_session`] gives one to a request that did not pass through the
//! middleware.
//!
//! # What apps build on sessions
//! - Sign-in and a user's sessions: [`Session::sign_in`] (a new id, the user bound and listed;
//!   another user's data dropped), the [`SignedIn`] extractor (401, or a redirect, for
//!   anonymous requests), [`Session::user_sessions`], [`Session::sign_out_everywhere`]; admin
//!   code uses the [`store::SessionStore`] user methods directly. Keys starting with
//!   `__session` are the library's: the app cannot write them.
//! - "Remember me": [`Session::set_ttl`] makes that session's cookie persistent.
//! - Flash messages: the [`Flash`] extractor.
//! - CSRF protection: the [`Csrf`] middleware and the [`CsrfToken`] extractor (below).
//! - Guards that read the session: [`LoadSession`] before routing, then [`guard::signed_in`] or
//!   your own `guard::fn_guard`.
//! - Your app's tests: [`Session::detached`], and `testing::session_with`,
//!   `testing::mint_cookie` and `testing::deploy_suite` (feature `testing`).
//!
//! # CSRF protection
//! A cookie is an ambient credential: a page on another site can make the browser post a form
//! to yours with the visitor's cookie attached (`SameSite=Lax` stops cross-site subrequests,
//! not a top-level form post, and a forged sign-in needs no cookie at all). [`Csrf`] refuses
//! unsafe requests (POST, PUT, PATCH, DELETE, …) that lack a token of their session, or that
//! say they come from another origin (`Origin`, `Referer`, `Sec-Fetch-Site`). Handlers that
//! render forms take a [`CsrfToken`] and put [`CsrfToken::hidden_input`] in each form; scripts
//! send [`CsrfToken::masked`] in `X-CSRF-Token`. The secret lives in the session (made only
//! when a handler asks for a token), each token is masked afresh, and the secret rotates at
//! [`Session::sign_in`] and sign-out. Safe methods cost nothing.
//!
//! ```
//! use actix_web::{cookie::Key, get, post, App, HttpResponse};
//! use actix_typed_session::{store::MemoryStore, Csrf, CsrfToken, SessionMiddleware};
//!
//! #[get("/")]
//! async fn form(csrf: CsrfToken) -> HttpResponse {
//!     HttpResponse::Ok().content_type("text/html").body(format!(
//!         "<form method=\"post\" action=\"/vote\">{}<button>Vote</button></form>",
//!         csrf.hidden_input()
//!     ))
//! }
//!
//! #[post("/vote")]
//! async fn vote() -> HttpResponse {
//!     HttpResponse::SeeOther().insert_header(("Location", "/")).finish()
//! }
//!
//! let app = App::new()
//!     .service(form)
//!     .service(vote)
//!     .wrap(Csrf::new()) // inside the session middleware
//!     .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate()));
//! ```
//!
//! # Operating it
//! Each session load, commit and store call runs in a `tracing` span (`session.load`,
//! `session.commit`, `session.store`) under the request's, with the store kind, the operation,
//! a count of keys, the outcome and the duration: never an id, a token or a value. The
//! `metrics` feature adds counters of sessions created, renewed, signed in, ended, expired,
//! evicted and refused, store errors, and store-call latency; docs/operating.md in the
//! repository lists them and says what to graph and alert on.
//!
//! # Writing your own store
//! Implement [`store::SessionStore`]; its module docs hold the contract and a complete example.
#![forbid(unsafe_code)]
// docs.rs only (see Cargo.toml): badges naming the feature behind each gated item.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod config;
mod cookie;
mod csrf;
mod epoch;
mod error;
mod flash;
pub mod guard;
mod id;
mod import;
mod key;
mod log;
mod middleware;
mod observe;
mod session;
mod signed_in;
pub mod store;
mod transport;
mod typed;

/// Runtime support for `#[derive(SessionData)]`; not public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "testing")]
    pub use crate::cookie::seal::seal_server_cookie;
    pub use crate::typed::*;
}

/// redis-rs, the client of the Redis store (feature `redis`): [`store::RedisPool::get`] gives
/// connections to run its commands on.
///
/// ```no_run
/// use actix_typed_session::redis;
///
/// # async fn f(pool: actix_typed_session::store::RedisPool) -> Result<(), Box<dyn std::error::Error>> {
/// let mut conn = pool.get().await?;
/// let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
/// # Ok(()) }
/// ```
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis;

/// The deadpool-redis that [`store::RedisPool::from_deadpool_redis`] takes a pool of (feature
/// `deadpool-redis`).
///
/// ```no_run
/// use actix_typed_session::{deadpool_redis, store::RedisPool};
///
/// let theirs = deadpool_redis::Config::from_url("redis://127.0.0.1:6379")
///     .create_pool(Some(deadpool_redis::Runtime::Tokio1))?;
/// let pool = RedisPool::from_deadpool_redis(theirs).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "deadpool-redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "deadpool-redis")))]
pub use deadpool_redis;

/// The sqlx of the PostgreSQL store (feature `postgres`): its `PgPool` is the one
/// [`store::PostgresStore::with_pool`] takes.
///
/// ```
/// use actix_typed_session::{sqlx, store::PostgresStore};
///
/// # actix_web::rt::System::new().block_on(async {
/// let pool = sqlx::PgPool::connect_lazy("postgres://app@localhost/app")?;
/// let store = PostgresStore::with_pool(pool).build()?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use sqlx;

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc = include_str!("typed.md")]
pub use actix_typed_session_macros::SessionData;
pub use clock::Clock;
pub use config::{CookieLifecycle, SignInDevice, Transport, TtlRefresh};
pub use csrf::{Csrf, CsrfBuilder, CsrfRejection, CsrfService, CsrfToken};
pub use error::{BoxError, ConfigError, SaveError, SessionError, StoreError};
pub use flash::{Flash, FlashLevel, FlashMessage, FLASH_KEY};
pub use guard::{LoadSession, LoadSessionService};
pub use id::{InvalidSessionHandle, InvalidSessionId, SessionHandle, SessionId};
pub use import::{ActixSessionImport, IDENTITY_USER_KEY};
pub use key::{key_from_env, KeyError};
pub use middleware::{SessionMiddleware, SessionMiddlewareBuilder, SessionStorage};
#[cfg(feature = "metrics")]
pub use observe::describe_metrics;
pub use session::{Session, SessionExt, SessionStatus, UserSessionsError, CSRF_KEY};
pub use signed_in::{SignedIn, SignedInConfig, SignedInError};
pub use transport::MAX_HEADER_TOKEN_BYTES;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
