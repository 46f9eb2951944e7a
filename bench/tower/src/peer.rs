//! The bench-server routes on tower-sessions 0.14, the peer we measure against on axum.
//!
//! tower-sessions has no typed sessions, so `/typed` is the same counter as `/counter` (as on
//! `bench`'s actix-session server).

use axum::{
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use tower_sessions::{
    cookie::{time, Key},
    session, Expiry, Session, SessionManagerLayer, SessionStore,
};

use crate::{not_found, text, Args};
use bench_common::Refresh;

/// Fixed so that restarts keep sessions valid, like our bench-server's key (and the same bytes
/// as `bench`'s actix-session server).
const KEY: [u8; 64] = [7; 64];

/// A store failure (or a value that does not deserialize): 500, as on the other servers.
struct Failure(session::Error);

impl From<session::Error> for Failure {
    fn from(err: session::Error) -> Self {
        Self(err)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.0.to_string()).into_response()
    }
}

type Reply = Result<Response, Failure>;

/// The routes behind tower-sessions' middleware on `store`, configured from the command line
/// with the cookie attributes of our bench-server: the session id signed (HMAC) in a cookie
/// named `id`, `HttpOnly`, no `Secure` (plain HTTP on loopback).
///
/// `--ttl` is an inactivity expiry (a persistent cookie). `--refresh update` is tower-sessions'
/// default (save when changed); `access` and `request` both map to `with_always_save(true)`,
/// the only other policy it has.
///
/// ```
/// use tower::ServiceExt as _;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let args = bench_tower::Args::parse(["--store", "memory"].map(String::from)).unwrap();
/// let app = bench_tower::peer::routes(tower_sessions::MemoryStore::default(), &args);
/// let req = axum::http::Request::get("/counter").body(axum::body::Body::empty()).unwrap();
/// let res = app.oneshot(req).await.unwrap();
/// assert!(res.headers().contains_key("set-cookie"));
/// let body = axum::body::to_bytes(res.into_body(), 64).await.unwrap();
/// assert_eq!(body, "1");
/// # });
/// ```
pub fn routes<S: SessionStore + Clone>(store: S, args: &Args) -> Router {
    let mut layer = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_always_save(args.refresh != Refresh::Update);
    if let Some(ttl) = args.ttl {
        let secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        layer = layer.with_expiry(Expiry::OnInactivity(time::Duration::seconds(secs)));
    }
    Router::new()
        .route("/noop", get(noop))
        .route("/read", get(read))
        .route("/counter", get(counter))
        .route("/typed", get(counter))
        .route("/set/{key}/{value}", get(set))
        .route("/get/{key}", get(get_key))
        .route("/remove/{key}", get(remove))
        .route("/fill/{kib}", get(fill))
        .route("/renew", get(renew))
        .route("/purge", get(purge))
        .layer(layer.with_signed(Key::from(&KEY)))
}

async fn noop() -> Response {
    text("ok")
}

async fn read(session: Session) -> Reply {
    let n: i64 = session.get("counter").await?.unwrap_or(0);
    Ok(text(n.to_string()))
}

async fn counter(session: Session) -> Reply {
    let n = session.get::<i64>("counter").await?.unwrap_or(0) + 1;
    session.insert("counter", n).await?;
    Ok(text(n.to_string()))
}

async fn set(session: Session, Path((key, value)): Path<(String, String)>) -> Reply {
    session.insert(&key, value).await?;
    Ok(text("ok"))
}

async fn get_key(session: Session, Path(key): Path<String>) -> Reply {
    Ok(match session.get::<String>(&key).await? {
        Some(value) => text(value),
        None => not_found(),
    })
}

async fn remove(session: Session, Path(key): Path<String>) -> Reply {
    session.remove_value(&key).await?;
    Ok(text("ok"))
}

async fn fill(session: Session, Path(kib): Path<usize>) -> Reply {
    session.insert("blob", crate::blob(kib)).await?;
    Ok(text("ok"))
}

async fn renew(session: Session) -> Reply {
    session.cycle_id().await?;
    Ok(text("ok"))
}

async fn purge(session: Session) -> Reply {
    session.flush().await?;
    Ok(text("ok"))
}
