//! A user's sessions on Redis and Redis Cluster: the acceptance suite, and round trips of
//! signing in, listing and logging out everywhere counted with `MONITOR`.

mod many_sessions;

use std::time::Duration;

use futures_util::{StreamExt as _, TryStreamExt as _};

use actix_typed_session::{
    store::{ChangeSet, Keys, Prune as _, RedisPool, RedisStore, SessionStore, USER_KEY},
    testing::{self, body, get, set_cookie, Capabilities},
    SessionId, SessionMiddleware,
};
use actix_web::cookie::{Cookie, Key};
use session_tests::redis_server::{count_commands, RedisCluster, RedisServer};

fn single(server: &RedisServer) -> RedisStore {
    RedisStore::new(RedisPool::new(&server.url()).unwrap())
}

fn cluster_store(cluster: &RedisCluster) -> RedisStore {
    let pool = RedisPool::cluster_builder(cluster.urls())
        .connect_timeout(Duration::from_millis(300))
        .response_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    RedisStore::new(pool)
}

/// A middleware on `store` (a clone) for plain-HTTP test requests.
fn middleware(store: &RedisStore) -> SessionMiddleware {
    SessionMiddleware::builder(store.clone(), Key::generate())
        .cookie_secure(false)
        .build()
}

fn caps() -> Capabilities {
    Capabilities::server_side()
        .lists_user_sessions(true)
        .check_expiry(false)
}

#[actix_web::test]
async fn redis_lists_and_ends_a_users_sessions() {
    let server = RedisServer::start();
    testing::store_suite(&single(&server), caps()).await;
}

#[actix_web::test]
async fn a_redis_cluster_lists_and_ends_a_users_sessions() {
    let cluster = RedisCluster::start(3, 0);
    testing::store_suite(&cluster_store(&cluster), caps()).await;
}

/// A user with 5,000 sessions on one Redis server: listed and ended within the store's
/// deadline (each is one script), and a log out everywhere cut off and retried ends them all.
#[actix_web::test]
async fn redis_lists_and_ends_thousands_of_a_users_sessions_within_the_deadline() {
    let server = RedisServer::start();
    let store = single(&server);
    let many = many_sessions::fill(&store, 5_000).await;
    store.user_sessions("nobody").await.unwrap(); // loads the script
                                                  // Listing looks at 256 members per script call (after one that finds the set too big
                                                  // and one that reads its members), and nothing else touches them.
    let count = count_commands(&[&server], async {
        assert_eq!(store.user_sessions(&many.user).await.unwrap().len(), 5_000);
    })
    .await;
    assert_eq!(
        count.sent.get("evalsha"),
        Some(&(1 + 5_000usize.div_ceil(256))),
        "{count:?}"
    );
    assert_eq!(count.sent.get("zrange"), Some(&1), "{count:?}");
    many_sessions::list_and_end(&store, &many, 256).await;
}

/// The set holds live sessions only, however many came and went: ended sessions leave it on
/// the next listing, expired ones (whose recorded expiry has passed) on the next sign-in.
#[actix_web::test]
async fn a_users_set_does_not_grow_as_sessions_end_and_expire() {
    let server = RedisServer::start();
    let store = single(&server);
    let app = testing::serve(testing::routes, middleware(&store)).await;
    let set = "session:user:ada";
    let card = || -> usize { server.cli(&["ZCARD", set]).trim().parse().unwrap() };
    let keeper = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    for _ in 0..30 {
        let cookie = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
        assert_eq!(get(&app, "/logout", Some(&cookie)).await.status(), 200);
    }
    assert_eq!(body(get(&app, "/sessions", Some(&keeper)).await).await, "1");
    assert_eq!(card(), 1, "ended sessions left the set when it was listed");

    // Expired behind the set's back, their recorded expiry passed.
    let keeper_id = server.cli(&["ZRANGE", set, "0", "-1"]).trim().to_owned();
    for _ in 0..30 {
        let _ = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    }
    for member in server.cli(&["ZRANGE", set, "0", "-1"]).lines() {
        if member != keeper_id {
            let _ = server.cli(&["DEL", &format!("session:{member}")]);
            let _ = server.cli(&["ZADD", set, "1", member]);
        }
    }
    let _ = server.cli(&["ZADD", set, "1", &keeper_id]);
    let _ = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    assert_eq!(
        card(),
        2,
        "expired sessions left the set on sign-in; the live one stayed"
    );
    assert_eq!(body(get(&app, "/sessions", Some(&keeper)).await).await, "2");
    assert_eq!(store.end_user_sessions("ada").await.unwrap(), 2);
    assert_eq!(
        server.cli(&["EXISTS", set]).trim(),
        "0",
        "an empty set is gone"
    );
}

/// Whether `key` exists, asked through `store`'s pool (routed to its slot on a cluster).
async fn exists(store: &RedisStore, key: &str) -> bool {
    let mut conn = store.pool().get().await.unwrap();
    let n: i64 = redis::cmd("EXISTS")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();
    n == 1
}

/// Users who never return leave no set behind: a sweep drops the members whose sessions
/// expired, so their sets leave Redis, and keeps (re-scored) a session refreshed since its
/// sign-in, whose recorded expiry has passed too.
async fn a_sweep_removes_the_sets_of_users_who_never_return(store: &RedisStore) {
    let (short, long) = (Duration::from_secs(1), Duration::from_secs(600));
    let sign_in = |user: String, ttl| async move {
        let id = SessionId::generate();
        let binding = format!(r#"{{"user":"{user}","at":1700000000,"ttl":1}}"#);
        let changes = ChangeSet::create().upsert(USER_KEY, binding);
        store.save(&id, &changes, ttl).await.unwrap();
        store.index_user_session(&user, &id, ttl).await.unwrap();
        id
    };
    let users: Vec<String> = (0..200).map(|n| format!("gone-{n}")).collect();
    let gone: Vec<SessionId> =
        futures_util::stream::iter(users.iter().flat_map(|user| [user.clone(), user.clone()]))
            .map(|user| sign_in(user, short))
            .buffer_unordered(64)
            .collect()
            .await;
    let keeper = sign_in("keeper".into(), short).await;
    let signed_in = std::time::Instant::now();
    // Refreshed behind the set's back: alive, though its recorded expiry passes with the rest.
    store
        .save(&keeper, &ChangeSet::update(), long)
        .await
        .unwrap();
    // Wait for the sessions to expire, and for every recorded expiry (at most a second after
    // its sign-in) to pass.
    let deadline = signed_in + Duration::from_secs(10);
    for id in &gone {
        while exists(store, &format!("session:{id}")).await {
            assert!(std::time::Instant::now() < deadline, "expired in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let since = signed_in.elapsed();
    tokio::time::sleep(Duration::from_millis(1_100).saturating_sub(since)).await;
    assert!(exists(store, &format!("session:user:{}", users[199])).await);

    assert_eq!(
        store.prune().await.unwrap().index_entries,
        400,
        "every expired member dropped"
    );
    assert_eq!(
        store.prune().await.unwrap().index_entries,
        0,
        "one sweep dropped them all"
    );
    for user in &users {
        let set = format!("session:user:{user}");
        assert!(!exists(store, &set).await, "{set} left Redis");
    }
    assert!(exists(store, "session:user:keeper").await);
    assert_eq!(store.user_sessions("keeper").await.unwrap().len(), 1);
}

#[actix_web::test]
async fn redis_sweeps_the_sets_of_users_who_never_return() {
    let server = RedisServer::start();
    // A key of the sets' pattern that is not a set is left alone.
    let _ = server.cli(&["SET", "session:user:not-a-set", "x"]);
    a_sweep_removes_the_sets_of_users_who_never_return(&single(&server)).await;
    assert_eq!(server.cli(&["GET", "session:user:not-a-set"]).trim(), "x");
}

#[actix_web::test]
async fn a_redis_cluster_sweeps_the_sets_of_users_who_never_return() {
    let cluster = RedisCluster::start(3, 0);
    a_sweep_removes_the_sets_of_users_who_never_return(&cluster_store(&cluster)).await;
}

#[actix_web::test]
async fn round_trips_of_sign_in_sessions_flash_and_guards() {
    let server = RedisServer::start();
    let store = single(&server);
    let app = testing::serve(testing::routes, middleware(&store)).await;
    // Warm up: scripts loaded, connections open, a set that exists.
    let warm = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    assert_eq!(body(get(&app, "/sessions", Some(&warm)).await).await, "1");
    let spare = set_cookie(&get(&app, "/login/bob", None).await).unwrap();
    assert_eq!(
        get(&app, "/logout-everywhere", Some(&spare)).await.status(),
        200
    );

    let trips = |uri: &'static str, cookie: Option<Cookie<'static>>| {
        let app = &app;
        let server = &server;
        async move {
            let mut out = None;
            let count = count_commands(&[server], async {
                let res = get(app, uri, cookie.as_ref()).await;
                assert_eq!(res.status(), 200, "{uri}");
                out = set_cookie(&res);
            })
            .await;
            (count, out)
        }
    };
    let anon = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let (renew, _) = trips("/renew", Some(anon.clone())).await;
    let anon = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let (login, signed) = trips("/login/ada", Some(anon)).await;
    let signed = signed.unwrap();
    eprintln!("renew {renew:?}\nlogin {login:?}");
    assert_eq!(renew.round_trips(), 2);
    // One more to list the new session among the user's. The script answers the set's size,
    // so the user is listed for `max_sessions_per_user` only when over it: not here.
    assert_eq!(login.round_trips(), renew.round_trips() + 1, "{login:?}");
    let capped = testing::serve(
        testing::routes,
        SessionMiddleware::builder(store.clone(), Key::generate())
            .cookie_secure(false)
            .max_sessions_per_user(Some(1))
            .build(),
    )
    .await;
    assert_eq!(get(&capped, "/login/grace", None).await.status(), 200);
    let anon = set_cookie(&get(&capped, "/counter", None).await).unwrap();
    let count = count_commands(&[&server], async {
        let res = get(&capped, "/login/grace", Some(&anon)).await;
        assert_eq!(res.status(), 200);
    })
    .await;
    // Grace's second session, over a cap of one: the listing, then ending her first.
    assert_eq!(
        count.round_trips(),
        renew.round_trips() + 3,
        "over the cap: {count:?}"
    );

    let (counter, _) = trips("/counter", Some(signed.clone())).await;
    assert_eq!(
        counter.round_trips(),
        2,
        "a signed-in session changes as any other"
    );
    let (read, _) = trips("/whoami", Some(signed.clone())).await;
    assert_eq!(read.round_trips(), 1, "reading the user is one load");
    let (list, _) = trips("/sessions", Some(signed.clone())).await;
    assert_eq!(list.round_trips(), 2, "load + one script: {list:?}");
    let (everywhere, _) = trips("/logout-everywhere", Some(signed.clone())).await;
    assert_eq!(
        everywhere.round_trips(),
        3,
        "load + one script + the purge's delete: {everywhere:?}"
    );
    let signed = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    let (logout, _) = trips("/logout", Some(signed)).await;
    assert_eq!(logout.round_trips(), 2, "as a purge: {logout:?}");

    // Flash messages load one field; the guarded scope loads before routing.
    let signed = set_cookie(&get(&app, "/login/ada", None).await).unwrap();
    let (flash, _) = trips("/flash/hi", Some(signed.clone())).await;
    assert_eq!(
        flash.round_trips(),
        2,
        "load one field + one write: {flash:?}"
    );
    assert_eq!(
        flash.sent.get("hmget"),
        Some(&1),
        "only the flash key: {flash:?}"
    );
    let (flashes, _) = trips("/flashes", Some(signed.clone())).await;
    assert_eq!(
        flashes.round_trips(),
        2,
        "load one field + one write: {flashes:?}"
    );
    let (guarded, _) = trips("/guarded", Some(signed.clone())).await;
    assert_eq!(
        guarded.round_trips(),
        1,
        "one load before routing: {guarded:?}"
    );
    let (noop, _) = trips("/noop", Some(signed)).await;
    assert_eq!(
        noop.round_trips(),
        0,
        "a signed-in session costs nothing untouched"
    );
    eprintln!(
        "round trips: flash {} flashes {} guarded {}",
        flash.round_trips(),
        flashes.round_trips(),
        guarded.round_trips()
    );
    eprintln!(
        "round trips: renew {} login {} counter {} whoami {} sessions {} logout-everywhere {} logout {}",
        renew.round_trips(),
        login.round_trips(),
        counter.round_trips(),
        read.round_trips(),
        list.round_trips(),
        everywhere.round_trips(),
        logout.round_trips()
    );
}

/// On a cluster, listing and ending a user's sessions take one command per session (the set and
/// the sessions live in different slots). With thousands of sessions they run many at a time,
/// so both fit in the store's deadline; one after another they did not (the soak's log out
/// everywhere answered 500 once a user's set had grown to thousands of ids).
#[actix_web::test]
async fn a_cluster_lists_and_ends_thousands_of_a_users_sessions_within_the_deadline() {
    const SESSIONS: usize = 5_000;
    let cluster = RedisCluster::start(3, 0);
    // The store's deadline is connect + 2 × response timeout: 3 s here. With 64 commands in
    // flight, 5,000 sessions once took about 0.9 s on this machine when it was quiet and failed
    // a 0.9 s deadline when it was not; one after another they take several times that.
    let pool = RedisPool::cluster_builder(cluster.urls())
        .connect_timeout(Duration::from_secs(1))
        .response_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let store = RedisStore::new(pool);
    // Uncapped: the default cap (100 sessions per user) would end all but the newest 100.
    let uncapped = SessionMiddleware::builder(store.clone(), Key::generate())
        .cookie_secure(false)
        .max_sessions_per_user(None)
        .build();
    let app = testing::serve(testing::routes, uncapped).await;
    let mut last = None;
    for _ in 0..SESSIONS {
        last = set_cookie(&get(&app, "/login/ada", None).await);
    }
    let last = last.unwrap();
    let deadline = Duration::from_secs(3);
    let started = std::time::Instant::now();
    let res = get(&app, "/sessions", Some(&last)).await;
    assert_eq!(res.status(), 200, "listing {SESSIONS} sessions");
    assert_eq!(body(res).await, SESSIONS.to_string());
    assert!(
        started.elapsed() < deadline,
        "listing took {:?}",
        started.elapsed()
    );
    let started = std::time::Instant::now();
    assert_eq!(store.end_user_sessions("ada").await.unwrap(), SESSIONS);
    assert!(
        started.elapsed() < deadline,
        "ending took {:?}",
        started.elapsed()
    );
    assert_eq!(get(&app, "/read", Some(&last)).await.status(), 200);
    assert!(
        set_cookie(&get(&app, "/counter", Some(&last)).await).is_some(),
        "the ended session is replaced by a new one"
    );
}

/// On a cluster, log out everywhere deletes a user's sessions batch by batch, newest first, and
/// takes each batch off the set once it is deleted. An attempt cut off by a deadline has still
/// made progress, so retries end every session. (It used to take the ids off the set only after
/// deleting them all: each retry started from the same members, ran out of time at the same
/// place, and the newest sessions outlived every attempt.) The deadline here is a timeout
/// around the call, as the store's own is, short enough to cut the first attempts off.
#[actix_web::test]
async fn a_cluster_log_out_everywhere_cut_off_by_a_deadline_progresses_on_every_retry() {
    const SESSIONS: usize = 5_000;
    /// The store's batch: ids of ended sessions still listed are at most one batch.
    const BATCH: usize = 256;
    let cluster = RedisCluster::start(3, 0);
    let store = cluster_store(&cluster);
    let user = "ada";
    let binding = serde_json::json!({ "user": user, "at": 1, "ttl": 3600 }).to_string();
    let ttl = Duration::from_secs(3600);
    let ids: Vec<SessionId> = (0..SESSIONS).map(|_| SessionId::generate()).collect();
    futures_util::stream::iter(&ids)
        .map(|id| {
            let (store, binding) = (&store, &binding);
            async move {
                let changes = ChangeSet::create().upsert(USER_KEY, binding.as_str());
                store.save(id, &changes, ttl).await?;
                store.index_user_session(user, id, ttl).await
            }
        })
        .buffer_unordered(BATCH)
        .try_collect::<Vec<Option<usize>>>()
        .await
        .unwrap();
    let listed = || -> usize {
        let card = cluster.nodes()[0].cli(&["-c", "ZCARD", "session:user:ada"]);
        card.trim().parse().unwrap()
    };
    let live = || async {
        futures_util::stream::iter(&ids)
            .map(|id| store.load(id, Keys::Only(&[]), None))
            .buffer_unordered(BATCH)
            .try_fold(
                0,
                |n, found| async move { Ok(n + usize::from(found.is_some())) },
            )
            .await
            .unwrap()
    };
    assert_eq!((listed(), live().await), (SESSIONS, SESSIONS));

    let (mut attempts, mut cut_off) = (0_u64, 0);
    loop {
        attempts += 1;
        assert!(
            attempts <= 100,
            "{} still listed after 100 attempts",
            listed()
        );
        // 10 ms, then 10 ms more each time: the first attempts cannot delete 5,000 sessions.
        let deadline = Duration::from_millis(10 * attempts);
        match tokio::time::timeout(deadline, store.end_user_sessions(user)).await {
            Ok(ended) => {
                ended.unwrap();
                break;
            }
            Err(_) => {
                cut_off += 1;
                let (listed, live) = (listed(), live().await);
                assert!(
                    listed >= live && listed - live <= BATCH,
                    "attempt {attempts}: {listed} listed, {live} live: an attempt cut off \
                     leaves at most one batch of ended sessions on the list"
                );
            }
        }
    }
    eprintln!("{attempts} attempts, {cut_off} cut off");
    assert!(cut_off > 0, "the deadline cut an attempt off");
    assert_eq!(
        (listed(), live().await),
        (0, 0),
        "every session ended and left the set"
    );
}
