//! The routes of `bench-server` (the route table of the "bench-server" section of DESIGN.md),
//! shared with the HTTP acceptance suite and the integration tests so that they exercise the very
//! app the benchmarks measure, and [`suite_routes`]: those plus the few that only tests need.

use actix_web::{web, HttpResponse, ResponseError as _};
use tokio::sync::Barrier;

use super::Gate;
use crate::{Flash, LoadSession, Session, SessionData, UserSessionsError};

/// Mounts the routes of `bench-server`, as DESIGN.md's route table defines them (all GET, plain
/// text): `/noop`, `/read`, `/counter`, `/typed`, `/set/{key}/{value}`, `/get/{key}` (404
/// `absent` when absent), `/remove/{key}`, `/fill/{kib}`, `/renew`, `/purge`, and what apps build
/// on sessions: `/login/{user}`, `/whoami`, `/logout`, `/sessions`, `/logout-everywhere`,
/// `/remember`, `/flash/{text}`, `/flashes`, `/guarded`.
///
/// ```
/// use actix_web::cookie::Key;
/// use actix_typed_session::{store::MemoryStore, testing, SessionMiddleware};
///
/// # actix_web::rt::System::new().block_on(async {
/// let middleware = SessionMiddleware::new(MemoryStore::new(), Key::generate());
/// let app = testing::serve(testing::routes, middleware).await;
/// let res = testing::get(&app, "/counter", None).await;
/// let cookie = testing::set_cookie(&res).expect("a new session");
/// let res = testing::get(&app, "/typed", Some(&cookie)).await;
/// assert_eq!(testing::body(res).await, "2");
/// # });
/// ```
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/noop", web::get().to(noop))
        .route("/read", web::get().to(read))
        .route("/counter", web::get().to(counter))
        .route("/typed", web::get().to(typed))
        .route("/set/{key}/{value}", web::get().to(set))
        .route("/get/{key}", web::get().to(get))
        .route("/remove/{key}", web::get().to(remove))
        .route("/fill/{kib}", web::get().to(fill))
        .route("/renew", web::get().to(renew))
        .route("/purge", web::get().to(purge))
        .route("/login/{user}", web::get().to(login))
        .route("/whoami", web::get().to(whoami))
        .route("/logout", web::get().to(logout))
        .route("/sessions", web::get().to(sessions))
        .route("/logout-everywhere", web::get().to(logout_everywhere))
        .route("/remember", web::get().to(remember))
        .route("/flash/{text}", web::get().to(flash))
        .route("/flashes", web::get().to(flashes))
        // Only this scope loads the session before routing, so its guard can read it.
        .service(
            web::scope("/guarded")
                .wrap(LoadSession)
                .route("", web::get().guard(crate::guard::signed_in()).to(guarded)),
        );
}

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
    Ok(text(
        session.get::<u64>("counter")?.unwrap_or(0).to_string(),
    ))
}

async fn counter(session: Session) -> Reply {
    let n = session.update_or("counter", 1u64, |n| n + 1)?;
    Ok(text(n.to_string()))
}

/// `/typed`'s view of the session: the very `counter` key of `/counter`, through a derived
/// accessor, so the two routes measure the same work with and without the derive.
#[derive(SessionData)]
#[session(crate = "crate")]
struct Counter {
    #[session(default)]
    counter: u64,
}

async fn typed(counter: CounterSession) -> Reply {
    let n = counter.update_counter(|n| n + 1)?;
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
        None => HttpResponse::NotFound().body("absent"),
    })
}

async fn remove(session: Session, key: web::Path<String>) -> Reply {
    session.remove(&key)?;
    Ok(text("ok"))
}

/// Largest `/fill` accepted, so a stray request cannot make the server allocate gigabytes.
const MAX_FILL_KIB: usize = 16 * 1024;

async fn fill(session: Session, kib: web::Path<usize>) -> Reply {
    let kib = kib.into_inner();
    if kib > MAX_FILL_KIB {
        return Ok(HttpResponse::BadRequest().body(format!("at most {MAX_FILL_KIB} KiB")));
    }
    session.insert("blob", "x".repeat(kib * 1024))?;
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

async fn login(session: Session, user: web::Path<String>) -> Reply {
    session.sign_in(user.into_inner())?;
    Ok(text("ok"))
}

fn anonymous() -> HttpResponse {
    HttpResponse::NotFound().body("anonymous")
}

async fn whoami(session: Session) -> Reply {
    Ok(match session.user()? {
        Some(user) => text(user),
        None => anonymous(),
    })
}

async fn logout(session: Session) -> HttpResponse {
    session.sign_out();
    text("ok")
}

/// 404 when anonymous; 501 where the store cannot list sessions (the cookie store).
fn user_sessions_error(err: &UserSessionsError) -> HttpResponse {
    match err {
        UserSessionsError::NotSignedIn => anonymous(),
        err => err.error_response(),
    }
}

async fn sessions(session: Session) -> HttpResponse {
    match session.user_sessions().await {
        Ok(rows) => text(rows.len().to_string()),
        Err(err) => user_sessions_error(&err),
    }
}

async fn logout_everywhere(session: Session) -> HttpResponse {
    match session.sign_out_everywhere().await {
        Ok(_) => text("ok"),
        Err(err) => user_sessions_error(&err),
    }
}

/// "Remember me": this session's TTL becomes 30 days, and its cookie persistent.
async fn remember(session: Session) -> HttpResponse {
    session.set_ttl(std::time::Duration::from_secs(30 * 24 * 3600));
    text("ok")
}

async fn flash(flash: Flash, message: web::Path<String>) -> Reply {
    flash.info(message.into_inner())?;
    Ok(text("ok"))
}

/// The queued messages, one a line, oldest first; each is shown once.
async fn flashes(flash: Flash) -> Reply {
    let lines: Vec<String> = flash
        .take::<String>()?
        .into_iter()
        .map(|m| m.message)
        .collect();
    Ok(text(lines.join("\n")))
}

/// Reached only when the guard saw a signed-in user; 404 otherwise (no route matches).
async fn guarded() -> HttpResponse {
    text("in")
}

/// Returns the routes [`http_suite`](super::http_suite) drives: [`routes`] plus `/clear`;
/// `/purge-then-set` (purges, then sets `flash` to `bye`); `/slow-set/{key}/{value}` (waits on a
/// `web::Data<tokio::sync::Barrier>` before setting, to line up concurrent requests);
/// `/slow-renew` (used by the suite only: once loaded, waits for the suite's go-ahead, then renews
/// and sets `late`). All GET.
pub fn suite_routes(cfg: &mut web::ServiceConfig) {
    routes(cfg);
    cfg.route("/clear", web::get().to(clear))
        .route("/purge-then-set", web::get().to(purge_then_set))
        .route("/slow-set/{key}/{value}", web::get().to(slow_set))
        .route("/slow-renew", web::get().to(slow_renew));
}

async fn clear(session: Session) -> HttpResponse {
    session.clear();
    text("ok")
}

async fn purge_then_set(session: Session) -> Reply {
    session.purge();
    session.insert("flash", "bye")?;
    Ok(text("ok"))
}

async fn slow_set(
    session: Session,
    path: web::Path<(String, String)>,
    barrier: web::Data<Barrier>,
) -> Reply {
    // Both requests have loaded the session before either writes.
    barrier.wait().await;
    set(session, path).await
}

async fn slow_renew(session: Session, gate: web::Data<Gate>) -> Reply {
    gate.loaded.notify_one();
    gate.go.notified().await;
    session.renew();
    session.insert("late", "renewed")?;
    Ok(text("ok"))
}
