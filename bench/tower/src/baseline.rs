//! The bench-server routes on plain axum without sessions: the ceiling for tower-sessions.
//!
//! Every route answers as it would for an empty session that is never kept: `/read` answers 0,
//! `/counter` and `/typed` 1, `/get/{key}` 404, the writers `ok`.

use axum::{extract::Path, response::Response, routing::get, Router};

use crate::{not_found, text};

/// The routes.
///
/// ```
/// use tower::ServiceExt as _;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let req = axum::http::Request::get("/read").body(axum::body::Body::empty()).unwrap();
/// let res = bench_tower::baseline::routes().oneshot(req).await.unwrap();
/// let body = axum::body::to_bytes(res.into_body(), 64).await.unwrap();
/// assert_eq!(body, "0");
/// # });
/// ```
pub fn routes() -> Router {
    Router::new()
        .route("/noop", get(ok))
        .route("/read", get(zero))
        .route("/counter", get(one))
        .route("/typed", get(one))
        .route("/set/{key}/{value}", get(ok))
        .route("/get/{key}", get(not_found_route))
        .route("/remove/{key}", get(ok))
        .route("/fill/{kib}", get(fill))
        .route("/renew", get(ok))
        .route("/purge", get(ok))
}

async fn ok() -> Response {
    text("ok")
}

async fn zero() -> Response {
    text("0")
}

async fn one() -> Response {
    text("1")
}

async fn not_found_route() -> Response {
    not_found()
}

async fn fill(Path(kib): Path<usize>) -> Response {
    // Build the value as the session servers do, then drop it: no session keeps it.
    drop(crate::blob(kib));
    text("ok")
}
