//! Sign-in, a user's sessions and log out everywhere, through the middleware.

mod support;

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{CookieStore, MemoryStore, SessionStore},
    testing::{body, get, set_cookie},
    Session, SessionMiddleware, UserSessionsError,
};
use actix_web::{cookie::Key, http::StatusCode, web, HttpResponse};

/// [`support::routes`] (with DESIGN.md's `/login/{user}`, `/whoami` and `/logout`) plus
/// `/user-sessions` ("{sessions} {of which current}"), `/sign-out-everywhere` (how many ended) and
/// `/end-others`, which answer `UserSessionsError`'s own statuses.
fn routes(cfg: &mut web::ServiceConfig) {
    async fn sessions(s: Session) -> Result<HttpResponse, UserSessionsError> {
        let rows = s.user_sessions().await?;
        let current = rows.iter().filter(|r| r.current).count();
        Ok(HttpResponse::Ok().body(format!("{} {current}", rows.len())))
    }
    async fn everywhere(s: Session) -> Result<HttpResponse, UserSessionsError> {
        Ok(HttpResponse::Ok().body(s.sign_out_everywhere().await?.to_string()))
    }
    async fn end_other(s: Session) -> Result<HttpResponse, UserSessionsError> {
        let rows = s.user_sessions().await?;
        let mut ended = 0;
        for row in rows.iter().filter(|r| !r.current) {
            ended += usize::from(s.end_user_session(&row.handle).await?);
        }
        Ok(HttpResponse::Ok().body(ended.to_string()))
    }
    support::routes(cfg);
    cfg.route("/user-sessions", web::get().to(sessions))
        .route("/sign-out-everywhere", web::get().to(everywhere))
        .route("/end-others", web::get().to(end_other));
}

#[actix_web::test]
async fn sign_in_renews_the_id_and_binds_the_user() {
    let app = serve(
        routes,
        SessionMiddleware::new(MemoryStore::new(), Key::generate()),
    )
    .await;
    let anon = set_cookie(&get(&app, "/set/cart/socks", None).await).unwrap();
    let before = body(get(&app, "/id", Some(&anon)).await).await;
    let res = get(&app, "/login/ada", Some(&anon)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let signed = set_cookie(&res).expect("sign-in sets a new cookie");
    let after = body(get(&app, "/id", Some(&signed)).await).await;
    assert_ne!(before, after, "the pre-login id is never kept");
    assert_eq!(body(get(&app, "/whoami", Some(&signed)).await).await, "ada");
    assert_eq!(
        body(get(&app, "/get/cart", Some(&signed)).await).await,
        "socks",
        "data is kept"
    );
    let old = get(&app, "/whoami", Some(&anon)).await;
    assert_eq!(
        old.status(),
        StatusCode::NOT_FOUND,
        "the pre-login id is dead"
    );
    assert_eq!(
        get(&app, "/get/cart", Some(&anon)).await.status(),
        StatusCode::NOT_FOUND,
        "and holds nothing"
    );
}

#[actix_web::test]
async fn a_users_sessions_are_listed_and_ended_one_by_one_or_all() {
    let store = MemoryStore::new();
    let app = serve(
        routes,
        SessionMiddleware::new(store.clone(), Key::generate()),
    )
    .await;
    let login = |user: &'static str| {
        let app = &app;
        async move { set_cookie(&get(app, &format!("/login/{user}"), None).await).unwrap() }
    };
    let (laptop, phone, tablet) = (login("ada").await, login("ada").await, login("ada").await);
    let bob = login("bob").await;
    assert_eq!(
        body(get(&app, "/user-sessions", Some(&laptop)).await).await,
        "3 1"
    );
    assert_eq!(
        body(get(&app, "/user-sessions", Some(&bob)).await).await,
        "1 1"
    );
    assert_eq!(
        store.user_sessions("ada").await.unwrap().len(),
        3,
        "admin code sees them"
    );

    // Logout takes a session off the list.
    let res = get(&app, "/logout", Some(&tablet)).await;
    assert!(
        set_cookie(&res).unwrap().value().is_empty(),
        "logout removes the cookie"
    );
    assert_eq!(
        body(get(&app, "/user-sessions", Some(&laptop)).await).await,
        "2 1"
    );

    // Ending the others, one by one.
    assert_eq!(
        body(get(&app, "/end-others", Some(&laptop)).await).await,
        "1"
    );
    assert_eq!(
        get(&app, "/whoami", Some(&phone)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(body(get(&app, "/whoami", Some(&laptop)).await).await, "ada");

    // Log out everywhere, this session included; other users keep theirs.
    let phone = login("ada").await;
    let res = get(&app, "/sign-out-everywhere", Some(&laptop)).await;
    assert!(
        set_cookie(&res).unwrap().value().is_empty(),
        "this cookie is removed"
    );
    assert_eq!(body(res).await, "2");
    for cookie in [&laptop, &phone] {
        assert_eq!(
            get(&app, "/whoami", Some(cookie)).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(body(get(&app, "/whoami", Some(&bob)).await).await, "bob");
    assert!(store.user_sessions("ada").await.unwrap().is_empty());

    // Admin code with only the store and the user id.
    assert_eq!(store.end_user_sessions("bob").await.unwrap(), 1);
    assert_eq!(
        get(&app, "/whoami", Some(&bob)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn anonymous_sessions_have_no_list() {
    let app = serve(
        routes,
        SessionMiddleware::new(MemoryStore::new(), Key::generate()),
    )
    .await;
    let anon = set_cookie(&get(&app, "/set/a/b", None).await).unwrap();
    for uri in ["/user-sessions", "/sign-out-everywhere"] {
        assert_eq!(
            get(&app, uri, Some(&anon)).await.status(),
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
    }
}

#[actix_web::test]
async fn the_cookie_store_signs_in_but_cannot_list_sessions() {
    let app = serve(
        routes,
        SessionMiddleware::new(CookieStore::encrypted(), Key::generate()),
    )
    .await;
    let signed = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    assert_eq!(body(get(&app, "/whoami", Some(&signed)).await).await, "ada");
    for uri in ["/user-sessions", "/sign-out-everywhere"] {
        let res = get(&app, uri, Some(&signed)).await;
        assert_eq!(res.status(), StatusCode::NOT_IMPLEMENTED, "{uri}");
        assert!(set_cookie(&res).is_none(), "{uri} changes nothing");
    }
    assert_eq!(body(get(&app, "/whoami", Some(&signed)).await).await, "ada");
}

/// A store that declares it keeps no user lists (`no_user_sessions!`, here in the test wrapper
/// around the memory store) still signs users in; listing them is a clear 501, not a silent
/// empty list.
#[actix_web::test]
async fn a_store_without_user_lists_signs_in_and_answers_501_for_lists() {
    let store = support::Instrumented::default();
    let app = serve(routes, SessionMiddleware::new(store, Key::generate())).await;
    let signed = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    assert_eq!(body(get(&app, "/whoami", Some(&signed)).await).await, "ada");
    for uri in ["/user-sessions", "/sign-out-everywhere"] {
        let res = get(&app, uri, Some(&signed)).await;
        assert_eq!(res.status(), StatusCode::NOT_IMPLEMENTED, "{uri}");
    }
    assert_eq!(
        body(get(&app, "/whoami", Some(&signed)).await).await,
        "ada",
        "nothing ended"
    );
}

/// The memory store, except that listing a session among a user's always fails.
#[derive(Debug, Clone, Default)]
struct IndexFails(MemoryStore);

impl SessionStore for IndexFails {
    async fn load(
        &self,
        id: &actix_typed_session::SessionId,
        keys: actix_typed_session::store::Keys<'_>,
        refresh: Option<std::time::Duration>,
    ) -> Result<Option<actix_typed_session::store::Entries>, actix_typed_session::StoreError> {
        self.0.load(id, keys, refresh).await
    }
    async fn save(
        &self,
        id: &actix_typed_session::SessionId,
        changes: &actix_typed_session::store::ChangeSet,
        ttl: std::time::Duration,
    ) -> Result<actix_typed_session::store::SaveOutcome, actix_typed_session::StoreError> {
        self.0.save(id, changes, ttl).await
    }
    async fn refresh(
        &self,
        id: &actix_typed_session::SessionId,
        ttl: std::time::Duration,
    ) -> Result<bool, actix_typed_session::StoreError> {
        self.0.refresh(id, ttl).await
    }
    async fn delete(
        &self,
        id: &actix_typed_session::SessionId,
    ) -> Result<(), actix_typed_session::StoreError> {
        self.0.delete(id).await
    }
    async fn index_user_session(
        &self,
        _: &str,
        _: &actix_typed_session::SessionId,
        _: std::time::Duration,
    ) -> Result<Option<usize>, actix_typed_session::StoreError> {
        Err(actix_typed_session::StoreError::unavailable("index down"))
    }
    async fn user_sessions(
        &self,
        user: &str,
    ) -> Result<Vec<actix_typed_session::store::UserSession>, actix_typed_session::StoreError> {
        self.0.user_sessions(user).await
    }
    async fn end_user_session(
        &self,
        user: &str,
        id: &actix_typed_session::SessionId,
    ) -> Result<bool, actix_typed_session::StoreError> {
        self.0.end_user_session(user, id).await
    }
    async fn end_user_sessions(
        &self,
        user: &str,
    ) -> Result<usize, actix_typed_session::StoreError> {
        self.0.end_user_sessions(user).await
    }
}

/// A signed-in session the store could not list would survive "log out everywhere": the sign-in
/// fails (a 503: the index is unavailable) and leaves no session behind.
#[actix_web::test]
async fn a_sign_in_that_cannot_be_listed_fails_and_keeps_no_session() {
    let store = IndexFails::default();
    let app = serve(
        routes,
        SessionMiddleware::new(store.clone(), Key::generate()),
    )
    .await;
    let res = get(&app, "/login/ada", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        set_cookie(&res).is_none(),
        "no cookie for a session that is not kept"
    );
    assert!(store.0.is_empty(), "the written session was taken back");
}

/// A signed-in session renewed by `Session::renew` (not a sign-in) stays listed under its new
/// id, so log out everywhere ends it (the concurrency harness caught the memory and Redis
/// stores leaving it off the list: it lived on).
#[actix_web::test]
async fn a_renewed_signed_in_session_is_still_ended_everywhere() {
    let app = serve(
        routes,
        SessionMiddleware::new(MemoryStore::new(), Key::generate()),
    )
    .await;
    let phone = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    let renewed = set_cookie(&get(&app, "/renew", Some(&phone)).await).expect("a new id");
    let laptop = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    assert_eq!(
        body(get(&app, "/user-sessions", Some(&laptop)).await).await,
        "2 1"
    );
    let res = get(&app, "/sign-out-everywhere", Some(&laptop)).await;
    assert_eq!(body(res).await, "2");
    let res = get(&app, "/whoami", Some(&renewed)).await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the renewed session lived on"
    );
}

/// Signs `user` in from a new client, 10 s after the previous sign-in on `clock`, and answers
/// its cookie.
async fn sign_in_new_client<S, B>(
    app: &S,
    clock: &actix_typed_session::Clock,
    user: &str,
) -> actix_web::cookie::Cookie<'static>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    clock.advance(std::time::Duration::from_secs(10));
    let res = get(app, &format!("/login/{user}"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    set_cookie(&res).expect("a sign-in sets a cookie")
}

/// The middleware with a manual clock shared with its memory store, capped at `max`.
fn capped(clock: &actix_typed_session::Clock, max: Option<usize>) -> SessionMiddleware {
    let store = MemoryStore::builder().clock(clock.clone()).build();
    SessionMiddleware::builder(store, Key::generate())
        .clock(clock.clone())
        .max_sessions_per_user(max)
        .build()
}

#[actix_web::test]
async fn a_sign_in_beyond_the_cap_ends_the_users_oldest_session() {
    let clock = actix_typed_session::Clock::manual();
    let app = serve(routes, capped(&clock, Some(2))).await;
    let bob = sign_in_new_client(&app, &clock, "bob").await;
    let first = sign_in_new_client(&app, &clock, "ada").await;
    let second = sign_in_new_client(&app, &clock, "ada").await;
    assert_eq!(body(get(&app, "/whoami", Some(&first)).await).await, "ada");
    let third = sign_in_new_client(&app, &clock, "ada").await;
    let res = get(&app, "/whoami", Some(&first)).await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the oldest sign-in is signed out"
    );
    for (name, cookie, user) in [
        ("second", &second, "ada"),
        ("third", &third, "ada"),
        ("bob", &bob, "bob"),
    ] {
        assert_eq!(
            body(get(&app, "/whoami", Some(cookie)).await).await,
            user,
            "{name}"
        );
    }
    assert_eq!(
        body(get(&app, "/user-sessions", Some(&third)).await).await,
        "2 1"
    );
}

/// 100 by default, as the builder's docs say; `None` lifts the cap.
#[actix_web::test]
async fn the_default_cap_is_100_sessions_per_user_and_none_lifts_it() {
    let clock = actix_typed_session::Clock::manual();
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let app = serve(
        routes,
        SessionMiddleware::builder(store, Key::generate())
            .clock(clock.clone())
            .build(),
    )
    .await;
    let first = sign_in_new_client(&app, &clock, "ada").await;
    for _ in 1..100 {
        sign_in_new_client(&app, &clock, "ada").await;
    }
    assert_eq!(
        body(get(&app, "/whoami", Some(&first)).await).await,
        "ada",
        "100 fit"
    );
    let last = sign_in_new_client(&app, &clock, "ada").await;
    assert_eq!(
        get(&app, "/whoami", Some(&first)).await.status(),
        StatusCode::NOT_FOUND,
        "the 101st ends the first"
    );
    assert_eq!(
        body(get(&app, "/user-sessions", Some(&last)).await).await,
        "100 1"
    );

    let app = serve(routes, capped(&clock, None)).await;
    let mut last = None;
    for _ in 0..101 {
        last = Some(sign_in_new_client(&app, &clock, "ada").await);
    }
    assert_eq!(
        body(get(&app, "/user-sessions", last.as_ref()).await).await,
        "101 1"
    );
}

#[test]
fn a_cap_of_zero_sessions_per_user_is_refused_at_build_time() {
    let err = SessionMiddleware::builder(MemoryStore::new(), Key::generate())
        .max_sessions_per_user(Some(0))
        .try_build()
        .unwrap_err();
    assert!(
        matches!(err, actix_typed_session::ConfigError::NoSessionPerUser),
        "{err}"
    );
    assert!(err.to_string().contains("max_sessions_per_user"), "{err}");
}
