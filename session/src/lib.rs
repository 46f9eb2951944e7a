//! Typed, lazy sessions for actix-web.
//!
//! [`SessionMiddleware`] gives every request a [`Session`]; a handler takes `session: Session`
//! and reads and writes serde values. Sessions load lazily: the middleware never calls the
//! store, the first extraction does, so handlers that do not use the session cost nothing.
//! After the handler, only the keys that changed are written.
//!
//! # Quick start
//! ```no_run
//! use actix_web::{cookie::Key, get, App, HttpServer, Responder};
//! use actix_typed_session::{store::MemoryStore, Session, SessionMiddleware};
//!
//! #[get("/")]
//! async fn counter(session: Session) -> actix_web::Result<impl Responder> {
//!     let n = session.update_or("counter", 1u64, |n| n + 1)?;
//!     Ok(format!("{n}"))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let key = Key::generate(); // load a fixed key in production
//!     let store = MemoryStore::new();
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(SessionMiddleware::new(store.clone(), key.clone()))
//!             .service(counter)
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
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
//! [`SessionData`] lists what is generated and how absent and mistyped values read.
//!
//! # What apps build on sessions
//! - Sign-in and a user's sessions: [`Session::sign_in`] (a new id, the user bound and listed),
//!   [`Session::user_sessions`], [`Session::sign_out_everywhere`]; admin code uses the
//!   [`store::SessionStore`] user methods directly.
//! - "Remember me": [`Session::set_ttl`] makes that session's cookie persistent.
//! - Flash messages: the [`Flash`] extractor.
//! - Guards that read the session: [`LoadSession`] before routing, then [`guard::signed_in`] or
//!   your own `guard::fn_guard`.
//! - Your app's tests: `testing::session_with` and `testing::mint_cookie` (feature `testing`).
//!
//! # Writing your own store
//! Implement [`store::SessionStore`]; its module docs hold the contract and a complete example.
//!
//! # Where things live
//! The source follows a request through the middleware, one file per step:
//!
//! | step | file |
//! |---|---|
//! | 1. the middleware leaves a lazy slot in the request, reading nothing | `middleware.rs`, `session/extract.rs` |
//! | 2. the first extraction finds and verifies the cookie, then loads the session once | `cookie.rs` (wire format, `cookie/seal.rs`, `cookie/verified.rs`), `session/load.rs` |
//! | 3. the handler reads and writes keys | `session.rs` (the handle), `session/state.rs` (what changed), `typed.rs` |
//! | 4. after the handler, a pure plan says what the store needs, then it is carried out | `session/commit.rs` |
//! | 5. the cookie is set or removed | `cookie.rs` (rendering), `middleware.rs` |
//!
//! Beside them: `config.rs` (settings), `clock.rs` (time), `error.rs`, `id.rs`, `store/` (one
//! file or directory per store) and `testing.rs` (the acceptance suites). Dependencies point
//! one way: `middleware` uses `session` and `cookie`; `session` uses `cookie` and `store`;
//! nothing uses `middleware`, and `cookie` uses neither `session` nor `store`
//! (`tests/layout.rs` checks this).
#![forbid(unsafe_code)]
// docs.rs only (see Cargo.toml): badges naming the feature behind each gated item.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod config;
mod cookie;
mod error;
mod flash;
pub mod guard;
mod id;
mod log;
mod middleware;
mod session;
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
pub use config::{CookieLifecycle, Transport, TtlRefresh};
pub use error::{BoxError, SaveError, SessionError, StoreError};
pub use flash::{Flash, FlashLevel, FlashMessage, FLASH_KEY};
pub use guard::{LoadSession, LoadSessionService};
pub use id::{InvalidSessionId, SessionId};
pub use middleware::{SessionMiddleware, SessionMiddlewareBuilder, SessionStorage};
pub use session::{Session, SessionExt, SessionStatus, UserSessionsError};
pub use transport::MAX_HEADER_TOKEN_BYTES;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
