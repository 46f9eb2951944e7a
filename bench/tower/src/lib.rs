//! The bench-server routes on axum 0.8, the peers of `bench`'s actix-web servers:
//! - `tower-sessions-server`: the routes on tower-sessions 0.14 ([`peer`]), with its memory
//!   store, Redis (tower-sessions-redis-store, on fred) and SQLite and PostgreSQL
//!   (tower-sessions-sqlx-store); it has no cookie or file store;
//! - `axum-baseline-server`: the routes on plain axum without any session ([`baseline`]), the
//!   ceiling for tower-sessions as `bench`'s `baseline-server` is for the actix-web servers.
//!
//! Both take the command line of our `bench-server` ([`Args`]), so `scripts/bench` drives them
//! like the others.

pub mod baseline;
pub mod peer;

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
pub use bench_common::{blob, Args};

/// A 200 plain-text answer, as every bench server gives.
fn text(body: impl Into<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// A tokio runtime with `--workers` worker threads (the axum counterpart of actix-web's
/// workers: every server of a row gets the same number of threads serving requests).
///
/// ```
/// let args = bench_tower::Args::parse(["--store", "memory", "--workers", "2"].map(String::from)).unwrap();
/// let runtime = bench_tower::runtime(&args)?;
/// assert_eq!(runtime.metrics().num_workers(), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// When the runtime cannot be built (threads cannot be spawned).
pub fn runtime(args: &Args) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .enable_all()
        .build()
}

/// Serves `app` on 127.0.0.1 at `--port` until the process ends (call it inside
/// [`runtime`]).
///
/// # Errors
/// When the port cannot be bound, or accepting fails.
pub async fn serve(args: &Args, app: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    axum::serve(listener, app).await
}
