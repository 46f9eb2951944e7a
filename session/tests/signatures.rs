//! Sealed cookies are bound to their purpose and name: whatever else the application signs or
//! encrypts with the same `Key` (through the `cookie` crate's jars, for its own cookies) is never
//! accepted as a session, and one kind of session cookie is never accepted as another.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing::{body, get, set_cookie},
    SessionMiddleware,
};
use actix_web::cookie::{Cookie, CookieJar, Key};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use support::routes;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What an application's own signed cookie `name` holding `value` looks like.
fn app_signed(key: &Key, name: &str, value: String) -> String {
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(Cookie::new(name.to_owned(), value));
    jar.get(name).unwrap().value().to_owned()
}

/// What an application's own private cookie `name` holding `value` looks like.
fn app_private(key: &Key, name: &str, value: String) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(key)
        .add(Cookie::new(name.to_owned(), value));
    jar.get(name).unwrap().value().to_owned()
}

/// A cookie-store payload holding `counter`: `EXP.CREATED.TTL.{JSON}`.
fn payload(counter: u64) -> String {
    format!(
        "{}.{}.86400.{{\"counter\":{counter}}}",
        now() + 86400,
        now()
    )
}

/// `/read` with `value` as the session cookie: `"0"` is a fresh session.
async fn read_with(mw: SessionMiddleware, value: String) -> String {
    let app = serve(routes, mw).await;
    body(get(&app, "/read", Some(&Cookie::new("session", value))).await).await
}

#[actix_web::test]
async fn a_value_the_app_signs_for_another_cookie_is_not_a_server_session() {
    let key = Key::generate();
    let app = serve(
        routes,
        SessionMiddleware::new(MemoryStore::new(), key.clone()),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let id = body(get(&app, "/id", Some(&cookie)).await).await;
    assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "1");

    // The app signs a string the attacker chose ("lang" here) with its key: the live session's
    // id with a creation time and TTL of the attacker's choosing.
    let forged = app_signed(&key, "lang", format!("{id}.{}.604800", now() + 3600));
    let res = get(&app, "/read", Some(&Cookie::new("session", forged))).await;
    assert_eq!(body(res).await, "0", "a fresh session, not the forged one");
}

#[actix_web::test]
async fn a_value_the_app_signs_for_another_cookie_is_not_a_signed_cookie_session() {
    let key = Key::generate();
    let mw = || SessionMiddleware::new(CookieStore::signed(), key.clone());
    let forged = app_signed(&key, "lang", URL_SAFE_NO_PAD.encode(payload(41)));
    assert_eq!(read_with(mw(), forged).await, "0");
    let forged = app_signed(&key, "session", URL_SAFE_NO_PAD.encode(payload(41)));
    assert_eq!(
        read_with(mw(), forged).await,
        "0",
        "not even under its name"
    );
}

#[actix_web::test]
async fn a_value_the_app_encrypts_under_the_session_cookies_name_is_not_a_session() {
    let key = Key::generate();
    let forged = app_private(&key, "session", payload(41));
    let mw = SessionMiddleware::new(CookieStore::encrypted(), key.clone());
    assert_eq!(read_with(mw, forged).await, "0");
}

/// A middleware of each kind of session cookie.
fn middleware(kind: &str, key: &Key) -> SessionMiddleware {
    match kind {
        "server" => SessionMiddleware::new(MemoryStore::new(), key.clone()),
        "signed" => SessionMiddleware::new(CookieStore::signed(), key.clone()),
        _ => SessionMiddleware::new(CookieStore::encrypted(), key.clone()),
    }
}

/// Each kind of session cookie, sealed with one key, is refused by the other kinds.
#[actix_web::test]
async fn one_kind_of_session_cookie_is_never_accepted_as_another() {
    let key = Key::generate();
    let kinds = ["server", "signed", "encrypted"];
    for issuer in kinds {
        let app = serve(routes, middleware(issuer, &key)).await;
        let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
        assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "1");
        for reader in kinds.into_iter().filter(|&k| k != issuer) {
            let got = read_with(middleware(reader, &key), cookie.value().to_owned()).await;
            assert_eq!(
                got, "0",
                "a {issuer} cookie shown to the {reader} middleware"
            );
        }
    }
}
