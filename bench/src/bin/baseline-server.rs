//! The bench-server routes on plain actix-web, without sessions (see `bench::baseline`).
//! `--store` and the other session options are accepted and ignored, so the script starts it
//! like the other servers.

use actix_web::{App, HttpServer};
use bench::Args;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    HttpServer::new(|| App::new().configure(bench::baseline::routes))
        .workers(args.workers)
        .bind(("127.0.0.1", args.port))?
        .run()
        .await
}
