//! Who keeps what at sign-in, on the memory and cookie stores: an anonymous session or the same
//! user's keeps its data, "remember me" and creation time; another user's session, or one purged
//! in the same request, starts clean (no data, the configured TTL, a new creation time). Also
//! typed user ids, the `SignedIn` extractor beside a typed one, and reserved keys.
//!
//! The middleware runs on a manual clock moved between requests, so creation times differ by
//! whole seconds; the configured lifecycle is browser-session, so a cookie with `Max-Age` is one
//! with a TTL of its own ("remember me").

mod support;

use std::time::{Duration, UNIX_EPOCH};

use actix_typed_session::{
    store::{CookieStore, MemoryStore, SessionStore as _},
    testing::{self, body, get, set_cookie},
    Clock, CookieLifecycle, Session, SessionData, SessionError, SessionExt as _, SessionMiddleware,
    SessionStorage, SignedIn, SignedInConfig,
};
use actix_web::{cookie::Key, http::StatusCode, test::TestRequest, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

const REMEMBER: u64 = 30 * 24 * 3600;

/// A user id of the application's own type.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
struct UserId(u64);

#[derive(SessionData)]
#[session(prefix = "cart")]
struct Cart {
    #[session(default)]
    items: Vec<u32>,
}

/// [`support::routes`] plus `/purge-login/{user}` (purge, then sign in), `/created` (Unix
/// seconds), `/ttl` (seconds), `/login-id/{n}` (sign in as `UserId(n)`), `/me` (a
/// `SignedIn<UserId>` beside a typed cart), `/html/me` (the same, redirecting anonymous
/// visitors), `/cart-user` (`user()` on a typed handle), `/reserved` (writes a reserved key) and
/// `/ext-login/{user}` (signs in on an unloaded `SessionExt` handle: refused, then after a load).
fn routes(cfg: &mut web::ServiceConfig) {
    type Reply = actix_web::Result<HttpResponse>;
    async fn purge_login(s: Session, user: web::Path<String>) -> Reply {
        s.purge();
        s.sign_in(user.into_inner())?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn created(s: Session) -> Reply {
        let at = s.created_at()?.duration_since(UNIX_EPOCH).unwrap();
        Ok(HttpResponse::Ok().body(at.as_secs().to_string()))
    }
    async fn ttl(s: Session) -> HttpResponse {
        HttpResponse::Ok().body(s.ttl().as_secs().to_string())
    }
    async fn login_id(s: Session, n: web::Path<u64>) -> Reply {
        s.sign_in(UserId(*n))?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn me(user: SignedIn<UserId>, cart: CartSession) -> Reply {
        Ok(HttpResponse::Ok().body(format!("{} {}", user.0 .0, cart.items()?.len())))
    }
    async fn cart_user(cart: CartSession) -> Reply {
        let user = cart.session().user()?.unwrap_or_default();
        Ok(HttpResponse::Ok().body(user))
    }
    async fn ext_login(req: HttpRequest, user: web::Path<String>) -> Reply {
        let s = req.get_session();
        let unloaded = s.sign_in(user.as_str()).unwrap_err();
        assert!(
            matches!(unloaded, SessionError::NotLoaded { .. }),
            "{unloaded}"
        );
        s.load_keys(&[]).await?;
        s.sign_in(user.into_inner())?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn reserved(s: Session) -> Reply {
        s.insert("__session.user", "mallory")?;
        Ok(HttpResponse::Ok().finish())
    }
    support::routes(cfg);
    cfg.route("/purge-login/{user}", web::get().to(purge_login))
        .route("/created", web::get().to(created))
        .route("/ttl", web::get().to(ttl))
        .route("/login-id/{n}", web::get().to(login_id))
        .route("/me", web::get().to(me))
        .route("/cart-user", web::get().to(cart_user))
        .route("/reserved", web::get().to(reserved))
        .route("/ext-login/{user}", web::get().to(ext_login))
        .service(
            web::scope("/html")
                .app_data(SignedInConfig::redirect_to("/login"))
                .route("/me", web::get().to(me)),
        );
}

/// One browser against an app on `storage`, on a manual clock.
struct Browser<S> {
    app: S,
    clock: Clock,
    jar: support::Jar,
}

async fn browser(
    storage: SessionStorage,
) -> Browser<
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let clock = Clock::manual();
    let mw = SessionMiddleware::builder(storage, Key::generate())
        .clock(clock.clone())
        .cookie_lifecycle(CookieLifecycle::BrowserSession)
        .build();
    Browser {
        app: testing::serve(routes, mw).await,
        clock,
        jar: support::Jar::default(),
    }
}

/// What the cookie of a response said: its `Max-Age`, if it has one.
#[derive(Debug, PartialEq)]
enum Lifecycle {
    BrowserSession,
    MaxAge(i64),
}

impl<S, B> Browser<S>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    /// GETs `uri` with the jar's cookie, keeps the cookie the response sets, and answers the
    /// status, the body and the lifecycle of a cookie set (if one was).
    async fn get(&mut self, uri: &str) -> (StatusCode, String, Option<Lifecycle>) {
        let res = self.jar.send(&self.app, TestRequest::get().uri(uri)).await;
        let lifecycle = set_cookie(&res).map(|c| match c.max_age() {
            Some(age) => Lifecycle::MaxAge(age.whole_seconds()),
            None => Lifecycle::BrowserSession,
        });
        let status = res.status();
        (status, body(res).await, lifecycle)
    }

    async fn text(&mut self, uri: &str) -> String {
        let (status, text, _) = self.get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {text}");
        text
    }

    /// Moves the clock on, so a session created from now on has a later creation time.
    fn later(&self) {
        self.clock.advance(Duration::from_secs(100));
    }
}

fn stores() -> [(&'static str, SessionStorage); 2] {
    [
        ("memory", MemoryStore::new().into()),
        ("cookie", CookieStore::encrypted().into()),
    ]
}

/// What a session looks like after a sign-in.
#[derive(Debug, PartialEq)]
struct After {
    user: String,
    cookie: Option<Lifecycle>,
    cart: Option<String>,
    ttl: u64,
    created: u64,
}

/// On each store: a session with a cart and "remember me", signed in as `before` (or
/// anonymous), then `sign_in` (a URI) a whole 100 s later. Returns what the session looked like
/// after, and what it would look like kept and started clean.
async fn sign_in_over(
    before: Option<&str>,
    sign_in: &str,
) -> Vec<(&'static str, After, After, After)> {
    let mut seen = Vec::new();
    for (name, storage) in stores() {
        let mut b = browser(storage).await;
        if let Some(before) = before {
            b.get(&format!("/login/{before}")).await;
        }
        b.get("/set/cart/socks").await;
        let (_, _, remembered) = b.get(&format!("/ttl/{REMEMBER}")).await;
        assert_eq!(
            remembered,
            Some(Lifecycle::MaxAge(REMEMBER as i64)),
            "{name}"
        );
        let created: u64 = b.text("/created").await.parse().unwrap();
        b.later();

        let (status, _, cookie) = b.get(sign_in).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let user = b.text("/whoami").await;
        let (status, cart, _) = b.get("/get/cart").await;
        let after = After {
            cart: (status == StatusCode::OK).then_some(cart),
            ttl: b.text("/ttl").await.parse().unwrap(),
            created: match b.text("/created").await.parse().unwrap() {
                // The manual clock runs on the system's: a second may tick during the test.
                now if now == created + 101 => created + 100,
                other => other,
            },
            user: user.clone(),
            cookie,
        };
        let kept = After {
            user: user.clone(),
            cookie: Some(Lifecycle::MaxAge(REMEMBER as i64)),
            cart: Some("socks".to_owned()),
            ttl: REMEMBER,
            created,
        };
        let clean = After {
            user,
            cookie: Some(Lifecycle::BrowserSession),
            cart: None,
            ttl: 24 * 3600,
            created: created + 100,
        };
        seen.push((name, after, kept, clean));
    }
    seen
}

#[actix_web::test]
async fn another_users_session_starts_clean() {
    for (name, after, _, clean) in sign_in_over(Some("ada"), "/login/grace").await {
        assert_eq!(after.user, "grace", "{name}");
        assert_eq!(
            after, clean,
            "{name}: no data, the default TTL, created now"
        );
    }
}

#[actix_web::test]
async fn the_same_users_session_keeps_everything() {
    for (name, after, kept, _) in sign_in_over(Some("ada"), "/login/ada").await {
        assert_eq!(after, kept, "{name}");
    }
}

#[actix_web::test]
async fn an_anonymous_session_keeps_everything() {
    for (name, after, kept, _) in sign_in_over(None, "/login/ada").await {
        assert_eq!(after.user, "ada", "{name}");
        assert_eq!(after, kept, "{name}");
    }
}

#[actix_web::test]
async fn purge_then_sign_in_starts_clean() {
    for (name, after, _, clean) in sign_in_over(Some("ada"), "/purge-login/ada").await {
        assert_eq!(after.user, "ada", "{name}");
        assert_eq!(
            after, clean,
            "{name}: no data, the default TTL, created now"
        );
    }
}

#[actix_web::test]
async fn sign_in_on_an_unloaded_handle_is_refused_until_the_user_is_loaded() {
    for (name, after, _, clean) in sign_in_over(Some("ada"), "/ext-login/grace").await {
        assert_eq!(after.user, "grace", "{name}");
        assert_eq!(after, clean, "{name}: the loaded user decided");
    }
    for (name, after, kept, _) in sign_in_over(None, "/ext-login/grace").await {
        assert_eq!(after, kept, "{name}: a guest's session is kept");
    }
}

#[actix_web::test]
async fn another_users_old_session_is_deleted_from_the_store() {
    let store = MemoryStore::new();
    let mut b = browser(store.clone().into()).await;
    b.get("/login/ada").await;
    let ada = b.jar.cookie.clone();
    b.get("/login/grace").await;
    assert!(store.user_sessions("ada").await.unwrap().is_empty());
    assert_eq!(store.user_sessions("grace").await.unwrap().len(), 1);
    let old = get(&b.app, "/whoami", ada.as_ref()).await;
    assert_eq!(old.status(), StatusCode::NOT_FOUND, "ada's session is gone");
}

#[actix_web::test]
async fn typed_user_ids_are_listed_by_their_canonical_form() {
    let store = MemoryStore::new();
    let mut b = browser(store.clone().into()).await;
    b.get("/set/cart/socks").await;
    b.get("/login-id/7").await;
    assert_eq!(b.text("/whoami").await, "7", "user() is the canonical form");
    assert_eq!(store.user_sessions("7").await.unwrap().len(), 1);
    assert_eq!(b.text("/get/cart").await, "socks", "anonymous: kept");
    b.get("/login-id/8").await;
    assert_eq!(
        b.get("/get/cart").await.0,
        StatusCode::NOT_FOUND,
        "another id"
    );
}

#[actix_web::test]
async fn signed_in_extracts_the_typed_user_beside_a_typed_session() {
    for (name, storage) in stores() {
        let mut b = browser(storage).await;
        let (status, _, _) = b.get("/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: anonymous");
        let (status, _, _) = b.get("/html/me").await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{name}: an HTML app's redirect"
        );
        b.get("/login-id/7").await;
        assert_eq!(b.text("/me").await, "7 0", "{name}");
        assert_eq!(b.text("/html/me").await, "7 0", "{name}");
        assert_eq!(
            b.text("/cart-user").await,
            "7",
            "{name}: user() on a typed handle"
        );
    }
}

#[actix_web::test]
async fn the_redirect_names_the_sign_in_page() {
    let mut b = browser(MemoryStore::new().into()).await;
    let res = get(&b.app, "/html/me", None).await;
    assert_eq!(res.headers().get("location").unwrap(), "/login");
    assert_eq!(b.get("/login/ada").await.0, StatusCode::OK);
    assert_eq!(
        b.get("/me").await.0,
        StatusCode::INTERNAL_SERVER_ERROR,
        "a string user is not a `UserId`: an error, not a 401"
    );
}

#[actix_web::test]
async fn reserved_keys_cannot_be_written_by_the_app() {
    let session = Session::detached();
    for key in [
        "__session.user",
        "__session.csrf",
        "__session.flash",
        "__sessionx",
    ] {
        let err = session.insert(key, 1).unwrap_err();
        assert!(
            matches!(&err, SessionError::ReservedKey { key: k } if k == key),
            "{err}"
        );
        assert!(err.to_string().contains(key), "the message names the key");
        assert!(matches!(
            session.insert_raw(key, "1".to_owned()),
            Err(SessionError::ReservedKey { .. })
        ));
        assert!(matches!(
            session.remove(key),
            Err(SessionError::ReservedKey { .. })
        ));
    }
    session.sign_in("ada").unwrap();
    assert_eq!(
        session.user().unwrap().as_deref(),
        Some("ada"),
        "the library still writes"
    );

    let mut b = browser(MemoryStore::new().into()).await;
    let (status, _, _) = b.get("/reserved").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

/// The signed-in user is typed state, not one of the session's entries: `entries` and `keys`
/// show the application's keys only, `user` reads the binding, and clearing the session or
/// purging it signs the user out with the rest.
#[test]
fn the_user_is_not_an_entry() {
    let session = Session::detached();
    session.insert("cart", [1, 2]).unwrap();
    session.sign_in(UserId(7)).unwrap();
    assert_eq!(session.keys().unwrap(), ["cart"]);
    assert!(!session.entries().unwrap().contains_key("__session.user"));
    assert_eq!(session.user().unwrap().as_deref(), Some("7"));
    assert_eq!(session.user_as::<UserId>().unwrap(), Some(UserId(7)));
    assert_eq!(
        session.get::<serde_json::Value>("__session.user").unwrap(),
        None
    );

    session.clear();
    assert_eq!(session.user().unwrap(), None, "cleared with the rest");
    session.sign_in("ada").unwrap();
    session.purge();
    assert_eq!(session.user().unwrap(), None, "purged with the rest");
}
