//! The bench-server routes on `actix-session` 0.11, for side-by-side measurements.
//!
//! Stores: `cookie` (`CookieSessionStore`, encrypted like ours by default) and `redis`
//! (`RedisSessionStore` with its default connection manager). `actix-session` has no memory
//! or file store: those are refused with exit status 2. It has no typed sessions either, so
//! `/typed` is the same counter as `/counter`.

use actix_session::{
    config::{PersistentSession, TtlExtensionPolicy},
    storage::{CookieSessionStore, RedisSessionStore, SessionStore},
    Session, SessionMiddleware,
};
use actix_web::{
    cookie::{self, Key},
    error::ErrorInternalServerError,
    web, App, HttpResponse, HttpServer,
};
use bench::{Args, Refresh, StoreKind};

/// Fixed so that restarts keep sessions valid, like our bench-server's.
const KEY: [u8; 64] = [7; 64];

type Reply = actix_web::Result<HttpResponse>;

fn text(body: impl Into<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(body.into())
}

async fn noop() -> HttpResponse {
    text("ok")
}

async fn read(session: Session) -> Reply {
    let n: i64 = session.get("counter")?.unwrap_or(0);
    Ok(text(n.to_string()))
}

async fn counter(session: Session) -> Reply {
    let n = session.get::<i64>("counter")?.unwrap_or(0) + 1;
    session.insert("counter", n)?;
    Ok(text(n.to_string()))
}

async fn set(session: Session, path: web::Path<(String, String)>) -> Reply {
    let (key, value) = path.into_inner();
    session.insert(key, value)?;
    Ok(text("ok"))
}

async fn get(session: Session, key: web::Path<String>) -> Reply {
    Ok(match session.get::<String>(&key)? {
        Some(value) => text(value),
        None => HttpResponse::NotFound().finish(),
    })
}

async fn remove(session: Session, key: web::Path<String>) -> HttpResponse {
    session.remove(&key);
    text("ok")
}

async fn fill(session: Session, kib: web::Path<usize>) -> Reply {
    session.insert("blob", bench::blob(*kib))?;
    Ok(text("ok"))
}

async fn renew(session: Session) -> HttpResponse {
    session.renew();
    text("ok")
}

async fn purge(session: Session) -> HttpResponse {
    session.purge();
    text("ok")
}

fn middleware<S: SessionStore>(store: S, args: &Args) -> SessionMiddleware<S> {
    // actix-session has two policies; "access" and "request" both map to every request.
    let policy = match args.refresh {
        Refresh::Update => TtlExtensionPolicy::OnStateChanges,
        _ => TtlExtensionPolicy::OnEveryRequest,
    };
    // Plain-HTTP loopback, and the same cookie attributes as our bench-server.
    let builder = SessionMiddleware::builder(store, Key::from(&KEY)).cookie_secure(false);
    match args.ttl {
        Some(ttl) => builder.session_lifecycle(
            PersistentSession::default()
                .session_ttl(cookie::time::Duration::seconds(ttl.as_secs() as i64))
                .session_ttl_extension_policy(policy),
        ),
        None => builder,
    }
    .build()
}

async fn serve<S, F>(args: Args, make_store: F) -> std::io::Result<()>
where
    S: SessionStore + 'static,
    F: Fn() -> S + Clone + Send + 'static,
{
    let app_args = args.clone();
    HttpServer::new(move || {
        App::new()
            .wrap(middleware(make_store(), &app_args))
            .route("/noop", web::get().to(noop))
            .route("/read", web::get().to(read))
            .route("/counter", web::get().to(counter))
            .route("/typed", web::get().to(counter))
            .route("/set/{key}/{value}", web::get().to(set))
            .route("/get/{key}", web::get().to(get))
            .route("/remove/{key}", web::get().to(remove))
            .route("/fill/{kib}", web::get().to(fill))
            .route("/renew", web::get().to(renew))
            .route("/purge", web::get().to(purge))
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
                .map_err(|err| std::io::Error::other(ErrorInternalServerError(err).to_string()))?;
            serve(args, move || store.clone()).await
        }
        other => {
            eprintln!("error: actix-session 0.11 has no {other} store");
            std::process::exit(2)
        }
    }
}
