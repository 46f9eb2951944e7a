//! The maximum lifetime: counted from a session's creation, never extended by refreshes or
//! renewals, enforced by the store's TTL and by the cookie itself, and started afresh by every
//! new session, including one that replaces a dead session whose cookie is still presented.
//!
//! Creation times and expiries are whole Unix seconds. Tests that let time pass use a 4 s
//! lifetime and move the store's and the middleware's shared manual clock from `t0`, taken just
//! after the sessions were created: at [`MIDWAY`] a session is at least 2 whole seconds old and
//! still alive (it is under 3 s old, whatever second it started in), and from [`PAST`] it is
//! refused. Nothing sleeps. Everything else asserts the TTL the store was given.

mod support;

use std::time::{Duration, SystemTime};

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{CookieStore, SessionStore},
    testing::{body, get, set_cookie},
    Clock, CookieLifecycle, SessionMiddleware, SessionMiddlewareBuilder, TtlRefresh,
};
use actix_web::{
    body::MessageBody,
    cookie::{Cookie, Key},
    dev::{Service, ServiceResponse},
};
use support::{routes, GivenTtl, Instrumented, Logs, TtlCall};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
/// The lifetime of the tests that wait for it.
const MAX: Duration = Duration::from_secs(4);
/// After `t0`: at least 2 whole seconds old, under 3 s old (0.8 s to spare).
const MIDWAY: Duration = Duration::from_millis(2200);
/// After `t0`: at least `MAX` old, so past the maximum lifetime.
const PAST: Duration = Duration::from_millis(4200);

/// A memory-store middleware whose store calls are recorded, with a 1-day TTL and persistent
/// cookies (so `Max-Age` shows the TTL each cookie was written with).
fn server(store: &Instrumented, key: &Key, max: Option<Duration>) -> SessionMiddlewareBuilder {
    SessionMiddleware::builder(store.clone(), key.clone())
        .clock(store.clock.clone())
        .ttl(DAY)
        .cookie_lifecycle(CookieLifecycle::Persistent)
        .max_lifetime(max)
}

/// The cookie-store twin of [`server`], on the same clock as `store`.
fn client(store: &Instrumented, key: &Key, max: Option<Duration>) -> SessionMiddlewareBuilder {
    SessionMiddleware::builder(CookieStore::encrypted(), key.clone())
        .clock(store.clock.clone())
        .ttl(DAY)
        .cookie_lifecycle(CookieLifecycle::Persistent)
        .max_lifetime(max)
}

/// Time on a manual clock, counted from the moment it was started.
struct Timeline {
    clock: Clock,
    passed: Duration,
}

impl Timeline {
    fn start(clock: &Clock) -> Self {
        Self {
            clock: clock.clone(),
            passed: Duration::ZERO,
        }
    }

    /// Moves the clock on until `after` has passed since the start.
    fn to(&mut self, after: Duration) {
        self.clock.advance(after.saturating_sub(self.passed));
        self.passed = self.passed.max(after);
    }
}

fn max_age(cookie: &Cookie<'_>) -> Duration {
    let age = cookie.max_age().expect("a persistent cookie has a Max-Age");
    Duration::from_secs(age.whole_seconds().try_into().unwrap())
}

/// `GET uri` with `cookie`: the new cookie it sets, or `cookie` itself when it sets none.
async fn step<S, B>(app: &S, uri: &str, cookie: &Cookie<'static>) -> Cookie<'static>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let res = get(app, uri, Some(cookie)).await;
    assert!(res.status().is_success(), "{uri}: {}", res.status());
    set_cookie(&res).unwrap_or_else(|| cookie.clone())
}

/// The counter `/read` finds with `cookie`: "0" when the session is refused or gone.
async fn read<S, B: MessageBody>(app: &S, cookie: &Cookie<'static>) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    body(get(app, "/read", Some(cookie)).await).await
}

/// The only TTL given to the store since the last look, by a `call`.
fn only_ttl(store: &Instrumented, call: TtlCall) -> GivenTtl {
    let given = store.take_ttls();
    assert!(
        given.len() == 1 && given[0].call == call,
        "one {call:?} expected: {given:?}"
    );
    given[0]
}

/// Every TTL ends by `created + max` (one second of slack: creation is a whole second).
fn assert_within_lifetime(given: &GivenTtl, created_by: SystemTime, max: Duration) {
    assert!(
        given.expiry() <= created_by + max + Duration::from_secs(1),
        "{given:?} outlives a session created by {created_by:?} with a maximum lifetime of {max:?}"
    );
}

#[actix_web::test]
async fn the_store_ttl_is_capped_by_the_remaining_lifetime() {
    let max = Duration::from_secs(100);
    let store = Instrumented::manual_clock();
    let key = Key::generate();
    let app = serve(routes, server(&store, &key, Some(max)).build()).await;
    let cookies = serve(routes, client(&store, &key, Some(max)).build()).await;

    let res = get(&app, "/counter", None).await;
    let created_by = store.clock.now();
    let cookie = set_cookie(&res).unwrap();
    let save = only_ttl(&store, TtlCall::Save);
    assert!(
        (max - Duration::from_secs(1)..=max).contains(&save.ttl),
        "a new session's store TTL is its whole lifetime, not the 1-day TTL: {save:?}"
    );
    assert!(max_age(&cookie) <= max, "{cookie}");

    let cookie = step(&app, "/counter", &cookie).await;
    assert_within_lifetime(&only_ttl(&store, TtlCall::Save), created_by, max);
    assert!(max_age(&cookie) <= max, "{cookie}");
    let renewed = step(&app, "/renew", &cookie).await;
    assert_within_lifetime(&only_ttl(&store, TtlCall::Renew), created_by, max);
    assert!(max_age(&renewed) <= max, "{renewed}");
    assert_eq!(read(&app, &renewed).await, "2");

    let sealed = set_cookie(&get(&cookies, "/counter", None).await).unwrap();
    assert!(
        max_age(&sealed) <= max,
        "the cookie store's cookie lives no longer than the session may: {sealed}"
    );
    let sealed = step(&cookies, "/counter", &sealed).await;
    assert!(max_age(&sealed) <= max, "{sealed}");
}

#[actix_web::test]
async fn a_cookie_older_than_the_maximum_lifetime_is_refused() {
    let (logs, _guard) = Logs::capture();
    let store = Instrumented::manual_clock();
    let key = Key::generate();
    // Cookies issued without a maximum lifetime, then read by a middleware that has one (as
    // when an operator introduces or shortens it): only the lifetime check can refuse them.
    let server_unlimited = serve(routes, server(&store, &key, None).build()).await;
    let server_limited = serve(routes, server(&store, &key, Some(MAX)).build()).await;
    let client_unlimited = serve(routes, client(&store, &key, None).build()).await;
    let client_limited = serve(routes, client(&store, &key, Some(MAX)).build()).await;
    let id_cookie = set_cookie(&get(&server_unlimited, "/counter", None).await).unwrap();
    let sealed = set_cookie(&get(&client_unlimited, "/counter", None).await).unwrap();
    let mut t0 = Timeline::start(&store.clock);

    assert_eq!(read(&server_limited, &id_cookie).await, "1", "young: read");
    assert_eq!(read(&client_limited, &sealed).await, "1", "young: read");

    t0.to(PAST);
    assert_eq!(
        read(&server_limited, &id_cookie).await,
        "0",
        "a server-side session past its maximum lifetime is refused"
    );
    assert_eq!(
        read(&client_limited, &sealed).await,
        "0",
        "a cookie-store session past its maximum lifetime is refused"
    );
    assert_eq!(
        read(&server_unlimited, &id_cookie).await,
        "1",
        "without the limit the same session is alive: the lifetime refused it, not its TTL"
    );
    assert_eq!(read(&client_unlimited, &sealed).await, "1");
    assert!(logs.text().contains("lifetime"), "{}", logs.text());
}

#[actix_web::test]
async fn refreshes_cannot_extend_the_maximum_lifetime() {
    let key = Key::generate();
    let mut sessions = Vec::new();
    // One clock for both policies' stores and middlewares.
    let clock = Clock::manual();
    for refresh in [TtlRefresh::OnAccess, TtlRefresh::OnEveryRequest] {
        let store = Instrumented::on_clock(&clock);
        let server = serve(
            routes,
            server(&store, &key, Some(MAX)).refresh(refresh).build(),
        )
        .await;
        let client = serve(
            routes,
            client(&store, &key, Some(MAX)).refresh(refresh).build(),
        )
        .await;
        let id_cookie = set_cookie(&get(&server, "/counter", None).await).unwrap();
        let sealed = set_cookie(&get(&client, "/counter", None).await).unwrap();
        store.take_ttls();
        sessions.push((refresh, store, server, client, id_cookie, sealed));
    }
    let mut t0 = Timeline::start(&clock);
    let created_by = clock.now();

    t0.to(MIDWAY);
    let mut refreshed = Vec::new();
    for (refresh, store, server, client, id_cookie, sealed) in &sessions {
        let res = get(server, "/read", Some(id_cookie)).await;
        let id_cookie = set_cookie(&res).expect("a persistent cookie is re-sent on refresh");
        assert_eq!(body(res).await, "1", "{refresh:?}: alive midway");
        let given = store.take_ttls();
        assert_eq!(given.len(), 1, "{refresh:?}: one refresh: {given:?}");
        assert!(
            given[0].ttl <= MAX - Duration::from_secs(2),
            "{refresh:?}: a refresh 2 s into a {MAX:?} lifetime gives at most what remains: {:?}",
            given[0]
        );
        assert_within_lifetime(&given[0], created_by, MAX);
        assert!(
            max_age(&id_cookie) <= MAX - Duration::from_secs(2),
            "{id_cookie}"
        );

        let res = get(client, "/read", Some(sealed)).await;
        let sealed = set_cookie(&res).expect("a cookie-store refresh re-seals the cookie");
        assert_eq!(body(res).await, "1", "{refresh:?}: alive midway");
        assert!(
            max_age(&sealed) <= MAX - Duration::from_secs(2),
            "{refresh:?}: the re-sealed cookie lives no longer than what remains: {sealed}"
        );
        refreshed.push((id_cookie, sealed));
    }

    t0.to(PAST);
    for ((refresh, _, server, client, ..), (id_cookie, sealed)) in sessions.iter().zip(&refreshed) {
        assert_eq!(read(server, id_cookie).await, "0", "{refresh:?}: server");
        assert_eq!(read(client, sealed).await, "0", "{refresh:?}: cookie store");
    }
}

#[actix_web::test]
async fn renew_keeps_the_creation_time() {
    let store = Instrumented::manual_clock();
    let key = Key::generate();
    let server = serve(routes, server(&store, &key, Some(MAX)).build()).await;
    let client = serve(routes, client(&store, &key, Some(MAX)).build()).await;
    let id_cookie = set_cookie(&get(&server, "/counter", None).await).unwrap();
    let sealed = set_cookie(&get(&client, "/counter", None).await).unwrap();
    let mut t0 = Timeline::start(&store.clock);
    let created_by = store.clock.now();
    store.take_ttls();

    t0.to(MIDWAY);
    let renewed = step(&server, "/renew", &id_cookie).await;
    assert_ne!(renewed.value(), id_cookie.value());
    let renew = only_ttl(&store, TtlCall::Renew);
    assert!(
        renew.ttl <= MAX - Duration::from_secs(2),
        "a renewal 2 s into the session's life does not restart it: {renew:?}"
    );
    assert_within_lifetime(&renew, created_by, MAX);
    let resealed = step(&client, "/renew", &sealed).await;
    assert!(
        max_age(&resealed) <= MAX - Duration::from_secs(2),
        "{resealed}"
    );
    assert_eq!(read(&server, &renewed).await, "1", "renewed, alive");
    assert_eq!(read(&client, &resealed).await, "1", "renewed, alive");

    t0.to(PAST);
    assert_eq!(
        read(&server, &renewed).await,
        "0",
        "the renewed session ends when the original would have"
    );
    assert_eq!(read(&client, &resealed).await, "0");
}

/// Item 4 of issue 12: a session created in place of a dead one (its cookie still verifies)
/// is a new session, with its own creation time and the configured TTL.
#[actix_web::test]
async fn a_session_started_in_place_of_a_dead_one_gets_a_full_lifetime() {
    let store = Instrumented::manual_clock();
    let key = Key::generate();
    let server = serve(routes, server(&store, &key, Some(MAX)).build()).await;
    let client = serve(routes, client(&store, &key, Some(MAX)).build()).await;
    // Three server-side sessions that will die in different ways, and a cookie-store one.
    let expiring = set_cookie(&get(&server, "/counter", None).await).unwrap();
    let expiring = step(&server, "/ttl/1", &expiring).await;
    let lost = set_cookie(&get(&server, "/counter", None).await).unwrap();
    let lost_id = body(get(&server, "/id", Some(&lost)).await).await;
    let logged_out = set_cookie(&get(&server, "/counter", None).await).unwrap();
    let sealed = set_cookie(&get(&client, "/counter", None).await).unwrap();
    let sealed = step(&client, "/ttl/1", &sealed).await;
    let mut t0 = Timeline::start(&store.clock);
    store.take_ttls();

    t0.to(MIDWAY);
    // Expired in the store by its own 1 s TTL; lost by the store (eviction, a flush).
    store
        .inner
        .delete(&lost_id.as_str().try_into().unwrap())
        .await
        .unwrap();
    let mut fresh = Vec::new();
    let mut short = Vec::new();
    for (what, dead, uri) in [
        ("expired", &expiring, "/counter"),
        ("lost", &lost, "/counter"),
        ("logged out", &logged_out, "/purge-then-set"),
    ] {
        let res = get(&server, uri, Some(dead)).await;
        let cookie = set_cookie(&res).unwrap_or_else(|| panic!("{what}: a new session"));
        assert!(!cookie.value().is_empty(), "{what}: a new session");
        let saves: Vec<_> = store
            .take_ttls()
            .into_iter()
            .filter(|g| g.call == TtlCall::Save)
            .collect();
        assert_eq!(
            saves.len(),
            1,
            "{what}: the new session is saved: {saves:?}"
        );
        if saves[0].ttl < MAX - Duration::from_secs(1)
            || max_age(&cookie) < MAX - Duration::from_secs(1)
        {
            short.push(format!("{what}: store TTL {:?}, {cookie}", saves[0].ttl));
        }
        fresh.push((what, uri, cookie));
    }
    assert!(
        short.is_empty(),
        "a new session's store TTL and cookie are a whole lifetime (not the configured TTL capped \
         by the dead session's age, nor the dead session's TTL): {short:#?}"
    );
    let res = get(&client, "/counter", Some(&sealed)).await;
    let resealed = set_cookie(&res).expect("the cookie store starts a new session");
    assert_eq!(
        body(res).await,
        "1",
        "the expired cookie-store session is not read"
    );
    assert!(
        max_age(&resealed) >= MAX - Duration::from_secs(1),
        "{resealed}"
    );

    t0.to(PAST);
    for (what, uri, cookie) in &fresh {
        let (route, expected) = if *uri == "/counter" {
            ("/read", "1")
        } else {
            ("/get/flash", "bye")
        };
        assert_eq!(
            body(get(&server, route, Some(cookie)).await).await,
            expected,
            "{what}: the new session is not refused at the dead one's maximum lifetime"
        );
    }
    assert_eq!(read(&client, &resealed).await, "1");
}

#[actix_web::test]
async fn a_remember_me_ttl_does_not_carry_into_a_new_session() {
    let store = Instrumented::manual_clock();
    let key = Key::generate();
    let app = serve(routes, server(&store, &key, None).build()).await;
    let month = Duration::from_secs(30 * 24 * 60 * 60);
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    store.take_ttls();
    let remembered = step(&app, &format!("/ttl/{}", month.as_secs()), &cookie).await;
    assert_eq!(max_age(&remembered), month);
    assert_eq!(only_ttl(&store, TtlCall::Save).ttl, month);
    let id = body(get(&app, "/id", Some(&remembered)).await).await;
    store
        .inner
        .delete(&id.as_str().try_into().unwrap())
        .await
        .unwrap();

    let res = get(&app, "/counter", Some(&remembered)).await;
    let fresh = set_cookie(&res).expect("a new session");
    assert_eq!(body(res).await, "1");
    assert_eq!(
        only_ttl(&store, TtlCall::Save).ttl,
        DAY,
        "a session created in place of a dead remembered one has the configured TTL"
    );
    assert_eq!(max_age(&fresh), DAY);
    let later = step(&app, "/counter", &fresh).await;
    assert_eq!(
        only_ttl(&store, TtlCall::Save).ttl,
        DAY,
        "and keeps it on later writes"
    );
    assert_eq!(max_age(&later), DAY);
}

#[actix_web::test]
async fn a_session_started_after_purge_has_the_configured_ttl() {
    let store = Instrumented::manual_clock();
    let key = Key::generate();
    let server = serve(routes, server(&store, &key, None).build()).await;
    let client = serve(routes, client(&store, &key, None).build()).await;
    let month = format!("/ttl/{}", 30 * 24 * 60 * 60);
    // Each store's cookies, and the server's store, must show the configured TTL after purge.
    let mut wrong = Vec::new();
    for (what, app) in [("server", &server), ("cookie store", &client)] {
        let cookie = set_cookie(&get(app, "/counter", None).await).unwrap();
        let remembered = step(app, &month, &cookie).await;
        assert_eq!(max_age(&remembered), Duration::from_secs(30 * 24 * 60 * 60));
        store.take_ttls();
        let res = get(app, "/purge-then-set", Some(&remembered)).await;
        let fresh = set_cookie(&res).expect("a new session");
        assert!(!fresh.value().is_empty(), "{what}: a new session");
        let later = step(app, "/counter", &fresh).await;
        assert_eq!(
            body(get(app, "/get/flash", Some(&later)).await).await,
            "bye"
        );
        for (when, cookie) in [("after purge", &fresh), ("on the next write", &later)] {
            if max_age(cookie) != DAY {
                wrong.push(format!("{what}, {when}: {cookie}"));
            }
        }
        let given = store.take_ttls();
        if given.iter().any(|g| g.ttl != DAY) {
            wrong.push(format!("{what}: store TTLs {given:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "a session started after purge has the configured TTL, not the purged one's: {wrong:#?}"
    );
}
