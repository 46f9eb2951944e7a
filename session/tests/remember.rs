//! "Remember me": a session with a TTL of its own gets a persistent cookie (`Max-Age` = its
//! TTL) under the browser-session lifecycle, and keeps it on later requests; other sessions
//! keep the configured lifecycle.

mod support;

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing::{get, set_cookie},
    SessionMiddleware, SessionStorage,
};
use actix_web::cookie::{time, Cookie, Key};

const MONTH: i64 = 30 * 24 * 3600;

fn max_age(cookie: &Cookie<'_>) -> Option<i64> {
    cookie.max_age().map(time::Duration::whole_seconds)
}

/// `reseals`: the store re-sends the whole session on every update (the cookie store).
async fn remembered_sessions_get_persistent_cookies(
    storage: impl Into<SessionStorage>,
    reseals: bool,
) {
    let app = serve(
        support::routes,
        SessionMiddleware::new(storage, Key::generate()),
    )
    .await;
    let plain = set_cookie(&get(&app, "/counter", None).await).unwrap();
    assert_eq!(
        max_age(&plain),
        None,
        "the configured lifecycle: a browser-session cookie"
    );

    let res = get(&app, &format!("/ttl/{MONTH}"), Some(&plain)).await;
    let remembered = set_cookie(&res).expect("remember me re-sends the cookie");
    assert_eq!(
        max_age(&remembered),
        Some(MONTH),
        "persistent, Max-Age = its TTL"
    );

    // The choice travels with the session: later writes and renewals keep it.
    let mut cookie = remembered;
    for uri in ["/counter", "/renew", "/set/a/b"] {
        let res = get(&app, uri, Some(&cookie)).await;
        cookie = set_cookie(&res).unwrap_or_else(|| panic!("{uri} re-sends the cookie"));
        assert_eq!(max_age(&cookie), Some(MONTH), "{uri}");
    }
    assert!(
        set_cookie(&get(&app, "/read", Some(&cookie)).await).is_none(),
        "a read sends nothing"
    );

    let other = set_cookie(&get(&app, "/counter", None).await).unwrap();
    assert_eq!(
        max_age(&other),
        None,
        "other sessions keep the configured lifecycle"
    );
    let res = get(&app, "/counter", Some(&other)).await;
    match set_cookie(&res) {
        Some(resealed) if reseals => assert_eq!(max_age(&resealed), None, "still browser-session"),
        sent => assert!(
            sent.is_none(),
            "a plain update of a server session sends no cookie"
        ),
    }
}

#[actix_web::test]
async fn remember_me_on_the_memory_store() {
    remembered_sessions_get_persistent_cookies(MemoryStore::new(), false).await;
}

#[actix_web::test]
async fn remember_me_on_the_cookie_store() {
    remembered_sessions_get_persistent_cookies(CookieStore::encrypted(), true).await;
}
