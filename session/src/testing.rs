//! The acceptance suite every store passes: run it on your own store from its tests.
//!
//! Two levels, both async functions that panic with a message naming the broken promise:
//! - [`store_suite`] drives a [`SessionStore`] directly: creation, partial loads, change sets,
//!   TTL refresh and expiry, no resurrection, renewal, concurrent changes to different keys;
//! - [`http_suite`] drives a whole [`SessionMiddleware`] through `actix_web::test`, so it also
//!   covers the [`CookieStore`](crate::store::CookieStore), with [`Capabilities`] saying what
//!   the store can promise.
//!
//! ```no_run
//! # // no_run: the suite waits for real TTLs to pass.
//! use session::{store::MemoryStore, testing, SessionMiddleware};
//!
//! #[actix_web::test]
//! async fn my_store_passes() {
//!     testing::store_suite(&MemoryStore::new(), testing::Capabilities::server_side()).await;
//!     let key = actix_web::cookie::Key::generate();
//!     testing::http_suite(
//!         || SessionMiddleware::new(MemoryStore::new(), key.clone()),
//!         testing::Capabilities::server_side(),
//!     )
//!     .await;
//! }
//! ```

use std::{sync::Arc, time::Duration};

use actix_http::Request;
use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    test, web, App, HttpResponse,
};
use tokio::sync::{Barrier, Notify};

use crate::{
    store::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore},
    Session, SessionId, SessionMiddleware,
};

/// What a store promises, so the suite checks exactly that.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Capabilities {
    /// Two concurrent requests changing different keys of one session both keep their change.
    pub merges_concurrent_changes: bool,
    /// Purge and renew make copies of the old cookie worthless (true for server-side stores).
    pub revocable: bool,
    /// Run the checks that wait for a real TTL to pass (a few seconds).
    pub check_expiry: bool,
    /// The store lists and ends a user's sessions (off in both presets).
    pub lists_user_sessions: bool,
}

impl Capabilities {
    /// A server-side store with atomic per-key changes (memory, Redis).
    #[must_use]
    pub fn server_side() -> Self {
        Self {
            merges_concurrent_changes: true,
            revocable: true,
            check_expiry: true,
            lists_user_sessions: false,
        }
    }

    /// A client-side store (the cookie store): whole-session writes, unrevocable cookies.
    #[must_use]
    pub fn client_side() -> Self {
        Self {
            merges_concurrent_changes: false,
            revocable: false,
            ..Self::server_side()
        }
    }

    /// Sets [`merges_concurrent_changes`](Self::merges_concurrent_changes).
    #[must_use]
    pub fn merges_concurrent_changes(mut self, yes: bool) -> Self {
        self.merges_concurrent_changes = yes;
        self
    }

    /// Sets [`check_expiry`](Self::check_expiry).
    #[must_use]
    pub fn check_expiry(mut self, yes: bool) -> Self {
        self.check_expiry = yes;
        self
    }
}

fn entries(pairs: &[(&str, &str)]) -> Entries {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

mod apps;
mod users;
pub use apps::{mint_cookie, session_with};
const LONG: Duration = Duration::from_secs(600);

/// Runs every trait-level check on `store`.
///
/// # Panics
/// On the first broken promise, naming it.
pub async fn store_suite<S: SessionStore>(store: &S, caps: Capabilities) {
    let unknown = SessionId::generate();
    assert_eq!(
        store.load(&unknown, Keys::All, None).await.unwrap(),
        None,
        "unknown id loads as None"
    );
    let only = ["a".to_owned()];
    assert_eq!(
        store.load(&unknown, Keys::Only(&only), None).await.unwrap(),
        None,
        "unknown id loads as None with Keys::Only too"
    );
    assert!(
        !store.refresh(&unknown, LONG).await.unwrap(),
        "refresh of an unknown id is false"
    );
    store
        .delete(&unknown)
        .await
        .expect("deleting an unknown id succeeds");
    assert_eq!(
        store
            .save(&unknown, &ChangeSet::update().upsert("a", "1"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Gone,
        "an update of an unknown session is Gone"
    );
    assert_eq!(
        store.load(&unknown, Keys::All, None).await.unwrap(),
        None,
        "a Gone save writes nothing"
    );

    // Create, load whole and partial.
    let id = SessionId::generate();
    let big = format!("\"{}\"", "é".repeat(32 * 1024));
    let create = ChangeSet::create()
        .upsert("a", "1")
        .upsert("b", "\"two\"")
        .upsert("big", big.clone())
        .upsert("odd key: ✓.{}", "null");
    assert_eq!(
        store.save(&id, &create, LONG).await.unwrap(),
        SaveOutcome::Saved
    );
    let all = entries(&[
        ("a", "1"),
        ("b", "\"two\""),
        ("big", &big),
        ("odd key: ✓.{}", "null"),
    ]);
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        Some(all),
        "values round-trip exactly"
    );
    let some = ["b".to_owned(), "missing".to_owned()];
    assert_eq!(
        store.load(&id, Keys::Only(&some), None).await.unwrap(),
        Some(entries(&[("b", "\"two\"")])),
        "Keys::Only loads just those keys"
    );
    let none = ["missing".to_owned()];
    assert_eq!(
        store.load(&id, Keys::Only(&none), None).await.unwrap(),
        Some(Entries::new()),
        "Keys::Only of absent keys in a live session is Some(empty), not None"
    );

    // Updates touch only what they name.
    let update = ChangeSet::update()
        .upsert("a", "10")
        .remove("b")
        .remove("big");
    assert_eq!(
        store.save(&id, &update, LONG).await.unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        Some(entries(&[("a", "10"), ("odd key: ✓.{}", "null")]))
    );

    // A session emptied by removals is still alive.
    let empty = ChangeSet::update().remove("a").remove("odd key: ✓.{}");
    assert_eq!(
        store.save(&id, &empty, LONG).await.unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        Some(Entries::new()),
        "an emptied session still exists"
    );
    assert_eq!(
        store
            .save(&id, &ChangeSet::update().upsert("c", "3"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Saved,
        "an emptied session accepts updates"
    );

    // Clear drops every key not upserted.
    let clear = ChangeSet::update().clear().upsert("d", "4");
    assert_eq!(
        store.save(&id, &clear, LONG).await.unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        Some(entries(&[("d", "4")]))
    );
    assert!(
        store.refresh(&id, LONG).await.unwrap(),
        "refresh of a live session is true"
    );

    // Delete, then no write may resurrect it.
    store.delete(&id).await.unwrap();
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        None,
        "deleted means gone"
    );
    assert_eq!(
        store
            .save(&id, &ChangeSet::update().upsert("late", "1"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Gone,
        "a late write to a deleted session is Gone"
    );
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        None,
        "a late write does not resurrect"
    );
    assert!(
        !store.refresh(&id, LONG).await.unwrap(),
        "refresh does not resurrect"
    );

    // Renewal moves the data.
    let old = SessionId::generate();
    let new = SessionId::generate();
    store
        .save(&old, &ChangeSet::create().upsert("k", "1"), LONG)
        .await
        .unwrap();
    assert_eq!(
        store
            .renew(&old, &new, &ChangeSet::create().upsert("k", "1"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Saved,
        "renewing a live session is Saved"
    );
    assert_eq!(
        store.load(&old, Keys::All, None).await.unwrap(),
        None,
        "renew deletes the old id"
    );
    assert_eq!(
        store.load(&new, Keys::All, None).await.unwrap(),
        Some(entries(&[("k", "1")]))
    );

    // A logout wins over a late renewal: renewing a deleted session writes nothing.
    let logged_out = SessionId::generate();
    store
        .save(&logged_out, &ChangeSet::create().upsert("user", "1"), LONG)
        .await
        .unwrap();
    store.delete(&logged_out).await.unwrap();
    renewal_is_gone(store, &logged_out, "a deleted").await;
    renewal_is_gone(store, &old, "a renewed-away").await;

    if caps.merges_concurrent_changes {
        let id = SessionId::generate();
        store
            .save(&id, &ChangeSet::create().upsert("base", "0"), LONG)
            .await
            .unwrap();
        let writes = (0..16).map(|i| {
            let changes = ChangeSet::update().upsert(format!("k{i}"), i.to_string());
            let id = &id;
            async move { store.save(id, &changes, LONG).await.unwrap() }
        });
        for outcome in futures_util::future::join_all(writes).await {
            assert_eq!(outcome, SaveOutcome::Saved);
        }
        let got = store.load(&id, Keys::All, None).await.unwrap().unwrap();
        assert_eq!(
            got.len(),
            17,
            "concurrent changes to different keys are all kept: {got:?}"
        );
    }

    users::user_sessions_suite(store, caps).await;

    if caps.check_expiry {
        expiry_checks(store).await;
    }
}

/// Renewing `from`, which no longer exists, answers `Gone` and writes nothing under the new id.
async fn renewal_is_gone<S: SessionStore>(store: &S, from: &SessionId, what: &str) {
    let late = SessionId::generate();
    let whole = ChangeSet::create().upsert("user", "1");
    assert_eq!(
        store.renew(from, &late, &whole, LONG).await.unwrap(),
        SaveOutcome::Gone,
        "renewing {what} session is Gone"
    );
    assert_eq!(
        store.load(&late, Keys::All, None).await.unwrap(),
        None,
        "renewing {what} session writes nothing under the new id"
    );
}

async fn expiry_checks<S: SessionStore>(store: &S) {
    let short = Duration::from_secs(1);
    let expiring = SessionId::generate();
    let saved_long = SessionId::generate();
    let refreshed = SessionId::generate();
    let read_refreshed = SessionId::generate();
    for id in [&expiring, &saved_long, &refreshed, &read_refreshed] {
        store
            .save(id, &ChangeSet::create().upsert("k", "1"), short)
            .await
            .unwrap();
    }
    // Each of these pushes the TTL forward: an update, a refresh, a refreshing load.
    store
        .save(&saved_long, &ChangeSet::update().upsert("k", "2"), LONG)
        .await
        .unwrap();
    assert!(store.refresh(&refreshed, LONG).await.unwrap());
    assert!(store
        .load(&read_refreshed, Keys::All, Some(LONG))
        .await
        .unwrap()
        .is_some());

    // A store that keeps expiry in whole seconds may round a 1 s TTL up to 2 s; a further
    // second keeps a tick of the clock from deciding the result.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        store.load(&expiring, Keys::All, None).await.unwrap(),
        None,
        "a session expires after its TTL"
    );
    assert_eq!(
        store
            .save(&expiring, &ChangeSet::update().upsert("k", "9"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Gone,
        "an expired session is not revived by a write"
    );
    renewal_is_gone(store, &expiring, "an expired").await;
    for (id, what) in [
        (&saved_long, "a save"),
        (&refreshed, "refresh"),
        (&read_refreshed, "a refreshing load"),
    ] {
        assert!(
            store.load(id, Keys::All, None).await.unwrap().is_some(),
            "{what} pushes the TTL forward"
        );
    }
}

/// Runs every HTTP-level check on middlewares made by `make` (called once per check, so each
/// check starts from an empty store only if `make` builds a fresh store).
///
/// `make` must give middlewares with `Secure` off or on; the suite sends cookies directly.
///
/// # Panics
/// On the first broken promise, naming it.
pub async fn http_suite<F>(make: F, caps: Capabilities)
where
    F: Fn() -> SessionMiddleware,
{
    let barrier = Arc::new(Barrier::new(2));
    let gate = Arc::new(Gate::default());
    let app = test::init_service(
        App::new()
            .app_data(web::Data::from(barrier))
            .app_data(web::Data::from(gate.clone()))
            .wrap(make())
            .configure(routes),
    )
    .await;
    let app = &app;
    let call = |uri: &str, cookie: Option<&Cookie<'static>>| {
        let (uri, cookie) = (uri.to_owned(), cookie.cloned());
        async move { get(app, &uri, cookie).await }
    };

    // A visitor without a cookie who does not touch the session gets no cookie.
    let res = call("/noop", None).await;
    assert!(
        set_cookie(&res).is_none(),
        "untouched sessions set no cookie"
    );
    let res = call("/read", None).await;
    assert!(
        set_cookie(&res).is_none(),
        "reading an empty new session sets no cookie"
    );

    // Counting.
    let res = call("/counter", None).await;
    let cookie = set_cookie(&res).expect("a changed session sets a cookie");
    assert_eq!(body(res).await, "1");
    let res = call("/counter", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    assert_eq!(body(res).await, "2");
    let res = call("/read", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none(),
        "an unchanged session is not re-sent with refresh-on-update"
    );
    assert_eq!(
        vary(&res),
        Some("Cookie".into()),
        "a read session varies on Cookie"
    );
    assert_eq!(body(res).await, "2");
    let res = call("/noop", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none() && vary(&res).is_none(),
        "/noop leaves the session alone"
    );

    // Tampered cookies are a fresh session, never an error.
    let mut tampered = cookie.clone();
    let mut value = tampered.value().to_owned().into_bytes();
    let mid = value.len() / 2;
    value[mid] = if value[mid] == b'A' { b'B' } else { b'A' };
    tampered.set_value(String::from_utf8(value).unwrap());
    let res = call("/read", Some(&tampered)).await;
    assert_eq!(
        res.status(),
        200,
        "a tampered cookie is a fresh session, not an error"
    );
    assert_eq!(body(res).await, "0");
    let garbage = Cookie::new(cookie.name().to_owned(), "%%garbage\u{7f}".to_owned());
    let res = call("/read", Some(&garbage)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, "0");

    // Remove, clear.
    let res = call("/set/name/ferris", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    let res = call("/get/name", Some(&cookie)).await;
    assert_eq!(body(res).await, "ferris");
    let res = call("/remove/name", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    let res = call("/get/name", Some(&cookie)).await;
    assert_eq!(res.status(), 404, "removed keys are gone");
    let res = call("/clear", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    let res = call("/read", Some(&cookie)).await;
    assert_eq!(body(res).await, "0", "clear empties the session");

    // Renew: same data, new cookie; the old one dies where the store can revoke.
    let res = call("/counter", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    let res = call("/renew", Some(&cookie)).await;
    let renewed = set_cookie(&res).expect("renew sets a new cookie");
    if caps.revocable {
        assert_ne!(renewed.value(), cookie.value(), "renew changes the cookie");
    }
    let res = call("/read", Some(&renewed)).await;
    assert_eq!(body(res).await, "1", "renew keeps the data");
    if caps.revocable {
        let res = call("/read", Some(&cookie)).await;
        assert_eq!(body(res).await, "0", "the pre-renewal cookie is dead");
    }

    // Purge: a removal cookie with the same attributes; the old cookie dies where revocable.
    let res = call("/purge", Some(&renewed)).await;
    let removal = set_cookie(&res).expect("purge sends a removal cookie");
    assert_eq!(removal.value(), "", "the removal cookie is empty");
    assert_eq!(
        removal.max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
    assert_eq!(
        removal.path(),
        renewed.path(),
        "the removal cookie has the same Path"
    );
    assert_eq!(
        removal.domain(),
        renewed.domain(),
        "the removal cookie has the same Domain"
    );
    if caps.revocable {
        let res = call("/read", Some(&renewed)).await;
        assert_eq!(body(res).await, "0", "a purged session is gone");
    }

    // Logging out then writing starts a new session.
    let res = call("/purge-then-set", Some(&renewed)).await;
    let fresh = set_cookie(&res).expect("a session started after purge sets a cookie");
    assert!(!fresh.value().is_empty());
    let res = call("/get/flash", Some(&fresh)).await;
    assert_eq!(body(res).await, "bye");

    // A slow login racing a logout: request A loads the session, request B purges it and
    // completes, then A renews and writes.
    let res = call("/counter", None).await;
    let cookie = set_cookie(&res).expect("a changed session sets a cookie");
    let race = async {
        tokio::join!(call("/slow-renew", Some(&cookie)), async {
            gate.loaded.notified().await;
            let purged = call("/purge", Some(&cookie)).await;
            gate.go.notify_one();
            purged
        })
    };
    let (renewed, purged) = tokio::time::timeout(Duration::from_secs(10), race)
        .await
        .expect("a renewal racing a purge completes");
    assert!(
        renewed.status().is_success() && purged.status().is_success(),
        "a renewal racing a purge: both requests succeed ({}, {})",
        renewed.status(),
        purged.status()
    );
    let removal = set_cookie(&purged).expect("purge sends a removal cookie");
    assert_eq!(removal.value(), "", "the purge's cookie is a removal");
    let after = set_cookie(&renewed);
    if caps.revocable {
        // The logout stands: the renewal answers no live session (a removal, no cookie, or a
        // cookie that opens an empty session), and the old cookie opens nothing either.
        for (what, cookie) in [
            ("the renewal's cookie", after.as_ref()),
            ("the old cookie", Some(&cookie)),
        ] {
            let Some(cookie) = cookie.filter(|c| !c.value().is_empty()) else {
                continue;
            };
            let res = call("/read", Some(cookie)).await;
            assert_eq!(
                body(res).await,
                "0",
                "a renewal after a concurrent purge does not undo the logout: {what} opens the \
                 purged data"
            );
            let res = call("/get/late", Some(cookie)).await;
            assert_eq!(
                res.status(),
                404,
                "a renewal after a concurrent purge does not undo the logout: {what} opens the \
                 renewal's write"
            );
        }
    } else {
        // A client-side session cannot be revoked: the purge removes only the cookie its own
        // response carries, and the renewal re-issues the whole session it holds. Whichever
        // response the browser applies last wins; neither is an error or a half-written cookie.
        let after = after.expect("the renewal re-issues the session");
        let res = call("/read", Some(&after)).await;
        assert_eq!(
            body(res).await,
            "1",
            "the renewal's cookie holds its session"
        );
        let res = call("/get/late", Some(&after)).await;
        assert_eq!(body(res).await, "renewed");
    }

    if caps.merges_concurrent_changes {
        let res = call("/counter", None).await;
        let cookie = set_cookie(&res).unwrap();
        let (a, b) = tokio::join!(
            call("/slow-set/left/1", Some(&cookie)),
            call("/slow-set/right/2", Some(&cookie))
        );
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
        for key in ["left", "right"] {
            let res = call(&format!("/get/{key}"), Some(&cookie)).await;
            assert_eq!(
                body(res).await,
                key.replace("left", "1").replace("right", "2"),
                "concurrent change of `{key}` kept"
            );
        }
    }
}

/// Lines a slow request up with others: it says when it has loaded the session, then waits.
#[derive(Debug, Default)]
struct Gate {
    loaded: Notify,
    go: Notify,
}

/// The routes [`http_suite`] drives, for your own tests too (all GET): `/noop`; `/read` (the
/// `u64` under `counter`, 0 if absent); `/counter` (increments it); `/set/{k}/{v}`;
/// `/get/{k}` (404 if absent); `/remove/{k}`; `/clear`; `/renew`; `/purge`;
/// `/purge-then-set` (purges, then sets `flash`); `/slow-set/{k}/{v}` (waits on a
/// `web::Data<tokio::sync::Barrier>` before setting, to line up concurrent requests);
/// `/slow-renew` (used by [`http_suite`] only: once loaded, waits for the suite's go-ahead, then
/// renews and sets `late`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    async fn read(s: Session) -> actix_web::Result<HttpResponse> {
        Ok(HttpResponse::Ok().body(s.get::<u64>("counter")?.unwrap_or(0).to_string()))
    }
    async fn counter(s: Session) -> actix_web::Result<HttpResponse> {
        Ok(HttpResponse::Ok().body(s.update_or("counter", 1u64, |n| n + 1)?.to_string()))
    }
    async fn set(s: Session, p: web::Path<(String, String)>) -> actix_web::Result<HttpResponse> {
        let (k, v) = p.into_inner();
        s.insert(k, v)?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn slow_set(
        s: Session,
        p: web::Path<(String, String)>,
        barrier: web::Data<Barrier>,
    ) -> actix_web::Result<HttpResponse> {
        // Both requests have loaded the session before either writes.
        barrier.wait().await;
        set(s, p).await
    }
    async fn slow_renew(s: Session, gate: web::Data<Gate>) -> actix_web::Result<HttpResponse> {
        gate.loaded.notify_one();
        gate.go.notified().await;
        s.renew();
        s.insert("late", "renewed")?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn get_key(s: Session, k: web::Path<String>) -> actix_web::Result<HttpResponse> {
        Ok(match s.get::<String>(&k)? {
            Some(v) => HttpResponse::Ok().body(v),
            None => HttpResponse::NotFound().finish(),
        })
    }
    async fn remove(s: Session, k: web::Path<String>) -> actix_web::Result<HttpResponse> {
        s.remove(&k)?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn purge_then_set(s: Session) -> actix_web::Result<HttpResponse> {
        s.purge();
        s.insert("flash", "bye")?;
        Ok(HttpResponse::Ok().finish())
    }
    cfg.route("/noop", web::get().to(HttpResponse::Ok))
        .route("/read", web::get().to(read))
        .route("/counter", web::get().to(counter))
        .route("/set/{k}/{v}", web::get().to(set))
        .route("/slow-set/{k}/{v}", web::get().to(slow_set))
        .route("/slow-renew", web::get().to(slow_renew))
        .route("/get/{k}", web::get().to(get_key))
        .route("/remove/{k}", web::get().to(remove))
        .route(
            "/clear",
            web::get().to(|s: Session| async move {
                s.clear();
                HttpResponse::Ok().finish()
            }),
        )
        .route(
            "/renew",
            web::get().to(|s: Session| async move {
                s.renew();
                HttpResponse::Ok().finish()
            }),
        )
        .route(
            "/purge",
            web::get().to(|s: Session| async move {
                s.purge();
                HttpResponse::Ok().finish()
            }),
        )
        .route("/purge-then-set", web::get().to(purge_then_set));
}

/// The `Set-Cookie` of a response, if any.
#[must_use]
pub fn set_cookie<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
    res.response().cookies().next().map(Cookie::into_owned)
}

fn vary<B>(res: &ServiceResponse<B>) -> Option<String> {
    res.headers()
        .get(actix_web::http::header::VARY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Sends `GET uri` to a test service, with `cookie` if given.
pub async fn get<S, B>(app: &S, uri: &str, cookie: Option<Cookie<'static>>) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(c) = cookie {
        req = req.cookie(c);
    }
    test::call_service(app, req.to_request()).await
}

/// The body of a response as text.
///
/// # Panics
/// If the body is not UTF-8.
pub async fn body<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).expect("utf-8 body")
}
