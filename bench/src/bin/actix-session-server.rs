//! The bench-server routes on `actix-session` 0.11 (see `bench::incumbent`), for side-by-side
//! measurements.
//!
//! Stores: `cookie` (`CookieSessionStore`, encrypted like ours by default) and `redis`
//! (`RedisSessionStore` with its default connection manager). `actix-session` has no memory
//! or file store: those are refused with exit status 2.

use actix_session::storage::{CookieSessionStore, RedisSessionStore, SessionStore};
use actix_web::{App, HttpServer};
use bench::{incumbent, Args, StoreKind};

async fn serve<S, F>(args: Args, make_store: F) -> std::io::Result<()>
where
    S: SessionStore + 'static,
    F: Fn() -> S + Clone + Send + 'static,
{
    let app_args = args.clone();
    HttpServer::new(move || {
        App::new()
            .wrap(actix_identity::IdentityMiddleware::default())
            .wrap(incumbent::middleware(make_store(), &app_args))
            .configure(incumbent::routes)
    })
    .workers(args.workers)
    .bind(("127.0.0.1", args.port))?
    .run()
    .await
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    match args.store {
        StoreKind::Cookie => serve(args, CookieSessionStore::default).await,
        StoreKind::Redis => {
            let store = RedisSessionStore::new(args.redis.clone())
                .await
                .map_err(|err| {
                    std::io::Error::other(format!("redis at {}: {err:#}", args.redis))
                })?;
            serve(args, move || store.clone()).await
        }
        other => {
            eprintln!("error: actix-session 0.11 has no {other} store");
            std::process::exit(2)
        }
    }
}
