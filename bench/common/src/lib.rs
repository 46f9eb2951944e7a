//! What every reference server of `scripts/bench` shares, whatever its framework: the command
//! line of our `bench-server` (see DESIGN.md, "bench-server") and the value `/fill/{kib}`
//! stores. A crate of its own so that the axum servers use it without compiling actix-web.

mod cli;
mod fill;

pub use cli::{Args, CliError, Refresh, StoreKind};
pub use fill::blob;
