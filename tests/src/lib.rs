//! Test support for the integration tests in `tests/`: real servers started and stopped here,
//! and the model-checked concurrency harness (`harness`).
//!
//! Which test goes where, in the whole workspace:
//! - `session/src/**` unit tests: pure pieces (the commit plan table, cookie parsing and
//!   rendering, seals, ids, store internals that need private access).
//! - `session/tests/`: the library through its public API, in process, with no external
//!   server: middleware promises, cookie store, typed sessions, maximum lifetime, the layout
//!   rule, the file store on temp dirs, and the acceptance suites on the memory, cookie and
//!   file stores.
//! - `tests/tests/` (this crate): stores against real servers and across processes: Redis,
//!   Redis Cluster, PostgreSQL (started by `redis_server` and `postgres_server` here), SQLite,
//!   the file store shared by processes (the helper binaries in `src/bin`), the concurrency
//!   harness on every store with its faults, the cookie fuzz and the session flood; and
//!   actix-session 0.11's own test suite ported through MIGRATING.md (`actix_session_suite`:
//!   its acceptance suite on the memory, cookie and Redis stores).
//! - `examples/tests/`: black-box HTTP against the example binaries, `bench-server` above all
//!   (DESIGN.md's route table is their contract).
//!
//! `session/tests/README.md` lists the in-process tests file by file.
//!
//! Helpers, one set for all: in-process tests mount `actix_typed_session::testing::routes`
//! (bench-server's own routes, so they drive the app the benchmarks measure) and send requests
//! with `testing::{get, set_cookie, body}`; `tests/tests/sql_support` and `redis_support` hold
//! the checks the SQL stores and the two Redis setups share; `examples/tests/support` is the
//! black-box client. Real servers are started by [`redis_server`] and [`postgres_server`] here,
//! and the concurrency harness (with its own routes, which answer whether the store had the
//! session) lives in [`harness`].

pub mod counted;
pub mod harness;
pub mod postgres_server;
pub mod redis_server;
pub mod test_ca;

/// The Rust examples of README.md, compiled and run as doctests (`cargo test --doc`), so they
/// cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The Rust examples of MIGRATING.md, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../MIGRATING.md")]
pub struct MigratingDoctests;
