//! The bench-server routes on plain actix-web without sessions: the ceiling for the others.
//!
//! Every route answers as it would for an empty session that is never kept: `/read` answers 0,
//! `/counter` and `/typed` 1, `/get/{key}` 404, the writers `ok`.

use actix_web::{web, HttpResponse};

use crate::incumbent::text;

/// Mounts the routes.
///
/// ```
/// use actix_web::{test, App};
///
/// # actix_web::rt::System::new().block_on(async {
/// let app = test::init_service(App::new().configure(bench::baseline::routes)).await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/read").to_request()).await;
/// assert_eq!(test::read_body(res).await, "0");
/// # });
/// ```
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/noop", web::get().to(ok))
        .route("/read", web::get().to(zero))
        .route("/counter", web::get().to(one))
        .route("/typed", web::get().to(one))
        .route("/set/{key}/{value}", web::get().to(ok))
        .route("/get/{key}", web::get().to(not_found))
        .route("/remove/{key}", web::get().to(ok))
        .route("/fill/{kib}", web::get().to(fill))
        .route("/renew", web::get().to(ok))
        .route("/purge", web::get().to(ok));
}

async fn ok() -> HttpResponse {
    text("ok")
}

async fn zero() -> HttpResponse {
    text("0")
}

async fn one() -> HttpResponse {
    text("1")
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().finish()
}

async fn fill(kib: web::Path<usize>) -> HttpResponse {
    // Build the value as the session servers do, then drop it: no session keeps it.
    drop(crate::blob(*kib));
    text("ok")
}
