//! Credential epochs (`SessionMiddlewareBuilder::credential_epoch`), on the memory and cookie
//! stores: a sign-in records the user's credential version, and once the application's source
//! answers another version (a password change, a "log out everywhere"), every session signed in
//! under the old one is signed out at its next request: anonymous, its cookie removed, and on a
//! server store its stored session deleted.

mod support;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use actix_typed_session::{
    store::{CookieStore, Keys, MemoryStore, SessionStore as _},
    testing::{self, body},
    Session, SessionId, SessionMiddleware, SessionStorage,
};
use actix_web::{cookie::Key, http::StatusCode, test::TestRequest, web, HttpResponse};

/// The application's users: each one's credential version, or an error for "the database is
/// down".
#[derive(Clone, Default)]
struct Versions(Arc<Mutex<HashMap<String, Result<u64, ()>>>>);

impl Versions {
    fn set(&self, user: &str, version: Result<u64, ()>) {
        self.0.lock().unwrap().insert(user.to_owned(), version);
    }

    fn bump(&self, user: &str) {
        let mut map = self.0.lock().unwrap();
        let v = map.entry(user.to_owned()).or_insert(Ok(0));
        *v = Ok(v.map_or(1, |n| n + 1));
    }

    fn forget(&self, user: &str) {
        self.0.lock().unwrap().remove(user);
    }

    fn middleware(&self, storage: SessionStorage) -> SessionMiddleware {
        self.middleware_with(storage, Key::generate())
    }

    fn middleware_with(&self, storage: SessionStorage, key: Key) -> SessionMiddleware {
        let versions = self.clone();
        SessionMiddleware::builder(storage, key)
            .credential_epoch(move |user: String| {
                let version = versions.0.lock().unwrap().get(&user).copied();
                async move {
                    match version {
                        None => Ok(None),
                        Some(Ok(v)) => Ok(Some(v.to_string())),
                        Some(Err(())) => Err(std::io::Error::other("the users table is down")),
                    }
                }
            })
            .build()
    }
}

/// [`support::routes`] (the bench-server table: `/login/{user}`, `/whoami`, `/set`, `/get`, …)
/// plus `/login-at/{user}/{version}` (`sign_in_with_epoch`) and `/guest-write/{v}` (a write
/// before the first load, then a read that loads).
fn routes(cfg: &mut web::ServiceConfig) {
    async fn login_at(s: Session, p: web::Path<(String, u64)>) -> actix_web::Result<HttpResponse> {
        let (user, version) = p.into_inner();
        s.sign_in_with_epoch(user, version.to_string())?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn guest_write(s: Session, v: web::Path<String>) -> actix_web::Result<HttpResponse> {
        s.insert("note", v.into_inner())?;
        let user = s.user()?.unwrap_or_else(|| "anonymous".into());
        Ok(HttpResponse::Ok().body(user))
    }
    support::routes(cfg);
    cfg.route("/login-at/{user}/{version}", web::get().to(login_at))
        .route("/guest-write/{v}", web::get().to(guest_write));
}

fn stores() -> [(&'static str, SessionStorage, Option<MemoryStore>); 2] {
    let memory = MemoryStore::new();
    [
        ("memory", memory.clone().into(), Some(memory)),
        ("cookie", CookieStore::encrypted().into(), None),
    ]
}

macro_rules! get {
    ($app:expr, $jar:expr, $uri:expr) => {{
        let res = $jar.send(&$app, TestRequest::get().uri($uri)).await;
        let status = res.status();
        (status, body(res).await)
    }};
}

/// An app on `$storage` checking [`Versions`] (Ada at version 1), and a jar signed in as Ada.
macro_rules! ada_signed_in {
    ($storage:expr) => {{
        let versions = Versions::default();
        versions.set("ada", Ok(1));
        let app = testing::serve(routes, versions.middleware($storage)).await;
        let mut jar = support::Jar::default();
        get!(app, jar, "/login/ada");
        (versions, app, jar)
    }};
}

#[actix_web::test]
async fn a_changed_version_signs_out_every_session_signed_in_under_the_old_one() {
    for (name, storage, memory) in stores() {
        let versions = Versions::default();
        versions.set("ada", Ok(1));
        versions.set("grace", Ok(1));
        let app = testing::serve(routes, versions.middleware(storage)).await;
        // Ada on a phone (the version handed in) and a laptop (the source asked at the save);
        // Grace elsewhere.
        let (mut phone, mut laptop, mut grace) = (
            support::Jar::default(),
            support::Jar::default(),
            support::Jar::default(),
        );
        assert_eq!(
            get!(app, phone, "/login-at/ada/1").0,
            StatusCode::OK,
            "{name}"
        );
        assert_eq!(get!(app, laptop, "/login/ada").0, StatusCode::OK, "{name}");
        assert_eq!(get!(app, grace, "/login/grace").0, StatusCode::OK, "{name}");
        get!(app, phone, "/set/cart/socks");
        for jar in [&mut phone, &mut laptop] {
            assert_eq!(
                get!(app, *jar, "/whoami"),
                (StatusCode::OK, "ada".into()),
                "{name}"
            );
        }
        let live = memory.as_ref().map(MemoryStore::len);

        // Ada changes her password.
        versions.set("ada", Ok(2));
        for jar in [&mut phone, &mut laptop] {
            assert!(jar.cookie.is_some());
            let (status, text) = get!(app, *jar, "/whoami");
            assert_eq!(
                (status, text.as_str()),
                (StatusCode::NOT_FOUND, "anonymous"),
                "{name}"
            );
            assert!(jar.cookie.is_none(), "{name}: the cookie is removed");
        }
        assert_eq!(
            get!(app, phone, "/get/cart").0,
            StatusCode::NOT_FOUND,
            "{name}: no data"
        );
        assert_eq!(
            get!(app, grace, "/whoami"),
            (StatusCode::OK, "grace".into()),
            "{name}"
        );
        if let (Some(memory), Some(before)) = (&memory, live) {
            assert_eq!(
                memory.len(),
                before - 2,
                "{name}: both of Ada's sessions deleted"
            );
        }
        // Signing in under the new version works.
        get!(app, laptop, "/login-at/ada/2");
        assert_eq!(
            get!(app, laptop, "/whoami"),
            (StatusCode::OK, "ada".into()),
            "{name}"
        );
        // A user the source no longer knows is signed out too.
        versions.forget("grace");
        assert_eq!(
            get!(app, grace, "/whoami").0,
            StatusCode::NOT_FOUND,
            "{name}"
        );
    }
}

#[actix_web::test]
async fn a_write_before_the_load_of_a_stale_session_goes_to_a_fresh_one() {
    for (name, storage, _) in stores() {
        let (versions, app, mut jar) = ada_signed_in!(storage);
        get!(app, jar, "/set/cart/socks");
        versions.bump("ada");
        assert_eq!(
            get!(app, jar, "/guest-write/hello"),
            (StatusCode::OK, "anonymous".into()),
            "{name}"
        );
        assert!(
            jar.cookie.is_some(),
            "{name}: a new session holds the write"
        );
        assert_eq!(
            get!(app, jar, "/get/note"),
            (StatusCode::OK, "hello".into()),
            "{name}"
        );
        assert_eq!(
            get!(app, jar, "/get/cart").0,
            StatusCode::NOT_FOUND,
            "{name}"
        );
    }
}

#[actix_web::test]
async fn sessions_signed_in_without_a_version_or_before_the_setting_are_signed_out() {
    let store = MemoryStore::new();
    let key = Key::generate();
    // Signed in by a middleware without the setting.
    let before = testing::serve(routes, SessionMiddleware::new(store.clone(), key.clone())).await;
    let mut jar = support::Jar::default();
    get!(before, jar, "/login/ada");
    assert_eq!(get!(before, jar, "/whoami").0, StatusCode::OK);
    // The same key and store, now checking versions.
    let versions = Versions::default();
    versions.set("ada", Ok(1));
    let after = testing::serve(routes, versions.middleware_with(store.clone().into(), key)).await;
    assert_eq!(get!(after, jar, "/whoami").0, StatusCode::NOT_FOUND);
    assert_eq!(store.len(), 0, "the unversioned session is deleted");
    // Anonymous sessions are untouched by the check.
    get!(after, jar, "/set/k/v");
    assert_eq!(get!(after, jar, "/get/k"), (StatusCode::OK, "v".into()));
}

#[actix_web::test]
async fn a_failing_version_source_answers_503_and_keeps_the_session() {
    for (name, storage, _) in stores() {
        let (versions, app, mut jar) = ada_signed_in!(storage);
        versions.set("ada", Err(()));
        let res = jar.send(&app, TestRequest::get().uri("/whoami")).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{name}");
        assert!(res.headers().contains_key("retry-after"), "{name}");
        assert!(jar.cookie.is_some(), "{name}: not signed out by an outage");
        versions.set("ada", Ok(1));
        assert_eq!(
            get!(app, jar, "/whoami"),
            (StatusCode::OK, "ada".into()),
            "{name}"
        );
        // A sign-in whose version cannot be read is not saved half-bound.
        let mut other = support::Jar::default();
        versions.set("ada", Err(()));
        let res = other.send(&app, TestRequest::get().uri("/login/ada")).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{name}");
        assert!(other.cookie.is_none(), "{name}");
        // Nor is one of a user the source does not know.
        let res = other
            .send(&app, TestRequest::get().uri("/login/nobody"))
            .await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{name}");
        assert!(other.cookie.is_none(), "{name}");
    }
}

#[actix_web::test]
async fn without_the_setting_a_recorded_version_is_kept_and_never_checked() {
    let store = MemoryStore::new();
    let app = testing::serve(
        routes,
        SessionMiddleware::new(store.clone(), Key::generate()),
    )
    .await;
    let mut jar = support::Jar::default();
    get!(app, jar, "/login-at/ada/1");
    assert_eq!(get!(app, jar, "/whoami"), (StatusCode::OK, "ada".into()));
    // The binding carries a digest, not the version.
    let id: SessionId = {
        let res = jar.send(&app, TestRequest::get().uri("/id")).await;
        body(res).await.parse().unwrap()
    };
    let entries = store.load(&id, Keys::All, None).await.unwrap().unwrap();
    let binding: serde_json::Value = serde_json::from_str(&entries["__session.user"]).unwrap();
    let digest = binding["epoch"].as_str().unwrap();
    assert_eq!(digest.len(), 22);
    assert_ne!(digest, "1");
}
