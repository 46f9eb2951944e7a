//! The rows of a "your sessions" page: each of the user's sessions with its sign-in time, last
//! use, the `User-Agent` and client address of its sign-in (as `SignInDevice` asks), and an
//! opaque handle that ends it (never the session id, which is a credential).

use actix_typed_session::{
    store::{MemoryStore, SessionStore as _},
    testing::{body, serve, set_cookie},
    Session, SessionHandle, SessionMiddleware, SignInDevice, UserSessionsError,
};
use actix_web::{
    cookie::{Cookie, Key},
    http::StatusCode,
    test::{call_service, TestRequest},
    web, HttpResponse,
};

/// `/login/{user}`, `/whoami`, `/rows` (a line per row: handle, user agent, address, `*` for
/// the current one) and `/end/{handle}` (true or false; 400 for a string that is no handle).
fn routes(cfg: &mut web::ServiceConfig) {
    async fn login(s: Session, user: web::Path<String>) -> actix_web::Result<HttpResponse> {
        s.sign_in(user.into_inner())?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn whoami(s: Session) -> actix_web::Result<HttpResponse> {
        Ok(match s.user()? {
            Some(user) => HttpResponse::Ok().body(user),
            None => HttpResponse::NotFound().finish(),
        })
    }
    async fn rows(s: Session) -> Result<HttpResponse, UserSessionsError> {
        let mut rows = s.user_sessions().await?;
        rows.sort_by(|a, b| a.user_agent.cmp(&b.user_agent));
        let text: Vec<String> = rows
            .iter()
            .map(|r| {
                let current = if r.current { " *" } else { "" };
                let agent = r.user_agent.as_deref().unwrap_or("-");
                let ip = r.ip.as_deref().unwrap_or("-");
                format!("{} {agent} {ip}{current}", r.handle)
            })
            .collect();
        Ok(HttpResponse::Ok().body(text.join("\n")))
    }
    async fn end(s: Session, handle: web::Path<String>) -> actix_web::Result<HttpResponse> {
        let handle: SessionHandle = handle.parse()?;
        let ended = s.end_user_session(&handle).await?;
        Ok(HttpResponse::Ok().body(ended.to_string()))
    }
    cfg.route("/login/{user}", web::get().to(login))
        .route("/whoami", web::get().to(whoami))
        .route("/rows", web::get().to(rows))
        .route("/end/{handle}", web::get().to(end));
}

fn middleware(store: &MemoryStore, device: SignInDevice) -> SessionMiddleware {
    SessionMiddleware::builder(store.clone(), Key::generate())
        .sign_in_device(device)
        .build()
}

/// A sign-in as `user` from a client with `agent` at `peer`, with extra request `headers`.
fn sign_in(user: &str, agent: &str, peer: &str, headers: &[(&str, &str)]) -> TestRequest {
    let mut req = TestRequest::get()
        .uri(&format!("/login/{user}"))
        .insert_header(("user-agent", agent))
        .peer_addr(peer.parse().unwrap());
    for &header in headers {
        req = req.insert_header(header);
    }
    req
}

/// The cookie of a sign-in as `$user` from `$agent` at `$peer`.
macro_rules! signed_in {
    ($app:expr, $user:expr, $agent:expr, $peer:expr) => {
        set_cookie(&call_service(&$app, sign_in($user, $agent, $peer, &[]).to_request()).await)
            .unwrap()
    };
}

fn with(uri: &str, cookie: &Cookie<'static>) -> actix_http::Request {
    TestRequest::get()
        .uri(uri)
        .cookie(cookie.clone())
        .to_request()
}

#[actix_web::test]
async fn rows_carry_the_sign_ins_device_and_end_by_their_handle() {
    let store = MemoryStore::new();
    let app = serve(routes, middleware(&store, SignInDevice::Peer)).await;
    let laptop = signed_in!(app, "ada", "Firefox/140", "192.0.2.7:5000");
    let phone = signed_in!(app, "ada", "Mobile/18", "[2001:db8::1]:443");
    let rows = body(call_service(&app, with("/rows", &laptop)).await).await;
    let rows: Vec<Vec<&str>> = rows.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][1..], ["Firefox/140", "192.0.2.7", "*"]);
    assert_eq!(rows[1][1..], ["Mobile/18", "2001:db8::1"]);

    // The handles are no session ids, and no id appears on the page.
    let ids: Vec<String> = store
        .user_sessions("ada")
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.id.to_string())
        .collect();
    for row in &rows {
        assert!(!ids.iter().any(|id| id == row[0]));
    }
    for cookie in [&laptop, &phone] {
        assert!(!rows.iter().any(|row| cookie.value().contains(row[0])));
    }

    // A string that is no handle is a 400; another user's (or an unknown) handle ends nothing.
    let res = call_service(&app, with("/end/not-a-handle", &laptop)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let grace = signed_in!(app, "grace", "Edge", "192.0.2.9:1");
    let graces = body(call_service(&app, with("/rows", &grace)).await).await;
    let graces = graces.split(' ').next().unwrap().to_owned();
    let res = call_service(&app, with(&format!("/end/{graces}"), &laptop)).await;
    assert_eq!(body(res).await, "false");
    assert_eq!(
        body(call_service(&app, with("/whoami", &grace)).await).await,
        "grace"
    );

    // The phone's row, ended from the laptop, by its handle.
    let res = call_service(&app, with(&format!("/end/{}", rows[1][0]), &laptop)).await;
    assert_eq!(body(res).await, "true");
    let res = call_service(&app, with("/whoami", &phone)).await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the phone is signed out"
    );
    let res = call_service(&app, with("/whoami", &laptop)).await;
    assert_eq!(body(res).await, "ada");
    let res = call_service(&app, with(&format!("/end/{}", rows[1][0]), &laptop)).await;
    assert_eq!(body(res).await, "false", "already ended");
}

#[actix_web::test]
async fn the_device_is_the_forwarded_client_when_asked_and_nothing_when_off() {
    let forwarded = [("x-forwarded-for", "203.0.113.9, 10.0.0.1")];
    let long = "A".repeat(1000);
    for (device, agent, expected) in [
        (
            SignInDevice::ForwardedFor,
            "Safari",
            "Safari 203.0.113.9 *".to_owned(),
        ),
        (SignInDevice::Peer, "Safari", "Safari 10.1.1.1 *".to_owned()),
        (SignInDevice::Off, "Safari", "- - *".to_owned()),
        (
            SignInDevice::Peer,
            long.as_str(),
            format!("{} 10.1.1.1 *", &long[..256]),
        ),
    ] {
        let store = MemoryStore::new();
        let app = serve(routes, middleware(&store, device)).await;
        let res = call_service(
            &app,
            sign_in("ada", agent, "10.1.1.1:80", &forwarded).to_request(),
        )
        .await;
        let cookie = set_cookie(&res).unwrap();
        let row = body(call_service(&app, with("/rows", &cookie)).await).await;
        let (_, shown) = row.split_once(' ').unwrap();
        assert_eq!(shown, expected, "{device:?}");
    }
}
