//! The bench-server routes on plain actix-web, without sessions: the ceiling for the others.
//!
//! Every route answers as it would for an empty session that is never kept: `/read` answers 0,
//! `/counter` and `/typed` 1, `/get/{key}` 404, the writers `ok`. `--store` and the other
//! session options are accepted and ignored, so the script starts it like the other servers.

use actix_web::{web, App, HttpResponse, HttpServer};
use bench::Args;

fn text(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(body)
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
    // Build the value as the session servers do, then drop it: no session to keep it in.
    drop(bench::blob(*kib));
    text("ok")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    HttpServer::new(|| {
        App::new()
            .route("/noop", web::get().to(ok))
            .route("/read", web::get().to(zero))
            .route("/counter", web::get().to(one))
            .route("/typed", web::get().to(one))
            .route("/set/{key}/{value}", web::get().to(ok))
            .route("/get/{key}", web::get().to(not_found))
            .route("/remove/{key}", web::get().to(ok))
            .route("/fill/{kib}", web::get().to(fill))
            .route("/renew", web::get().to(ok))
            .route("/purge", web::get().to(ok))
    })
    .workers(args.workers)
    .bind(("127.0.0.1", args.port))?
    .run()
    .await
}
