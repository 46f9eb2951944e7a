//! The bench-server routes on `actix-session` 0.11, the incumbent we measure against.
//!
//! `actix-session` has no typed sessions, so `/typed` is the same counter as `/counter`.

use actix_session::{
    config::{PersistentSession, TtlExtensionPolicy},
    storage::SessionStore,
    Session, SessionMiddleware,
};
use actix_web::{
    cookie::{self, Key},
    web, HttpResponse,
};

use crate::{Args, Refresh};

/// Fixed so that restarts keep sessions valid, like our bench-server's key.
const KEY: [u8; 64] = [7; 64];

type Reply = actix_web::Result<HttpResponse>;

pub(crate) fn text(body: impl Into<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(body.into())
}

/// Mounts the routes; wrap the app in [`middleware`].
///
/// ```
/// use actix_web::{test, App};
///
/// # actix_web::rt::System::new().block_on(async {
/// let args = bench::Args::parse(["--store", "cookie"].map(String::from)).unwrap();
/// let store = actix_session::storage::CookieSessionStore::default();
/// let app = test::init_service(
///     App::new().wrap(bench::incumbent::middleware(store, &args)).configure(bench::incumbent::routes),
/// )
/// .await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/counter").to_request()).await;
/// assert_eq!(test::read_body(res).await, "1");
/// # });
/// ```
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/noop", web::get().to(noop))
        .route("/read", web::get().to(read))
        .route("/counter", web::get().to(counter))
        .route("/typed", web::get().to(counter))
        .route("/set/{key}/{value}", web::get().to(set))
        .route("/get/{key}", web::get().to(get))
        .route("/remove/{key}", web::get().to(remove))
        .route("/fill/{kib}", web::get().to(fill))
        .route("/renew", web::get().to(renew))
        .route("/purge", web::get().to(purge))
        .route("/login/{user}", web::get().to(login))
        .route("/whoami", web::get().to(whoami));
}

/// Signs `user` in with actix-identity (the app must wrap `IdentityMiddleware` inside
/// [`middleware`]).
async fn login(req: actix_web::HttpRequest, user: web::Path<String>) -> Reply {
    use actix_web::HttpMessage as _;
    actix_identity::Identity::login(&req.extensions(), user.into_inner())
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(text("ok"))
}

/// The actix-identity user, or 404 `anonymous`.
async fn whoami(user: Option<actix_identity::Identity>) -> Reply {
    match user.map(|id| id.id()).transpose() {
        Ok(Some(user)) => Ok(text(user)),
        _ => Ok(HttpResponse::NotFound().body("anonymous")),
    }
}

/// `actix-session`'s middleware configured from the command line, with the cookie attributes
/// of our bench-server (no `Secure`: plain HTTP on loopback).
///
/// `--refresh update` maps to its `OnStateChanges`; `access` and `request` both to
/// `OnEveryRequest`, the only other policy it has.
pub fn middleware<S: SessionStore>(store: S, args: &Args) -> SessionMiddleware<S> {
    let policy = match args.refresh {
        Refresh::Update => TtlExtensionPolicy::OnStateChanges,
        _ => TtlExtensionPolicy::OnEveryRequest,
    };
    let builder = SessionMiddleware::builder(store, Key::from(&KEY)).cookie_secure(false);
    match args.ttl {
        Some(ttl) => builder.session_lifecycle(
            PersistentSession::default()
                .session_ttl(cookie::time::Duration::seconds(
                    i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
                ))
                .session_ttl_extension_policy(policy),
        ),
        None => builder,
    }
    .build()
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
    session.insert("blob", crate::blob(*kib))?;
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
