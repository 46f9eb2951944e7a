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
//!   harness on every store with its faults, the cookie fuzz and the session flood.
//! - `examples/tests/`: black-box HTTP against the example binaries, `bench-server` above all
//!   (DESIGN.md's route table is their contract).

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
