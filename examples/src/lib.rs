//! The routes of `bench-server`, shared with the integration tests so that they exercise the
//! very app the benchmarks measure. See the "bench-server" section of DESIGN.md.

use actix_typed_session::{Flash, LoadSession, Session, SessionData, UserSessionsError};
use actix_web::{web, HttpResponse, ResponseError as _};

/// Mounts the bench-server routes: `/noop`, `/read`, `/counter`, `/typed`, `/set/{key}/{value}`,
/// `/get/{key}`, `/remove/{key}`, `/fill/{kib}`, `/renew`, `/purge`, and what apps build on
/// sessions: `/login/{user}`, `/whoami`, `/logout`, `/sessions`, `/logout-everywhere`, `/remember`, `/flash/{text}`, `/flashes`, `/guarded`. All GET,
/// plain text.
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
            web::scope("/guarded").wrap(LoadSession).route(
                "",
                web::get()
                    .guard(actix_typed_session::guard::signed_in())
                    .to(guarded),
            ),
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
