//! Reference servers for `scripts/bench`, kept in a workspace of their own so that the main
//! workspace never compiles `actix-session`.
//!
//! Both binaries take the command line of our `bench-server` (see DESIGN.md, "bench-server")
//! and serve the same routes on 127.0.0.1, so the script can drive all three the same way:
//! - `actix-session-server`: the routes on `actix-session` 0.11, with its cookie and Redis
//!   stores (it has no memory, file, SQLite or PostgreSQL store);
//! - `baseline-server`: the routes on plain actix-web without any session, the ceiling a
//!   session library can approach.
//!
//! The axum servers (tower-sessions and bare axum) are the workspace's `tower` package.

pub mod baseline;
pub mod incumbent;

pub use bench_common::{blob, Args, CliError, Refresh, StoreKind};
