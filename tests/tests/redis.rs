//! The Redis store against a real `redis-server` started for each test.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use actix_typed_session::{
    store::{ChangeSet, Keys, RedisConfigError, RedisPool, RedisStore, SaveOutcome, SessionStore},
    testing::{self, body, get, set_cookie, Capabilities},
    Session, SessionId, SessionMiddleware, SessionMiddlewareBuilder, StoreError, TtlRefresh,
};
use actix_web::{cookie::Key, test, web, App, HttpResponse};
use session_tests::redis_server::{count_commands, RedisServer};

mod redis_support;
use tokio::sync::Notify;

/// Short timeouts so failure tests finish quickly; the deadline is 300 + 2 × 300 ms.
fn pool(server: &RedisServer) -> RedisPool {
    RedisPool::builder(server.url())
        .connect_timeout(Duration::from_millis(300))
        .response_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

fn store(server: &RedisServer) -> RedisStore {
    RedisStore::new(pool(server))
}

fn middleware(store: &RedisStore, key: &Key) -> SessionMiddleware {
    builder(store, key).build()
}

/// Secure off: the test client sends cookies over plain HTTP.
fn builder(store: &RedisStore, key: &Key) -> SessionMiddlewareBuilder {
    SessionMiddleware::builder(store.clone(), key.clone()).cookie_secure(false)
}

/// The one session key in a fresh server.
fn only_session_key(server: &RedisServer) -> String {
    let keys = server.cli(&["KEYS", "session:*"]);
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys.len(), 1, "exactly one session in Redis: {keys:?}");
    keys[0].to_owned()
}

/// The whole body of every 500 the library answers: nothing of the cause.
const OPAQUE_500: &str = "Internal Server Error";
/// The whole body of every 503 (a store outage or timeout): nothing of the cause either.
const OPAQUE_503: &str = "Service Unavailable";

#[actix_web::test]
async fn passes_the_store_suite() {
    let server = RedisServer::start();
    testing::store_suite(&store(&server), Capabilities::server_side()).await;
}

#[actix_web::test]
async fn passes_the_http_suite() {
    let server = RedisServer::start();
    let store = store(&server);
    let key = Key::generate();
    testing::http_suite(|| middleware(&store, &key), Capabilities::server_side()).await;
}

/// Release 1 and release 2 of typed sessions on one Redis: stale values reset (and leave
/// Redis with the next save), migrate, or error; versions and removed keys.
#[actix_web::test]
async fn typed_sessions_survive_a_deploy() {
    let server = RedisServer::start();
    let store = store(&server);
    testing::deploy_suite(middleware(&store, &Key::generate())).await;
}

#[actix_web::test]
async fn store_futures_stay_small() {
    // The pool's and the `redis` crate's futures are tens of KiB in debug builds; the store
    // boxes them so that nesting store calls does not overflow a thread's stack.
    let server = RedisServer::start();
    let store = store(&server);
    let id = SessionId::generate();
    let changes = ChangeSet::update();
    let ttl = Duration::from_secs(1);
    assert!(std::mem::size_of_val(&store.load(&id, Keys::All, None)) < 1024);
    assert!(std::mem::size_of_val(&store.save(&id, &changes, ttl)) < 1024);
    assert!(std::mem::size_of_val(&store.renew(&id, &id, &changes, ttl)) < 1024);
    // Getting a connection is a clone on the fast path; only opening one is a large future.
    assert!(std::mem::size_of_val(&store.pool().get()) < 256);
}

/// Connections Redis has accepted so far (`INFO stats`), not counting the one asking.
fn connections_received(server: &RedisServer) -> u64 {
    let info = server.cli(&["INFO", "stats"]);
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .expect("INFO stats has total_connections_received");
    line.trim().parse::<u64>().unwrap() - 1
}

/// Threads take the pool's connections in turn on their first call: each keeps its own while
/// there are enough, and all of a thread's concurrent calls share its one connection.
#[::core::prelude::v1::test] // The plain `test` here is actix-web's.
fn threads_take_turns_over_the_pools_connections() {
    let server = RedisServer::start();
    let ttl = Duration::from_secs(60);
    for (threads, connections, expected) in [(1, 3, 1), (3, 1, 1), (3, 3, 3), (4, 2, 2)] {
        let pool = RedisPool::builder(server.url()).connections(connections);
        let store = RedisStore::new(pool.build().unwrap());
        let before = connections_received(&server);
        // Every thread keeps its runtime running (and with it the driver tasks of the
        // connections it opened) until all threads are done.
        let done = tokio::sync::Barrier::new(threads);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        let ids: Vec<SessionId> = (0..32).map(|_| SessionId::generate()).collect();
                        let changes = ChangeSet::create().upsert("a", "1");
                        let saves = ids.iter().map(|id| store.save(id, &changes, ttl));
                        for saved in futures_util::future::join_all(saves).await {
                            assert_eq!(saved.unwrap(), SaveOutcome::Saved);
                        }
                        let loads = ids.iter().map(|id| store.load(id, Keys::All, None));
                        for loaded in futures_util::future::join_all(loads).await {
                            assert_eq!(loaded.unwrap().unwrap().len(), 1);
                        }
                        done.wait().await;
                    });
                });
            }
        });
        // The cli's own connections are counted too: one per `connections_received`.
        let opened = connections_received(&server) - before - 1;
        assert_eq!(
            opened, expected,
            "{threads} thread(s) making 64 concurrent calls each on {connections} connection(s)"
        );
    }
}

#[actix_web::test]
async fn connections_idle_past_the_idle_check_are_pinged_first() {
    let server = RedisServer::start();
    let pool = RedisPool::builder(server.url())
        .idle_check(Duration::ZERO)
        .build()
        .unwrap();
    let store = RedisStore::new(pool);
    let id = SessionId::generate();
    store.load(&id, Keys::All, None).await.unwrap();
    let _ = server.cli(&["CONFIG", "RESETSTAT"]);
    for _ in 0..5 {
        assert_eq!(store.load(&id, Keys::All, None).await.unwrap(), None);
    }
    let stats = server.command_stats();
    assert_eq!(stats.get("hgetall"), Some(&5));
    assert_eq!(stats.get("ping"), Some(&5), "{stats:?}");
}

#[actix_web::test]
async fn round_trips_per_request_stay_within_budget() {
    let server = RedisServer::start();
    let store = store(&server);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let report =
        redis_support::check_round_trips(&app, &[&server], &redis_support::budgets(2)).await;
    eprintln!("{}", report.join("\n"));
}

#[actix_web::test]
async fn every_update_resets_the_ttl_in_redis() {
    let server = RedisServer::start();
    let store = store(&server);
    let key = Key::generate();
    let app = testing::serve(
        testing::routes,
        builder(&store, &key).ttl(Duration::from_secs(1000)).build(),
    )
    .await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    let redis_key = only_session_key(&server);
    let ttl =
        |server: &RedisServer| -> i64 { server.cli(&["TTL", &redis_key]).trim().parse().unwrap() };
    assert!(
        (990..=1000).contains(&ttl(&server)),
        "a new session gets the TTL"
    );

    // Age the session, then change it: the TTL is back to full.
    for (uri, what) in [
        ("/counter", "an update"),
        ("/set/a/b", "an insert"),
        ("/remove/a", "a removal"),
    ] {
        let _ = server.cli(&["EXPIRE", &redis_key, "50"]);
        let res = get(&app, uri, Some(&cookie)).await;
        assert_eq!(res.status(), 200);
        assert!(
            (990..=1000).contains(&ttl(&server)),
            "{what} resets the TTL"
        );
    }

    // Refresh-on-update: a read leaves the TTL alone.
    let _ = server.cli(&["EXPIRE", &redis_key, "50"]);
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(body(res).await, "2", "one update counted");
    // A positive range: -1 (no expiry) and -2 (gone) are failures too.
    assert!(
        (1..=50).contains(&ttl(&server)),
        "a read does not refresh with TtlRefresh::OnUpdate"
    );
}

#[actix_web::test]
async fn refresh_on_access_folds_the_ttl_reset_into_the_read() {
    let server = RedisServer::start();
    let store = store(&server);
    let app = testing::serve(
        testing::routes,
        builder(&store, &Key::generate())
            .ttl(Duration::from_secs(1000))
            .refresh(TtlRefresh::OnAccess)
            .build(),
    )
    .await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    let redis_key = only_session_key(&server);
    // Let Redis learn the script before counting.
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(res.status(), 200);

    let _ = server.cli(&["EXPIRE", &redis_key, "50"]);
    let count = count_commands(&[&server], async {
        let res = get(&app, "/read", Some(&cookie)).await;
        assert_eq!(body(res).await, "1");
    })
    .await;
    let ttl: i64 = server.cli(&["TTL", &redis_key]).trim().parse().unwrap();
    assert!((990..=1000).contains(&ttl), "the read refreshed the TTL");
    assert_eq!(
        count.round_trips(),
        1,
        "load and refresh in one round trip: {count:?}"
    );
}

#[actix_web::test]
async fn a_session_expires_when_its_ttl_runs_out() {
    let server = RedisServer::start();
    let store = store(&server);
    let app = testing::serve(
        testing::routes,
        builder(&store, &Key::generate())
            .ttl(Duration::from_secs(1))
            .build(),
    )
    .await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    let redis_key = only_session_key(&server);
    let pttl: i64 = server.cli(&["PTTL", &redis_key]).trim().parse().unwrap();
    assert!(
        (1..=1000).contains(&pttl),
        "Redis holds the 1 s TTL: {pttl}"
    );
    // Redis expires the key by itself; wait for that (bounded), no fixed sleep.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.cli(&["EXISTS", &redis_key]).trim() != "0" {
        assert!(Instant::now() < deadline, "the key did not expire");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(body(res).await, "0", "an expired session reads as empty");
    let res = get(&app, "/counter", Some(&cookie)).await;
    let fresh = set_cookie(&res).expect("a fresh session gets a cookie");
    assert_ne!(fresh.value(), cookie.value(), "never the expired id again");
    assert_eq!(body(res).await, "1");
}

#[actix_web::test]
async fn sessions_are_hashes_with_a_marker_and_other_values_are_a_fresh_session() {
    let server = RedisServer::start();
    let store = store(&server);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let res = get(&app, "/set/name/ferris", None).await;
    let cookie = set_cookie(&res).unwrap();
    let redis_key = only_session_key(&server);
    assert_eq!(server.cli(&["TYPE", &redis_key]).trim(), "hash");
    assert_eq!(
        server.cli(&["HGET", &redis_key, "name"]).trim(),
        "\"ferris\""
    );
    assert_eq!(
        server.cli(&["HLEN", &redis_key]).trim(),
        "2",
        "one field plus the marker"
    );

    // Removing the last key keeps the session.
    let res = get(&app, "/remove/name", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(server.cli(&["EXISTS", &redis_key]).trim(), "1");
    let res = get(&app, "/set/again/1", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none_or(|c| c.value() == cookie.value()),
        "same session"
    );
    assert_eq!(server.cli(&["HGET", &redis_key, "again"]).trim(), "\"1\"");

    // Something else under the key: the visitor gets a fresh session, not an error.
    let _ = server.cli(&["DEL", &redis_key]);
    let _ = server.cli(&["SET", &redis_key, "not a hash"]);
    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, "1");
    let _ = server.cli(&["DEL", &redis_key]);
    let _ = server.cli(&["HSET", &redis_key, "counter", "41"]);
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        body(res).await,
        "0",
        "a hash without the marker is not trusted"
    );
}

/// A value another deployment stored under a key in another type: reading it is an opaque
/// 500, and removing the key recovers the session.
#[actix_web::test]
async fn a_mistyped_stored_value_is_an_opaque_500_until_removed() {
    let server = RedisServer::start();
    let store = store(&server);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let res = get(&app, "/set/name/ferris", None).await;
    let cookie = set_cookie(&res).unwrap();
    let redis_key = only_session_key(&server);
    assert_eq!(
        server
            .cli(&["HSET", &redis_key, "counter", "\"not a number\""])
            .trim(),
        "1"
    );

    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(res.status(), 500, "`/read` takes `counter` as a u64");
    assert_eq!(body(res).await, OPAQUE_500);
    let res = get(&app, "/get/name", Some(&cookie)).await;
    assert_eq!(
        body(res).await,
        "ferris",
        "the rest of the session is intact"
    );

    let res = get(&app, "/remove/counter", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(body(res).await, "0", "recovered");
}

#[actix_web::test]
async fn concurrent_requests_changing_different_keys_are_all_kept() {
    let server = RedisServer::start();
    let store = store(&server);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    let uris: Vec<String> = (0..16).map(|i| format!("/set/k{i}/v{i}")).collect();
    let requests = uris.iter().map(|uri| get(&app, uri, Some(&cookie)));
    for res in futures_util::future::join_all(requests).await {
        assert_eq!(res.status(), 200);
    }
    for i in 0..16 {
        let res = get(&app, &format!("/get/k{i}"), Some(&cookie)).await;
        assert_eq!(body(res).await, format!("v{i}"), "k{i} kept");
    }
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(body(res).await, "1");
}

#[actix_web::test]
async fn logout_while_another_request_writes_stays_logged_out() {
    let server = RedisServer::start();
    let store = store(&server);
    let loaded = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (l, r) = (loaded.clone(), release.clone());
    let app = test::init_service(
        App::new()
            .wrap(middleware(&store, &Key::generate()))
            .configure(testing::routes)
            .route(
                "/slow-set",
                web::get().to(move |s: Session| {
                    let (loaded, release) = (l.clone(), r.clone());
                    async move {
                        loaded.notify_one();
                        release.notified().await;
                        s.insert("late", "write")?;
                        Ok::<_, actix_web::Error>(HttpResponse::Ok().finish())
                    }
                }),
            ),
    )
    .await;
    let res = get(&app, "/set/user/alice", None).await;
    let cookie = set_cookie(&res).unwrap();
    let redis_key = only_session_key(&server);

    let slow = get(&app, "/slow-set", Some(&cookie));
    let logout = async {
        loaded.notified().await;
        let res = get(&app, "/purge", Some(&cookie)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            server.cli(&["EXISTS", &redis_key]).trim(),
            "0",
            "purge deleted it"
        );
        release.notify_one();
    };
    let (slow, ()) = tokio::join!(slow, logout);
    assert_eq!(slow.status(), 200);
    assert!(
        set_cookie(&slow).is_none(),
        "the late request leaves the cookie to the logout's removal"
    );
    assert_eq!(
        server.cli(&["EXISTS", &redis_key]).trim(),
        "0",
        "the late write did not resurrect the session"
    );
    let res = get(&app, "/get/user", Some(&cookie)).await;
    assert_eq!(res.status(), 404, "still logged out");
}

#[actix_web::test]
async fn redis_killed_fails_only_session_routes_and_recovers_after_restart() {
    let mut server = RedisServer::start();
    let store = store(&server);
    let deadline = store.pool().deadline();
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();

    server.kill();
    for uri in ["/counter", "/read", "/set/a/b", "/renew", "/purge"] {
        let started = Instant::now();
        let res = get(&app, uri, Some(&cookie)).await;
        let took = started.elapsed();
        assert_eq!(res.status(), 503, "{uri} with Redis down");
        assert_eq!(
            res.headers().get("retry-after").unwrap(),
            "5",
            "{uri}: retry soon"
        );
        assert!(
            took < deadline + Duration::from_millis(500),
            "{uri} took {took:?}"
        );
        let text = body(res).await;
        assert_eq!(text, OPAQUE_503, "{uri}: opaque 503");
    }
    let res = get(&app, "/noop", Some(&cookie)).await;
    assert_eq!(
        res.status(),
        200,
        "routes that do not use the session keep working"
    );

    // Same port, empty Redis: the very first request works, with a fresh session.
    server.restart();
    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(res.status(), 200, "works again without restarting the app");
    let cookie = set_cookie(&res).expect("a fresh session");
    assert_eq!(body(res).await, "1");
    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(body(res).await, "2");
}

#[actix_web::test]
async fn a_redis_restart_between_requests_fails_no_request() {
    let mut server = RedisServer::start();
    let store = store(&server);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    // Several pooled connections, all idle when Redis goes away.
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    let reads = (0..4).map(|_| get(&app, "/read", Some(&cookie)));
    for res in futures_util::future::join_all(reads).await {
        assert_eq!(res.status(), 200);
    }
    server.kill();
    // The app keeps running meanwhile (here: its runtime gets to notice the dropped sockets).
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.restart();
    for i in 0..8 {
        let res = get(&app, "/read", Some(&cookie)).await;
        assert_eq!(res.status(), 200, "request {i} after the restart");
    }
}

#[actix_web::test]
async fn redis_that_stops_answering_times_out_and_recovers() {
    let server = RedisServer::start();
    let store = store(&server);
    let deadline = store.pool().deadline();
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();

    server.pause();
    let started = Instant::now();
    let res = get(&app, "/counter", Some(&cookie)).await;
    let took = started.elapsed();
    let status = res.status();
    let retry = res.headers().get("retry-after").cloned();
    let text = body(res).await;
    let res = get(&app, "/noop", Some(&cookie)).await;
    let noop = res.status();
    server.resume();
    assert_eq!(status, 503, "a frozen Redis fails the request");
    assert_eq!(retry.unwrap(), "5");
    assert!(
        took < deadline + Duration::from_millis(500),
        "bounded wait: {took:?}"
    );
    assert_eq!(text, OPAQUE_503, "opaque 503");
    assert_eq!(noop, 200);

    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(res.status(), 200, "works again once Redis answers");
    assert_eq!(body(res).await, "2", "the session survived the pause");
}

#[actix_web::test]
async fn store_errors_are_timeout_or_unavailable() {
    let mut server = RedisServer::start();
    let store = store(&server);
    let id = SessionId::generate();
    server.pause();
    let err = store.load(&id, Keys::All, None).await.unwrap_err();
    server.resume();
    assert!(matches!(err, StoreError::Timeout), "frozen Redis: {err:?}");
    server.kill();
    let err = store.load(&id, Keys::All, None).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(_)),
        "dead Redis: {err:?}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept"
    );
}

#[actix_web::test]
async fn a_deadpool_redis_pool_can_be_reused() {
    let server = RedisServer::start();
    let theirs = deadpool_redis::Config::from_url(server.url())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap();
    let store = RedisStore::new(RedisPool::from_deadpool_redis(theirs).build().unwrap());
    testing::store_suite(&store, Capabilities::server_side().check_expiry(false)).await;
    let id = SessionId::generate();
    assert_eq!(
        store
            .save(
                &id,
                &ChangeSet::create().upsert("a", "1"),
                Duration::from_secs(60)
            )
            .await
            .unwrap(),
        SaveOutcome::Saved
    );
    // Its connections are taken once: later calls cost no PING.
    let _ = server.cli(&["CONFIG", "RESETSTAT"]);
    for _ in 0..10 {
        store.load(&id, Keys::All, None).await.unwrap();
    }
    let stats = server.command_stats();
    assert_eq!(stats.get("hgetall"), Some(&10));
    assert!(!stats.contains_key("ping"), "{stats:?}");
}

#[actix_web::test]
async fn change_sets_larger_than_a_lua_stack_are_applied_whole() {
    let server = RedisServer::start();
    let store = store(&server);
    let id = SessionId::generate();
    let ttl = Duration::from_secs(60);
    let names: Vec<String> = (0..2500).map(|i| format!("k{i}")).collect();
    let create = names
        .iter()
        .fold(ChangeSet::create(), |cs, k| cs.upsert(k.clone(), "1"));
    assert_eq!(
        store.save(&id, &create, ttl).await.unwrap(),
        SaveOutcome::Saved
    );
    let got = store
        .load(&id, Keys::Only(&names), Some(ttl))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 2500, "a refreshing partial load of 2500 keys");
    let remove = names[..2400]
        .iter()
        .fold(ChangeSet::update(), |cs, k| cs.remove(k.clone()));
    assert_eq!(
        store.save(&id, &remove, ttl).await.unwrap(),
        SaveOutcome::Saved
    );
    let left = store.load(&id, Keys::All, None).await.unwrap().unwrap();
    assert_eq!(left.len(), 100);
    assert!(left.contains_key("k2499") && !left.contains_key("k0"));
}

#[actix_web::test]
async fn urls_are_checked_up_front_and_connections_made_on_demand() {
    let err = RedisPool::new("redis://user:s3cret@127.0.0.1:notaport").unwrap_err();
    assert!(matches!(err, RedisConfigError::Url(_)), "{err:?}");
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    assert!(!chain.contains("s3cret"), "no password in errors: {chain}");

    // Nothing listens on port 1: building succeeds, the first use fails cleanly.
    let store = RedisStore::new(RedisPool::builder("redis://127.0.0.1:1").build().unwrap());
    let err = store
        .load(&SessionId::generate(), Keys::All, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[actix_web::test]
async fn unwatched_connections_cost_one_failed_request_per_restart() {
    // Connections from a deadpool-redis pool speak RESP2: their drops are found on use.
    let mut server = RedisServer::start();
    let theirs = deadpool_redis::Config::from_url(server.url())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap();
    let store = RedisStore::new(RedisPool::from_deadpool_redis(theirs).build().unwrap());
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    let reads = (0..4).map(|_| get(&app, "/read", Some(&cookie)));
    for res in futures_util::future::join_all(reads).await {
        assert_eq!(res.status(), 200);
    }
    server.kill();
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.restart();
    let mut failed = 0;
    for _ in 0..8 {
        let res = get(&app, "/read", Some(&cookie)).await;
        match res.status().as_u16() {
            200 => {}
            503 => failed += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        failed, 1,
        "the first failure makes the pool check the others"
    );
}

/// A TCP relay to a local port whose open connections can be made to lose every byte from then
/// on without closing: what a NAT or load balancer that forgot a flow does. Connections made
/// after that are relayed again. Its threads end with the test process.
struct Relay {
    port: u16,
    /// One flag per relayed connection: set, its bytes are dropped both ways.
    flows: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
}

impl Relay {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the relay");
        let port = listener.local_addr().unwrap().port();
        let flows = Arc::new(Mutex::new(Vec::new()));
        let accepted = flows.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let client = client.expect("accept");
                let server = TcpStream::connect(("127.0.0.1", upstream)).expect("reach Redis");
                let cut = Arc::new(AtomicBool::new(false));
                accepted.lock().unwrap().push(cut.clone());
                for (from, to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let cut = cut.clone();
                    std::thread::spawn(move || Self::pump(from, to, &cut));
                }
            }
        });
        Self { port, flows }
    }

    fn pump(mut from: TcpStream, mut to: TcpStream, cut: &AtomicBool) {
        let mut buf = [0; 16 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if !cut.load(Ordering::Relaxed) && to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// From now on the open connections answer nothing, and stay open.
    fn drop_flows(&self) {
        for cut in self.flows.lock().unwrap().iter() {
            cut.store(true, Ordering::Relaxed);
        }
    }
}

/// A connection the network dropped without a word (no reset, no answer) times out once;
/// the pool then replaces it, instead of waiting for the kernel to give up on the socket.
#[actix_web::test]
async fn a_silently_dropped_connection_times_out_once() {
    let server = RedisServer::start();
    let relay = Relay::start(server.port());
    let store = RedisStore::new(
        RedisPool::builder(relay.url())
            .connect_timeout(Duration::from_millis(300))
            .response_timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
    );
    let id = SessionId::generate();
    assert_eq!(store.load(&id, Keys::All, None).await.unwrap(), None);
    relay.drop_flows();
    const CALLS: usize = 5;
    let mut timeouts = 0;
    for _ in 0..CALLS {
        match store.load(&id, Keys::All, None).await {
            Ok(loaded) => {
                assert_eq!(loaded, None);
                break;
            }
            Err(StoreError::Timeout) => timeouts += 1,
            Err(other) => panic!("a dropped flow times out: {other:?}"),
        }
    }
    assert_eq!(timeouts, 1, "calls that timed out of {CALLS}");
}

/// Redis down for a while, then back: the pool connects on the call itself, so no call after
/// the restart fails (no reconnect attempt's error is kept for it).
#[actix_web::test]
async fn calls_right_after_a_long_outage() {
    let mut server = RedisServer::start();
    let store = store(&server);
    let id = SessionId::generate();
    assert_eq!(store.load(&id, Keys::All, None).await.unwrap(), None);
    server.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.restart();
    let mut failed = 0;
    for _ in 0..4 {
        match store.load(&id, Keys::All, None).await {
            Ok(loaded) => assert_eq!(loaded, None),
            Err(StoreError::Unavailable(_)) => failed += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(failed, 0, "calls that failed after the restart");
}

/// Credentials Redis refuses at first (the ACL user is made after the app started): the
/// pool connects anew on each call and works once the user exists.
#[actix_web::test]
async fn a_refused_login_recovers_once_the_user_exists() {
    let server = RedisServer::start();
    let url = format!("redis://sessions:password@127.0.0.1:{}", server.port());
    let store = RedisStore::new(RedisPool::builder(url).build().unwrap());
    let id = SessionId::generate();
    let err = store.load(&id, Keys::All, None).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let user = [
        "ACL",
        "SETUSER",
        "sessions",
        "on",
        ">password",
        "~*",
        "+@all",
    ];
    assert_eq!(server.cli(&user).trim(), "OK");
    for _ in 0..3 {
        let loaded = store.load(&id, Keys::All, None).await;
        assert_eq!(loaded.unwrap(), None);
    }
}

/// The kernel's timers on this machine's established TCP connections to `port` on 127.0.0.1,
/// from `/proc/net/tcp`: `2` is the keepalive timer, `0` none (`1` while data is unacknowledged).
fn tcp_timers_to(port: u16) -> Vec<u8> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    let remote = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local, remote, state (01 established), tx:rx queues, timer:expiry.
            (fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&"01"))
                .then(|| fields.get(5)?.split(':').next()?.parse().ok())
                .flatten()
        })
        .collect()
}

/// The pool's connections have TCP keepalive on: the kernel keeps a keepalive timer on each
/// idle one, so NATs and load balancers see traffic and a vanished peer is noticed.
#[actix_web::test]
async fn pool_connections_have_tcp_keepalive() {
    let server = RedisServer::start();
    let store = RedisStore::new(
        RedisPool::builder(server.url())
            .connections(2)
            .build()
            .unwrap(),
    );
    store
        .load(&SessionId::generate(), Keys::All, None)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let timers = loop {
        let timers = tcp_timers_to(server.port());
        if timers.iter().all(|&t| t != 1) || Instant::now() > deadline {
            break timers;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(timers, [2], "one idle connection, with its keepalive timer");
}
