//! actix-session's `tests/middleware.rs`: the attributes of the session cookie and of the
//! cookie that removes it, on the cookie store.

use actix_typed_session::{store::CookieStore, Session, SessionMiddleware};
use actix_web::{
    cookie::{time::Duration, Cookie, Key},
    test, web, App, Responder,
};

async fn login(session: Session) -> actix_web::Result<impl Responder> {
    session.insert("user_id", "id")?;
    Ok("Logged in")
}

async fn logout(session: Session) -> impl Responder {
    session.purge();
    "Logged out"
}

/// The name, path, domain and flags that both the session cookie and its removal carry.
fn assert_configured(cookie: &Cookie<'_>) {
    // Deliberate difference: the default cookie name is `session`, not `id` (MIGRATING.md's
    // middleware map), so that an old actix-session cookie is never mistaken for ours.
    assert_eq!(cookie.name(), "session");
    assert_eq!(cookie.path().unwrap(), "/test");
    assert!(cookie.secure().unwrap());
    assert!(cookie.http_only().unwrap());
    assert_eq!(cookie.domain().unwrap(), "localhost");
}

#[actix_web::test]
async fn cookie_storage() -> std::io::Result<()> {
    let signing_key = Key::generate();
    let app = test::init_service(
        App::new()
            .wrap(
                // `CookieSessionStore::default()` is private (encrypted) cookies.
                SessionMiddleware::builder(CookieStore::encrypted(), signing_key.clone())
                    .cookie_path("/test")
                    .cookie_domain(Some("localhost".to_owned()))
                    .build(),
            )
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout)),
    )
    .await;

    let login_request = test::TestRequest::post().uri("/login").to_request();
    let login_response = test::call_service(&app, login_request).await;
    let session_cookie = login_response.response().cookies().next().unwrap();
    assert_configured(&session_cookie);
    assert!(session_cookie.max_age().is_none());

    let logout_request = test::TestRequest::post()
        .cookie(session_cookie.into_owned())
        .uri("/logout")
        .to_request();
    let logout_response = test::call_service(&app, logout_request).await;
    let deletion_cookie = logout_response.response().cookies().next().unwrap();
    assert_configured(&deletion_cookie);
    assert_eq!(deletion_cookie.max_age().unwrap(), Duration::ZERO);
    Ok(())
}
