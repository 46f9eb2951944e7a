//! actix-session 0.11's own test suite, ported test by test and translated to this library the
//! way MIGRATING.md tells an actix-session user to translate: every test keeps its name and
//! what it asserts. A test where this library behaves differently on purpose asserts our
//! behaviour, says `// Deliberate difference: <reason>`, and is listed in MIGRATING.md
//! ("Behaviour differences from actix-session's own tests").
//!
//! - `session`: its `tests/session.rs` (a request's session without the middleware);
//! - `middleware`: its `tests/middleware.rs` (the cookie's attributes);
//! - `opaque_errors`: its `tests/opaque_errors.rs` (a failing store answers an opaque 500);
//! - `acceptance`: the acceptance suite its stores run, on our memory, cookie and Redis
//!   stores;
//! - `storage`: its stores' own tests (cookie and Redis).

mod acceptance;
mod middleware;
mod opaque_errors;
mod session;
mod storage;
